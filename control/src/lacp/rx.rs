//! The Receive machine (802.1AX-2014 6.4.12, Figure 6-18).
//!
//! It records the partner's information from each LACPDU, times it out with current_while
//! (Short_Timeout_Time 3 s or Long_Timeout_Time 90 s, by *our own* Actor_Oper_Port_State
//! LACP_Timeout, since that is the rate we asked the partner to send at), and falls back to
//! the administrative partner defaults when the partner goes silent:
//! CURRENT → (current_while) → EXPIRED → (3 s) → DEFAULTED.
//!
//! ```text
//! (any, BEGIN)                        -> INITIALIZE
//! (INITIALIZE, UCT)                   -> PORT_DISABLED
//! (any, !Port_Enabled && !port_moved) -> PORT_DISABLED
//! (PORT_DISABLED, port_moved)         -> INITIALIZE
//! (PORT_DISABLED, enabled+LACP)       -> EXPIRED
//! (PORT_DISABLED, enabled, no LACP)   -> LACP_DISABLED
//! (LACP_DISABLED, LACP_Enabled)       -> PORT_DISABLED
//! (EXPIRED|DEFAULTED|CURRENT, PDU)    -> CURRENT
//! (EXPIRED, current_while expired)    -> DEFAULTED
//! (CURRENT, current_while expired)    -> EXPIRED
//! ```

use super::pdu::{LacpState, LacpduInfo};
use super::{Change, Ctx, LONG_TIMEOUT_MS, PortVars, SHORT_TIMEOUT_MS, Selected, Timer};

/// Receive machine states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum RxState {
    Initialize,
    PortDisabled,
    Expired,
    LacpDisabled,
    Defaulted,
    Current,
}

/// What can move the receive machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxEvent {
    Begin,
    /// Unconditional transition out of INITIALIZE.
    Uct,
    /// `!Port_Enabled && !port_moved`.
    PortDisabled,
    PortMoved,
    /// `Port_Enabled && LACP_Enabled`.
    PortEnabledLacp,
    /// `Port_Enabled && !LACP_Enabled`.
    PortEnabledNoLacp,
    /// `LACP_Enabled` (in LACP_DISABLED).
    LacpEnabled,
    PduReceived,
    CurrentWhileExpired,
}

/// The transition table.
pub fn next_state(state: RxState, event: RxEvent) -> Option<RxState> {
    use RxEvent as E;
    use RxState as S;
    match (state, event) {
        (_, E::Begin) => Some(S::Initialize),
        (S::Initialize, E::Uct) => Some(S::PortDisabled),
        (S::PortDisabled, E::PortDisabled) => None,
        (_, E::PortDisabled) => Some(S::PortDisabled),
        (S::PortDisabled, E::PortMoved) => Some(S::Initialize),
        (S::PortDisabled, E::PortEnabledLacp) => Some(S::Expired),
        (S::PortDisabled, E::PortEnabledNoLacp) => Some(S::LacpDisabled),
        (S::LacpDisabled, E::LacpEnabled) => Some(S::PortDisabled),
        (S::Expired | S::Defaulted | S::Current, E::PduReceived) => Some(S::Current),
        (S::Expired, E::CurrentWhileExpired) => Some(S::Defaulted),
        (S::Current, E::CurrentWhileExpired) => Some(S::Expired),
        _ => None,
    }
}

/// The receive machine of one port.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RxMachine {
    state: RxState,
    current_while: Timer,
}

impl Default for RxMachine {
    fn default() -> Self {
        RxMachine {
            state: RxState::Initialize,
            current_while: Timer::default(),
        }
    }
}

impl RxMachine {
    pub fn state(&self) -> RxState {
        self.state
    }

    pub fn current_while(&self) -> &Timer {
        &self.current_while
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.current_while.deadline()
    }

    /// The event that applies now, if any: global conditions first, then a received PDU,
    /// then the state's own exits.
    fn event(&self, v: &PortVars, now: u64, pdu: bool) -> Option<RxEvent> {
        use RxState as S;
        if self.state == S::Initialize {
            return Some(RxEvent::Uct);
        }
        if !v.port_enabled && !v.port_moved {
            return (self.state != S::PortDisabled).then_some(RxEvent::PortDisabled);
        }
        match self.state {
            S::PortDisabled if v.port_moved => Some(RxEvent::PortMoved),
            S::PortDisabled if v.port_enabled && v.lacp_enabled => Some(RxEvent::PortEnabledLacp),
            S::PortDisabled if v.port_enabled => Some(RxEvent::PortEnabledNoLacp),
            S::LacpDisabled if v.lacp_enabled => Some(RxEvent::LacpEnabled),
            S::Expired | S::Defaulted | S::Current if pdu => Some(RxEvent::PduReceived),
            S::Expired | S::Current if self.current_while.expired(now) => {
                Some(RxEvent::CurrentWhileExpired)
            }
            _ => None,
        }
    }

    /// BEGIN: forces INITIALIZE (and its UCT to PORT_DISABLED on the next step).
    pub(crate) fn begin(&mut self, v: &mut PortVars, ctx: &mut Ctx<'_>) {
        self.enter(RxState::Initialize, v, None, ctx);
    }

    /// Runs the machine to a stable state at `ctx.now`, consuming `pdu` if a state accepts
    /// it. Returns whether anything moved.
    pub(crate) fn step(
        &mut self,
        v: &mut PortVars,
        mut pdu: Option<&LacpduInfo>,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let mut moved = false;
        // Every path through the diagram is at most five transitions long.
        for _ in 0..8 {
            let Some(event) = self.event(v, ctx.now, pdu.is_some()) else {
                break;
            };
            let Some(next) = next_state(self.state, event) else {
                break;
            };
            let this_pdu = if event == RxEvent::PduReceived {
                pdu.take()
            } else {
                None
            };
            self.enter(next, v, this_pdu, ctx);
            moved = true;
        }
        moved
    }

    fn enter(
        &mut self,
        next: RxState,
        v: &mut PortVars,
        pdu: Option<&LacpduInfo>,
        ctx: &mut Ctx<'_>,
    ) {
        let from = self.state;
        self.state = next;
        if from != next {
            ctx.changes.push(Change::Rx {
                port: ctx.port,
                from,
                to: next,
            });
        }
        match next {
            RxState::Initialize => {
                v.selected = Selected::Unselected;
                record_default(v);
                v.actor.state.remove(LacpState::EXPIRED);
                v.port_moved = false;
                self.current_while.stop();
            }
            RxState::PortDisabled => {
                v.partner.state.remove(LacpState::SYNCHRONIZATION);
                self.current_while.stop();
            }
            RxState::Expired => {
                v.partner.state.remove(LacpState::SYNCHRONIZATION);
                v.partner.state.insert(LacpState::TIMEOUT);
                self.current_while.start(ctx.now, SHORT_TIMEOUT_MS);
                v.actor.state.insert(LacpState::EXPIRED);
            }
            RxState::LacpDisabled => {
                v.selected = Selected::Unselected;
                record_default(v);
                v.partner.state.remove(LacpState::AGGREGATION);
                v.actor.state.remove(LacpState::EXPIRED);
                self.current_while.stop();
            }
            RxState::Defaulted => {
                update_default_selected(v);
                record_default(v);
                v.actor.state.remove(LacpState::EXPIRED);
                self.current_while.stop();
            }
            RxState::Current => {
                if let Some(p) = pdu {
                    update_selected(v, p);
                    update_ntt(v, p);
                    record_pdu(v, p);
                }
                let timeout = if v.actor.state.short_timeout() {
                    SHORT_TIMEOUT_MS
                } else {
                    LONG_TIMEOUT_MS
                };
                self.current_while.start(ctx.now, timeout);
                v.actor.state.remove(LacpState::EXPIRED);
            }
        }
    }
}

/// recordPDU (6.4.9): the PDU's actor becomes our operational partner; Defaulted is cleared;
/// the partner counts as in sync only if it says so and the PDU matches us.
pub fn record_pdu(v: &mut PortVars, pdu: &LacpduInfo) {
    let matched = v.pdu_matches(pdu);
    v.partner = pdu.actor;
    v.actor.state.remove(LacpState::DEFAULTED);
    let sync = matched && pdu.actor.state.synchronization();
    v.partner.state.set(LacpState::SYNCHRONIZATION, sync);
    v.loopback = pdu.actor.system == v.actor.system;
}

/// recordDefault (6.4.9): the administrative partner values become operational.
pub fn record_default(v: &mut PortVars) {
    v.partner = v.partner_admin;
    v.actor.state.insert(LacpState::DEFAULTED);
    v.loopback = false;
}

/// update_Selected (6.4.9): a different partner (identity or aggregation) unselects the port.
pub fn update_selected(v: &mut PortVars, pdu: &LacpduInfo) {
    if !pdu.actor.same_identity(&v.partner)
        || pdu.actor.state.aggregation() != v.partner.state.aggregation()
    {
        v.selected = Selected::Unselected;
    }
}

/// update_Default_Selected (6.4.9): the same test against the administrative partner.
pub fn update_default_selected(v: &mut PortVars) {
    if !v.partner_admin.same_identity(&v.partner)
        || v.partner_admin.state.aggregation() != v.partner.state.aggregation()
    {
        v.selected = Selected::Unselected;
    }
}

/// update_NTT (6.4.9): if the partner's view of us is stale, answer at once.
pub fn update_ntt(v: &mut PortVars, pdu: &LacpduInfo) {
    const WATCHED: u8 = LacpState::ACTIVITY.0
        | LacpState::TIMEOUT.0
        | LacpState::SYNCHRONIZATION.0
        | LacpState::AGGREGATION.0;
    if !pdu.partner.same_identity(&v.actor)
        || (pdu.partner.state.0 ^ v.actor.state.0) & WATCHED != 0
    {
        v.ntt = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lacp::testutil::{partner_pdu, vars};

    fn run(m: &mut RxMachine, v: &mut PortVars, now: u64, pdu: Option<&LacpduInfo>) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut ctx = Ctx {
            now,
            port: 0,
            changes: &mut changes,
        };
        m.step(v, pdu, &mut ctx);
        changes
    }

    #[test]
    fn table_has_the_standard_exits() {
        use RxEvent as E;
        use RxState as S;
        assert_eq!(next_state(S::Current, E::Begin), Some(S::Initialize));
        assert_eq!(
            next_state(S::Current, E::PortDisabled),
            Some(S::PortDisabled)
        );
        assert_eq!(next_state(S::PortDisabled, E::PortDisabled), None);
        assert_eq!(next_state(S::PortDisabled, E::PduReceived), None, "dropped");
        assert_eq!(next_state(S::LacpDisabled, E::PduReceived), None, "dropped");
        assert_eq!(next_state(S::Defaulted, E::CurrentWhileExpired), None);
        assert_eq!(next_state(S::Defaulted, E::PduReceived), Some(S::Current));
    }

    #[test]
    fn short_timeout_expires_then_defaults() {
        let mut v = vars(true);
        v.actor.state.insert(LacpState::TIMEOUT); // lacp_rate=fast
        let mut m = RxMachine::default();
        let mut c = Vec::new();
        m.begin(
            &mut v,
            &mut Ctx {
                now: 0,
                port: 0,
                changes: &mut c,
            },
        );
        run(&mut m, &mut v, 0, None);
        assert_eq!(m.state(), RxState::Expired, "enabled port starts EXPIRED");
        assert!(v.actor.state.expired() && v.partner.state.short_timeout());
        let p = partner_pdu(&v, true);
        run(&mut m, &mut v, 100, Some(&p));
        assert_eq!(m.state(), RxState::Current);
        assert_eq!(v.partner.system, p.actor.system);
        assert!(!v.actor.state.defaulted() && !v.actor.state.expired());
        assert!(v.partner.state.synchronization(), "matched and in sync");

        run(&mut m, &mut v, 3_099, None);
        assert_eq!(m.state(), RxState::Current);
        run(&mut m, &mut v, 3_100, None);
        assert_eq!(m.state(), RxState::Expired, "3 s of silence");
        assert!(v.actor.state.expired());
        assert!(!v.partner.state.synchronization());
        run(&mut m, &mut v, 6_099, None);
        assert_eq!(m.state(), RxState::Expired);
        let ch = run(&mut m, &mut v, 6_100, None);
        assert_eq!(m.state(), RxState::Defaulted);
        assert_eq!(
            ch,
            vec![Change::Rx {
                port: 0,
                from: RxState::Expired,
                to: RxState::Defaulted
            }]
        );
        assert!(v.actor.state.defaulted() && !v.actor.state.expired());
        assert_eq!(v.partner, v.partner_admin);
        assert_eq!(v.selected, Selected::Unselected, "update_Default_Selected");
    }

    #[test]
    fn long_timeout_is_90_s() {
        let mut v = vars(true);
        let mut m = RxMachine::default();
        run(&mut m, &mut v, 0, None);
        let p = partner_pdu(&v, false);
        run(&mut m, &mut v, 0, Some(&p));
        run(&mut m, &mut v, 89_999, None);
        assert_eq!(m.state(), RxState::Current);
        run(&mut m, &mut v, 90_000, None);
        assert_eq!(m.state(), RxState::Expired);
    }

    #[test]
    fn link_down_and_lacp_disabled() {
        let mut v = vars(true);
        let mut m = RxMachine::default();
        run(&mut m, &mut v, 0, None);
        let p = partner_pdu(&v, true);
        run(&mut m, &mut v, 0, Some(&p));
        v.port_enabled = false;
        run(&mut m, &mut v, 10, None);
        assert_eq!(m.state(), RxState::PortDisabled);
        assert!(!v.partner.state.synchronization());
        run(&mut m, &mut v, 20, Some(&p));
        assert_eq!(m.state(), RxState::PortDisabled, "no PDUs while down");

        v.port_enabled = true;
        v.lacp_enabled = false; // half duplex
        run(&mut m, &mut v, 30, None);
        assert_eq!(m.state(), RxState::LacpDisabled);
        assert!(!v.partner.state.aggregation());
        v.lacp_enabled = true;
        run(&mut m, &mut v, 40, None);
        assert_eq!(m.state(), RxState::Expired, "via PORT_DISABLED");
    }

    #[test]
    fn update_selected_and_ntt() {
        let mut v = vars(true);
        let p = partner_pdu(&v, true);
        record_pdu(&mut v, &p);
        v.selected = Selected::Selected;
        v.ntt = false;
        update_selected(&mut v, &p);
        update_ntt(&mut v, &p);
        assert_eq!(v.selected, Selected::Selected, "same partner");
        assert!(!v.ntt, "the partner's view of us is current");
        let mut q = p;
        q.actor.key += 1;
        update_selected(&mut v, &q);
        assert_eq!(v.selected, Selected::Unselected);
        q.partner.state.remove(LacpState::ACTIVITY);
        update_ntt(&mut v, &q);
        assert!(v.ntt);
    }

    #[test]
    fn unmatched_pdu_leaves_partner_out_of_sync() {
        let mut v = vars(true);
        let mut p = partner_pdu(&v, true);
        p.partner.key ^= 0x40; // the partner has a stale view of our key
        record_pdu(&mut v, &p);
        assert!(!v.partner.state.synchronization());
        p.actor.state.remove(LacpState::AGGREGATION); // individual: matched regardless
        record_pdu(&mut v, &p);
        assert!(v.partner.state.synchronization());
    }
}
