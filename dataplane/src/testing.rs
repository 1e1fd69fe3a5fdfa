//! Helpers for tests that need EAL (shared by this crate's and the control crate's tests).
//!
//! EAL can be initialised once per process, so tests run under cargo-nextest (a process per
//! test) and each test takes [`eal`] first. Plain `cargo test` works too: the guard serialises
//! the tests of one process.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

/// EAL arguments for tests, from `BONDD_TEST_EAL` or a no-hugepage default that leaves the
/// process free to run on both CPUs.
pub fn test_eal_args() -> Vec<String> {
    let s = std::env::var("BONDD_TEST_EAL").unwrap_or_else(|_| {
        "--lcores=0@(0-1) --no-huge -m 256 --no-shconf --no-pci --no-telemetry --log-level=*:warning"
            .to_owned()
    });
    let mut args: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
    args.push(format!("--file-prefix=bdt{}", std::process::id()));
    args
}

/// Initialises EAL for the test process (once) and serialises tests within it.
pub fn eal() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    crate::eal::init(&test_eal_args()).expect("EAL init for tests");
    g
}

/// A name unique to this process and call: `prefix` + pid + counter.
pub fn uniq(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// xorshift64*: reproducible pseudo-random input for fuzz-style tests, no dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
