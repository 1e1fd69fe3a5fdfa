//! Bursts of up to 32 packets, on the stack, never on the heap.

use crate::mbuf::Mbuf;

/// Packets per burst, as DPDK's PMDs and testpmd use.
pub const BURST: usize = 32;

type RawMbuf = *mut dpdk_sys::rte_mbuf;

/// Up to [`BURST`] owned mbufs. Whatever is still in it when dropped is freed, so an mbuf
/// is never lost track of.
pub struct Burst {
    len: usize,
    pkts: [RawMbuf; BURST],
}

/// What became of a transmit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxOutcome {
    /// Accepted by the port.
    pub sent: u16,
    /// Refused by the port after the retries, and freed.
    pub dropped: u16,
}

impl Default for Burst {
    fn default() -> Self {
        Self::new()
    }
}

impl Burst {
    /// An empty burst.
    #[inline]
    pub const fn new() -> Self {
        Burst {
            len: 0,
            pkts: [std::ptr::null_mut(); BURST],
        }
    }

    /// Number of packets held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when no more packet fits.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == BURST
    }

    /// Receives into the free space from `queue` of `port`; returns how many arrived.
    #[inline]
    pub fn rx(&mut self, port: u16, queue: u16) -> usize {
        let room = (BURST - self.len) as u16;
        // SAFETY: the array has `room` free slots from `len`; the PMD writes valid mbufs.
        let n = unsafe {
            dpdk_sys::fastpath::eth_rx_burst(
                port,
                queue,
                self.pkts.as_mut_ptr().add(self.len),
                room,
            )
        } as usize;
        self.len += n;
        n
    }

    /// Transmits everything on `queue` of `port`, retrying what the port refuses up to
    /// `retries` more times, then freeing the rest. The burst is empty afterwards.
    #[inline]
    pub fn tx(&mut self, port: u16, queue: u16, retries: u32) -> TxOutcome {
        let total = self.len;
        let mut sent = 0usize;
        let mut tries = 0u32;
        while sent < total {
            // SAFETY: slots [sent, total) hold valid mbufs we own; the PMD takes those it sends.
            let n = unsafe {
                dpdk_sys::fastpath::eth_tx_burst(
                    port,
                    queue,
                    self.pkts.as_mut_ptr().add(sent),
                    (total - sent) as u16,
                )
            } as usize;
            sent += n;
            if sent == total || tries == retries {
                break;
            }
            tries += 1;
        }
        let dropped = total - sent;
        if dropped > 0 {
            // SAFETY: slots [sent, total) are still ours.
            unsafe {
                dpdk_sys::rte_pktmbuf_free_bulk(self.pkts.as_mut_ptr().add(sent), dropped as u32)
            };
        }
        self.len = 0;
        TxOutcome {
            sent: sent as u16,
            dropped: dropped as u16,
        }
    }

    /// Adds a raw mbuf. Hands it back if the burst is full.
    ///
    /// # Safety
    /// `m` must be a valid mbuf the caller owns; the burst takes ownership on success.
    #[inline]
    pub unsafe fn push_raw(&mut self, m: RawMbuf) -> Result<(), RawMbuf> {
        if self.len == BURST {
            return Err(m);
        }
        self.pkts[self.len] = m;
        self.len += 1;
        Ok(())
    }

    /// Adds a raw mbuf, freeing it if the burst is full (never the case when a burst of at
    /// most [`BURST`] frames is split into empty sub-bursts, but an mbuf is never leaked).
    ///
    /// # Safety
    /// As [`push_raw`](Self::push_raw).
    #[inline(always)]
    pub unsafe fn push_or_free(&mut self, m: RawMbuf) {
        // SAFETY: forwarded contract; a refused mbuf is still ours to free.
        if let Err(m) = unsafe { self.push_raw(m) } {
            unsafe { dpdk_sys::rte_pktmbuf_free(m) };
        }
    }

    /// Adds an owned mbuf. Hands it back if the burst is full.
    pub fn push(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        let raw = m.into_raw();
        // SAFETY: we own `raw`.
        unsafe { self.push_raw(raw) }.map_err(|r| unsafe { Mbuf::from_raw(r) })
    }

    /// Removes and returns the last packet.
    pub fn pop(&mut self) -> Option<Mbuf> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: the slot held an owned mbuf.
        Some(unsafe { Mbuf::from_raw(self.pkts[self.len]) })
    }

    /// The raw mbuf pointers held.
    #[inline]
    pub fn as_slice(&self) -> &[RawMbuf] {
        &self.pkts[..self.len]
    }

    /// The free slots and the count, for filling the burst in place.
    ///
    /// # Safety
    /// Whoever fills slots must store owned, valid mbufs in `[len, len + k)` and then set the
    /// count to `len + k` (at most [`BURST`]).
    #[inline(always)]
    pub unsafe fn raw_parts(&mut self) -> (&mut [RawMbuf; BURST], &mut usize) {
        (&mut self.pkts, &mut self.len)
    }

    /// The pointer array itself (for sending the same frames on several ports).
    #[inline]
    pub fn as_mut_ptr(&mut self) -> *mut RawMbuf {
        self.pkts.as_mut_ptr()
    }

    /// Forgets the packets without freeing them (their ownership moved elsewhere).
    ///
    /// # Safety
    /// Every held mbuf must now be owned by someone else.
    #[inline]
    pub unsafe fn forget_all(&mut self) {
        self.len = 0;
    }

    /// Frees every packet held.
    #[inline]
    pub fn free_all(&mut self) {
        self.free_from(0);
    }

    /// Calls `f` on the bytes of every packet.
    #[inline]
    pub fn for_each_data_mut(&mut self, mut f: impl FnMut(&mut [u8])) {
        for &m in &self.pkts[..self.len] {
            // SAFETY: owned, single-segment view; the burst holds the only reference.
            f(unsafe { crate::mbuf::raw_data_mut(m) });
        }
    }
}

impl Drop for Burst {
    fn drop(&mut self) {
        self.free_all();
    }
}

impl Burst {
    /// Takes out the packets from index `from` on for which `take` returns true, handing each
    /// to `sink` (which then owns it), and keeps the others in order. Returns how many were
    /// taken. `take` is asked once per packet. The packets before the first one taken stay
    /// where they are, so a burst with nothing to take (the common case) is only read, never
    /// rewritten.
    #[inline]
    pub fn take_out(
        &mut self,
        from: usize,
        mut take: impl FnMut(&[u8]) -> bool,
        mut sink: impl FnMut(RawMbuf),
    ) -> usize {
        let from = from.min(self.len);
        let Some(first) = self.pkts[from..self.len]
            .iter()
            // SAFETY: owned mbufs held by the burst.
            .position(|&m| take(unsafe { crate::mbuf::raw_data(m) }))
            .map(|i| from + i)
        else {
            return 0;
        };
        sink(self.pkts[first]);
        let mut w = first;
        let mut taken = 1;
        for r in first + 1..self.len {
            let m = self.pkts[r];
            // SAFETY: owned mbuf held by the burst.
            if take(unsafe { crate::mbuf::raw_data(m) }) {
                sink(m);
                taken += 1;
            } else {
                self.pkts[w] = m;
                w += 1;
            }
        }
        self.len = w;
        taken
    }

    /// Keeps the packets from index `from` on for which `keep` returns true (it may modify
    /// them) and frees the others, preserving order. Returns how many were freed.
    #[inline]
    pub fn retain(&mut self, from: usize, mut keep: impl FnMut(&mut [u8]) -> bool) -> usize {
        let from = from.min(self.len);
        let mut w = from;
        let mut freed = 0;
        for r in from..self.len {
            let m = self.pkts[r];
            // SAFETY: owned mbuf held by the burst.
            if keep(unsafe { crate::mbuf::raw_data_mut(m) }) {
                self.pkts[w] = m;
                w += 1;
            } else {
                // SAFETY: owned; removed from the burst right here.
                unsafe { dpdk_sys::rte_pktmbuf_free(m) };
                freed += 1;
            }
        }
        self.len = w;
        freed
    }

    /// Frees the packets from index `from` on; returns how many.
    #[inline]
    pub fn free_from(&mut self, from: usize) -> usize {
        let from = from.min(self.len);
        let n = self.len - from;
        if n > 0 {
            // SAFETY: slots [from, len) are owned mbufs.
            unsafe { dpdk_sys::rte_pktmbuf_free_bulk(self.pkts.as_mut_ptr().add(from), n as u32) };
            self.len = from;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mbuf::Mbuf;
    use crate::mempool::PktPool;
    use crate::testing::{eal, uniq};

    fn first_byte(m: RawMbuf) -> u8 {
        // SAFETY: a valid mbuf.
        let data = unsafe { crate::mbuf::raw_data(m) };
        data[0]
    }

    fn burst_of(pool: &PktPool, n: usize) -> Burst {
        let mut b = Burst::new();
        for i in 0..n {
            b.push(Mbuf::from_bytes(pool, &[i as u8; 20]).unwrap())
                .unwrap_or_else(|_| panic!("burst full"));
        }
        b
    }

    fn firsts(b: &Burst) -> Vec<u8> {
        b.as_slice().iter().map(|&m| first_byte(m)).collect()
    }

    /// Every split of a burst's tail from `from` into taken and kept frames: the frames before
    /// `from` are neither asked about nor moved, the kept ones stay in order, the taken ones
    /// reach the sink in order, each frame of the tail is asked about once, nothing leaks.
    #[test]
    fn take_out_keeps_order_and_asks_once_per_frame() {
        let _g = eal();
        let pool = PktPool::create(&uniq("to"), 255, 0, 2048, -1).unwrap();
        for n in [0usize, 1, 2, 5, BURST] {
            for from in [0, 1, n / 2, n] {
                for pattern in [
                    0u32,
                    1,
                    1 << (n.max(1) - 1),
                    0x5555_5555,
                    u32::MAX,
                    0x8000_0006,
                ] {
                    let mut b = burst_of(&pool, n);
                    let wanted = |i: u8| (pattern >> i) & 1 == 1;
                    let mut asked = Vec::new();
                    let mut got = Vec::new();
                    let taken = b.take_out(
                        from,
                        |f| {
                            asked.push(f[0]);
                            wanted(f[0])
                        },
                        |m| {
                            got.push(first_byte(m));
                            // SAFETY: the sink owns it.
                            unsafe { dpdk_sys::rte_pktmbuf_free(m) };
                        },
                    );
                    let case = format!("n {n} from {from} pattern {pattern:#x}");
                    let from = from.min(n) as u8;
                    let tail: Vec<u8> = (from..n as u8).collect();
                    assert_eq!(asked, tail, "{case}");
                    let (t, k): (Vec<u8>, Vec<u8>) = tail.iter().partition(|&&i| wanted(i));
                    assert_eq!(got, t, "{case}");
                    assert_eq!(taken, t.len());
                    let kept: Vec<u8> = (0..from).chain(k).collect();
                    assert_eq!(firsts(&b), kept, "{case}");
                }
            }
        }
        assert_eq!(pool.in_use(), 0, "take_out leaked mbufs");
    }

    /// `retain` and `free_from` leave the frames before `from` alone.
    #[test]
    fn retain_and_free_from_touch_only_the_tail() {
        let _g = eal();
        let pool = PktPool::create(&uniq("rf"), 255, 0, 2048, -1).unwrap();
        for from in [0usize, 3, 10, 11, 40] {
            let mut b = burst_of(&pool, 10);
            let mut seen = Vec::new();
            let freed = b.retain(from, |f| {
                seen.push(f[0]);
                f[1] = 0xee;
                f[0] % 2 == 0
            });
            let from8 = from.min(10) as u8;
            assert_eq!(seen, (from8..10).collect::<Vec<u8>>(), "from {from}");
            let kept: Vec<u8> = (0..from8)
                .chain((from8..10).filter(|i| i % 2 == 0))
                .collect();
            assert_eq!(firsts(&b), kept, "from {from}");
            assert_eq!(freed, 10 - kept.len(), "from {from}");
            for (k, &m) in b.as_slice().iter().enumerate() {
                // SAFETY: a valid mbuf of the burst.
                let d = unsafe { crate::mbuf::raw_data(m) };
                assert_eq!(d[1] == 0xee, k >= from8 as usize, "from {from}");
            }
            let before = b.len();
            assert_eq!(b.free_from(2), before.saturating_sub(2), "from {from}");
            assert_eq!(firsts(&b), kept[..kept.len().min(2)], "from {from}");
            b.free_all();
        }
        assert_eq!(pool.in_use(), 0, "retain or free_from leaked mbufs");
    }
}
