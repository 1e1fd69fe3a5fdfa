//! The Transmit machine (802.1AX-2014 6.4.16).
//!
//! When NTT is set it sends one LACPDU carrying the actor's and the partner's current
//! operational information, then clears NTT. It never sends more than
//! [`MAX_TX_PER_FAST_PERIOD`] (3) LACPDUs in any Fast_Periodic_Time (1 s) interval: an NTT
//! raised while the limit holds is delayed until the oldest of the last three transmissions
//! is a full second old (a sliding window, exactly the rule of 6.4.16; Linux instead spaces
//! every LACPDU at least 1/3 s apart, VPP 0.333 s). While the periodic machine is in
//! NO_PERIODIC (both ends passive, port down or LACP disabled) nothing is sent and NTT is
//! cleared.
//!
//! ```text
//! (any, Disabled)           -> NO_TX    (NTT = FALSE)
//! (NO_TX, Enabled)          -> READY
//! (READY, NTT, window open) -> READY    (transmit, NTT = FALSE)
//! (READY, NTT, 3 in window) -> HOLDING
//! (HOLDING, window open)    -> READY    (transmit, NTT = FALSE)
//! ```

use super::pdu::LacpduInfo;
use super::{FAST_PERIODIC_MS, MAX_TX_PER_FAST_PERIOD, PortVars};

/// Transmit machine states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum TxState {
    /// Periodic machine in NO_PERIODIC: nothing may be sent.
    NoTx,
    /// Will send as soon as NTT is set.
    Ready,
    /// NTT is pending but three LACPDUs already left in the last second.
    Holding,
}

/// What can move the transmit machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxEvent {
    Disabled,
    Enabled,
    /// NTT with room in the rate window.
    Ntt,
    /// NTT with the window full.
    NttLimited,
    /// The window has room again (while HOLDING).
    WindowOpen,
}

/// The transition table: the next state and whether the transition transmits.
pub fn next_state(state: TxState, event: TxEvent) -> Option<(TxState, bool)> {
    use TxEvent as E;
    use TxState as S;
    match (state, event) {
        (S::NoTx, E::Disabled) => None,
        (_, E::Disabled) => Some((S::NoTx, false)),
        (S::NoTx, E::Enabled) => Some((S::Ready, false)),
        (S::Ready, E::Ntt) => Some((S::Ready, true)),
        (S::Ready, E::NttLimited) => Some((S::Holding, false)),
        (S::Holding, E::WindowOpen) => Some((S::Ready, true)),
        _ => None,
    }
}

/// The transmit machine of one port, with its rate window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TxMachine {
    state: TxState,
    /// Times of the last transmissions, oldest first (at most three kept).
    sent: [Option<u64>; MAX_TX_PER_FAST_PERIOD],
}

impl Default for TxMachine {
    fn default() -> Self {
        TxMachine {
            state: TxState::NoTx,
            sent: [None; MAX_TX_PER_FAST_PERIOD],
        }
    }
}

impl TxMachine {
    pub fn state(&self) -> TxState {
        self.state
    }

    /// When the window next has room, if it is full at `now`.
    fn window_reopens(&self, now: u64) -> Option<u64> {
        match self.sent[0] {
            Some(oldest) if self.sent.iter().all(Option::is_some) => {
                let at = oldest.saturating_add(FAST_PERIODIC_MS);
                (now < at).then_some(at)
            }
            _ => None,
        }
    }

    /// The deadline of a held NTT.
    pub fn next_deadline(&self, now: u64) -> Option<u64> {
        if self.state == TxState::Holding {
            self.window_reopens(now).or(Some(now))
        } else {
            None
        }
    }

    fn event(&self, v: &PortVars, periodic_running: bool, now: u64) -> Option<TxEvent> {
        use TxState as S;
        if !periodic_running || !v.port_enabled || !v.lacp_enabled {
            return Some(TxEvent::Disabled);
        }
        let room = self.window_reopens(now).is_none();
        match self.state {
            S::NoTx => Some(TxEvent::Enabled),
            S::Ready if v.ntt && room => Some(TxEvent::Ntt),
            S::Ready if v.ntt => Some(TxEvent::NttLimited),
            S::Holding if room => Some(TxEvent::WindowOpen),
            _ => None,
        }
    }

    /// Runs the machine at `now`. Returns the LACPDU contents to send, if it transmits.
    pub(crate) fn step(
        &mut self,
        v: &mut PortVars,
        periodic_running: bool,
        now: u64,
    ) -> Option<LacpduInfo> {
        for _ in 0..4 {
            let step = self
                .event(v, periodic_running, now)
                .and_then(|e| next_state(self.state, e));
            let Some((next, transmit)) = step else {
                break;
            };
            self.state = next;
            if transmit {
                v.ntt = false;
                self.sent.rotate_left(1);
                self.sent[MAX_TX_PER_FAST_PERIOD - 1] = Some(now);
                return Some(pdu_from(v));
            }
        }
        if self.state == TxState::NoTx {
            // NO_PERIODIC: nothing is sent and a pending NTT is dropped (6.4.16).
            v.ntt = false;
        }
        None
    }
}

/// The LACPDU the port sends now (Linux `__update_lacpdu_from_port`): our operational
/// actor information and our view of the partner. Collector_Max_Delay is 0, as Linux and
/// Open vSwitch send.
pub fn pdu_from(v: &PortVars) -> LacpduInfo {
    LacpduInfo {
        version: super::pdu::LACP_VERSION,
        actor: v.actor,
        partner: v.partner,
        collector_max_delay: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lacp::testutil::vars;

    #[test]
    fn at_most_three_per_second_then_held() {
        let mut v = vars(true);
        let mut m = TxMachine::default();
        let mut sent = Vec::new();
        // NTT raised every 100 ms for 3 s.
        for t in (0..3_000).step_by(10) {
            if t % 100 == 0 {
                v.ntt = true;
            }
            if m.step(&mut v, true, t).is_some() {
                sent.push(t);
            }
        }
        assert_eq!(
            sent,
            vec![0, 100, 200, 1_000, 1_100, 1_200, 2_000, 2_100, 2_200]
        );
        for w in sent.windows(4) {
            assert!(w[3] - w[0] >= 1_000, "4 within a second: {w:?}");
        }
    }

    #[test]
    fn holding_reports_its_deadline() {
        let mut v = vars(true);
        let mut m = TxMachine::default();
        for t in [0, 10, 20] {
            v.ntt = true;
            assert!(m.step(&mut v, true, t).is_some());
        }
        v.ntt = true;
        assert!(m.step(&mut v, true, 30).is_none());
        assert_eq!(m.state(), TxState::Holding);
        assert_eq!(m.next_deadline(30), Some(1_000));
        assert!(m.step(&mut v, true, 999).is_none());
        assert!(m.step(&mut v, true, 1_000).is_some());
        assert!(!v.ntt);
    }

    #[test]
    fn no_periodic_means_silence() {
        let mut v = vars(true);
        let mut m = TxMachine::default();
        v.ntt = true;
        assert!(m.step(&mut v, false, 0).is_none());
        assert!(!v.ntt, "NTT is dropped in NO_PERIODIC");
        assert_eq!(m.state(), TxState::NoTx);
    }

    #[test]
    fn pdu_carries_actor_and_partner() {
        let mut v = vars(true);
        v.partner.key = 77;
        let p = pdu_from(&v);
        assert_eq!(p.actor, v.actor);
        assert_eq!(p.partner.key, 77);
        assert_eq!(p.version, 1);
    }
}
