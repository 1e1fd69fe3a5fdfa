//! The experiments: a fixed-rate run, an RFC 2544 zero-loss search and a failover run, each
//! over one or more devices under test, alternated so that they share the machine's moods.

use super::dut::{BondSetup, Dut, External, Placement, Rig, Source};
use super::engine::Generator;
use super::rate::Rate;
use super::traffic::Traffic;
use super::trial::{self, Cores, Fault, Outcome, TrialSpec, Wiring};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Everything but the experiment.
#[derive(Debug, Clone)]
pub struct Setup {
    pub traffic: Traffic,
    pub bond: BondSetup,
    /// The ports towards `--dut external`.
    pub external: External,
    pub place: Placement,
    pub cores: Cores,
    pub duts: Vec<Dut>,
    /// Speed of the path the rate is a share of, Mbit/s.
    pub link_mbps: u32,
    pub progress: bool,
}

/// What to measure.
#[derive(Debug, Clone)]
pub enum Experiment {
    Run {
        rate: Rate,
        duration: Duration,
        reps: u32,
    },
    Rfc2544 {
        trial: Duration,
        /// Loss tolerated, percent of offered frames.
        tolerance_pct: f64,
        /// Stop when the search interval is narrower than this share of the upper bound.
        resolution_pct: f64,
        max_trials: u32,
    },
    Failover {
        rate: Rate,
        trials: u32,
        /// None: whichever member carries the traffic.
        member: Option<usize>,
        fault_at: Duration,
        restore_after: Duration,
    },
}

/// An RFC 2544 result for one device.
#[derive(Debug, Clone, Serialize)]
pub struct Search {
    pub dut: String,
    /// What the device accepted when offered as much as it could take.
    pub capacity_pps: f64,
    pub zero_loss_pps: f64,
    pub trials: u32,
    /// The trial at the rate found (its latency is the figure RFC 2544 asks for).
    pub at_rate: Option<Outcome>,
}

/// Every trial of an experiment.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Results {
    pub runs: Vec<Outcome>,
    pub searches: Vec<Search>,
}

impl Setup {
    /// Checks everything before any port is touched.
    pub fn validate(&self, exp: &Experiment) -> anyhow::Result<()> {
        self.traffic.validate()?;
        self.bond
            .validate(&self.duts)
            .map_err(|e| anyhow::anyhow!(e))?;
        self.external
            .validate(&self.duts)
            .map_err(|e| anyhow::anyhow!(e))?;
        anyhow::ensure!(!self.duts.is_empty(), "--dut: name at least one device");
        if self.bond.source == Source::Replay {
            let Experiment::Run { rate, .. } = exp else {
                anyhow::bail!(
                    "--source replay measures fixed runs only (bondd bench run): an RFC 2544 \
                     search and a failover run pace the generator"
                );
            };
            anyhow::ensure!(
                matches!(rate, Rate::Max),
                "--source replay runs as fast as the device's worker goes: --rate max"
            );
            anyhow::ensure!(
                self.traffic.flows() <= super::replay::MAX_FLOWS,
                "--source replay: {} flows, at most {} (net_pcap keeps every frame of the \
                 file in an mbuf of the device's pool while it replays)",
                self.traffic.flows(),
                super::replay::MAX_FLOWS
            );
        }
        match exp {
            Experiment::Run {
                rate,
                duration,
                reps,
            } => {
                self.pps(rate)?;
                anyhow::ensure!(*reps >= 1, "--reps must be at least 1");
                anyhow::ensure!(
                    *duration >= Duration::from_millis(100),
                    "--duration must be at least 0.1 s"
                );
            }
            Experiment::Rfc2544 {
                tolerance_pct,
                resolution_pct,
                max_trials,
                ..
            } => {
                anyhow::ensure!(
                    (0.0..100.0).contains(tolerance_pct),
                    "--loss-tolerance {tolerance_pct}: a percentage below 100"
                );
                anyhow::ensure!(
                    *resolution_pct > 0.0 && *resolution_pct < 50.0,
                    "--resolution {resolution_pct}: a percentage between 0 and 50"
                );
                anyhow::ensure!(*max_trials >= 2, "--max-trials must be at least 2");
            }
            Experiment::Failover {
                rate,
                trials,
                member,
                ..
            } => {
                self.pps(rate)?;
                anyhow::ensure!(*trials >= 1, "--trials must be at least 1");
                anyhow::ensure!(
                    !self.bond.facing(),
                    "a failover run in 802.3ad is not measured yet: the harness reads the \
                     frames behind the facing bond, not on each member"
                );
                anyhow::ensure!(
                    !self.duts.contains(&Dut::None),
                    "--dut none has a single link: a failover run needs a bond"
                );
                anyhow::ensure!(
                    !self.duts.contains(&Dut::External),
                    "--dut external: failover runs against an external device are not \
                     measured yet (run and rfc2544 are)"
                );
                anyhow::ensure!(
                    self.bond.sink == super::dut::Sink::Ring,
                    "a failover run reads every frame, so it needs --sink ring, which \
                     net_bonding cannot use (measure bondd alone: --dut bondd)"
                );
                anyhow::ensure!(
                    self.bond.members >= 2,
                    "--members {}: a failover run needs at least 2",
                    self.bond.members
                );
                if let Some(m) = member {
                    anyhow::ensure!(
                        *m < self.bond.members,
                        "--member {m}: the bond has members 0 to {}",
                        self.bond.members - 1
                    );
                }
                anyhow::ensure!(
                    self.bond.miimon > 0,
                    "--miimon 0: with no link monitoring nothing fails over"
                );
            }
        }
        Ok(())
    }

    /// Frames per second for `rate` on this path and frame mix (None: as fast as possible).
    fn pps(&self, rate: &Rate) -> anyhow::Result<Option<f64>> {
        rate.pps(self.link_mbps, self.traffic.sizes.mean())
            .map_err(|e| anyhow::anyhow!(e))
    }

    fn copies(&self, dut: Dut) -> u64 {
        if self.bond.mode == 3 && !matches!(dut, Dut::None | Dut::External) {
            self.bond.members as u64
        } else {
            1
        }
    }
}

/// Runs `body` on a conductor thread while the calling thread runs the DUT's control loop.
fn with_rig<T: Send>(
    setup: &Setup,
    dut: Dut,
    run_dir: &std::path::Path,
    body: impl FnOnce(&Wiring) -> anyhow::Result<T> + Send,
) -> anyhow::Result<T> {
    let mut rig = Rig::start(dut, &setup.bond, &setup.external, &setup.place, run_dir)?;
    let wiring = Wiring {
        tx: rig.tx.clone(),
        members: rig.members.clone(),
        member_ports: rig.member_ports.clone(),
        member_names: rig.member_names.clone(),
        member_counts: rig.member_counts.clone(),
        counted: rig.counted.clone(),
    };
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("bondd-bench".into())
            .spawn_scoped(s, || {
                let r = body(&wiring);
                done.store(true, Ordering::Relaxed);
                r
            })
            .expect("spawning the conductor thread");
        match rig.app.as_mut() {
            Some(app) => app.run_until(&done, None, None, &mut std::io::sink()),
            // An external device: nothing of ours to run meanwhile.
            None => {
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        h.join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the conductor thread panicked")))
    });
    drop(wiring);
    let stopped = rig.stop();
    let r = result?;
    stopped?;
    Ok(r)
}

/// Initialises EAL for the harness (from the first DUT's config) and runs the experiment.
pub fn execute(setup: &Setup, exp: &Experiment) -> anyhow::Result<Results> {
    setup.validate(exp)?;
    let run_dir = std::env::temp_dir().join(format!("bondd-bench-{}", std::process::id()));
    std::fs::create_dir_all(&run_dir)?;
    let _ = dataplane::worker::usable_cores();
    let (checked, _, _) = super::dut::checked(setup.duts[0], &setup.bond, &setup.place, &run_dir)?;
    let args = crate::appliance::eal_args(&checked, crate::appliance::hugepages_free_mb());
    dataplane::eal::init(&args)?;
    let generator = Generator::new(&setup.traffic, &format!("{}", std::process::id() % 100_000))?;
    if setup.bond.source == Source::Replay {
        super::replay::write_file(&generator, &super::dut::replay_file(&run_dir))?;
    }
    let result = match exp {
        Experiment::Run {
            rate,
            duration,
            reps,
        } => fixed(setup, &generator, *rate, *duration, *reps, &run_dir),
        Experiment::Rfc2544 {
            trial,
            tolerance_pct,
            resolution_pct,
            max_trials,
        } => rfc2544(
            setup,
            &generator,
            *trial,
            *tolerance_pct,
            *resolution_pct,
            *max_trials,
            &run_dir,
        ),
        Experiment::Failover {
            rate,
            trials,
            member,
            fault_at,
            restore_after,
        } => failover(
            setup,
            &generator,
            *rate,
            *trials,
            *member,
            *fault_at,
            *restore_after,
            &run_dir,
        ),
    };
    let _ = std::fs::remove_dir_all(&run_dir);
    let in_use = generator.in_use();
    anyhow::ensure!(in_use == 0, "{in_use} generator mbufs were never returned");
    result
}

/// A short run that must pass traffic before anything is measured.
fn warm_up(dut: Dut, wiring: &Wiring, generator: &Generator, setup: &Setup) -> anyhow::Result<()> {
    let spec = TrialSpec {
        pps: None,
        duration: Duration::from_millis(300),
        faults: vec![],
        copies: setup.copies(dut),
    };
    let o = trial::run(
        &dut.to_string(),
        wiring,
        generator,
        &spec,
        setup.cores,
        None,
    )?;
    anyhow::ensure!(
        o.distinct > 0,
        "{dut}: nothing came out of the device under test during the warm-up"
    );
    Ok(())
}

fn label(setup: &Setup, dut: Dut, what: &str) -> Option<String> {
    setup.progress.then(|| format!("{dut} {what}"))
}

fn order(duts: &[Dut], rep: u32) -> Vec<Dut> {
    let mut v = duts.to_vec();
    let n = v.len();
    v.rotate_left(rep as usize % n.max(1));
    v
}

fn fixed(
    setup: &Setup,
    generator: &Generator,
    rate: Rate,
    duration: Duration,
    reps: u32,
    run_dir: &std::path::Path,
) -> anyhow::Result<Results> {
    let pps = setup.pps(&rate)?;
    let mut results = Results::default();
    for rep in 0..reps {
        for dut in order(&setup.duts, rep) {
            if setup.bond.source == Source::Replay {
                let mean = setup.traffic.sizes.mean();
                let o = with_rig(setup, dut, run_dir, |w| {
                    super::replay::trial(&dut.to_string(), w, duration, setup.copies(dut), mean)
                })?;
                results.runs.push(o);
                continue;
            }
            let o = with_rig(setup, dut, run_dir, |w| {
                warm_up(dut, w, generator, setup)?;
                let spec = TrialSpec {
                    pps,
                    duration,
                    faults: vec![],
                    copies: setup.copies(dut),
                };
                let l = label(setup, dut, &format!("rep {}/{reps}", rep + 1));
                trial::run(
                    &dut.to_string(),
                    w,
                    generator,
                    &spec,
                    setup.cores,
                    l.as_deref(),
                )
            })?;
            results.runs.push(o);
        }
    }
    Ok(results)
}

fn rfc2544(
    setup: &Setup,
    generator: &Generator,
    trial_len: Duration,
    tolerance_pct: f64,
    resolution_pct: f64,
    max_trials: u32,
    run_dir: &std::path::Path,
) -> anyhow::Result<Results> {
    let mut results = Results::default();
    let line = super::rate::line_rate_pps(setup.link_mbps, setup.traffic.sizes.mean());
    for dut in setup.duts.clone() {
        let (search, runs) = with_rig(setup, dut, run_dir, |w| {
            warm_up(dut, w, generator, setup)?;
            let copies = setup.copies(dut);
            let mut runs = Vec::new();
            let mut go = |pps: Option<f64>, what: String| {
                let spec = TrialSpec {
                    pps,
                    duration: trial_len,
                    faults: vec![],
                    copies,
                };
                let l = label(setup, dut, &what);
                let o = trial::run(
                    &dut.to_string(),
                    w,
                    generator,
                    &spec,
                    setup.cores,
                    l.as_deref(),
                );
                if let Ok(o) = &o {
                    runs.push(o.clone());
                }
                o
            };
            // What the device takes when offered all it can: the search's upper bound.
            let cap = go(None, "capacity".into())?;
            let mut hi = cap.tx_pps.min(line);
            let mut lo = 0.0f64;
            let mut best: Option<Outcome> = None;
            let mut n = 1;
            // The capacity itself may be loss-free at a paced rate.
            let mut rate = hi;
            while n < max_trials {
                n += 1;
                let o = go(Some(rate), format!("trial {n} at {:.3} Mpps", rate / 1e6))?;
                if o.loss_pct <= tolerance_pct {
                    lo = rate;
                    best = Some(o);
                } else {
                    hi = rate;
                }
                if hi - lo <= hi * resolution_pct / 100.0 {
                    break;
                }
                rate = (lo + hi) / 2.0;
            }
            Ok((
                Search {
                    dut: dut.to_string(),
                    capacity_pps: cap.tx_pps,
                    zero_loss_pps: lo,
                    trials: n,
                    at_rate: best,
                },
                runs,
            ))
        })?;
        results.searches.push(search);
        results.runs.extend(runs);
    }
    Ok(results)
}

#[allow(clippy::too_many_arguments)]
fn failover(
    setup: &Setup,
    generator: &Generator,
    rate: Rate,
    trials: u32,
    member: Option<usize>,
    fault_at: Duration,
    restore_after: Duration,
    run_dir: &std::path::Path,
) -> anyhow::Result<Results> {
    let pps = setup.pps(&rate)?;
    let mut results = Results::default();
    for dut in setup.duts.clone() {
        let runs = with_rig(setup, dut, run_dir, |w| {
            warm_up(dut, w, generator, setup)?;
            let mut runs = Vec::new();
            let mut rng = dataplane::testing::Rng(0x5eed ^ u64::from(std::process::id()));
            for t in 0..trials {
                // A different phase of the link monitor's period each time.
                let jitter =
                    Duration::from_micros(rng.below(setup.bond.miimon as usize * 1000) as u64);
                let at = fault_at + jitter;
                let spec = TrialSpec {
                    pps,
                    duration: at + restore_after + fault_at,
                    faults: vec![Fault {
                        member,
                        at,
                        restore_after: Some(restore_after),
                    }],
                    copies: setup.copies(dut),
                };
                let l = label(setup, dut, &format!("failover {}/{trials}", t + 1));
                runs.push(trial::run(
                    &dut.to_string(),
                    w,
                    generator,
                    &spec,
                    setup.cores,
                    l.as_deref(),
                )?);
            }
            Ok(runs)
        })?;
        results.runs.extend(runs);
    }
    Ok(results)
}
