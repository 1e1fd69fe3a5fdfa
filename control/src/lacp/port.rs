//! [`AggPort`]: one Aggregation Port with its receive, periodic, mux, transmit, churn and
//! marker machines, driven by received frames, link changes and ticks of the virtual clock.
//!
//! An `AggPort` made with [`AggPort::new`] is a bond of one: it runs the selection logic for
//! itself. Inside a [`LacpBond`](super::bond::LacpBond) the bond runs the selection logic
//! across its ports instead.
//!
//! Each call runs every machine until nothing moves any more (the standard's machines react
//! to each other's variables "immediately"), then the transmit machine once, so one call sends
//! at most one LACPDU per port, with the final state.

use super::churn::{ChurnMachine, ChurnState, Side};
use super::marker::{MarkerAction, MarkerMachine, MarkerRefused, MarkerStatus};
use super::mux::{MuxMachine, MuxState};
use super::pdu::{self, LacpState, LacpduInfo, MacAddr, PortInfo, RxErrorClass, SlowPdu};
use super::periodic::{PeriodicMachine, PeriodicState};
use super::rx::{RxMachine, RxState};
use super::selection::{Decision, PortView, Selector};
use super::tx::{TxMachine, TxState};
use super::{
    Change, Ctx, DEFAULT_PORT_PRIORITY, LacpParams, Outcome, PortVars, Selected, TxFrame, TxKind,
    earliest, key,
};

/// How many times one call lets the machines and the selection logic react to each other.
pub(crate) const MAX_SETTLE: usize = 16;

/// The identity of a port in its bond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PortConfig {
    /// Position in the bond; frames and changes name the port by it.
    pub index: usize,
    /// Actor_Port (Linux: the member's 1-based id in the bond). Must be non-zero.
    pub port_number: u16,
    /// Actor_Port_Priority (Linux `actor_port_prio`, default 255).
    pub port_priority: u16,
    /// The member's own (permanent) MAC address: the source of its LACPDUs and markers.
    pub mac: MacAddr,
}

impl PortConfig {
    pub fn new(index: usize, port_number: u16, mac: MacAddr) -> Self {
        PortConfig {
            index,
            port_number,
            port_priority: DEFAULT_PORT_PRIORITY,
            mac,
        }
    }
}

/// The per-member 802.3ad counters of `ip -s link xstats type bond` (Linux
/// `struct bond_3ad_stats`; the field names are the keys of `ip -j link xstats type bond`),
/// plus bondd's rate-limited marker responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LacpStats {
    pub lacpdu_rx: u64,
    pub lacpdu_tx: u64,
    pub lacpdu_unknown_rx: u64,
    pub lacpdu_illegal_rx: u64,
    pub marker_rx: u64,
    pub marker_tx: u64,
    pub marker_resp_rx: u64,
    pub marker_resp_tx: u64,
    pub marker_unknown_rx: u64,
    /// Marker requests not answered (rate limit or link down). Not in Linux.
    pub marker_resp_dropped: u64,
}

impl LacpStats {
    /// Field-wise sum (the bond totals).
    pub fn add(&mut self, o: &LacpStats) {
        self.lacpdu_rx = self.lacpdu_rx.saturating_add(o.lacpdu_rx);
        self.lacpdu_tx = self.lacpdu_tx.saturating_add(o.lacpdu_tx);
        self.lacpdu_unknown_rx = self.lacpdu_unknown_rx.saturating_add(o.lacpdu_unknown_rx);
        self.lacpdu_illegal_rx = self.lacpdu_illegal_rx.saturating_add(o.lacpdu_illegal_rx);
        self.marker_rx = self.marker_rx.saturating_add(o.marker_rx);
        self.marker_tx = self.marker_tx.saturating_add(o.marker_tx);
        self.marker_resp_rx = self.marker_resp_rx.saturating_add(o.marker_resp_rx);
        self.marker_resp_tx = self.marker_resp_tx.saturating_add(o.marker_resp_tx);
        self.marker_unknown_rx = self.marker_unknown_rx.saturating_add(o.marker_unknown_rx);
        self.marker_resp_dropped = self
            .marker_resp_dropped
            .saturating_add(o.marker_resp_dropped);
    }
}

/// Everything the `/proc/net/bonding` 802.3ad member section shows, and the machine states.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortStatus {
    /// `Aggregator ID` (`N/A` when none).
    pub aggregator_id: Option<u16>,
    pub actor_churn_state: ChurnState,
    pub partner_churn_state: ChurnState,
    pub actor_churned_count: u32,
    pub partner_churned_count: u32,
    /// `details actor lacp pdu`: system priority, system mac, port key, port priority, port
    /// number, port state.
    pub actor: PortInfo,
    /// `details partner lacp pdu`.
    pub partner: PortInfo,
    pub rx_state: RxState,
    pub periodic_state: PeriodicState,
    pub mux_state: MuxState,
    pub tx_state: TxState,
    pub selected: Selected,
    pub link_up: bool,
    pub speed_mbps: u32,
    pub full_duplex: bool,
    pub loopback: bool,
    pub stats: LacpStats,
    /// The marker generator: last request and response.
    pub marker: MarkerStatus,
}

/// One Aggregation Port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggPort {
    cfg: PortConfig,
    params: LacpParams,
    vars: PortVars,
    rx: RxMachine,
    periodic: PeriodicMachine,
    mux: MuxMachine,
    tx: TxMachine,
    actor_churn: ChurnMachine,
    partner_churn: ChurnMachine,
    marker: MarkerMachine,
    stats: LacpStats,
    link_up: bool,
    full_duplex: bool,
    /// A standalone port's own selection logic (one aggregator).
    solo: Option<Selector>,
}

/// Linux's partner administrative defaults (`ad_initialize_port`): priority 0xffff, key 1,
/// port 1, port priority 0xff, no system, all state bits clear (so a defaulted partner is
/// passive, long-timeout, individual and out of sync).
pub const PARTNER_ADMIN: PortInfo = PortInfo {
    system_priority: 0xffff,
    system: MacAddr::ZERO,
    key: 1,
    port_priority: 0xff,
    port: 1,
    state: LacpState(0),
};

fn actor_admin_state(params: &LacpParams) -> LacpState {
    let mut s = LacpState::AGGREGATION;
    s.set(LacpState::ACTIVITY, params.lacp_active);
    s.set(LacpState::TIMEOUT, params.lacp_fast);
    s
}

impl AggPort {
    /// A standalone port (a bond of one), link down until [`AggPort::set_link`].
    pub fn new(cfg: PortConfig, params: &LacpParams) -> Self {
        let mut p = Self::member(cfg, params);
        p.solo = Some(Selector::new(1));
        p
    }

    /// A port whose selection logic is run by its bond.
    pub(crate) fn member(cfg: PortConfig, params: &LacpParams) -> Self {
        let admin = actor_admin_state(params);
        let vars = PortVars {
            begin: true,
            actor: PortInfo {
                system_priority: params.system_priority,
                system: params.system,
                key: key::oper_key(params.user_port_key, false, 0, false),
                port_priority: cfg.port_priority,
                port: cfg.port_number,
                state: admin,
            },
            actor_admin_state: admin,
            partner: PARTNER_ADMIN,
            partner_admin: PARTNER_ADMIN,
            port_enabled: false,
            lacp_enabled: false,
            port_moved: false,
            ntt: false,
            selected: Selected::Unselected,
            ready_n: false,
            ready: false,
            aggregator: None,
            loopback: false,
            speed_mbps: 0,
        };
        AggPort {
            cfg,
            params: params.clone(),
            vars,
            rx: RxMachine::default(),
            periodic: PeriodicMachine::default(),
            mux: MuxMachine::new(params.coupled_control),
            tx: TxMachine::default(),
            actor_churn: ChurnMachine::new(Side::Actor),
            partner_churn: ChurnMachine::new(Side::Partner),
            marker: MarkerMachine::default(),
            stats: LacpStats::default(),
            link_up: false,
            full_duplex: false,
            solo: None,
        }
    }

    // ----------------------------------------------------------------- inputs

    /// A frame received on this port. Frames that are not Slow Protocols are ignored;
    /// LACPDUs drive the machines; Marker Information PDUs are answered; malformed ones are
    /// counted (see [`pdu`] for which counter).
    pub fn rx_pdu(&mut self, now: u64, frame: &[u8]) -> Outcome {
        let mut out = Outcome::default();
        let info = self.ingest(now, frame, &mut out);
        if let Some(info) = info {
            self.run(now, Some(&info), &mut out);
        }
        out
    }

    /// Advances the timers to `now`.
    pub fn tick(&mut self, now: u64) -> Outcome {
        let mut out = Outcome::default();
        self.run(now, None, &mut out);
        out
    }

    /// The member's link changed (or was first read): `up`, speed in Mb/s and duplex.
    /// The operational key follows (see [`key`]); a key change unselects the port.
    pub fn set_link(&mut self, now: u64, up: bool, speed_mbps: u32, full_duplex: bool) -> Outcome {
        self.apply_link(up, speed_mbps, full_duplex);
        self.tick(now)
    }

    /// New bond parameters (`lacp_rate`, `lacp_active`, system, keys, `coupled_control`).
    pub fn set_params(&mut self, now: u64, params: &LacpParams) -> Outcome {
        self.apply_params(params);
        self.tick(now)
    }

    /// A new `actor_port_prio`.
    pub fn set_port_priority(&mut self, now: u64, priority: u16) -> Outcome {
        self.cfg.port_priority = priority;
        if self.vars.actor.port_priority != priority {
            self.vars.actor.port_priority = priority;
            self.vars.ntt = true;
        }
        self.tick(now)
    }

    /// The Marker Generator: a Marker Information PDU from this port (Requester_Port is the
    /// actor's port number, Requester_System the actor's system), and its transaction id.
    pub fn send_marker(&mut self, now: u64) -> Result<(TxFrame, u32), MarkerRefused> {
        let (data, tid) = self.marker.request(
            now,
            self.vars.actor.port,
            self.vars.actor.system,
            self.cfg.mac,
            self.link_up,
        )?;
        let frame = TxFrame {
            port: self.cfg.index,
            kind: TxKind::MarkerInformation,
            data,
        };
        Ok((frame, tid))
    }

    // ----------------------------------------------------------------- queries

    /// When the next timer runs out: call [`AggPort::tick`] then (or earlier).
    pub fn next_deadline(&self, now: u64) -> Option<u64> {
        [
            self.rx.next_deadline(),
            self.periodic.next_deadline(),
            self.mux.next_deadline(),
            self.actor_churn.next_deadline(),
            self.partner_churn.next_deadline(),
            self.tx.next_deadline(now),
        ]
        .into_iter()
        .fold(None, earliest)
    }

    /// Frames received on this port may be delivered (Actor Collecting).
    pub fn is_collecting(&self) -> bool {
        self.vars.actor.state.collecting()
    }

    /// The port may carry transmitted frames (Actor Distributing).
    pub fn is_distributing(&self) -> bool {
        self.vars.actor.state.distributing()
    }

    pub fn config(&self) -> &PortConfig {
        &self.cfg
    }

    pub fn index(&self) -> usize {
        self.cfg.index
    }

    /// The actor's operational information (what this port sends).
    pub fn actor(&self) -> &PortInfo {
        &self.vars.actor
    }

    /// The partner's operational information.
    pub fn partner(&self) -> &PortInfo {
        &self.vars.partner
    }

    /// The port's aggregator id.
    pub fn aggregator_id(&self) -> Option<u16> {
        self.vars.aggregator
    }

    pub fn selected(&self) -> Selected {
        self.vars.selected
    }

    pub fn rx_state(&self) -> RxState {
        self.rx.state()
    }

    pub fn periodic_state(&self) -> PeriodicState {
        self.periodic.state()
    }

    pub fn mux_state(&self) -> MuxState {
        self.mux.state()
    }

    pub fn tx_state(&self) -> TxState {
        self.tx.state()
    }

    pub fn actor_churn(&self) -> &ChurnMachine {
        &self.actor_churn
    }

    pub fn partner_churn(&self) -> &ChurnMachine {
        &self.partner_churn
    }

    /// The partner is our own system.
    pub fn is_loopback(&self) -> bool {
        self.vars.loopback
    }

    pub fn link_up(&self) -> bool {
        self.link_up
    }

    /// The shared machine variables (read only).
    pub fn vars(&self) -> &PortVars {
        &self.vars
    }

    /// LACPDU and marker counters.
    pub fn stats(&self) -> LacpStats {
        let m = self.marker.stats();
        LacpStats {
            marker_rx: m.marker_rx,
            marker_tx: m.marker_tx,
            marker_resp_rx: m.marker_resp_rx,
            marker_resp_tx: m.marker_resp_tx,
            marker_resp_dropped: m.marker_resp_dropped,
            ..self.stats
        }
    }

    /// A snapshot for status output.
    pub fn status(&self) -> PortStatus {
        PortStatus {
            aggregator_id: self.vars.aggregator,
            actor_churn_state: self.actor_churn.state(),
            partner_churn_state: self.partner_churn.state(),
            actor_churned_count: self.actor_churn.count(),
            partner_churned_count: self.partner_churn.count(),
            actor: self.vars.actor,
            partner: self.vars.partner,
            rx_state: self.rx.state(),
            periodic_state: self.periodic.state(),
            mux_state: self.mux.state(),
            tx_state: self.tx.state(),
            selected: self.vars.selected,
            link_up: self.link_up,
            speed_mbps: self.vars.speed_mbps,
            full_duplex: self.full_duplex,
            loopback: self.vars.loopback,
            stats: self.stats(),
            marker: *self.marker.status(),
        }
    }

    // ----------------------------------------------------------------- internals

    pub(crate) fn set_index(&mut self, index: usize) {
        self.cfg.index = index;
    }

    pub(crate) fn apply_link(&mut self, up: bool, speed_mbps: u32, full_duplex: bool) {
        self.link_up = up;
        self.full_duplex = full_duplex;
        self.vars.port_enabled = up;
        // Linux: only a full-duplex port runs LACP (`ad_update_actor_keys`).
        self.vars.lacp_enabled = up && full_duplex;
        self.vars.speed_mbps = if up { speed_mbps } else { 0 };
        let key = key::oper_key(self.params.user_port_key, up, speed_mbps, full_duplex);
        if key != self.vars.actor.key {
            self.vars.actor.key = key;
            self.vars.selected = Selected::Unselected;
            self.vars.ntt = true;
        }
    }

    pub(crate) fn apply_params(&mut self, params: &LacpParams) {
        let admin = actor_admin_state(params);
        let v = &mut self.vars;
        let mut changed = false;
        if v.actor_admin_state != admin {
            v.actor_admin_state = admin;
            v.actor.state.set(LacpState::ACTIVITY, admin.activity());
            v.actor.state.set(LacpState::TIMEOUT, admin.short_timeout());
            changed = true;
        }
        if v.actor.system != params.system || v.actor.system_priority != params.system_priority {
            v.actor.system = params.system;
            v.actor.system_priority = params.system_priority;
            changed = true;
        }
        let key = key::oper_key(
            params.user_port_key,
            self.link_up,
            v.speed_mbps,
            self.full_duplex,
        );
        if key != v.actor.key {
            v.actor.key = key;
            v.selected = Selected::Unselected;
            changed = true;
        }
        if params.coupled_control != self.mux.coupled() {
            self.mux.set_coupled(params.coupled_control);
            v.begin = true;
        }
        if changed {
            v.ntt = true;
        }
        self.params = params.clone();
    }

    /// Parses and counts a received frame; answers markers. Returns a LACPDU for the
    /// machines.
    pub(crate) fn ingest(
        &mut self,
        now: u64,
        frame: &[u8],
        out: &mut Outcome,
    ) -> Option<LacpduInfo> {
        match pdu::parse_frame(frame) {
            Ok(SlowPdu::Lacp(p)) => {
                self.stats.lacpdu_rx += 1;
                Some(p.info())
            }
            Ok(SlowPdu::Marker(m)) => {
                let action =
                    self.marker
                        .on_pdu(now, m.kind(), &m.info(), self.cfg.mac, self.link_up);
                if let MarkerAction::Respond(data) = action {
                    out.frames.push(TxFrame {
                        port: self.cfg.index,
                        kind: TxKind::MarkerResponse,
                        data,
                    });
                }
                None
            }
            Err(e) => {
                match e.class() {
                    RxErrorClass::Unknown => self.stats.lacpdu_unknown_rx += 1,
                    RxErrorClass::Illegal => self.stats.lacpdu_illegal_rx += 1,
                    RxErrorClass::MarkerUnknown => self.stats.marker_unknown_rx += 1,
                    RxErrorClass::NotSlowProtocols | RxErrorClass::Build => {}
                }
                None
            }
        }
    }

    /// Marks the port moved (its partner showed up on another port while this one is down).
    pub(crate) fn mark_moved_if(&mut self, pdu: &LacpduInfo) {
        if self.rx.state() == RxState::PortDisabled
            && self.vars.partner.system == pdu.actor.system
            && self.vars.partner.port == pdu.actor.port
            && !self.vars.partner.system.is_zero()
        {
            self.vars.port_moved = true;
        }
    }

    /// Runs the per-port machines once (BEGIN first), consuming `pdu`.
    pub(crate) fn step(&mut self, now: u64, pdu: Option<&LacpduInfo>, out: &mut Outcome) -> bool {
        let mut ctx = Ctx {
            now,
            port: self.cfg.index,
            changes: &mut out.changes,
        };
        let v = &mut self.vars;
        let mut moved = false;
        if v.begin {
            self.rx.begin(v, &mut ctx);
            self.periodic.begin(v, &mut ctx);
            self.mux.begin(v, &mut ctx);
            self.actor_churn.begin(&mut ctx);
            self.partner_churn.begin(&mut ctx);
            v.begin = false;
            moved = true;
        }
        let was_loopback = v.loopback;
        moved |= self.rx.step(v, pdu, &mut ctx);
        if v.loopback && !was_loopback {
            ctx.changes.push(Change::Loopback { port: ctx.port });
        }
        moved |= self.periodic.step(v, &mut ctx);
        moved |= self.mux.step(v, &mut ctx);
        let (enabled, actor_sync, partner_sync) = (
            v.port_enabled,
            v.actor.state.synchronization(),
            v.partner.state.synchronization(),
        );
        moved |= self.actor_churn.step(enabled, actor_sync, &mut ctx);
        moved |= self.partner_churn.step(enabled, partner_sync, &mut ctx);
        moved
    }

    /// Runs the transmit machine; queues a LACPDU if it sends.
    pub(crate) fn transmit(&mut self, now: u64, out: &mut Outcome) {
        let running = self.periodic.is_running();
        if let Some(info) = self.tx.step(&mut self.vars, running, now) {
            let mut data = [0u8; pdu::FRAME_LEN];
            if pdu::build_lacpdu(
                &mut data,
                self.cfg.mac,
                &info.actor,
                &info.partner,
                info.collector_max_delay,
            )
            .is_ok()
            {
                self.stats.lacpdu_tx += 1;
                out.frames.push(TxFrame {
                    port: self.cfg.index,
                    kind: TxKind::Lacpdu,
                    data,
                });
            }
        }
    }

    /// The LACPDU Linux sends when a member leaves (`bond_3ad_unbind_slave`): Synchronization,
    /// Collecting, Distributing and Aggregation cleared, sent regardless of the rate limit.
    pub(crate) fn farewell(&mut self, out: &mut Outcome) {
        if !self.vars.port_enabled || !self.vars.lacp_enabled {
            return;
        }
        let mut actor = self.vars.actor;
        for bit in [
            LacpState::SYNCHRONIZATION,
            LacpState::COLLECTING,
            LacpState::DISTRIBUTING,
            LacpState::AGGREGATION,
        ] {
            actor.state.remove(bit);
        }
        let mut data = [0u8; pdu::FRAME_LEN];
        if pdu::build_lacpdu(&mut data, self.cfg.mac, &actor, &self.vars.partner, 0).is_ok() {
            self.stats.lacpdu_tx += 1;
            out.frames.push(TxFrame {
                port: self.cfg.index,
                kind: TxKind::Lacpdu,
                data,
            });
        }
    }

    /// What the selection logic reads of this port.
    pub(crate) fn view(&self) -> PortView {
        let v = &self.vars;
        PortView {
            actor_key: v.actor.key,
            partner_system: v.partner.system,
            partner_system_priority: v.partner.system_priority,
            partner_key: v.partner.key,
            individual: !v.actor.state.aggregation()
                || !v.partner.state.aggregation()
                || !v.lacp_enabled,
            enabled: v.port_enabled,
            speed_mbps: v.speed_mbps,
            port_priority: v.actor.port_priority,
            loopback: v.loopback,
            selected: v.selected,
            aggregator: v.aggregator,
            mux_detached: self.mux.state() == MuxState::Detached,
            ready_n: v.ready_n,
        }
    }

    /// Applies a selection decision; returns whether it changed anything.
    pub(crate) fn apply(&mut self, d: &Decision) -> bool {
        let v = &mut self.vars;
        let changed =
            v.selected != d.selected || v.aggregator != d.aggregator || v.ready != d.ready;
        v.selected = d.selected;
        v.aggregator = d.aggregator;
        v.ready = d.ready;
        changed
    }

    /// Machines and (standalone) selection until stable, then transmit.
    fn run(&mut self, now: u64, pdu: Option<&LacpduInfo>, out: &mut Outcome) {
        let mut pdu = pdu;
        for _ in 0..MAX_SETTLE {
            let mut moved = self.step(now, pdu.take(), out);
            if let Some(mut sel) = self.solo.take() {
                let d = sel.run(
                    &[self.view()],
                    self.params.ad_select,
                    self.params.min_links,
                    &mut out.changes,
                );
                if let Some(d) = d.first() {
                    moved |= self.apply(d);
                }
                self.solo = Some(sel);
            }
            if !moved {
                break;
            }
        }
        self.transmit(now, out);
    }

    /// A standalone port's active aggregator and carrier.
    pub fn solo_selection(&self) -> Option<&Selector> {
        self.solo.as_ref()
    }
}
