//! The command line of `bondd bench run|rfc2544|failover`: arguments, their checks, and the
//! output files.

use super::dut::{BondSetup, Dut, External, Placement, Sink, Source};
use super::experiment::{self, Experiment, Setup};
use super::rate::Rate;
use super::report::{Criteria, Report};
use super::traffic::{IpRange, L4, PortRange, Sizes, Traffic};
use super::trial::Cores;
use crate::options::{Mode, XmitHashPolicy};
use std::path::PathBuf;
use std::time::Duration;

/// What every experiment shares.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Devices under test, measured alternately: bondd, net_bonding, none (no bond), external
    /// (another process or box between --tx-device and --rx-device).
    #[arg(long, value_delimiter = ',', default_value = "bondd,net_bonding,none")]
    pub dut: Vec<String>,
    /// `--dut external`: the DPDK device the generator transmits on, e.g.
    /// "net_af_packet0,iface=veth0".
    #[arg(long, default_value = "")]
    pub tx_device: String,
    /// `--dut external`: a DPDK device the frames come back on (repeat for each link; shares
    /// are reported per device). May be the --tx-device itself.
    #[arg(long)]
    pub rx_device: Vec<String>,
    /// Bonding mode, by Linux name or number (0-4). 802.3ad measures two bonds facing each
    /// other (bondd against bondd, net_bonding against net_bonding), read behind the far one.
    #[arg(long, default_value = "balance-xor")]
    pub mode: String,
    /// Transmit hash policy (balance-xor, 802.3ad).
    #[arg(long, default_value = "layer3+4")]
    pub xmit_hash_policy: String,
    /// Link monitor period in ms (net_bonding: its member link polling period).
    #[arg(long, default_value_t = 10)]
    pub miimon: u32,
    #[arg(long, default_value_t = 2)]
    pub members: usize,
    /// More Linux bonding options for bondd, e.g. "updelay=20 downdelay=10".
    #[arg(long, default_value = "")]
    pub options: String,
    /// Members: "ring" (every frame read back: loss, reordering, latency) or "null" (counted
    /// by port statistics; what net_bonding needs). Default: null when net_bonding is
    /// measured, else ring. 802.3ad always reads every frame (ring).
    #[arg(long)]
    pub sink: Option<String>,
    /// Where the frames come from: "generator" (the harness's generator on its own core, at
    /// any rate, every frame read back where the sink allows) or "replay" (`run` at rate max
    /// only: a net_pcap port replaying one frame per flow, read by the device's own worker,
    /// into net_null sinks counted by port statistics; no other core in the path, so the
    /// worker's cost per frame decides, as in benches/bond_vs_netbonding.sh).
    #[arg(long, default_value = "generator")]
    pub source: String,
    /// On-wire frame size with FCS (64..), or "imix" (7×64, 4×594, 1×1518).
    #[arg(long, default_value = "64")]
    pub size: String,
    #[arg(long, value_enum, default_value = "udp")]
    pub l4: L4,
    /// Tag every frame with this 802.1Q VLAN id.
    #[arg(long)]
    pub vlan: Option<u16>,
    /// Source addresses: "10.0.0.1", "10.0.0.1-10.0.0.8" or "10.0.0.1+8" (IPv6 alike).
    #[arg(long, default_value = "10.0.0.1")]
    pub src_ip: String,
    #[arg(long, default_value = "10.255.0.1")]
    pub dst_ip: String,
    /// Source ports: "1024" or "1024-2047".
    #[arg(long, default_value = "1024-2047")]
    pub sport: String,
    #[arg(long, default_value = "5001")]
    pub dport: String,
    /// Shortcut for the number of flows: sets --sport to that many ports from 1024.
    #[arg(long)]
    pub flows: Option<u32>,
    /// IP MTU of the path (the largest frame is MTU + 18 bytes, + 4 tagged).
    #[arg(long, default_value_t = 1500)]
    pub mtu: u16,
    /// Speed of the path in Mbit/s, for percentages and the line-rate check.
    #[arg(long, default_value_t = 10_000)]
    pub link_speed: u32,
    /// Worker cores of the device under test (default: the last usable core).
    #[arg(long, value_delimiter = ',')]
    pub workers: Vec<usize>,
    /// The device's control thread core (default: the first usable core).
    #[arg(long)]
    pub control_core: Option<usize>,
    /// Generator core (default: the control core).
    #[arg(long)]
    pub gen_core: Option<usize>,
    /// Receiver core (default: the generator's; the same core runs both in one loop).
    #[arg(long)]
    pub rx_core: Option<usize>,
    /// auto, hugepages or no-huge.
    #[arg(long, default_value = "auto")]
    pub memory: String,
    /// Print the report as JSON (instead of the table).
    #[arg(long)]
    pub json: bool,
    /// Write one CSV line per trial to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write throughput.svg and latency.svg into this directory.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// No progress line.
    #[arg(long)]
    pub quiet: bool,
    /// Fail (exit 1) unless every device reaches this many Mpps.
    #[arg(long)]
    pub min_mpps: Option<f64>,
    /// Fail unless every device loses at most this percentage.
    #[arg(long)]
    pub max_loss: Option<f64>,
    /// Fail unless every device's p99 latency is at most this many µs.
    #[arg(long)]
    pub max_p99_us: Option<f64>,
    /// Fail unless every failover gap is at most this many ms.
    #[arg(long)]
    pub max_gap_ms: Option<f64>,
    /// Fail unless the first device's throughput over the second's is at least this.
    #[arg(long)]
    pub min_ratio: Option<f64>,
}

/// `bondd bench ...`
#[derive(Debug, clap::Subcommand)]
pub enum BenchCmd {
    /// A fixed-rate run (or as fast as the device takes), repeated and alternated.
    Run {
        #[command(flatten)]
        common: Common,
        /// max, 2.5Mpps, 10Gbps, 40%...
        #[arg(long, default_value = "max")]
        rate: String,
        /// Seconds per run.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
        #[arg(long, default_value_t = 1)]
        reps: u32,
    },
    /// RFC 2544 throughput: the highest rate with loss within the tolerance, by binary
    /// search, and the latency at that rate.
    Rfc2544 {
        #[command(flatten)]
        common: Common,
        /// Seconds per trial.
        #[arg(long, default_value_t = 2.0)]
        trial: f64,
        /// Loss tolerated, percent.
        #[arg(long, default_value_t = 0.0)]
        loss_tolerance: f64,
        /// Stop when the interval is within this percentage of the upper bound.
        #[arg(long, default_value_t = 1.0)]
        resolution: f64,
        #[arg(long, default_value_t = 12)]
        max_trials: u32,
    },
    /// Take a member down under load and bring it back, N times: the gap, the frames lost and
    /// reordered, for the fault and for the return.
    Failover {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value = "2Mpps")]
        rate: String,
        #[arg(long, default_value_t = 5)]
        trials: u32,
        /// Which member to take down (default: whichever carries the most traffic).
        #[arg(long)]
        member: Option<usize>,
        /// Milliseconds of traffic before the fault, and after the return.
        #[arg(long, default_value_t = 300)]
        settle_ms: u64,
        /// Milliseconds the member stays down.
        #[arg(long, default_value_t = 300)]
        down_ms: u64,
    },
}

fn setup(c: &Common) -> anyhow::Result<Setup> {
    let mode_text = &c.mode;
    let mode: Mode = mode_text
        .parse()
        .map_err(|e| anyhow::anyhow!("--mode {mode_text:?}: {e}"))?;
    let policy: XmitHashPolicy = c
        .xmit_hash_policy
        .parse()
        .map_err(|e| anyhow::anyhow!("--xmit-hash-policy {:?}: {e}", c.xmit_hash_policy))?;
    let duts = c
        .dut
        .iter()
        .map(|d| d.parse::<Dut>().map_err(|e| anyhow::anyhow!("--dut: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut seen = std::collections::HashSet::new();
    for d in &duts {
        anyhow::ensure!(seen.insert(*d), "--dut: {d} is named twice");
    }
    let source: Source = c.source.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    anyhow::ensure!(
        source == Source::Generator || c.sink.is_none(),
        "--sink: a replay always ends in net_null ports counted by their statistics"
    );
    let sizes: Sizes = c.size.parse().map_err(|e| anyhow::anyhow!("--size: {e}"))?;
    let mut sport = PortRange::parse("sport", &c.sport)?;
    if let Some(n) = c.flows {
        anyhow::ensure!(
            (1..=64_512).contains(&n),
            "--flows {n}: 1 to 64512 (for more, combine --src-ip, --dst-ip and --sport ranges)"
        );
        sport = PortRange {
            first: 1024,
            count: n,
        };
    }
    let traffic = Traffic {
        sizes,
        l4: c.l4,
        vlan: c.vlan,
        src_ip: IpRange::parse("src-ip", &c.src_ip)?,
        dst_ip: IpRange::parse("dst-ip", &c.dst_ip)?,
        sport,
        dport: PortRange::parse("dport", &c.dport)?,
        mtu: c.mtu,
        ..Traffic::default()
    };
    let usable = dataplane::worker::usable_cores();
    let control = c.control_core.unwrap_or(usable[0]);
    let workers = if c.workers.is_empty() {
        vec![*usable.last().unwrap_or(&0)]
    } else {
        c.workers.clone()
    };
    let gen_core = c.gen_core.unwrap_or(control);
    let rx = c.rx_core.unwrap_or(gen_core);
    for (what, core) in [("--gen-core", gen_core), ("--rx-core", rx)] {
        anyhow::ensure!(
            usable.contains(&core),
            "{what} {core}: not a CPU this process may use (usable: {usable:?})"
        );
    }
    Ok(Setup {
        traffic,
        bond: BondSetup {
            mode: mode.value() as u8,
            policy: policy.to_string(),
            miimon: c.miimon,
            members: c.members,
            extra: c.options.clone(),
            sink: match &c.sink {
                Some(s) => s.parse().map_err(|e: String| anyhow::anyhow!(e))?,
                None if mode == Mode::Ieee8023ad => Sink::Ring,
                None if duts.contains(&Dut::NetBonding) => Sink::Null,
                None => Sink::Ring,
            },
            source,
        },
        external: External {
            tx: c.tx_device.clone(),
            rx: c.rx_device.clone(),
        },
        place: Placement {
            control_core: control,
            workers,
            memory: c.memory.clone(),
        },
        cores: Cores {
            generator: gen_core,
            rx,
        },
        duts,
        link_mbps: c.link_speed,
        progress: !c.quiet && !c.json,
    })
}

fn secs(what: &str, s: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        s.is_finite() && s > 0.0 && s < 86_400.0,
        "--{what} {s}: seconds, more than 0"
    );
    Ok(Duration::from_secs_f64(s))
}

fn rate(s: &str) -> anyhow::Result<Rate> {
    s.parse()
        .map_err(|e: String| anyhow::anyhow!("--rate: {e}"))
}

/// Parses the command into a setup and an experiment, checking everything.
pub fn plan(cmd: &BenchCmd) -> anyhow::Result<(String, Common, Setup, Experiment)> {
    let (name, common, setup, exp) = match cmd {
        BenchCmd::Run {
            common,
            rate: r,
            duration,
            reps,
        } => (
            format!("fixed-rate run at {r}"),
            common,
            setup(common)?,
            Experiment::Run {
                rate: rate(r)?,
                duration: secs("duration", *duration)?,
                reps: *reps,
            },
        ),
        BenchCmd::Rfc2544 {
            common,
            trial,
            loss_tolerance,
            resolution,
            max_trials,
        } => (
            format!("RFC 2544 throughput search (loss tolerance {loss_tolerance} %)"),
            common,
            setup(common)?,
            Experiment::Rfc2544 {
                trial: secs("trial", *trial)?,
                tolerance_pct: *loss_tolerance,
                resolution_pct: *resolution,
                max_trials: *max_trials,
            },
        ),
        BenchCmd::Failover {
            common,
            rate: r,
            trials,
            member,
            settle_ms,
            down_ms,
        } => {
            // A failover compares bonds; "none" has nothing to fail over to.
            let mut c = common.clone();
            if c.dut == ["bondd", "net_bonding", "none"] {
                c.dut = vec!["bondd".into()];
            }
            if c.mode == "balance-xor" {
                c.mode = "active-backup".into();
            }
            let s = setup(&c)?;
            (
                format!("failover run at {r}"),
                common,
                s,
                Experiment::Failover {
                    rate: rate(r)?,
                    trials: *trials,
                    member: *member,
                    fault_at: Duration::from_millis(*settle_ms),
                    restore_after: Duration::from_millis(*down_ms),
                },
            )
        }
    };
    setup.validate(&exp)?;
    Ok((name, common.clone(), setup, exp))
}

fn describe(s: &Setup, c: &Common) -> serde_json::Value {
    serde_json::json!({
        "mode": s.bond.mode,
        "xmit_hash_policy": s.bond.policy,
        "miimon_ms": s.bond.miimon,
        "members": s.bond.members,
        "options": s.bond.extra,
        "traffic": s.traffic.describe(),
        "size": c.size,
        "flows": s.traffic.flows(),
        "link_mbps": s.link_mbps,
        "control_core": s.place.control_core,
        "workers": s.place.workers,
        "gen_core": s.cores.generator,
        "rx_core": s.cores.rx,
        "memory": s.place.memory,
        "sink": s.bond.sink,
        "source": s.bond.source,
        "topology": if s.duts == [Dut::External] {
            "generator -> tx device -> external device -> rx devices, read at the rx devices"
        } else if s.bond.source == Source::Replay && s.bond.facing() {
            "two bonds facing each other: net_pcap replay -> bond A => bond B -> net_null, \
             counted by port statistics"
        } else if s.bond.source == Source::Replay {
            "net_pcap replay -> bond -> net_null members, counted by port statistics"
        } else if s.bond.facing() {
            "two bonds facing each other: src -> bond A => bond B -> dst, read at dst"
        } else {
            "src -> bond -> members, read at the members"
        },
        "tx_device": s.external.tx,
        "rx_devices": s.external.rx,
        "duts": s.duts.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
    })
}

/// Runs a `bondd bench` experiment and writes its outputs; returns whether every criterion
/// held.
pub fn main(cmd: &BenchCmd) -> anyhow::Result<bool> {
    let (name, c, setup, exp) = plan(cmd)?;
    let results = experiment::execute(&setup, &exp)?;
    let mode = Mode::from_value(u64::from(setup.bond.mode)).map_or("?", |m| m.name());
    let bond = if setup.duts == [Dut::External] {
        format!(
            "external device, {} -> {}",
            dataplane::port::device_name(&setup.external.tx),
            setup.external.rx_names().join(" + ")
        )
    } else {
        format!(
            "{mode}{}, {} members",
            if setup.bond.hashes() {
                format!(" {}", setup.bond.policy)
            } else {
                String::new()
            },
            setup.bond.members,
        )
    };
    let title = format!(
        "{name}: {bond}, {} {} bytes, {} flows",
        setup.traffic.describe(),
        c.size,
        setup.traffic.flows()
    );
    let criteria = Criteria {
        min_mpps: c.min_mpps,
        max_loss_pct: c.max_loss,
        max_p99_us: c.max_p99_us,
        max_gap_ms: c.max_gap_ms,
        min_ratio: c.min_ratio,
    };
    let duts: Vec<String> = setup.duts.iter().map(|d| d.to_string()).collect();
    let report = Report::new(&title, describe(&setup, &c), &duts, results, &criteria);
    if let Some(path) = &c.csv {
        let mut f = std::fs::File::create(path)
            .map_err(|e| anyhow::anyhow!("--csv {}: {e}", path.display()))?;
        report.csv(&mut f)?;
    }
    if let Some(dir) = &c.svg {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("--svg {}: {e}", dir.display()))?;
        let last: Vec<&super::trial::Outcome> = duts
            .iter()
            .filter_map(|d| report.results.runs.iter().rev().find(|o| &o.dut == d))
            .collect();
        std::fs::write(
            dir.join("throughput.svg"),
            super::plot::throughput(&title, &last),
        )?;
        std::fs::write(
            dir.join("latency.svg"),
            super::plot::latency_cdf(&title, &last),
        )?;
    }
    let mut out = std::io::stdout();
    if c.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        println!();
    } else {
        report.print(&mut out)?;
    }
    Ok(report.passed())
}
