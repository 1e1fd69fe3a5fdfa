//! Forwarding through ring-backed ports: every byte and every count checked, no mbuf leaked.

use dataplane::counters::{DropReason, WorkerCounters, sum_port};
use dataplane::fwd::{self, Egress, FwdMode, Ingress, Path, Plan};
use dataplane::mbuf::Mbuf;
use dataplane::mempool::{DEFAULT_DATA_ROOM, PktPool};
use dataplane::port::{Port, PortConfig};
use dataplane::rcu::Qsbr;
use dataplane::ring::{Ring, Sync};
use dataplane::testing::{eal, uniq};
use dataplane::worker::{Workers, usable_cores};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct RingPort {
    port: Port,
    rx: Ring,
    tx: Ring,
}

fn ring_port(pool: &PktPool) -> RingPort {
    let rx = Ring::create(&uniq("rx"), 1024, Sync::Multi).unwrap();
    let tx = Ring::create(&uniq("tx"), 1024, Sync::Multi).unwrap();
    let mut port = Port::from_rings(&uniq("rp"), &[&rx], &[&tx]).unwrap();
    let cfg = PortConfig {
        rx_queues: 1,
        tx_queues: 1,
        rx_desc: 512,
        tx_desc: 512,
    };
    port.configure(&cfg, pool).unwrap();
    port.start().unwrap();
    RingPort { port, rx, tx }
}

/// Frame `i`: a recognisable pattern of a size that varies from 60 to 1514 bytes.
fn frame(i: usize) -> Vec<u8> {
    let len = 60 + (i * 97) % 1455;
    let mut f: Vec<u8> = (0..len)
        .map(|b| (b as u8) ^ (i as u8).wrapping_mul(31))
        .collect();
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xbb]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, (i >> 8) as u8, i as u8]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f
}

fn run_forwarding(mode: FwdMode, frames: &[Vec<u8>], expect_out: usize) -> (Vec<Vec<u8>>, u64) {
    let pool = PktPool::create(&uniq("pool"), 4095, 32, DEFAULT_DATA_ROOM, -1).unwrap();
    let a = ring_port(&pool);
    let b = ring_port(&pool);
    for f in frames {
        a.rx.enqueue(Mbuf::from_bytes(&pool, f).unwrap()).unwrap();
    }
    let plan = Arc::new(Plan {
        mode,
        paths: vec![Path {
            from: Ingress::Port {
                port: a.port.id(),
                index: 0,
                rxq: 1,
            },
            to: Egress::Port {
                port: b.port.id(),
                index: 1,
                mac: [0x02, 0xee, 0xee, 0xee, 0xee, 0x01],
            },
        }],
        bonds: vec![],
        tx_retries: 4,
        qsbr: Arc::new(Qsbr::new(1)),
        control_relay: None,
        relay_index: 0,
        to_control: Vec::new(),
    });
    let counters = Arc::new(WorkerCounters::new(2));
    let (p2, c2) = (Arc::clone(&plan), Arc::clone(&counters));
    let core = usable_cores()[0];
    let workers = Workers::spawn(&[core], move |ctx| fwd::run(&ctx, &p2, &c2)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while (b.tx.count() as usize) < expect_out && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Give the worker a moment to forward anything unexpected, then stop it.
    std::thread::sleep(Duration::from_millis(50));
    workers.stop_and_join().unwrap();
    let out: Vec<Vec<u8>> =
        b.tx.dequeue(usize::MAX)
            .iter()
            .map(|m| m.data().to_vec())
            .collect();
    let all = [Arc::clone(&counters)];
    let rx = sum_port(&all, 0);
    let tx = sum_port(&all, 1);
    assert_eq!(
        rx.rx,
        frames.len() as u64,
        "worker counted every received frame"
    );
    assert_eq!(
        tx.tx,
        out.len() as u64,
        "worker counted every transmitted frame"
    );
    let malformed = rx.drops[DropReason::Malformed as usize];
    drop((a, b));
    assert_eq!(pool.in_use(), 0, "no mbuf may stay in use after shutdown");
    (out, malformed)
}

#[test]
fn io_forwarding_is_byte_exact_and_in_order() {
    let _g = eal();
    let frames: Vec<Vec<u8>> = (0..300).map(frame).collect();
    let (out, malformed) = run_forwarding(FwdMode::Io, &frames, frames.len());
    assert_eq!(malformed, 0);
    assert_eq!(out.len(), frames.len());
    for (i, (o, f)) in out.iter().zip(&frames).enumerate() {
        assert_eq!(o, f, "frame {i} changed in io mode");
    }
}

#[test]
fn mac_forwarding_rewrites_source_and_drops_runts() {
    let _g = eal();
    let mut frames: Vec<Vec<u8>> = (0..100).map(frame).collect();
    frames.insert(50, vec![0xff; 10]); // a runt: no room for an Ethernet header
    let (out, malformed) = run_forwarding(FwdMode::Mac, &frames, 100);
    assert_eq!(malformed, 1, "the runt is counted as malformed");
    assert_eq!(out.len(), 100);
    let good: Vec<&Vec<u8>> = frames.iter().filter(|f| f.len() >= 14).collect();
    for (o, f) in out.iter().zip(good) {
        assert_eq!(&o[6..12], &[0x02, 0xee, 0xee, 0xee, 0xee, 0x01]);
        assert_eq!(&o[..6], &f[..6]);
        assert_eq!(&o[12..], &f[12..]);
    }
}

#[test]
fn burst_and_ring_drops_free_their_mbufs() {
    let _g = eal();
    let pool = PktPool::create(&uniq("pool"), 511, 0, DEFAULT_DATA_ROOM, -1).unwrap();
    {
        let mut b = dataplane::burst::Burst::new();
        for i in 0..32 {
            b.push(Mbuf::from_bytes(&pool, &frame(i)).unwrap()).unwrap();
        }
        assert!(b.push(Mbuf::from_bytes(&pool, &frame(0)).unwrap()).is_err());
        assert_eq!(pool.in_use(), 32);
        let r = Ring::create(&uniq("r"), 64, Sync::SingleProducerSingleConsumer).unwrap();
        r.enqueue(Mbuf::from_bytes(&pool, &frame(1)).unwrap())
            .unwrap();
        assert_eq!(pool.in_use(), 33);
    }
    assert_eq!(pool.in_use(), 0);
}
