//! Packet-buffer pools.

use crate::error::{Error, Result};
use crate::mbuf::Mbuf;
use std::ffi::CString;
use std::ptr::NonNull;

/// Default data room of an mbuf: 2048 bytes of payload plus DPDK's headroom.
pub const DEFAULT_DATA_ROOM: u16 = dpdk_sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16;

/// A pool of packet mbufs (`rte_pktmbuf_pool_create`). Freed on drop, unless mbufs are still
/// in use, in which case it is leaked (freeing it would hand those mbufs' memory back while a
/// port may still write to it) and the leak is logged.
pub struct PktPool {
    ptr: NonNull<dpdk_sys::rte_mempool>,
    name: String,
    size: u32,
}

// SAFETY: rte_mempool is designed for concurrent use from many threads.
unsafe impl Send for PktPool {}
// SAFETY: see above.
unsafe impl Sync for PktPool {}

impl PktPool {
    /// Creates a pool of `size` mbufs with a per-lcore cache of `cache` and `data_room` bytes
    /// of buffer each, on NUMA `socket` (-1 for any).
    pub fn create(name: &str, size: u32, cache: u32, data_room: u16, socket: i32) -> Result<Self> {
        crate::eal::ensure_ready()?;
        let cname = CString::new(name)
            .map_err(|_| Error::invalid(format!("mempool name {name:?}"), "contains NUL"))?;
        // SAFETY: arguments are valid; the returned pointer is checked.
        let p = unsafe {
            dpdk_sys::rte_pktmbuf_pool_create(cname.as_ptr(), size, cache, 0, data_room, socket)
        };
        let ptr = NonNull::new(p)
            .ok_or_else(|| Error::last(format!("creating mbuf pool {name:?} of {size} mbufs")))?;
        Ok(PktPool {
            ptr,
            name: name.to_owned(),
            size,
        })
    }

    /// The raw pool pointer for DPDK calls.
    pub fn as_ptr(&self) -> *mut dpdk_sys::rte_mempool {
        self.ptr.as_ptr()
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of mbufs the pool holds in all.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Mbufs currently taken from the pool (per-lcore caches count as free).
    pub fn in_use(&self) -> u32 {
        // SAFETY: valid pool.
        unsafe { dpdk_sys::rte_mempool_in_use_count(self.ptr.as_ptr()) }
    }

    /// Mbufs currently free in the pool.
    pub fn available(&self) -> u32 {
        // SAFETY: valid pool.
        unsafe { dpdk_sys::rte_mempool_avail_count(self.ptr.as_ptr()) }
    }

    /// Takes one mbuf, or None when the pool is empty.
    pub fn alloc(&self) -> Option<Mbuf> {
        Mbuf::alloc(self)
    }
}

impl Drop for PktPool {
    fn drop(&mut self) {
        let in_use = self.in_use();
        if in_use != 0 {
            tracing::error!(
                pool = %self.name,
                in_use,
                "mbuf pool still has mbufs in use at teardown; leaking it rather than freeing live buffers"
            );
            return;
        }
        // SAFETY: nothing uses the pool any more.
        unsafe { dpdk_sys::rte_mempool_free(self.ptr.as_ptr()) };
    }
}
