//! bondd against real peers: `net_tap` members whose kernel sides are ports of a Linux
//! bridge (the switch), a Linux host behind the bridge, and a second host that reaches it
//! through bondd's LAN port. Cutting the active tap's carrier must keep traffic flowing,
//! announce the bond with gratuitous ARPs (dissected by tshark) and move the bridge's FDB.
//!
//! ```text
//!  netns A: lb 10.77.0.1 ── la [bondd LAN port, af_packet] ═ bondd ═ bond0 ┬ eth0 = tap bt0 ┐
//!                                                                          └ eth1 = tap bt1 ┤ bridge bbr ── hb0 ── hb1 10.77.0.2 (netns B)
//! ```
//! bondd and the bridge live in netns S. Every namespace is removed at the end, whatever
//! happens; processes are stopped by PID.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn out(args: &[&str]) -> String {
    let o = Command::new(args[0]).args(&args[1..]).output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const BOND_MAC: &str = "02:bd:00:00:00:10";

#[test]
fn failover_through_a_linux_bridge_with_real_hosts() {
    if !need_root("failover_through_a_linux_bridge_with_real_hosts") {
        return;
    }
    need_tools(&["tshark", "ping", "bridge"]);
    let s = Netns::without_ipv6("bdps");
    let a = Netns::without_ipv6("bdpa");
    let b = Netns::without_ipv6("bdpb");
    for ns in [&s, &a, &b] {
        ns.exec(&["ip", "link", "set", "lo", "up"]);
    }
    sh(&[
        "ip", "link", "add", "la", "netns", &s.0, "type", "veth", "peer", "name", "lb", "netns",
        &a.0,
    ]);
    sh(&[
        "ip", "link", "add", "hb0", "netns", &s.0, "type", "veth", "peer", "name", "hb1", "netns",
        &b.0,
    ]);
    a.exec(&["ip", "addr", "add", "10.77.0.1/24", "dev", "lb"]);
    a.exec(&["ip", "link", "set", "lb", "up"]);
    b.exec(&["ip", "addr", "add", "10.77.0.2/24", "dev", "hb1"]);
    b.exec(&["ip", "link", "set", "hb1", "up"]);
    s.exec(&["ip", "link", "add", "bbr", "type", "bridge"]);
    s.exec(&["ip", "link", "set", "hb0", "master", "bbr"]);
    s.exec(&["ip", "link", "set", "la", "up"]);
    s.exec(&["ip", "link", "set", "hb0", "up"]);
    s.exec(&["ip", "link", "set", "bbr", "up"]);

    let dir = TempDir::new("peers");
    let tag = std::process::id();
    let cfg = dir.write(
        "c.toml",
        &format!(
            r#"
[[port]]
name = "lan"
device = "net_af_packet_l{tag},iface=la"
[[bond]]
name = "bond0"
mac = "{BOND_MAC}"
options = "mode=active-backup miimon=10 primary=eth0 num_grat_arp=3 peer_notif_delay=50"
ipaddr = ["10.77.0.10/24"]
{members}
[[forward]]
from = "lan"
to = "bond0"
[run]
stats_period_ms = 0
run_dir = "{}"
"#,
            dir.0.display(),
            members = bond_members("eth", 2, |i| format!("net_tap_bt{i}{tag},iface=bt{i}")),
        ),
    );
    let bondd = Proc::spawn(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &s.0,
                env!("CARGO_BIN_EXE_bondd"),
                "run",
                "--config",
            ])
            .arg(&cfg)
            .env("BONDD_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let status = || std::fs::read_to_string(dir.0.join("bond0")).unwrap_or_default();
    wait_for("bondd's taps", Duration::from_secs(15), || {
        out(&["ip", "-n", &s.0, "link", "show"]).contains("bt1")
            && status().contains("Currently Active Slave: eth0")
    });
    // net_tap gives the kernel side of a tap the DPDK port's MAC, so both taps would carry
    // the bond MAC and the bridge would treat it as its own local address. A switch's ports
    // have their own addresses: give the kernel sides theirs (taps allow a live change).
    for (t, mac) in [("bt0", "02:5e:00:00:00:b0"), ("bt1", "02:5e:00:00:00:b1")] {
        s.exec(&["ip", "link", "set", t, "address", mac]);
        s.exec(&["ip", "link", "set", t, "master", "bbr"]);
        s.exec(&["ip", "link", "set", t, "up"]);
    }

    // Host A pings host B through bondd for the whole test.
    let ping = Proc::spawn(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &a.0,
                "ping",
                "-n",
                "-i",
                "0.1",
                "-c",
                "60",
                "-W",
                "1",
                "10.77.0.2",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let fdb = || out(&["bridge", "-n", &s.0, "fdb", "show", "br", "bbr"]);
    let cap = dir.path("arp.pcap");
    let tshark = Proc::spawn(
        Command::new("ip")
            .args([
                "netns", "exec", &s.0, "tshark", "-q", "-i", "bt1", "-f", "arp", "-w",
            ])
            .arg(&cap)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    std::thread::sleep(Duration::from_millis(1500)); // tshark needs a moment to start

    // Cut the active member's carrier.
    s.exec(&["ip", "link", "set", "bt0", "carrier", "off"]);
    wait_for("failover to eth1", Duration::from_secs(5), || {
        status().contains("Currently Active Slave: eth1")
    });
    wait_for(
        "the bond MAC learned on bt1",
        Duration::from_secs(5),
        || {
            fdb()
                .lines()
                .any(|l| l.starts_with(BOND_MAC) && l.contains("dev bt1"))
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    tshark.signal(libc::SIGINT);
    let _ = tshark.wait();

    // Carrier back: the primary returns and the FDB entry moves back.
    s.exec(&["ip", "link", "set", "bt0", "carrier", "on"]);
    wait_for("primary eth0 active again", Duration::from_secs(5), || {
        status().contains("Currently Active Slave: eth0")
    });
    wait_for(
        "the bond MAC learned on bt0 again",
        Duration::from_secs(5),
        || {
            fdb()
                .lines()
                .any(|l| l.starts_with(BOND_MAC) && l.contains("dev bt0"))
        },
    );

    let ping = ping.wait();
    let ping_out = String::from_utf8_lossy(&ping.stdout).into_owned();
    let received: u32 = ping_out
        .lines()
        .find(|l| l.contains("received"))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|x| x.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        received >= 50,
        "traffic kept flowing through both failovers: {ping_out}"
    );

    // tshark dissects our gratuitous ARPs on the new active member.
    let fields = out(&[
        "tshark",
        "-r",
        cap.to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "arp.isgratuitous",
        "-e",
        "arp.src.proto_ipv4",
        "-e",
        "arp.src.hw_mac",
        "-e",
        "arp.opcode",
    ]);
    let garps: Vec<&str> = fields
        .lines()
        .filter(|l| l.starts_with("1\t10.77.0.10\t") && l.contains(BOND_MAC) && l.ends_with("\t1"))
        .collect();
    assert_eq!(
        garps.len(),
        3,
        "num_grat_arp=3 gratuitous ARP requests on bt1:\n{fields}"
    );

    let st = status();
    assert!(st.contains("Link Failure Count: 1"), "{st}");

    bondd.signal(libc::SIGTERM);
    let o = bondd.wait();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "bondd exit {:?}\n{stderr}", o.status);
    assert!(
        stdout.contains("mbufs in use after shutdown: 0 of"),
        "{stdout}"
    );
    for line in [
        "bond0: (slave eth0): link status definitely down, disabling slave",
        "bond0: (slave eth1): making interface the new active one",
        "bond0: (slave eth0): link status definitely up",
        "bond0: (slave eth0): making interface the new active one",
    ] {
        assert!(stderr.contains(line), "log should say {line:?}:\n{stderr}");
    }
}
