//! Two 802.3ad bonds of one appliance facing each other over `bondd_ring_pair:` ports (DPDK
//! rings, no kernel): they negotiate, both distribute, frames forwarded into one arrive on the
//! other, and the control thread's LACPDU departure and arrival times come out at the fast
//! rate's 1 s cadence. This is the topology of `benches/lacp_cadence.sh`.

mod common;
use common::TempDir;
use control::appliance::Appliance;
use control::config::Config;
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
    let checked = Config::parse(&text, std::path::Path::new("t.toml"))
        .unwrap()
        .check(&dataplane::worker::usable_cores())
        .unwrap();
    let mut app = Appliance::start(checked).unwrap();
    let never = AtomicBool::new(false);
    app.run_until(
        &never,
        Some(Duration::from_millis(5_500)),
        None,
        &mut std::io::sink(),
    );
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
