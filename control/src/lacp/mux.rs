//! The Mux machine (802.1AX-2014 6.4.15): attaches the port to its selected aggregator and
//! turns collecting and distributing on and off.
//!
//! Two variants, chosen by Linux's `coupled_control` option:
//!
//! * coupled control (the default): ATTACHED → COLLECTING_DISTRIBUTING as soon as
//!   the partner is in sync; both directions go on together.
//! * independent control: ATTACHED → COLLECTING when the partner is in sync, then
//!   DISTRIBUTING once the partner reports Collecting, so neither end sends before the other
//!   can receive.
//!
//! ```text
//! (any, BEGIN)                                   -> DETACHED
//! (DETACHED, SELECTED | STANDBY)                 -> WAITING       (start wait_while 2 s)
//! (WAITING, UNSELECTED)                          -> DETACHED
//! (WAITING, SELECTED && Ready)                   -> ATTACHED
//! (ATTACHED, UNSELECTED | STANDBY)               -> DETACHED
//! (ATTACHED, SELECTED && partner in sync)        -> COLLECTING_DISTRIBUTING (coupled)
//!                                                 | COLLECTING              (independent)
//! (COLLECTING_DISTRIBUTING, !SELECTED | !partner sync) -> ATTACHED
//! (COLLECTING, !SELECTED | !partner sync)        -> ATTACHED
//! (COLLECTING, partner collecting)               -> DISTRIBUTING
//! (DISTRIBUTING, !SELECTED | !sync | !partner collecting) -> COLLECTING
//! ```
//!
//! Ready_N is raised when wait_while expires; the selection logic turns the Ready_N of all
//! ports waiting for one aggregator into Ready. Only the bond's active aggregator has SELECTED
//! ports: the others are STANDBY, wait in WAITING and keep Synchronization off, which is how
//! Linux's "one active aggregator" shows on the wire too.

use super::pdu::LacpState;
use super::{AGGREGATE_WAIT_MS, Change, Ctx, PortVars, Selected, Timer};

/// Mux states (both variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MuxState {
    Detached,
    Waiting,
    Attached,
    /// Coupled control only.
    CollectingDistributing,
    /// Independent control only.
    Collecting,
    /// Independent control only.
    Distributing,
}

/// What can move the mux machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MuxEvent {
    Begin,
    /// Selected is SELECTED or STANDBY.
    SelectedOrStandby,
    Unselected,
    /// Selected is UNSELECTED or STANDBY.
    UnselectedOrStandby,
    /// SELECTED and Ready.
    SelectedAndReady,
    /// SELECTED and the partner is in sync.
    PartnerInSync,
    /// The partner went out of sync.
    PartnerOutOfSync,
    /// SELECTED, in sync, and the partner collects.
    PartnerCollecting,
    PartnerNotCollecting,
}

/// The transition table; `coupled` picks the variant.
pub fn next_state(state: MuxState, event: MuxEvent, coupled: bool) -> Option<MuxState> {
    use MuxEvent as E;
    use MuxState as S;
    match (state, event) {
        (_, E::Begin) => Some(S::Detached),
        (S::Detached, E::SelectedOrStandby) => Some(S::Waiting),
        (S::Waiting, E::Unselected) => Some(S::Detached),
        (S::Waiting, E::SelectedAndReady) => Some(S::Attached),
        (S::Attached, E::UnselectedOrStandby) => Some(S::Detached),
        (S::Attached, E::PartnerInSync) if coupled => Some(S::CollectingDistributing),
        (S::Attached, E::PartnerInSync) => Some(S::Collecting),
        (S::CollectingDistributing, E::UnselectedOrStandby | E::PartnerOutOfSync) => {
            Some(S::Attached)
        }
        (S::Collecting, E::UnselectedOrStandby | E::PartnerOutOfSync) => Some(S::Attached),
        (S::Collecting, E::PartnerCollecting) => Some(S::Distributing),
        (
            S::Distributing,
            E::UnselectedOrStandby | E::PartnerOutOfSync | E::PartnerNotCollecting,
        ) => Some(S::Collecting),
        _ => None,
    }
}

/// The mux machine of one port.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MuxMachine {
    state: MuxState,
    wait_while: Timer,
    coupled: bool,
}

impl MuxMachine {
    pub fn new(coupled: bool) -> Self {
        MuxMachine {
            state: MuxState::Detached,
            wait_while: Timer::default(),
            coupled,
        }
    }

    pub fn state(&self) -> MuxState {
        self.state
    }

    pub fn coupled(&self) -> bool {
        self.coupled
    }

    /// Switches variant; takes effect through BEGIN, which the caller raises.
    pub fn set_coupled(&mut self, coupled: bool) {
        self.coupled = coupled;
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.wait_while.deadline()
    }

    fn event(&self, v: &PortVars) -> Option<MuxEvent> {
        use MuxEvent as E;
        use MuxState as S;
        let selected = v.selected == Selected::Selected;
        let partner_sync = v.partner.state.synchronization();
        match self.state {
            S::Detached if v.selected != Selected::Unselected => Some(E::SelectedOrStandby),
            S::Waiting if v.selected == Selected::Unselected => Some(E::Unselected),
            S::Waiting if selected && v.ready => Some(E::SelectedAndReady),
            S::Attached if !selected => Some(E::UnselectedOrStandby),
            S::Attached if partner_sync => Some(E::PartnerInSync),
            S::CollectingDistributing | S::Collecting | S::Distributing if !selected => {
                Some(E::UnselectedOrStandby)
            }
            S::CollectingDistributing | S::Collecting | S::Distributing if !partner_sync => {
                Some(E::PartnerOutOfSync)
            }
            S::Collecting if v.partner.state.collecting() => Some(E::PartnerCollecting),
            S::Distributing if !v.partner.state.collecting() => Some(E::PartnerNotCollecting),
            _ => None,
        }
    }

    pub(crate) fn begin(&mut self, v: &mut PortVars, ctx: &mut Ctx<'_>) {
        self.enter(MuxState::Detached, v, ctx);
    }

    /// Runs to a stable state; returns whether anything moved (Ready_N included, which the
    /// selection logic reads).
    pub(crate) fn step(&mut self, v: &mut PortVars, ctx: &mut Ctx<'_>) -> bool {
        let mut moved = false;
        if self.state == MuxState::Waiting && !v.ready_n && self.wait_while.expired(ctx.now) {
            v.ready_n = true;
            self.wait_while.stop();
            moved = true;
        }
        for _ in 0..8 {
            let Some(next) = self
                .event(v)
                .and_then(|e| next_state(self.state, e, self.coupled))
            else {
                break;
            };
            self.enter(next, v, ctx);
            moved = true;
        }
        moved
    }

    fn enter(&mut self, next: MuxState, v: &mut PortVars, ctx: &mut Ctx<'_>) {
        let from = self.state;
        self.state = next;
        if from != next {
            ctx.changes.push(Change::Mux {
                port: ctx.port,
                from,
                to: next,
            });
        }
        match next {
            MuxState::Detached => {
                // Detach_Mux_From_Aggregator.
                v.actor.state.remove(LacpState::SYNCHRONIZATION);
                set_distributing(v, false, ctx);
                set_collecting(v, false, ctx);
                v.ready_n = false;
                self.wait_while.stop();
                v.ntt = true;
            }
            MuxState::Waiting => {
                v.ready_n = false;
                self.wait_while.start(ctx.now, AGGREGATE_WAIT_MS);
            }
            MuxState::Attached => {
                // Attach_Mux_To_Aggregator.
                v.actor.state.insert(LacpState::SYNCHRONIZATION);
                set_distributing(v, false, ctx);
                set_collecting(v, false, ctx);
                self.wait_while.stop();
                v.ntt = true;
            }
            MuxState::CollectingDistributing => {
                set_collecting(v, true, ctx);
                set_distributing(v, true, ctx);
                v.ntt = true;
            }
            MuxState::Collecting => {
                set_collecting(v, true, ctx);
                set_distributing(v, false, ctx);
                v.ntt = true;
            }
            MuxState::Distributing => {
                // 6.4.15 sets no NTT here: the partner learns it with the next periodic PDU.
                set_distributing(v, true, ctx);
            }
        }
    }
}

/// Enable_Collecting / Disable_Collecting and the Collecting bit; reports real changes.
fn set_collecting(v: &mut PortVars, on: bool, ctx: &mut Ctx<'_>) {
    if v.actor.state.collecting() != on {
        v.actor.state.set(LacpState::COLLECTING, on);
        ctx.changes.push(Change::Collecting { port: ctx.port, on });
    }
}

/// Enable_Distributing / Disable_Distributing and the Distributing bit.
fn set_distributing(v: &mut PortVars, on: bool, ctx: &mut Ctx<'_>) {
    if v.actor.state.distributing() != on {
        v.actor.state.set(LacpState::DISTRIBUTING, on);
        ctx.changes
            .push(Change::Distributing { port: ctx.port, on });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lacp::testutil::vars;

    fn step(m: &mut MuxMachine, v: &mut PortVars, now: u64) -> Vec<Change> {
        let mut c = Vec::new();
        m.step(
            v,
            &mut Ctx {
                now,
                port: 3,
                changes: &mut c,
            },
        );
        c
    }

    fn attached(coupled: bool) -> (MuxMachine, PortVars) {
        let mut v = vars(true);
        let mut m = MuxMachine::new(coupled);
        v.selected = Selected::Selected;
        step(&mut m, &mut v, 0);
        assert_eq!(m.state(), MuxState::Waiting);
        step(&mut m, &mut v, 1_999);
        assert!(!v.ready_n, "wait_while is 2 s");
        step(&mut m, &mut v, 2_000);
        assert!(v.ready_n);
        assert_eq!(m.state(), MuxState::Waiting, "Ready comes from selection");
        v.ready = true;
        v.ntt = false;
        step(&mut m, &mut v, 2_000);
        assert_eq!(m.state(), MuxState::Attached);
        assert!(v.actor.state.synchronization() && v.ntt);
        (m, v)
    }

    #[test]
    fn coupled_goes_to_collecting_distributing_on_partner_sync() {
        let (mut m, mut v) = attached(true);
        v.partner.state.insert(LacpState::SYNCHRONIZATION);
        let c = step(&mut m, &mut v, 2_100);
        assert_eq!(m.state(), MuxState::CollectingDistributing);
        assert!(v.actor.state.collecting() && v.actor.state.distributing());
        assert!(c.contains(&Change::Collecting { port: 3, on: true }));
        assert!(c.contains(&Change::Distributing { port: 3, on: true }));

        v.partner.state.remove(LacpState::SYNCHRONIZATION);
        let c = step(&mut m, &mut v, 2_200);
        assert_eq!(m.state(), MuxState::Attached);
        assert!(c.contains(&Change::Distributing { port: 3, on: false }));
        assert!(!v.actor.state.collecting());

        v.selected = Selected::Standby;
        step(&mut m, &mut v, 2_300);
        assert_eq!(
            m.state(),
            MuxState::Waiting,
            "standby: detached, then waiting"
        );
        assert!(!v.actor.state.synchronization());
    }

    #[test]
    fn independent_collects_before_distributing() {
        let (mut m, mut v) = attached(false);
        v.partner.state.insert(LacpState::SYNCHRONIZATION);
        let c = step(&mut m, &mut v, 2_100);
        assert_eq!(m.state(), MuxState::Collecting);
        assert!(v.actor.state.collecting() && !v.actor.state.distributing());
        assert_eq!(
            c.iter()
                .filter(|c| matches!(c, Change::Distributing { .. }))
                .count(),
            0
        );
        v.partner.state.insert(LacpState::COLLECTING);
        step(&mut m, &mut v, 2_200);
        assert_eq!(m.state(), MuxState::Distributing);
        assert!(v.actor.state.distributing());
        v.partner.state.remove(LacpState::COLLECTING);
        step(&mut m, &mut v, 2_300);
        assert_eq!(m.state(), MuxState::Collecting);
        v.selected = Selected::Unselected;
        step(&mut m, &mut v, 2_400);
        assert_eq!(m.state(), MuxState::Detached);
        assert!(!v.actor.state.collecting());
    }

    #[test]
    fn unselected_while_waiting_detaches() {
        let mut v = vars(true);
        let mut m = MuxMachine::new(true);
        v.selected = Selected::Selected;
        step(&mut m, &mut v, 0);
        v.selected = Selected::Unselected;
        step(&mut m, &mut v, 500);
        assert_eq!(m.state(), MuxState::Detached);
        assert_eq!(m.next_deadline(), None);
    }

    #[test]
    fn table_keeps_variants_apart() {
        use MuxEvent as E;
        use MuxState as S;
        assert_eq!(
            next_state(S::Attached, E::PartnerInSync, true),
            Some(S::CollectingDistributing)
        );
        assert_eq!(
            next_state(S::Attached, E::PartnerInSync, false),
            Some(S::Collecting)
        );
        assert_eq!(next_state(S::Waiting, E::UnselectedOrStandby, true), None);
        assert_eq!(next_state(S::Detached, E::Unselected, true), None);
    }
}
