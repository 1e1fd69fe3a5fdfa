//! The receiver's bookkeeping, apart from any DPDK: given (member, trailer, arrival time) it
//! counts frames, losses, reordering and duplicates per flow, records one-way latency in an
//! HDR histogram, each member's share, and a timeline for plots and failover analysis.
//!
//! Per flow it keeps the next expected sequence number and a 64-bit window of which of the
//! 64 numbers below it arrived. A jump forward opens a hole (counted lost for now); a number
//! inside the window that had not arrived fills the hole (reordered, no longer lost); one
//! that had is a duplicate. A number older than the window counts as reordered but cannot be
//! told from a duplicate ("late"). Loss in the final report is sent − distinct received,
//! which needs no window at all; holes and late arrivals are kept as timed events so that a
//! failover's loss and reordering can be attributed to the fault that caused them.
//!
//! Everything is allocated up front: `frame` neither allocates nor formats.

use hdrhistogram::Histogram;

/// Per-flow receive state.
#[derive(Debug, Clone, Copy)]
struct Flow {
    next: u32,
    /// Bit i set: sequence number `next - 1 - i` arrived.
    window: u64,
    /// Generation time of the newest frame seen.
    last_tsc: u64,
}

impl Default for Flow {
    fn default() -> Self {
        // Nothing below 0 is expected: a full window.
        Flow {
            next: 0,
            window: u64::MAX,
            last_tsc: 0,
        }
    }
}

/// A timed event for failover analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum EventKind {
    /// `count` frames of the flow never arrived (yet) between `from_tsc` and `to_tsc`.
    Hole,
    /// A frame arrived after a newer one of its flow, generated at `to_tsc`.
    Reordered,
    /// A frame arrived twice.
    Duplicate,
}

/// One event; times are generation TSCs.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Event {
    pub kind: EventKind,
    pub flow: u32,
    pub count: u32,
    /// Generation time of the last frame before the hole (holes), else of this frame.
    pub from_tsc: u64,
    /// Generation time of the frame that revealed the event.
    pub to_tsc: u64,
}

/// Counters of the whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Frames with our trailer.
    pub received: u64,
    /// Of those, not duplicates.
    pub distinct: u64,
    pub reordered: u64,
    pub duplicates: u64,
    /// Reordered by more than the 64-frame window (could also be duplicates).
    pub late: u64,
    /// Frames without our trailer, or with a flow id out of range.
    pub foreign: u64,
    /// Frames taken on a member while it was cut (what a dead link would have lost).
    pub cut: u64,
    /// Latencies outside the histogram's range.
    pub latency_overflow: u64,
    /// Events that did not fit the event log.
    pub events_dropped: u64,
}

/// The receiver's accounts.
pub struct Accounts {
    flows: Vec<Flow>,
    pub totals: Totals,
    /// Frames per member.
    pub per_member: Vec<u64>,
    /// One-way latency in TSC ticks.
    pub latency: Histogram<u64>,
    /// Frames per member per timeline bin (bin-major: `bins[bin * members + member]`).
    pub timeline: Vec<u32>,
    members: usize,
    /// Timeline bins (derived once; `frame` must not divide for it).
    bins: usize,
    start_tsc: u64,
    ticks_per_bin: u64,
    pub events: Vec<Event>,
    /// Per member: the newest generation TSC of a frame taken while it was cut.
    pub cut_last_tsc: Vec<u64>,
    /// Per member: frames taken while it was cut.
    pub cut_count: Vec<u64>,
}

impl Accounts {
    /// Room for `flows` flows, `members` members, a timeline of `bins` bins of
    /// `ticks_per_bin` from `start_tsc`, `max_events` events, and latencies up to
    /// `max_latency` ticks.
    pub fn new(
        flows: usize,
        members: usize,
        start_tsc: u64,
        ticks_per_bin: u64,
        bins: usize,
        max_events: usize,
        max_latency: u64,
    ) -> Accounts {
        Accounts {
            flows: vec![Flow::default(); flows],
            totals: Totals::default(),
            per_member: vec![0; members],
            latency: Histogram::new_with_bounds(1, max_latency.max(2), 3)
                .expect("valid histogram bounds"),
            timeline: vec![0; bins.max(1) * members],
            members,
            bins: bins.max(1),
            start_tsc,
            ticks_per_bin: ticks_per_bin.max(1),
            events: Vec::with_capacity(max_events),
            cut_last_tsc: vec![0; members],
            cut_count: vec![0; members],
        }
    }

    pub fn members(&self) -> usize {
        self.members
    }

    pub fn bins(&self) -> usize {
        self.bins
    }

    pub fn ticks_per_bin(&self) -> u64 {
        self.ticks_per_bin
    }

    pub fn start_tsc(&self) -> u64 {
        self.start_tsc
    }

    fn event(&mut self, e: Event) {
        if self.events.len() < self.events.capacity() {
            self.events.push(e);
        } else {
            self.totals.events_dropped += 1;
        }
    }

    /// A frame taken on a member that is cut: it counts as lost, as on a dead link.
    #[inline]
    pub fn cut(&mut self, member: usize, gen_tsc: u64) {
        self.totals.cut += 1;
        self.cut_count[member] += 1;
        let last = &mut self.cut_last_tsc[member];
        *last = (*last).max(gen_tsc);
    }

    /// A frame without our trailer.
    #[inline]
    pub fn foreign(&mut self) {
        self.totals.foreign += 1;
    }

    /// A frame of ours: `flow`, `seq` and `gen_tsc` from its trailer, arrived on `member` at
    /// `now` (TSC).
    #[inline]
    pub fn frame(&mut self, member: usize, flow: u32, seq: u32, gen_tsc: u64, now: u64) {
        let Some(f) = self.flows.get_mut(flow as usize) else {
            self.totals.foreign += 1;
            return;
        };
        let d = seq.wrapping_sub(f.next) as i32;
        let mut ev = None;
        if d >= 0 {
            // In order, or after a hole of d frames.
            if d > 0 {
                ev = Some(Event {
                    kind: EventKind::Hole,
                    flow,
                    count: d as u32,
                    from_tsc: f.last_tsc,
                    to_tsc: gen_tsc,
                });
            }
            let shift = d as u32 + 1;
            f.window = if shift >= 64 {
                1
            } else {
                (f.window << shift) | 1
            };
            f.next = seq.wrapping_add(1);
            f.last_tsc = gen_tsc;
            self.totals.distinct += 1;
        } else {
            let back = (-(d as i64)) as u32; // 1 = the frame just before `next`
            if back > 64 {
                self.totals.late += 1;
                self.totals.reordered += 1;
                self.totals.distinct += 1;
            } else {
                let bit = 1u64 << (back - 1);
                if f.window & bit != 0 {
                    self.totals.duplicates += 1;
                    ev = Some(Event {
                        kind: EventKind::Duplicate,
                        flow,
                        count: 1,
                        from_tsc: gen_tsc,
                        to_tsc: gen_tsc,
                    });
                } else {
                    f.window |= bit;
                    self.totals.reordered += 1;
                    self.totals.distinct += 1;
                    ev = Some(Event {
                        kind: EventKind::Reordered,
                        flow,
                        count: 1,
                        from_tsc: gen_tsc,
                        to_tsc: gen_tsc,
                    });
                }
            }
        }
        self.totals.received += 1;
        self.per_member[member] += 1;
        if self
            .latency
            .record(now.saturating_sub(gen_tsc).max(1))
            .is_err()
        {
            self.totals.latency_overflow += 1;
        }
        let bin =
            ((now.saturating_sub(self.start_tsc) / self.ticks_per_bin) as usize).min(self.bins - 1);
        self.timeline[bin * self.members + member] += 1;
        if let Some(e) = ev {
            self.event(e);
        }
    }

    /// Frames lost in holes whose revealing frame was generated in `[from, to)`, minus late
    /// fills in that span: loss attributable to something that happened then.
    pub fn lost_between(&self, from: u64, to: u64) -> i64 {
        self.events
            .iter()
            .filter(|e| e.to_tsc >= from && e.to_tsc < to)
            .map(|e| match e.kind {
                EventKind::Hole => i64::from(e.count),
                EventKind::Reordered => -1,
                EventKind::Duplicate => 0,
            })
            .sum()
    }

    /// Reordered frames generated in `[from, to)`.
    pub fn reordered_between(&self, from: u64, to: u64) -> u64 {
        self.events
            .iter()
            .filter(|e| e.kind == EventKind::Reordered && e.to_tsc >= from && e.to_tsc < to)
            .count() as u64
    }

    /// The newest revealing time of a hole that opened in `[from, to)`: when traffic that
    /// the fault at `from` cut off was flowing again for every flow. None when no hole.
    pub fn last_hole_end(&self, from: u64, to: u64) -> Option<u64> {
        self.events
            .iter()
            .filter(|e| e.kind == EventKind::Hole && e.to_tsc >= from && e.from_tsc < to)
            .map(|e| e.to_tsc)
            .max()
    }
}

/// Jain's fairness index of the shares: 1 when equal, 1/n when one takes everything.
pub fn jain(shares: &[u64]) -> f64 {
    let n = shares.len() as f64;
    let s: f64 = shares.iter().map(|&x| x as f64).sum();
    let s2: f64 = shares.iter().map(|&x| (x as f64) * (x as f64)).sum();
    if s2 == 0.0 { 0.0 } else { s * s / (n * s2) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(flows: usize) -> Accounts {
        Accounts::new(flows, 2, 0, 1000, 100, 1 << 14, 1_000_000)
    }

    #[test]
    fn in_order_stream_has_no_loss_or_reordering() {
        let mut a = acc(2);
        for s in 0..1000u32 {
            a.frame(
                (s % 2) as usize,
                s % 2,
                s / 2,
                u64::from(s) * 10,
                u64::from(s) * 10 + 7,
            );
        }
        assert_eq!(a.totals.received, 1000);
        assert_eq!(a.totals.distinct, 1000);
        assert_eq!(a.totals.reordered + a.totals.duplicates + a.totals.late, 0);
        assert!(a.events.is_empty());
        assert_eq!(a.per_member, vec![500, 500]);
        assert_eq!(a.latency.len(), 1000);
        assert_eq!(a.latency.max(), 7);
    }

    #[test]
    fn drop_every_kth_counts_exactly_those() {
        let mut a = acc(1);
        let k = 7;
        let sent = 10_000u32;
        for s in (0..sent).filter(|s| s % k != k - 1) {
            a.frame(0, 0, s, u64::from(s), u64::from(s) + 1);
        }
        let lost = u64::from(sent) - a.totals.distinct;
        assert_eq!(lost, u64::from(sent / k));
        assert_eq!(a.lost_between(0, u64::MAX), i64::from(sent / k));
        assert_eq!(a.totals.reordered, 0);
    }

    #[test]
    fn swapped_neighbours_are_reordered_not_lost() {
        let mut a = acc(1);
        let order = [0u32, 2, 1, 3, 5, 4, 6];
        for (i, &s) in order.iter().enumerate() {
            a.frame(0, 0, s, u64::from(s) * 100, 1000 + i as u64);
        }
        assert_eq!(a.totals.distinct, 7);
        assert_eq!(a.totals.reordered, 2);
        assert_eq!(a.totals.duplicates, 0);
        // Each swap opens a hole of one and fills it.
        assert_eq!(a.lost_between(0, u64::MAX), 0);
        assert_eq!(a.reordered_between(0, u64::MAX), 2);
    }

    #[test]
    fn duplicates_are_told_from_reordering() {
        let mut a = acc(1);
        for s in [0u32, 1, 1, 2, 0, 3, 3] {
            a.frame(1, 0, s, 0, 5);
        }
        assert_eq!(a.totals.received, 7);
        assert_eq!(a.totals.distinct, 4);
        assert_eq!(a.totals.duplicates, 3);
        assert_eq!(a.totals.reordered, 0);
    }

    #[test]
    fn delayed_frames_beyond_the_window_are_late() {
        let mut a = acc(1);
        for s in 1..=100u32 {
            a.frame(0, 0, s, 0, 1);
        }
        a.frame(0, 0, 0, 0, 1);
        assert_eq!(a.totals.late, 1);
        assert_eq!(a.totals.reordered, 1);
        assert_eq!(a.totals.distinct, 101);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut a = acc(1);
        a.flows[0].next = u32::MAX - 2;
        for s in [u32::MAX - 2, u32::MAX - 1, u32::MAX, 0, 1] {
            a.frame(0, 0, s, 0, 1);
        }
        assert_eq!(a.totals.distinct, 5);
        assert!(a.events.is_empty(), "{:?}", a.events);
    }

    #[test]
    fn latency_is_arrival_minus_generation() {
        let mut a = acc(1);
        for (s, lat) in [(0u32, 100u64), (1, 200), (2, 300), (3, 10_000)] {
            a.frame(0, 0, s, 1_000, 1_000 + lat);
        }
        assert_eq!(a.latency.min(), 100);
        assert_eq!(a.latency.value_at_quantile(0.5), 200);
        assert!(a.latency.max().abs_diff(10_000) <= 10);
    }

    #[test]
    fn a_fault_window_attributes_its_holes() {
        // One flow, a frame every 10 ticks; frames generated in [500, 800) are cut.
        let mut a = acc(1);
        for s in 0..200u32 {
            let t = u64::from(s) * 10;
            if (500..800).contains(&t) {
                a.cut(0, t);
            } else {
                a.frame(1, 0, s, t, t + 3);
            }
        }
        assert_eq!(a.totals.cut, 30);
        assert_eq!(a.cut_last_tsc[0], 790);
        assert_eq!(a.lost_between(490, 1500), 30);
        assert_eq!(a.lost_between(0, 400), 0);
        assert_eq!(a.last_hole_end(490, 1500), Some(800));
    }

    #[test]
    fn foreign_and_out_of_range_flows_are_counted_apart() {
        let mut a = acc(2);
        a.frame(0, 9, 0, 0, 1);
        a.foreign();
        assert_eq!(a.totals.foreign, 2);
        assert_eq!(a.totals.received, 0);
    }

    #[test]
    fn fairness_index() {
        assert!((jain(&[5, 5, 5, 5]) - 1.0).abs() < 1e-12);
        assert!((jain(&[10, 0]) - 0.5).abs() < 1e-12);
        assert_eq!(jain(&[0, 0]), 0.0);
    }
}
