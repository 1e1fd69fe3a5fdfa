//! One trial: the generator and the receiver on their cores for a set time, faults injected
//! on schedule, and what the receiver's accounts say afterwards.

use super::account::{Accounts, jain};
use super::engine::{End, GenLoop, Generator, Live, MemberRx, RxLoop};
use super::rate::Pacer;
use super::traffic::WIRE_OVERHEAD;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A member taken down during a trial, and maybe brought back.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    /// None: the member that carried the most frames just before the fault.
    pub member: Option<usize>,
    pub at: Duration,
    pub restore_after: Option<Duration>,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct TrialSpec {
    /// Frames per second, or None for as fast as the device takes them.
    pub pps: Option<f64>,
    pub duration: Duration,
    pub faults: Vec<Fault>,
    /// Copies of each frame the members deliver in all (2+ in broadcast).
    pub copies: u64,
}

/// Per member of the bond, the frames it has carried so far (a running count any thread may
/// read; a trial takes the difference over its run).
pub type MemberCounts = Arc<dyn Fn() -> Vec<u64> + Send + Sync>;

/// The device side of a trial (what [`super::dut::Rig`] provides).
#[derive(Clone)]
pub struct Wiring {
    pub tx: Vec<End>,
    /// Where the receiver reads frames: one entry per bond member, or, when
    /// `member_counts` is given, wherever the frames come out after the bond (802.3ad: behind
    /// the facing bond, which merged the members' frames again).
    pub members: Vec<MemberRx>,
    /// The bond's members: the DPDK port a fault takes down, and the names in the report.
    pub member_ports: Vec<u16>,
    pub member_names: Vec<String>,
    /// Member shares from the device's own counters, for receive points that are not the
    /// members. Loss, reordering and latency are still counted frame by frame.
    pub member_counts: Option<MemberCounts>,
    /// A replay's counting points (port statistics); None with the generator.
    pub counted: Option<super::dut::Counted>,
}

/// Where the traffic threads run.
#[derive(Debug, Clone, Copy)]
pub struct Cores {
    pub generator: usize,
    pub rx: usize,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// One member's share.
#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub member: String,
    pub frames: u64,
    pub share: f64,
}

/// Each member's frames and share of their total, by name.
pub(super) fn member_shares(per_member: &[u64], names: &[String]) -> Vec<Share> {
    let total: u64 = per_member.iter().sum();
    per_member
        .iter()
        .zip(names)
        .map(|(&f, n)| Share {
            member: n.clone(),
            frames: f,
            share: if total == 0 {
                0.0
            } else {
                f as f64 / total as f64
            },
        })
        .collect()
}

/// What one fault cost.
#[derive(Debug, Clone, Serialize)]
pub struct FaultOutcome {
    pub member: String,
    pub at_ms: f64,
    /// From the fault to the last frame the device still sent into the dead member (the
    /// next frame of the flow took the new path).
    pub gap_us: f64,
    pub lost: u64,
    pub reordered: u64,
    pub restore_at_ms: Option<f64>,
    /// Lost and reordered from the member's return to the end of the trial.
    pub restore_lost: u64,
    pub restore_reordered: u64,
}

/// The result of one trial.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub dut: String,
    pub offered_pps: Option<f64>,
    pub duration_s: f64,
    pub sent: u64,
    /// Refused at the device's ingress at a set rate (lost there).
    pub refused: u64,
    pub received: u64,
    pub distinct: u64,
    pub lost: u64,
    pub loss_pct: f64,
    pub reordered: u64,
    /// Duplicates beyond the copies the mode makes.
    pub duplicates: u64,
    pub late: u64,
    pub foreign: u64,
    pub tx_pps: f64,
    pub rx_pps: f64,
    /// On-wire bit rate of what arrived (frames + preamble and gap).
    pub rx_gbps: f64,
    pub latency_us: Latency,
    /// False when the members were net_null sinks counted by port statistics: no latency,
    /// reordering or duplicate figures then.
    pub per_frame: bool,
    pub members: Vec<Share>,
    pub fairness: f64,
    pub faults: Vec<FaultOutcome>,
    /// Received frames per second in 10 ms steps, from the start.
    pub timeline_pps: Vec<f64>,
    /// (latency µs, fraction of frames at or below it).
    pub latency_cdf: Vec<(f64, f64)>,
    /// Times the generator's pools were empty (it waited for frames to come back).
    pub gen_pool_waits: u64,
}

/// The member with the most frames over the last 20 ms.
fn busiest(live: &Live, members: usize) -> usize {
    let read = || -> Vec<u64> {
        (0..members)
            .map(|m| live.per_member[m].load(Ordering::Relaxed))
            .collect()
    };
    let a = read();
    std::thread::sleep(Duration::from_millis(20));
    let b = read();
    (0..members).max_by_key(|&m| b[m] - a[m]).unwrap_or(0)
}

fn pin(core: usize) -> Option<dataplane::eal::ThreadRegistration> {
    let _ = core_affinity::set_for_current(core_affinity::CoreId { id: core });
    dataplane::eal::ThreadRegistration::register().ok()
}

/// Runs one trial. `progress` prints a line per second when given a label.
pub fn run(
    dut: &str,
    wiring: &Wiring,
    generator: &Generator,
    spec: &TrialSpec,
    cores: Cores,
    progress: Option<&str>,
) -> anyhow::Result<Outcome> {
    anyhow::ensure!(
        spec.faults.is_empty() || wiring.member_counts.is_none(),
        "{dut}: a fault needs every member read on its own, and this device merges them \
         before the receiver"
    );
    let hz = dataplane::eal::tsc_hz();
    let traffic = generator.traffic();
    let flows = traffic.flows() as usize;
    let nmem = wiring.members.len();
    let live = Live::new(nmem);
    for m in &wiring.members {
        m.cut.on.store(false, Ordering::Relaxed);
    }
    let bin_ticks = hz / 1000;
    let bins = (spec.duration.as_millis() as usize) + 3000;
    let start_tsc = dataplane::eal::tsc();
    let accounts = Accounts::new(flows, nmem, start_tsc, bin_ticks, bins, 1 << 16, hz * 10);
    let pacer = spec.pps.map(|p| Pacer::new(p, hz, start_tsc));
    // Members nobody can read (net_null) are counted by their port statistics.
    let by_stats = wiring.members.iter().all(|m| m.ends.is_empty());
    let tx_packets = || -> Vec<u64> {
        wiring
            .member_ports
            .iter()
            .map(|&p| dataplane::port::stats_of(p).map_or(0, |s| s.tx_packets))
            .collect()
    };
    let stats_before = tx_packets();
    let counts_before = wiring.member_counts.as_ref().map(|c| c());
    let t0 = Instant::now();
    let mut fault_times: Vec<(u64, Option<u64>, usize)> = Vec::new();

    let (accounts, sent, refused, pool_waits) = std::thread::scope(|s| -> anyhow::Result<_> {
        let live = &live;
        let members = &wiring.members[..];
        let tx = &wiring.tx[..];
        let combined = cores.generator == cores.rx;
        let rx_pacer = pacer.clone();
        let rx_handle = s.spawn(move || {
            let _reg = pin(cores.rx);
            let mut rx = RxLoop::new(accounts, members, live);
            let mut gen_loop = combined.then(|| GenLoop::new(generator, tx, rx_pacer, live));
            let mut gen_done = !combined;
            let mut waits = 0;
            while !live.stop_rx.load(Ordering::Relaxed) {
                rx.step();
                if let Some(g) = gen_loop.as_mut()
                    && !gen_done
                {
                    if live.stop_gen.load(Ordering::Relaxed) {
                        g.finish();
                        waits = g.pool_empty;
                        gen_done = true;
                    } else {
                        g.step();
                    }
                }
            }
            (rx.accounts, waits)
        });
        let gen_handle = (!combined).then(|| {
            s.spawn(move || {
                let _reg = pin(cores.generator);
                let mut g = GenLoop::new(generator, tx, pacer.clone(), live);
                while !live.stop_gen.load(Ordering::Relaxed) {
                    g.step();
                }
                g.finish();
                g.pool_empty
            })
        });

        // The conductor: faults on schedule, a progress line, the end.
        let mut actions: Vec<(Duration, usize, bool)> = Vec::new();
        for (i, f) in spec.faults.iter().enumerate() {
            actions.push((f.at, i, false));
            if let Some(r) = f.restore_after {
                actions.push((f.at + r, i, true));
            }
        }
        actions.sort_by_key(|a| a.0);
        fault_times = vec![(0, None, 0); spec.faults.len()];
        let mut next_print = Duration::from_secs(1);
        let mut last = (0u64, Duration::ZERO);
        let mut result = Ok(());
        loop {
            let el = t0.elapsed();
            if el >= spec.duration {
                break;
            }
            let mut wake = spec.duration.min(next_print);
            if let Some(&(at, i, restore)) = actions.first() {
                if el >= at {
                    actions.remove(0);
                    let f = spec.faults[i];
                    let member = if restore {
                        fault_times[i].2
                    } else {
                        f.member
                            .unwrap_or_else(|| busiest(live, wiring.members.len()))
                    };
                    fault_times[i].2 = member;
                    let m = &wiring.members[member];
                    let port = wiring.member_ports[member];
                    if restore {
                        let rc = dataplane::port::set_link_of(port, true);
                        fault_times[i].1 = Some(dataplane::eal::tsc());
                        m.cut.on.store(false, Ordering::Release);
                        if let Err(rc) = rc {
                            result = Err(anyhow::anyhow!(
                                "bringing {} back up: DPDK error {rc}",
                                wiring.member_names[member]
                            ));
                        }
                    } else {
                        let queued: u32 = m.ends.iter().map(|e| e.queued()).sum();
                        m.cut.grace.store(queued, Ordering::Relaxed);
                        m.cut.on.store(true, Ordering::Release);
                        fault_times[i].0 = dataplane::eal::tsc();
                        if let Err(rc) = dataplane::port::set_link_of(port, false) {
                            result = Err(anyhow::anyhow!(
                                "taking {} down: DPDK error {rc}",
                                wiring.member_names[member]
                            ));
                        }
                    }
                    continue;
                }
                wake = wake.min(at);
            }
            if el >= next_print {
                if let Some(label) = progress {
                    let rx = if by_stats {
                        let now = tx_packets();
                        now.iter().zip(&stats_before).map(|(a, b)| a - b).sum()
                    } else {
                        live.received.load(Ordering::Relaxed)
                    };
                    let sent = live.sent.load(Ordering::Relaxed);
                    let rate = (rx - last.0) as f64 / (el - last.1).as_secs_f64();
                    last = (rx, el);
                    let lost = sent.saturating_sub(rx / spec.copies);
                    eprint!(
                        "\r{label}: {:8.3} Mpps received, {:.4} % not (yet) received, {:5.1} s elapsed, {:5.1} s to go   ",
                        rate / 1e6,
                        if sent == 0 {
                            0.0
                        } else {
                            100.0 * lost as f64 / sent as f64
                        },
                        el.as_secs_f64(),
                        spec.duration.saturating_sub(el).as_secs_f64(),
                    );
                }
                next_print += Duration::from_secs(1);
            }
            std::thread::sleep(wake.saturating_sub(el).min(Duration::from_millis(50)));
        }
        live.stop_gen.store(true, Ordering::Relaxed);
        let gen_waits = gen_handle
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("generator thread panicked"))
            })
            .transpose()?;
        // Let the device drain: stop once nothing arrived for 30 ms (at most 2 s).
        let count = || {
            if by_stats {
                tx_packets().iter().sum()
            } else {
                live.received.load(Ordering::Relaxed)
            }
        };
        let mut seen = count();
        let mut quiet = Instant::now();
        let drain = Instant::now();
        while quiet.elapsed() < Duration::from_millis(30)
            && drain.elapsed() < Duration::from_secs(2)
        {
            std::thread::sleep(Duration::from_millis(2));
            let now = count();
            if now != seen {
                seen = now;
                quiet = Instant::now();
            }
        }
        live.stop_rx.store(true, Ordering::Relaxed);
        let (accounts, waits) = rx_handle
            .join()
            .map_err(|_| anyhow::anyhow!("receiver thread panicked"))?;
        if progress.is_some() {
            eprintln!();
        }
        result?;
        Ok((
            accounts,
            live.sent.load(Ordering::Relaxed),
            live.refused.load(Ordering::Relaxed),
            gen_waits.unwrap_or(waits),
        ))
    })?;
    // Members left cut by a fault with no restore come back for the next trial.
    for (f, t) in spec.faults.iter().zip(&fault_times) {
        if f.restore_after.is_none() {
            let _ = dataplane::port::set_link_of(wiring.member_ports[t.2], true);
            wiring.members[t.2].cut.on.store(false, Ordering::Release);
        }
    }
    let stats = by_stats.then(|| {
        tx_packets()
            .iter()
            .zip(&stats_before)
            .map(|(a, b)| a - b)
            .collect::<Vec<u64>>()
    });
    let shares = wiring
        .member_counts
        .as_ref()
        .zip(counts_before)
        .map(|(c, before)| {
            c().iter()
                .zip(&before)
                .map(|(a, b)| a - b)
                .collect::<Vec<u64>>()
        });
    Ok(outcome(
        dut,
        stats.as_deref(),
        shares.as_deref(),
        wiring,
        traffic.sizes.mean(),
        spec,
        &accounts,
        sent,
        refused,
        pool_waits,
        &fault_times,
    ))
}

#[allow(clippy::too_many_arguments)]
fn outcome(
    dut: &str,
    stats: Option<&[u64]>,
    shares: Option<&[u64]>,
    wiring: &Wiring,
    mean_size: f64,
    spec: &TrialSpec,
    a: &Accounts,
    sent: u64,
    refused: u64,
    pool_waits: u64,
    fault_times: &[(u64, Option<u64>, usize)],
) -> Outcome {
    let hz = dataplane::eal::tsc_hz() as f64;
    let us = |ticks: u64| ticks as f64 * 1e6 / hz;
    let mut t = a.totals;
    let mut per_member = a.per_member.clone();
    if let Some(st) = stats {
        per_member = st.to_vec();
        let total: u64 = st.iter().sum();
        t.received = total;
        t.distinct = total / spec.copies;
        t.duplicates = total - t.distinct;
    }
    if let Some(sh) = shares {
        per_member = sh.to_vec();
    }
    let t = &t;
    let secs = spec.duration.as_secs_f64();
    let offered = sent + refused;
    let lost = offered.saturating_sub(t.distinct);
    let h = &a.latency;
    let latency_us = if h.is_empty() {
        Latency::default()
    } else {
        Latency {
            min: us(h.min()),
            mean: h.mean() * 1e6 / hz,
            p50: us(h.value_at_quantile(0.5)),
            p90: us(h.value_at_quantile(0.9)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
        }
    };
    let mut latency_cdf = Vec::new();
    if !h.is_empty() {
        for q in [
            0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0,
        ] {
            latency_cdf.push((us(h.value_at_quantile(q)), q));
        }
    }
    let members = member_shares(&per_member, &wiring.member_names);
    // 10 ms steps of the 1 ms timeline, over the generation time.
    let steps = (spec.duration.as_millis() as usize).div_ceil(10);
    let timeline_pps = (0..steps)
        .map(|s| {
            let mut n = 0u64;
            for b in s * 10..(s * 10 + 10).min(a.bins()) {
                for m in 0..a.members() {
                    n += u64::from(a.timeline[b * a.members() + m]);
                }
            }
            n as f64 * 100.0 / spec.copies as f64
        })
        .collect();
    let end_tsc = u64::MAX;
    let faults = spec
        .faults
        .iter()
        .zip(fault_times)
        .map(|(_, &(tf, tr, member))| {
            let until = tr.unwrap_or(end_tsc);
            let cut_last = a.cut_last_tsc[member];
            let gap = if a.cut_count[member] > 0 && cut_last > tf {
                us(cut_last - tf)
            } else {
                a.last_hole_end(tf, until)
                    .map_or(0.0, |e| us(e.saturating_sub(tf)))
            };
            // Frames the bond sent into the dead link, counted one by one where the member
            // is read; else the sequence holes of the window (which also hold whatever the
            // device's ingress refused meanwhile).
            let lost = if a.cut_count[member] > 0 {
                a.cut_count[member]
            } else {
                a.lost_between(tf, until).max(0) as u64
            };
            FaultOutcome {
                member: wiring.member_names[member].clone(),
                at_ms: us(tf.saturating_sub(a.start_tsc())) / 1e3,
                gap_us: gap,
                lost,
                reordered: a.reordered_between(tf, until),
                restore_at_ms: tr.map(|r| us(r.saturating_sub(a.start_tsc())) / 1e3),
                restore_lost: tr.map_or(0, |r| a.lost_between(r, end_tsc).max(0) as u64),
                restore_reordered: tr.map_or(0, |r| a.reordered_between(r, end_tsc)),
            }
        })
        .collect();
    let extra_copies = t.distinct * spec.copies.saturating_sub(1);
    Outcome {
        dut: dut.to_owned(),
        offered_pps: spec.pps,
        duration_s: secs,
        sent,
        refused,
        received: t.received,
        distinct: t.distinct,
        lost,
        loss_pct: if offered == 0 {
            0.0
        } else {
            100.0 * lost as f64 / offered as f64
        },
        reordered: t.reordered,
        duplicates: t.duplicates.saturating_sub(extra_copies),
        late: t.late,
        foreign: t.foreign,
        tx_pps: sent as f64 / secs,
        rx_pps: t.distinct as f64 / secs,
        rx_gbps: t.distinct as f64 / secs * (mean_size + WIRE_OVERHEAD as f64) * 8.0 / 1e9,
        latency_us,
        fairness: jain(&per_member),
        per_frame: stats.is_none(),
        members,
        faults,
        timeline_pps,
        latency_cdf,
        gen_pool_waits: pool_waits,
    }
}
