//! Actor and Partner Churn Detection (802.1AX-2014 6.4.17).
//!
//! A port whose actor (or partner) state has not reached Synchronization within
//! Churn_Detection_Time (60 s) is "churned": something (a key mismatch, a loop, a partner
//! that will not aggregate) keeps it from converging. Each entry into the CHURN state counts
//! once (`Actor Churned Count` / `Partner Churned Count` in `/proc/net/bonding`).
//!
//! One machine type serves both: the actor machine watches
//! Actor_Oper_Port_State.Synchronization, the partner machine
//! Partner_Oper_Port_State.Synchronization.
//!
//! ```text
//! (any, BEGIN | !Port_Enabled)     -> CHURN_MONITOR  (start churn timer 60 s)
//! (CHURN_MONITOR, in sync)         -> NO_CHURN
//! (CHURN_MONITOR, timer expired)   -> CHURN          (count + 1)
//! (NO_CHURN, out of sync)          -> CHURN_MONITOR
//! (CHURN, in sync)                 -> NO_CHURN
//! ```
//!
//! Linux differs: it restarts monitoring whenever the receive machine (re)initialises,
//! expires, or hears a partner again, and decides once at the end of the 60 s, never leaving
//! CHURN or NO_CHURN otherwise. This follows the standard, which also recovers from CHURN.

use super::{CHURN_DETECTION_MS, Change, Ctx, Timer};

/// Churn detection states. Display gives the words Linux prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ChurnState {
    /// CHURN_MONITOR: "monitoring".
    Monitor,
    /// CHURN: "churned".
    Churn,
    /// NO_CHURN: "none".
    NoChurn,
}

impl core::fmt::Display for ChurnState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ChurnState::Monitor => "monitoring",
            ChurnState::Churn => "churned",
            ChurnState::NoChurn => "none",
        })
    }
}

/// What can move a churn machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChurnEvent {
    /// BEGIN or the port is disabled: (re)start monitoring.
    Restart,
    InSync,
    OutOfSync,
    TimerExpired,
}

/// The transition table.
pub fn next_state(state: ChurnState, event: ChurnEvent) -> Option<ChurnState> {
    use ChurnEvent as E;
    use ChurnState as S;
    match (state, event) {
        (_, E::Restart) => Some(S::Monitor),
        (S::Monitor, E::InSync) => Some(S::NoChurn),
        (S::Monitor, E::TimerExpired) => Some(S::Churn),
        (S::NoChurn, E::OutOfSync) => Some(S::Monitor),
        (S::Churn, E::InSync) => Some(S::NoChurn),
        _ => None,
    }
}

/// Whose synchronization a churn machine watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Side {
    Actor,
    Partner,
}

/// One churn detection machine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChurnMachine {
    side: Side,
    state: ChurnState,
    timer: Timer,
    count: u32,
}

impl ChurnMachine {
    pub fn new(side: Side) -> Self {
        ChurnMachine {
            side,
            state: ChurnState::Monitor,
            timer: Timer::default(),
            count: 0,
        }
    }

    pub fn state(&self) -> ChurnState {
        self.state
    }

    /// Times the machine entered CHURN.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// `actor_churn` / `partner_churn`.
    pub fn churned(&self) -> bool {
        self.state == ChurnState::Churn
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.timer.deadline()
    }

    pub(crate) fn begin(&mut self, ctx: &mut Ctx<'_>) {
        self.enter(ChurnState::Monitor, ctx);
    }

    /// Runs the machine with the watched synchronization bit; returns whether it moved.
    pub(crate) fn step(&mut self, port_enabled: bool, in_sync: bool, ctx: &mut Ctx<'_>) -> bool {
        use ChurnEvent as E;
        use ChurnState as S;
        if !port_enabled {
            if self.state == S::Monitor {
                // The global condition holds continuously: monitoring restarts until the
                // port is up, so a down port never churns.
                self.timer.start(ctx.now, CHURN_DETECTION_MS);
                return false;
            }
            self.enter(S::Monitor, ctx);
            return true;
        }
        let event = match self.state {
            S::Monitor | S::Churn if in_sync => E::InSync,
            S::Monitor if self.timer.expired(ctx.now) => E::TimerExpired,
            S::NoChurn if !in_sync => E::OutOfSync,
            _ => return false,
        };
        match next_state(self.state, event) {
            Some(next) => {
                self.enter(next, ctx);
                true
            }
            None => false,
        }
    }

    fn enter(&mut self, next: ChurnState, ctx: &mut Ctx<'_>) {
        let from = self.state;
        self.state = next;
        match next {
            ChurnState::Monitor => self.timer.start(ctx.now, CHURN_DETECTION_MS),
            ChurnState::Churn => {
                self.timer.stop();
                self.count = self.count.saturating_add(1);
            }
            ChurnState::NoChurn => self.timer.stop(),
        }
        if from != next {
            let port = ctx.port;
            ctx.changes.push(match self.side {
                Side::Actor => Change::ActorChurn { port, state: next },
                Side::Partner => Change::PartnerChurn { port, state: next },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(m: &mut ChurnMachine, up: bool, sync: bool, now: u64) -> Vec<Change> {
        let mut c = Vec::new();
        m.step(
            up,
            sync,
            &mut Ctx {
                now,
                port: 1,
                changes: &mut c,
            },
        );
        c
    }

    #[test]
    fn sixty_seconds_out_of_sync_is_churn() {
        let mut m = ChurnMachine::new(Side::Partner);
        let mut c = Vec::new();
        m.begin(&mut Ctx {
            now: 0,
            port: 1,
            changes: &mut c,
        });
        assert!(step(&mut m, true, false, 59_999).is_empty());
        assert_eq!(m.state(), ChurnState::Monitor);
        let c = step(&mut m, true, false, 60_000);
        assert_eq!(
            c,
            vec![Change::PartnerChurn {
                port: 1,
                state: ChurnState::Churn
            }]
        );
        assert_eq!(m.count(), 1);
        assert_eq!(m.state().to_string(), "churned");
        step(&mut m, true, true, 61_000);
        assert_eq!(m.state(), ChurnState::NoChurn);
        assert_eq!(m.state().to_string(), "none");
        step(&mut m, true, false, 62_000);
        assert_eq!(m.state(), ChurnState::Monitor);
        step(&mut m, true, false, 122_000);
        assert_eq!(m.count(), 2, "counted again");
    }

    #[test]
    fn sync_in_time_is_no_churn_and_down_ports_never_churn() {
        let mut m = ChurnMachine::new(Side::Actor);
        step(&mut m, true, true, 100);
        assert_eq!(m.state(), ChurnState::NoChurn);
        step(&mut m, false, false, 200);
        assert_eq!(m.state(), ChurnState::Monitor);
        for t in (0..300_000).step_by(1_000) {
            step(&mut m, false, false, 200 + t);
        }
        assert_eq!(m.state(), ChurnState::Monitor);
        assert_eq!(m.count(), 0);
    }
}
