//! Counters: one writer per cache line, summed by readers.
//!
//! Each worker owns its own [`WorkerCounters`]; only that worker writes them, so an increment
//! is a plain load and store (no locked instruction), and readers on other threads see values
//! that are at most a burst old. Every [`PortCounters`] block is cache-line aligned so two
//! workers never write the same line.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A single-writer counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning worker may call this.
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Why a worker dropped a frame. Every drop is counted under exactly one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[repr(usize)]
pub enum DropReason {
    /// The egress port refused it after the retries.
    TxFull = 0,
    /// Too short or otherwise malformed for what the path had to do with it.
    Malformed = 1,
    /// Received on a bond member that must not deliver (backup, not collecting).
    Inactive = 2,
    /// The egress bond had no usable member.
    NoMember = 3,
    /// The hand-off ring to the control thread was full.
    ControlRingFull = 4,
    /// Received where nothing forwards to (a bond polled only for its LACPDUs).
    NoPath = 5,
}

impl DropReason {
    /// Number of reasons.
    pub const COUNT: usize = 6;
    /// All reasons, in index order.
    pub const ALL: [DropReason; Self::COUNT] = [
        DropReason::TxFull,
        DropReason::Malformed,
        DropReason::Inactive,
        DropReason::NoMember,
        DropReason::ControlRingFull,
        DropReason::NoPath,
    ];

    /// Short name for stats output.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::TxFull => "tx_full",
            DropReason::Malformed => "malformed",
            DropReason::Inactive => "inactive_member",
            DropReason::NoMember => "no_member",
            DropReason::ControlRingFull => "control_ring_full",
            DropReason::NoPath => "no_path",
        }
    }
}

/// One worker's counters for one port.
#[derive(Debug, Default)]
#[repr(C, align(64))]
pub struct PortCounters {
    /// Frames received by this worker on this port.
    pub rx: Counter,
    /// Frames this worker handed to this port's TX queue and the port accepted.
    pub tx: Counter,
    /// Frames dropped, by reason (attributed to the port where the decision was made).
    pub drops: [Counter; DropReason::COUNT],
    /// Frames handed to the control thread (slow protocols, monitor traffic).
    pub to_control: Counter,
}

impl PortCounters {
    /// Counts `n` drops for `reason`.
    #[inline(always)]
    pub fn drop(&self, reason: DropReason, n: u64) {
        self.drops[reason as usize].add(n);
    }
}

/// Everything one worker counts: a block per port, indexed like the runtime's port table.
#[derive(Debug)]
pub struct WorkerCounters {
    ports: Box<[PortCounters]>,
}

impl WorkerCounters {
    /// Counters for `ports` ports, all zero.
    pub fn new(ports: usize) -> Self {
        WorkerCounters {
            ports: (0..ports).map(|_| PortCounters::default()).collect(),
        }
    }

    /// The block of port `index`.
    #[inline(always)]
    pub fn port(&self, index: usize) -> &PortCounters {
        &self.ports[index]
    }

    /// Number of port blocks.
    pub fn ports(&self) -> usize {
        self.ports.len()
    }

    /// A copy with `ports` blocks in which block `i` of this one lands at `place(i)` (blocks
    /// placed out of range are left behind). For when the port table grows, e.g. a bond is
    /// created at run time: call it only while the owning worker is stopped, or its latest
    /// increments may be missed.
    pub fn regrown(&self, ports: usize, place: impl Fn(usize) -> usize) -> WorkerCounters {
        let new = WorkerCounters::new(ports);
        for (i, old) in self.ports.iter().enumerate() {
            let Some(to) = new.ports.get(place(i)) else {
                continue;
            };
            to.rx.add(old.rx.get());
            to.tx.add(old.tx.get());
            to.to_control.add(old.to_control.get());
            for (t, o) in to.drops.iter().zip(&old.drops) {
                t.add(o.get());
            }
        }
        new
    }
}

/// A reader's sum over every worker for one port.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PortTotals {
    pub rx: u64,
    pub tx: u64,
    pub drops: [u64; DropReason::COUNT],
    pub to_control: u64,
}

impl PortTotals {
    /// All drops, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.drops.iter().sum()
    }
}

/// Sums the counters of port `index` over `workers`.
pub fn sum_port(workers: &[std::sync::Arc<WorkerCounters>], index: usize) -> PortTotals {
    let mut t = PortTotals::default();
    for w in workers {
        let p = w.port(index);
        t.rx += p.rx.get();
        t.tx += p.tx.get();
        t.to_control += p.to_control.get();
        for (i, d) in p.drops.iter().enumerate() {
            t.drops[i] += d.get();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_cache_line_aligned() {
        assert_eq!(std::mem::align_of::<PortCounters>(), 64);
        let w = WorkerCounters::new(3);
        let a = w.port(0) as *const _ as usize;
        let b = w.port(1) as *const _ as usize;
        assert_eq!(a % 64, 0);
        assert!(b - a >= 64);
    }

    #[test]
    fn sums_over_workers() {
        let ws: Vec<_> = (0..3)
            .map(|_| std::sync::Arc::new(WorkerCounters::new(2)))
            .collect();
        for (i, w) in ws.iter().enumerate() {
            w.port(1).rx.add(10 * (i as u64 + 1));
            w.port(1).drop(DropReason::TxFull, 2);
            w.port(0).tx.add(1);
        }
        let t = sum_port(&ws, 1);
        assert_eq!(t.rx, 60);
        assert_eq!(t.drops[DropReason::TxFull as usize], 6);
        assert_eq!(t.dropped(), 6);
        assert_eq!(sum_port(&ws, 0).tx, 3);
    }

    #[test]
    fn regrown_keeps_every_value_in_its_new_place() {
        let w = WorkerCounters::new(3);
        w.port(0).rx.add(5);
        w.port(1).tx.add(7);
        w.port(2).drop(DropReason::NoMember, 3);
        w.port(2).to_control.add(2);
        // A block inserted before the last one (a new bond before the relay block).
        let g = w.regrown(4, |i| if i == 2 { 3 } else { i });
        assert_eq!(g.ports(), 4);
        assert_eq!(g.port(0).rx.get(), 5);
        assert_eq!(g.port(1).tx.get(), 7);
        assert_eq!(g.port(2).rx.get() + g.port(2).tx.get(), 0);
        assert_eq!(g.port(3).drops[DropReason::NoMember as usize].get(), 3);
        assert_eq!(g.port(3).to_control.get(), 2);
        assert_eq!(w.regrown(1, |i| i).port(0).rx.get(), 5);
    }
}
