//! The generator and the receiver on their cores: frames built from templates into mbufs of
//! a pool per size class (so a frame's body is never anything but zeros), paced against the
//! TSC, handed to a ring or a port; and frames taken from the members' rings or ports,
//! accounted and freed. Neither allocates, locks or formats per frame.

use super::account::Accounts;
use super::rate::Pacer;
use super::traffic::{self, Layout, Traffic};
use super::trailer::{self, Trailer};
use crossbeam_utils::CachePadded;
use dataplane::mempool::PktPool;
use dataplane::ring::Ring;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

type RawMbuf = *mut dpdk_sys::rte_mbuf;
const BURST: usize = dataplane::burst::BURST;

/// Where frames go or come from: a DPDK ring (in-process) or a port's queue.
#[derive(Clone)]
pub enum End {
    Ring(Arc<Ring>),
    Port { id: u16, queue: u16 },
}

impl End {
    /// Hands over what the end takes; the rest stays the caller's.
    #[inline]
    fn send(&self, pkts: &mut [RawMbuf]) -> usize {
        match self {
            // SAFETY: the pointers are owned mbufs; those taken belong to the ring.
            End::Ring(r) => unsafe { r.enqueue_raw(pkts) },
            // SAFETY: as above, for the port.
            End::Port { id, queue } => unsafe {
                dpdk_sys::fastpath::eth_tx_burst(*id, *queue, pkts.as_mut_ptr(), pkts.len() as u16)
                    as usize
            },
        }
    }

    /// Takes up to `out.len()` frames.
    #[inline]
    fn recv(&self, out: &mut [RawMbuf]) -> usize {
        match self {
            // SAFETY: `out` has room for its length of pointers.
            End::Ring(r) => unsafe {
                dpdk_sys::rte_ring_dequeue_burst(
                    r.as_ptr(),
                    out.as_mut_ptr() as *mut *mut libc::c_void,
                    out.len() as u32,
                    std::ptr::null_mut(),
                ) as usize
            },
            // SAFETY: as above.
            End::Port { id, queue } => unsafe {
                dpdk_sys::fastpath::eth_rx_burst(*id, *queue, out.as_mut_ptr(), out.len() as u16)
                    as usize
            },
        }
    }

    /// Frames waiting (rings only; 0 for ports).
    pub fn queued(&self) -> u32 {
        match self {
            End::Ring(r) => r.count(),
            End::Port { .. } => 0,
        }
    }
}

/// Figures each thread publishes while it runs (one writer per cache line).
pub struct Live {
    /// Frames of ours taken per member.
    pub per_member: Vec<CachePadded<AtomicU64>>,
    /// Frames the generator handed to the device under test.
    pub sent: CachePadded<AtomicU64>,
    /// Frames the device under test refused at its ingress at a paced rate (lost there).
    pub refused: CachePadded<AtomicU64>,
    /// Frames of ours the receiver took.
    pub received: CachePadded<AtomicU64>,
    pub stop_gen: AtomicBool,
    pub stop_rx: AtomicBool,
}

impl Live {
    pub fn new(members: usize) -> Live {
        Live {
            per_member: (0..members)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
            sent: Default::default(),
            refused: Default::default(),
            received: Default::default(),
            stop_gen: AtomicBool::new(false),
            stop_rx: AtomicBool::new(false),
        }
    }
}

/// A member's cut: while set, what arrives on it beyond `grace` frames counts as lost.
#[derive(Default)]
pub struct Cut {
    pub on: AtomicBool,
    /// Frames already queued on the member when it was cut (they were on the wire).
    pub grace: AtomicU32,
}

/// Templates and pools for one traffic description.
pub struct Generator {
    traffic: Traffic,
    pools: Vec<PktPool>,
    layouts: Vec<Layout>,
    /// Per class: header bytes of every flow, `stride` apart.
    headers: Vec<Vec<u8>>,
    /// Per class, per flow: the partial L4 checksum.
    partial: Vec<Vec<u32>>,
    stride: usize,
    flows: u32,
}

// SAFETY: the pools are thread-safe; the rest is plain data.
unsafe impl Send for Generator {}

/// Mbufs per class pool: enough for every ring and queue between generator and receiver.
pub const POOL_MBUFS: u32 = 16383;

impl Generator {
    /// Builds every template and a pool per size class (`tag` makes the pool names unique).
    pub fn new(traffic: &Traffic, tag: &str) -> dataplane::Result<Generator> {
        let flows = traffic.flows() as u32;
        let stride = traffic.header_len().next_multiple_of(8);
        let mut pools = Vec::new();
        let mut layouts = Vec::new();
        let mut headers = Vec::new();
        let mut partial = Vec::new();
        for (i, (size, _)) in traffic.sizes.classes().into_iter().enumerate() {
            let lay = traffic.layout(size);
            let room = (lay.len + dpdk_sys::RTE_PKTMBUF_HEADROOM as usize).max(2048) as u16;
            let pool = PktPool::create(&format!("bg{tag}c{i}"), POOL_MBUFS, 256, room, -1)?;
            zero_pool(&pool);
            pools.push(pool);
            let mut h = vec![0u8; stride * flows as usize];
            let mut p = vec![0u32; flows as usize];
            for f in 0..flows {
                let (frame, sum) = traffic.template(f, size);
                let at = f as usize * stride;
                h[at..at + lay.header_len].copy_from_slice(&frame[..lay.header_len]);
                p[f as usize] = sum;
            }
            layouts.push(lay);
            headers.push(h);
            partial.push(p);
        }
        Ok(Generator {
            traffic: traffic.clone(),
            pools,
            layouts,
            headers,
            partial,
            stride,
            flows,
        })
    }

    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// Mbufs of the generator's pools in use (0 when every frame came back).
    pub fn in_use(&self) -> u32 {
        self.pools.iter().map(|p| p.in_use()).sum()
    }

    /// Writes frame `n` of the stream (flow `flow`, sequence `seq`, class `class`) into
    /// `buf`, which holds the class's frame length and zeros beyond the header.
    #[inline]
    pub fn write(&self, buf: &mut [u8], class: usize, flow: u32, seq: u32, tsc: u64) {
        let lay = &self.layouts[class];
        let at = flow as usize * self.stride;
        buf[..lay.header_len].copy_from_slice(&self.headers[class][at..at + lay.header_len]);
        Trailer { flow, seq, tsc }.write(buf);
        let ck = traffic::finish_checksum(
            self.partial[class][flow as usize],
            &buf[lay.len - trailer::LEN..],
            lay.trailer_odd,
            self.traffic.l4,
        );
        buf[lay.csum_at..lay.csum_at + 2].copy_from_slice(&ck.to_be_bytes());
    }

    /// A complete frame as bytes (for tests and for checking what went on the wire).
    pub fn frame(&self, class: usize, flow: u32, seq: u32, tsc: u64) -> Vec<u8> {
        let mut b = vec![0u8; self.layouts[class].len];
        self.write(&mut b, class, flow, seq, tsc);
        b
    }
}

/// Zeroes every mbuf's data room once, so frames carry zeros between header and trailer.
fn zero_pool(pool: &PktPool) {
    let mut held = Vec::with_capacity(pool.size() as usize);
    while let Some(m) = pool.alloc() {
        // SAFETY: a fresh mbuf; its buffer is buf_len bytes from buf_addr.
        unsafe {
            let p = m.as_ptr();
            std::ptr::write_bytes((*p).buf_addr as *mut u8, 0, usize::from((*p).buf_len));
        }
        held.push(m);
    }
}

/// The generator's running state on its core.
pub struct GenLoop<'a> {
    generator: &'a Generator,
    tx: &'a [End],
    next_tx: usize,
    pacer: Option<Pacer>,
    seq: Vec<u32>,
    flow: u32,
    n: u64,
    pending: [RawMbuf; BURST],
    pending_at: usize,
    pending_len: usize,
    live: &'a Live,
    sent: u64,
    refused: u64,
    /// Frames the pools could not supply at once (the generator waits for them).
    pub pool_empty: u64,
}

impl<'a> GenLoop<'a> {
    pub fn new(
        generator: &'a Generator,
        tx: &'a [End],
        pacer: Option<Pacer>,
        live: &'a Live,
    ) -> Self {
        GenLoop {
            generator,
            tx,
            next_tx: 0,
            pacer,
            seq: vec![0; generator.flows as usize],
            flow: 0,
            n: 0,
            pending: [std::ptr::null_mut(); BURST],
            pending_at: 0,
            pending_len: 0,
            live,
            sent: 0,
            refused: 0,
            pool_empty: 0,
        }
    }

    /// Builds up to `want` frames into `pending`.
    #[inline]
    fn build(&mut self, want: usize, now: u64) {
        let g = self.generator;
        let sizes = g.traffic.sizes;
        let mut got = 0;
        if g.pools.len() == 1 {
            // One size: take the whole burst from the pool at once.
            // SAFETY: `pending` has room for BURST >= want pointers.
            let rc = unsafe {
                dpdk_sys::rte_pktmbuf_alloc_bulk(
                    g.pools[0].as_ptr(),
                    self.pending.as_mut_ptr(),
                    want as u32,
                )
            };
            if rc != 0 {
                self.pool_empty += 1;
                self.pending_at = 0;
                self.pending_len = 0;
                return;
            }
        }
        while got < want {
            let class = sizes.class_of(self.n);
            let m = if g.pools.len() == 1 {
                self.pending[got]
            } else {
                // SAFETY: valid pool.
                let m = unsafe { dpdk_sys::rte_pktmbuf_alloc(g.pools[class].as_ptr()) };
                if m.is_null() {
                    self.pool_empty += 1;
                    break;
                }
                m
            };
            let len = g.layouts[class].len;
            // SAFETY: a fresh single-segment mbuf whose data room holds `len` bytes (the pool
            // was made for this class).
            let buf = unsafe {
                (*m).data_len = len as u16;
                (*m).pkt_len = len as u32;
                std::slice::from_raw_parts_mut(dpdk_sys::shim_mtod(m) as *mut u8, len)
            };
            let flow = self.flow;
            let seq = self.seq[flow as usize];
            g.write(buf, class, flow, seq, now);
            self.seq[flow as usize] = seq.wrapping_add(1);
            self.flow = if flow + 1 == g.flows { 0 } else { flow + 1 };
            self.n += 1;
            self.pending[got] = m;
            got += 1;
        }
        self.pending_at = 0;
        self.pending_len = got;
        if let Some(p) = &mut self.pacer {
            p.sent(got);
        }
    }

    /// One step: build what is due, hand over what the device takes. Returns frames sent.
    #[inline]
    pub fn step(&mut self) -> usize {
        if self.pending_at == self.pending_len {
            let now = dataplane::eal::tsc();
            let want = match &self.pacer {
                Some(p) => p.due(now, BURST),
                None => BURST,
            };
            if want == 0 {
                return 0;
            }
            self.build(want, now);
        }
        let end = &self.tx[self.next_tx];
        let n = end.send(&mut self.pending[self.pending_at..self.pending_len]);
        self.pending_at += n;
        self.sent += n as u64;
        if self.pending_at < self.pending_len && self.pacer.is_some() {
            // At a set rate the device's ingress drops what it cannot take, as a NIC would.
            let rest = &self.pending[self.pending_at..self.pending_len];
            // SAFETY: still ours.
            unsafe {
                dpdk_sys::rte_pktmbuf_free_bulk(rest.as_ptr() as *mut RawMbuf, rest.len() as u32)
            };
            self.refused += rest.len() as u64;
            self.pending_at = self.pending_len;
        }
        if self.pending_at == self.pending_len {
            self.next_tx = (self.next_tx + 1) % self.tx.len();
        }
        self.live.sent.store(self.sent, Ordering::Relaxed);
        self.live.refused.store(self.refused, Ordering::Relaxed);
        n
    }

    /// Frees what was built but not handed over (at the end).
    pub fn finish(&mut self) -> (u64, u64) {
        let rest = &self.pending[self.pending_at..self.pending_len];
        if !rest.is_empty() {
            // SAFETY: still ours.
            unsafe {
                dpdk_sys::rte_pktmbuf_free_bulk(rest.as_ptr() as *mut RawMbuf, rest.len() as u32)
            };
        }
        self.pending_at = self.pending_len;
        (self.sent, self.refused)
    }
}

/// One member's sources on the receive side.
#[derive(Clone)]
pub struct MemberRx {
    pub ends: Vec<End>,
    pub cut: Arc<Cut>,
}

/// The receiver's running state on its core.
pub struct RxLoop<'a> {
    pub accounts: Accounts,
    members: &'a [MemberRx],
    grace: Vec<Option<u32>>,
    live: &'a Live,
    received: u64,
}

impl<'a> RxLoop<'a> {
    pub fn new(accounts: Accounts, members: &'a [MemberRx], live: &'a Live) -> Self {
        RxLoop {
            accounts,
            grace: vec![None; members.len()],
            members,
            live,
            received: 0,
        }
    }

    /// Polls every member once; returns frames taken.
    #[inline]
    pub fn step(&mut self) -> usize {
        let mut burst: [RawMbuf; BURST] = [std::ptr::null_mut(); BURST];
        let mut total = 0;
        for (mi, m) in self.members.iter().enumerate() {
            let cut = m.cut.on.load(Ordering::Acquire);
            if cut && self.grace[mi].is_none() {
                self.grace[mi] = Some(m.cut.grace.load(Ordering::Relaxed));
            } else if !cut {
                self.grace[mi] = None;
            }
            for end in &m.ends {
                let n = end.recv(&mut burst);
                if n == 0 {
                    continue;
                }
                let now = dataplane::eal::tsc();
                for &p in &burst[..n] {
                    // SAFETY: a received single- or multi-segment mbuf; we read its first
                    // segment only, which holds the whole frame for every PMD used here.
                    let data = unsafe {
                        std::slice::from_raw_parts(
                            dpdk_sys::shim_mtod(p) as *const u8,
                            usize::from((*p).data_len),
                        )
                    };
                    match Trailer::read(data) {
                        None => self.accounts.foreign(),
                        Some(t) => match &mut self.grace[mi] {
                            Some(0) => self.accounts.cut(mi, t.tsc),
                            g => {
                                if let Some(g) = g {
                                    *g -= 1;
                                }
                                self.accounts.frame(mi, t.flow, t.seq, t.tsc, now);
                                self.received += 1;
                            }
                        },
                    }
                }
                // SAFETY: every pointer is an mbuf we own now.
                unsafe { dpdk_sys::rte_pktmbuf_free_bulk(burst.as_mut_ptr(), n as u32) };
                total += n;
                self.live.per_member[mi].store(self.accounts.per_member[mi], Ordering::Relaxed);
            }
        }
        if total > 0 {
            self.live.received.store(self.received, Ordering::Relaxed);
        }
        total
    }
}
