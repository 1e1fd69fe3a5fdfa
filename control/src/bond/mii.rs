//! The MII link monitor of one member: Linux's `bond_miimon_inspect`/`bond_miimon_commit`
//! as a pure state machine. Each tick (every `miimon` ms) takes the carrier reading and returns
//! what happened; delays count in ticks, as the kernel stores `updelay`/`downdelay`.

/// A member's link as the monitor sees it (the kernel's `BOND_LINK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum MiiState {
    /// Up and usable.
    Up,
    /// Carrier lost, `downdelay` running ("going down").
    Fail,
    /// Down.
    Down,
    /// Carrier back, `updelay` running ("going back").
    Back,
}

/// Bond-wide monitor parameters, in ticks.
#[derive(Debug, Clone, Copy)]
pub struct MiiParams {
    pub miimon_ms: u32,
    pub updelay_ticks: u32,
    pub downdelay_ticks: u32,
}

/// What one tick did to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiiEvent {
    /// Carrier lost; the member goes down in `delay_ms` ("disabling it in").
    DownDelayed { delay_ms: u32 },
    /// Carrier back during downdelay, after `after_ms`.
    UpAgain { after_ms: u32 },
    /// Carrier back; the member comes up in `delay_ms` ("enabling it in").
    UpDelayed { delay_ms: u32 },
    /// Carrier lost again during updelay, after `after_ms`.
    DownAgain { after_ms: u32 },
    /// Committed: the member is up ("definitely up").
    WentUp,
    /// Committed: the member is down ("definitely down"); its failure count was raised.
    WentDown,
}

/// One member's monitor state.
#[derive(Debug, Clone, Copy)]
pub struct MiiMember {
    pub state: MiiState,
    /// Ticks left of the running delay.
    pub delay: u32,
    /// Times the member went down (`Link Failure Count`).
    pub link_failure_count: u32,
}

impl MiiMember {
    /// State at enslave: up (or back, when `updelay` applies) if the carrier is up.
    pub fn enslave(carrier: bool, p: &MiiParams, monitored: bool) -> Self {
        let state = if !monitored || carrier {
            if monitored && p.updelay_ticks > 0 {
                MiiState::Back
            } else {
                MiiState::Up
            }
        } else {
            MiiState::Down
        };
        MiiMember {
            state,
            delay: if state == MiiState::Back {
                p.updelay_ticks
            } else {
                0
            },
            link_failure_count: 0,
        }
    }

    /// One tick with carrier `up`. `ignore_updelay` is the kernel's rule that a bond with no
    /// active member takes a returning member at once. Returns up to two events (e.g. a
    /// zero downdelay gives `DownDelayed` is skipped and `WentDown` comes in the same tick).
    pub fn tick(&mut self, up: bool, p: &MiiParams, ignore_updelay: bool) -> [Option<MiiEvent>; 2] {
        let ms = |ticks: u32| ticks.saturating_mul(p.miimon_ms);
        let mut ev = [None, None];
        match self.state {
            MiiState::Up => {
                if up {
                    return ev;
                }
                self.state = MiiState::Fail;
                self.delay = p.downdelay_ticks;
                if self.delay > 0 {
                    ev[0] = Some(MiiEvent::DownDelayed {
                        delay_ms: ms(p.downdelay_ticks),
                    });
                }
                ev[1] = self.fail_step(up, p);
            }
            MiiState::Fail => ev[0] = self.fail_step(up, p),
            MiiState::Down => {
                if !up {
                    return ev;
                }
                self.state = MiiState::Back;
                self.delay = if ignore_updelay { 0 } else { p.updelay_ticks };
                if self.delay > 0 {
                    ev[0] = Some(MiiEvent::UpDelayed {
                        delay_ms: ms(p.updelay_ticks),
                    });
                }
                ev[1] = self.back_step(up, p, ignore_updelay);
            }
            MiiState::Back => ev[0] = self.back_step(up, p, ignore_updelay),
        }
        ev
    }

    fn fail_step(&mut self, up: bool, p: &MiiParams) -> Option<MiiEvent> {
        if up {
            // Recovered before the downdelay ran out: the kernel logs "up again" and then
            // commits the member up (logging "definitely up" as well).
            self.state = MiiState::Up;
            return Some(MiiEvent::UpAgain {
                after_ms: (p.downdelay_ticks - self.delay).saturating_mul(p.miimon_ms),
            });
        }
        if self.delay == 0 {
            self.state = MiiState::Down;
            self.link_failure_count = self.link_failure_count.saturating_add(1);
            return Some(MiiEvent::WentDown);
        }
        self.delay -= 1;
        None
    }

    fn back_step(&mut self, up: bool, p: &MiiParams, ignore_updelay: bool) -> Option<MiiEvent> {
        if !up {
            self.state = MiiState::Down;
            self.link_failure_count = self.link_failure_count.saturating_add(1);
            return Some(MiiEvent::DownAgain {
                after_ms: (p.updelay_ticks.saturating_sub(self.delay)).saturating_mul(p.miimon_ms),
            });
        }
        if ignore_updelay {
            self.delay = 0;
        }
        if self.delay == 0 {
            self.state = MiiState::Up;
            return Some(MiiEvent::WentUp);
        }
        self.delay -= 1;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: MiiParams = MiiParams {
        miimon_ms: 100,
        updelay_ticks: 2,
        downdelay_ticks: 3,
    };

    fn run(m: &mut MiiMember, carriers: &[bool], ignore: bool) -> Vec<(usize, MiiEvent)> {
        let mut out = Vec::new();
        for (t, &c) in carriers.iter().enumerate() {
            for e in m.tick(c, &P, ignore).into_iter().flatten() {
                out.push((t, e));
            }
        }
        out
    }

    #[test]
    fn downdelay_counts_ticks_then_commits() {
        let mut m = MiiMember::enslave(
            true,
            &MiiParams {
                updelay_ticks: 0,
                ..P
            },
            true,
        );
        assert_eq!(m.state, MiiState::Up);
        let ev = run(&mut m, &[true, false, false, false, false, false], false);
        // tick 1 loses carrier: "disabling it in 300 ms"; down after 3 more ticks.
        assert_eq!(
            ev,
            vec![
                (1, MiiEvent::DownDelayed { delay_ms: 300 }),
                (4, MiiEvent::WentDown)
            ]
        );
        assert_eq!(m.state, MiiState::Down);
        assert_eq!(m.link_failure_count, 1);
    }

    #[test]
    fn zero_downdelay_goes_down_in_the_same_tick() {
        let p = MiiParams {
            downdelay_ticks: 0,
            ..P
        };
        let mut m = MiiMember::enslave(
            true,
            &MiiParams {
                updelay_ticks: 0,
                ..p
            },
            true,
        );
        let ev = m.tick(false, &p, false);
        assert_eq!(ev, [None, Some(MiiEvent::WentDown)]);
    }

    #[test]
    fn recovery_during_downdelay_is_up_again() {
        let mut m = MiiMember::enslave(
            true,
            &MiiParams {
                updelay_ticks: 0,
                ..P
            },
            true,
        );
        let ev = run(&mut m, &[false, false, true], false);
        assert_eq!(
            ev,
            vec![
                (0, MiiEvent::DownDelayed { delay_ms: 300 }),
                (2, MiiEvent::UpAgain { after_ms: 200 })
            ]
        );
        assert_eq!(m.state, MiiState::Up);
        assert_eq!(m.link_failure_count, 0);
    }

    #[test]
    fn updelay_and_down_again() {
        let mut m = MiiMember::enslave(false, &P, true);
        assert_eq!(m.state, MiiState::Down);
        let ev = run(&mut m, &[true, true, true], false);
        assert_eq!(
            ev,
            vec![
                (0, MiiEvent::UpDelayed { delay_ms: 200 }),
                (2, MiiEvent::WentUp)
            ]
        );
        let ev = run(&mut m, &[false, false, false, false, true, false], false);
        assert_eq!(
            ev[..2],
            [
                (0, MiiEvent::DownDelayed { delay_ms: 300 }),
                (3, MiiEvent::WentDown)
            ]
        );
        assert_eq!(
            ev[2..],
            [
                (4, MiiEvent::UpDelayed { delay_ms: 200 }),
                (5, MiiEvent::DownAgain { after_ms: 100 })
            ]
        );
        assert_eq!(m.link_failure_count, 2);
    }

    #[test]
    fn no_active_member_ignores_updelay() {
        let mut m = MiiMember::enslave(false, &P, true);
        let ev = m.tick(true, &P, true);
        assert_eq!(ev, [None, Some(MiiEvent::WentUp)]);
    }

    #[test]
    fn unmonitored_members_count_as_up() {
        let m = MiiMember::enslave(false, &P, false);
        assert_eq!(m.state, MiiState::Up);
        let m = MiiMember::enslave(true, &P, true);
        assert_eq!(m.state, MiiState::Back, "updelay applies at enslave too");
    }
}
