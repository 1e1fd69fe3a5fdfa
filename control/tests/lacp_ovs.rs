//! 802.3ad against Open vSwitch (userspace datapath, no kernel module): OVS's LACP and bondd's
//! negotiate over two veth pairs, both sides reach collecting+distributing, and traffic from
//! bondd crosses the aggregate. OVS runs from a temp dir and is stopped and removed at the end,
//! whatever happens; links and processes are removed by their unique names and PIDs.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Ovs {
    dir: PathBuf,
    /// Veth pairs cabled to this OVS, removed after it stops.
    veths: VethPairs,
    /// Bridges added: the userspace datapath makes a tap of each bridge's name, which
    /// `exit --cleanup` leaves behind; removed by name after OVS stops.
    bridges: std::cell::RefCell<Vec<String>>,
    /// Whether the netdev datapath's own `ovs-netdev` device is this OVS's to remove: only
    /// if it did not exist before this OVS started.
    owns_dp_device: bool,
}

impl Ovs {
    fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new(prog);
        for v in ["OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR"] {
            c.env(v, &self.dir);
        }
        c
    }
    fn run(&self, prog: &str, args: &[&str]) -> String {
        let o = self.cmd(prog).args(args).output().unwrap();
        assert!(
            o.status.success(),
            "{prog} {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    fn start(dir: &Path) -> Ovs {
        let ovs = Ovs {
            dir: dir.to_owned(),
            veths: VethPairs::default(),
            bridges: Default::default(),
            owns_dp_device: !Command::new("ip")
                .args(["link", "show", "ovs-netdev"])
                .output()
                .unwrap()
                .status
                .success(),
        };
        let db = dir.join("conf.db");
        ovs.run(
            "ovsdb-tool",
            &[
                "create",
                db.to_str().unwrap(),
                "/usr/share/openvswitch/vswitch.ovsschema",
            ],
        );
        let sock = format!("punix:{}", dir.join("db.sock").display());
        let pid = format!("--pidfile={}", dir.join("ovsdb-server.pid").display());
        let log = format!("--log-file={}", dir.join("ovsdb-server.log").display());
        ovs.run(
            "ovsdb-server",
            &[
                db.to_str().unwrap(),
                &format!("--remote={sock}"),
                &pid,
                &log,
                "-vconsole:off",
                "--detach",
            ],
        );
        ovs.run("ovs-vsctl", &["--no-wait", "init"]);
        let pid = format!("--pidfile={}", dir.join("ovs-vswitchd.pid").display());
        let log = format!("--log-file={}", dir.join("ovs-vswitchd.log").display());
        ovs.run(
            "ovs-vswitchd",
            &[
                &format!("unix:{}", dir.join("db.sock").display()),
                &pid,
                &log,
                "-vconsole:off",
                "--detach",
            ],
        );
        ovs
    }
    /// Adds bridge `br` (userspace datapath) with `bond` of the two ports `members`: active
    /// LACP, balance-tcp, `lacp-time` = `lacp_time` (fast or slow).
    fn add_lacp_bond(&self, br: &str, bond: &str, members: &[String], lacp_time: &str) {
        self.bridges.borrow_mut().push(br.to_owned());
        self.run(
            "ovs-vsctl",
            &[
                "add-br",
                br,
                "--",
                "set",
                "bridge",
                br,
                "datapath_type=netdev",
                "--",
                "add-bond",
                br,
                bond,
                &members[0],
                &members[1],
                "lacp=active",
                "bond_mode=balance-tcp",
                "--",
                "set",
                "port",
                bond,
                &format!("other_config:lacp-time={lacp_time}"),
            ],
        );
    }
}

impl Drop for Ovs {
    fn drop(&mut self) {
        let _ = self
            .cmd("ovs-appctl")
            .args(["-t", "ovs-vswitchd", "exit", "--cleanup"])
            .output();
        let _ = self
            .cmd("ovs-appctl")
            .args(["-t", "ovsdb-server", "exit"])
            .output();
        // Belt and braces: kill what the pidfiles name, if that PID is still the daemon (not
        // a reused PID).
        for (p, comm) in [
            ("ovs-vswitchd.pid", "ovs-vswitchd"),
            ("ovsdb-server.pid", "ovsdb-server"),
        ] {
            if let Ok(pid) = std::fs::read_to_string(self.dir.join(p))
                && let Ok(pid) = pid.trim().parse::<i32>()
                && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == comm)
            {
                // SAFETY: kill(2) of a daemon we started, by its pidfile.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let dp = self.owns_dp_device.then(|| "ovs-netdev".to_owned());
        for dev in self.bridges.borrow().iter().chain(&dp) {
            let _ = Command::new("ip").args(["link", "del", dev]).output();
        }
    }
}

/// Writes bondd's config in `dir`: port `src` (net_pcap `{src}`) replays 256 flows in a loop
/// into `bond0` (`mac`, `options`), whose members eth0 and eth1 are the DPDK devices `{pmd}0`
/// and `{pmd}1` on the interfaces `ifaces`; bondd runs `duration` s, its files in `dir/run`.
fn config(
    dir: &TempDir,
    (src, mac, options): (&str, &str, &str),
    (pmd, ifaces): (&str, &[String]),
    duration: u32,
) -> PathBuf {
    let pcap = flows_pcap(dir, "in.pcap", 256);
    let tag = std::process::id();
    dir.write(
        "c.toml",
        &format!(
            r#"
[[port]]
name = "src"
device = "net_pcap_{src}{tag},rx_pcap={pcap},infinite_rx=1"
[[bond]]
name = "bond0"
mac = "{mac}"
options = "{options}"
{members}
[[forward]]
from = "src"
to = "bond0"
[run]
stats_period_ms = 0
duration_s = {duration}
run_dir = "{run}"
"#,
            pcap = pcap.display(),
            members = bond_members("eth", 2, |i| format!("{pmd}{i}{tag},iface={}", ifaces[i])),
            run = dir.path("run").display(),
        ),
    )
}

/// Whether member `m`'s actor state in the status file `st` (the first "port state" of its
/// section) says Distributing (0x20).
fn member_distributing(st: &str, m: &str) -> bool {
    st.split(&format!("Slave Interface: {m}"))
        .nth(1)
        .and_then(|sec| {
            sec.lines()
                .find_map(|l| l.trim().strip_prefix("port state: "))
        })
        .and_then(|v| v.parse::<u8>().ok())
        .is_some_and(|v| v & 0x20 != 0)
}

/// OVS with an active LACP bond (`lacp-time` = `ovs_time`, fast or slow) of two veth ends, and
/// bondd (802.3ad, `options`) on the other ends, running for `duration` seconds.
struct Rig {
    child: Proc,
    dir: TempDir,
    ovs: Ovs,
    bond: String,
    theirs: Vec<String>,
}

fn rig(options: &str, ovs_time: &str, duration: u32) -> Rig {
    need_tools(&["ovs-vswitchd"]);
    let dir = TempDir::new("ovs");
    let mut ovs = Ovs::start(&dir.0);
    let id = std::process::id() % 100_000;
    let (br, bond) = (format!("bdbr{id}"), format!("bdob{id}"));
    ovs.veths = VethPairs::new(2, |i| (format!("bda{i}x{id}"), format!("bdb{i}x{id}")));
    let (ours, theirs) = (ovs.veths.ours.clone(), ovs.veths.theirs.clone());
    ovs.add_lacp_bond(&br, &bond, &theirs, ovs_time);

    let cfg = config(
        &dir,
        ("os", "02:bd:0c:00:00:01", options),
        ("net_af_packet_o", &ours),
        duration,
    );
    let child = Proc::spawn(
        bondd()
            .args(["run", "--json", "--config"])
            .arg(&cfg)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    Rig {
        child,
        dir,
        ovs,
        bond,
        theirs,
    }
}

/// One test for both scenarios, run one after the other: two userspace-datapath
/// ovs-vswitchd instances in one network namespace collide (each creates the same internal
/// `ovs-netdev` device), so they must never run at the same time.
#[test]
fn negotiates_with_open_vswitch() {
    if !need_root("negotiates_with_open_vswitch") {
        return;
    }
    active_scenario();
    passive_scenario();
    slow_scenario();
    carrier_scenario();
}

/// Both sides at the slow rate (`lacp_rate=slow`, `lacp-time=slow`): the aggregate forms,
/// neither side sets the short-timeout bit, bondd's periodic machines are in SLOW_PERIODIC,
/// and over a 6 s window each side sends at most one periodic LACPDU per link (30 s apart;
/// the fast rate would send six), while both keep the aggregation.
fn slow_scenario() {
    let Rig {
        child,
        dir,
        ovs,
        bond,
        theirs: _,
    } = rig(
        "mode=802.3ad miimon=10 lacp_rate=slow xmit_hash_policy=layer3+4",
        "slow",
        14,
    );
    let converged = |s: &str| {
        s.lines()
            .filter(|l| {
                l.contains("partner state: activity")
                    && l.ends_with("aggregation synchronized collecting distributing")
            })
            .count()
            >= 2
            && s.matches("current attached").count() >= 2
    };
    let t = Instant::now();
    let lacp = loop {
        let s = ovs.run("ovs-appctl", &["lacp/show", &bond]);
        if converged(&s) {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "no aggregate at the slow rate:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("slow rate: converged {:?} after bondd started", t.elapsed());
    // OVS's view: bondd (partner) and OVS (actor) both ask for the long timeout.
    for l in lacp.lines().filter(|l| l.contains(" state: ")) {
        assert!(
            !l.contains("timeout"),
            "short timeout at the slow rate: {l}\n{lacp}"
        );
    }
    // bondd's view, through its control socket.
    let sock = dir.path("run").join("bondd.sock");
    let ask = |cmd: &str| -> serde_json::Value {
        let mut c = control::shell::server::Client::connect(&sock).unwrap();
        let r = c.ask(cmd).unwrap();
        assert!(r.ok, "{cmd}: {}", r.text);
        serde_json::from_str(&r.text).unwrap()
    };
    let before = ask("show bonding lacp info bond0 --json");
    let status = ask("show bonding status bond0 --json");
    assert_eq!(status["lacp"]["lacp_rate"]["name"], "slow", "{status:#}");
    for m in before.as_array().unwrap() {
        let st = &m["status"];
        assert_eq!(st["periodic_state"], "SlowPeriodic", "{st:#}");
        let (actor, partner) = (
            st["actor"]["state"].as_u64().unwrap(),
            st["partner"]["state"].as_u64().unwrap(),
        );
        assert_eq!(
            actor & 0x3f,
            0x3d,
            "actor: active, long timeout, distributing: {st:#}"
        );
        assert_eq!(partner & 0x3f, 0x3d, "partner (OVS) likewise: {st:#}");
    }
    let ovs_tx = |s: &str| -> Vec<u64> {
        s.lines()
            .filter_map(|l| l.trim().strip_prefix("TX PDUs: "))
            .map(|v| v.trim().parse().unwrap())
            .collect()
    };
    let ovs_before = ovs_tx(&ovs.run("ovs-appctl", &["lacp/show-stats", &bond]));
    std::thread::sleep(Duration::from_secs(6));
    let after = ask("show bonding lacp info bond0 --json");
    let ovs_after = ovs_tx(&ovs.run("ovs-appctl", &["lacp/show-stats", &bond]));
    assert_eq!(ovs_before.len(), 2, "OVS lacp/show-stats per member");
    for i in 0..2 {
        let (b, a) = (&before[i]["status"], &after[i]["status"]);
        let sent =
            a["stats"]["lacpdu_tx"].as_u64().unwrap() - b["stats"]["lacpdu_tx"].as_u64().unwrap();
        let heard =
            a["stats"]["lacpdu_rx"].as_u64().unwrap() - b["stats"]["lacpdu_rx"].as_u64().unwrap();
        let ovs_sent = ovs_after[i] - ovs_before[i];
        eprintln!(
            "slow rate, {} over 6 s: bondd sent {sent}, heard {heard}; OVS sent {ovs_sent}",
            after[i]["member"]
        );
        assert!(sent <= 1 && heard <= 1 && ovs_sent <= 1, "{a:#}");
        assert_eq!(a["actor"]["state"].as_u64().unwrap() & 0x30, 0x30, "{a:#}");
    }
    let s = ovs.run("ovs-appctl", &["lacp/show", &bond]);
    assert!(converged(&s), "OVS kept the aggregation:\n{s}");
    let b = ovs.run("ovs-appctl", &["bond/show", &bond]);
    assert!(b.contains("lacp_status: negotiated"), "{b}");
    drop(child);
}

/// bondd with net_tap members (taps reflect `carrier off`, af_packet does not) whose kernel
/// sides are OVS's bond ports: cutting one tap's carrier takes that member out of
/// distribution at the next MII tick on bondd's side and disables it on OVS's; carrier on
/// brings it back.
fn carrier_scenario() {
    let dir = TempDir::new("ovstap");
    let id = std::process::id() % 100_000;
    let taps: Vec<String> = (0..2).map(|i| format!("bdt{i}x{id}")).collect();
    let cfg = config(
        &dir,
        (
            "ot",
            "02:bd:0c:00:00:02",
            "mode=802.3ad miimon=10 lacp_rate=fast xmit_hash_policy=layer3+4",
        ),
        ("net_tap_ot", &taps),
        20,
    );
    let child = Proc::spawn(
        bondd()
            .args(["run", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let status = || std::fs::read_to_string(dir.path("run").join("bond0")).unwrap_or_default();
    let t = Instant::now();
    while !(status().contains("Slave Interface: eth1")
        && Command::new("ip")
            .args(["link", "show", &taps[1]])
            .output()
            .unwrap()
            .status
            .success())
    {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "bondd's taps never appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ovs_dir = dir.path("ovs");
    std::fs::create_dir_all(&ovs_dir).unwrap();
    let ovs = Ovs::start(&ovs_dir);
    let (br, bond) = (format!("bdbt{id}"), format!("bdot{id}"));
    ovs.add_lacp_bond(&br, &bond, &taps, "fast");
    let t = Instant::now();
    while !(member_distributing(&status(), "eth0") && member_distributing(&status(), "eth1")) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no aggregate over the taps:\n{}",
            status()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Carrier off on eth0's tap: bondd's MII monitor (10 ms) takes it out of distribution.
    let cut = Instant::now();
    sh(&["ip", "link", "set", &taps[0], "carrier", "off"]);
    while member_distributing(&status(), "eth0") {
        assert!(
            cut.elapsed() < Duration::from_secs(2),
            "eth0 still distributing:\n{}",
            status()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    eprintln!(
        "carrier loss to removal from distribution: {:?}",
        cut.elapsed()
    );
    assert!(status().contains("Link Failure Count: 1"), "{}", status());
    let s = ovs.run("ovs-appctl", &["bond/show", &bond]);
    assert!(
        s.contains(&format!("member {}: disabled", taps[0])),
        "OVS disabled the member too:\n{s}"
    );
    // Carrier on: back to collecting+distributing on both sides.
    sh(&["ip", "link", "set", &taps[0], "carrier", "on"]);
    let t = Instant::now();
    while !member_distributing(&status(), "eth0") {
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "eth0 never came back:\n{}",
            status()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("carrier back to distributing again: {:?}", t.elapsed());
    drop(ovs);
    drop(child);
}

fn active_scenario() {
    let Rig {
        child,
        dir,
        ovs,
        bond,
        theirs,
    } = rig(
        "mode=802.3ad miimon=10 lacp_rate=fast xmit_hash_policy=layer3+4",
        "fast",
        14,
    );

    // OVS sees bondd as its partner, collecting and distributing on both members.
    let t = Instant::now();
    let lacp = loop {
        let s = ovs.run("ovs-appctl", &["lacp/show", &bond]);
        let ok = s.matches("partner sys_id: 02:bd:0c:00:00:01").count() >= 2
            && s.matches("current attached").count() >= 2
            && s.lines()
                .filter(|l| {
                    l.contains("partner state: activity")
                        && l.ends_with("aggregation synchronized collecting distributing")
                })
                .count()
                >= 2;
        if ok {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "OVS never saw bondd distributing:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "converged: OVS saw bondd collecting+distributing on both links {:?} after bondd started",
        t.elapsed()
    );
    let bond_show = ovs.run("ovs-appctl", &["bond/show", &bond]);
    assert!(
        bond_show.contains("lacp_status: negotiated"),
        "{bond_show}\n{lacp}"
    );

    // bondd sees OVS as the partner of an aggregator of both members.
    let st = std::fs::read_to_string(dir.path("run").join("bond0")).unwrap();
    assert!(st.contains("Number of ports: 2"), "{st}");
    let ovs_id = lacp
        .lines()
        .find_map(|l| l.trim().strip_prefix("sys_id: "))
        .map(str::to_owned);
    if let Some(id) = ovs_id {
        assert!(
            st.contains(&format!("Partner Mac Address: {id}")),
            "partner is OVS ({id}):\n{st}"
        );
    }

    // A partner that stops speaking expires (3 s at the fast rate): bring OVS's end of one
    // link down, so it falls silent without a farewell LACPDU (removing the port from the
    // bond would send one, and bondd would act at once). Our end's af_packet port reports a
    // static link, so only LACP's timeout can notice.
    let t_cut = Instant::now();
    sh(&["ip", "link", "set", &theirs[1], "down"]);
    let status = || std::fs::read_to_string(dir.path("run").join("bond0")).unwrap_or_default();
    // eth1's actor state loses Distributing when its receive machine expires; the port stays
    // attached until it is defaulted, as in Linux, so the aggregator's port count is not the
    // signal.
    let eth1_distributing = |st: &str| member_distributing(st, "eth1");
    assert!(
        eth1_distributing(&status()),
        "eth1 distributing before the cut:\n{}",
        status()
    );
    while eth1_distributing(&status()) {
        assert!(
            t_cut.elapsed() < Duration::from_millis(4500),
            "the silent link was not removed within 3 s + margin:\n{}",
            status()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let expired_after = t_cut.elapsed();
    assert!(
        expired_after >= Duration::from_millis(2000),
        "removed after {expired_after:?}: too early for a 3 s timeout"
    );
    eprintln!("silent partner expired after {expired_after:?}");

    let out = child.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let r: serde_json::Value =
        serde_json::from_str(stdout.lines().rev().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert_eq!(r["mbufs_in_use_after_shutdown"], 0);
    // Frames before convergence have no distributing member (dropped and counted); while the
    // aggregate was up, both members carried traffic.
    for m in r["bonds"][0]["members"].as_array().unwrap() {
        assert!(
            m[1].as_u64().unwrap() > 1000,
            "member {} carried traffic: {r}",
            m[0]
        );
    }
}

/// A passive bondd (`lacp_active=off`) against an active OVS.
fn passive_scenario() {
    let Rig {
        child,
        dir: _dir,
        ovs,
        bond,
        theirs: _,
    } = rig(
        "mode=802.3ad miimon=10 lacp_rate=fast lacp_active=off xmit_hash_policy=layer3+4",
        "fast",
        6,
    );
    // A passive actor answers an active partner: the aggregate still forms.
    let t = Instant::now();
    loop {
        let s = ovs.run("ovs-appctl", &["lacp/show", &bond]);
        let partner_up = s
            .lines()
            .filter(|l| {
                l.contains("partner state:") && l.ends_with("synchronized collecting distributing")
            })
            .count();
        if partner_up >= 2 {
            assert!(
                s.lines()
                    .filter(|l| l.contains("partner state:"))
                    .all(|l| !l.contains("activity")),
                "bondd is passive (no activity bit):\n{s}"
            );
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "no aggregate with a passive bondd:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(child);
}
