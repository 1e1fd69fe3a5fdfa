//! 802.3ad between two bondd bonds, cabled by veth pairs in a namespace: LACP converges, both
//! links carry traffic, the status file shows the aggregator and partner, and tshark dissects
//! the LACPDUs on the wire without a complaint.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn two_bondd_bonds_negotiate_and_carry_traffic() {
    if !need_root("two_bondd_bonds_negotiate_and_carry_traffic") {
        return;
    }
    let ns = Netns::with_veths("bdlacp", "la", "lb", 2);
    let dir = TempDir::new("lacp");
    let pcap = flows_pcap(&dir, "in.pcap", 256);
    let tag = std::process::id();
    let cfg = dir.write(
        "c.toml",
        &format!(
            r#"
[[port]]
name = "src"
device = "net_pcap_ls{tag},rx_pcap={pcap},infinite_rx=1"
[[port]]
name = "dst"
device = "net_null_ld{tag},no-rx=1"
[[bond]]
name = "bondA"
mac = "02:aa:00:00:00:01"
options = "mode=802.3ad miimon=10 lacp_rate=fast xmit_hash_policy=layer3+4"
{members_a}
[[bond]]
name = "bondB"
mac = "02:bb:00:00:00:01"
options = "mode=802.3ad miimon=10 lacp_rate=fast"
{members_b}
[[forward]]
from = "src"
to = "bondA"
bidirectional = false
[[forward]]
from = "bondB"
to = "dst"
bidirectional = false
[run]
stats_period_ms = 0
duration_s = 6
run_dir = "{run}"
"#,
            pcap = pcap.display(),
            members_a = bond_members("a", 2, |i| format!("net_af_packet_a{i}{tag},iface=la{i}")),
            members_b = bond_members("b", 2, |i| format!("net_af_packet_b{i}{tag},iface=lb{i}")),
            run = dir.0.display()
        ),
    );
    let cap = dir.path("lacp.pcapng");
    let mut tshark = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "tshark",
            "-q",
            "-i",
            "lb0",
            "-f",
            "ether proto 0x8809",
            "-a",
            "duration:7",
            "-w",
        ])
        .arg(&cap)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let (ok, report, err) = run_config_in(Some(&ns), &cfg, &[]);
    let _ = tshark.wait();
    assert!(ok, "bondd failed:\n{err}");
    let report = report.expect("JSON report");
    assert_eq!(report["mbufs_in_use_after_shutdown"], 0);
    let bond = |name: &str| {
        report["bonds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .unwrap()
            .clone()
    };
    let a = bond("bondA");
    let (tx0, tx1) = (
        a["members"][0][1].as_u64().unwrap(),
        a["members"][1][1].as_u64().unwrap(),
    );
    assert!(
        tx0 > 1000 && tx1 > 1000,
        "both links distribute: {tx0} / {tx1}\n{err}"
    );
    let dst = report["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "dst")
        .unwrap();
    assert!(
        dst["worker"]["tx"].as_u64().unwrap() > 1000,
        "bondB collects and delivers: {dst}"
    );

    let st = std::fs::read_to_string(dir.0.join("bondA")).unwrap();
    assert!(
        st.contains("Bonding Mode: IEEE 802.3ad Dynamic link aggregation"),
        "{st}"
    );
    assert!(st.contains("LACP rate: fast"), "{st}");
    assert!(st.contains("System MAC address: 02:aa:00:00:00:01"), "{st}");
    assert!(st.contains("Number of ports: 2"), "{st}");
    assert!(
        st.contains("Partner Mac Address: 02:bb:00:00:00:01"),
        "{st}"
    );

    // On the wire: LACPDUs from bond A, dissected cleanly, reaching collecting+distributing.
    let fields = Command::new("tshark")
        .args([
            "-r",
            cap.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "lacp.actor.sysid",
            "-e",
            "lacp.actor.state",
            "-e",
            "_ws.malformed",
        ])
        .output()
        .unwrap();
    let fields = String::from_utf8_lossy(&fields.stdout);
    let from_a: Vec<&str> = fields
        .lines()
        .filter(|l| l.starts_with("02:aa:00:00:00:01"))
        .collect();
    assert!(
        from_a.len() >= 3,
        "fast rate: a LACPDU a second from bond A:\n{fields}"
    );
    assert!(
        !fields
            .lines()
            .any(|l| l.split('\t').nth(2).is_some_and(|m| !m.is_empty())),
        "malformed:\n{fields}"
    );
    assert!(
        from_a
            .iter()
            .any(|l| l.split('\t').nth(1).is_some_and(|s| u8::from_str_radix(
                s.trim_start_matches("0x"),
                16
            )
            .is_ok_and(|v| v & 0x30 == 0x30))),
        "bond A reached collecting+distributing on the wire:\n{fields}"
    );
}
