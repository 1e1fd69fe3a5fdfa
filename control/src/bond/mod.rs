//! One bond's control state: members and their MII monitors, the active member, the
//! redirection table, the published [`Distribution`], the event log and peer notification.
//!
//! Nothing here calls DPDK. The appliance feeds link readings in and carries out what comes
//! back (frames to send, MACs to set), so the logic runs in tests with a virtual clock.

pub mod mii;
pub mod select;

use crate::events::{BondEvent, EventLog, MemberRole};
use crate::lacp::{Change, LacpBond, LacpParams, Outcome, port::PortConfig};
use crate::options::{BondOptions, FailOverMac, Mode};
use crate::status;
use dataplane::bond::{Distribution, MAX_MEMBERS, TxMode};
use dataplane::port::Link;
use dataplane::rcu::{Published, Qsbr};
use dataplane::reta::RedirectionTable;
use dataplane::wire::MacAddr;
use mii::{MiiEvent, MiiMember, MiiParams, MiiState};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A member as the control thread knows it.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    /// DPDK port id and runtime port index.
    pub port: u16,
    pub index: u16,
    pub perm_mac: [u8; 6],
    pub mii: MiiMember,
    /// The last link reading.
    pub link: Link,
    /// 802.3ad: when the last LACPDUs left (the control thread handed them to the port) and
    /// arrived (the control thread took them from a worker), in µs on the bond's LACP clock;
    /// the last [`LACPDU_TIMES`] of each. For the cadence benchmark.
    pub lacpdu_times: LacpduTimes,
}

/// LACPDU departure and arrival times kept per member.
pub const LACPDU_TIMES: usize = 256;

/// See [`Member::lacpdu_times`].
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LacpduTimes {
    pub tx_us: std::collections::VecDeque<u64>,
    pub rx_us: std::collections::VecDeque<u64>,
}

/// What a member starts from.
#[derive(Debug, Clone)]
pub struct MemberInit {
    pub name: String,
    pub port: u16,
    pub index: u16,
    pub perm_mac: [u8; 6],
    pub link: Link,
}

/// The bond's configured identity.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub mac: [u8; 6],
    pub ipv4: Vec<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
}

/// What the appliance must do after a tick.
#[derive(Debug, Default)]
pub struct Actions {
    /// Frames for the control thread to send: (member ordinal, frame).
    pub frames: Vec<(usize, Vec<u8>)>,
    /// MAC addresses to set: (member ordinal, address) (`fail_over_mac=follow`).
    pub macs: Vec<(usize, [u8; 6])>,
    /// Frames for ports that are leaving the bond (by index into the appliance's ports, since
    /// they have no ordinal any more): their last LACPDU.
    pub port_frames: Vec<(u16, Vec<u8>)>,
    /// Something visible changed (rewrite the status file).
    pub changed: bool,
}

/// Errors of runtime changes.
#[derive(Debug, thiserror::Error)]
pub enum BondError {
    #[error("bond {bond}: no member named {member:?} (members: {members})")]
    NoSuchMember {
        bond: String,
        member: String,
        members: String,
    },
    #[error("bond {bond}: {why}")]
    Refused { bond: String, why: String },
}

/// One bond's control state.
pub struct Bond {
    pub name: String,
    pub opts: BondOptions,
    pub members: Vec<Member>,
    pub active: Option<usize>,
    pub primary: Option<usize>,
    force_primary: bool,
    /// Carrier of the bond: at least one member up.
    pub carrier: bool,
    pub ident: Identity,
    pub dist: Arc<Published<Distribution>>,
    pub events: EventLog,
    params: MiiParams,
    reta: RedirectionTable,
    /// Peer notifications still to send and ticks until the next.
    notif_left: u32,
    notif_countdown: u32,
    /// Distributions published so far.
    pub publishes: u64,
    /// 802.3ad: the LACP machines of every member (None in the other modes).
    pub lacp: Option<LacpBond>,
    /// The LACP clock's origin (LACP timers count milliseconds from it).
    clock0: Instant,
    /// LACPDUs the machines produced while enslaving, sent on the first tick.
    pending: Vec<(usize, Vec<u8>)>,
    /// The member carrying traffic under lacp_fallback, if any (for logging changes).
    fallback_active: Option<usize>,
    /// The LACP counters the status file last showed, and when they may be refreshed next.
    counters_shown: crate::lacp::LacpStats,
    counters_refresh: Instant,
}

/// How often the status files are rewritten only because LACP counters moved.
pub const COUNTERS_REFRESH: Duration = Duration::from_secs(1);

/// Events kept per bond for `show bonding events`.
pub const EVENT_LOG_CAPACITY: usize = 1024;

fn tx_mode(m: Mode) -> TxMode {
    match m {
        Mode::ActiveBackup => TxMode::ActiveBackup,
        Mode::BalanceXor => TxMode::Xor,
        Mode::Broadcast => TxMode::Broadcast,
        // 802.3ad transmits by hash over the members that are DISTRIBUTING.
        Mode::Ieee8023ad => TxMode::Xor,
        // Only modes 0-3 are accepted by the config check today.
        _ => TxMode::RoundRobin,
    }
}

impl Bond {
    /// Enslaves `members` (in order) with the finalized, validated `opts`.
    pub fn new(
        name: &str,
        opts: BondOptions,
        members: Vec<MemberInit>,
        ident: Identity,
        qsbr: Arc<Qsbr>,
    ) -> Bond {
        let miimon = opts.miimon;
        let ticks = |ms: u32| ms.checked_div(miimon).unwrap_or(0);
        let params = MiiParams {
            miimon_ms: miimon,
            updelay_ticks: ticks(opts.updelay),
            downdelay_ticks: ticks(opts.downdelay),
        };
        let ports: Vec<(u16, u16)> = members.iter().map(|m| (m.port, m.index)).collect();
        let dist = Distribution::empty(tx_mode(opts.mode), opts.xmit_hash_policy, &ports);
        let events = EventLog::new(EVENT_LOG_CAPACITY);
        let n = members.len().max(1);
        let mut b = Bond {
            name: name.to_owned(),
            opts,
            members: Vec::with_capacity(members.len()),
            active: None,
            primary: None,
            force_primary: false,
            carrier: false,
            ident,
            dist: Arc::new(Published::new(dist, qsbr)),
            events,
            params,
            reta: RedirectionTable::new(n),
            notif_left: 0,
            notif_countdown: 0,
            publishes: 0,
            lacp: None,
            clock0: Instant::now(),
            pending: Vec::new(),
            fallback_active: None,
            counters_shown: crate::lacp::LacpStats::default(),
            counters_refresh: Instant::now(),
        };
        if b.opts.mode == Mode::Ieee8023ad {
            b.lacp = Some(LacpBond::new(lacp_params(&b.opts, b.ident.mac)));
        }
        // Enslave one member at a time, reselecting after each, so that the log reads as the
        // kernel's does (the first member up becomes active before the next is enslaved).
        let ab = b.opts.mode == Mode::ActiveBackup;
        for m in members {
            let i = b.push_member(m);
            if b.opts.active_slave.as_deref() == Some(b.members[i].name.as_str())
                && b.members[i].mii.state == MiiState::Up
            {
                b.active = Some(i);
                b.force_primary = false;
            }
            let mut actions = Actions::default();
            b.lacp_enslave(i, &mut actions);
            b.pending.append(&mut actions.frames);
            b.reselect(None, &mut actions);
            let ev = BondEvent::Enslaved {
                bond: b.name.clone(),
                member: b.members[i].name.clone(),
                active: !ab || b.active == Some(i),
                link_up: b.members[i].mii.state != MiiState::Down,
            };
            log_event(&mut b.events, ev, None);
        }
        b.publish();
        b
    }

    /// The monitor period, if the MII monitor runs.
    pub fn miimon(&self) -> Option<Duration> {
        (self.opts.miimon > 0).then(|| Duration::from_millis(u64::from(self.opts.miimon)))
    }

    /// One MII monitor tick with fresh link readings (one per member, in order). `detected`
    /// is when the tick started (failover durations are measured from it).
    pub fn mii_tick(&mut self, links: &[Link], detected: Instant) -> Actions {
        let mut actions = Actions::default();
        let ignore_updelay = self.active.is_none();
        let mut commit = false;
        let mut lost_active = false;
        for (i, l) in links.iter().enumerate().take(self.members.len()) {
            let role = (self.opts.mode == Mode::ActiveBackup).then(|| {
                if self.active == Some(i) {
                    MemberRole::Active
                } else {
                    MemberRole::Backup
                }
            });
            let m = &mut self.members[i];
            m.link = *l;
            for ev in m
                .mii
                .tick(l.up, &self.params, ignore_updelay)
                .into_iter()
                .flatten()
            {
                let (bond, member) = (self.name.clone(), m.name.clone());
                let e = match ev {
                    MiiEvent::DownDelayed { delay_ms } => BondEvent::LinkDownDelayed {
                        bond,
                        member,
                        role,
                        delay_ms,
                    },
                    MiiEvent::UpAgain { after_ms } => {
                        commit = true;
                        log_event(
                            &mut self.events,
                            BondEvent::LinkUpAgain {
                                bond: bond.clone(),
                                member: member.clone(),
                                after_ms,
                            },
                            None,
                        );
                        definitely_up(bond, member, l)
                    }
                    MiiEvent::UpDelayed { delay_ms } => BondEvent::LinkUpDelayed {
                        bond,
                        member,
                        delay_ms,
                    },
                    MiiEvent::DownAgain { after_ms } => {
                        commit = true;
                        BondEvent::LinkDownAgain {
                            bond,
                            member,
                            after_ms,
                        }
                    }
                    MiiEvent::WentUp => {
                        commit = true;
                        definitely_up(bond, member, l)
                    }
                    MiiEvent::WentDown => {
                        commit = true;
                        if self.active == Some(i) {
                            lost_active = true;
                        }
                        BondEvent::LinkDefinitelyDown { bond, member }
                    }
                };
                log_event(&mut self.events, e, None);
                actions.changed = true;
            }
        }
        if commit && self.lacp.is_some() {
            // 802.3ad takes link state from the MII monitor.
            let now = self.now_ms();
            for i in 0..self.members.len() {
                let up = self.members[i].mii.state == MiiState::Up;
                let l = self.members[i].link;
                if let Some(lacp) = self.lacp.as_mut() {
                    let out = lacp.set_link(now, i, up, l.speed_mbps, l.full_duplex);
                    self.apply_lacp(out, &mut actions);
                }
            }
        }
        if commit {
            self.reselect(lost_active.then_some(detected), &mut actions);
            self.publish();
        }
        self.notify_tick(&mut actions);
        actions
    }

    /// Chooses the active member again and logs what changed.
    fn reselect(&mut self, detected: Option<Instant>, actions: &mut Actions) {
        let cands: Vec<select::Candidate> = self
            .members
            .iter()
            .map(|m| select::Candidate {
                state: m.mii.state,
                delay: m.mii.delay,
                speed_mbps: m.link.speed_mbps,
                full_duplex: m.link.full_duplex,
            })
            .collect();
        let new = select::best(
            &cands,
            self.active,
            self.primary,
            self.opts.primary_reselect,
            self.params.updelay_ticks,
            std::mem::take(&mut self.force_primary),
        );
        let old = self.active;
        if new != old {
            if let Some(n) = new
                && self.members[n].mii.state == MiiState::Back
            {
                let earlier_ms = self.members[n].mii.delay * self.params.miimon_ms;
                self.members[n].mii.state = MiiState::Up;
                self.members[n].mii.delay = 0;
                if self.uses_active() {
                    let ev = BondEvent::NewActiveEarlier {
                        bond: self.name.clone(),
                        member: self.members[n].name.clone(),
                        earlier_ms,
                    };
                    log_event(&mut self.events, ev, None);
                }
            }
            self.active = new;
            actions.changed = true;
            if self.uses_active()
                && let Some(n) = new
            {
                let failover = detected.map(|t| t.elapsed());
                let ev = BondEvent::NewActive {
                    bond: self.name.clone(),
                    member: self.members[n].name.clone(),
                };
                log_event(&mut self.events, ev, failover);
                self.change_macs(old, n, actions);
                if self.opts.num_peer_notif > 0 && self.has_addresses() {
                    self.notif_left = u32::from(self.opts.num_peer_notif);
                    self.notif_countdown = 0;
                }
            }
        }
        let carrier = match &self.lacp {
            Some(l) => l.carrier(),
            None => self.members.iter().any(|m| m.mii.state == MiiState::Up),
        };
        if new != old || carrier != self.carrier {
            if carrier && !self.carrier {
                log_event(
                    &mut self.events,
                    BondEvent::ActiveInterfaceUp {
                        bond: self.name.clone(),
                    },
                    None,
                );
            } else if !carrier && self.carrier {
                log_event(
                    &mut self.events,
                    BondEvent::NoActiveInterface {
                        bond: self.name.clone(),
                    },
                    None,
                );
            }
            self.carrier = carrier;
        }
    }

    fn uses_active(&self) -> bool {
        self.opts.mode == Mode::ActiveBackup
    }

    fn has_addresses(&self) -> bool {
        !self.ident.ipv4.is_empty() || !self.ident.ipv6.is_empty()
    }

    fn change_macs(&mut self, old: Option<usize>, new: usize, actions: &mut Actions) {
        match self.opts.fail_over_mac {
            FailOverMac::None => {}
            FailOverMac::Active => {
                // The bond takes the new active member's address.
                self.ident.mac = self.members[new].perm_mac;
            }
            FailOverMac::Follow => {
                actions.macs.push((new, self.ident.mac));
                if let Some(o) = old {
                    actions.macs.push((o, self.members[o].perm_mac));
                }
            }
        }
    }

    /// Sends the due peer notifications (gratuitous ARP, unsolicited NA) on the active member.
    fn notify_tick(&mut self, actions: &mut Actions) {
        if self.notif_left == 0 {
            return;
        }
        if self.notif_countdown > 0 {
            self.notif_countdown -= 1;
            return;
        }
        let Some(a) = self.active else {
            self.notif_left = 0;
            return;
        };
        for f in self.peer_frames() {
            actions.frames.push((a, f));
        }
        self.notif_left -= 1;
        let delay_ticks = self
            .opts
            .peer_notif_delay
            .checked_div(self.params.miimon_ms)
            .unwrap_or(0);
        self.notif_countdown = delay_ticks.max(1) - 1;
    }

    /// One round of notifications: a gratuitous ARP per IPv4 address and an unsolicited NA
    /// per IPv6 address, from the bond's MAC.
    pub fn peer_frames(&self) -> Vec<Vec<u8>> {
        let mac = MacAddr::from(self.ident.mac);
        let mut out = Vec::new();
        for ip in &self.ident.ipv4 {
            let mut buf = [0u8; 64];
            if let Ok(n) = dataplane::wire::arp::build_gratuitous_arp(
                &mut buf,
                mac,
                *ip,
                dataplane::wire::arp::ArpOp::Request,
                None,
            ) {
                out.push(buf[..n].to_vec());
            }
        }
        for ip in &self.ident.ipv6 {
            let mut buf = [0u8; 128];
            if let Ok(n) = dataplane::wire::icmpv6::build_unsolicited_na(&mut buf, mac, ip, None) {
                out.push(buf[..n].to_vec());
            }
        }
        out
    }

    /// Takes new (finalized, validated) options while running, as writing the sysfs files
    /// does: the monitor's period and delays, the primary, the hash policy and the mode. A mode
    /// change starts selection afresh. Whether an option may change while forwarding is the
    /// caller's rule to apply (the option table says which need the bond down).
    pub fn apply_options(&mut self, opts: BondOptions) -> Actions {
        let mode_changed = opts.mode != self.opts.mode;
        let miimon = opts.miimon;
        let ticks = |ms: u32| ms.checked_div(miimon).unwrap_or(0);
        self.params = MiiParams {
            miimon_ms: miimon,
            updelay_ticks: ticks(opts.updelay),
            downdelay_ticks: ticks(opts.downdelay),
        };
        self.primary = opts
            .primary
            .as_ref()
            .and_then(|p| self.members.iter().position(|m| &m.name == p));
        self.opts = opts;
        let mut actions = Actions::default();
        if mode_changed {
            self.active = None;
            self.reta = RedirectionTable::new(self.members.len().max(1));
            self.switch_lacp(&mut actions);
        }
        if self.lacp.is_some() {
            let (now, params) = (self.now_ms(), lacp_params(&self.opts, self.ident.mac));
            if let Some(l) = self.lacp.as_mut() {
                let out = l.set_params(now, params);
                self.apply_lacp(out, &mut actions);
            }
        }
        self.force_primary = self.primary.is_some();
        self.reselect(None, &mut actions);
        self.publish();
        self.notify_tick(&mut actions);
        actions.changed = true;
        actions
    }

    /// Appends a member, its monitor started from its carrier; returns its ordinal.
    fn push_member(&mut self, m: MemberInit) -> usize {
        let mii = MiiMember::enslave(m.link.up, &self.params, self.opts.miimon > 0);
        self.members.push(Member {
            name: m.name,
            port: m.port,
            index: m.index,
            perm_mac: m.perm_mac,
            mii,
            link: m.link,
            lacpdu_times: LacpduTimes::default(),
        });
        let i = self.members.len() - 1;
        if self.opts.primary.as_deref() == Some(self.members[i].name.as_str()) {
            self.primary = Some(i);
        }
        i
    }

    /// Enslaves one more member (`add bonding member`), as the kernel's enslave does: the
    /// monitor starts from its carrier, selection runs, and the event is logged.
    pub fn add_member(&mut self, m: MemberInit) -> Result<Actions, BondError> {
        if self.members.len() >= MAX_MEMBERS {
            return Err(BondError::Refused {
                bond: self.name.clone(),
                why: format!("a bond has at most {MAX_MEMBERS} members"),
            });
        }
        let i = self.push_member(m);
        // The new member takes an even share of the buckets from the others when it is up
        // (build_distribution rebalances over the members that are up).
        let mut actions = Actions::default();
        self.lacp_enslave(i, &mut actions);
        self.reselect(None, &mut actions);
        let ev = BondEvent::Enslaved {
            bond: self.name.clone(),
            member: self.members[i].name.clone(),
            active: self.opts.mode != Mode::ActiveBackup || self.active == Some(i),
            link_up: self.members[i].mii.state != MiiState::Down,
        };
        log_event(&mut self.events, ev, None);
        self.publish();
        actions.changed = true;
        Ok(actions)
    }

    /// Releases a member (`remove bonding member`); the others keep their ordinals' order.
    pub fn remove_member(&mut self, name: &str) -> Result<(Member, Actions), BondError> {
        let i = self.member_index(name)?;
        let was_active = self.active == Some(i);
        // The LACP machines first, while ordinal i still names this member.
        let now = self.now_ms();
        let lacp_out = self.lacp.as_mut().map(|l| l.remove_port(now, i));
        let m = self.members.remove(i);
        let mut actions = Actions::default();
        if let Some((bye, out)) = lacp_out {
            actions
                .port_frames
                .extend(bye.iter().map(|f| (m.index, f.data.to_vec())));
            self.apply_lacp(out, &mut actions);
        }
        log_event(
            &mut self.events,
            BondEvent::Released {
                bond: self.name.clone(),
                member: m.name.clone(),
                active: was_active || self.opts.mode != Mode::ActiveBackup,
            },
            None,
        );
        let shift = |x: Option<usize>| match x {
            Some(a) if a == i => None,
            Some(a) if a > i => Some(a - 1),
            other => other,
        };
        self.active = shift(self.active);
        self.primary = shift(self.primary);
        self.reta = RedirectionTable::new(self.members.len().max(1));
        self.reselect(None, &mut actions);
        self.publish();
        actions.changed = true;
        Ok((m, actions))
    }

    /// Makes `member` the active one (active-backup), as writing `active_slave` does.
    pub fn set_active(&mut self, member: &str) -> Result<Actions, BondError> {
        let i = self.member_index(member)?;
        if !self.uses_active() {
            return Err(BondError::Refused {
                bond: self.name.clone(),
                why: format!("mode {} has no active member", self.opts.mode),
            });
        }
        if self.members[i].mii.state != MiiState::Up {
            return Err(BondError::Refused {
                bond: self.name.clone(),
                why: format!("member {member} is not up, so it cannot be made active"),
            });
        }
        let mut actions = Actions::default();
        if self.active != Some(i) {
            let old = self.active;
            self.active = Some(i);
            log_event(
                &mut self.events,
                BondEvent::NewActive {
                    bond: self.name.clone(),
                    member: member.to_owned(),
                },
                None,
            );
            self.change_macs(old, i, &mut actions);
            if self.opts.num_peer_notif > 0 && self.has_addresses() {
                self.notif_left = u32::from(self.opts.num_peer_notif);
                self.notif_countdown = 0;
            }
            self.publish();
            self.notify_tick(&mut actions);
            actions.changed = true;
        }
        Ok(actions)
    }

    /// Sets the primary member and reselects (`primary` written at run time).
    pub fn set_primary(&mut self, member: Option<&str>) -> Result<Actions, BondError> {
        self.primary = match member {
            Some(m) => Some(self.member_index(m)?),
            None => None,
        };
        self.opts.primary = member.map(str::to_owned);
        log_event(
            &mut self.events,
            BondEvent::PrimaryChanged {
                bond: self.name.clone(),
                primary: member.map(str::to_owned),
            },
            None,
        );
        self.force_primary = true;
        let mut actions = Actions::default();
        self.reselect(None, &mut actions);
        self.publish();
        self.notify_tick(&mut actions);
        actions.changed = true;
        Ok(actions)
    }

    fn member_index(&self, name: &str) -> Result<usize, BondError> {
        self.members
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| BondError::NoSuchMember {
                bond: self.name.clone(),
                member: name.to_owned(),
                members: self
                    .members
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Builds the distribution the members' states call for.
    pub fn build_distribution(&mut self) -> Distribution {
        let ports: Vec<(u16, u16)> = self.members.iter().map(|m| (m.port, m.index)).collect();
        let mut d =
            Distribution::empty(tx_mode(self.opts.mode), self.opts.xmit_hash_policy, &ports);
        let ab = self.opts.mode == Mode::ActiveBackup;
        let fallback = self.lacp_fallback_member();
        if fallback != self.fallback_active {
            match fallback {
                Some(f) => tracing::warn!(
                    "{}: no LACP partner on any member: {} carries traffic alone (lacp_fallback)",
                    self.name,
                    self.members[f].name
                ),
                None => tracing::info!("{}: LACP partner heard, fallback over", self.name),
            }
            self.fallback_active = fallback;
        }
        let usable: Vec<bool> = (0..self.members.len())
            .map(|i| match &self.lacp {
                // lacp_fallback: no partner anywhere, so one member carries traffic alone.
                Some(_) if fallback.is_some() => fallback == Some(i),
                // With fewer than min_links ports in the aggregator the carrier is down and
                // nothing is sent, as Linux does.
                Some(l) => l.carrier() && l.port(i).is_some_and(|p| p.is_distributing()),
                None if ab => self.active == Some(i),
                None => self.members[i].mii.state == MiiState::Up,
            })
            .collect();
        d.set_usable(&usable);
        if usable.iter().any(|&u| u) {
            // Moves only the buckets of members that left (or the share of one that joined).
            let _ = self.reta.set_members(&usable);
        }
        d.reta = self.reta;
        d.active = self.active.map(|a| a as u8);
        d.packets_per_slave = u32::from(self.opts.packets_per_slave);
        d.rx_mask = if let Some(f) = fallback {
            1 << f
        } else if let Some(l) = &self.lacp {
            (0..self.members.len())
                .filter(|&i| l.port(i).is_some_and(|p| p.is_collecting()))
                .fold(0, |m, i| m | (1 << i))
        } else if ab && !self.opts.all_slaves_active {
            self.active.map_or(0, |a| 1 << a)
        } else {
            (1u32 << self.members.len().min(MAX_MEMBERS)) - 1
        };
        d.slow_to_control = self.lacp.is_some();
        d
    }

    /// Publishes the distribution for the current state.
    pub fn publish(&mut self) {
        let d = self.build_distribution();
        self.dist.publish(d);
        self.publishes += 1;
    }

    /// The `/proc/net/bonding` view of the bond.
    pub fn snapshot(&self) -> status::BondSnapshot {
        let o = &self.opts;
        status::BondSnapshot {
            name: self.name.clone(),
            mode: o.mode,
            xmit_hash_policy: o.xmit_hash_policy,
            tlb_dynamic_lb: o.tlb_dynamic_lb,
            primary: self.primary.map(|p| self.members[p].name.clone()),
            primary_reselect: o.primary_reselect,
            currently_active: self.active.map(|a| self.members[a].name.clone()),
            mii_status: if self.carrier {
                status::LinkStatus::Up
            } else {
                status::LinkStatus::Down
            },
            miimon_ms: o.miimon,
            updelay_ms: self.params.updelay_ticks * o.miimon,
            downdelay_ms: self.params.downdelay_ticks * o.miimon,
            peer_notif_delay_ms: o.peer_notif_delay,
            arp_interval_ms: o.arp_interval,
            arp_missed_max: u32::from(o.arp_missed_max),
            arp_ip_targets: o.arp_ip_target.clone(),
            ns_ip6_targets: o.ns_ip6_target.clone(),
            arp_validate: o.arp_validate,
            arp_all_targets: o.arp_all_targets,
            fail_over_mac: o.fail_over_mac,
            lacp: self.lacp.as_ref().map(|l| {
                let p = l.params();
                status::LacpSnapshot {
                    lacp_active: p.lacp_active,
                    lacp_rate: o.lacp_rate,
                    min_links: p.min_links,
                    ad_select: p.ad_select,
                    system_priority: p.system_priority,
                    system_mac: p.system,
                    active_aggregator: l.active_aggregator().map(|a| status::AggregatorInfo {
                        id: a.aggregator_id,
                        num_ports: a.ports as u16,
                        actor_key: a.actor_key,
                        partner_key: a.partner_key,
                        partner_mac: a.partner_mac,
                    }),
                    counters: l.stats(),
                }
            }),
            members: self
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| status::MemberSnapshot {
                    name: m.name.clone(),
                    mii_status: match m.mii.state {
                        MiiState::Up => status::MemberLink::Up,
                        MiiState::Fail => status::MemberLink::GoingDown,
                        MiiState::Down => status::MemberLink::Down,
                        MiiState::Back => status::MemberLink::GoingBack,
                    },
                    speed_mbps: (m.link.speed_mbps > 0).then_some(m.link.speed_mbps),
                    duplex: if !m.link.up {
                        status::Duplex::Unknown
                    } else if m.link.full_duplex {
                        status::Duplex::Full
                    } else {
                        status::Duplex::Half
                    },
                    link_failure_count: m.mii.link_failure_count,
                    perm_hwaddr: MacAddr(m.perm_mac),
                    queue_id: 0,
                    ad: self.lacp.as_ref().and_then(|l| l.port(i)).map(|p| {
                        let st = p.status();
                        let churn = |c: crate::lacp::churn::ChurnState| match c {
                            crate::lacp::churn::ChurnState::Monitor => {
                                status::ChurnState::Monitoring
                            }
                            crate::lacp::churn::ChurnState::Churn => status::ChurnState::Churned,
                            crate::lacp::churn::ChurnState::NoChurn => status::ChurnState::NoChurn,
                        };
                        let details = |x: &crate::lacp::pdu::PortInfo| status::LacpduDetails {
                            system_priority: x.system_priority,
                            system_mac: x.system,
                            key: x.key,
                            port_priority: x.port_priority,
                            port_number: x.port,
                            port_state: x.state.0,
                        };
                        status::MemberAdSnapshot {
                            aggregator_id: st.aggregator_id,
                            actor_churn_state: churn(st.actor_churn_state),
                            partner_churn_state: churn(st.partner_churn_state),
                            actor_churned_count: st.actor_churned_count,
                            partner_churned_count: st.partner_churned_count,
                            actor: details(&st.actor),
                            partner: details(&st.partner),
                            counters: st.stats,
                        }
                    }),
                })
                .collect(),
        }
    }
}

/// The LACP parameters from the Linux options.
fn lacp_params(o: &BondOptions, bond_mac: [u8; 6]) -> LacpParams {
    let mut p = LacpParams::new(MacAddr::from(bond_mac), o.ad_actor_system);
    p.system_priority = o.ad_actor_sys_prio;
    p.lacp_fast = o.lacp_rate == crate::options::LacpRate::Fast;
    p.lacp_active = o.lacp_active;
    p.user_port_key = o.ad_user_port_key;
    p.coupled_control = o.coupled_control;
    p.ad_select = o.ad_select;
    p.min_links = o.min_links;
    p
}

impl Bond {
    /// Milliseconds on the LACP clock.
    fn now_ms(&self) -> u64 {
        self.clock0.elapsed().as_millis() as u64
    }

    /// Starts or stops the LACP machines after a mode change into or out of 802.3ad. Leaving
    /// sends each partner one last LACPDU saying the link no longer aggregates; entering
    /// enslaves every member afresh, as a new 802.3ad bond would.
    fn switch_lacp(&mut self, actions: &mut Actions) {
        let want = self.opts.mode == Mode::Ieee8023ad;
        if want == self.lacp.is_some() {
            return;
        }
        if let Some(mut l) = self.lacp.take() {
            for f in l.release_all() {
                actions.frames.push((f.port, f.data.to_vec()));
            }
            self.fallback_active = None;
            self.pending.clear();
            return;
        }
        self.lacp = Some(LacpBond::new(lacp_params(&self.opts, self.ident.mac)));
        // The bond's carrier now waits for a member to distribute.
        self.carrier = false;
        for i in 0..self.members.len() {
            self.lacp_enslave(i, actions);
        }
    }

    /// Takes `mac` as the bond's address (a bond created empty takes its first member's, as
    /// Linux does); 802.3ad's system ID follows it unless `ad_actor_system` is set.
    pub fn adopt_mac(&mut self, mac: [u8; 6]) -> Actions {
        self.ident.mac = mac;
        let mut actions = Actions::default();
        if self.lacp.is_some() {
            let (now, params) = (self.now_ms(), lacp_params(&self.opts, mac));
            if let Some(l) = self.lacp.as_mut() {
                let out = l.set_params(now, params);
                self.apply_lacp(out, &mut actions);
            }
        }
        actions.changed = true;
        actions
    }

    /// Adds member `i` to the LACP machines (802.3ad only).
    fn lacp_enslave(&mut self, i: usize, actions: &mut Actions) {
        let now = self.now_ms();
        let m = &self.members[i];
        let (up, speed, duplex) = (
            m.mii.state == MiiState::Up,
            m.link.speed_mbps,
            m.link.full_duplex,
        );
        let mac = MacAddr::from(m.perm_mac);
        if let Some(l) = self.lacp.as_mut() {
            let cfg = PortConfig::new(i, l.free_port_number(), mac);
            l.add_port(cfg);
            let out = l.set_link(now, i, up, speed, duplex);
            self.apply_lacp(out, actions);
        }
    }

    /// A slow-protocol frame the workers received on member `ordinal`.
    pub fn lacp_rx(&mut self, ordinal: usize, frame: &[u8]) -> Actions {
        let mut actions = Actions::default();
        let now = self.now_ms();
        if let Some(l) = self.lacp.as_mut() {
            let out = l.rx_pdu(now, ordinal, frame);
            self.apply_lacp(out, &mut actions);
        }
        actions
    }

    /// Sends a Marker Information PDU on member `ordinal` (802.3ad only); returns the frame
    /// to send and the request's transaction id.
    pub fn lacp_send_marker(&mut self, ordinal: usize) -> Result<(Actions, u32), BondError> {
        let now = self.now_ms();
        let refused = |why: String| BondError::Refused {
            bond: self.name.clone(),
            why,
        };
        let Some(l) = self.lacp.as_mut() else {
            return Err(refused("not in 802.3ad mode".into()));
        };
        let member = self.members.get(ordinal).map(|m| m.name.clone());
        let (out, tid) = l.send_marker(now, ordinal).map_err(|e| {
            refused(format!(
                "no marker sent on {}: {e}",
                member.as_deref().unwrap_or("?")
            ))
        })?;
        let mut actions = Actions::default();
        self.apply_lacp(out, &mut actions);
        actions.changed = true;
        Ok((actions, tid))
    }

    /// The member that carries traffic alone under `lacp_fallback`: only while no member has
    /// heard a partner (every member with link up is DEFAULTED) and none distributes; the
    /// configured `lacp_fallback_member` if it is up, else the first member up.
    pub fn lacp_fallback_member(&self) -> Option<usize> {
        let l = self.lacp.as_ref().filter(|_| self.opts.lacp_fallback)?;
        let ports: Vec<_> = (0..self.members.len())
            .filter_map(|i| l.port(i).map(|p| (i, p)))
            .collect();
        let silent = ports.iter().filter(|(_, p)| p.link_up()).all(|(_, p)| {
            p.rx_state() == crate::lacp::rx::RxState::Defaulted && !p.is_distributing()
        });
        if !silent {
            return None;
        }
        let up = |i: usize| self.members[i].mii.state == MiiState::Up;
        let chosen = self
            .opts
            .lacp_fallback_member
            .as_ref()
            .and_then(|n| self.members.iter().position(|m| &m.name == n))
            .filter(|&i| up(i));
        chosen.or_else(|| (0..self.members.len()).find(|&i| up(i)))
    }

    /// 802.3ad: whether the status files should be rewritten because the LACP counters
    /// moved. Every LACPDU moves them, so this says yes at most once per
    /// [`COUNTERS_REFRESH`]; other changes rewrite the files at once anyway.
    pub fn counters_refresh_due(&mut self, now: Instant) -> bool {
        let Some(l) = self.lacp.as_ref() else {
            return false;
        };
        if now < self.counters_refresh {
            return false;
        }
        self.counters_refresh = now + COUNTERS_REFRESH;
        let s = l.stats();
        let moved = s != self.counters_shown;
        self.counters_shown = s;
        moved
    }

    /// Records that a LACPDU left (`tx`) or arrived on member `ordinal` now.
    pub fn note_lacpdu(&mut self, ordinal: usize, tx: bool) {
        let us = self.clock0.elapsed().as_micros() as u64;
        if let Some(m) = self.members.get_mut(ordinal) {
            let q = if tx {
                &mut m.lacpdu_times.tx_us
            } else {
                &mut m.lacpdu_times.rx_us
            };
            if q.len() == LACPDU_TIMES {
                q.pop_front();
            }
            q.push_back(us);
        }
    }

    /// Runs the LACP timers up to now.
    pub fn lacp_tick(&mut self) -> Actions {
        let mut actions = Actions::default();
        actions.frames.append(&mut self.pending);
        let now = self.now_ms();
        if let Some(l) = self.lacp.as_mut() {
            let out = l.tick(now);
            self.apply_lacp(out, &mut actions);
        }
        actions
    }

    /// When the LACP machines next need a tick.
    pub fn lacp_deadline(&self) -> Option<Instant> {
        if !self.pending.is_empty() {
            return Some(self.clock0); // due already
        }
        let l = self.lacp.as_ref()?;
        l.next_deadline(self.now_ms())
            .map(|ms| self.clock0 + Duration::from_millis(ms))
    }

    /// Carries out what the LACP machines decided: frames to send, and a new distribution
    /// when a member starts or stops collecting or distributing.
    fn apply_lacp(&mut self, out: Outcome, actions: &mut Actions) {
        for f in &out.frames {
            actions.frames.push((f.port, f.data.to_vec()));
        }
        let mut republish = false;
        for c in &out.changes {
            match *c {
                Change::Collecting { .. }
                | Change::Distributing { .. }
                | Change::ActiveAggregator { .. } => republish = true,
                // Entering or leaving DEFAULTED can start or end lacp_fallback.
                Change::Rx { .. } if self.opts.lacp_fallback => republish = true,
                Change::Carrier { up } => {
                    republish = true;
                    let ev = if up {
                        BondEvent::ActiveInterfaceUp {
                            bond: self.name.clone(),
                        }
                    } else {
                        BondEvent::NoActiveInterface {
                            bond: self.name.clone(),
                        }
                    };
                    log_event(&mut self.events, ev, None);
                    self.carrier = up;
                }
                Change::Loopback { port } => {
                    if let Some(m) = self.members.get(port) {
                        let ev = BondEvent::IllegalLoopback {
                            bond: self.name.clone(),
                            member: m.name.clone(),
                        };
                        log_event(&mut self.events, ev, None);
                    }
                }
                _ => {}
            }
        }
        if republish {
            tracing::debug!("{}: LACP changes {:?}", self.name, out.changes);
            self.publish();
            actions.changed = true;
        }
    }
}

fn definitely_up(bond: String, member: String, l: &Link) -> BondEvent {
    BondEvent::LinkDefinitelyUp {
        bond,
        member,
        speed_mbps: (l.speed_mbps > 0).then_some(l.speed_mbps),
        duplex: if l.full_duplex {
            status::Duplex::Full
        } else {
            status::Duplex::Half
        },
    }
}

/// Records an event and logs it in the kernel's words.
pub fn log_event(log: &mut EventLog, ev: BondEvent, failover: Option<Duration>) {
    let line = ev.dmesg_line();
    match failover {
        Some(d) => tracing::info!("{line} (failover {:.3} ms)", d.as_secs_f64() * 1e3),
        None => match ev.level() {
            crate::events::Level::Err => tracing::error!("{line}"),
            crate::events::Level::Warn => tracing::warn!("{line}"),
            _ => tracing::info!("{line}"),
        },
    }
    log.push_with(ev, failover);
}
