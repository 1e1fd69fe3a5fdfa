//! [`LacpBond`]: the LACP side of one 802.3ad bond: its ports, the selection logic across
//! them, the active aggregator and the carrier (`min_links`).
//!
//! Every input (a frame on a member, a link change, a tick, new parameters) runs all ports'
//! machines and the selection logic until nothing moves, then each port's transmit machine
//! once. The returned [`Outcome`] lists the frames to send (tagged with the member index) and
//! the changes, among them [`Change::Distributing`](super::Change::Distributing), on which the control thread republishes
//! the set of distributing members to the workers.

use super::pdu::{LacpduInfo, MacAddr};
use super::port::{AggPort, LacpStats, MAX_SETTLE, PortConfig};
use super::selection::{Aggregator, Selector};
use super::{LacpParams, Outcome, TxFrame, earliest};

/// The `Active Aggregator Info` of `/proc/net/bonding` (Linux `struct ad_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AggregatorInfo {
    pub aggregator_id: u16,
    /// Enabled (link up) ports in it: `Number of ports`.
    pub ports: u32,
    pub actor_key: u16,
    pub partner_key: u16,
    pub partner_mac: MacAddr,
    /// False when the aggregator holds ports without an LACP partner (defaulted).
    pub has_partner: bool,
}

/// One bond's LACP state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LacpBond {
    params: LacpParams,
    ports: Vec<AggPort>,
    selector: Selector,
    /// Counters of members that left, so the bond totals never go back.
    departed: LacpStats,
}

impl LacpBond {
    pub fn new(params: LacpParams) -> Self {
        LacpBond {
            params,
            ports: Vec::new(),
            selector: Selector::new(0),
            departed: LacpStats::default(),
        }
    }

    /// Adds a member (link down until [`LacpBond::set_link`]); returns its index.
    /// `cfg.index` is replaced by the position in the bond.
    pub fn add_port(&mut self, mut cfg: PortConfig) -> usize {
        let index = self.ports.len();
        cfg.index = index;
        self.ports.push(AggPort::member(cfg, &self.params));
        self.selector.add_aggregator();
        index
    }

    /// Removes a member. Like Linux, it first tells the partner, with one last LACPDU, that
    /// the link no longer aggregates: that frame comes back on its own (the member's index is
    /// about to mean another port), the outcome for the members that stay after it. Later
    /// members move down one index.
    pub fn remove_port(&mut self, now: u64, index: usize) -> (Vec<TxFrame>, Outcome) {
        let mut out = Outcome::default();
        if index >= self.ports.len() {
            return (Vec::new(), out);
        }
        let mut gone = self.ports.remove(index);
        let mut bye = Outcome::default();
        gone.farewell(&mut bye);
        self.departed.add(&gone.stats());
        for (i, p) in self.ports.iter_mut().enumerate() {
            p.set_index(i);
        }
        let views: Vec<_> = self.ports.iter().map(AggPort::view).collect();
        self.selector.remove_free_aggregator(&views);
        self.settle(now, None, &mut out);
        (bye.frames, out)
    }

    /// Stops LACP on every member (the bond leaves 802.3ad): one last LACPDU per member tells
    /// each partner that the link no longer aggregates, as [`LacpBond::remove_port`] does.
    pub fn release_all(&mut self) -> Vec<TxFrame> {
        let mut bye = Outcome::default();
        for p in &mut self.ports {
            p.farewell(&mut bye);
        }
        bye.frames
    }

    /// The smallest port number no member uses (802.1AX port numbers must be unique within
    /// the system; members that came and went leave gaps).
    pub fn free_port_number(&self) -> u16 {
        let used: Vec<u16> = self.ports.iter().map(|p| p.actor().port).collect();
        (1..=u16::MAX)
            .find(|n| !used.contains(n))
            .unwrap_or(u16::MAX)
    }

    /// A member's link changed.
    pub fn set_link(
        &mut self,
        now: u64,
        index: usize,
        up: bool,
        speed_mbps: u32,
        full_duplex: bool,
    ) -> Outcome {
        let mut out = Outcome::default();
        if let Some(p) = self.ports.get_mut(index) {
            p.apply_link(up, speed_mbps, full_duplex);
            self.settle(now, None, &mut out);
        }
        out
    }

    /// A frame received on member `index`.
    pub fn rx_pdu(&mut self, now: u64, index: usize, frame: &[u8]) -> Outcome {
        let mut out = Outcome::default();
        let Some(p) = self.ports.get_mut(index) else {
            return out;
        };
        if let Some(info) = p.ingest(now, frame, &mut out) {
            for (j, q) in self.ports.iter_mut().enumerate() {
                if j != index {
                    q.mark_moved_if(&info);
                }
            }
            self.settle(now, Some((index, info)), &mut out);
        }
        out
    }

    /// Advances all timers to `now`.
    pub fn tick(&mut self, now: u64) -> Outcome {
        let mut out = Outcome::default();
        self.settle(now, None, &mut out);
        out
    }

    /// New bond parameters.
    pub fn set_params(&mut self, now: u64, params: LacpParams) -> Outcome {
        for p in &mut self.ports {
            p.apply_params(&params);
        }
        self.params = params;
        self.tick(now)
    }

    /// A member's `actor_port_prio`.
    pub fn set_port_priority(&mut self, now: u64, index: usize, priority: u16) -> Outcome {
        match self.ports.get_mut(index) {
            Some(p) => p.set_port_priority(now, priority),
            None => Outcome::default(),
        }
    }

    /// Sends a Marker Information PDU on member `index` (the Marker Generator); returns the
    /// frame to send and its transaction id.
    pub fn send_marker(
        &mut self,
        now: u64,
        index: usize,
    ) -> Result<(Outcome, u32), super::marker::MarkerRefused> {
        let Some(p) = self.ports.get_mut(index) else {
            return Err(super::marker::MarkerRefused::NoSuchPort);
        };
        let (frame, tid) = p.send_marker(now)?;
        let out = Outcome {
            frames: vec![frame],
            changes: Vec::new(),
        };
        Ok((out, tid))
    }

    /// When the caller must tick next.
    pub fn next_deadline(&self, now: u64) -> Option<u64> {
        self.ports
            .iter()
            .map(|p| p.next_deadline(now))
            .fold(None, earliest)
    }

    pub fn params(&self) -> &LacpParams {
        &self.params
    }

    pub fn ports(&self) -> &[AggPort] {
        &self.ports
    }

    pub fn port(&self, index: usize) -> Option<&AggPort> {
        self.ports.get(index)
    }

    /// Members that may carry traffic now, in index order.
    pub fn distributing_ports(&self) -> impl Iterator<Item = usize> + '_ {
        self.ports
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_distributing())
            .map(|(i, _)| i)
    }

    /// Linux's fallback for a partner that does not speak LACP: when the active aggregator
    /// has no partner (its ports defaulted), Linux's `ad_agg_selection_logic` enables its
    /// (link-up) ports anyway, so the bond still carries traffic on that link although no
    /// port is COLLECTING_DISTRIBUTING. This lists those ports (empty whenever the active
    /// aggregator has a partner); whether to use them is the caller's policy.
    pub fn unpartnered_active_ports(&self) -> impl Iterator<Item = usize> + '_ {
        let active = self.selector.active().filter(|id| {
            self.selector
                .aggregator(*id)
                .is_some_and(|a| !a.has_partner())
        });
        self.ports
            .iter()
            .enumerate()
            .filter(move |(_, p)| active.is_some() && p.aggregator_id() == active && p.link_up())
            .map(|(i, _)| i)
    }

    /// The bond's carrier: an active aggregator with at least `min_links` enabled ports.
    pub fn carrier(&self) -> bool {
        self.selector.carrier()
    }

    pub fn aggregators(&self) -> &[Aggregator] {
        self.selector.aggregators()
    }

    /// `Active Aggregator Info`, or None ("bond has no active aggregator").
    pub fn active_aggregator(&self) -> Option<AggregatorInfo> {
        let id = self.selector.active()?;
        let agg = self.selector.aggregator(id)?;
        let ports = self
            .ports
            .iter()
            .filter(|p| p.aggregator_id() == Some(id) && p.link_up())
            .count();
        Some(AggregatorInfo {
            aggregator_id: id,
            ports: u32::try_from(ports).unwrap_or(u32::MAX),
            actor_key: agg.actor_key,
            partner_key: agg.partner_key,
            partner_mac: agg.partner_system,
            has_partner: agg.has_partner(),
        })
    }

    /// Bond-wide counters (`ip -s link xstats type bond` on the bond).
    pub fn stats(&self) -> LacpStats {
        let mut s = self.departed;
        for p in &self.ports {
            s.add(&p.stats());
        }
        s
    }

    fn settle(&mut self, now: u64, pdu: Option<(usize, LacpduInfo)>, out: &mut Outcome) {
        let mut pdu = pdu;
        for _ in 0..MAX_SETTLE {
            let mut moved = false;
            for (i, p) in self.ports.iter_mut().enumerate() {
                let this = match pdu {
                    Some((j, info)) if j == i => {
                        pdu = None;
                        Some(info)
                    }
                    _ => None,
                };
                moved |= p.step(now, this.as_ref(), out);
            }
            let views: Vec<_> = self.ports.iter().map(AggPort::view).collect();
            let decisions = self.selector.run(
                &views,
                self.params.ad_select,
                self.params.min_links,
                &mut out.changes,
            );
            for (p, d) in self.ports.iter_mut().zip(&decisions) {
                moved |= p.apply(d);
            }
            if !moved {
                break;
            }
        }
        for p in &mut self.ports {
            p.transmit(now, out);
        }
    }
}
