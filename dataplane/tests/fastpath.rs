//! `dpdk_sys::fastpath`'s burst functions against DPDK's own (the generated wrappers of its
//! inline functions): the same frames and counts, and the queues' callbacks honoured.

use dataplane::mbuf::Mbuf;
use dataplane::mempool::{DEFAULT_DATA_ROOM, PktPool};
use dataplane::port::{Port, PortConfig};
use dataplane::ring::{Ring, Sync};
use dataplane::testing::{eal, uniq};
use dpdk_sys::fastpath::{eth_rx_burst, eth_tx_burst};
use std::sync::atomic::{AtomicU64, Ordering};

/// Calls and frames seen by a callback.
#[derive(Default)]
struct Seen {
    calls: AtomicU64,
    frames: AtomicU64,
}

/// An RX callback that counts, then frees the burst's last frame and reports one fewer.
unsafe extern "C" fn rx_cb(
    _port: u16,
    _queue: u16,
    pkts: *mut *mut dpdk_sys::rte_mbuf,
    nb: u16,
    _max: u16,
    user: *mut std::ffi::c_void,
) -> u16 {
    // SAFETY: `user` is the test's `Seen`, alive while the callback is registered.
    let seen = unsafe { &*(user as *const Seen) };
    seen.calls.fetch_add(1, Ordering::SeqCst);
    seen.frames.fetch_add(u64::from(nb), Ordering::SeqCst);
    if nb == 0 {
        return 0;
    }
    // SAFETY: the burst's frames are the caller's mbufs; the last one is dropped here.
    unsafe { dpdk_sys::rte_pktmbuf_free(*pkts.add(usize::from(nb) - 1)) };
    nb - 1
}

/// A TX callback that counts and passes everything on.
unsafe extern "C" fn tx_cb(
    _port: u16,
    _queue: u16,
    _pkts: *mut *mut dpdk_sys::rte_mbuf,
    nb: u16,
    user: *mut std::ffi::c_void,
) -> u16 {
    // SAFETY: as above.
    let seen = unsafe { &*(user as *const Seen) };
    seen.calls.fetch_add(1, Ordering::SeqCst);
    seen.frames.fetch_add(u64::from(nb), Ordering::SeqCst);
    nb
}

fn fill(ring: &Ring, pool: &PktPool, n: usize) {
    for i in 0..n {
        ring.enqueue(Mbuf::from_bytes(pool, &[i as u8; 60]).unwrap())
            .unwrap();
    }
}

/// Receives with `rx` into a fresh array, frees what came, returns how many.
fn receive(port: u16, rx: unsafe fn(u16, u16, *mut *mut dpdk_sys::rte_mbuf, u16) -> u16) -> u16 {
    let mut pkts = [std::ptr::null_mut(); 32];
    // SAFETY: a started port, queue 0, room for 32.
    let n = unsafe { rx(port, 0, pkts.as_mut_ptr(), 32) };
    for &m in &pkts[..usize::from(n)] {
        // SAFETY: received, so ours.
        unsafe { dpdk_sys::rte_pktmbuf_free(m) };
    }
    n
}

unsafe fn wrapper_rx(port: u16, q: u16, pkts: *mut *mut dpdk_sys::rte_mbuf, n: u16) -> u16 {
    // SAFETY: the caller's.
    unsafe { dpdk_sys::rte_eth_rx_burst(port, q, pkts, n) }
}

/// Sends `n` fresh frames with `tx`; returns how many the port took (the rest are freed).
fn transmit(
    port: u16,
    pool: &PktPool,
    n: usize,
    tx: unsafe fn(u16, u16, *mut *mut dpdk_sys::rte_mbuf, u16) -> u16,
) -> u16 {
    let mut pkts: Vec<*mut dpdk_sys::rte_mbuf> = (0..n)
        .map(|i| Mbuf::from_bytes(pool, &[i as u8; 60]).unwrap().into_raw())
        .collect();
    // SAFETY: a started port, queue 0, n owned mbufs.
    let sent = unsafe { tx(port, 0, pkts.as_mut_ptr(), n as u16) };
    for &m in &pkts[usize::from(sent)..] {
        // SAFETY: not taken by the port, so still ours.
        unsafe { dpdk_sys::rte_pktmbuf_free(m) };
    }
    sent
}

unsafe fn wrapper_tx(port: u16, q: u16, pkts: *mut *mut dpdk_sys::rte_mbuf, n: u16) -> u16 {
    // SAFETY: the caller's.
    unsafe { dpdk_sys::rte_eth_tx_burst(port, q, pkts, n) }
}

#[test]
fn fast_path_bursts_match_dpdk_and_run_the_callbacks() {
    let _g = eal();
    let pool = PktPool::create(&uniq("fp"), 1023, 0, DEFAULT_DATA_ROOM, -1).unwrap();
    let rx = Ring::create(&uniq("fprx"), 1024, Sync::Multi).unwrap();
    let tx = Ring::create(&uniq("fptx"), 1024, Sync::Multi).unwrap();
    let mut port = Port::from_rings(&uniq("fpp"), &[&rx], &[&tx]).unwrap();
    let cfg = PortConfig {
        rx_queues: 1,
        tx_queues: 1,
        rx_desc: 512,
        tx_desc: 512,
    };
    port.configure(&cfg, &pool).unwrap();
    port.start().unwrap();
    let id = port.id();

    // No callback: both take what the ring holds.
    fill(&rx, &pool, 10);
    assert_eq!(receive(id, eth_rx_burst), 10);
    fill(&rx, &pool, 7);
    assert_eq!(receive(id, wrapper_rx), 7);

    // An RX callback sees every burst and may take frames away: both honour it.
    let seen = Box::new(Seen::default());
    let user = &*seen as *const Seen as *mut std::ffi::c_void;
    // SAFETY: a started port and queue; `seen` outlives the registration.
    let cb = unsafe { dpdk_sys::rte_eth_add_rx_callback(id, 0, Some(rx_cb), user) };
    assert!(!cb.is_null(), "adding an RX callback");
    fill(&rx, &pool, 10);
    assert_eq!(receive(id, eth_rx_burst), 9);
    fill(&rx, &pool, 5);
    assert_eq!(receive(id, wrapper_rx), 4);
    assert_eq!(seen.calls.load(Ordering::SeqCst), 2);
    assert_eq!(seen.frames.load(Ordering::SeqCst), 15);
    // SAFETY: registered above. DPDK leaves the unlinked callback's few bytes to the
    // application to free once no thread can be in it; the test leaves them.
    assert_eq!(
        unsafe { dpdk_sys::rte_eth_remove_rx_callback(id, 0, cb) },
        0
    );
    fill(&rx, &pool, 3);
    assert_eq!(receive(id, eth_rx_burst), 3);
    assert_eq!(
        seen.calls.load(Ordering::SeqCst),
        2,
        "a removed callback ran"
    );

    // TX: what the port takes lands in its ring; a TX callback sees it first.
    assert_eq!(transmit(id, &pool, 6, eth_tx_burst), 6);
    assert_eq!(transmit(id, &pool, 2, wrapper_tx), 2);
    let tx_seen = Box::new(Seen::default());
    let user = &*tx_seen as *const Seen as *mut std::ffi::c_void;
    // SAFETY: as above.
    let cb = unsafe { dpdk_sys::rte_eth_add_tx_callback(id, 0, Some(tx_cb), user) };
    assert!(!cb.is_null(), "adding a TX callback");
    assert_eq!(transmit(id, &pool, 4, eth_tx_burst), 4);
    assert_eq!(tx_seen.calls.load(Ordering::SeqCst), 1);
    assert_eq!(tx_seen.frames.load(Ordering::SeqCst), 4);
    // SAFETY: as above.
    assert_eq!(
        unsafe { dpdk_sys::rte_eth_remove_tx_callback(id, 0, cb) },
        0
    );
    let out = tx.dequeue(64);
    assert_eq!(out.len(), 12);
    drop(out);

    drop(port);
    assert_eq!(pool.in_use(), 0, "mbufs leaked");
}
