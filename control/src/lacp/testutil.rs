//! Test helpers: port variables, partner PDUs and a virtual wire between two LACP speakers.

use super::pdu::{LacpState, LacpduInfo, MacAddr, PortInfo};
use super::port::{AggPort, PARTNER_ADMIN, PortConfig};
use super::{Change, LacpBond, LacpParams, Outcome, PortVars, Selected, TxFrame, TxKind};

pub const SYS_A: MacAddr = MacAddr::new(0x02, 0xaa, 0, 0, 0, 0x01);
pub const SYS_B: MacAddr = MacAddr::new(0x02, 0xbb, 0, 0, 0, 0x01);

/// Port variables of an active, slow, 1G full-duplex port of system A.
pub fn vars(enabled: bool) -> PortVars {
    let state = LacpState::ACTIVITY.with(LacpState::AGGREGATION);
    PortVars {
        begin: false,
        actor: PortInfo {
            system_priority: 0xffff,
            system: SYS_A,
            key: 9,
            port_priority: 0xff,
            port: 1,
            state,
        },
        actor_admin_state: state,
        partner: PARTNER_ADMIN,
        partner_admin: PARTNER_ADMIN,
        port_enabled: enabled,
        lacp_enabled: enabled,
        port_moved: false,
        ntt: false,
        selected: Selected::Unselected,
        ready_n: false,
        ready: false,
        aggregator: None,
        loopback: false,
        speed_mbps: if enabled { 1_000 } else { 0 },
    }
}

/// A LACPDU from system B that sees our actor exactly as it is.
pub fn partner_pdu(v: &PortVars, sync: bool) -> LacpduInfo {
    let mut state = LacpState::ACTIVITY
        .with(LacpState::AGGREGATION)
        .with(LacpState::TIMEOUT);
    state.set(LacpState::SYNCHRONIZATION, sync);
    LacpduInfo {
        version: 1,
        actor: PortInfo {
            system_priority: 0x8000,
            system: SYS_B,
            key: 33,
            port_priority: 0x80,
            port: 7,
            state,
        },
        partner: v.actor,
        collector_max_delay: 0,
    }
}

pub fn params(system: MacAddr) -> LacpParams {
    LacpParams::new(system, MacAddr::ZERO)
}

/// Port `n` (1-based) of system `sys`.
pub fn port_cfg(index: usize, sys: MacAddr) -> PortConfig {
    let mut mac = sys.0;
    mac[0] = 0x52;
    mac[5] = u8::try_from(index + 1).unwrap_or(0xff);
    PortConfig::new(
        index,
        u16::try_from(index + 1).unwrap_or(u16::MAX),
        MacAddr(mac),
    )
}

/// Something that speaks LACP on one or more ports.
pub trait Speaker {
    fn tick(&mut self, now: u64) -> Outcome;
    fn rx(&mut self, now: u64, port: usize, frame: &[u8]) -> Outcome;
    fn deadline(&self, now: u64) -> Option<u64>;
}

impl Speaker for AggPort {
    fn tick(&mut self, now: u64) -> Outcome {
        AggPort::tick(self, now)
    }
    fn rx(&mut self, now: u64, _port: usize, frame: &[u8]) -> Outcome {
        self.rx_pdu(now, frame)
    }
    fn deadline(&self, now: u64) -> Option<u64> {
        self.next_deadline(now)
    }
}

impl Speaker for LacpBond {
    fn tick(&mut self, now: u64) -> Outcome {
        LacpBond::tick(self, now)
    }
    fn rx(&mut self, now: u64, port: usize, frame: &[u8]) -> Outcome {
        self.rx_pdu(now, port, frame)
    }
    fn deadline(&self, now: u64) -> Option<u64> {
        self.next_deadline(now)
    }
}

/// Which end of the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    A,
    B,
}

/// A frame seen on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub at: u64,
    pub from: End,
    pub frame: TxFrame,
}

/// Two speakers whose port i is cabled to the other's port i. Frames are delivered at the
/// instant they are sent (a zero-delay wire).
pub struct Wire<X: Speaker, Y: Speaker> {
    pub a: X,
    pub b: Y,
    pub now: u64,
    pub log: Vec<Seen>,
    pub changes_a: Vec<(u64, Change)>,
    pub changes_b: Vec<(u64, Change)>,
    /// Drop everything A sends (B hears a silent partner) / everything B sends.
    pub cut_a_to_b: bool,
    pub cut_b_to_a: bool,
}

impl<X: Speaker, Y: Speaker> Wire<X, Y> {
    pub fn new(a: X, b: Y) -> Self {
        Wire {
            a,
            b,
            now: 0,
            log: Vec::new(),
            changes_a: Vec::new(),
            changes_b: Vec::new(),
            cut_a_to_b: false,
            cut_b_to_a: false,
        }
    }

    fn absorb(&mut self, end: End, out: Outcome, pending: &mut Vec<(End, TxFrame)>) {
        let now = self.now;
        let changes = match end {
            End::A => &mut self.changes_a,
            End::B => &mut self.changes_b,
        };
        changes.extend(out.changes.into_iter().map(|c| (now, c)));
        for f in out.frames {
            self.log.push(Seen {
                at: now,
                from: end,
                frame: f,
            });
            pending.push((end, f));
        }
    }

    fn deliver(&mut self, mut pending: Vec<(End, TxFrame)>) {
        // Bounded: the rate limit stops any ping-pong after three rounds per second.
        for _ in 0..64 {
            if pending.is_empty() {
                return;
            }
            let batch = std::mem::take(&mut pending);
            for (from, f) in batch {
                match from {
                    End::A if !self.cut_a_to_b => {
                        let out = self.b.rx(self.now, f.port, &f.data);
                        self.absorb(End::B, out, &mut pending);
                    }
                    End::B if !self.cut_b_to_a => {
                        let out = self.a.rx(self.now, f.port, &f.data);
                        self.absorb(End::A, out, &mut pending);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Logs and delivers outcomes produced outside `tick` (e.g. by `set_link`) at `self.now`.
    pub fn inject(&mut self, oa: Outcome, ob: Outcome) {
        let mut pending = Vec::new();
        self.absorb(End::A, oa, &mut pending);
        self.absorb(End::B, ob, &mut pending);
        self.deliver(pending);
    }

    /// Ticks both ends at `t` and delivers what they send.
    pub fn tick_at(&mut self, t: u64) {
        self.now = t;
        let mut pending = Vec::new();
        let oa = self.a.tick(t);
        self.absorb(End::A, oa, &mut pending);
        let ob = self.b.tick(t);
        self.absorb(End::B, ob, &mut pending);
        self.deliver(pending);
    }

    /// Runs to `end` ticking every `step` ms.
    pub fn run_every(&mut self, end: u64, step: u64) {
        let mut t = self.now;
        while t <= end {
            self.tick_at(t);
            t += step;
        }
    }

    /// Runs to `end` waking only at the deadlines the speakers report (as the control thread
    /// will), which also checks that the deadlines are sufficient.
    pub fn run_by_deadlines(&mut self, end: u64) {
        self.tick_at(self.now);
        loop {
            let next = match (self.a.deadline(self.now), self.b.deadline(self.now)) {
                (Some(x), Some(y)) => x.min(y),
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => break,
            };
            let next = next.max(self.now + 1);
            if next > end {
                break;
            }
            self.tick_at(next);
        }
        self.now = end;
    }

    /// LACPDUs sent by `end` at times in `[from, to)`, by port.
    pub fn lacpdus(&self, end: End, port: usize, from: u64, to: u64) -> Vec<u64> {
        self.log
            .iter()
            .filter(|s| {
                s.from == end
                    && s.frame.port == port
                    && s.frame.kind == TxKind::Lacpdu
                    && s.at >= from
                    && s.at < to
            })
            .map(|s| s.at)
            .collect()
    }

    /// First time `end` reported `change`.
    pub fn first(&self, end: End, change: Change) -> Option<u64> {
        let changes = match end {
            End::A => &self.changes_a,
            End::B => &self.changes_b,
        };
        changes.iter().find(|(_, c)| *c == change).map(|(t, _)| *t)
    }
}

/// Asserts no four LACPDUs of one port fall within one second (6.4.16).
pub fn assert_rate_limited(times: &[u64]) {
    for w in times.windows(4) {
        assert!(
            w[3] - w[0] >= 1_000,
            "more than 3 LACPDUs within a second: {w:?}"
        );
    }
}
