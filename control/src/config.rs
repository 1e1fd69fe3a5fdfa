//! The appliance's TOML configuration, and the checks that refuse a bad one before any port
//! is touched. Every error names the file, the key and what is wrong with it.

use dataplane::fwd::FwdMode;
use serde::Deserialize;
use std::collections::HashMap;
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
    #[serde(default, rename = "forward")]
    pub forwards: Vec<ForwardSpec>,
    #[serde(default)]
    pub run: RunConfig,
    /// Where the config came from (for messages).
    #[serde(skip)]
    pub source: PathBuf,
}

/// A validated config with the derived values filled in.
#[derive(Debug, Clone)]
pub struct Checked {
    pub config: Config,
    pub control_core: usize,
    pub worker_cores: Vec<usize>,
    /// Index into `config.ports` for each port name.
    pub port_index: HashMap<String, usize>,
    /// Parsed MACs, per port.
    pub port_macs: Vec<Option<[u8; 6]>>,
    /// Directed (from, to) port index pairs.
    pub paths: Vec<(usize, usize)>,
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
        if self.ports.is_empty() {
            return Err(self.invalid("port", "no [[port]] is configured"));
        }
        let mut port_index = HashMap::new();
        let mut devices: HashMap<String, usize> = HashMap::new();
        let mut port_macs = Vec::with_capacity(self.ports.len());
        for (i, p) in self.ports.iter().enumerate() {
            let key = format!("port[{i}]");
            if p.name.is_empty()
                || !p
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(self.invalid(
                    format!("{key}.name"),
                    format!(
                        "{:?} is not a valid name (letters, digits, '-', '_', '.')",
                        p.name
                    ),
                ));
            }
            if let Some(j) = port_index.insert(p.name.clone(), i) {
                return Err(self.invalid(
                    format!("{key}.name"),
                    format!("port name {:?} is already used by port[{j}]", p.name),
                ));
            }
            let dev = dataplane::port::device_name(&p.device).to_owned();
            if dev.is_empty() {
                return Err(self.invalid(format!("{key}.device"), "empty device string"));
            }
            if let Some(j) = devices.insert(dev.clone(), i) {
                return Err(self.invalid(
                    format!("{key}.device"),
                    format!(
                        "device {dev:?} is already used by port[{j}] ({:?})",
                        self.ports[j].name
                    ),
                ));
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
            port_macs.push(mac);
        }
        let mut paths = Vec::new();
        for (i, f) in self.forwards.iter().enumerate() {
            let find = |what: &str, name: &str| {
                port_index.get(name).copied().ok_or_else(|| {
                    self.invalid(
                        format!("forward[{i}].{what}"),
                        format!("no port is named {name:?}"),
                    )
                })
            };
            let a = find("from", &f.from)?;
            let b = find("to", &f.to)?;
            if a == b {
                return Err(self.invalid(
                    format!("forward[{i}]"),
                    format!("forwards port {:?} to itself", f.from),
                ));
            }
            let mut add = |x: usize, y: usize| -> Result<(), ConfigError> {
                if paths.iter().any(|&(p, _)| p == x) {
                    return Err(self.invalid(
                        format!("forward[{i}]"),
                        format!(
                            "port {:?} already forwards somewhere; each port has one destination",
                            self.ports[x].name
                        ),
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
        Ok(Checked {
            control_core: control,
            worker_cores: workers,
            port_index,
            port_macs,
            paths,
            config: self,
        })
    }
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
        assert_eq!(c.paths, vec![(0, 1), (1, 0)]);
        assert_eq!(c.port_macs[1], Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(c.config.run.forward_mode, FwdMode::Mac);
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
            ("", "port", "no [[port]]"),
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
                "no port is named \"q\"",
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
