//! The testpmd-style shell: commands through piped input, through the control socket
//! (`bondd ctl`), from a `--cmdline-file`, and typed into a real terminal (tmux).

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A bond of two net_null members fed by a pcap, its status and socket in `dir`.
fn config(dir: &TempDir) -> std::path::PathBuf {
    let pcap = dir.path("in.pcap");
    let frames = control::pcap::UdpFlows {
        flows: 64,
        ..Default::default()
    }
    .frames();
    control::pcap::write_file(&pcap, frames.iter().map(|f| f.as_slice())).unwrap();
    let tag = format!("{}{}", std::process::id(), dir.0.file_name().unwrap().len());
    dir.write(
        "c.toml",
        &format!(
            r#"
[[port]]
name = "lan0"
device = "net_pcap_sh{tag},rx_pcap={},infinite_rx=1"
[[bond]]
name = "bond0"
options = "mode=active-backup miimon=10 primary=eth0"
[[bond.member]]
name = "eth0"
device = "net_null_sh{tag}a,no-rx=1"
[[bond.member]]
name = "eth1"
device = "net_null_sh{tag}b,no-rx=1"
[[forward]]
from = "lan0"
to = "bond0"
bidirectional = false
[run]
stats_period_ms = 0
run_dir = "{}"
"#,
            pcap.display(),
            dir.0.display()
        ),
    )
}

#[test]
fn piped_commands_run_and_errors_do_not_stop_the_appliance() {
    let dir = TempDir::new("shpipe");
    let cfg = config(&dir);
    let mut child = bondd()
        .args(["run", "-i", "--config"])
        .arg(&cfg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let script = "show bonding list\n\
                  show bonding config bond0\n\
                  sho bonding config bond0\n\
                  set bonding option bond0 miimon -5\n\
                  set bonding option bond0 updelay 25\n\
                  set bonding mode 5 bond0\n\
                  stop\n\
                  set bonding mode 5 bond0\n\
                  start\n\
                  set link-down port eth0\n";
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    // The monitor notices within a tick; wait for the status file to say so (not a fixed time:
    // the machine may be busy with other tests).
    let t = Instant::now();
    while !std::fs::read_to_string(dir.path("bond0"))
        .unwrap_or_default()
        .contains("Currently Active Slave: eth1")
    {
        assert!(t.elapsed() < Duration::from_secs(10), "no failover to eth1");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"show bonding config 0\nshow bonding events bond0\nshow port summary all --json\nhelp set bonding active\nquit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("0: bond0 (active-backup) [eth0 eth1]"),
        "{stdout}"
    );
    assert!(stdout.contains("Current active: eth0"), "{stdout}");
    assert!(
        stderr.contains("unknown command \"sho bonding config bond0\" (did you mean \"show\"?)"),
        "{stderr}"
    );
    assert!(stderr.contains("option 'miimon'"), "{stderr}");
    assert!(stdout.contains("bond bond0: updelay = 25"), "{stdout}");
    assert!(
        stdout.contains("warning: updelay (25) is not a multiple of miimon (10)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("option 'mode' can only change while the bond is down"),
        "{stderr}"
    );
    assert!(
        stderr.contains("balance-tlb") && stderr.contains("not implemented yet"),
        "{stderr}"
    );
    assert!(stdout.contains("io packet forwarding started"), "{stdout}");
    assert!(stdout.contains("port 1 (eth0): link down"), "{stdout}");
    assert!(
        stdout.contains("Current active: eth1"),
        "the failover shows: {stdout}"
    );
    assert!(
        stdout.contains("(slave eth0): link status definitely down, disabling slave"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"name\":\"eth1\""),
        "JSON summary: {stdout}"
    );
    assert!(
        stdout.contains("usage: set bonding active <bond> <member>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mbufs in use after shutdown: 0 of"),
        "{stdout}"
    );
}

/// Starts `bondd run --config cfg` and waits for its control socket in `dir`.
fn start_with_socket(dir: &TempDir, cfg: &std::path::Path) -> (Proc, std::path::PathBuf) {
    let app = Proc::spawn(
        bondd()
            .args(["run", "--config"])
            .arg(cfg)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let sock = dir.path("bondd.sock");
    let t = Instant::now();
    while !sock.exists() {
        assert!(t.elapsed() < Duration::from_secs(10), "no control socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    (app, sock)
}

fn ctl(sock: &std::path::Path, cmd: &str) -> (bool, String, String) {
    let mut c = bondd();
    c.arg("ctl").arg("--socket").arg(sock).arg(cmd);
    run(c)
}

#[test]
fn control_socket_serves_bondd_ctl() {
    let dir = TempDir::new("shsock");
    let cfg = config(&dir);
    let (app, sock) = start_with_socket(&dir, &cfg);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "root-only socket");

    let (ok, out, _) = ctl(&sock, "show bonding config bond0");
    assert!(ok && out.contains("Current active: eth0"), "{out}");
    let (ok, out, _) = ctl(&sock, "show bonding status bond0 --json");
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["currently_active"], "eth0");
    let (ok, _, err) = ctl(&sock, "set bonding active bond0 eth9");
    assert!(!ok && err.contains("\"eth9\" is not a member"), "{err}");
    let (ok, out, _) = ctl(&sock, "set bonding active bond0 eth1");
    assert!(ok, "{out}");
    let (_, out, _) = ctl(&sock, "show bonding status bond0");
    assert!(out.contains("Currently Active Slave: eth1"), "{out}");
    let (ok, _, _) = ctl(&sock, "stop");
    assert!(ok);
    let (ok, out, _) = ctl(&sock, "set bonding mode balance-xor bond0");
    assert!(ok, "mode changes once forwarding is stopped: {out}");
    let (ok, out, _) = ctl(&sock, "set fwd mac");
    assert!(ok && out.contains("mac"), "{out}");
    let (ok, out, _) = ctl(&sock, "start");
    assert!(ok && out.contains("mac packet forwarding started"), "{out}");
    let (_, out, _) = ctl(&sock, "show bonding config bond0");
    assert!(out.contains("Bonding mode: 2 (balance-xor)"), "{out}");
    let (ok, out, _) = ctl(&sock, "quit");
    assert!(ok, "{out}");
    let o = app.wait();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!sock.exists(), "the socket is removed at exit");
    let (ok, _, err) = ctl(&sock, "show bonding list");
    assert!(!ok && err.contains("bondd.sock"), "{err}");
}

#[test]
fn cmdline_file_runs_at_start() {
    let dir = TempDir::new("shfile");
    let cfg = config(&dir);
    let script = dir.write(
        "cmds",
        "# a comment\nset bonding primary eth1 bond0\nshow bonding config bond0\nquit\n",
    );
    let mut c = bondd();
    c.args(["run", "--config"])
        .arg(&cfg)
        .arg("--cmdline-file")
        .arg(&script);
    let (ok, out, err) = run(c);
    assert!(ok, "{err}");
    assert!(
        out.contains("bondd> set bonding primary eth1 bond0"),
        "{out}"
    );
    assert!(
        out.contains("Primary: [eth1]") && out.contains("Current active: eth1"),
        "{out}"
    );
    let mut c = bondd();
    c.args(["run", "--config"])
        .arg(&cfg)
        .arg("--cmdline-file")
        .arg(dir.path("nope"));
    let (ok, _, err) = run(c);
    assert!(
        !ok && err.contains("--cmdline-file") && err.contains("nope"),
        "{err}"
    );
}

/// A tmux session, killed by its unique name on drop.
struct Tmux(String);
impl Tmux {
    fn send(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", &self.0];
        a.extend_from_slice(keys);
        sh(&["tmux"].iter().chain(a.iter()).copied().collect::<Vec<_>>());
    }
    fn screen(&self) -> String {
        let o = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-200", "-t", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    fn wait_for(&self, needle: &str) -> String {
        let t = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "{needle:?} never appeared:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

#[test]
fn interactive_session_in_a_real_terminal() {
    need_tools(&["tmux"]);
    let dir = TempDir::new("shtty");
    let cfg = config(&dir);
    let name = format!("bondd-test-{}", std::process::id());
    // The pane stays open after bondd exits (tmux would close it), showing the exit status.
    let cmd = format!(
        "BONDD_LOG=warn HOME={} {} run -i --config {}; echo bondd-exited=$?; sleep 60",
        dir.0.display(),
        env!("CARGO_BIN_EXE_bondd"),
        cfg.display()
    );
    sh(&[
        "tmux",
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        "160",
        "-y",
        "50",
        &cmd,
    ]);
    let t = Tmux(name);
    t.wait_for("bondd>");
    // Tab completion: "show bon<Tab>" completes the keyword.
    t.send(&["show bon", "Tab"]);
    t.wait_for("bondd> show bonding");
    t.send(&[" config bond0", "Enter"]);
    t.wait_for("Current active: eth0");
    t.send(&["set link-down port eth0", "Enter"]);
    t.wait_for("port 1 (eth0): link down");
    // Ask again until the failover shows (the monitor runs every 10 ms; the machine may be busy).
    let t0 = Instant::now();
    loop {
        t.send(&["show bonding config bond0", "Enter"]);
        std::thread::sleep(Duration::from_millis(300));
        if t.screen().contains("Current active: eth1") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no failover:\n{}",
            t.screen()
        );
    }
    t.send(&["set bonding mon_period bond0 fast", "Enter"]);
    t.wait_for("expected a period in ms, got \"fast\"");
    t.send(&["quit", "Enter"]);
    let s = t.wait_for("bondd-exited=");
    assert!(s.contains("bondd-exited=0"), "{s}");
    assert!(s.contains("Stopping bondd..."), "{s}");
    assert!(s.contains("mbufs in use after shutdown: 0 of"), "{s}");
}

#[test]
fn every_command_through_the_socket() {
    let dir = TempDir::new("shall");
    let cfg = config(&dir);
    let (app, sock) = start_with_socket(&dir, &cfg);
    let mut c = control::shell::server::Client::connect(&sock).unwrap();
    // (command, should succeed, text the answer must contain)
    let cases: &[(&str, bool, &str)] = &[
        ("help", true, "show bonding config"),
        ("help set bonding mode", true, "usage: set bonding mode"),
        ("show bonding list", true, "bond0"),
        ("show bonding list --json", true, "\"members\""),
        ("show bonding config bond0", true, "Bonding mode: 1"),
        ("show bonding config 0 --json", true, "\"currently_active\""),
        (
            "show bonding status bond0",
            true,
            "Currently Active Slave: eth0",
        ),
        ("show bonding events bond0 2", true, "bond0:"),
        ("show bonding lacp info bond0", false, "not in 802.3ad mode"),
        (
            "send bonding marker bond0 eth0",
            false,
            "not in 802.3ad mode",
        ),
        ("show port info all", true, "Infos for port 2"),
        ("show port stats 0", true, "NIC statistics for port 0"),
        (
            "show port summary all",
            true,
            "Number of available ports: 3",
        ),
        (
            "show port xstats eth0",
            true,
            "NIC extended statistics for port 1",
        ),
        ("clear port stats all", true, "cleared"),
        ("set bonding primary eth1 bond0", true, "primary = eth1"),
        (
            "set bonding active bond0 eth0",
            true,
            "eth0 is the active member",
        ),
        ("set bonding active bond0 eth7", false, "not a member"),
        (
            "set bonding balance_xmit_policy bond0 l34",
            true,
            "xmit_hash_policy = layer3+4",
        ),
        ("set bonding mon_period bond0 20", true, "miimon = 20"),
        (
            "set bonding mac_addr bond0 02:00:00:00:00:99",
            true,
            "02:00:00:00:00:99",
        ),
        ("set bonding mac_addr bond0 02:00:00", false, "usage"),
        (
            "set bonding agg_mode bond0 count",
            false,
            "stop forwarding first",
        ),
        (
            "set bonding lacp dedicated_queues bond0 enable",
            true,
            "already in effect",
        ),
        (
            "set bonding option bond0 downdelay 40",
            true,
            "downdelay = 40",
        ),
        (
            "set bonding option bond0 nosuch 1",
            false,
            "unknown option 'nosuch'",
        ),
        (
            "set bonding mode balance-xor bond0",
            false,
            "stop forwarding first",
        ),
        ("stop", true, "Telling workers to stop"),
        ("stop", false, "not started"),
        (
            "set bonding mode balance-xor bond0",
            true,
            "mode = balance-xor",
        ),
        (
            "set bonding agg_mode bond0 count",
            true,
            "ad_select = count",
        ),
        ("set fwd mac", true, "Set mac packet forwarding mode"),
        ("start", true, "mac packet forwarding started"),
        (
            "remove bonding member eth1 bond0",
            true,
            "removed from bond0",
        ),
        ("add bonding slave eth1 bond0", true, "added to bond0"),
        ("add bonding member eth1 bond0", false, "already a member"),
        (
            "create bonding device 1 0",
            true,
            "Created new bonding device bond1 (bond 1, mode active-backup)",
        ),
        ("show bonding config bond1", true, "Bonding mode: 1"),
        ("show config fwd", true, "lan0 (port 0) -> bond0 (bond 0)"),
        ("add forward lan0 bond1", false, "already forwards to bond0"),
        (
            "add forward bond1 lan0",
            true,
            "bond1 (bond 1) -> lan0 (port 0)",
        ),
        ("remove forward bond1 lan0", true, "no longer forwarding"),
        ("set link-down port eth1", true, "link down"),
        ("set link-up port 2", true, "link up"),
        ("set link-up port 9", false, "no port 9"),
        ("frobnicate", false, "unknown command"),
    ];
    for (cmd, ok, needle) in cases {
        let r = c.ask(cmd).unwrap();
        assert_eq!(r.ok, *ok, "{cmd}: {}", r.text);
        assert!(
            r.text.contains(needle),
            "{cmd}: expected {needle:?} in:\n{}",
            r.text
        );
    }
    // The bond created empty takes its first member's address, as Linux does.
    for cmd in [
        "remove bonding member eth1 bond0",
        "add bonding member eth1 bond1",
    ] {
        let r = c.ask(cmd).unwrap();
        assert!(r.ok, "{cmd}: {}", r.text);
    }
    let info = c.ask("show port info eth1 --json").unwrap().text;
    let port: serde_json::Value = serde_json::from_str(&info).unwrap();
    let mac = port[0]["mac"].as_str().unwrap();
    assert_ne!(mac, "00:00:00:00:00:00");
    let cfg = c.ask("show bonding config bond1").unwrap().text;
    assert!(cfg.contains(&format!("Bond MAC: {mac}")), "{cfg}\n{info}");
    let r = c.ask("quit").unwrap();
    assert!(r.ok && r.quit);
    let o = app.wait();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("mbufs in use after shutdown: 0 of"));
}
