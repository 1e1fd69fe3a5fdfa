//! The 802.3ad (IEEE 802.1AX Link Aggregation Control Protocol) core of bondd's mode 4.
//!
//! Pure: no I/O, no threads, no wall clock. Time is a virtual clock in milliseconds that the
//! caller passes in; every timer is a deadline on that clock, and [`port::AggPort::next_deadline`]
//! / [`bond::LacpBond::next_deadline`] say when the caller must call `tick` again. The
//! standard's 100 ms tick granularity is not needed: a timer fires at the first call whose
//! `now` reaches its deadline.
//!
//! One state machine per file, each written as a `(state, event)` table:
//!
//! | file | 802.1AX-2014 | machine |
//! |---|---|---|
//! | [`rx`] | 6.4.12 | Receive |
//! | [`periodic`] | 6.4.13 | Periodic Transmission |
//! | [`selection`] | 6.4.14 | Selection Logic (with Linux's `ad_select` and `min_links`) |
//! | [`mux`] | 6.4.15 | Mux, coupled and independent control |
//! | [`tx`] | 6.4.16 | Transmit |
//! | [`churn`] | 6.4.17 | Actor and Partner Churn Detection |
//! | [`marker`] | 6.5.4 | Marker Responder and (optional) Marker Generator |
//!
//! [`pdu`] holds the wire formats, [`key`] the operational key Linux derives from speed and
//! duplex, [`port`] the [`AggPort`] that ties one port's machines together and
//! [`bond`] the [`LacpBond`] that runs the ports of one bond and the
//! selection logic between them.
//!
//! The machines share the per-port variables of 6.4.7/6.4.8, [`PortVars`]; each machine file
//! reads and writes only the variables its state diagram names.

pub mod bond;
pub mod churn;
pub mod key;
pub mod marker;
pub mod mux;
pub mod pdu;
pub mod periodic;
pub mod port;
pub mod rx;
pub mod selection;
pub mod tx;

pub use bond::{AggregatorInfo, LacpBond};
pub use pdu::{LacpState, MacAddr, PortInfo};
pub use port::{AggPort, LacpStats, PortConfig, PortStatus};
pub use selection::AdSelect;

/// Fast_Periodic_Time (6.4.4): the periodic LACPDU interval a short-timeout partner asks for.
pub const FAST_PERIODIC_MS: u64 = 1_000;
/// Slow_Periodic_Time (6.4.4).
pub const SLOW_PERIODIC_MS: u64 = 30_000;
/// Short_Timeout_Time (6.4.4): 3 × Fast_Periodic_Time, current_while with a short timeout.
pub const SHORT_TIMEOUT_MS: u64 = 3_000;
/// Long_Timeout_Time (6.4.4): 3 × Slow_Periodic_Time.
pub const LONG_TIMEOUT_MS: u64 = 90_000;
/// Churn_Detection_Time (6.4.4).
pub const CHURN_DETECTION_MS: u64 = 60_000;
/// Aggregate_Wait_Time (6.4.4): wait_while, so that all ports of a group can be selected
/// before the aggregator attaches.
pub const AGGREGATE_WAIT_MS: u64 = 2_000;
/// At most this many LACPDUs in any Fast_Periodic_Time interval (6.4.16).
pub const MAX_TX_PER_FAST_PERIOD: usize = 3;

/// Linux's default `ad_actor_port_prio` / port priority (`ad_initialize_port`).
pub const DEFAULT_PORT_PRIORITY: u16 = 0xff;
/// Linux's default `ad_actor_sys_prio`.
pub const DEFAULT_SYSTEM_PRIORITY: u16 = 0xffff;

/// A one-shot timer as a deadline on the virtual clock (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Timer {
    deadline: Option<u64>,
}

impl Timer {
    /// Starts (or restarts) the timer to expire `dur_ms` after `now`.
    pub fn start(&mut self, now: u64, dur_ms: u64) {
        self.deadline = Some(now.saturating_add(dur_ms));
    }

    pub fn stop(&mut self) {
        self.deadline = None;
    }

    pub fn is_running(&self) -> bool {
        self.deadline.is_some()
    }

    /// Running and its deadline has been reached.
    pub fn expired(&self, now: u64) -> bool {
        matches!(self.deadline, Some(d) if now >= d)
    }

    pub fn deadline(&self) -> Option<u64> {
        self.deadline
    }

    /// Milliseconds left, if running (0 once expired).
    pub fn remaining(&self, now: u64) -> Option<u64> {
        self.deadline.map(|d| d.saturating_sub(now))
    }
}

/// Earliest of two optional deadlines.
pub(crate) fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The Selected variable (6.4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum Selected {
    #[default]
    Unselected,
    Selected,
    /// Selected an aggregator that is not (yet) the bond's active one.
    Standby,
}

/// The variables of one Aggregation Port shared by its state machines (6.4.7, 6.4.8).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortVars {
    /// BEGIN: (re)initialise every machine of the port on the next step.
    pub begin: bool,
    /// The actor's operational information: system, key, port, priority, state.
    pub actor: PortInfo,
    /// Actor_Admin_Port_State: activity, timeout and aggregation as configured.
    pub actor_admin_state: LacpState,
    /// Partner_Oper_* (6.4.7).
    pub partner: PortInfo,
    /// Partner_Admin_* : what recordDefault copies into `partner`.
    pub partner_admin: PortInfo,
    /// Port_Enabled: the MAC is operable (link up).
    pub port_enabled: bool,
    /// LACP_Enabled: the link is point to point full duplex (Linux: only full duplex ports
    /// run LACP).
    pub lacp_enabled: bool,
    /// port_moved (6.4.8).
    pub port_moved: bool,
    /// Need To Transmit.
    pub ntt: bool,
    pub selected: Selected,
    /// Ready_N: this port's wait_while timer has expired.
    pub ready_n: bool,
    /// Ready: every port waiting to attach to the same aggregator has Ready_N.
    pub ready: bool,
    /// The aggregator (id) the selection logic chose, if any.
    pub aggregator: Option<u16>,
    /// The partner is this very system: the selection logic refuses the port.
    pub loopback: bool,
    /// Speed as last reported, for the bandwidth policy (0 when down or unknown).
    pub speed_mbps: u32,
}

impl PortVars {
    /// The `Matched` condition of recordPDU (6.4.9): the PDU's view of us is current, or
    /// the partner says the link is individual — and LACP actively maintains the link.
    pub fn pdu_matches(&self, pdu: &pdu::LacpduInfo) -> bool {
        let us = &self.actor;
        let current = pdu.partner.same_identity(us)
            && pdu.partner.state.aggregation() == us.state.aggregation();
        let individual = !pdu.actor.state.aggregation();
        let active =
            pdu.actor.state.activity() || (us.state.activity() && pdu.partner.state.activity());
        (current || individual) && active
    }
}

/// Something a caller may want to act on, log or show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Change {
    /// The receive machine changed state (self-transitions in CURRENT are not reported).
    Rx {
        port: usize,
        from: rx::RxState,
        to: rx::RxState,
    },
    /// The mux machine changed state.
    Mux {
        port: usize,
        from: mux::MuxState,
        to: mux::MuxState,
    },
    /// Enable_Collecting / Disable_Collecting: frames received on the port may (or may no
    /// longer) be delivered.
    Collecting { port: usize, on: bool },
    /// Enable_Distributing / Disable_Distributing: the port may (or may no longer) carry
    /// transmitted frames. The control thread republishes the distribution on every one.
    Distributing { port: usize, on: bool },
    ActorChurn {
        port: usize,
        state: churn::ChurnState,
    },
    PartnerChurn {
        port: usize,
        state: churn::ChurnState,
    },
    /// A LACPDU claimed our own system as its actor: the port is refused aggregation.
    Loopback { port: usize },
    /// The bond's active aggregator changed.
    ActiveAggregator { from: Option<u16>, to: Option<u16> },
    /// The bond's carrier per `min_links` changed.
    Carrier { up: bool },
}

/// A frame for the caller to send on the member at `port` (its index in the bond).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TxFrame {
    pub port: usize,
    pub kind: TxKind,
    pub data: [u8; pdu::FRAME_LEN],
}

impl core::fmt::Debug for TxFrame {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TxFrame")
            .field("port", &self.port)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What a [`TxFrame`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TxKind {
    Lacpdu,
    MarkerResponse,
    /// A Marker Information PDU from the generator.
    MarkerInformation,
}

/// What one call did: frames to send and state changes to apply, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub frames: Vec<TxFrame>,
    pub changes: Vec<Change>,
}

impl Outcome {
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.changes.is_empty()
    }

    /// Appends `other`.
    pub fn extend(&mut self, other: Outcome) {
        self.frames.extend(other.frames);
        self.changes.extend(other.changes);
    }

    /// Distributing turned on for `port` in this outcome.
    pub fn started_distributing(&self, port: usize) -> bool {
        self.changes
            .contains(&Change::Distributing { port, on: true })
    }

    /// Distributing turned off for `port` in this outcome.
    pub fn stopped_distributing(&self, port: usize) -> bool {
        self.changes
            .contains(&Change::Distributing { port, on: false })
    }
}

/// What a state machine's step needs besides the port variables: the time, the port's
/// index for the changes it reports, and where to report them.
pub(crate) struct Ctx<'a> {
    pub now: u64,
    pub port: usize,
    pub changes: &'a mut Vec<Change>,
}

/// The bond-wide LACP parameters (Linux bonding options of the same names).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LacpParams {
    /// `ad_actor_sys_prio`.
    pub system_priority: u16,
    /// `ad_actor_system`, or the bond's MAC when that option is zero (see [`LacpParams::new`]).
    pub system: MacAddr,
    /// `lacp_rate=fast`: ask the partner for a LACPDU every second (short timeout).
    pub lacp_fast: bool,
    /// `lacp_active`: send LACPDUs periodically even to a passive partner.
    pub lacp_active: bool,
    /// `ad_user_port_key` (10 bits: 0..=1023).
    pub user_port_key: u16,
    /// `coupled_control`: one COLLECTING_DISTRIBUTING mux state (1, the default) or the
    /// independent COLLECTING then DISTRIBUTING states (0).
    pub coupled_control: bool,
    /// `ad_select`.
    pub ad_select: AdSelect,
    /// `min_links`.
    pub min_links: u32,
}

impl LacpParams {
    /// Linux's defaults: slow, active, stable, coupled, priority 65535, user key 0. The system
    /// id is `ad_actor_system` if non-zero, else the bond's MAC (`bond_3ad_initialize`).
    pub fn new(bond_mac: MacAddr, ad_actor_system: MacAddr) -> Self {
        LacpParams {
            system_priority: DEFAULT_SYSTEM_PRIORITY,
            system: if ad_actor_system.is_zero() {
                bond_mac
            } else {
                ad_actor_system
            },
            lacp_fast: false,
            lacp_active: true,
            user_port_key: 0,
            coupled_control: true,
            ad_select: AdSelect::Stable,
            min_links: 0,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
