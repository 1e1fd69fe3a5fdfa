//! Shared helpers for the binary-level tests: temp dirs, running bondd, namespaces.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// A directory unique to this test, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "bondd-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn bondd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondd"));
    c.env("BONDD_LOG", "info").env_remove("RUST_BACKTRACE");
    c
}

/// Runs a command and returns (success, stdout, stderr).
pub fn run(mut c: Command) -> (bool, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("spawning bondd");
    (
        status.success(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Runs `bondd run --config FILE --json` and returns (success, JSON report, stderr).
pub fn run_config(cfg: &Path, extra: &[&str]) -> (bool, Option<serde_json::Value>, String) {
    run_config_in(None, cfg, extra)
}

/// As [`run_config`], inside a network namespace when one is given.
pub fn run_config_in(
    ns: Option<&Netns>,
    cfg: &Path,
    extra: &[&str],
) -> (bool, Option<serde_json::Value>, String) {
    let mut c = match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_bondd")])
                .env("BONDD_LOG", "info");
            c
        }
        None => bondd(),
    };
    c.arg("run")
        .arg("--config")
        .arg(cfg)
        .arg("--json")
        .args(extra);
    let (ok, out, err) = run(c);
    let json = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok());
    (ok, json, err)
}

/// Deletes a network namespace (and with it every interface inside) on drop.
pub struct Netns(pub String);

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!("{tag}{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&["ip", "netns", "add", &name]);
        Netns(name)
    }
    pub fn exec(&self, args: &[&str]) {
        let mut v = vec!["ip", "netns", "exec", &self.0];
        v.extend_from_slice(args);
        sh(&v);
    }
}

impl Netns {
    /// A namespace with IPv6 off: the kernel would otherwise add its own frames (MLD, RS).
    pub fn without_ipv6(tag: &str) -> Netns {
        let ns = Netns::new(tag);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        ns
    }
    /// A namespace with IPv6 off and `n` veth pairs `{a}{i}` <-> `{b}{i}`, all up.
    pub fn with_veths(tag: &str, a: &str, b: &str, n: usize) -> Netns {
        let ns = Netns::without_ipv6(tag);
        for i in 0..n {
            add_veth_pair(|args| ns.exec(args), &format!("{a}{i}"), &format!("{b}{i}"));
        }
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// Adds the veth pair `a` <-> `b` and sets both ends up, running each `ip` command with `run`
/// (directly, or inside a namespace).
fn add_veth_pair(run: impl Fn(&[&str]), a: &str, b: &str) {
    run(&["ip", "link", "add", a, "type", "veth", "peer", "name", b]);
    run(&["ip", "link", "set", a, "up"]);
    run(&["ip", "link", "set", b, "up"]);
}

/// Veth pairs in the test's own namespace, `ours[i]` <-> `theirs[i]`, all up; deleted by their
/// (process-unique) names on drop.
#[derive(Default)]
pub struct VethPairs {
    pub ours: Vec<String>,
    pub theirs: Vec<String>,
}

impl VethPairs {
    /// `n` pairs, pair `i` named `names(i)`.
    pub fn new(n: usize, names: impl Fn(usize) -> (String, String)) -> VethPairs {
        let mut v = VethPairs::default();
        for i in 0..n {
            let (a, b) = names(i);
            // Recorded first, so that the pair is deleted even if a step below fails.
            v.ours.push(a.clone());
            v.theirs.push(b.clone());
            add_veth_pair(sh, &a, &b);
        }
        v
    }
}

impl Drop for VethPairs {
    fn drop(&mut self) {
        for l in &self.ours {
            let _ = Command::new("ip").args(["link", "del", l]).output();
        }
    }
}

pub fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts that each of `tools` is on the PATH.
#[track_caller]
pub fn need_tools(tools: &[&str]) {
    for tool in tools {
        assert!(
            Command::new("which")
                .arg(tool)
                .output()
                .unwrap()
                .status
                .success(),
            "{tool} is needed (scripts/setup.sh test installs it)"
        );
    }
}

/// A child process, killed by PID on drop if it is still running.
pub struct Proc(Option<Child>);

impl Proc {
    pub fn spawn(c: &mut Command) -> Proc {
        Proc(Some(c.spawn().expect("spawn")))
    }
    /// Sends `sig` to the child by its PID.
    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.0 {
            // SAFETY: kill(2) on our own child's PID.
            unsafe { libc::kill(c.id() as i32, sig) };
        }
    }
    /// Waits for the child to exit and collects its piped output.
    pub fn wait(mut self) -> Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Namespace tests need root. They fail loudly without it, unless explicitly skipped.
pub fn need_root(test: &str) -> bool {
    if std::env::var_os("BONDD_SKIP_NETNS").is_some() {
        eprintln!("{test}: skipped (BONDD_SKIP_NETNS is set)");
        return false;
    }
    // SAFETY: plain getter.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "{test} needs root (network namespaces); set BONDD_SKIP_NETNS=1 to skip it"
    );
    true
}

/// The `[[bond.member]]` sections of a test config: members `{name}0`, `{name}1`, … on the
/// DPDK devices `device(0)`, `device(1)`, ….
pub fn bond_members(name: &str, n: usize, device: impl Fn(usize) -> String) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[[bond.member]]\nname = \"{name}{i}\"\ndevice = \"{}\"\n",
                device(i)
            )
        })
        .collect()
}

/// Parses config `text`, checks it against this machine's cores and starts the appliance
/// in-process.
pub fn start_appliance(text: &str) -> control::appliance::Appliance {
    let checked = control::config::Config::parse(text, Path::new("t.toml"))
        .unwrap()
        .check(&dataplane::worker::usable_cores())
        .unwrap();
    control::appliance::Appliance::start(checked).unwrap()
}

/// Frame `i` for the tests: Ethernet/IPv4/UDP with a recognisable source MAC, size varying
/// from 60 to 1514 bytes.
pub fn test_frame(i: usize) -> Vec<u8> {
    let g = control::pcap::UdpFlows {
        flows: 1,
        frame_size: 60 + (i * 131) % 1455,
        src_mac: [0x02, 0xbd, 0xd0, 0x00, (i >> 8) as u8, i as u8],
        dst_mac: [0x02, 0xbd, 0xd0, 0xff, 0xff, 0xff],
    };
    g.frame(i as u32)
}

/// Writes a pcap of `flows` UDP flows (one frame each) as `name` in `dir`; returns its path.
pub fn flows_pcap(dir: &TempDir, name: &str, flows: u32) -> PathBuf {
    let p = dir.path(name);
    let frames = control::pcap::UdpFlows {
        flows,
        ..Default::default()
    }
    .frames();
    control::pcap::write_file(&p, frames.iter().map(|f| f.as_slice())).unwrap();
    p
}
