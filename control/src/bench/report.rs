//! What an experiment prints: a table for people, JSON and CSV for machines, the
//! side-by-side ratios, and the pass/fail verdict on criteria given on the command line.

use super::experiment::Results;
use super::trial::Outcome;
use serde::Serialize;
use std::io::Write;

/// Medians over the repetitions of one device.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub dut: String,
    pub runs: usize,
    pub rx_mpps: f64,
    pub rx_gbps: f64,
    pub loss_pct: f64,
    pub reordered: u64,
    pub duplicates: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    pub fairness: f64,
    /// Latency, reordering and duplicates were measured frame by frame.
    pub per_frame: bool,
    /// Failover runs: gap median and max, loss median and max.
    pub gap_median_us: Option<f64>,
    pub gap_max_us: Option<f64>,
    pub fault_lost_median: Option<u64>,
    pub fault_lost_max: Option<u64>,
    pub restore_reordered_max: Option<u64>,
}

/// A ratio of two devices' median throughput.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub of: String,
    pub to: String,
    pub ratio: f64,
}

/// A criterion and whether it held.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub criterion: String,
    pub dut: String,
    pub value: f64,
    pub limit: f64,
    pub pass: bool,
}

/// Limits given on the command line (None: not checked).
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    pub min_mpps: Option<f64>,
    pub max_loss_pct: Option<f64>,
    pub max_p99_us: Option<f64>,
    pub max_gap_ms: Option<f64>,
    /// Median throughput of the first DUT over the second.
    pub min_ratio: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub experiment: String,
    pub setup: serde_json::Value,
    pub summaries: Vec<Summary>,
    pub ratios: Vec<Ratio>,
    #[serde(flatten)]
    pub results: Results,
    pub verdicts: Vec<Verdict>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn summarise(dut: &str, runs: &[&Outcome]) -> Summary {
    let m = |f: &dyn Fn(&Outcome) -> f64| median(runs.iter().map(|o| f(o)).collect());
    let faults: Vec<_> = runs.iter().flat_map(|o| &o.faults).collect();
    let gaps: Vec<f64> = faults.iter().map(|f| f.gap_us).collect();
    let lost: Vec<f64> = faults.iter().map(|f| f.lost as f64).collect();
    Summary {
        dut: dut.to_owned(),
        runs: runs.len(),
        rx_mpps: m(&|o| o.rx_pps / 1e6),
        rx_gbps: m(&|o| o.rx_gbps),
        loss_pct: m(&|o| o.loss_pct),
        reordered: runs.iter().map(|o| o.reordered).max().unwrap_or(0),
        duplicates: runs.iter().map(|o| o.duplicates).max().unwrap_or(0),
        p50_us: m(&|o| o.latency_us.p50),
        p99_us: m(&|o| o.latency_us.p99),
        p999_us: m(&|o| o.latency_us.p999),
        max_us: runs.iter().map(|o| o.latency_us.max).fold(0.0, f64::max),
        fairness: m(&|o| o.fairness),
        per_frame: runs.iter().all(|o| o.per_frame),
        gap_median_us: (!gaps.is_empty()).then(|| median(gaps.clone())),
        gap_max_us: (!gaps.is_empty()).then(|| gaps.iter().copied().fold(0.0, f64::max)),
        fault_lost_median: (!lost.is_empty()).then(|| median(lost.clone()) as u64),
        fault_lost_max: (!lost.is_empty()).then(|| lost.iter().copied().fold(0.0, f64::max) as u64),
        restore_reordered_max: faults.iter().map(|f| f.restore_reordered).max(),
    }
}

impl Report {
    /// Summaries, ratios and verdicts from the raw results. For an RFC 2544 search the
    /// summary is of the trial at the rate found.
    pub fn new(
        experiment: &str,
        setup: serde_json::Value,
        duts: &[String],
        results: Results,
        criteria: &Criteria,
    ) -> Report {
        let summaries: Vec<Summary> = duts
            .iter()
            .map(|d| {
                let runs: Vec<&Outcome> = if results.searches.is_empty() {
                    results.runs.iter().filter(|o| &o.dut == d).collect()
                } else {
                    results
                        .searches
                        .iter()
                        .filter(|s| &s.dut == d)
                        .filter_map(|s| s.at_rate.as_ref())
                        .collect()
                };
                summarise(d, &runs)
            })
            .collect();
        let mut ratios = Vec::new();
        for (i, a) in summaries.iter().enumerate() {
            for b in &summaries[i + 1..] {
                let (x, y) = if results.searches.is_empty() {
                    (a.rx_mpps, b.rx_mpps)
                } else {
                    let z = |d: &str| {
                        results
                            .searches
                            .iter()
                            .find(|s| s.dut == d)
                            .map_or(0.0, |s| s.zero_loss_pps)
                    };
                    (z(&a.dut), z(&b.dut))
                };
                if y > 0.0 {
                    ratios.push(Ratio {
                        of: a.dut.clone(),
                        to: b.dut.clone(),
                        ratio: x / y,
                    });
                }
            }
        }
        let mut verdicts = Vec::new();
        for s in &summaries {
            let mut check = |name: &str, value: f64, limit: Option<f64>, below: bool| {
                if let Some(l) = limit {
                    verdicts.push(Verdict {
                        criterion: name.to_owned(),
                        dut: s.dut.clone(),
                        value,
                        limit: l,
                        pass: if below { value <= l } else { value >= l },
                    });
                }
            };
            let mpps = if results.searches.is_empty() {
                s.rx_mpps
            } else {
                results
                    .searches
                    .iter()
                    .find(|x| x.dut == s.dut)
                    .map_or(0.0, |x| x.zero_loss_pps / 1e6)
            };
            check("min-mpps", mpps, criteria.min_mpps, false);
            check("max-loss", s.loss_pct, criteria.max_loss_pct, true);
            check("max-p99-us", s.p99_us, criteria.max_p99_us, true);
            if let Some(g) = s.gap_max_us {
                check("max-gap-ms", g / 1e3, criteria.max_gap_ms, true);
            }
        }
        if let (Some(l), Some(r)) = (criteria.min_ratio, ratios.first()) {
            verdicts.push(Verdict {
                criterion: "min-ratio".into(),
                dut: format!("{}/{}", r.of, r.to),
                value: r.ratio,
                limit: l,
                pass: r.ratio >= l,
            });
        }
        Report {
            experiment: experiment.to_owned(),
            setup,
            summaries,
            ratios,
            results,
            verdicts,
        }
    }

    /// True when every criterion held.
    pub fn passed(&self) -> bool {
        self.verdicts.iter().all(|v| v.pass)
    }

    /// The human table.
    pub fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "\n{}", self.experiment)?;
        writeln!(
            out,
            "{:<12} {:>4} {:>9} {:>8} {:>9} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}  shares",
            "device",
            "runs",
            "Mpps",
            "Gbit/s",
            "loss %",
            "reorder",
            "dup",
            "p50 µs",
            "p99 µs",
            "p99.9 µs",
            "max µs",
            "Jain"
        )?;
        for s in &self.summaries {
            let shares: Vec<String> = self
                .results
                .runs
                .iter()
                .rev()
                .find(|o| o.dut == s.dut)
                .map(|o| {
                    o.members
                        .iter()
                        .map(|m| format!("{} {:.1}%", m.member, m.share * 100.0))
                        .collect()
                })
                .unwrap_or_default();
            let pf = |v: String| if s.per_frame { v } else { "-".into() };
            writeln!(
                out,
                "{:<12} {:>4} {:>9.3} {:>8.2} {:>9.4} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6.3}  {}",
                s.dut,
                s.runs,
                s.rx_mpps,
                s.rx_gbps,
                s.loss_pct,
                pf(s.reordered.to_string()),
                pf(s.duplicates.to_string()),
                pf(format!("{:.1}", s.p50_us)),
                pf(format!("{:.1}", s.p99_us)),
                pf(format!("{:.1}", s.p999_us)),
                pf(format!("{:.1}", s.max_us)),
                s.fairness,
                shares.join(", ")
            )?;
        }
        for x in &self.results.searches {
            writeln!(
                out,
                "RFC 2544 {}: zero-loss {:.3} Mpps (capacity {:.3} Mpps, {} trials)",
                x.dut,
                x.zero_loss_pps / 1e6,
                x.capacity_pps / 1e6,
                x.trials
            )?;
        }
        if self.setup.get("source").and_then(|v| v.as_str()) == Some("replay") {
            writeln!(
                out,
                "(-: a net_pcap replay read by the device's worker into net_null ports, counted \
                 by port statistics; Mpps is the median of 250 ms windows, and loss includes \
                 the frames still in flight when the counting stops)"
            )?;
        } else if self.summaries.iter().any(|s| !s.per_frame) {
            writeln!(
                out,
                "(-: net_null members, counted by port statistics; latency and reordering need \
                 --sink ring, which net_bonding cannot use)"
            )?;
        }
        for s in &self.summaries {
            if let (Some(gm), Some(gx)) = (s.gap_median_us, s.gap_max_us) {
                writeln!(
                    out,
                    "failover {}: gap median {:.0} µs, max {:.0} µs; lost median {}, max {}; \
                     reordered on return at most {}",
                    s.dut,
                    gm,
                    gx,
                    s.fault_lost_median.unwrap_or(0),
                    s.fault_lost_max.unwrap_or(0),
                    s.restore_reordered_max.unwrap_or(0)
                )?;
            }
        }
        for r in &self.ratios {
            writeln!(out, "ratio {} / {}: {:.3}", r.of, r.to, r.ratio)?;
        }
        for v in &self.verdicts {
            writeln!(
                out,
                "{} {} {}: {:.3} (limit {})",
                if v.pass { "PASS" } else { "FAIL" },
                v.criterion,
                v.dut,
                v.value,
                v.limit
            )?;
        }
        Ok(())
    }

    /// One CSV line per trial.
    pub fn csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "dut,offered_pps,duration_s,sent,refused,received,distinct,lost,loss_pct,reordered,\
             duplicates,tx_pps,rx_pps,rx_gbps,lat_p50_us,lat_p99_us,lat_p999_us,lat_max_us,\
             fairness,fault_member,gap_us,fault_lost,restore_reordered"
        )?;
        for o in &self.results.runs {
            let f = o.faults.first();
            writeln!(
                out,
                "{},{},{:.3},{},{},{},{},{},{:.6},{},{},{:.0},{:.0},{:.4},{:.2},{:.2},{:.2},{:.2},{:.4},{},{},{},{}",
                o.dut,
                o.offered_pps
                    .map_or(String::from("max"), |p| format!("{p:.0}")),
                o.duration_s,
                o.sent,
                o.refused,
                o.received,
                o.distinct,
                o.lost,
                o.loss_pct,
                o.reordered,
                o.duplicates,
                o.tx_pps,
                o.rx_pps,
                o.rx_gbps,
                o.latency_us.p50,
                o.latency_us.p99,
                o.latency_us.p999,
                o.latency_us.max,
                o.fairness,
                f.map_or("", |f| f.member.as_str()),
                f.map_or(String::new(), |f| format!("{:.1}", f.gap_us)),
                f.map_or(String::new(), |f| f.lost.to_string()),
                f.map_or(String::new(), |f| f.restore_reordered.to_string()),
            )?;
        }
        Ok(())
    }
}
