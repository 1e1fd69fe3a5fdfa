//! Plain forwarding between ports, as testpmd's `io` and `mac` engines.
//!
//! A [`Plan`] lists the paths (RX port → TX port). Worker k polls RX queue k of every path's
//! ingress port (if the port has that many queues) and transmits on TX queue k of the egress.
//! No path state is shared between workers, so nothing here takes a lock.

use crate::burst::Burst;
use crate::counters::{DropReason, WorkerCounters};
use crate::worker::WorkerCtx;

/// What a worker does to a frame between RX and TX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum FwdMode {
    /// Pass frames through untouched.
    #[default]
    Io,
    /// Rewrite the source MAC to the egress port's.
    Mac,
}

impl std::str::FromStr for FwdMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "io" => Ok(FwdMode::Io),
            "mac" => Ok(FwdMode::Mac),
            _ => Err(format!(
                "unknown forwarding mode {s:?} (expected io or mac)"
            )),
        }
    }
}

impl std::fmt::Display for FwdMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FwdMode::Io => "io",
            FwdMode::Mac => "mac",
        })
    }
}

/// One direction of forwarding.
#[derive(Debug, Clone, Copy)]
pub struct Path {
    /// Ingress port id and its index in the runtime's port table (for counters).
    pub rx_port: u16,
    pub rx_index: usize,
    /// How many RX queues the ingress has: workers at or above this index skip the path.
    pub rx_queues: u16,
    /// Egress port id and index.
    pub tx_port: u16,
    pub tx_index: usize,
    /// The egress port's MAC, written as source in `mac` mode.
    pub tx_mac: [u8; 6],
}

/// Everything the workers need to forward.
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: FwdMode,
    pub paths: Vec<Path>,
    /// Extra transmit attempts for what a port refuses before the rest is freed and counted.
    pub tx_retries: u32,
}

/// The shortest frame the `mac` engine will rewrite: an Ethernet header.
pub const MIN_FRAME: usize = 14;

/// The worker loop: runs until the stop flag is raised.
pub fn run(ctx: &WorkerCtx, plan: &Plan, counters: &WorkerCounters) {
    let q = ctx.index as u16;
    let paths: Vec<Path> = plan
        .paths
        .iter()
        .filter(|p| q < p.rx_queues)
        .copied()
        .collect();
    let mut burst = Burst::new();
    while !ctx.should_stop() {
        for p in &paths {
            forward_once(&mut burst, p, q, plan, counters);
        }
    }
}

/// One RX burst on a path, processed and transmitted.
#[inline]
pub fn forward_once(burst: &mut Burst, p: &Path, q: u16, plan: &Plan, counters: &WorkerCounters) {
    let n = burst.rx(p.rx_port, q);
    if n == 0 {
        return;
    }
    counters.port(p.rx_index).rx.add(n as u64);
    if plan.mode == FwdMode::Mac {
        let mac = p.tx_mac;
        let bad = burst.retain(|d| {
            if d.len() < MIN_FRAME {
                return false;
            }
            d[6..12].copy_from_slice(&mac);
            true
        });
        if bad > 0 {
            counters
                .port(p.rx_index)
                .drop(DropReason::Malformed, bad as u64);
        }
    }
    let out = burst.tx(p.tx_port, q, plan.tx_retries);
    let c = counters.port(p.tx_index);
    c.tx.add(out.sent as u64);
    if out.dropped > 0 {
        c.drop(DropReason::TxFull, out.dropped as u64);
    }
}
