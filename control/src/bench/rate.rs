//! Offered load: as fast as possible, or a rate in frames/s, bit/s or percent of the link,
//! and the generator's pacing from the TSC.
//!
//! Bit rates count what a frame occupies on the wire: the frame with its FCS plus 20 bytes
//! of preamble, start delimiter and inter-frame gap, so 100 % of 10 GbE at 64 bytes is
//! 10^10 / (84 × 8) = 14.88 Mpps.

use super::traffic::WIRE_OVERHEAD;

/// A requested rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// As fast as the device under test accepts: the generator waits when its queue is full.
    Max,
    Pps(f64),
    /// On-wire bits per second.
    Bps(f64),
    /// Percent of the link speed.
    Percent(f64),
}

impl std::str::FromStr for Rate {
    type Err = String;
    /// "max", "2.5Mpps", "100kpps", "1000pps", "10Gbps", "500Mbit", "40%".
    fn from_str(s: &str) -> Result<Rate, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("max") {
            return Ok(Rate::Max);
        }
        let bad = || {
            format!(
                "rate {s:?}: expected \"max\", a frame rate (1000pps, 250kpps, 2.5Mpps), \
                 a bit rate (800Mbps, 10Gbps) or a percentage of the link (40%)"
            )
        };
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (num, unit) = t.split_at(split);
        let v: f64 = num.parse().map_err(|_| bad())?;
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("rate {s:?}: must be more than zero"));
        }
        let unit = unit.trim().to_ascii_lowercase();
        let mult = |p: &str| match p {
            "" => Some(1.0),
            "k" => Some(1e3),
            "m" => Some(1e6),
            "g" => Some(1e9),
            _ => None,
        };
        if unit == "%" {
            if v > 100.0 {
                return Err(format!("rate {s:?}: more than 100 % of the link"));
            }
            return Ok(Rate::Percent(v));
        }
        if let Some(p) = unit.strip_suffix("pps") {
            return mult(p).map(|m| Rate::Pps(v * m)).ok_or_else(bad);
        }
        for suffix in ["bps", "bit/s", "bit"] {
            if let Some(p) = unit.strip_suffix(suffix) {
                return mult(p).map(|m| Rate::Bps(v * m)).ok_or_else(bad);
            }
        }
        Err(bad())
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rate::Max => write!(f, "max"),
            Rate::Pps(p) => write!(f, "{:.3} Mpps", p / 1e6),
            Rate::Bps(b) => write!(f, "{:.3} Gbit/s", b / 1e9),
            Rate::Percent(p) => write!(f, "{p}% of the link"),
        }
    }
}

/// Frames per second the link carries at most with frames of mean on-wire size `mean`.
pub fn line_rate_pps(link_mbps: u32, mean: f64) -> f64 {
    f64::from(link_mbps) * 1e6 / ((mean + WIRE_OVERHEAD as f64) * 8.0)
}

impl Rate {
    /// Frames per second, or None for [`Rate::Max`]. Refuses a rate the link cannot carry.
    pub fn pps(&self, link_mbps: u32, mean: f64) -> Result<Option<f64>, String> {
        let line = line_rate_pps(link_mbps, mean);
        let pps = match *self {
            Rate::Max => return Ok(None),
            Rate::Pps(p) => p,
            Rate::Bps(b) => b / ((mean + WIRE_OVERHEAD as f64) * 8.0),
            Rate::Percent(p) => line * p / 100.0,
        };
        if pps > line * 1.000_001 {
            return Err(format!(
                "rate {self} is {:.3} Mpps, more than the line rate of a {} Mbit/s link at \
                 {mean:.0}-byte frames ({:.3} Mpps); raise --link-speed if the path is faster",
                pps / 1e6,
                link_mbps,
                line / 1e6
            ));
        }
        Ok(Some(pps))
    }
}

/// Paces frames against the TSC: how many are due now.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: u64,
    /// Frames per second × 2^16 / TSC Hz, as a fixed-point ratio applied to elapsed ticks.
    per_tick_q16: u128,
    sent: u64,
}

impl Pacer {
    pub fn new(pps: f64, tsc_hz: u64, start: u64) -> Pacer {
        Pacer {
            start,
            per_tick_q16: ((pps * 65536.0) as u128 * 1_000_000) / u128::from(tsc_hz),
            sent: 0,
        }
    }

    /// Frames due at `now` that were not yet sent, at most `max`.
    #[inline]
    pub fn due(&self, now: u64, max: usize) -> usize {
        let elapsed = u128::from(now.saturating_sub(self.start));
        let total = ((elapsed * self.per_tick_q16 / 1_000_000) >> 16) as u64;
        (total.saturating_sub(self.sent) as usize).min(max)
    }

    /// Records `n` frames as sent.
    #[inline]
    pub fn sent(&mut self, n: usize) {
        self.sent += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_and_refuses_nonsense() {
        assert_eq!("max".parse::<Rate>(), Ok(Rate::Max));
        assert_eq!("2.5Mpps".parse::<Rate>(), Ok(Rate::Pps(2.5e6)));
        assert_eq!("100kpps".parse::<Rate>(), Ok(Rate::Pps(1e5)));
        assert_eq!("10Gbps".parse::<Rate>(), Ok(Rate::Bps(1e10)));
        assert_eq!("500Mbit".parse::<Rate>(), Ok(Rate::Bps(5e8)));
        assert_eq!("40%".parse::<Rate>(), Ok(Rate::Percent(40.0)));
        for bad in ["", "fast", "10", "10Xpps", "0pps", "120%", "-3pps"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn line_rate_counts_preamble_and_gap() {
        let l = line_rate_pps(10_000, 64.0);
        assert!((l - 14_880_952.4).abs() < 1.0, "{l}");
        assert_eq!(
            Rate::Percent(100.0).pps(10_000, 64.0).unwrap().unwrap() as u64,
            14_880_952
        );
        assert_eq!(
            Rate::Bps(1e9).pps(10_000, 1518.0).unwrap().unwrap() as u64,
            81_274
        );
        let e = Rate::Pps(20e6).pps(10_000, 64.0).unwrap_err();
        assert!(e.contains("line rate"), "{e}");
    }

    #[test]
    fn pacer_releases_frames_at_the_rate() {
        let hz = 2_000_000_000;
        let mut p = Pacer::new(1e6, hz, 1000);
        assert_eq!(p.due(1000, 32), 0);
        // 10 µs later: 10 frames due.
        assert_eq!(p.due(1000 + 20_000, 32), 10);
        p.sent(10);
        assert_eq!(p.due(1000 + 20_000, 32), 0);
        // A second later, 10^6 frames due in all, capped by the burst.
        assert_eq!(p.due(1000 + hz, 32), 32);
        let mut total = 10;
        while p.due(1000 + hz, 32) > 0 {
            let n = p.due(1000 + hz, 32);
            p.sent(n);
            total += n;
        }
        assert_eq!(total, 1_000_000);
    }
}
