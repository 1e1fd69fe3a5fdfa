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
            dpdk_sys::rte_eth_rx_burst(port, queue, self.pkts.as_mut_ptr().add(self.len), room)
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
                dpdk_sys::rte_eth_tx_burst(
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
        if self.len > 0 {
            // SAFETY: slots [0, len) are owned mbufs.
            unsafe { dpdk_sys::rte_pktmbuf_free_bulk(self.pkts.as_mut_ptr(), self.len as u32) };
            self.len = 0;
        }
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
    /// Takes out the packets for which `take` returns true, handing each to `sink` (which
    /// then owns it), and keeps the others in order. Returns how many were taken.
    #[inline]
    pub fn take_out(
        &mut self,
        mut take: impl FnMut(&[u8]) -> bool,
        mut sink: impl FnMut(RawMbuf),
    ) -> usize {
        let mut w = 0;
        let mut taken = 0;
        for r in 0..self.len {
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

    /// Keeps the packets for which `keep` returns true (it may modify them) and frees the
    /// others, preserving order. Returns how many were freed.
    #[inline]
    pub fn retain(&mut self, mut keep: impl FnMut(&mut [u8]) -> bool) -> usize {
        let mut w = 0;
        let mut freed = 0;
        for r in 0..self.len {
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
}
