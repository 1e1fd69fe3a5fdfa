//! DPDK rings: lock-free FIFOs of pointers. Used for worker-to-control hand-off and for
//! ring-backed test ports.

use crate::error::{Error, Result};
use crate::mbuf::Mbuf;
use std::ffi::CString;
use std::ptr::NonNull;

/// Producer/consumer discipline of a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// One producer thread, one consumer thread (cheapest).
    SingleProducerSingleConsumer,
    /// Any producer threads, one consumer thread at a time: the consumer dequeues with no
    /// atomic compare-and-swap.
    MultiProducerSingleConsumer,
    /// Any threads.
    Multi,
}

/// An `rte_ring` of mbuf pointers. Frees whatever mbufs it still holds on drop.
pub struct Ring {
    ptr: NonNull<dpdk_sys::rte_ring>,
    /// Created here (freed on drop), or found by name (left to its owner).
    owned: bool,
}

// SAFETY: rte_ring is a concurrent FIFO; the sync discipline chosen at creation is the
// caller's contract.
unsafe impl Send for Ring {}
// SAFETY: see above.
unsafe impl std::marker::Sync for Ring {}

impl Ring {
    /// Creates a ring with room for `count - 1` entries (`count` a power of two).
    pub fn create(name: &str, count: u32, sync: Sync) -> Result<Ring> {
        crate::eal::ensure_ready()?;
        let c = CString::new(name)
            .map_err(|_| Error::invalid(format!("ring name {name:?}"), "contains NUL"))?;
        let flags = match sync {
            Sync::SingleProducerSingleConsumer => dpdk_sys::RING_F_SP_ENQ | dpdk_sys::RING_F_SC_DEQ,
            Sync::MultiProducerSingleConsumer => dpdk_sys::RING_F_SC_DEQ,
            Sync::Multi => 0,
        };
        // SAFETY: valid arguments; result checked.
        let p = unsafe { dpdk_sys::rte_ring_create(c.as_ptr(), count, -1, flags) };
        let ptr = NonNull::new(p).ok_or_else(|| Error::last(format!("creating ring {name:?}")))?;
        Ok(Ring { ptr, owned: true })
    }

    /// A ring someone else created (a PMD's, e.g. `ETH_RXTX0_net_ring0`), by name. Dropping
    /// it frees nothing.
    pub fn lookup(name: &str) -> Result<Ring> {
        crate::eal::ensure_ready()?;
        let c = CString::new(name)
            .map_err(|_| Error::invalid(format!("ring name {name:?}"), "contains NUL"))?;
        // SAFETY: valid C string.
        let p = unsafe { dpdk_sys::rte_ring_lookup(c.as_ptr()) };
        let ptr =
            NonNull::new(p).ok_or_else(|| Error::last(format!("looking up ring {name:?}")))?;
        Ok(Ring { ptr, owned: false })
    }

    /// The raw ring.
    pub fn as_ptr(&self) -> *mut dpdk_sys::rte_ring {
        self.ptr.as_ptr()
    }

    /// Enqueues raw mbufs; returns how many were taken (the rest stay the caller's).
    ///
    /// # Safety
    /// Every pointer must be an owned mbuf; those enqueued now belong to the ring.
    #[inline]
    pub unsafe fn enqueue_raw(&self, pkts: &[*mut dpdk_sys::rte_mbuf]) -> usize {
        // SAFETY: the caller owns the mbufs; the ring takes those it accepts.
        unsafe {
            dpdk_sys::rte_ring_enqueue_burst(
                self.ptr.as_ptr(),
                pkts.as_ptr() as *const *mut libc::c_void,
                pkts.len() as u32,
                std::ptr::null_mut(),
            ) as usize
        }
    }

    /// Enqueues one owned mbuf, handing it back if the ring is full.
    pub fn enqueue(&self, m: Mbuf) -> std::result::Result<(), Mbuf> {
        let raw = m.into_raw();
        // SAFETY: we own raw; if not enqueued we take it back.
        if unsafe { self.enqueue_raw(&[raw]) } == 1 {
            Ok(())
        } else {
            // SAFETY: still ours.
            Err(unsafe { Mbuf::from_raw(raw) })
        }
    }

    /// Dequeues up to `max` mbufs.
    pub fn dequeue(&self, max: usize) -> Vec<Mbuf> {
        let mut out = Vec::with_capacity(max.min(1024));
        let mut buf = [std::ptr::null_mut::<libc::c_void>(); 32];
        while out.len() < max {
            let want = (max - out.len()).min(32) as u32;
            // SAFETY: buf has room for `want` pointers.
            let n = unsafe {
                dpdk_sys::rte_ring_dequeue_burst(
                    self.ptr.as_ptr(),
                    buf.as_mut_ptr(),
                    want,
                    std::ptr::null_mut(),
                )
            } as usize;
            if n == 0 {
                break;
            }
            for &p in &buf[..n] {
                // SAFETY: the ring held owned mbufs.
                out.push(unsafe { Mbuf::from_raw(p as *mut dpdk_sys::rte_mbuf) });
            }
        }
        out
    }

    /// Dequeues into the free room of `burst` without allocating; returns how many came.
    #[inline]
    pub fn dequeue_into(&self, burst: &mut crate::burst::Burst) -> usize {
        let mut buf = [std::ptr::null_mut::<libc::c_void>(); crate::burst::BURST];
        let room = (crate::burst::BURST - burst.len()) as u32;
        // SAFETY: buf has room for `room` pointers.
        let n = unsafe {
            dpdk_sys::rte_ring_dequeue_burst(
                self.ptr.as_ptr(),
                buf.as_mut_ptr(),
                room,
                std::ptr::null_mut(),
            )
        } as usize;
        for &p in &buf[..n] {
            // SAFETY: the ring held owned mbufs; the burst has room (n <= room).
            let _ = unsafe { burst.push_raw(p as *mut dpdk_sys::rte_mbuf) };
        }
        n
    }

    /// Entries currently queued.
    pub fn count(&self) -> u32 {
        // SAFETY: valid ring.
        unsafe { dpdk_sys::rte_ring_count(self.ptr.as_ptr()) }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        while !self.dequeue(1024).is_empty() {}
        // SAFETY: valid ring, nobody uses it any more.
        unsafe { dpdk_sys::rte_ring_free(self.ptr.as_ptr()) };
    }
}
