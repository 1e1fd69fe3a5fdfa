//! 802.3ad against DPDK's own net_bonding PMD (mode 4), a second LACP implementation nobody
//! here wrote. One process holds both: a net_bonding device over af_packet ports on one end of
//! two veth pairs, polled every 10 ms by a small peer thread (its LACP only runs inside its
//! rx/tx bursts), and a bondd appliance whose 802.3ad bond holds the other ends. bondd's
//! Marker Generator is checked against net_bonding's Marker Responder on the same rig.

mod common;
use common::*;
use dataplane::mempool::{DEFAULT_DATA_ROOM, PktPool};
use dataplane::port::Port;
use dataplane::testing::{eal, uniq};
use std::ffi::CString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn negotiates_with_dpdk_net_bonding() {
    if !need_root("negotiates_with_dpdk_net_bonding") {
        return;
    }
    let _g = eal();
    let id = std::process::id() % 100_000;
    let veths = VethPairs::new(2, |i| (format!("bdn{i}a{id}"), format!("bdn{i}b{id}")));
    let (ours, theirs) = (&veths.ours, &veths.theirs);

    // DPDK's bond, mode 4, over af_packet ports on `theirs`.
    let pool = PktPool::create(&uniq("nbp"), 8191, 256, DEFAULT_DATA_ROOM, -1).unwrap();
    let members: Vec<Port> = theirs
        .iter()
        .map(|t| Port::probe(&format!("net_af_packet_{}_{t},iface={t}", uniq("nb"))).unwrap())
        .collect();
    let bond_name = CString::new(format!("net_bonding_{}", uniq("t"))).unwrap();
    // SAFETY: plain DPDK calls with valid arguments; results checked.
    let nb = unsafe { dpdk_sys::rte_eth_bond_create(bond_name.as_ptr(), 4, 0) };
    assert!(nb >= 0, "rte_eth_bond_create");
    let nb = nb as u16;
    for m in &members {
        // SAFETY: valid ports.
        assert_eq!(unsafe { dpdk_sys::rte_eth_bond_slave_add(nb, m.id()) }, 0);
    }
    // SAFETY: configure, one queue each way, start.
    unsafe {
        let conf = dpdk_sys::rte_eth_conf::default();
        assert_eq!(dpdk_sys::rte_eth_dev_configure(nb, 1, 1, &conf), 0);
        assert_eq!(
            dpdk_sys::rte_eth_rx_queue_setup(nb, 0, 512, 0, std::ptr::null(), pool.as_ptr()),
            0
        );
        assert_eq!(
            dpdk_sys::rte_eth_tx_queue_setup(nb, 0, 512, 0, std::ptr::null()),
            0
        );
        assert_eq!(dpdk_sys::rte_eth_dev_start(nb), 0);
    }
    let mut nb_mac = dpdk_sys::rte_ether_addr::default();
    // SAFETY: valid port and out pointer.
    unsafe { dpdk_sys::rte_eth_macaddr_get(nb, &mut nb_mac) };
    let nb_mac = dataplane::wire::MacAddr::from(nb_mac.addr_bytes).to_string();

    // The peer: net_bonding's LACP runs only inside its bursts, so burst every 10 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let peer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut burst = dataplane::burst::Burst::new();
            while !stop.load(Ordering::Relaxed) {
                burst.rx(nb, 0);
                burst.free_all();
                // SAFETY: a zero-length TX burst lets the PMD send its queued LACPDUs.
                unsafe { dpdk_sys::rte_eth_tx_burst(nb, 0, std::ptr::null_mut(), 0) };
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };

    // bondd on `ours`.
    let dir = TempDir::new("nbond");
    let text = format!(
        r#"
[cores]
control = 0
workers = [1]
[[bond]]
name = "bond0"
mac = "02:bd:0d:00:00:01"
options = "mode=802.3ad miimon=10 lacp_rate=fast"
{members}
[run]
stats_period_ms = 0
run_dir = "{run}"
"#,
        members = bond_members("eth", 2, |i| format!(
            "net_af_packet_{},iface={}",
            uniq("o"),
            ours[i]
        )),
        run = dir.0.display()
    );
    let mut app = start_appliance(&text);
    let status = || std::fs::read_to_string(dir.0.join("bond0")).unwrap_or_default();
    let t = std::time::Instant::now();
    let never = AtomicBool::new(false);
    while !(status().contains("Number of ports: 2")
        && status().contains(&format!("Partner Mac Address: {nb_mac}")))
    {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "no aggregate with net_bonding:\n{}",
            status()
        );
        app.run_until(
            &never,
            Some(Duration::from_millis(200)),
            None,
            &mut std::io::sink(),
        );
    }
    // Let both sides settle into collecting+distributing.
    app.run_until(
        &never,
        Some(Duration::from_secs(3)),
        None,
        &mut std::io::sink(),
    );
    let st = status();
    for sec in st.split("Slave Interface: ").skip(1) {
        let states: Vec<u8> = sec
            .lines()
            .filter_map(|l| l.trim().strip_prefix("port state: ")?.parse().ok())
            .collect();
        // Our actor: aggregating, in sync, collecting, distributing (0x3c). The partner as
        // net_bonding advertises it: at least aggregating, in sync and collecting (0x1c).
        assert!(
            states.len() == 2 && states[0] & 0x3c == 0x3c && states[1] & 0x1c == 0x1c,
            "actor distributing, partner collecting:\n{st}"
        );
    }
    // net_bonding's own view of its members: collecting and distributing too.
    for m in &members {
        let mut info = dpdk_sys::rte_eth_bond_8023ad_slave_info::default();
        // SAFETY: valid ports and out pointer.
        let rc = unsafe { dpdk_sys::rte_eth_bond_8023ad_slave_info(nb, m.id(), &mut info) };
        assert_eq!(rc, 0);
        eprintln!(
            "net_bonding member {}: actor state {:#x}, partner state {:#x}",
            m.name(),
            info.actor_state,
            info.partner_state
        );
        assert_eq!(
            info.actor_state & 0x30,
            0x30,
            "net_bonding member {} distributing",
            m.name()
        );
        assert_eq!(
            info.partner_state & 0x3c,
            0x3c,
            "net_bonding sees bondd distributing"
        );
    }

    // The shell's view, with Linux's counter words.
    let info = app.execute_line("show bonding lacp info bond0");
    assert!(info.ok, "{}", info.text);
    let count = |word: &str| -> u64 {
        let line = info
            .text
            .lines()
            .find(|l| l.contains("bond counters"))
            .unwrap();
        let rest = &line[line
            .find(word)
            .unwrap_or_else(|| panic!("{word} in {line}"))
            + word.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    assert!(count("LACPDU Rx ") >= 4, "{}", info.text);
    assert!(count("LACPDU Tx ") >= 4, "{}", info.text);
    assert_eq!(count("LACPDU Illegal Rx "), 0, "{}", info.text);
    assert!(
        info.text.contains("partner: system ") && info.text.contains(&nb_mac),
        "{}",
        info.text
    );

    // Our Marker Generator against net_bonding's Marker Responder, on each member. DPDK
    // answers at most one request per member every 2 s (its rx_marker_timeout), and bondd
    // sends at most one here, so every request must be answered.
    for (o, member) in ["eth0", "eth1"].iter().enumerate() {
        let sent = app.execute_line(&format!("send bonding marker bond0 {member}"));
        assert!(sent.ok, "{}", sent.text);
        let tid: u32 = sent
            .text
            .rsplit("transaction id ")
            .next()
            .and_then(|t| t.trim_end_matches(')').parse().ok())
            .unwrap_or_else(|| panic!("no transaction id in {:?}", sent.text));
        assert_eq!(tid, 1, "first request on {member}: {}", sent.text);
        let t = std::time::Instant::now();
        let answered = loop {
            app.run_until(
                &never,
                Some(Duration::from_millis(20)),
                None,
                &mut std::io::sink(),
            );
            let v: serde_json::Value =
                serde_json::from_str(&app.execute_line("show bonding lacp info bond0 --json").text)
                    .unwrap();
            let st = &v[o]["status"];
            assert_eq!(v[o]["member"], *member);
            if st["marker"]["pending"] == false {
                break st.clone();
            }
            assert!(
                t.elapsed() < Duration::from_secs(2),
                "net_bonding did not answer the marker on {member}:\n{st:#}"
            );
        };
        let mk = &answered["marker"];
        assert_eq!(mk["last_request_tid"], tid, "{mk}");
        assert_eq!(mk["last_response_tid"], tid, "{mk}");
        assert_eq!(mk["last_response_matched"], true, "{mk}");
        assert_eq!(answered["stats"]["marker_tx"], 1, "{answered:#}");
        assert_eq!(answered["stats"]["marker_resp_rx"], 1, "{answered:#}");
        eprintln!(
            "net_bonding answered the marker on {member} in {} ms",
            mk["last_rtt_ms"]
        );
    }
    let info = app.execute_line("show bonding lacp info bond0");
    let bond_line = info
        .text
        .lines()
        .find(|l| l.contains("bond counters"))
        .unwrap();
    assert!(
        bond_line.contains("Marker Tx 2 ") && bond_line.contains("Marker response Rx 2 "),
        "{}",
        info.text
    );
    assert!(
        info.text
            .contains("marker: last request transaction id 1, answered in"),
        "{}",
        info.text
    );

    // The LACP counters in JSON, with the keys of `ip -j link xstats type bond`: in `show
    // bonding lacp info --json`, in `show bonding status --json`, and in the status file,
    // which is refreshed for counters at most once a second.
    const KEYS: [&str; 9] = [
        "lacpdu_rx",
        "lacpdu_tx",
        "lacpdu_unknown_rx",
        "lacpdu_illegal_rx",
        "marker_rx",
        "marker_tx",
        "marker_resp_rx",
        "marker_resp_tx",
        "marker_unknown_rx",
    ];
    app.run_until(
        &never,
        Some(Duration::from_millis(1_100)),
        None,
        &mut std::io::sink(),
    );
    let info: serde_json::Value =
        serde_json::from_str(&app.execute_line("show bonding lacp info bond0 --json").text)
            .unwrap();
    let shown: serde_json::Value =
        serde_json::from_str(&app.execute_line("show bonding status bond0 --json").text).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.0.join("bond0.json")).unwrap()).unwrap();
    for (o, member) in ["eth0", "eth1"].iter().enumerate() {
        let a = &info[o]["status"]["stats"];
        for (what, v) in [("status --json", &shown), ("status file", &file)] {
            let m = &v["members"][o];
            assert_eq!(m["name"], *member);
            let c = &m["ad"]["counters"];
            for k in KEYS {
                assert!(c[k].is_u64(), "{what}: {member} has no counter {k}: {c:#}");
            }
            assert!(c["lacpdu_rx"].as_u64().unwrap() >= 2, "{what}: {c:#}");
            assert!(c["lacpdu_tx"].as_u64().unwrap() >= 2, "{what}: {c:#}");
            assert_eq!(c["marker_tx"], 1, "{what}: {c:#}");
            assert_eq!(c["marker_resp_rx"], 1, "{what}: {c:#}");
            assert_eq!(c["lacpdu_illegal_rx"], 0, "{what}: {c:#}");
        }
        for k in KEYS {
            assert!(
                a[k].is_u64(),
                "lacp info --json: {member} has no {k}: {a:#}"
            );
        }
        assert_eq!(a["marker_tx"], 1);
    }
    for (what, v) in [("status --json", &shown), ("status file", &file)] {
        let c = &v["lacp"]["counters"];
        assert_eq!(c["marker_tx"], 2, "{what}: bond totals {c:#}");
        assert_eq!(c["marker_resp_rx"], 2, "{what}: bond totals {c:#}");
    }

    stop.store(true, Ordering::Relaxed);
    peer.join().unwrap();
    let report = app.shutdown().unwrap();
    assert_eq!(report.mbufs_in_use_after_shutdown, 0);
    // SAFETY: stop and free DPDK's bond; its members go with it.
    unsafe {
        dpdk_sys::rte_eth_dev_stop(nb);
        dpdk_sys::rte_eth_dev_close(nb);
    }
}
