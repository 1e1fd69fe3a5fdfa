//! Owned packet buffers.

use crate::mempool::PktPool;
use std::ptr::NonNull;

/// One owned `rte_mbuf` (single segment). Returned to its pool on drop.
pub struct Mbuf(NonNull<dpdk_sys::rte_mbuf>);

// SAFETY: an owned mbuf may move between threads; DPDK pools are thread-safe.
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Takes an mbuf from `pool`.
    pub fn alloc(pool: &PktPool) -> Option<Mbuf> {
        // SAFETY: valid pool pointer.
        let p = unsafe { dpdk_sys::rte_pktmbuf_alloc(pool.as_ptr()) };
        NonNull::new(p).map(Mbuf)
    }

    /// An mbuf holding a copy of `bytes`, or None if the pool is empty or `bytes` does not fit.
    pub fn from_bytes(pool: &PktPool, bytes: &[u8]) -> Option<Mbuf> {
        let mut m = Mbuf::alloc(pool)?;
        m.append(bytes.len())?.copy_from_slice(bytes);
        Some(m)
    }

    /// Takes ownership of a raw mbuf.
    ///
    /// # Safety
    /// `p` must be a valid mbuf that nobody else will free.
    pub unsafe fn from_raw(p: *mut dpdk_sys::rte_mbuf) -> Mbuf {
        Mbuf(NonNull::new(p).expect("null mbuf"))
    }

    /// Gives up ownership without freeing.
    pub fn into_raw(self) -> *mut dpdk_sys::rte_mbuf {
        let p = self.0.as_ptr();
        std::mem::forget(self);
        p
    }

    /// The raw pointer (ownership stays here).
    pub fn as_ptr(&self) -> *mut dpdk_sys::rte_mbuf {
        self.0.as_ptr()
    }

    /// The frame bytes of the first segment.
    pub fn data(&self) -> &[u8] {
        // SAFETY: the mbuf is valid and owned; data_len bytes from data_off are initialised.
        unsafe { raw_data(self.0.as_ptr()) }
    }

    /// The frame bytes of the first segment, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as `data`, and we hold the only reference.
        unsafe { raw_data_mut(self.0.as_ptr()) }
    }

    /// Total packet length over all segments.
    pub fn pkt_len(&self) -> u32 {
        // SAFETY: valid mbuf.
        unsafe { (*self.0.as_ptr()).pkt_len }
    }

    /// The port the mbuf was received on.
    pub fn port(&self) -> u16 {
        // SAFETY: valid mbuf.
        unsafe { (*self.0.as_ptr()).port }
    }

    /// Sets the port the mbuf is meant for (the control-frame relay reads it).
    pub fn set_port(&mut self, port: u16) {
        // SAFETY: owned mbuf.
        unsafe { (*self.0.as_ptr()).port = port };
    }

    /// Grows the packet by `len` bytes at the tail and returns them, or None if no room.
    pub fn append(&mut self, len: usize) -> Option<&mut [u8]> {
        let len16 = u16::try_from(len).ok()?;
        // SAFETY: valid mbuf; DPDK checks the tailroom and returns NULL when short.
        let p = unsafe { dpdk_sys::rte_pktmbuf_append(self.0.as_ptr(), len16) };
        if p.is_null() {
            None
        } else {
            // SAFETY: DPDK just reserved `len` bytes at p.
            Some(unsafe { std::slice::from_raw_parts_mut(p as *mut u8, len) })
        }
    }

    /// Adds `n` to the reference count (broadcast sends one mbuf on several ports).
    pub fn refcnt_add(&self, n: u16) {
        // SAFETY: valid mbuf.
        unsafe { dpdk_sys::rte_mbuf_refcnt_update(self.0.as_ptr(), n as i16) };
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own it.
        unsafe { dpdk_sys::rte_pktmbuf_free(self.0.as_ptr()) }
    }
}

impl std::fmt::Debug for Mbuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mbuf({:p}, {} bytes)", self.0.as_ptr(), self.pkt_len())
    }
}

/// The first segment's bytes of a raw mbuf.
///
/// # Safety
/// `m` must be a valid mbuf that outlives the returned slice and is not written meanwhile.
#[inline(always)]
pub unsafe fn raw_data<'a>(m: *const dpdk_sys::rte_mbuf) -> &'a [u8] {
    // SAFETY: the caller guarantees a valid mbuf.
    unsafe {
        let m = &*m;
        std::slice::from_raw_parts(
            (m.buf_addr as *const u8).add(m.data_off as usize),
            m.data_len as usize,
        )
    }
}

/// The first segment's bytes of a raw mbuf, writable.
///
/// # Safety
/// As [`raw_data`], and nobody else may access the bytes meanwhile (refcount 1).
#[inline(always)]
pub unsafe fn raw_data_mut<'a>(m: *mut dpdk_sys::rte_mbuf) -> &'a mut [u8] {
    // SAFETY: the caller guarantees a valid, exclusively held mbuf.
    unsafe {
        let m = &mut *m;
        std::slice::from_raw_parts_mut(
            (m.buf_addr as *mut u8).add(m.data_off as usize),
            m.data_len as usize,
        )
    }
}
