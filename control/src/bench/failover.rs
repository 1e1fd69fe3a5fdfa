//! The failover drill: a steady stream through an active-backup bond, the active member's
//! carrier cut, and what it cost.
//!
//! The source is a `net_pcap` infinite replay, the members are `net_null` sinks whose carrier
//! bondd holds down itself (net_null cannot), so everything the workers hand to the dead member
//! after the cut is counted as lost, as it would be on a real dead link. A sampler thread cuts
//! the carrier, then polls the workers' per-member counters every ~20 µs: the gap is the time
//! from the cut to the first frame counted on the other member; the loss is what went to the
//! dead member after the cut. The control thread meanwhile runs its ordinary loop.

use crate::appliance::Appliance;
use crate::config::Config;
use dataplane::counters::{WorkerCounters, sum_port};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    pub miimon_ms: u32,
    pub trials: u32,
    /// Time between cuts (traffic settles, the member comes back).
    pub settle: Duration,
    pub flows: u32,
    /// EAL memory mode: "auto", "hugepages" or "no-huge".
    pub memory: String,
    pub workers: Vec<usize>,
    pub control_core: usize,
}

/// One cut.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    pub from: String,
    pub to: String,
    /// Cut to first frame on the new member.
    pub gap_us: f64,
    /// Frames handed to the dead member after the cut.
    pub lost: u64,
}

/// Summary over the trials.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub miimon_ms: u32,
    pub trials: Vec<Trial>,
    pub gap_median_us: f64,
    pub gap_max_us: f64,
    pub lost_median: u64,
    pub lost_max: u64,
    /// Offered load while measuring, frames per second.
    pub rate_pps: f64,
}

fn median_f(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs the drill; the appliance is started and stopped inside.
pub fn run(o: &Options) -> anyhow::Result<Report> {
    anyhow::ensure!(o.trials > 0, "--trials must be at least 1");
    anyhow::ensure!(
        o.miimon_ms > 0,
        "--miimon must be at least 1 ms: with 0 nothing fails over"
    );
    let dir = std::env::temp_dir().join(format!("bondd-failover-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let pcap = dir.join("flows.pcap");
    let frames = crate::pcap::UdpFlows {
        flows: o.flows,
        ..Default::default()
    }
    .frames();
    crate::pcap::write_file(&pcap, frames.iter().map(|f| f.as_slice()))?;
    let tag = std::process::id();
    let text = format!(
        r#"
[eal]
memory = "{mem}"
[cores]
control = {ctl}
workers = {workers:?}
[[port]]
name = "src"
device = "net_pcap_fo{tag},rx_pcap={pcap},infinite_rx=1"
[[bond]]
name = "bond0"
options = "mode=active-backup miimon={miimon}"
[[bond.member]]
name = "eth0"
device = "net_null_fo{tag}a,no-rx=1"
[[bond.member]]
name = "eth1"
device = "net_null_fo{tag}b,no-rx=1"
[[forward]]
from = "src"
to = "bond0"
bidirectional = false
[run]
stats_period_ms = 0
run_dir = "{run}"
"#,
        mem = o.memory,
        ctl = o.control_core,
        workers = o.workers,
        pcap = pcap.display(),
        miimon = o.miimon_ms,
        run = dir.join("run").display(),
    );
    let checked = Config::parse(&text, std::path::Path::new("<failover drill>"))?
        .check(&dataplane::worker::usable_cores())?;
    let mut app = Appliance::start(checked)?;
    let bond = &app.bonds()[0];
    let members: Vec<(String, u16, usize)> = bond
        .members
        .iter()
        .map(|m| (m.name.clone(), m.port, m.index as usize))
        .collect();
    let counters = app.counters();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        let o = o.clone();
        std::thread::Builder::new()
            .name("bondd-drill".into())
            .spawn(move || drill(&o, &members, &counters, &done))?
    };
    app.run_until(&done, None, None, &mut std::io::sink());
    let result = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("the sampler thread panicked"))?;
    let report = app.shutdown()?;
    anyhow::ensure!(
        report.mbufs_in_use_after_shutdown == 0,
        "mbufs leaked during the drill"
    );
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn tx(counters: &[Arc<WorkerCounters>], index: usize) -> u64 {
    sum_port(counters, index).tx
}

fn drill(
    o: &Options,
    members: &[(String, u16, usize)],
    counters: &[Arc<WorkerCounters>],
    done: &AtomicBool,
) -> anyhow::Result<Report> {
    let result = (|| {
        let poll = Duration::from_micros(20);
        let mut rng = dataplane::testing::Rng(0x5eed ^ u64::from(std::process::id()));
        let mut trials = Vec::new();
        let mut rates = Vec::new();
        std::thread::sleep(o.settle);
        for _ in 0..o.trials {
            // Which member carries the traffic now?
            let before: Vec<u64> = members.iter().map(|m| tx(counters, m.2)).collect();
            let t_rate = Instant::now();
            std::thread::sleep(Duration::from_millis(20));
            let after: Vec<u64> = members.iter().map(|m| tx(counters, m.2)).collect();
            let dt = t_rate.elapsed().as_secs_f64();
            let (a, b) = if after[0] - before[0] >= after[1] - before[1] {
                (0, 1)
            } else {
                (1, 0)
            };
            rates.push((after[a] - before[a]) as f64 / dt);
            let b0 = tx(counters, members[b].2);
            let a0 = tx(counters, members[a].2);
            let t0 = Instant::now();
            dataplane::port::set_link_of(members[a].1, false)
                .map_err(|rc| anyhow::anyhow!("cutting {}: DPDK error {rc}", members[a].0))?;
            let gap = loop {
                if tx(counters, members[b].2) > b0 {
                    break t0.elapsed();
                }
                anyhow::ensure!(
                    t0.elapsed() < Duration::from_secs(5),
                    "no frame reached {} within 5 s of cutting {}",
                    members[b].0,
                    members[a].0
                );
                std::thread::sleep(poll);
            };
            // Whatever the dead member still counts from here on was queued before the switch.
            std::thread::sleep(Duration::from_millis(5));
            let lost = tx(counters, members[a].2) - a0;
            trials.push(Trial {
                from: members[a].0.clone(),
                to: members[b].0.clone(),
                gap_us: gap.as_secs_f64() * 1e6,
                lost,
            });
            dataplane::port::set_link_of(members[a].1, true)
                .map_err(|rc| anyhow::anyhow!("restoring {}: DPDK error {rc}", members[a].0))?;
            // Cut at a different phase of the monitor's period each time: with a settle time
            // that is a multiple of miimon every cut would land the same distance before a tick.
            let jitter = Duration::from_micros(rng.below(o.miimon_ms as usize * 1000) as u64);
            std::thread::sleep(o.settle + jitter);
        }
        let mut gaps: Vec<f64> = trials.iter().map(|t| t.gap_us).collect();
        let mut losts: Vec<f64> = trials.iter().map(|t| t.lost as f64).collect();
        Ok(Report {
            miimon_ms: o.miimon_ms,
            gap_median_us: median_f(&mut gaps),
            gap_max_us: gaps.iter().copied().fold(0.0, f64::max),
            lost_median: median_f(&mut losts) as u64,
            lost_max: losts.iter().copied().fold(0.0, f64::max) as u64,
            rate_pps: median_f(&mut rates),
            trials,
        })
    })();
    done.store(true, Ordering::Relaxed);
    result
}
