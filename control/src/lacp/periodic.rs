//! The Periodic Transmission machine (802.1AX-2014 6.4.13).
//!
//! It sets NTT every Fast_Periodic_Time (1 s) or Slow_Periodic_Time (30 s), following the
//! *partner's* LACP_Timeout bit: a partner that asked for short timeouts gets a LACPDU every
//! second. When neither end is active (our `lacp_active` off and the partner passive, or no
//! partner known yet) it sits in NO_PERIODIC, and the transmit machine sends nothing at all
//! (6.4.16): a passive port speaks only once an active partner has spoken to it.
//!
//! ```text
//! (any, BEGIN | !LACP_Enabled | !Port_Enabled | both passive) -> NO_PERIODIC
//! (NO_PERIODIC, UCT)                                 -> FAST_PERIODIC
//! (FAST_PERIODIC, periodic_timer expired)            -> PERIODIC_TX
//! (FAST_PERIODIC, partner long timeout)              -> SLOW_PERIODIC
//! (SLOW_PERIODIC, expired | partner short timeout)   -> PERIODIC_TX
//! (PERIODIC_TX, partner short timeout)               -> FAST_PERIODIC
//! (PERIODIC_TX, partner long timeout)                -> SLOW_PERIODIC
//! ```

use super::{Ctx, FAST_PERIODIC_MS, PortVars, SLOW_PERIODIC_MS, Timer};

/// Periodic transmission states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum PeriodicState {
    NoPeriodic,
    FastPeriodic,
    SlowPeriodic,
    PeriodicTx,
}

/// What can move the periodic machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodicEvent {
    Begin,
    /// BEGIN-like global condition: LACP off, port down, or both ends passive.
    Disabled,
    Uct,
    TimerExpired,
    PartnerShortTimeout,
    PartnerLongTimeout,
}

/// The transition table.
pub fn next_state(state: PeriodicState, event: PeriodicEvent) -> Option<PeriodicState> {
    use PeriodicEvent as E;
    use PeriodicState as S;
    match (state, event) {
        (_, E::Begin) => Some(S::NoPeriodic),
        (S::NoPeriodic, E::Disabled) => None,
        (_, E::Disabled) => Some(S::NoPeriodic),
        (S::NoPeriodic, E::Uct) => Some(S::FastPeriodic),
        (S::FastPeriodic | S::SlowPeriodic, E::TimerExpired) => Some(S::PeriodicTx),
        (S::FastPeriodic, E::PartnerLongTimeout) => Some(S::SlowPeriodic),
        (S::SlowPeriodic, E::PartnerShortTimeout) => Some(S::PeriodicTx),
        (S::PeriodicTx, E::PartnerShortTimeout) => Some(S::FastPeriodic),
        (S::PeriodicTx, E::PartnerLongTimeout) => Some(S::SlowPeriodic),
        _ => None,
    }
}

/// The periodic transmission machine of one port.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PeriodicMachine {
    state: PeriodicState,
    periodic_timer: Timer,
}

impl Default for PeriodicMachine {
    fn default() -> Self {
        PeriodicMachine {
            state: PeriodicState::NoPeriodic,
            periodic_timer: Timer::default(),
        }
    }
}

/// The global NO_PERIODIC condition (without BEGIN).
pub fn disabled(v: &PortVars) -> bool {
    !v.lacp_enabled || !v.port_enabled || (!v.actor.state.activity() && !v.partner.state.activity())
}

impl PeriodicMachine {
    pub fn state(&self) -> PeriodicState {
        self.state
    }

    /// Not in NO_PERIODIC: the transmit machine may send.
    pub fn is_running(&self) -> bool {
        self.state != PeriodicState::NoPeriodic
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.periodic_timer.deadline()
    }

    fn event(&self, v: &PortVars, now: u64) -> Option<PeriodicEvent> {
        use PeriodicEvent as E;
        use PeriodicState as S;
        if disabled(v) {
            return (self.state != S::NoPeriodic).then_some(E::Disabled);
        }
        let short = v.partner.state.short_timeout();
        match self.state {
            S::NoPeriodic => Some(E::Uct),
            S::FastPeriodic | S::SlowPeriodic if self.periodic_timer.expired(now) => {
                Some(E::TimerExpired)
            }
            S::FastPeriodic if !short => Some(E::PartnerLongTimeout),
            S::SlowPeriodic if short => Some(E::PartnerShortTimeout),
            S::PeriodicTx if short => Some(E::PartnerShortTimeout),
            S::PeriodicTx => Some(E::PartnerLongTimeout),
            _ => None,
        }
    }

    pub(crate) fn begin(&mut self, v: &mut PortVars, ctx: &mut Ctx<'_>) {
        self.enter(PeriodicState::NoPeriodic, v, ctx);
    }

    /// Runs to a stable state; returns whether anything moved.
    pub(crate) fn step(&mut self, v: &mut PortVars, ctx: &mut Ctx<'_>) -> bool {
        let mut moved = false;
        for _ in 0..6 {
            let Some(next) = self
                .event(v, ctx.now)
                .and_then(|e| next_state(self.state, e))
            else {
                break;
            };
            self.enter(next, v, ctx);
            moved = true;
        }
        moved
    }

    fn enter(&mut self, next: PeriodicState, v: &mut PortVars, ctx: &mut Ctx<'_>) {
        self.state = next;
        match next {
            PeriodicState::NoPeriodic => self.periodic_timer.stop(),
            PeriodicState::FastPeriodic => self.periodic_timer.start(ctx.now, FAST_PERIODIC_MS),
            PeriodicState::SlowPeriodic => self.periodic_timer.start(ctx.now, SLOW_PERIODIC_MS),
            PeriodicState::PeriodicTx => v.ntt = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lacp::pdu::LacpState;
    use crate::lacp::testutil::vars;

    fn step(m: &mut PeriodicMachine, v: &mut PortVars, now: u64) {
        let mut c = Vec::new();
        m.step(
            v,
            &mut Ctx {
                now,
                port: 0,
                changes: &mut c,
            },
        );
    }

    /// Times within [0, end) at which NTT was raised, stepping every ms.
    fn ntt_times(m: &mut PeriodicMachine, v: &mut PortVars, end: u64) -> Vec<u64> {
        let mut out = Vec::new();
        for t in 0..end {
            step(m, v, t);
            if v.ntt {
                out.push(t);
                v.ntt = false;
            }
        }
        out
    }

    #[test]
    fn fast_partner_means_one_second() {
        let mut v = vars(true);
        v.partner.state = LacpState::TIMEOUT.with(LacpState::ACTIVITY);
        let mut m = PeriodicMachine::default();
        let t = ntt_times(&mut m, &mut v, 5_500);
        assert_eq!(t, vec![1_000, 2_000, 3_000, 4_000, 5_000]);
        assert_eq!(m.state(), PeriodicState::FastPeriodic);
    }

    #[test]
    fn slow_partner_means_thirty_seconds_and_a_switch_to_fast_sends_at_once() {
        let mut v = vars(true);
        v.partner.state = LacpState::ACTIVITY;
        let mut m = PeriodicMachine::default();
        let t = ntt_times(&mut m, &mut v, 61_000);
        assert_eq!(t, vec![30_000, 60_000]);
        v.partner.state.insert(LacpState::TIMEOUT);
        step(&mut m, &mut v, 61_000);
        assert!(
            v.ntt,
            "SLOW_PERIODIC -> PERIODIC_TX on a short-timeout partner"
        );
        assert_eq!(m.state(), PeriodicState::FastPeriodic);
    }

    #[test]
    fn passive_pair_and_down_port_never_transmit() {
        let mut v = vars(true);
        v.actor.state.remove(LacpState::ACTIVITY);
        v.partner.state = LacpState::TIMEOUT; // passive partner
        let mut m = PeriodicMachine::default();
        assert!(ntt_times(&mut m, &mut v, 5_000).is_empty());
        assert!(!m.is_running());
        v.partner.state.insert(LacpState::ACTIVITY); // an active partner spoke
        step(&mut m, &mut v, 5_000);
        assert!(m.is_running());
        v.port_enabled = false;
        step(&mut m, &mut v, 5_001);
        assert_eq!(m.state(), PeriodicState::NoPeriodic);
        assert_eq!(m.next_deadline(), None);
    }

    #[test]
    fn table() {
        use PeriodicEvent as E;
        use PeriodicState as S;
        assert_eq!(next_state(S::PeriodicTx, E::Disabled), Some(S::NoPeriodic));
        assert_eq!(next_state(S::NoPeriodic, E::TimerExpired), None);
        assert_eq!(next_state(S::FastPeriodic, E::PartnerShortTimeout), None);
    }
}
