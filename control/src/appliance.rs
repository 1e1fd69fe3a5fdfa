//! The running appliance: EAL, pool, ports and workers brought up from a checked config, a
//! main loop that prints rates, and an orderly shutdown that proves no mbuf leaked.

use crate::config::{Checked, MemoryMode};
use crate::error::{Error, Result};
use dataplane::burst::BURST;
use dataplane::counters::{DropReason, PortTotals, WorkerCounters, sum_port};
use dataplane::fwd::{self, Path, Plan};
use dataplane::mempool::{DEFAULT_DATA_ROOM, PktPool};
use dataplane::port::{Port, PortConfig, PortStats};
use dataplane::worker::Workers;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Free hugepage memory in MiB, from /proc/meminfo.
pub fn hugepages_free_mb() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field("HugePages_Free:") * field("Hugepagesize:") / 1024
}

fn looks_like_pci(dev: &str) -> bool {
    let d = dataplane::port::device_name(dev);
    let b = d.as_bytes();
    // dddd:bb:dd.f or bb:dd.f
    d.contains(':')
        && d.contains('.')
        && b.iter().all(|c| c.is_ascii_hexdigit() || b":.".contains(c))
}

/// The EAL arguments for a checked config: the user's `[eal] args` plus what they leave out
/// (main lcore on the control core, memory mode, a per-process file prefix, no PCI scan when
/// no port is a PCI device).
pub fn eal_args(c: &Checked, huge_free_mb: u64) -> Vec<String> {
    let user = &c.config.eal.args;
    let has = |names: &[&str]| {
        user.iter().any(|a| {
            names
                .iter()
                .any(|n| a == n || a.starts_with(&format!("{n}=")))
        })
    };
    let mut args = user.clone();
    if !has(&["-l", "--lcores", "-c", "--main-lcore"]) {
        args.push(format!("--lcores=0@{}", c.control_core));
    }
    if !has(&[
        "--no-huge",
        "--in-memory",
        "-m",
        "--socket-mem",
        "--huge-dir",
    ]) {
        let mb = c.config.eal.memory_mb;
        let huge = match c.config.eal.memory {
            MemoryMode::Hugepages => true,
            MemoryMode::NoHuge => false,
            MemoryMode::Auto => huge_free_mb >= u64::from(mb),
        };
        if huge {
            args.push("--in-memory".into());
        } else {
            args.extend([
                "--no-huge".into(),
                "-m".into(),
                mb.to_string(),
                "--no-shconf".into(),
            ]);
        }
    }
    if !has(&["--file-prefix"]) {
        args.push(format!("--file-prefix=bondd{}", std::process::id()));
    }
    if !has(&["--no-pci", "-a", "--allow", "-b", "--block"])
        && !c.config.ports.iter().any(|p| looks_like_pci(&p.device))
    {
        args.push("--no-pci".into());
    }
    if !has(&["--telemetry", "--no-telemetry"]) {
        args.push("--no-telemetry".into());
    }
    if !has(&["--log-level"]) {
        args.push("--log-level=*:notice".into());
    }
    args
}

/// One port's figures at one instant.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PortSample {
    pub name: String,
    pub nic: PortStats,
    pub worker: PortTotals,
}

/// The appliance's final account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FinalReport {
    pub elapsed_s: f64,
    pub ports: Vec<PortSample>,
    pub mbufs_in_use_after_shutdown: u32,
    pub pool_size: u32,
}

/// A running appliance.
pub struct Appliance {
    checked: Checked,
    workers: Option<Workers>,
    counters: Vec<Arc<WorkerCounters>>,
    ports: Vec<Port>,
    pool: Option<PktPool>,
    started: Instant,
}

impl Appliance {
    /// Brings everything up: EAL, every port probed (all before any is configured), the pool,
    /// ports configured and started, then the workers.
    pub fn start(checked: Checked) -> Result<Appliance> {
        let args = eal_args(&checked, hugepages_free_mb());
        tracing::info!("EAL arguments: {}", args.join(" "));
        dataplane::eal::init(&args)?;
        tracing::info!("{}", dataplane::eal::version());
        let cfg = &checked.config;
        let nworkers = checked.worker_cores.len() as u16;

        // Declared before the ports so that on an error path the ports (which may hold mbufs
        // of the pool, e.g. net_pcap's infinite_rx copies) are closed before the pool goes.
        let pool_slot: Option<PktPool>;
        // Probe every device first: an unknown device refuses the whole config before any
        // port is configured or started.
        let mut ports = Vec::with_capacity(cfg.ports.len());
        for spec in &cfg.ports {
            let p = Port::probe(&spec.device).map_err(|error| Error::Port {
                port: spec.name.clone(),
                device: spec.device.clone(),
                error,
            })?;
            ports.push(p);
        }
        let mut qcfg = Vec::with_capacity(ports.len());
        for (p, spec) in ports.iter().zip(&cfg.ports) {
            let info = p.info().map_err(|error| Error::Port {
                port: spec.name.clone(),
                device: spec.device.clone(),
                error,
            })?;
            if info.max_tx_queues < nworkers {
                return Err(Error::Port {
                    port: spec.name.clone(),
                    device: spec.device.clone(),
                    error: dataplane::Error::invalid(
                        "TX queues",
                        format!(
                            "{nworkers} workers need a TX queue each, driver {} offers {}",
                            info.driver, info.max_tx_queues
                        ),
                    ),
                });
            }
            qcfg.push(PortConfig {
                rx_queues: nworkers.min(info.max_rx_queues).max(1),
                tx_queues: nworkers,
                rx_desc: spec.rx_desc,
                tx_desc: spec.tx_desc,
            });
        }

        let needed: u32 = qcfg
            .iter()
            .map(|q| {
                u32::from(q.rx_desc) * u32::from(q.rx_queues)
                    + u32::from(q.tx_desc) * u32::from(q.tx_queues)
            })
            .sum::<u32>()
            + u32::from(nworkers) * (BURST as u32 * 4 + 256)
            + 8192;
        let size = if cfg.run.mbufs > 0 {
            cfg.run.mbufs
        } else {
            needed.next_power_of_two() - 1
        };
        pool_slot = Some(PktPool::create(
            &format!("bondd_pool{}", std::process::id()),
            size,
            256,
            DEFAULT_DATA_ROOM,
            -1,
        )?);
        let pool = pool_slot.as_ref().expect("just created");
        tracing::info!("mbuf pool: {size} mbufs");

        for (i, (p, q)) in ports.iter_mut().zip(&qcfg).enumerate() {
            let spec = &cfg.ports[i];
            let wrap = |error| Error::Port {
                port: spec.name.clone(),
                device: spec.device.clone(),
                error,
            };
            p.configure(q, pool).map_err(wrap)?;
            if let Some(mac) = checked.port_macs[i] {
                p.set_mac(mac).map_err(wrap)?;
            }
        }
        for (i, p) in ports.iter_mut().enumerate() {
            let spec = &cfg.ports[i];
            p.start().map_err(|error| Error::Port {
                port: spec.name.clone(),
                device: spec.device.clone(),
                error,
            })?;
            tracing::info!(
                "port {} ({}): started, id {}, MAC {}, {} RX / {} TX queues",
                spec.name,
                spec.device,
                p.id(),
                p.mac()
                    .map(|m| dataplane::wire::MacAddr(m).to_string())
                    .unwrap_or_default(),
                p.rx_queues(),
                p.tx_queues()
            );
        }

        let paths: Vec<Path> = checked
            .paths
            .iter()
            .map(|&(a, b)| Path {
                rx_port: ports[a].id(),
                rx_index: a,
                rx_queues: ports[a].rx_queues(),
                tx_port: ports[b].id(),
                tx_index: b,
                tx_mac: ports[b].mac().unwrap_or_default(),
            })
            .collect();
        let plan = Arc::new(Plan {
            mode: cfg.run.forward_mode,
            paths,
            tx_retries: cfg.run.tx_retries,
        });
        let counters: Vec<Arc<WorkerCounters>> = (0..nworkers)
            .map(|_| Arc::new(WorkerCounters::new(ports.len())))
            .collect();
        let per_worker = counters.clone();
        let plan2 = Arc::clone(&plan);
        let workers = Workers::spawn(&checked.worker_cores, move |ctx| {
            fwd::run(&ctx, &plan2, &per_worker[ctx.index]);
        })?;
        tracing::info!(
            "forwarding ({} mode) on {} worker(s), cores {:?}; control on core {}",
            cfg.run.forward_mode,
            workers.len(),
            checked.worker_cores,
            checked.control_core
        );
        Ok(Appliance {
            checked,
            workers: Some(workers),
            counters,
            ports,
            pool: pool_slot,
            started: Instant::now(),
        })
    }

    /// The checked config it runs.
    pub fn config(&self) -> &Checked {
        &self.checked
    }

    /// Current figures of every port.
    pub fn sample(&self) -> Vec<PortSample> {
        self.ports
            .iter()
            .enumerate()
            .map(|(i, p)| PortSample {
                name: self.checked.config.ports[i].name.clone(),
                nic: p.stats().unwrap_or_default(),
                worker: sum_port(&self.counters, i),
            })
            .collect()
    }

    /// Runs until `stop` is raised or `duration` (if any) has passed, printing per-port rates
    /// to `out` every `period` (if any).
    pub fn run_until(
        &self,
        stop: &AtomicBool,
        duration: Option<Duration>,
        period: Option<Duration>,
        out: &mut dyn Write,
    ) {
        let t0 = Instant::now();
        let mut last = (Instant::now(), self.sample());
        let mut next_print = period.map(|p| t0 + p);
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let now = Instant::now();
            if duration.is_some_and(|d| now >= t0 + d) {
                break;
            }
            if let (Some(p), Some(np)) = (period, next_print)
                && now >= np
            {
                let cur = self.sample();
                let dt = now.duration_since(last.0).as_secs_f64().max(1e-9);
                let _ = print_rates(out, self.started.elapsed(), &last.1, &cur, dt);
                last = (now, cur);
                next_print = Some(np + p);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the workers, drains and closes every port, and checks that every mbuf came back.
    pub fn shutdown(mut self) -> Result<FinalReport> {
        let joined = self.workers.take().map(|w| w.stop_and_join());
        let elapsed = self.started.elapsed().as_secs_f64();
        let ports = self.sample();
        for p in &self.ports {
            p.drain_rx();
        }
        for (i, p) in self.ports.iter_mut().enumerate() {
            if let Err(e) = p.close() {
                tracing::warn!("port {}: {e}", self.checked.config.ports[i].name);
            }
        }
        self.ports.clear();
        let pool = self.pool.take().expect("pool present until shutdown");
        let in_use = pool.in_use();
        let report = FinalReport {
            elapsed_s: elapsed,
            ports,
            mbufs_in_use_after_shutdown: in_use,
            pool_size: pool.size(),
        };
        if let Some(Err(e)) = joined {
            return Err(e.into());
        }
        if in_use != 0 {
            let name = pool.name().to_owned();
            drop(pool);
            return Err(Error::Leak { pool: name, in_use });
        }
        drop(pool);
        Ok(report)
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        if let Some(w) = self.workers.take() {
            let _ = w.stop_and_join();
        }
    }
}

fn print_rates(
    out: &mut dyn Write,
    t: Duration,
    prev: &[PortSample],
    cur: &[PortSample],
    dt: f64,
) -> std::io::Result<()> {
    writeln!(
        out,
        "  ---- t={:>7.2}s ------------------------------------------------------------------",
        t.as_secs_f64()
    )?;
    writeln!(
        out,
        "  {:<12} {:>13} {:>13} {:>16} {:>16} {:>10} {:>10}",
        "port", "Rx-pps", "Tx-pps", "RX-packets", "TX-packets", "RX-missed", "dropped"
    )?;
    for (p, c) in prev.iter().zip(cur) {
        let rx = (c.nic.rx_packets.saturating_sub(p.nic.rx_packets)) as f64 / dt;
        let tx = (c.nic.tx_packets.saturating_sub(p.nic.tx_packets)) as f64 / dt;
        writeln!(
            out,
            "  {:<12} {:>13.0} {:>13.0} {:>16} {:>16} {:>10} {:>10}",
            c.name,
            rx,
            tx,
            c.nic.rx_packets,
            c.nic.tx_packets,
            c.nic.rx_missed,
            c.worker.dropped()
        )?;
    }
    out.flush()
}

/// Prints the final counters, as testpmd does when it stops.
pub fn print_final(out: &mut dyn Write, r: &FinalReport) -> std::io::Result<()> {
    writeln!(
        out,
        "  ======================== final counters ({:.2} s) ========================",
        r.elapsed_s
    )?;
    for p in &r.ports {
        writeln!(out, "  port {}:", p.name)?;
        writeln!(
            out,
            "    RX-packets: {:<14} RX-missed: {:<10} RX-bytes: {}",
            p.nic.rx_packets, p.nic.rx_missed, p.nic.rx_bytes
        )?;
        writeln!(
            out,
            "    TX-packets: {:<14} TX-errors: {:<10} TX-bytes: {}",
            p.nic.tx_packets, p.nic.tx_errors, p.nic.tx_bytes
        )?;
        let drops: Vec<String> = DropReason::ALL
            .iter()
            .filter(|&&d| p.worker.drops[d as usize] > 0)
            .map(|&d| format!("{} {}", d.name(), p.worker.drops[d as usize]))
            .collect();
        writeln!(
            out,
            "    forwarded by workers: rx {} tx {}; dropped {}{}",
            p.worker.rx,
            p.worker.tx,
            p.worker.dropped(),
            if drops.is_empty() {
                String::new()
            } else {
                format!(" ({})", drops.join(", "))
            }
        )?;
    }
    writeln!(
        out,
        "  mbufs in use after shutdown: {} of {}",
        r.mbufs_in_use_after_shutdown, r.pool_size
    )?;
    out.flush()
}
