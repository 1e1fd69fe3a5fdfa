//! Two 802.3ad bonds of one appliance facing each other over `bondd_ring_pair:` ports (DPDK
//! rings, no kernel): they negotiate, both distribute, frames forwarded into one arrive on the
//! other, and the control thread's LACPDU departure and arrival times come out at the fast
//! rate's 1 s cadence. This is the topology of `benches/lacp_cadence.sh`.

mod common;
use common::TempDir;
use control::appliance::Appliance;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[test]
fn two_bonds_face_each_other_over_ring_pairs() {
    let _ = dataplane::worker::usable_cores();
    let dir = TempDir::new("rpair");
    let pcap = common::flows_pcap(&dir, "in.pcap", 64);
    let tag = std::process::id() % 100_000;
    let bond = |name: &str, sys: &str, side: u8| {
        format!(
            "[[bond]]\nname = \"{name}\"\nmac = \"{sys}\"\noptions = \"mode=802.3ad miimon=10 \
             lacp_rate=fast xmit_hash_policy=layer3+4 ad_actor_system={sys}\"\n\
             [[bond.member]]\nname = \"{name}m0\"\ndevice = \"bondd_ring_pair:a{tag}:{side}\"\n\
             [[bond.member]]\nname = \"{name}m1\"\ndevice = \"bondd_ring_pair:b{tag}:{side}\"\n"
        )
    };
    let text = format!(
        "[cores]\ncontrol = 0\nworkers = [1]\n[[port]]\nname = \"src\"\n\
         device = \"net_pcap_rp{tag},rx_pcap={pcap},infinite_rx=1\"\n{}{}\
         [[forward]]\nfrom = \"src\"\nto = \"x\"\nbidirectional = false\n\
         [run]\nstats_period_ms = 0\nrun_dir = \"{run}\"\n",
        bond("x", "02:00:00:00:01:0a", 0),
        bond("y", "02:00:00:00:01:0b", 1),
        pcap = pcap.display(),
        run = dir.0.display()
    );
    let mut app = common::start_appliance(&text);
    run(&mut app, 5_500);
    let mut info = |b: &str| -> serde_json::Value {
        let r = app.execute_line(&format!("show bonding lacp info {b} --json"));
        assert!(r.ok, "{}", r.text);
        serde_json::from_str(&r.text).unwrap()
    };
    for (b, partner) in [("x", "02:00:00:00:01:0b"), ("y", "02:00:00:00:01:0a")] {
        for m in info(b).as_array().unwrap() {
            let st = &m["status"];
            assert_eq!(st["actor"]["state"].as_u64().unwrap() & 0x3c, 0x3c, "{m:#}");
            assert_eq!(st["partner"]["system"], partner, "{m:#}");
            let times = |k: &str| -> Vec<u64> {
                m["lacpdu_times"][k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect()
            };
            let (tx, rx) = (times("tx_us"), times("rx_us"));
            assert_eq!(tx.len() as u64, st["stats"]["lacpdu_tx"].as_u64().unwrap());
            assert_eq!(rx.len() as u64, st["stats"]["lacpdu_rx"].as_u64().unwrap());
            // Converged within about 3 s; the last two periodic LACPDUs are 1 s apart.
            for t in [&tx, &rx] {
                assert!(t.len() >= 4, "{m:#}");
                let gap = t[t.len() - 1] - t[t.len() - 2];
                assert!(
                    (900_000..=1_100_000).contains(&gap),
                    "{b}: last LACPDU interval {gap} µs: {m:#}"
                );
            }
        }
    }
    let report = app.shutdown().unwrap();
    assert_eq!(report.mbufs_in_use_after_shutdown, 0);
    let b = |name: &str| {
        report
            .bonds
            .iter()
            .find(|b| b.name == name)
            .unwrap()
            .members
            .clone()
    };
    // Data forwarded into x crossed the pairs into y, over both members.
    let (x, y) = (b("x"), b("y"));
    for i in 0..2 {
        assert!(x[i].1 > 1_000, "x sent on {}: {x:?}", x[i].0);
        assert!(y[i].2 >= x[i].1, "y received what x sent: {x:?} {y:?}");
    }
}

/// An 802.3ad bond built from the shell while running (`create bonding device`, members,
/// a path) negotiates with a configured one over ring pairs; switching it out of 802.3ad says
/// goodbye (the partner stops distributing at once) and back in negotiates again; removing a
/// member says goodbye on that link only.
#[test]
fn eight02_3ad_can_be_created_and_switched_at_run_time() {
    let _g = dataplane::testing::eal();
    let dir = TempDir::new("rp802");
    let tag = std::process::id() % 100_000;
    let (src, dst) = (format!("net_ringQ{tag}s"), format!("net_ringQ{tag}d"));
    let text = format!(
        "[cores]\ncontrol = 0\nworkers = [1]\n\
         [[port]]\nname = \"src\"\ndevice = \"{src}\"\n\
         [[port]]\nname = \"dst\"\ndevice = \"{dst}\"\n\
         [[port]]\nname = \"pa\"\ndevice = \"bondd_ring_pair:q{tag}:0\"\n\
         [[port]]\nname = \"pb\"\ndevice = \"bondd_ring_pair:r{tag}:0\"\n\
         [[bond]]\nname = \"y\"\nmac = \"02:00:00:00:02:0b\"\n\
         options = \"mode=802.3ad miimon=10 lacp_rate=fast xmit_hash_policy=layer3+4\"\n\
         [[bond.member]]\nname = \"ya\"\ndevice = \"bondd_ring_pair:q{tag}:1\"\n\
         [[bond.member]]\nname = \"yb\"\ndevice = \"bondd_ring_pair:r{tag}:1\"\n\
         [[forward]]\nfrom = \"y\"\nto = \"dst\"\nbidirectional = false\n\
         [run]\nstats_period_ms = 0\nrun_dir = \"{}\"\n",
        dir.0.display()
    );
    let mut app = common::start_appliance(&text);
    let pool = dataplane::mempool::PktPool::create(
        &dataplane::testing::uniq("rp"),
        4095,
        0,
        dataplane::mempool::DEFAULT_DATA_ROOM,
        -1,
    )
    .unwrap();
    let frames = control::pcap::UdpFlows {
        flows: 64,
        ..Default::default()
    }
    .frames();
    let ring = |dev: &str| dataplane::ring::Ring::lookup(&format!("ETH_RXTX0_{dev}")).unwrap();
    let send = |app: &mut Appliance, n: usize| -> usize {
        let _ = ring(&dst).dequeue(usize::MAX);
        for f in frames.iter().cycle().take(n) {
            let m = dataplane::mbuf::Mbuf::from_bytes(&pool, f).unwrap();
            ring(&src).enqueue(m).unwrap();
        }
        run(app, 150);
        ring(&dst).dequeue(usize::MAX).len()
    };
    let must = |app: &mut Appliance, cmd: &str, needle: &str| {
        let r = app.execute_line(cmd);
        assert!(r.ok && r.text.contains(needle), "{cmd}: {}", r.text);
    };
    must(&mut app, "stop", "stop");
    must(
        &mut app,
        "create bonding device 4 0",
        "bond0 (bond 1, mode 802.3ad)",
    );
    must(&mut app, "set bonding option bond0 lacp_rate fast", "fast");
    must(
        &mut app,
        "set bonding option bond0 miimon 10",
        "miimon = 10",
    );
    must(&mut app, "add bonding member pa bond0", "added");
    must(&mut app, "add bonding member pb bond0", "added");
    must(
        &mut app,
        "add forward src bond0",
        "src (port 0) -> bond0 (bond 1)",
    );
    must(&mut app, "show config fwd", "polled for its LACPDUs only");
    must(&mut app, "start", "started");
    run(&mut app, 4_500);
    for b in ["bond0", "y"] {
        assert_eq!(distributing(&mut app, b), [true, true], "{b}");
    }
    assert_eq!(send(&mut app, 200), 200, "both ways agree, so y collects");

    // Out of 802.3ad: the partner hears the farewell and stops collecting at once.
    must(&mut app, "stop", "stop");
    must(
        &mut app,
        "set bonding mode balance-xor bond0",
        "balance-xor",
    );
    must(&mut app, "start", "started");
    let r = app.execute_line("show bonding lacp info bond0");
    assert!(!r.ok && r.text.contains("not in 802.3ad"), "{}", r.text);
    run(&mut app, 200);
    assert_eq!(distributing(&mut app, "y"), [false, false]);
    assert_eq!(send(&mut app, 100), 0, "y drops what it no longer collects");

    // Back into 802.3ad with the same members.
    must(&mut app, "stop", "stop");
    must(&mut app, "set bonding mode 802.3ad bond0", "802.3ad");
    must(&mut app, "start", "started");
    run(&mut app, 4_500);
    for b in ["bond0", "y"] {
        assert_eq!(distributing(&mut app, b), [true, true], "{b}");
    }
    assert_eq!(send(&mut app, 100), 100);

    // A member leaving says goodbye on its own link only.
    must(&mut app, "remove bonding member pb bond0", "removed");
    run(&mut app, 200);
    assert_eq!(distributing(&mut app, "y"), [true, false]);
    assert_eq!(
        send(&mut app, 100),
        100,
        "the other link carries everything"
    );

    let report = app.shutdown().unwrap();
    assert_eq!(report.mbufs_in_use_after_shutdown, 0);
    assert_eq!(pool.in_use(), 0);
}

fn run(app: &mut Appliance, ms: u64) {
    let never = AtomicBool::new(false);
    app.run_until(
        &never,
        Some(Duration::from_millis(ms)),
        None,
        &mut std::io::sink(),
    );
}

/// Per member of bond `b`, whether its actor state says DISTRIBUTING.
fn distributing(app: &mut Appliance, b: &str) -> Vec<bool> {
    let r = app.execute_line(&format!("show bonding lacp info {b} --json"));
    assert!(r.ok, "{}", r.text);
    let v: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"]["actor"]["state"].as_u64().unwrap() & 0x20 != 0)
        .collect()
}
