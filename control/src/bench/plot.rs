//! Plots as SVG, written by hand: throughput over time with faults marked, and the latency
//! CDF, one line per device (its last run).

use super::trial::Outcome;
use std::fmt::Write;

const W: f64 = 800.0;
const H: f64 = 420.0;
const L: f64 = 70.0;
const R: f64 = 20.0;
const T: f64 = 40.0;
const B: f64 = 50.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

fn frame(title: &str, xlabel: &str, ylabel: &str, xmax: f64, ymax: f64, xlog: bool) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>
<line x1="{L}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{L}" y1="{T}" x2="{L}" y2="{}" stroke="black"/>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>
"#,
        W / 2.0,
        esc(title),
        H - B,
        W - R,
        H - B,
        H - B,
        (L + W - R) / 2.0,
        H - 12.0,
        esc(xlabel),
        (T + H - B) / 2.0,
        (T + H - B) / 2.0,
        esc(ylabel),
    );
    for i in 0..=5 {
        let f = f64::from(i) / 5.0;
        let y = H - B - f * (H - B - T);
        let _ = writeln!(
            s,
            r##"<line x1="{L}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - R,
            L - 6.0,
            y + 4.0,
            num(ymax * f)
        );
        let x = L + f * (W - L - R);
        let xv = if xlog {
            10f64.powf(f * xmax.log10())
        } else {
            xmax * f
        };
        let _ = writeln!(
            s,
            r#"<text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            H - B + 16.0,
            num(xv)
        );
    }
    s
}

fn num(v: f64) -> String {
    if v >= 100.0 || v == 0.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn legend(s: &mut String, names: &[String]) {
    for (i, n) in names.iter().enumerate() {
        let y = T + 14.0 + 16.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="3" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            W - R - 150.0,
            y - 4.0,
            COLOURS[i % COLOURS.len()],
            W - R - 132.0,
            y,
            esc(n)
        );
    }
}

/// Received frames per second over time, one line per run given, faults as dashed lines.
pub fn throughput(title: &str, runs: &[&Outcome]) -> String {
    let step_s = 0.01;
    let xmax = runs
        .iter()
        .map(|o| o.timeline_pps.len() as f64 * step_s)
        .fold(0.1, f64::max);
    let ymax = runs
        .iter()
        .flat_map(|o| o.timeline_pps.iter())
        .copied()
        .fold(0.0, f64::max)
        / 1e6
        * 1.1;
    let ymax = if ymax > 0.0 { ymax } else { 1.0 };
    let mut s = frame(title, "time (s)", "received (Mpps)", xmax, ymax, false);
    let px = |t: f64| L + t / xmax * (W - L - R);
    let py = |v: f64| H - B - v / ymax * (H - B - T);
    for (i, o) in runs.iter().enumerate() {
        let pts: Vec<String> = o
            .timeline_pps
            .iter()
            .enumerate()
            .map(|(k, v)| format!("{:.1},{:.1}", px(k as f64 * step_s), py(v / 1e6)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
            COLOURS[i % COLOURS.len()],
            pts.join(" ")
        );
        for f in &o.faults {
            for (t, what) in [
                (Some(f.at_ms), format!("{} down", f.member)),
                (f.restore_at_ms, format!("{} up", f.member)),
            ] {
                if let Some(t) = t {
                    let x = px(t / 1e3);
                    let _ = writeln!(
                        s,
                        r#"<line x1="{x:.1}" y1="{T}" x2="{x:.1}" y2="{}" stroke="{}" stroke-dasharray="4 3"/><text x="{:.1}" y="{}" font-size="10">{}</text>"#,
                        H - B,
                        COLOURS[i % COLOURS.len()],
                        x + 3.0,
                        T + 10.0 + 12.0 * i as f64,
                        esc(&what)
                    );
                }
            }
        }
    }
    legend(
        &mut s,
        &runs.iter().map(|o| o.dut.clone()).collect::<Vec<_>>(),
    );
    s.push_str("</svg>\n");
    s
}

/// Latency CDF (log-scale latency axis), one line per run given.
pub fn latency_cdf(title: &str, runs: &[&Outcome]) -> String {
    let xmax = runs
        .iter()
        .flat_map(|o| o.latency_cdf.iter().map(|p| p.0))
        .fold(1.0, f64::max)
        * 1.2;
    let mut s = frame(
        title,
        "one-way latency (µs, log)",
        "fraction of frames",
        xmax,
        1.0,
        true,
    );
    let px = |v: f64| L + (v.max(1.0).log10() / xmax.log10()) * (W - L - R);
    let py = |q: f64| H - B - q * (H - B - T);
    for (i, o) in runs.iter().enumerate() {
        let pts: Vec<String> = o
            .latency_cdf
            .iter()
            .map(|&(v, q)| format!("{:.1},{:.1}", px(v), py(q)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
            COLOURS[i % COLOURS.len()],
            pts.join(" ")
        );
    }
    legend(
        &mut s,
        &runs.iter().map(|o| o.dut.clone()).collect::<Vec<_>>(),
    );
    s.push_str("</svg>\n");
    s
}
