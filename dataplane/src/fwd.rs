//! Forwarding between ports and bonds, as testpmd's `io` and `mac` engines.
//!
//! A [`Plan`] lists directed paths. Worker k polls RX queue k of every ingress port (or of
//! every member of an ingress bond) and transmits on TX queue k of the egress port (or of the
//! egress bond's members). Bond state is read from each bond's published
//! [`Distribution`](crate::bond::Distribution) once per burst; no lock is taken and nothing is
//! allocated per packet.

use crate::bond::{self, BondTx, Distribution};
use crate::burst::Burst;
use crate::counters::{DropReason, WorkerCounters};
use crate::rcu::{Published, Qsbr, Reader};
use crate::ring::Ring;
use crate::worker::WorkerCtx;
use std::sync::Arc;

/// What a worker does to a frame between RX and TX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum FwdMode {
    /// Pass frames through untouched.
    #[default]
    Io,
    /// Rewrite the source MAC to the egress port's (or bond's).
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

/// Where a path's frames come from.
#[derive(Debug, Clone, Copy)]
pub enum Ingress {
    /// A plain port: its id, its index in the runtime's port table, its RX queue count.
    Port { port: u16, index: usize, rxq: u16 },
    /// A bond, by its position in [`Plan::bonds`].
    Bond { bond: usize },
}

/// Where a path's frames go.
#[derive(Debug, Clone, Copy)]
pub enum Egress {
    Port {
        port: u16,
        index: usize,
        mac: [u8; 6],
    },
    Bond {
        bond: usize,
        mac: [u8; 6],
    },
    /// Nowhere: the ingress is polled only so that its slow-protocol frames reach the
    /// control thread (an 802.3ad bond that nothing forwards from). Frames are counted.
    Drop,
}

impl Egress {
    fn mac(&self) -> [u8; 6] {
        match *self {
            Egress::Port { mac, .. } | Egress::Bond { mac, .. } => mac,
            Egress::Drop => [0; 6],
        }
    }
}

/// One direction of forwarding.
#[derive(Debug, Clone, Copy)]
pub struct Path {
    pub from: Ingress,
    pub to: Egress,
}

/// A member as the receive side sees it.
#[derive(Debug, Clone, Copy)]
pub struct MemberRx {
    pub port: u16,
    pub index: usize,
    pub rxq: u16,
    pub ordinal: u8,
}

/// A bond as the workers see it.
#[derive(Clone)]
pub struct BondPlan {
    pub name: String,
    /// Counter block of the bond itself (frames with no usable member).
    pub index: usize,
    pub members: Vec<MemberRx>,
    pub dist: Arc<Published<Distribution>>,
}

/// Everything the workers need to forward.
#[derive(Clone)]
pub struct Plan {
    pub mode: FwdMode,
    pub paths: Vec<Path>,
    pub bonds: Vec<BondPlan>,
    /// Extra transmit attempts for what a port refuses before the rest is freed and counted.
    pub tx_retries: u32,
    pub qsbr: Arc<Qsbr>,
    /// Control frames (LACPDUs, gratuitous ARPs) for ports on which the control thread has no
    /// TX queue of its own: worker 0 sends them on its queue, to the port in `mbuf.port`.
    pub control_relay: Option<Arc<Ring>>,
    /// Counter block for relayed control frames that a port refused.
    pub relay_index: usize,
    /// Per worker, the ring on which it hands slow-protocol frames to the control thread
    /// (empty when no bond needs it).
    pub to_control: Vec<Arc<Ring>>,
}

/// The shortest frame the `mac` engine will rewrite: an Ethernet header.
pub const MIN_FRAME: usize = 14;

/// The worker loop: runs until the stop flag is raised.
pub fn run(ctx: &WorkerCtx, plan: &Plan, counters: &WorkerCounters) {
    let q = ctx.index as u16;
    let mut reader = plan.qsbr.reader(ctx.index);
    let mut txs: Vec<BondTx> = (0..plan.bonds.len())
        .map(|b| BondTx::new(0x9e37_79b9_7f4a_7c15 ^ ((ctx.index as u64) << 32) ^ b as u64))
        .collect();
    let mut burst = Burst::new();
    let relay = plan.control_relay.as_deref().filter(|_| ctx.index == 0);
    while !ctx.should_stop() {
        if let Some(r) = relay {
            relay_control(r, &mut burst, q, counters, plan.relay_index);
        }
        for p in &plan.paths {
            match p.from {
                Ingress::Port { port, index, rxq } => {
                    if q >= rxq {
                        continue;
                    }
                    let n = burst.rx(port, q);
                    if n == 0 {
                        continue;
                    }
                    counters.port(index).rx.add(n as u64);
                    admit(plan, &mut burst, 0, &p.to, counters, index);
                    send(plan, &reader, &mut txs, &mut burst, &p.to, q, counters);
                }
                Ingress::Bond { bond } => {
                    // The members' frames leave together: each member's are appended to the
                    // burst, and it goes out when full and after the last member, so a bond
                    // whose members each bring part of a burst costs one transmit (one
                    // doorbell on a NIC), not one per member. Everything counted per member
                    // (slow-protocol frames, inactive members, runts) is settled on that
                    // member's part before the next member's frames arrive.
                    let b = &plan.bonds[bond];
                    for m in &b.members {
                        if q >= m.rxq {
                            continue;
                        }
                        if burst.is_full() {
                            send(plan, &reader, &mut txs, &mut burst, &p.to, q, counters);
                        }
                        let start = burst.len();
                        let n = burst.rx(m.port, q);
                        if n == 0 {
                            continue;
                        }
                        let c = counters.port(m.index);
                        c.rx.add(n as u64);
                        let d = b.dist.load(&reader);
                        if d.slow_to_control
                            && let Some(ring) = plan.to_control.get(ctx.index)
                        {
                            let mut full = 0u64;
                            let taken = burst.take_out(start, bond::is_slow_protocol, |f| {
                                // The control thread finds the member by the mbuf's port,
                                // which not every PMD sets (the ring PMD does not).
                                // SAFETY: an owned mbuf; the ring takes it or we free it.
                                unsafe { (*f).port = m.port };
                                if unsafe { ring.enqueue_raw(&[f]) } == 0 {
                                    unsafe { dpdk_sys::rte_pktmbuf_free(f) };
                                    full += 1;
                                }
                            });
                            if taken > 0 {
                                c.to_control.add(taken as u64 - full);
                                if full > 0 {
                                    c.drop(DropReason::ControlRingFull, full);
                                }
                            }
                        }
                        if d.rx_mask & (1 << m.ordinal) == 0 {
                            let n = burst.free_from(start);
                            if n > 0 {
                                c.drop(DropReason::Inactive, n as u64);
                            }
                            continue;
                        }
                        admit(plan, &mut burst, start, &p.to, counters, m.index);
                    }
                    if !burst.is_empty() {
                        send(plan, &reader, &mut txs, &mut burst, &p.to, q, counters);
                    }
                }
            }
        }
        reader.quiescent();
    }
}

/// Sends the control thread's frames, each on TX queue `q` of the port it names.
#[inline]
fn relay_control(r: &Ring, burst: &mut Burst, q: u16, counters: &WorkerCounters, index: usize) {
    if r.dequeue_into(burst) == 0 {
        return;
    }
    let mut refused = 0u64;
    for &m in burst.as_slice() {
        let mut one = m;
        // SAFETY: an owned mbuf from the relay ring; the PMD takes it if it returns 1.
        let sent = unsafe { dpdk_sys::fastpath::eth_tx_burst((*m).port, q, &mut one, 1) };
        if sent == 0 {
            // SAFETY: still ours.
            unsafe { dpdk_sys::rte_pktmbuf_free(m) };
            refused += 1;
        }
    }
    // SAFETY: every mbuf was either sent or freed above.
    unsafe { burst.forget_all() };
    if refused > 0 {
        counters.port(index).drop(DropReason::TxFull, refused);
    }
}

/// Settles the frames of `burst` from index `from` on (those one port just received, counted
/// on `rx_index`) against the path's egress: all freed and counted when the path drops, runts
/// freed and the source MAC rewritten in `mac` mode. What remains is for [`send`].
#[inline]
fn admit(
    plan: &Plan,
    burst: &mut Burst,
    from: usize,
    to: &Egress,
    counters: &WorkerCounters,
    rx_index: usize,
) {
    if let Egress::Drop = to {
        let n = burst.free_from(from);
        counters.port(rx_index).drop(DropReason::NoPath, n as u64);
        return;
    }
    if plan.mode == FwdMode::Mac {
        let mac = to.mac();
        let bad = burst.retain(from, |d| {
            if d.len() < MIN_FRAME {
                return false;
            }
            d[6..12].copy_from_slice(&mac);
            true
        });
        if bad > 0 {
            counters
                .port(rx_index)
                .drop(DropReason::Malformed, bad as u64);
        }
    }
}

/// Sends the burst to its egress (empty afterwards).
#[inline]
fn send(
    plan: &Plan,
    reader: &Reader<'_>,
    txs: &mut [BondTx],
    burst: &mut Burst,
    to: &Egress,
    q: u16,
    counters: &WorkerCounters,
) {
    match *to {
        Egress::Port { port, index, .. } => {
            let out = burst.tx(port, q, plan.tx_retries);
            let c = counters.port(index);
            c.tx.add(u64::from(out.sent));
            if out.dropped > 0 {
                c.drop(DropReason::TxFull, u64::from(out.dropped));
            }
        }
        Egress::Bond { bond: b, .. } => {
            let bp = &plan.bonds[b];
            let d = bp.dist.load(reader);
            bond::transmit(
                d,
                &mut txs[b],
                burst,
                q,
                plan.tx_retries,
                counters,
                bp.index,
            );
        }
        // Nothing to send: `admit` freed and counted every frame.
        Egress::Drop => debug_assert!(burst.is_empty()),
    }
}
