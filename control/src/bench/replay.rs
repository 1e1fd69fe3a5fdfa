//! `--source replay`: a trial with no generator. The device's own worker reads a `net_pcap`
//! port that replays one frame per flow in a loop and ends in `net_null` ports, so no other
//! core touches the frames and the worker's cost per frame alone sets the rate. Frames are
//! counted by port statistics, sampled every 10 ms while the control loop runs on the calling
//! thread of [`super::experiment`]'s `with_rig`.

use super::account::jain;
use super::engine::Generator;
use super::traffic::WIRE_OVERHEAD;
use super::trial::{Latency, Outcome, Wiring, member_shares};
use anyhow::Context as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Sampling step of the port statistics (and of the timeline).
const STEP: Duration = Duration::from_millis(10);
/// Throughput is the median of windows this long: a stall of the host (this VM has them)
/// spoils a window, not the figure.
const WINDOW: Duration = Duration::from_millis(250);
/// Traffic before the counting starts (the source runs from the rig's start).
const WARM_UP: Duration = Duration::from_millis(300);
/// Flows (frames in the replay file) at most; `Setup::validate` refuses more.
pub const MAX_FLOWS: u64 = 8192;

/// Writes the replay file: one frame per flow, in flow order, sizes cycling through the
/// traffic's size classes as the generator's do. The flow count has been checked against
/// [`MAX_FLOWS`].
pub fn write_file(generator: &Generator, path: &Path) -> anyhow::Result<()> {
    let traffic = generator.traffic();
    let frames: Vec<Vec<u8>> = (0..traffic.flows())
        .map(|f| generator.frame(traffic.sizes.class_of(f), f as u32, 0, 0))
        .collect();
    crate::pcap::write_file(path, frames.iter().map(Vec::as_slice))
        .with_context(|| format!("writing the replay file {}", path.display()))
}

fn stats(port: u16) -> anyhow::Result<dataplane::port::PortStats> {
    dataplane::port::stats_of(port)
        .map_err(|rc| anyhow::anyhow!("statistics of port {port}: DPDK error {rc}"))
}

/// One trial of `duration` on a running replay rig. `copies`: frames the sinks see per frame
/// handed to the device (broadcast: one per member).
pub fn trial(
    dut: &str,
    wiring: &Wiring,
    duration: Duration,
    copies: u64,
    mean_size: f64,
) -> anyhow::Result<Outcome> {
    let counted = wiring
        .counted
        .as_ref()
        .context("a replay trial on a rig with no counting points")?;
    let read = || -> anyhow::Result<(u64, u64)> {
        let src = stats(counted.src)?.rx_packets;
        let mut out = 0;
        for &p in &counted.out {
            out += stats(p)?.tx_packets;
        }
        Ok((src, out))
    };
    let shares = || -> Vec<u64> {
        match &wiring.member_counts {
            Some(count) => count(),
            None => wiring
                .member_ports
                .iter()
                .map(|&p| dataplane::port::stats_of(p).map_or(0, |s| s.tx_packets))
                .collect(),
        }
    };
    std::thread::sleep(WARM_UP);
    let m0 = shares();
    let (src0, out0) = read()?;
    let t0 = Instant::now();
    // (time since t0, frames out so far)
    let mut samples = vec![(Duration::ZERO, out0)];
    let mut src1 = src0;
    while samples.last().is_some_and(|s| s.0 < duration) {
        let next = t0 + STEP * samples.len() as u32;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let (src, out) = read()?;
        samples.push((t0.elapsed(), out));
        src1 = src;
    }
    let m1 = shares();
    let (secs, out1) = samples
        .last()
        .map_or((0.0, out0), |s| (s.0.as_secs_f64(), s.1));
    anyhow::ensure!(secs > 0.0, "{dut}: an empty replay trial");
    let copies = copies.max(1);
    let rate = |a: &(Duration, u64), b: &(Duration, u64)| {
        (b.1 - a.1) as f64 / copies as f64 / (b.0 - a.0).as_secs_f64().max(1e-9)
    };
    let timeline_pps: Vec<f64> = samples.windows(2).map(|w| rate(&w[0], &w[1])).collect();
    let per_window = (WINDOW.as_millis() / STEP.as_millis()) as usize;
    let mut windows: Vec<f64> = samples
        .iter()
        .step_by(per_window)
        .zip(samples.iter().skip(per_window).step_by(per_window))
        .map(|(a, b)| rate(a, b))
        .collect();
    windows.sort_by(f64::total_cmp);
    let received = (out1 - out0) / copies;
    let rx_pps = match windows.len() {
        0 => received as f64 / secs,
        n => windows[n / 2],
    };
    let sent = src1 - src0;
    let lost = sent.saturating_sub(received);
    let per_member: Vec<u64> = m1.iter().zip(&m0).map(|(b, a)| b - a).collect();
    let members = member_shares(&per_member, &wiring.member_names);
    Ok(Outcome {
        dut: dut.to_owned(),
        offered_pps: None,
        duration_s: secs,
        sent,
        refused: 0,
        received,
        distinct: received,
        lost,
        loss_pct: if sent == 0 {
            0.0
        } else {
            100.0 * lost as f64 / sent as f64
        },
        reordered: 0,
        duplicates: 0,
        late: 0,
        foreign: 0,
        tx_pps: sent as f64 / secs,
        rx_pps,
        rx_gbps: rx_pps * (mean_size + WIRE_OVERHEAD as f64) * 8.0 / 1e9,
        latency_us: Latency::default(),
        per_frame: false,
        fairness: jain(&per_member),
        members,
        faults: Vec::new(),
        timeline_pps,
        latency_cdf: Vec::new(),
        gen_pool_waits: 0,
    })
}
