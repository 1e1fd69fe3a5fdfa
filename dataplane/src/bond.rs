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
    // One 16-bit compare: every frame a bond receives in 802.3ad asks.
    frame.get(12..14) == Some(&[0x88, 0x09][..])
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
    /// The member ordinal chosen for each frame of the burst being sent.
    choice: [u8; BURST],
}

impl BondTx {
    /// Fresh state; `seed` makes the `packets_per_slave=0` choices differ per worker.
    pub fn new(seed: u64) -> Self {
        BondTx {
            subs: std::array::from_fn(|_| Burst::new()),
            rr_slot: 0,
            rr_count: 0,
            rng: seed | 1,
            choice: [0; BURST],
        }
    }
}

/// xorshift64*: the `packets_per_slave=0` random member.
#[inline(always)]
fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// True for an IPv4 IGMP frame (balance-rr sends those on the active member, as Linux does).
/// Reads the mbuf directly: the IPv4 protocol byte first (rarely 2, so most frames take one
/// compare), then the ethertype.
///
/// # Safety
/// `m` must be a valid mbuf.
#[inline(always)]
unsafe fn is_igmp_mbuf(m: *const dpdk_sys::rte_mbuf) -> bool {
    // SAFETY: valid mbuf; the frame bytes are read only when the segment holds them.
    unsafe {
        let m = &*m;
        if m.data_len < 24 {
            return false;
        }
        let p = (m.buf_addr as *const u8).add(usize::from(m.data_off));
        *p.add(23) == 2 && std::ptr::read_unaligned(p.add(12) as *const [u8; 2]) == [0x08, 0x00]
    }
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
    let mut used = match d.mode {
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
        TxMode::Broadcast => {
            broadcast(d, burst, q, retries, counters);
            return;
        }
        TxMode::RoundRobin => round_robin(d, st, burst),
        TxMode::Xor => by_hash(d, st, burst),
    };
    while used != 0 {
        let o = used.trailing_zeros() as usize;
        used &= used - 1;
        let (sub, port, idx) = (&mut st.subs[o], d.ports[o], d.port_index[o]);
        let out = sub.tx(port, q, retries);
        let c = counters.port(idx as usize);
        c.tx.add(u64::from(out.sent));
        if out.dropped > 0 {
            c.drop(DropReason::TxFull, u64::from(out.dropped));
        }
    }
}

// balance-rr and balance-xor keep every per-frame dependency in registers. In general they
// work in two passes: choosing every frame's member into `BondTx::choice`, then moving the
// frames to the sub-bursts (lengths in registers, no per-frame bounds check). One pass doing
// both with the lengths in memory was a store-to-load chain per frame. Two members, the
// common bond, need no choice array: balance-rr deals even and odd frames, and balance-xor
// hashes and moves each frame in one loop with both write cursors in registers (`split_two`).
// Ordinals are masked to MAX_MEMBERS, which removes the bounds checks; a valid distribution
// never holds a larger one.
const ORDINAL_MASK: usize = MAX_MEMBERS - 1;
const _: () = assert!(MAX_MEMBERS.is_power_of_two() && BURST.is_power_of_two());

/// balance-xor: moves the burst's frames to the sub-burst of the member their hash selects
/// and returns the set of sub-bursts used.
#[inline(always)]
fn by_hash(d: &Distribution, st: &mut BondTx, burst: &mut Burst) -> u32 {
    // One loop per policy, so that the hash and the table lookup inline into it: each
    // closure is its own type. The lookup goes inside `common_then` and `hash_then`, so that
    // on the common frame's path only the bucket's bits of the hash are computed.
    macro_rules! per_policy {
        ($($p:ident),*) => {
            match d.policy {
                $(XmitHashPolicy::$p => split_by_hash(
                    d,
                    st,
                    burst,
                    |f| XmitHashPolicy::$p.common_then(f, |h| d.reta.lookup(h)),
                    |f| XmitHashPolicy::$p.hash_then(f, |h| d.reta.lookup(h)),
                ),)*
            }
        };
    }
    per_policy!(Layer2, Layer23, Layer34, Encap23, Encap34, VlanSrcMac)
}

/// balance-rr: moves the burst's frames to the sub-burst of their members and returns the set
/// of sub-bursts used. IGMP frames go to the active member without advancing the counter, as
/// in Linux's `bond_xmit_roundrobin_slave_get`.
#[inline(always)]
fn round_robin(d: &Distribution, st: &mut BondTx, burst: &mut Burst) -> u32 {
    // No prefetch pass here: each frame's check loads independently of the others, so the
    // CPU overlaps them, and a separate pass measured slower (docs/NOTES.md). The common pass
    // only asks whether any frame is IGMP; which ones is asked again in the rare burst that
    // has one.
    let mut any_igmp = false;
    if d.active.is_some() {
        for &m in burst.as_slice() {
            // SAFETY: burst-owned mbuf.
            any_igmp |= unsafe { is_igmp_mbuf(m) };
        }
    }
    if !any_igmp && d.packets_per_slave == 1 && d.n_usable == d.members {
        return deal(d, st, burst);
    }
    let mut igmp = 0u32;
    if any_igmp {
        for (i, &m) in burst.as_slice().iter().enumerate() {
            // SAFETY: burst-owned mbuf.
            igmp |= u32::from(unsafe { is_igmp_mbuf(m) }) << i;
        }
    }
    choose_round_robin(d, st, burst, igmp);
    scatter(st, burst, d.members)
}

/// balance-rr with one packet per member, every member usable and no IGMP frame in the
/// burst (the common case): frame `i` goes to member `(slot + 1 + i) % members`, so each
/// member's frames are every `members`-th one and are copied with a stride, with nothing
/// chosen or looked up per frame.
#[inline(always)]
fn deal(d: &Distribution, st: &mut BondTx, burst: &mut Burst) -> u32 {
    debug_assert!(st.subs.iter().all(Burst::is_empty));
    let k = usize::from(d.members);
    let frames = burst.as_slice();
    let n = frames.len();
    let slot = st.rr_slot as usize;
    let mut o = if slot + 1 >= k { 0 } else { slot + 1 };
    st.rr_slot = ((slot + n) as u32) % (k as u32);
    if k == 2 {
        return deal_two(st, burst, o);
    }
    let mut used = 0u32;
    for j in 0..k.min(n) {
        // SAFETY: at most BURST frames in all; the length is set right after the copy.
        let (slots, len) = unsafe { st.subs[o & ORDINAL_MASK].raw_parts() };
        let mut w = 0usize;
        let mut i = j;
        while i < n {
            slots[w & (BURST - 1)] = frames[i];
            w += 1;
            i += k;
        }
        *len = w;
        used |= 1 << o;
        o += 1;
        if o == k {
            o = 0;
        }
    }
    // SAFETY: every mbuf now belongs to a sub-burst.
    unsafe { burst.forget_all() };
    used
}

/// [`deal`] for two members: the even frames go to member `first`, the odd ones to the other,
/// copied pair by pair (no per-frame index arithmetic; the compiler turns it into shuffles).
#[inline(always)]
fn deal_two(st: &mut BondTx, burst: &mut Burst, first: usize) -> u32 {
    let frames = burst.as_slice();
    let n = frames.len();
    let [a, b, ..] = &mut st.subs;
    // SAFETY: each sub-burst receives at most BURST / 2 + 1 frames; both lengths are set below
    // before anything reads the sub-bursts.
    let ((sa, la), (sb, lb)) = unsafe { (a.raw_parts(), b.raw_parts()) };
    let ((even, even_len), (odd, odd_len)) = if first == 0 {
        ((sa, la), (sb, lb))
    } else {
        ((sb, lb), (sa, la))
    };
    for ((pair, e), o) in frames
        .chunks_exact(2)
        .zip(even.iter_mut())
        .zip(odd.iter_mut())
    {
        *e = pair[0];
        *o = pair[1];
    }
    let half = n / 2;
    if n % 2 == 1 {
        even[half & (BURST - 1)] = frames[n - 1];
    }
    *even_len = n - half;
    *odd_len = half;
    // SAFETY: every mbuf now belongs to a sub-burst.
    unsafe { burst.forget_all() };
    (1u32 << first) | (u32::from(half > 0) << (1 - first))
}

/// balance-rr in general: fills `st.choice` for the burst; bit `i` of `igmp` marks an IGMP
/// frame.
#[inline(always)]
fn choose_round_robin(d: &Distribution, st: &mut BondTx, burst: &Burst, igmp: u32) {
    let members = u32::from(d.members);
    let frames = burst.as_slice();
    let active = d.active.unwrap_or(0);
    let ords = &mut st.choice;
    if d.packets_per_slave == 0 {
        let mut rng = st.rng;
        for (i, o) in ords.iter_mut().take(frames.len()).enumerate() {
            *o = if igmp & (1 << i) != 0 {
                active
            } else {
                let r = (xorshift(&mut rng) % u64::from(members)) as usize;
                d.rr_next[r & ORDINAL_MASK]
            };
        }
        st.rng = rng;
        return;
    }
    // Linux's counter is `id`, the member `(id / pps) % members`; kept as (member, packets
    // sent to it) so that no frame pays for a division.
    let pps = d.packets_per_slave;
    let (mut slot, mut count) = (st.rr_slot, st.rr_count);
    for (i, o) in ords.iter_mut().take(frames.len()).enumerate() {
        if igmp & (1 << i) != 0 {
            *o = active;
            continue;
        }
        count += 1;
        if count >= pps {
            count = 0;
            slot += 1;
            if slot >= members {
                slot = 0;
            }
        }
        *o = d.rr_next[slot as usize & ORDINAL_MASK];
    }
    st.rr_slot = slot;
    st.rr_count = count;
}

/// balance-xor: moves every frame to the sub-burst of the member its hash selects and returns
/// the set of sub-bursts used. `member` is the choice for any frame; `common` the same choice
/// for the frames the hash's fast path takes, None for the others. Two members (the common
/// bond) take the frames in the same loop that hashes them, with both write cursors in
/// registers ([`split_two`]); more members choose first (into `st.choice`), then [`scatter`].
#[inline(always)]
fn split_by_hash(
    d: &Distribution,
    st: &mut BondTx,
    burst: &mut Burst,
    common: impl Fn(&[u8]) -> Option<u8>,
    member: impl Fn(&[u8]) -> u8,
) -> u32 {
    prefetch_headers(burst);
    // SAFETY (all three closures): burst-owned mbufs.
    let choose = |m| member(unsafe { crate::mbuf::raw_data(m) });
    if d.members == 2 {
        return split_two(
            &mut st.subs,
            burst,
            |_, m| common(unsafe { crate::mbuf::raw_data(m) }),
            |_, m| choose(m),
        );
    }
    for (o, &m) in st.choice.iter_mut().zip(burst.as_slice()) {
        *o = choose(m);
    }
    scatter(st, burst, d.members)
}

/// [`scatter`] for a bond of two members.
#[inline(always)]
fn scatter_two(st: &mut BondTx, burst: &mut Burst) -> u32 {
    let choice = &st.choice;
    let pick = |i: usize, _| choice[i & (BURST - 1)];
    split_two(&mut st.subs, burst, |i, m| Some(pick(i, m)), pick)
}

/// Moves frame `i` of `burst` (mbuf `m`) to sub-burst 0 or 1, keeping their order, and returns
/// the set of sub-bursts used. `choose` picks for any frame; `common` picks the same for the
/// frames it knows, and None for the others. Every frame is written to both sub-bursts and
/// only the chosen one's cursor advances, so that nothing per frame depends on memory.
///
/// The frames go through `common` until it first says None, and from that frame on through
/// `choose`. So the first loop makes no call when `common` makes none (the hash's fast path):
/// the compiler then has every register for it, instead of only those a call preserves.
#[inline(always)]
fn split_two(
    subs: &mut [Burst; MAX_MEMBERS],
    burst: &mut Burst,
    common: impl Fn(usize, *mut dpdk_sys::rte_mbuf) -> Option<u8>,
    choose: impl Fn(usize, *mut dpdk_sys::rte_mbuf) -> u8,
) -> u32 {
    let [a, b, ..] = subs;
    // SAFETY: at most BURST frames in all, so no slot index reaches BURST; both lengths are
    // set before anything reads the sub-bursts.
    let ((sa, _), (sb, _)) = unsafe { (a.raw_parts(), b.raw_parts()) };
    // Write cursors rather than lengths: one live value per sub-burst instead of a base and a
    // length, so that the second loop too (which calls the hash's uncommon path) keeps its
    // values in the registers a call preserves. `black_box` (once per burst) hides that `sb`
    // is `sa` plus a constant, which would have the compiler keep one cursor as a base and an
    // offset.
    let (sa, sb) = (sa.as_mut_ptr(), std::hint::black_box(sb.as_mut_ptr()));
    let (mut wa, mut wb) = (sa, sb);
    let frames = burst.as_slice();
    macro_rules! put {
        ($i:expr, $m:expr, $choice:expr) => {{
            let (i, m, to_b) = ($i, $m, usize::from($choice & 1));
            // SAFETY: (wa - sa) + (wb - sb) == i < BURST, as one of the two cursors advances
            // by one per frame, so both writes land inside their sub-burst's slots; unchecked,
            // as index masks would cost this hottest loop instructions.
            unsafe {
                debug_assert!(wa.offset_from(sa) + wb.offset_from(sb) == i as isize && i < BURST);
                wa.write(m);
                wb.write(m);
                wa = wa.add(1 - to_b);
                wb = wb.add(to_b);
            }
        }};
    }
    for (i, &m) in frames.iter().enumerate() {
        let Some(c) = common(i, m) else { break };
        put!(i, m, c);
    }
    // Where the first loop stopped: the frames placed so far (so that loop needs no counter).
    // SAFETY: both cursors only moved forward from their slots' start.
    let start = unsafe { wa.offset_from(sa) + wb.offset_from(sb) } as usize;
    for (i, &m) in frames.iter().enumerate().skip(start) {
        put!(i, m, choose(i, m));
    }
    // SAFETY: both cursors started at their slots' start and only moved forward.
    let (la, lb) = unsafe { (wa.offset_from(sa) as usize, wb.offset_from(sb) as usize) };
    // SAFETY: the first la and lb slots hold owned mbufs.
    unsafe {
        *a.raw_parts().1 = la;
        *b.raw_parts().1 = lb;
        burst.forget_all();
    }
    u32::from(la > 0) | u32::from(lb > 0) << 1
}

/// Moves frame `i` of `burst` to the sub-burst `st.choice[i]`, keeping their order, and
/// returns the set of sub-bursts used (bit per ordinal). The sub-bursts are empty on entry
/// (every transmit flushes them) and `burst` is empty afterwards.
#[inline(always)]
fn scatter(st: &mut BondTx, burst: &mut Burst, members: u8) -> u32 {
    debug_assert!(st.subs.iter().all(Burst::is_empty));
    if members == 2 {
        return scatter_two(st, burst);
    }
    let mut lens = [0u8; MAX_MEMBERS];
    let mut used = 0u32;
    for (&o, &m) in st.choice.iter().zip(burst.as_slice()) {
        let o = o as usize & ORDINAL_MASK;
        // SAFETY: at most BURST frames in all, so no sub-burst slot index reaches BURST; the
        // lengths are set below before anything reads the sub-bursts.
        let (slots, _) = unsafe { st.subs[o].raw_parts() };
        slots[lens[o] as usize & (BURST - 1)] = m;
        lens[o] += 1;
        used |= 1 << o;
    }
    let mut set = used;
    while set != 0 {
        let o = set.trailing_zeros() as usize;
        set &= set - 1;
        // SAFETY: the first lens[o] slots now hold owned mbufs.
        *unsafe { st.subs[o].raw_parts() }.1 = usize::from(lens[o]);
    }
    // SAFETY: every mbuf now belongs to a sub-burst.
    unsafe { burst.forget_all() };
    used
}

/// Starts loading every frame's first cache line, so that the per-frame work that follows
/// (the hash) does not wait on memory one frame at a time.
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

// `refcnt` and `nb_segs` are neighbours in the mbuf's first cache line, so that broadcast
// tests both with one 32-bit load.
const REFCNT: usize = std::mem::offset_of!(dpdk_sys::rte_mbuf, refcnt);
const _: () = assert!(std::mem::offset_of!(dpdk_sys::rte_mbuf, nb_segs) == REFCNT + 2);
/// The word of `refcnt` and `nb_segs` both 1, in native byte order.
const ONE_AND_ONE: u32 = {
    let b = 1u16.to_ne_bytes();
    u32::from_ne_bytes([b[0], b[1], b[0], b[1]])
};

/// True when the mbuf is one segment with one reference.
///
/// # Safety
/// `m` must be a valid mbuf.
#[inline(always)]
unsafe fn sole_segment_and_reference(m: *const dpdk_sys::rte_mbuf) -> bool {
    // SAFETY: both fields lie inside the mbuf; the read is unaligned-safe.
    let word = unsafe { std::ptr::read_unaligned((m as *const u8).add(REFCNT) as *const u32) };
    word == ONE_AND_ONE
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
                if sole_segment_and_reference(m) {
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
            sent += unsafe {
                dpdk_sys::fastpath::eth_tx_burst(port, q, pkts.add(sent), (n - sent) as u16)
            } as usize;
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
    use crate::mbuf::Mbuf;
    use crate::mempool::PktPool;
    use crate::testing::{Rng, eal, uniq};

    /// A 60-byte IPv4 frame carrying `seq` at bytes 40..44; IGMP when `igmp`, else UDP.
    fn frame(seq: u32, igmp: bool, rng: &mut Rng) -> Vec<u8> {
        let mut f = rng.bytes(60);
        f[12] = 0x08;
        f[13] = 0x00;
        f[14] = 0x45;
        f[20] = 0;
        f[21] = 0;
        f[23] = if igmp { 2 } else { 17 };
        f[40..44].copy_from_slice(&seq.to_be_bytes());
        f
    }

    fn seq_of(m: *mut dpdk_sys::rte_mbuf) -> u32 {
        // SAFETY: a valid mbuf held by a sub-burst.
        let d = unsafe { crate::mbuf::raw_data(m) };
        u32::from_be_bytes(d[40..44].try_into().unwrap())
    }

    /// Each sub-burst's sequence numbers; empties (and frees) the sub-bursts.
    fn drain(st: &mut BondTx, used: u32) -> Vec<Vec<u32>> {
        st.subs
            .iter_mut()
            .enumerate()
            .map(|(o, sub)| {
                assert_eq!(
                    used & (1 << o) != 0,
                    !sub.is_empty(),
                    "used set, ordinal {o}"
                );
                let v = sub.as_slice().iter().map(|&m| seq_of(m)).collect();
                sub.free_all();
                v
            })
            .collect()
    }

    fn burst_of(pool: &PktPool, frames: &[Vec<u8>]) -> Burst {
        let mut b = Burst::new();
        for f in frames {
            b.push(Mbuf::from_bytes(pool, f).expect("mbuf"))
                .unwrap_or_else(|_| panic!("burst full"));
        }
        b
    }

    fn ports(n: usize) -> Vec<(u16, u16)> {
        (0..n as u16).map(|i| (i, i)).collect()
    }

    #[test]
    fn slow_protocol_frames_are_told_by_their_ethertype_alone() {
        let mut f = [0u8; 60];
        f[12..14].copy_from_slice(&[0x88, 0x09]);
        assert!(is_slow_protocol(&f));
        assert!(
            is_slow_protocol(&f[..14]),
            "a bare header is still one (the receiver judges)"
        );
        assert!(!is_slow_protocol(&f[..13]), "runt");
        for other in [[0x88, 0x08], [0x89, 0x09], [0x09, 0x88], [0x81, 0x00]] {
            f[12..14].copy_from_slice(&other);
            assert!(!is_slow_protocol(&f), "{other:02x?}");
        }
    }

    /// balance-rr against Linux's model (`bond_xmit_roundrobin_slave_get`): IGMP on the active
    /// member without counting; otherwise `id += 1` and the member at or after
    /// `(id / packets_per_slave) % members` that can transmit. Covers the strided fast path
    /// (every member usable, one packet each, no IGMP) and the general one.
    #[test]
    fn round_robin_follows_the_linux_counter() {
        let _g = eal();
        let pool = PktPool::create(&uniq("rr"), 1023, 0, 2048, -1).unwrap();
        let mut rng = Rng(0x5eed);
        let mut seq = 0u32;
        for members in 1..=5usize {
            for pps in [1u32, 2, 3] {
                for (down, active, igmp_share) in [
                    (None, Some(0u8), 0),
                    (None, Some(0), 4),
                    (Some(1usize), None, 0),
                    (None, Some(2), 3),
                ] {
                    if active.is_some_and(|a| usize::from(a) >= members)
                        || down.is_some_and(|o| o >= members)
                    {
                        continue;
                    }
                    let mut d = Distribution::empty(
                        TxMode::RoundRobin,
                        XmitHashPolicy::Layer2,
                        &ports(members),
                    );
                    let usable: Vec<bool> = (0..members).map(|o| Some(o) != down).collect();
                    d.set_usable(&usable);
                    d.active = active;
                    d.packets_per_slave = pps;
                    let mut st = BondTx::new(7);
                    let mut id = 0u32;
                    for _ in 0..40 {
                        let n = 1 + rng.below(BURST);
                        let mut want = vec![Vec::new(); MAX_MEMBERS];
                        let frames: Vec<Vec<u8>> = (0..n)
                            .map(|_| {
                                let igmp = igmp_share > 0 && rng.below(igmp_share) == 0;
                                let o = match active {
                                    Some(a) if igmp => a,
                                    _ => {
                                        id += 1;
                                        d.rr_next[((id / pps) % members as u32) as usize]
                                    }
                                };
                                seq += 1;
                                want[usize::from(o)].push(seq);
                                frame(seq, igmp, &mut rng)
                            })
                            .collect();
                        let mut b = burst_of(&pool, &frames);
                        let used = round_robin(&d, &mut st, &mut b);
                        assert!(b.is_empty());
                        let got = drain(&mut st, used);
                        assert_eq!(
                            got, want,
                            "members {members} pps {pps} down {down:?} active {active:?}"
                        );
                    }
                }
            }
        }
        assert_eq!(pool.in_use(), 0, "no mbuf leaked");
    }

    /// balance-xor: every frame lands on the member the table gives for its hash, in order,
    /// for bonds of one to sixteen members (two members hash and move in one loop).
    #[test]
    fn hash_split_follows_the_table_and_keeps_order() {
        let _g = eal();
        let pool = PktPool::create(&uniq("xs"), 1023, 0, 2048, -1).unwrap();
        let mut rng = Rng(0xfeed);
        let mut seq = 0u32;
        for members in [1usize, 2, 3, 4, 7, 16] {
            for policy in XmitHashPolicy::ALL {
                let mut d = Distribution::empty(TxMode::Xor, policy, &ports(members));
                d.set_usable(&vec![true; members]);
                let mut st = BondTx::new(1);
                for _ in 0..20 {
                    let n = 1 + rng.below(BURST);
                    let mut want = vec![Vec::new(); MAX_MEMBERS];
                    let frames: Vec<Vec<u8>> = (0..n)
                        .map(|_| {
                            seq += 1;
                            let mut f = frame(seq, false, &mut rng);
                            // Some frames the hash's fast path declines, anywhere in the
                            // burst: from the first one on, the split takes its other loop.
                            match rng.below(8) {
                                0 => f[23] = 1,
                                1 => f[12..14].copy_from_slice(&[0x86, 0xdd]),
                                2 => f[12..14].copy_from_slice(&[0x81, 0x00]),
                                _ => {}
                            }
                            want[usize::from(d.reta.lookup(policy.hash(&f)))].push(seq);
                            f
                        })
                        .collect();
                    let mut b = burst_of(&pool, &frames);
                    let used = by_hash(&d, &mut st, &mut b);
                    assert!(b.is_empty());
                    assert_eq!(drain(&mut st, used), want, "{members} members, {policy}");
                }
            }
        }
        assert_eq!(pool.in_use(), 0, "no mbuf leaked");
    }

    #[test]
    fn igmp_detection_reads_the_frame_only_when_it_is_long_enough() {
        let _g = eal();
        let pool = PktPool::create(&uniq("ig"), 63, 0, 2048, -1).unwrap();
        let mut rng = Rng(3);
        let check = |f: &[u8]| {
            let m = Mbuf::from_bytes(&pool, f).unwrap();
            // SAFETY: a valid mbuf, freed when `m` drops.
            unsafe { is_igmp_mbuf(m.as_ptr()) }
        };
        let f = frame(1, true, &mut rng);
        assert!(check(&f));
        assert!(!check(&frame(1, false, &mut rng)));
        assert!(!check(&f[..23]), "a runt frame is not IGMP");
        let mut v6 = f.clone();
        v6[12] = 0x86;
        v6[13] = 0xdd;
        assert!(!check(&v6));
        assert_eq!(pool.in_use(), 0);
    }

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
}
