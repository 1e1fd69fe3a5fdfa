//! The Selection Logic (802.1AX-2014 6.4.14) with Linux's aggregator policy.
//!
//! Per port: a port whose Selected is UNSELECTED leaves its aggregator; once its mux is back
//! in DETACHED it is given one:
//!
//! * an aggregator that already holds ports with the same actor key, partner system (priority
//!   and address) and partner key, when both it and the port can aggregate (neither end says
//!   "individual") and it has a real partner (non-zero partner system); otherwise
//! * the first free aggregator (Linux: `ad_port_selection_logic`; there is one aggregator per
//!   port, ids from 1).
//!
//! A port whose partner is our own system (a loopback: two members of the bond cabled to each
//! other, or a reflecting link) is refused: it stays UNSELECTED and never attaches. (Linux
//! drops such LACPDUs and leaves the port to default; VPP marks it individual; Open vSwitch
//! refuses it, as here.)
//!
//! Per bond, exactly one aggregator is active (Linux `ad_agg_selection_logic`): among the
//! aggregators with at least one enabled (link up) port, an aggregatable one beats an
//! individual one, then one with a partner beats one without, then `ad_select` decides:
//!
//! * `stable` (0): by bandwidth, but the active aggregator is kept while it still has enabled
//!   ports and a partner (or neither it nor the best has one);
//! * `bandwidth` (1): the highest sum of port speeds, re-evaluated on every change;
//! * `count` (2): the most enabled ports, then bandwidth;
//! * `actor_port_prio` (3): the highest sum of the enabled ports' `actor_port_prio`, then
//!   count, then bandwidth (the newest Linux policy).
//!
//! On a tie the current active aggregator stays, then the lower id wins. Ports of the active
//! aggregator are SELECTED; the others are STANDBY (6.4.14 allows a port to be held in standby
//! when its aggregator cannot be used; Linux keeps them ATTACHED but out of sync, which the
//! partner sees the same way). Ready is TRUE for an aggregator when every port in it has
//! Ready_N (its wait_while has run out). The bond's carrier is up when the active aggregator has
//! at least `min_links` enabled ports (Linux `bond_3ad_set_carrier`).

use super::pdu::MacAddr;
use super::{Change, Selected};

/// `ad_select`: the option's own type.
pub use crate::options::AdSelect;

/// What the selection logic reads of one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortView {
    pub actor_key: u16,
    pub partner_system: MacAddr,
    pub partner_system_priority: u16,
    pub partner_key: u16,
    /// The actor or the partner says the link cannot aggregate.
    pub individual: bool,
    /// Link up (Port_Enabled).
    pub enabled: bool,
    pub speed_mbps: u32,
    /// Actor port priority (`actor_port_prio`).
    pub port_priority: u16,
    pub loopback: bool,
    pub selected: Selected,
    pub aggregator: Option<u16>,
    /// The mux machine is in DETACHED.
    pub mux_detached: bool,
    pub ready_n: bool,
}

/// What the selection logic decided for one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub selected: Selected,
    pub aggregator: Option<u16>,
    pub ready: bool,
}

/// One aggregator's parameters (6.4.6), set by the first port that takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Aggregator {
    pub id: u16,
    pub actor_key: u16,
    pub partner_system: MacAddr,
    pub partner_system_priority: u16,
    pub partner_key: u16,
    pub individual: bool,
}

impl Aggregator {
    pub fn has_partner(&self) -> bool {
        !self.partner_system.is_zero()
    }

    fn clear(&mut self) {
        *self = Aggregator {
            id: self.id,
            ..Aggregator::default()
        };
    }

    fn suits(&self, p: &PortView) -> bool {
        !self.individual
            && !p.individual
            && self.has_partner()
            && self.actor_key == p.actor_key
            && self.partner_system == p.partner_system
            && self.partner_system_priority == p.partner_system_priority
            && self.partner_key == p.partner_key
    }
}

/// The figures `ad_select` compares.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    id: u16,
    individual: bool,
    has_partner: bool,
    key: u16,
    enabled: u32,
    bandwidth: u64,
    priority_sum: u64,
}

/// Whether `curr` beats `best` (Linux `ad_agg_selection_test`).
fn beats(policy: AdSelect, best: &Figures, curr: &Figures) -> bool {
    if curr.individual != best.individual {
        return !curr.individual;
    }
    if curr.has_partner != best.has_partner {
        return curr.has_partner;
    }
    if policy == AdSelect::ActorPortPrio && curr.priority_sum != best.priority_sum {
        return curr.priority_sum > best.priority_sum;
    }
    if matches!(policy, AdSelect::Count | AdSelect::ActorPortPrio) && curr.enabled != best.enabled {
        return curr.enabled > best.enabled;
    }
    curr.bandwidth > best.bandwidth
}

/// The selection logic of one bond: its aggregators, the active one and the carrier.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Selector {
    aggregators: Vec<Aggregator>,
    active: Option<u16>,
    carrier: bool,
    next_id: u16,
}

impl Selector {
    /// `count` aggregators with ids 1..=count.
    pub fn new(count: usize) -> Self {
        let mut s = Selector {
            aggregators: Vec::new(),
            active: None,
            carrier: false,
            next_id: 1,
        };
        for _ in 0..count {
            s.add_aggregator();
        }
        s
    }

    /// Adds an aggregator (one per port, as Linux does) and returns its id.
    pub fn add_aggregator(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.aggregators.push(Aggregator {
            id,
            ..Aggregator::default()
        });
        id
    }

    /// Removes one aggregator no port in `ports` uses (after a port left the bond). The
    /// others keep their ids, so the active aggregator survives a member's removal.
    pub fn remove_free_aggregator(&mut self, ports: &[PortView]) {
        let used = |id: u16| ports.iter().any(|p| p.aggregator == Some(id));
        if let Some(pos) = self.aggregators.iter().rposition(|a| !used(a.id)) {
            let id = self.aggregators[pos].id;
            self.aggregators.remove(pos);
            if self.active == Some(id) {
                self.active = None;
            }
        }
    }

    pub fn aggregators(&self) -> &[Aggregator] {
        &self.aggregators
    }

    pub fn aggregator(&self, id: u16) -> Option<&Aggregator> {
        self.aggregators.iter().find(|a| a.id == id)
    }

    /// The active aggregator's id.
    pub fn active(&self) -> Option<u16> {
        self.active
    }

    /// The bond's carrier per `min_links`.
    pub fn carrier(&self) -> bool {
        self.carrier
    }

    /// Runs the selection logic over all ports of the bond; returns one decision per port.
    pub fn run(
        &mut self,
        ports: &[PortView],
        ad_select: AdSelect,
        min_links: u32,
        changes: &mut Vec<Change>,
    ) -> Vec<Decision> {
        let mut assign: Vec<Option<u16>> = ports.iter().map(|p| p.aggregator).collect();
        let mut selected: Vec<Selected> = ports.iter().map(|p| p.selected).collect();

        // An UNSELECTED port leaves its aggregator.
        for (i, a) in assign.iter_mut().enumerate() {
            if selected[i] == Selected::Unselected {
                *a = None;
            }
        }
        self.clear_empty(&assign);

        // Ports waiting for an aggregator get one, once their mux has detached.
        for (i, p) in ports.iter().enumerate() {
            if selected[i] != Selected::Unselected || !p.mux_detached || p.loopback {
                continue;
            }
            let members = |id: u16, assign: &[Option<u16>]| assign.contains(&Some(id));
            let found = self
                .aggregators
                .iter()
                .find(|a| members(a.id, &assign) && a.suits(p))
                .map(|a| a.id);
            let id = match found {
                Some(id) => Some(id),
                None => self
                    .aggregators
                    .iter_mut()
                    .find(|a| !members(a.id, &assign))
                    .map(|a| {
                        *a = Aggregator {
                            id: a.id,
                            actor_key: p.actor_key,
                            partner_system: p.partner_system,
                            partner_system_priority: p.partner_system_priority,
                            partner_key: p.partner_key,
                            individual: p.individual,
                        };
                        a.id
                    }),
            };
            if let Some(id) = id {
                assign[i] = Some(id);
                selected[i] = Selected::Selected;
            }
        }

        self.choose_active(ports, &assign, ad_select, changes);

        let carrier = match self.active {
            Some(id) => {
                let enabled = ports
                    .iter()
                    .zip(&assign)
                    .filter(|(p, a)| p.enabled && **a == Some(id))
                    .count();
                enabled as u64 >= u64::from(min_links)
            }
            None => false,
        };
        if carrier != self.carrier {
            self.carrier = carrier;
            changes.push(Change::Carrier { up: carrier });
        }

        ports
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let aggregator = assign[i];
                let selected = match aggregator {
                    None => Selected::Unselected,
                    Some(id) if Some(id) == self.active => Selected::Selected,
                    Some(_) => Selected::Standby,
                };
                let ready = match aggregator {
                    Some(id) => ports
                        .iter()
                        .zip(&assign)
                        .filter(|(_, a)| **a == Some(id))
                        .all(|(p, _)| p.ready_n),
                    None => false,
                };
                Decision {
                    selected,
                    aggregator,
                    ready,
                }
            })
            .collect()
    }

    fn clear_empty(&mut self, assign: &[Option<u16>]) {
        for a in &mut self.aggregators {
            if !assign.contains(&Some(a.id)) {
                a.clear();
            }
        }
    }

    fn figures(&self, a: &Aggregator, ports: &[PortView], assign: &[Option<u16>]) -> Figures {
        let mut f = Figures {
            id: a.id,
            individual: a.individual,
            has_partner: a.has_partner(),
            key: a.actor_key,
            ..Figures::default()
        };
        for (p, _) in ports
            .iter()
            .zip(assign)
            .filter(|(p, x)| p.enabled && **x == Some(a.id))
        {
            f.enabled += 1;
            f.bandwidth += u64::from(p.speed_mbps);
            f.priority_sum += u64::from(p.port_priority);
        }
        f
    }

    fn choose_active(
        &mut self,
        ports: &[PortView],
        assign: &[Option<u16>],
        ad_select: AdSelect,
        changes: &mut Vec<Change>,
    ) {
        let figures: Vec<Figures> = self
            .aggregators
            .iter()
            .map(|a| self.figures(a, ports, assign))
            .collect();
        let current = self
            .active
            .and_then(|id| figures.iter().find(|f| f.id == id && f.enabled > 0))
            .copied();
        let mut best = current;
        for f in figures.iter().filter(|f| f.enabled > 0) {
            match best {
                None => best = Some(*f),
                Some(b) if beats(ad_select, &b, f) => best = Some(*f),
                Some(_) => {}
            }
        }
        if ad_select == AdSelect::Stable
            && let (Some(cur), Some(b)) = (current, best)
        {
            let keep = (cur.has_partner || !b.has_partner) && !(cur.key == 0 && b.key != 0);
            if keep {
                best = Some(cur);
            }
        }
        let next = best.map(|b| b.id);
        if next != self.active {
            changes.push(Change::ActiveAggregator {
                from: self.active,
                to: next,
            });
            self.active = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTNER_A: MacAddr = MacAddr::new(0x02, 0, 0, 0, 0, 0xa0);
    const PARTNER_B: MacAddr = MacAddr::new(0x02, 0, 0, 0, 0, 0xb0);

    fn port(partner: MacAddr, speed: u32) -> PortView {
        PortView {
            actor_key: 15,
            partner_system: partner,
            partner_system_priority: 0x8000,
            partner_key: 7,
            individual: partner.is_zero(),
            enabled: true,
            speed_mbps: speed,
            port_priority: 255,
            loopback: false,
            selected: Selected::Unselected,
            aggregator: None,
            mux_detached: true,
            ready_n: false,
        }
    }

    fn apply(ports: &mut [PortView], d: &[Decision]) {
        for (p, d) in ports.iter_mut().zip(d) {
            p.selected = d.selected;
            p.aggregator = d.aggregator;
        }
    }

    fn run(s: &mut Selector, ports: &mut [PortView], policy: AdSelect) -> Vec<Change> {
        let mut c = Vec::new();
        let d = s.run(ports, policy, 0, &mut c);
        apply(ports, &d);
        c
    }

    #[test]
    fn same_partner_and_key_share_an_aggregator() {
        let mut s = Selector::new(3);
        let mut ports = [
            port(PARTNER_A, 10_000),
            port(PARTNER_A, 10_000),
            port(PARTNER_B, 10_000),
        ];
        let c = run(&mut s, &mut ports, AdSelect::Stable);
        assert_eq!(ports[0].aggregator, Some(1));
        assert_eq!(ports[1].aggregator, Some(1));
        assert_eq!(ports[2].aggregator, Some(2));
        assert_eq!(s.active(), Some(1), "20G beats 10G");
        assert_eq!(ports[0].selected, Selected::Selected);
        assert_eq!(ports[2].selected, Selected::Standby);
        assert!(c.contains(&Change::ActiveAggregator {
            from: None,
            to: Some(1)
        }));
        assert!(c.contains(&Change::Carrier { up: true }));
    }

    #[test]
    fn a_different_key_or_an_individual_link_gets_its_own() {
        let mut s = Selector::new(3);
        let mut ports = [
            port(PARTNER_A, 10_000),
            port(PARTNER_A, 1_000),
            port(PARTNER_A, 10_000),
        ];
        ports[1].actor_key = 9;
        ports[2].individual = true;
        run(&mut s, &mut ports, AdSelect::Stable);
        assert_eq!(
            ports.map(|p| p.aggregator),
            [Some(1), Some(2), Some(3)],
            "nothing shared"
        );
        assert_eq!(
            s.active(),
            Some(1),
            "aggregatable beats individual, 10G beats 1G"
        );
    }

    #[test]
    fn loopback_is_refused_and_unselected_ports_wait_for_detach() {
        let mut s = Selector::new(2);
        let mut ports = [port(PARTNER_A, 1_000), port(PARTNER_A, 1_000)];
        ports[0].loopback = true;
        ports[1].mux_detached = false;
        run(&mut s, &mut ports, AdSelect::Stable);
        assert_eq!(ports[0].selected, Selected::Unselected);
        assert_eq!(ports[0].aggregator, None);
        assert_eq!(ports[1].aggregator, None, "mux not yet detached");
        assert_eq!(s.active(), None);
        assert!(!s.carrier());
    }

    #[test]
    fn policies() {
        // Aggregator 1: two 1G ports to A; aggregator 2: one 10G port to B.
        let mk = || {
            [
                port(PARTNER_A, 1_000),
                port(PARTNER_A, 1_000),
                port(PARTNER_B, 10_000),
            ]
        };
        for (policy, want) in [
            (AdSelect::Bandwidth, 2),
            (AdSelect::Stable, 2),
            (AdSelect::Count, 1),
            (AdSelect::ActorPortPrio, 1),
        ] {
            let mut s = Selector::new(3);
            let mut ports = mk();
            ports[2].actor_key = 15 + 6;
            run(&mut s, &mut ports, policy);
            assert_eq!(s.active(), Some(want), "{policy:?}");
        }
        // actor_port_prio: the highest sum of priorities wins over count.
        let mut s = Selector::new(3);
        let mut ports = mk();
        ports[2].port_priority = 1000;
        run(&mut s, &mut ports, AdSelect::ActorPortPrio);
        assert_eq!(s.active(), Some(2));
    }

    #[test]
    fn stable_keeps_the_active_aggregator_bandwidth_moves() {
        for (policy, after) in [(AdSelect::Stable, 1), (AdSelect::Bandwidth, 2)] {
            let mut s = Selector::new(3);
            let mut ports = [
                port(PARTNER_A, 10_000),
                port(PARTNER_B, 10_000),
                port(PARTNER_B, 10_000),
            ];
            ports[1].enabled = false;
            ports[2].enabled = false;
            run(&mut s, &mut ports, policy);
            assert_eq!(s.active(), Some(1));
            ports[1].enabled = true;
            ports[2].enabled = true;
            run(&mut s, &mut ports, policy);
            assert_eq!(s.active(), Some(after), "{policy:?}");
        }
    }

    #[test]
    fn min_links_and_failover_when_the_active_loses_its_links() {
        let mut s = Selector::new(3);
        let mut ports = [
            port(PARTNER_A, 10_000),
            port(PARTNER_A, 10_000),
            port(PARTNER_B, 1_000),
        ];
        let mut c = Vec::new();
        let d = s.run(&ports, AdSelect::Stable, 2, &mut c);
        apply(&mut ports, &d);
        assert!(s.carrier());
        ports[1].enabled = false;
        c.clear();
        let d = s.run(&ports, AdSelect::Stable, 2, &mut c);
        apply(&mut ports, &d);
        assert_eq!(c, vec![Change::Carrier { up: false }], "1 < min_links 2");
        ports[0].enabled = false;
        let d = s.run(&ports, AdSelect::Stable, 1, &mut c);
        apply(&mut ports, &d);
        assert_eq!(s.active(), Some(2), "no enabled port left in aggregator 1");
        assert_eq!(ports[2].selected, Selected::Selected);
        assert_eq!(ports[0].selected, Selected::Standby);
        assert!(s.carrier());
    }

    #[test]
    fn ready_needs_every_member() {
        let mut s = Selector::new(2);
        let mut ports = [port(PARTNER_A, 1_000), port(PARTNER_A, 1_000)];
        let mut c = Vec::new();
        ports[0].ready_n = true;
        let d = s.run(&ports, AdSelect::Stable, 0, &mut c);
        assert!(!d[0].ready && !d[1].ready);
        apply(&mut ports, &d);
        ports[1].ready_n = true;
        let d = s.run(&ports, AdSelect::Stable, 0, &mut c);
        assert!(d[0].ready && d[1].ready);
    }
}
