//! `bondd bench --dut external` qualifies a device in another process: here a `bondd run`
//! appliance with a balance-xor bond of two af_packet members, reached over veth pairs in a
//! namespace that the test creates and removes.
//!
//!   bench tx (bxa0) -> veth -> lan (bxb0) -> appliance -> bond0 members (bxb1, bxb2)
//!                   -> veths -> bench rx (bxa1, bxa2), one share per link

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn in_ns(ns: &Netns) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_bondd")]);
    c
}

#[test]
fn the_harness_measures_an_appliance_in_another_process() {
    if !need_root("the_harness_measures_an_appliance_in_another_process") {
        return;
    }
    let ns = Netns::with_veths("bdbx", "bxa", "bxb", 3);
    let dir = TempDir::new("bx");
    let tag = std::process::id();
    let run_dir = dir.path("run");
    let cfg = dir.write(
        "appliance.toml",
        &format!(
            r#"
[eal]
args = ["--file-prefix=bxapp{tag}"]
[cores]
control = 0
workers = [1]
[[port]]
name = "lan"
device = "net_af_packet_l{tag},iface=bxb0"
[[bond]]
name = "bond0"
options = "mode=balance-xor xmit_hash_policy=layer3+4 miimon=10"
{}[[forward]]
from = "lan"
to = "bond0"
bidirectional = false
[run]
stats_period_ms = 0
run_dir = "{}"
"#,
            bond_members("eth", 2, |i| format!(
                "net_af_packet_m{tag}{i},iface=bxb{}",
                i + 1
            )),
            run_dir.display()
        ),
    );
    let app = Proc::spawn(
        in_ns(&ns)
            .args(["run", "--config"])
            .arg(&cfg)
            .arg("--json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    // Up once both members show in its status file as up.
    let status = run_dir.join("bond0");
    let t0 = Instant::now();
    loop {
        let s = std::fs::read_to_string(&status).unwrap_or_default();
        if s.matches("MII Status: up").count() == 3 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the appliance did not bring bond0 up: {s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let out = in_ns(&ns)
        .args(["bench", "run", "--dut", "external"])
        .args(["--tx-device", &format!("net_af_packet_g{tag},iface=bxa0")])
        .args(["--rx-device", &format!("net_af_packet_r{tag}a,iface=bxa1")])
        .args(["--rx-device", &format!("net_af_packet_r{tag}b,iface=bxa2")])
        .args([
            "--rate",
            "20kpps",
            "--duration",
            "2",
            "--reps",
            "1",
            "--flows",
            "256",
        ])
        .args(["--max-loss", "0.5", "--json"])
        .output()
        .expect("running the harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed:\n{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    let run = &report["runs"][0];
    assert_eq!(run["dut"], "external", "{report}");
    let sent = run["sent"].as_u64().expect("sent");
    let received = run["received"].as_u64().expect("received");
    assert!(sent >= 30_000, "2 s at 20 kpps: sent {sent}");
    assert!(
        received * 1000 >= sent * 995,
        "received {received} of {sent}"
    );
    // Layer3+4 over 256 flows: both links carry a fair share, each read on its own port.
    let shares = run["members"].as_array().expect("members");
    assert_eq!(shares.len(), 2, "{report}");
    for s in shares {
        let share = s["share"].as_f64().expect("share");
        assert!((0.3..=0.7).contains(&share), "share {s}");
    }

    // SIGTERM: the appliance stops cleanly and accounts for every frame.
    app.signal(libc::SIGTERM);
    let done = app.wait();
    let text = String::from_utf8_lossy(&done.stdout);
    let json: serde_json::Value = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no report from the appliance:\n{text}"));
    assert_eq!(json["mbufs_in_use_after_shutdown"], 0);
    let members = json["bonds"][0]["members"].as_array().unwrap();
    let tx: u64 = members.iter().map(|m| m[1].as_u64().unwrap()).sum();
    assert!(
        tx >= received,
        "the bond sent {tx}, the harness read {received}"
    );
}
