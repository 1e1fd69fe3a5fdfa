//! lacp_fallback (a bondd extension): when no partner speaks LACP, the chosen member carries
//! traffic alone until one does; without it, an 802.3ad bond with no partner sends nothing.
//! The far ends of the veth pairs are plain kernel interfaces, which never speak LACP.

mod common;
use common::*;

fn run_bond(ns: &Netns, dir: &TempDir, options: &str) -> serde_json::Value {
    let pcap = flows_pcap(dir, "in.pcap", 64);
    let tag = format!("{}{}", std::process::id(), options.len());
    let cfg = dir.write(
        &format!("c{}.toml", options.len()),
        &format!(
            r#"
[[port]]
name = "src"
device = "net_pcap_fs{tag},rx_pcap={pcap},infinite_rx=1"
[[bond]]
name = "bond0"
options = "{options}"
{members}
[[forward]]
from = "src"
to = "bond0"
bidirectional = false
[run]
stats_period_ms = 0
duration_s = 5
run_dir = "{run}"
"#,
            pcap = pcap.display(),
            members = bond_members("eth", 2, |i| format!("net_af_packet_f{i}{tag},iface=fa{i}")),
            run = dir.0.display()
        ),
    );
    let (ok, report, err) = run_config_in(Some(ns), &cfg, &[]);
    assert!(ok, "bondd failed:\n{err}");
    let r = report.expect("JSON report");
    assert_eq!(r["mbufs_in_use_after_shutdown"], 0);
    r
}

fn member_tx(r: &serde_json::Value, m: usize) -> u64 {
    r["bonds"][0]["members"][m][1].as_u64().unwrap()
}

#[test]
fn fallback_member_carries_traffic_without_a_partner() {
    if !need_root("fallback_member_carries_traffic_without_a_partner") {
        return;
    }
    let ns = Netns::with_veths("bdfb", "fa", "fb", 2);
    let dir = TempDir::new("fallback");
    // Without fallback: no partner, no aggregate, nothing sent (all counted as no_member).
    let r = run_bond(
        &ns,
        &dir,
        "mode=802.3ad miimon=10 lacp_rate=fast xmit_hash_policy=layer3+4",
    );
    assert_eq!(member_tx(&r, 0) + member_tx(&r, 1), 0, "{r}");
    assert!(r["bonds"][0]["no_member_drops"].as_u64().unwrap() > 0);
    // With fallback on eth1: after the partner timeout, eth1 alone carries the traffic.
    let r = run_bond(
        &ns,
        &dir,
        "mode=802.3ad miimon=10 lacp_rate=fast lacp_fallback=on lacp_fallback_member=eth1",
    );
    assert_eq!(member_tx(&r, 0), 0, "{r}");
    assert!(member_tx(&r, 1) > 1000, "eth1 carries traffic alone: {r}");
}
