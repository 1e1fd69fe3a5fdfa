//! The bond data path: the immutable [`Distribution`] the control thread publishes for each
//! bond, and the mode engines that split a burst into per-member sub-bursts.
//!
//! Members are named by their *ordinal*, their position in the bond's member list. The
//! redirection table maps hash buckets to ordinals, so a member change moves only the buckets
//! of the member that left (or the share a joining member takes).

use crate::burst::{BURST, Burst};
use crate::counters::{DropReason, WorkerCounters};
use crate::hash::XmitHashPolicy;
use crate::reta::RedirectionTable;

/// Most members a bond may have.
pub const MAX_MEMBERS: usize = 16;

/// How a bond transmits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// balance-rr (0): a per-worker counter picks the member, `packets_per_slave` at a time.
    RoundRobin,
    /// active-backup (1): everything on the active member.
    ActiveBackup,
    /// balance-xor (2): by transmit hash through the redirection table.
    Xor,
    /// broadcast (3): every frame on every usable member (one mbuf, raised refcount).
    Broadcast,
}

/// One bond's forwarding state, immutable once published.
#[derive(Debug, Clone)]
pub struct Distribution {
    pub mode: TxMode,
    pub policy: XmitHashPolicy,
    /// DPDK port id and runtime port index (for counters) of every member, by ordinal.
    pub ports: [u16; MAX_MEMBERS],
    pub port_index: [u16; MAX_MEMBERS],
    /// Number of members (usable or not).
    pub members: u8,
    /// Ordinals that may transmit, in member order.
    pub usable: [u8; MAX_MEMBERS],
    pub n_usable: u8,
    /// For round-robin: the usable ordinal at or after each ordinal (wrapping), as Linux
    /// moves on to the next member that can transmit.
    pub rr_next: [u8; MAX_MEMBERS],
    /// The active member (active-backup), also where balance-rr sends IGMP, as Linux does.
    pub active: Option<u8>,
    /// Hash bucket → ordinal (balance-xor).
    pub reta: RedirectionTable,
    /// Bit per ordinal: frames received on that member are delivered.
    pub rx_mask: u32,
    /// balance-rr: packets per member before moving on; 0 = random member.
    pub packets_per_slave: u32,
    /// 802.3ad: slow-protocol frames (LACPDUs, markers) received on the members go to the
    /// control thread, whether or not the member is collecting.
    pub slow_to_control: bool,
}

/// True for an untagged slow-protocols frame (ethertype 0x8809: LACP, marker).
#[inline(always)]
pub fn is_slow_protocol(frame: &[u8]) -> bool {
    frame.len() >= 14 && frame[12] == 0x88 && frame[13] == 0x09
}

impl Distribution {
    /// A distribution where nothing may transmit or deliver (the state before the first MII
    /// inspection).
    pub fn empty(mode: TxMode, policy: XmitHashPolicy, ports: &[(u16, u16)]) -> Self {
        let mut d = Distribution {
            mode,
            policy,
            ports: [0; MAX_MEMBERS],
            port_index: [0; MAX_MEMBERS],
            members: ports.len() as u8,
            usable: [0; MAX_MEMBERS],
            n_usable: 0,
            rr_next: [0; MAX_MEMBERS],
            active: None,
            reta: RedirectionTable::new(ports.len().max(1)),
            rx_mask: 0,
            packets_per_slave: 1,
            slow_to_control: false,
        };
        for (i, &(p, idx)) in ports.iter().enumerate().take(MAX_MEMBERS) {
            d.ports[i] = p;
            d.port_index[i] = idx;
        }
        d
    }

    /// Sets the usable members (and the round-robin successor table from them).
    pub fn set_usable(&mut self, usable: &[bool]) {
        self.n_usable = 0;
        for (o, &u) in usable.iter().enumerate().take(self.members as usize) {
            if u {
                self.usable[self.n_usable as usize] = o as u8;
                self.n_usable += 1;
            }
        }
        let n = self.members as usize;
        for o in 0..n {
            self.rr_next[o] = (0..n)
                .map(|k| ((o + k) % n) as u8)
                .find(|&c| usable.get(c as usize).copied().unwrap_or(false))
                .unwrap_or(0);
        }
    }

    /// True if the ordinal may transmit.
    pub fn is_usable(&self, ordinal: u8) -> bool {
        self.usable[..self.n_usable as usize].contains(&ordinal)
    }
}

/// A worker's private transmit state for one bond: sub-bursts and the round-robin counter.
pub struct BondTx {
    subs: [Burst; MAX_MEMBERS],
    /// balance-rr position: the Linux counter is `id`, the member is `(id / pps) % members`;
    /// kept as (member, packets sent to it) so that no packet pays for a division.
    rr_slot: u32,
    rr_count: u32,
    rng: u64,
}

impl BondTx {
    /// Fresh state; `seed` makes the `packets_per_slave=0` choices differ per worker.
    pub fn new(seed: u64) -> Self {
        BondTx {
            subs: std::array::from_fn(|_| Burst::new()),
            rr_slot: 0,
            rr_count: 0,
            rng: seed | 1,
        }
    }

    #[inline(always)]
    fn random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// True for an IPv4 IGMP frame (balance-rr sends those on the active member, as Linux does).
#[inline(always)]
fn is_igmp(frame: &[u8]) -> bool {
    frame.len() >= 24 && frame[12] == 0x08 && frame[13] == 0x00 && frame[23] == 2
}

/// Transmits `burst` over the bond described by `d`, on TX queue `q` of its members. Counts
/// per member (TX and drops) in `counters`, and frames with nowhere to go against
/// `bond_index`. The burst is empty afterwards; nothing is lost track of.
#[inline]
pub fn transmit(
    d: &Distribution,
    st: &mut BondTx,
    burst: &mut Burst,
    q: u16,
    retries: u32,
    counters: &WorkerCounters,
    bond_index: usize,
) {
    let n = burst.len();
    if n == 0 {
        return;
    }
    if d.n_usable == 0 {
        burst.free_all();
        counters
            .port(bond_index)
            .drop(DropReason::NoMember, n as u64);
        return;
    }
    match d.mode {
        TxMode::ActiveBackup => {
            let Some(a) = d.active else {
                burst.free_all();
                counters
                    .port(bond_index)
                    .drop(DropReason::NoMember, n as u64);
                return;
            };
            flush_one(d, burst, a, q, retries, counters);
            return;
        }
        TxMode::Xor => {
            // One loop per policy, so that the hash inlines into it.
            match d.policy {
                XmitHashPolicy::Layer2 => {
                    split_by_hash(d, st, burst, |f| XmitHashPolicy::Layer2.hash(f))
                }
                XmitHashPolicy::Layer23 => {
                    split_by_hash(d, st, burst, |f| XmitHashPolicy::Layer23.hash(f))
                }
                XmitHashPolicy::Layer34 => {
                    split_by_hash(d, st, burst, |f| XmitHashPolicy::Layer34.hash(f))
                }
                XmitHashPolicy::Encap23 => {
                    split_by_hash(d, st, burst, |f| XmitHashPolicy::Encap23.hash(f))
                }
                XmitHashPolicy::Encap34 => {
                    split_by_hash(d, st, burst, |f| XmitHashPolicy::Encap34.hash(f))
                }
                XmitHashPolicy::VlanSrcMac => {
                    split_by_hash(d, st, burst, |f| XmitHashPolicy::VlanSrcMac.hash(f))
                }
            }
        }
        TxMode::RoundRobin => {
            let members = u32::from(d.members);
            let pps = d.packets_per_slave;
            if d.active.is_some() {
                prefetch_headers(burst);
            }
            for &m in burst.as_slice() {
                // SAFETY: burst-owned mbuf.
                let frame = unsafe { crate::mbuf::raw_data(m) };
                let o = match d.active {
                    Some(a) if is_igmp(frame) => a,
                    _ if pps == 0 => d.rr_next[(st.random() % u64::from(members)) as usize],
                    _ => {
                        // id += 1, then member = (id / pps) % members, incrementally.
                        st.rr_count += 1;
                        if st.rr_count >= pps {
                            st.rr_count = 0;
                            st.rr_slot += 1;
                            if st.rr_slot >= members {
                                st.rr_slot = 0;
                            }
                        }
                        d.rr_next[st.rr_slot as usize]
                    }
                };
                // SAFETY: ownership moves to the sub-burst; `burst` is forgotten below.
                unsafe { st.subs[o as usize].push_or_free(m) };
            }
        }
        TxMode::Broadcast => {
            broadcast(d, burst, q, retries, counters);
            return;
        }
    }
    // SAFETY: every mbuf now belongs to a sub-burst.
    unsafe { burst.forget_all() };
    for o in 0..d.members as usize {
        if !st.subs[o].is_empty() {
            let (sub, port, idx) = (&mut st.subs[o], d.ports[o], d.port_index[o]);
            let out = sub.tx(port, q, retries);
            let c = counters.port(idx as usize);
            c.tx.add(u64::from(out.sent));
            if out.dropped > 0 {
                c.drop(DropReason::TxFull, u64::from(out.dropped));
            }
        }
    }
}

/// Starts loading every frame's first cache line, so that the per-frame work that follows
/// (hash, IGMP check) does not wait on memory one frame at a time.
#[inline(always)]
fn prefetch_headers(burst: &Burst) {
    #[cfg(target_arch = "x86_64")]
    for &m in burst.as_slice() {
        // SAFETY: burst-owned mbufs; prefetching has no side effects.
        unsafe {
            let p = ((*m).buf_addr as *const i8).add((*m).data_off as usize);
            core::arch::x86_64::_mm_prefetch(p, core::arch::x86_64::_MM_HINT_T0);
        }
    }
}

/// Moves each frame of `burst` to the sub-burst of the member its hash selects.
#[inline(always)]
fn split_by_hash(d: &Distribution, st: &mut BondTx, burst: &Burst, hash: impl Fn(&[u8]) -> u32) {
    prefetch_headers(burst);
    for &m in burst.as_slice() {
        // SAFETY: burst-owned mbuf.
        let h = hash(unsafe { crate::mbuf::raw_data(m) });
        let o = d.reta.lookup(h) as usize;
        // SAFETY: ownership moves from `burst` to the sub-burst; the caller forgets `burst`.
        unsafe { st.subs[o].push_or_free(m) };
    }
}

/// Every frame on every usable member. The members transmit from the same pointer array;
/// each frame's refcount is raised to the number of members first (a plain store when the
/// frame is ours alone, as it is straight from RX), and every copy a member refuses is
/// freed, which drops one reference.
#[inline]
fn broadcast(d: &Distribution, burst: &mut Burst, q: u16, retries: u32, counters: &WorkerCounters) {
    let k = d.n_usable as usize;
    let n = burst.len();
    if k > 1 {
        for &m in burst.as_slice() {
            // SAFETY: burst-owned mbufs; a single-segment mbuf with refcount 1 is seen by
            // nobody else, so a plain store will do. Chains need every segment raised, or each
            // member's free would release the tail segments again.
            unsafe {
                if (*m).nb_segs == 1 && (*m).refcnt == 1 {
                    (*m).refcnt = k as u16;
                } else {
                    dpdk_sys::rte_pktmbuf_refcnt_update(m, (k - 1) as i16);
                }
            }
        }
    }
    let pkts = burst.as_mut_ptr();
    for &o in &d.usable[..k] {
        let (port, idx) = (d.ports[o as usize], d.port_index[o as usize]);
        let mut sent = 0usize;
        let mut tries = 0;
        while sent < n {
            // SAFETY: the array holds n valid mbufs, one reference of each for this member.
            sent +=
                unsafe { dpdk_sys::rte_eth_tx_burst(port, q, pkts.add(sent), (n - sent) as u16) }
                    as usize;
            if sent == n || tries == retries {
                break;
            }
            tries += 1;
        }
        let c = counters.port(idx as usize);
        c.tx.add(sent as u64);
        if sent < n {
            // SAFETY: this member's references to the unsent frames are dropped.
            unsafe { dpdk_sys::rte_pktmbuf_free_bulk(pkts.add(sent), (n - sent) as u32) };
            c.drop(DropReason::TxFull, (n - sent) as u64);
        }
    }
    // SAFETY: every reference was handed to a member or dropped above.
    unsafe { burst.forget_all() };
}

#[inline]
fn flush_one(
    d: &Distribution,
    burst: &mut Burst,
    o: u8,
    q: u16,
    retries: u32,
    counters: &WorkerCounters,
) {
    let out = burst.tx(d.ports[o as usize], q, retries);
    let c = counters.port(d.port_index[o as usize] as usize);
    c.tx.add(u64::from(out.sent));
    if out.dropped > 0 {
        c.drop(DropReason::TxFull, u64::from(out.dropped));
    }
}

const _: () = assert!(BURST <= u16::MAX as usize);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rr_successor_skips_unusable_members() {
        let mut d = Distribution::empty(
            TxMode::RoundRobin,
            XmitHashPolicy::Layer2,
            &[(0, 0), (1, 1), (2, 2), (3, 3)],
        );
        d.set_usable(&[true, false, true, true]);
        assert_eq!(&d.rr_next[..4], &[0, 2, 2, 3]);
        assert_eq!(&d.usable[..d.n_usable as usize], &[0, 2, 3]);
        d.set_usable(&[false, false, false, true]);
        assert_eq!(&d.rr_next[..4], &[3, 3, 3, 3]);
        assert!(d.is_usable(3) && !d.is_usable(0));
    }

    #[test]
    fn igmp_detection() {
        let mut f = vec![0u8; 60];
        f[12] = 0x08;
        f[23] = 2;
        assert!(is_igmp(&f));
        f[23] = 17;
        assert!(!is_igmp(&f));
        assert!(!is_igmp(&f[..20]));
    }
}
