//! The appliance's TOML configuration, and the checks that refuse a bad one before any port
//! is touched. Every error names the file, the key and what is wrong with it.

use crate::options::{BondOptions, Mode};
use dataplane::fwd::FwdMode;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// A refused configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: cannot read it: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config {path}: {key}: {why}")]
    Invalid {
        path: String,
        key: String,
        why: String,
    },
}

/// How EAL gets its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemoryMode {
    /// Hugepages when enough are free, otherwise 4 KiB pages.
    #[default]
    Auto,
    /// 2 MiB hugepages (`--in-memory`); fails when none are reserved.
    Hugepages,
    /// Ordinary pages (`--no-huge`); about 40 % slower.
    NoHuge,
}

/// `[eal]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EalConfig {
    /// Extra EAL arguments, passed as they are (they win over what bondd would add).
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub memory: MemoryMode,
    /// Memory for EAL in MiB.
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u32,
}

fn default_memory_mb() -> u32 {
    1024
}

impl Default for EalConfig {
    fn default() -> Self {
        EalConfig {
            args: Vec::new(),
            memory: MemoryMode::Auto,
            memory_mb: default_memory_mb(),
        }
    }
}

/// `[cores]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoresConfig {
    /// The CPU of the control thread (and of EAL's main lcore). Default 0.
    pub control: Option<usize>,
    /// One worker per CPU listed. Default: the first CPU other than the control one.
    pub workers: Option<Vec<usize>>,
}

/// `[[port]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    /// The name used everywhere else in the config, in logs and in status.
    pub name: String,
    /// DPDK device string: a PCI address or a vdev with its arguments.
    pub device: String,
    #[serde(default = "default_desc")]
    pub rx_desc: u16,
    #[serde(default = "default_desc")]
    pub tx_desc: u16,
    /// MAC address to set on the port.
    pub mac: Option<String>,
    /// Receive every frame whatever its destination MAC (on by default: an appliance
    /// forwards frames that are not addressed to it).
    #[serde(default = "yes")]
    pub promiscuous: bool,
}

fn default_desc() -> u16 {
    1024
}

/// `[[forward]]`: traffic from one port to another.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardSpec {
    pub from: String,
    pub to: String,
    /// Also forward `to` → `from`. Default true (testpmd pairs ports both ways).
    #[serde(default = "yes")]
    pub bidirectional: bool,
}

fn yes() -> bool {
    true
}

/// `[run]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// `io` or `mac`, as testpmd's forwarding engines.
    #[serde(default, deserialize_with = "de_fwd_mode")]
    pub forward_mode: FwdMode,
    /// Print per-port rates every this many ms (0: never).
    #[serde(default = "default_stats_period")]
    pub stats_period_ms: u64,
    /// Stop after this many seconds (0: run until SIGINT/SIGTERM).
    #[serde(default)]
    pub duration_s: f64,
    /// Mbufs in the pool (0: computed from ports and queues).
    #[serde(default)]
    pub mbufs: u32,
    /// Extra transmit attempts before a refused frame is dropped and counted.
    #[serde(default = "default_retries")]
    pub tx_retries: u32,
    /// Where each bond's status file (`/proc/net/bonding` layout) is written.
    #[serde(default = "default_run_dir")]
    pub run_dir: PathBuf,
    /// The control socket (`bondd ctl`, `bondd shell`); default `<run_dir>/bondd.sock`.
    #[serde(default)]
    pub socket: Option<PathBuf>,
    /// Link changes to make at given times (demos, tests, failover drills).
    #[serde(default, rename = "event")]
    pub events: Vec<ScheduledEvent>,
}

fn default_run_dir() -> PathBuf {
    PathBuf::from("/run/bondd")
}

/// `[[run.event]]`: force a port's link at a given time after start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledEvent {
    /// Seconds after the appliance started.
    pub at_s: f64,
    pub action: LinkAction,
    /// A port or bond member name.
    pub port: String,
}

/// What a scheduled event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkAction {
    LinkDown,
    LinkUp,
}

fn default_stats_period() -> u64 {
    1000
}
fn default_retries() -> u32 {
    4
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            forward_mode: FwdMode::Io,
            stats_period_ms: default_stats_period(),
            duration_s: 0.0,
            mbufs: 0,
            tx_retries: default_retries(),
            run_dir: default_run_dir(),
            socket: None,
            events: Vec::new(),
        }
    }
}

fn de_fwd_mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FwdMode, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub eal: EalConfig,
    #[serde(default)]
    pub cores: CoresConfig,
    #[serde(default, rename = "port")]
    pub ports: Vec<PortSpec>,
    /// `[[bond]]` tables, parsed by [`Config::check`] (their keys are Linux option names).
    #[serde(default, rename = "bond")]
    pub bonds: Vec<toml::Table>,
    #[serde(default, rename = "forward")]
    pub forwards: Vec<ForwardSpec>,
    #[serde(default)]
    pub run: RunConfig,
    /// Where the config came from (for messages).
    #[serde(skip)]
    pub source: PathBuf,
}

/// An interface that traffic can enter or leave by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Iface {
    /// Index into [`Checked::ports`] (never a bond member).
    Port(usize),
    /// Index into [`Checked::bonds`].
    Bond(usize),
}

/// A DPDK port to bring up: a plain port or a bond member.
#[derive(Debug, Clone)]
pub struct PortEntry {
    pub name: String,
    pub device: String,
    pub rx_desc: u16,
    pub tx_desc: u16,
    pub mac: Option<[u8; 6]>,
    pub promiscuous: bool,
    /// The bond it belongs to, for members.
    pub bond: Option<usize>,
}

/// A checked `[[bond]]`.
#[derive(Debug, Clone)]
pub struct BondSpec {
    pub name: String,
    /// Finalized and validated options.
    pub options: BondOptions,
    /// Indices into [`Checked::ports`], in member order.
    pub members: Vec<usize>,
    pub mac: Option<[u8; 6]>,
    pub ipv4: Vec<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
    /// The bond's MAC is a random one until its first member gives it its own (a bond created
    /// at run time, as Linux does; never for a bond of the config).
    pub random_mac: bool,
}

/// A validated config with the derived values filled in.
#[derive(Debug, Clone)]
pub struct Checked {
    pub config: Config,
    pub control_core: usize,
    pub worker_cores: Vec<usize>,
    /// Every DPDK port: the `[[port]]`s in order, then each bond's members.
    pub ports: Vec<PortEntry>,
    pub bonds: Vec<BondSpec>,
    /// Directed (from, to) pairs.
    pub paths: Vec<(Iface, Iface)>,
    /// Scheduled link events: (seconds, action, index into `ports`).
    pub events: Vec<(f64, LinkAction, usize)>,
    /// What the option checks warned about, each naming its bond and option.
    pub warnings: Vec<String>,
}

impl Checked {
    /// The name of an interface.
    pub fn iface_name(&self, i: Iface) -> &str {
        match i {
            Iface::Port(p) => &self.ports[p].name,
            Iface::Bond(b) => &self.bonds[b].name,
        }
    }
}

impl Config {
    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let mut c: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.display().to_string(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })?;
        c.source = origin.to_owned();
        Ok(c)
    }

    fn invalid(&self, key: impl Into<String>, why: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.source.display().to_string(),
            key: key.into(),
            why: why.into(),
        }
    }

    /// Checks everything that can be checked without touching DPDK, against the CPUs in
    /// `usable_cores`.
    pub fn check(self, usable_cores: &[usize]) -> Result<Checked, ConfigError> {
        let control = self.cores.control.unwrap_or(0);
        if !usable_cores.contains(&control) {
            return Err(self.invalid(
                "cores.control",
                format!(
                    "core {control} does not exist or is not allowed (usable: {usable_cores:?})"
                ),
            ));
        }
        let workers = match &self.cores.workers {
            Some(w) => w.clone(),
            None => vec![
                usable_cores
                    .iter()
                    .copied()
                    .find(|&c| c != control)
                    .unwrap_or(control),
            ],
        };
        if workers.is_empty() {
            return Err(self.invalid("cores.workers", "at least one worker core is needed"));
        }
        for (i, &w) in workers.iter().enumerate() {
            if !usable_cores.contains(&w) {
                return Err(self.invalid(
                    format!("cores.workers[{i}]"),
                    format!("core {w} does not exist or is not allowed (usable: {usable_cores:?})"),
                ));
            }
            if workers[..i].contains(&w) {
                return Err(self.invalid(
                    format!("cores.workers[{i}]"),
                    format!("core {w} is listed twice"),
                ));
            }
        }
        if self.eal.memory_mb < 64 {
            return Err(self.invalid("eal.memory_mb", "at least 64 MiB are needed"));
        }
        if !self.run.duration_s.is_finite() || self.run.duration_s < 0.0 {
            return Err(self.invalid("run.duration_s", "must be a non-negative number of seconds"));
        }
        if self.ports.is_empty() && self.bonds.is_empty() {
            return Err(self.invalid("port", "no [[port]] or [[bond]] is configured"));
        }
        // Every name (ports, bonds, members) lives in one namespace.
        let mut names: HashMap<String, String> = HashMap::new();
        let mut claim = |name: &str, key: &str| -> Result<(), ConfigError> {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(self.invalid(
                    format!("{key}.name"),
                    format!("{name:?} is not a valid name (letters, digits, '-', '_', '.')"),
                ));
            }
            if let Some(prev) = names.insert(name.to_owned(), key.to_owned()) {
                return Err(self.invalid(
                    format!("{key}.name"),
                    format!("name {name:?} is already used by {prev}"),
                ));
            }
            Ok(())
        };
        let mut ports: Vec<PortEntry> = Vec::new();
        let mut port_keys: Vec<String> = Vec::new();
        for (i, p) in self.ports.iter().enumerate() {
            let key = format!("port[{i}]");
            claim(&p.name, &key)?;
            ports.push(self.port_entry(p, &key, None)?);
            port_keys.push(key);
        }
        let mut bonds: Vec<BondSpec> = Vec::new();
        let mut warnings = Vec::new();
        for (b, table) in self.bonds.iter().enumerate() {
            let key = format!("bond[{b}]");
            let raw = RawBond::from_table(table).map_err(|(k, why)| {
                self.invalid(
                    if k.is_empty() {
                        key.clone()
                    } else {
                        format!("{key}.{k}")
                    },
                    why,
                )
            })?;
            claim(&raw.name, &key)?;
            if raw.members.is_empty() {
                return Err(self.invalid(
                    format!("{key}.member"),
                    "a bond needs at least one [[bond.member]]",
                ));
            }
            if raw.members.len() > dataplane::bond::MAX_MEMBERS {
                return Err(self.invalid(
                    format!("{key}.member"),
                    format!(
                        "{} members; a bond has at most {}",
                        raw.members.len(),
                        dataplane::bond::MAX_MEMBERS
                    ),
                ));
            }
            let mut members = Vec::new();
            for (m, spec) in raw.members.iter().enumerate() {
                let mkey = format!("{key}.member[{m}]");
                claim(&spec.name, &mkey)?;
                members.push(ports.len());
                ports.push(self.port_entry(spec, &mkey, Some(b))?);
                port_keys.push(mkey);
            }
            let mut opts = BondOptions::default();
            if let Some(o) = &raw.options {
                opts.apply_bonding_opts(o)
                    .map_err(|e| self.invalid(format!("{key}.options"), e.to_string()))?;
            }
            for (k, v) in &raw.linux {
                opts.set(k, v)
                    .map_err(|e| self.invalid(format!("{key}.{k}"), e.to_string()))?;
            }
            let member_names: Vec<&str> = raw.members.iter().map(|m| m.name.as_str()).collect();
            let mut warns = opts.finalize();
            warns.extend(
                opts.validate(&member_names)
                    .map_err(|e| self.invalid(format!("{key} ({})", raw.name), e.to_string()))?,
            );
            for w in warns {
                warnings.push(format!("bond {}: {}", raw.name, w.message));
            }
            if let Some((k, why)) = unsupported(&opts) {
                return Err(self.invalid(format!("{key}.{k}"), why));
            }
            bonds.push(BondSpec {
                name: raw.name,
                options: opts,
                members,
                mac: raw.mac,
                ipv4: raw.ipv4,
                ipv6: raw.ipv6,
                random_mac: false,
            });
        }
        let mut devices: HashMap<String, usize> = HashMap::new();
        for (i, p) in ports.iter().enumerate() {
            let dev = dataplane::port::device_name(&p.device).to_owned();
            if let Some(j) = devices.insert(dev.clone(), i) {
                return Err(self.invalid(
                    format!("{}.device", port_keys[i]),
                    format!(
                        "device {dev:?} is already used by {} ({:?})",
                        port_keys[j], ports[j].name
                    ),
                ));
            }
        }
        let find = |name: &str, key: String| -> Result<Iface, ConfigError> {
            if let Some(i) = ports.iter().position(|p| p.name == name) {
                if let Some(b) = ports[i].bond {
                    return Err(self.invalid(
                        key,
                        format!(
                            "{name:?} is a member of bond {:?}; forward to or from the bond",
                            bonds[b].name
                        ),
                    ));
                }
                return Ok(Iface::Port(i));
            }
            if let Some(b) = bonds.iter().position(|b| b.name == name) {
                return Ok(Iface::Bond(b));
            }
            Err(self.invalid(key, format!("no port or bond is named {name:?}")))
        };
        let mut paths: Vec<(Iface, Iface)> = Vec::new();
        for (i, f) in self.forwards.iter().enumerate() {
            let a = find(&f.from, format!("forward[{i}].from"))?;
            let b = find(&f.to, format!("forward[{i}].to"))?;
            if a == b {
                return Err(self.invalid(
                    format!("forward[{i}]"),
                    format!("forwards {:?} to itself", f.from),
                ));
            }
            let mut add = |x: Iface, y: Iface| -> Result<(), ConfigError> {
                if paths.iter().any(|&(p, _)| p == x) {
                    return Err(self.invalid(
                        format!("forward[{i}]"),
                        "an interface already forwards somewhere; each has one destination",
                    ));
                }
                paths.push((x, y));
                Ok(())
            };
            add(a, b)?;
            if f.bidirectional {
                add(b, a)?;
            }
        }
        let mut events = Vec::new();
        for (i, e) in self.run.events.iter().enumerate() {
            if !e.at_s.is_finite() || e.at_s < 0.0 {
                return Err(self.invalid(
                    format!("run.event[{i}].at_s"),
                    "must be a non-negative number of seconds",
                ));
            }
            let p = ports.iter().position(|p| p.name == e.port).ok_or_else(|| {
                self.invalid(
                    format!("run.event[{i}].port"),
                    format!("no port or bond member is named {:?}", e.port),
                )
            })?;
            events.push((e.at_s, e.action, p));
        }
        Ok(Checked {
            control_core: control,
            worker_cores: workers,
            ports,
            bonds,
            paths,
            events,
            warnings,
            config: self,
        })
    }

    fn port_entry(
        &self,
        p: &PortSpec,
        key: &str,
        bond: Option<usize>,
    ) -> Result<PortEntry, ConfigError> {
        if dataplane::port::device_name(&p.device).is_empty() {
            return Err(self.invalid(format!("{key}.device"), "empty device string"));
        }
        for (what, n) in [("rx_desc", p.rx_desc), ("tx_desc", p.tx_desc)] {
            if !(32..=32768).contains(&n) {
                return Err(self.invalid(
                    format!("{key}.{what}"),
                    format!("{n} descriptors is out of range 32..=32768"),
                ));
            }
        }
        let mac = match &p.mac {
            None => None,
            Some(s) => Some(parse_mac(s).ok_or_else(|| {
                self.invalid(
                    format!("{key}.mac"),
                    format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"),
                )
            })?),
        };
        Ok(PortEntry {
            name: p.name.clone(),
            device: p.device.clone(),
            rx_desc: p.rx_desc,
            tx_desc: p.tx_desc,
            mac,
            promiscuous: p.promiscuous,
            bond,
        })
    }
}

/// A `[[bond]]` table split into bondd's keys and Linux option keys.
struct RawBond {
    name: String,
    members: Vec<PortSpec>,
    options: Option<String>,
    mac: Option<[u8; 6]>,
    ipv4: Vec<Ipv4Addr>,
    ipv6: Vec<Ipv6Addr>,
    /// Linux options given as keys, with their values as Linux would read them.
    linux: Vec<(String, String)>,
}

impl RawBond {
    /// Errors are (key within the bond table, reason).
    fn from_table(t: &toml::Table) -> Result<RawBond, (String, String)> {
        let err = |k: &str, why: String| (k.to_owned(), why);
        let string = |k: &str| -> Result<Option<String>, (String, String)> {
            match t.get(k) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(v) => Err(err(k, format!("expected a string, found {}", v.type_str()))),
            }
        };
        let strings = |k: &str| -> Result<Vec<String>, (String, String)> {
            match t.get(k) {
                None => Ok(Vec::new()),
                Some(toml::Value::String(s)) => Ok(vec![s.clone()]),
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_owned).ok_or_else(|| {
                            err(k, format!("expected strings, found {}", v.type_str()))
                        })
                    })
                    .collect(),
                Some(v) => Err(err(
                    k,
                    format!("expected a string or an array, found {}", v.type_str()),
                )),
            }
        };
        let name = string("name")?
            .ok_or_else(|| err("name", "missing: every bond needs a name".into()))?;
        let members = match t.get("member") {
            None => Vec::new(),
            Some(v) => v
                .clone()
                .try_into::<Vec<PortSpec>>()
                .map_err(|e| err("member", e.to_string().trim().to_owned()))?,
        };
        let mac = match string("mac")? {
            None => None,
            Some(s) => Some(parse_mac(&s).ok_or_else(|| {
                err(
                    "mac",
                    format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"),
                )
            })?),
        };
        let strip = |s: &str| s.split('/').next().unwrap_or("").to_owned();
        let ipv4 = strings("ipaddr")?
            .iter()
            .map(|s| {
                strip(s)
                    .parse::<Ipv4Addr>()
                    .map_err(|_| err("ipaddr", format!("{s:?} is not an IPv4 address")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ipv6 = strings("ip6addr")?
            .iter()
            .map(|s| {
                strip(s)
                    .parse::<Ipv6Addr>()
                    .map_err(|_| err("ip6addr", format!("{s:?} is not an IPv6 address")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut linux = Vec::new();
        for (k, v) in t {
            if matches!(
                k.as_str(),
                "name" | "member" | "options" | "mac" | "ipaddr" | "ip6addr"
            ) {
                continue;
            }
            let text = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Boolean(b) => if *b { "1" } else { "0" }.to_owned(),
                toml::Value::Array(a) => a
                    .iter()
                    .map(|x| match x {
                        toml::Value::String(s) => Ok(s.clone()),
                        other => Err(err(
                            k,
                            format!("expected strings, found {}", other.type_str()),
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
                other => {
                    return Err(err(
                        k,
                        format!("unsupported value type {}", other.type_str()),
                    ));
                }
            };
            linux.push((k.clone(), text));
        }
        Ok(RawBond {
            name,
            members,
            options: string("options")?,
            mac,
            ipv4,
            ipv6,
            linux,
        })
    }
}

/// What bondd cannot do yet with these options: (option, why), or None.
pub fn unsupported(opts: &BondOptions) -> Option<(&'static str, String)> {
    match opts.mode {
        Mode::BalanceRr
        | Mode::ActiveBackup
        | Mode::BalanceXor
        | Mode::Broadcast
        | Mode::Ieee8023ad => {}
        m => {
            return Some((
                "mode",
                format!(
                    "mode {m} ({}) is not implemented yet; balance-rr, active-backup, \
                     balance-xor and broadcast work today",
                    m.value()
                ),
            ));
        }
    }
    if opts.arp_interval > 0 {
        return Some((
            "arp_interval",
            "the ARP monitor is not implemented yet; use miimon".to_owned(),
        ));
    }
    None
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with dashes); see
/// [`dataplane::wire::MacAddr::parse_loose`].
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    dataplane::wire::MacAddr::parse_loose(s).map(<[u8; 6]>::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Checked, String> {
        Config::parse(text, Path::new("t.toml"))
            .and_then(|c| c.check(&[0, 1]))
            .map_err(|e| e.to_string())
    }

    const GOOD: &str = r#"
        [cores]
        control = 0
        workers = [1]
        [[port]]
        name = "lan0"
        device = "net_null0"
        [[port]]
        name = "wan0"
        device = "net_null1,size=64"
        mac = "02:00:00:00:00:01"
        [[forward]]
        from = "lan0"
        to = "wan0"
        [run]
        forward_mode = "mac"
    "#;

    #[test]
    fn a_good_config_is_accepted() {
        let c = check(GOOD).unwrap();
        assert_eq!(c.worker_cores, vec![1]);
        assert_eq!(
            c.paths,
            vec![
                (Iface::Port(0), Iface::Port(1)),
                (Iface::Port(1), Iface::Port(0))
            ]
        );
        assert_eq!(c.ports[1].mac, Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(c.config.run.forward_mode, FwdMode::Mac);
    }

    const M2: &str = "[[bond.member]]\nname=\"eth0\"\ndevice=\"d0\"\n[[bond.member]]\nname=\"eth1\"\ndevice=\"d1\"\n";
    const BOND_MODE4: &str = "[[bond]]\nname=\"bond0\"\nmode=\"balance-tlb\"\n[[bond.member]]\nname=\"eth0\"\ndevice=\"d0\"\n";
    const BOND_BAD_MIIMON: &str =
        "[[bond]]\nname=\"bond0\"\nmiimon=-5\n[[bond.member]]\nname=\"eth0\"\ndevice=\"d0\"\n";
    const BOND_BAD_OPT: &str = "[[bond]]\nname=\"bond0\"\noptions=\"miimonn=5\"\n[[bond.member]]\nname=\"eth0\"\ndevice=\"d0\"\n";
    const BOND_PRIMARY: &str = "[[bond]]\nname=\"bond0\"\noptions=\"mode=1 primary=eth9\"\n[[bond.member]]\nname=\"eth0\"\ndevice=\"d0\"\n";
    const BOND_NO_MEMBER: &str = "[[bond]]\nname=\"bond0\"\n";
    const BOND_DUP_MEMBER: &str = "[[bond]]\nname=\"bond0\"\n[[bond.member]]\nname=\"eth0\"\ndevice=\"d0\"\n[[bond.member]]\nname=\"eth0\"\ndevice=\"d1\"\n";
    const BOND_FWD_MEMBER: &str = "[[port]]\nname=\"lan\"\ndevice=\"x\"\n[[forward]]\nfrom=\"lan\"\nto=\"eth0\"\n[[bond]]\nname=\"bond0\"\n[[bond.member]]\nname=\"eth0\"\ndevice=\"d0\"\n";
    const BOND_ARP: &str = "[[bond]]\nname=\"bond0\"\nmode=1\nmiimon=0\narp_interval=100\narp_ip_target=[\"10.0.0.1\"]\n[[bond.member]]\nname=\"eth0\"\ndevice=\"d0\"\n";
    const BOND_EVENT: &str = "[run]\n[[run.event]]\nat_s=1\naction=\"link-down\"\nport=\"nope\"\n[[port]]\nname=\"a\"\ndevice=\"x\"\n";

    #[test]
    fn bonds_with_options_as_keys_and_as_a_string() {
        let text = format!(
            "[[port]]\nname=\"lan\"\ndevice=\"x\"\n[[bond]]\nname=\"bond0\"\noptions=\"mode=active-backup primary=eth1\"\nmiimon=10\nupdelay=25\nipaddr=[\"10.1.0.1/24\"]\n{M2}[[forward]]\nfrom=\"lan\"\nto=\"bond0\"\n"
        );
        let c = check(&text).unwrap();
        assert_eq!(c.ports.len(), 3, "members join the port table");
        assert_eq!(c.ports[2].bond, Some(0));
        let b = &c.bonds[0];
        assert_eq!(b.members, vec![1, 2]);
        assert_eq!(b.options.mode, Mode::ActiveBackup);
        assert_eq!(b.options.miimon, 10);
        assert_eq!(b.options.primary.as_deref(), Some("eth1"));
        assert_eq!(
            b.options.updelay, 20,
            "rounded down to a multiple of miimon"
        );
        assert!(
            c.warnings.iter().any(|w| w.contains("updelay")),
            "{:?}",
            c.warnings
        );
        assert_eq!(b.ipv4, vec![Ipv4Addr::new(10, 1, 0, 1)]);
        assert_eq!(
            c.paths,
            vec![
                (Iface::Port(0), Iface::Bond(0)),
                (Iface::Bond(0), Iface::Port(0))
            ]
        );
        // Defaults follow today's Linux: miimon 100 when no monitor is configured.
        let c = check(&format!("[[bond]]\nname=\"b\"\nmode=2\n{M2}")).unwrap();
        assert_eq!(c.bonds[0].options.miimon, 100);
        // An explicit miimon=0 with no ARP monitor is accepted with a loud warning.
        let c = check(&format!("[[bond]]\nname=\"b\"\nmiimon=0\n{M2}")).unwrap();
        assert!(
            c.warnings.iter().any(|w| w.contains("never")),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn each_refusal_names_the_key() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "[[port]]\nname=\"a\"\ndevice=\"x\"\nbogus=1",
                "t.toml",
                "bogus",
            ),
            ("[[port]]\nname=\"a\"\n", "t.toml", "device"),
            ("not toml at all [", "t.toml", "TOML"),
            (
                "[cores]\ncontrol=7\n[[port]]\nname=\"a\"\ndevice=\"x\"",
                "cores.control",
                "core 7",
            ),
            (
                "[cores]\nworkers=[1,9]\n[[port]]\nname=\"a\"\ndevice=\"x\"",
                "cores.workers[1]",
                "core 9",
            ),
            (
                "[cores]\nworkers=[]\n[[port]]\nname=\"a\"\ndevice=\"x\"",
                "cores.workers",
                "at least one",
            ),
            (
                "[cores]\nworkers=[1,1]\n[[port]]\nname=\"a\"\ndevice=\"x\"",
                "cores.workers[1]",
                "twice",
            ),
            ("", "port", "no [[port]] or [[bond]]"),
            (
                "[[port]]\nname=\"a\"\ndevice=\"x\"\n[[port]]\nname=\"a\"\ndevice=\"y\"",
                "port[1].name",
                "already used",
            ),
            (
                "[[port]]\nname=\"a\"\ndevice=\"x,k=1\"\n[[port]]\nname=\"b\"\ndevice=\"x\"",
                "port[1].device",
                "already used",
            ),
            (
                "[[port]]\nname=\"a b\"\ndevice=\"x\"",
                "port[0].name",
                "not a valid name",
            ),
            (
                "[[port]]\nname=\"a\"\ndevice=\"x\"\nmac=\"zz\"",
                "port[0].mac",
                "not a MAC",
            ),
            (
                "[[port]]\nname=\"a\"\ndevice=\"x\"\nrx_desc=8",
                "port[0].rx_desc",
                "out of range",
            ),
            (
                "[[port]]\nname=\"a\"\ndevice=\"x\"\n[[forward]]\nfrom=\"a\"\nto=\"q\"",
                "forward[0].to",
                "no port or bond is named \"q\"",
            ),
            (
                "[[port]]\nname=\"a\"\ndevice=\"x\"\n[[forward]]\nfrom=\"a\"\nto=\"a\"",
                "forward[0]",
                "itself",
            ),
            (
                "[run]\nforward_mode=\"fast\"\n[[port]]\nname=\"a\"\ndevice=\"x\"",
                "t.toml",
                "unknown forwarding mode",
            ),
            (
                "[run]\nduration_s=-1\n[[port]]\nname=\"a\"\ndevice=\"x\"",
                "run.duration_s",
                "non-negative",
            ),
            (BOND_MODE4, "bond[0].mode", "not implemented yet"),
            (BOND_BAD_MIIMON, "bond[0].miimon", "out of range"),
            (BOND_BAD_OPT, "bond[0].options", "unknown option 'miimonn'"),
            (BOND_PRIMARY, "bond[0]", "'eth9' is not a member"),
            (BOND_NO_MEMBER, "bond[0].member", "at least one"),
            (
                BOND_DUP_MEMBER,
                "bond[0].member[1].name",
                "already used by bond[0].member[0]",
            ),
            (BOND_FWD_MEMBER, "forward[0].to", "member of bond"),
            (
                BOND_ARP,
                "bond[0].arp_interval",
                "ARP monitor is not implemented yet",
            ),
            (BOND_EVENT, "run.event[0].port", "no port or bond member"),
        ];
        for (text, key, why) in cases {
            let e = check(text).expect_err(text);
            assert!(e.starts_with("config t.toml"), "{e}");
            assert!(
                e.contains(key),
                "error for {text:?} should name {key:?}: {e}"
            );
            assert!(
                e.contains(why),
                "error for {text:?} should say {why:?}: {e}"
            );
        }
    }

    #[test]
    fn missing_file_is_named() {
        let e = Config::load(Path::new("/nonexistent/bondd.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent/bondd.toml") && e.contains("cannot read"),
            "{e}"
        );
    }

    #[test]
    fn mac_parsing() {
        assert_eq!(
            parse_mac("02:00:0a:0B:ff:10"),
            Some([2, 0, 10, 11, 255, 16])
        );
        assert_eq!(
            parse_mac("02-00-0a-0b-ff-10"),
            Some([2, 0, 10, 11, 255, 16])
        );
        assert_eq!(parse_mac("02:00:0a:0b:ff"), None);
        assert_eq!(parse_mac("002:00:0a:0b:ff:1"), None);
    }
}
