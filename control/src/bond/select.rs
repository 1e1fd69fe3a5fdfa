//! Choosing the active member (active-backup, and the member balance-rr sends IGMP on):
//! Linux's `bond_find_best_slave` with `primary` and `primary_reselect`.

use super::mii::MiiState;
use crate::options::PrimaryReselect;

/// What selection needs to know about a member.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub state: MiiState,
    /// Ticks left of its updelay (for members in `Back`).
    pub delay: u32,
    pub speed_mbps: u32,
    pub full_duplex: bool,
}

/// The member that should be active, given the current one, the primary, and the rules.
/// A member still in its updelay may be chosen when nothing is up (the kernel then makes it
/// active "N ms earlier").
pub fn best(
    members: &[Candidate],
    current: Option<usize>,
    primary: Option<usize>,
    reselect: PrimaryReselect,
    updelay_ticks: u32,
    force_primary: bool,
) -> Option<usize> {
    let up = |i: usize| members[i].state == MiiState::Up;
    let curr_up = current.filter(|&c| up(c));
    match primary.filter(|&p| up(p)) {
        None => {
            if curr_up.is_some() {
                return curr_up;
            }
        }
        Some(p) => {
            if force_primary {
                return Some(p);
            }
            let Some(c) = curr_up else {
                return Some(p);
            };
            let (pm, cm) = (&members[p], &members[c]);
            return Some(match reselect {
                PrimaryReselect::Always => p,
                PrimaryReselect::Better => {
                    if pm.speed_mbps < cm.speed_mbps
                        || (pm.speed_mbps == cm.speed_mbps && pm.full_duplex <= cm.full_duplex)
                    {
                        c
                    } else {
                        p
                    }
                }
                PrimaryReselect::Failure => c,
            });
        }
    }
    let mut best_back: Option<(usize, u32)> = None;
    for (i, m) in members.iter().enumerate() {
        if m.state == MiiState::Up {
            return Some(i);
        }
        if m.state == MiiState::Back && m.delay < best_back.map_or(updelay_ticks, |b| b.1) {
            best_back = Some((i, m.delay));
        }
    }
    best_back.map(|b| b.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(state: MiiState, speed: u32) -> Candidate {
        Candidate {
            state,
            delay: 0,
            speed_mbps: speed,
            full_duplex: true,
        }
    }
    use MiiState::*;
    use PrimaryReselect::*;

    #[test]
    fn first_up_member_without_primary() {
        let m = [c(Down, 0), c(Up, 0), c(Up, 0)];
        assert_eq!(best(&m, None, None, Always, 0, false), Some(1));
        assert_eq!(
            best(&m, Some(2), None, Always, 0, false),
            Some(2),
            "keeps a current that is up"
        );
        assert_eq!(best(&[c(Down, 0)], Some(0), None, Always, 0, false), None);
    }

    #[test]
    fn primary_reselect_rules() {
        let m = [c(Up, 1000), c(Up, 10000)];
        // primary 0 returns while 1 is active
        assert_eq!(best(&m, Some(1), Some(0), Always, 0, false), Some(0));
        assert_eq!(best(&m, Some(1), Some(0), Failure, 0, false), Some(1));
        assert_eq!(
            best(&m, Some(1), Some(0), Better, 0, false),
            Some(1),
            "primary is slower"
        );
        let m2 = [c(Up, 10000), c(Up, 1000)];
        assert_eq!(
            best(&m2, Some(1), Some(0), Better, 0, false),
            Some(0),
            "primary is faster"
        );
        let m3 = [c(Up, 1000), c(Up, 1000)];
        assert_eq!(
            best(&m3, Some(1), Some(0), Better, 0, false),
            Some(1),
            "equal: keep current"
        );
        assert_eq!(
            best(&m, Some(1), Some(0), Failure, 0, true),
            Some(0),
            "forced (manual change)"
        );
        // primary down: current stays
        let m4 = [c(Down, 1000), c(Up, 1000)];
        assert_eq!(best(&m4, Some(1), Some(0), Always, 0, false), Some(1));
        // no current: primary if up
        assert_eq!(best(&m, None, Some(1), Failure, 0, false), Some(1));
    }

    #[test]
    fn member_in_updelay_is_chosen_when_nothing_is_up() {
        let mut m = [c(Down, 0), c(Back, 0), c(Back, 0)];
        m[1].delay = 3;
        m[2].delay = 1;
        assert_eq!(
            best(&m, None, None, Always, 5, false),
            Some(2),
            "least delay left"
        );
        assert_eq!(
            best(&m, None, None, Always, 1, false),
            None,
            "delay must be below updelay"
        );
    }
}
