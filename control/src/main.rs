//! `bondd`: the DPDK poll-mode bonding appliance.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use control::appliance::{self, Appliance};
use control::config::Config;
use control::demo::Demo;
use std::path::PathBuf;
use std::time::Duration;

/// Where `bondd ctl` and `bondd shell` look for the appliance (its default run_dir).
const DEFAULT_SOCKET: &str = "/run/bondd/bondd.sock";

#[derive(Parser)]
#[command(
    name = "bondd",
    version,
    about = "DPDK poll-mode NIC bonding appliance"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the appliance (with no --config: the embedded demo on virtual devices).
    Run {
        /// TOML configuration file.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Stop after this many seconds (overrides run.duration_s; 0 = until a signal).
        #[arg(long)]
        duration: Option<f64>,
        /// Print rates every this many ms (overrides run.stats_period_ms; 0 = never).
        #[arg(long)]
        stats_period: Option<u64>,
        /// Print the final report as JSON on stdout as well.
        #[arg(long)]
        json: bool,
        /// Interactive prompt (as testpmd -i): runs until `quit`.
        #[arg(short = 'i', long)]
        interactive: bool,
        /// Run the commands of this file at start (as testpmd --cmdline-file).
        #[arg(long)]
        cmdline_file: Option<PathBuf>,
    },
    /// Send one command to a running appliance and print its answer.
    Ctl {
        /// The appliance's control socket.
        #[arg(long, default_value = DEFAULT_SOCKET)]
        socket: PathBuf,
        /// The command, e.g. 'show bonding config bond0'.
        #[arg(required = true, num_args = 1..)]
        command: Vec<String>,
    },
    /// An interactive prompt attached to a running appliance through its control socket.
    Shell {
        #[arg(long, default_value = DEFAULT_SOCKET)]
        socket: PathBuf,
    },
    /// Check a configuration file without touching any device.
    Check {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print, for every frame of a pcap, its transmit hash and the member it would take (as
    /// `ovs-appctl bond/hash` does), so an operator can predict which link a flow uses.
    Hash {
        /// layer2, layer2+3, layer3+4, encap2+3, encap3+4, vlan+srcmac (or 0-5).
        #[arg(long)]
        policy: String,
        /// Members in the bond, all up.
        #[arg(long)]
        members: usize,
        pcap: PathBuf,
    },
    /// Print a bondd config made from what operators migrate from: Red Hat ifcfg-* files
    /// (a network-scripts directory) or modprobe.conf `options bonding ...` lines.
    Import {
        /// A directory of ifcfg-* files (e.g. /etc/sysconfig/network-scripts).
        #[arg(long, conflicts_with = "modprobe")]
        ifcfg: Option<PathBuf>,
        /// A modprobe configuration file (e.g. /etc/modprobe.d/bonding.conf).
        #[arg(long)]
        modprobe: Option<PathBuf>,
    },
    /// Benchmarks that run the appliance in-process.
    Bench {
        #[command(subcommand)]
        what: BenchCmd,
    },
    /// Write a pcap of UDP test traffic: one frame per flow.
    GenPcap {
        #[arg(long, short)]
        out: PathBuf,
        #[arg(long, default_value_t = 1024)]
        flows: u32,
        /// Frame size without FCS (60 = a 64-byte frame on the wire).
        #[arg(long, default_value_t = 60)]
        size: usize,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    #[command(flatten)]
    Harness(Box<control::bench::cli::BenchCmd>),
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BONDD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn main() -> std::process::ExitCode {
    // Take the CPU list before EAL pins this thread to the control core.
    let _ = dataplane::worker::usable_cores();
    init_logging();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bondd: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Run {
            config,
            duration,
            stats_period,
            json,
            interactive,
            cmdline_file,
        } => run(
            config,
            duration,
            stats_period,
            json,
            interactive,
            cmdline_file,
        ),
        Cmd::Ctl { socket, command } => {
            let mut c = control::shell::server::Client::connect(&socket)?;
            let r = c.ask(&command.join(" "))?;
            control::shell::prompt::print_reply(&r);
            if !r.ok {
                bail!("command refused");
            }
            Ok(())
        }
        Cmd::Shell { socket } => {
            let mut c = control::shell::server::Client::connect(&socket)?;
            let mut names = control::shell::grammar::Names::default();
            // Ask the appliance for the names to complete.
            if let Ok(r) = c.ask("show port summary all --json")
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.text)
            {
                for p in v.as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap_or_default().to_owned();
                    if p["bond"].is_string() {
                        names.members.push(name.clone());
                    }
                    names.ports.push(name);
                }
            }
            if let Ok(r) = c.ask("show bonding list --json")
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.text)
            {
                for b in v.as_array().into_iter().flatten() {
                    names
                        .bonds
                        .push(b["name"].as_str().unwrap_or_default().to_owned());
                }
            }
            names.options = control::options::option_table()
                .iter()
                .map(|o| o.name.to_owned())
                .collect();
            control::shell::prompt::run(names, |line| {
                c.ask(line)
                    .unwrap_or_else(|e| control::shell::server::Reply {
                        ok: false,
                        text: format!("lost the appliance: {e}"),
                        quit: true,
                    })
            })?;
            Ok(())
        }
        Cmd::Check { config } => {
            let c = Config::load(&config)?;
            let checked = c.check(&dataplane::worker::usable_cores())?;
            println!(
                "{}: OK ({} ports, {} forwarding paths, workers on cores {:?})",
                config.display(),
                checked.config.ports.len(),
                checked.paths.len(),
                checked.worker_cores
            );
            Ok(())
        }
        Cmd::Bench { what } => match what {
            BenchCmd::Harness(cmd) => {
                anyhow::ensure!(
                    control::bench::cli::main(&cmd)?,
                    "one or more pass/fail criteria were not met (the FAIL lines above)"
                );
                Ok(())
            }
        },
        Cmd::Import { ifcfg, modprobe } => {
            let (bonds, notes) = match (ifcfg, modprobe) {
                (Some(dir), None) => {
                    let i = control::import::import_ifcfg_dir(&dir)?;
                    (i.bonds, i.notes)
                }
                (None, Some(file)) => {
                    let text = std::fs::read_to_string(&file).with_context(|| {
                        format!("--modprobe {}: cannot read it", file.display())
                    })?;
                    let i = control::import::import_modprobe(&file.display().to_string(), &text)?;
                    (i.bonds, i.notes)
                }
                _ => bail!("give --ifcfg DIR or --modprobe FILE"),
            };
            if bonds.is_empty() {
                bail!("no bond found to import");
            }
            print!("{}", control::import::to_bondd_toml(&bonds, &notes));
            Ok(())
        }
        Cmd::Hash {
            policy,
            members,
            pcap,
        } => hash(&policy, members, &pcap),
        Cmd::GenPcap { out, flows, size } => {
            if !(control::pcap::MIN_FRAME..=9000).contains(&size) {
                bail!("--size {size}: a frame must be 60 to 9000 bytes (without FCS)");
            }
            if flows == 0 {
                bail!("--flows 0: at least one flow is needed");
            }
            let g = control::pcap::UdpFlows {
                flows,
                frame_size: size,
                ..Default::default()
            };
            let frames = g.frames();
            control::pcap::write_file(&out, frames.iter().map(|f| f.as_slice()))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("{}: {flows} frames of {size} bytes", out.display());
            Ok(())
        }
    }
}

fn run(
    config: Option<PathBuf>,
    duration: Option<f64>,
    stats_period: Option<u64>,
    json: bool,
    interactive: bool,
    cmdline_file: Option<PathBuf>,
) -> Result<()> {
    let script = match &cmdline_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("--cmdline-file {}: cannot read it", f.display()))?,
        ),
        None => None,
    };
    let (cfg, _demo) = match &config {
        Some(path) => (Config::load(path)?, None),
        None => {
            let demo = Demo::prepare().context("preparing the embedded demo")?;
            tracing::info!(
                "no --config given: running the embedded demo (virtual devices, no NIC)"
            );
            (demo.config.clone(), Some(demo))
        }
    };
    let mut checked = cfg.check(&dataplane::worker::usable_cores())?;
    if let Some(d) = duration {
        if !d.is_finite() || d < 0.0 {
            bail!("--duration {d}: must be a non-negative number of seconds");
        }
        checked.config.run.duration_s = d;
    }
    if interactive {
        // As testpmd -i: up until `quit`, and no periodic output under the prompt.
        if duration.is_none() {
            checked.config.run.duration_s = 0.0;
        }
        if stats_period.is_none() {
            checked.config.run.stats_period_ms = 0;
        }
    }
    if let Some(p) = stats_period {
        checked.config.run.stats_period_ms = p;
    }
    let stop = control::signals::install();
    let run = checked.config.run.clone();
    let socket_path = run
        .socket
        .clone()
        .unwrap_or_else(|| run.run_dir.join("bondd.sock"));
    let mut app = Appliance::start(checked)?;
    let mut out = std::io::stdout();
    if let Some(text) = &script {
        for line in text.lines() {
            let r = app.execute_line(line);
            if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                println!("{}{line}", control::shell::prompt::PROMPT);
            }
            control::shell::prompt::print_reply(&r);
            if r.quit {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                break;
            }
        }
    }
    let (tx, rx) = control::shell::server::requests();
    let _socket = match std::fs::create_dir_all(&run.run_dir)
        .and_then(|_| control::shell::server::serve(&socket_path, tx.clone()))
    {
        Ok(g) => {
            tracing::info!("control socket: {}", socket_path.display());
            Some(g)
        }
        Err(e) => {
            tracing::warn!(
                "control socket {}: {e}; bondd ctl will not reach this appliance",
                socket_path.display()
            );
            None
        }
    };
    if interactive {
        let names = app.names();
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("bondd-prompt".into())
            .spawn(move || {
                let r = control::shell::prompt::run(names, |line| {
                    control::shell::server::ask(&tx, line)
                });
                if let Err(e) = r {
                    eprintln!("bondd: prompt: {e}");
                    control::shell::server::ask(&tx, "quit");
                }
            })?;
    }
    drop(tx);
    app.serve_until(
        stop,
        (run.duration_s > 0.0).then(|| Duration::from_secs_f64(run.duration_s)),
        (run.stats_period_ms > 0).then(|| Duration::from_millis(run.stats_period_ms)),
        &mut out,
        Some(&rx),
    );
    tracing::info!("stopping");
    let report = app.shutdown()?;
    appliance::print_final(&mut out, &report)?;
    if let Some(demo) = &_demo {
        // Show what an operator would look at: the status file and the event log.
        for b in &report.bonds {
            let path = demo.run_dir().join(&b.name);
            if let Ok(text) = std::fs::read_to_string(&path) {
                println!(
                    "\n  ---- {} (as /proc/net/bonding/{}) ----\n{text}",
                    path.display(),
                    b.name
                );
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

fn hash(policy: &str, members: usize, pcap: &std::path::Path) -> Result<()> {
    use dataplane::hash::XmitHashPolicy;
    use dataplane::reta::{RETA_SIZE, RedirectionTable};
    // testpmd's short names are accepted too.
    let name = match policy {
        "l2" => "layer2",
        "l23" => "layer2+3",
        "l34" => "layer3+4",
        other => other,
    };
    let p: XmitHashPolicy = name.parse().map_err(|_| {
        anyhow::anyhow!(
            "--policy {policy:?}: unknown transmit hash policy (expected layer2, layer2+3, \
             layer3+4, encap2+3, encap3+4, vlan+srcmac, 0-5, or testpmd's l2, l23, l34)"
        )
    })?;
    let max = dataplane::bond::MAX_MEMBERS;
    if !(1..=max).contains(&members) {
        bail!("--members {members}: a bond has 1 to {max} members");
    }
    let frames = control::pcap::read_file(pcap)?;
    let reta = RedirectionTable::new(members);
    println!(
        "# policy {p}, {members} members: bondd maps hash & {} through a redirection table \
         (equal to Linux's hash % {members} when {members} divides {RETA_SIZE})",
        RETA_SIZE - 1
    );
    println!(
        "{:>6}  {:>10}  {:>6}  {:>6}  {:>12}",
        "frame", "hash", "bucket", "member", "linux-member"
    );
    for (i, f) in frames.iter().enumerate() {
        let h = p.hash(f);
        println!(
            "{:>6}  {:#010x}  {:>6}  {:>6}  {:>12}",
            i + 1,
            h,
            RedirectionTable::bucket(h),
            reta.lookup(h),
            dataplane::hash::member_for(h, members)
        );
    }
    Ok(())
}
