//! The Linux bonding option set, as bondd understands it.
//!
//! * [`option_table`] lists every option with its values, modes, change
//!   restrictions and help (for listing and completion);
//! * [`BondOptions`] holds a typed option set with Linux defaults and is
//!   filled from a `BONDING_OPTS` string, a TOML table, or one `set()` call
//!   at a time (all three go through [`BondOptions::set`]);
//! * [`BondOptions::finalize`] applies bondd's defaulting rules and
//!   [`BondOptions::validate`] the cross-option rules;
//! * [`BondOptions::to_bonding_opts`] writes the set back out.

mod error;
mod serde_form;
mod table;
mod types;
mod validate;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

pub use error::{OptionError, Warning, WarningKind};
pub use table::{
    DEFAULT_MIIMON, INT_MAX, MAX_ARP_TARGETS, MAX_IFNAME_LEN, MAX_NS_TARGETS, NamedValue, OptionId,
    OptionSpec, ValueKind, canonical_options, find_option, option_table, spec,
};
pub use types::{
    AdSelect, ArpAllTargets, ArpValidate, FailOverMac, LacpRate, MacAddr, Mode, ModeSet,
    OptionEnum, PrimaryReselect, XmitHashPolicy,
};

use table::lookup;

/// Which options were set explicitly (through [`BondOptions::set`]).
///
/// Provenance is bookkeeping, not configuration: two option sets with the
/// same values compare equal whatever their provenance.
#[derive(Debug, Clone, Copy, Default)]
struct Explicit(u64);

impl PartialEq for Explicit {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Explicit {}

impl Explicit {
    fn contains(self, id: OptionId) -> bool {
        self.0 & id.bit() != 0
    }

    fn insert(&mut self, id: OptionId) {
        self.0 |= id.bit();
    }
}

/// A bond's options.  `Default` is the Linux default of every option
/// (note: `miimon` 0 until [`BondOptions::finalize`] applies bondd's rule).
///
/// Fields may be read freely.  Prefer [`BondOptions::set`] for changes: it
/// checks the value and records that the option was chosen explicitly;
/// direct writes are only checked by [`BondOptions::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BondOptions {
    /// `mode`.
    pub mode: Mode,
    /// `miimon`, milliseconds.
    pub miimon: u32,
    /// `updelay`, milliseconds.
    pub updelay: u32,
    /// `downdelay`, milliseconds.
    pub downdelay: u32,
    /// `peer_notif_delay`, milliseconds.
    pub peer_notif_delay: u32,
    /// `use_carrier`.
    pub use_carrier: bool,
    /// `arp_interval`, milliseconds.
    pub arp_interval: u32,
    /// `arp_ip_target`, in insertion order.
    pub arp_ip_target: Vec<Ipv4Addr>,
    /// `ns_ip6_target`, in insertion order.
    pub ns_ip6_target: Vec<Ipv6Addr>,
    /// `arp_validate`.
    pub arp_validate: ArpValidate,
    /// `arp_all_targets`.
    pub arp_all_targets: ArpAllTargets,
    /// `arp_missed_max`.
    pub arp_missed_max: u8,
    /// `primary`.
    pub primary: Option<String>,
    /// `primary_reselect`.
    pub primary_reselect: PrimaryReselect,
    /// `active_slave`.
    pub active_slave: Option<String>,
    /// `fail_over_mac`.
    pub fail_over_mac: FailOverMac,
    /// `xmit_hash_policy`.
    pub xmit_hash_policy: XmitHashPolicy,
    /// `packets_per_slave`.
    pub packets_per_slave: u16,
    /// `tlb_dynamic_lb`.
    pub tlb_dynamic_lb: bool,
    /// `lp_interval`, seconds.
    pub lp_interval: u32,
    /// `resend_igmp`.
    pub resend_igmp: u8,
    /// `num_grat_arp` / `num_unsol_na` (one setting under two names).
    pub num_peer_notif: u8,
    /// `all_slaves_active`.
    pub all_slaves_active: bool,
    /// `min_links`.
    pub min_links: u32,
    /// `lacp_rate`.
    pub lacp_rate: LacpRate,
    /// `lacp_active`.
    pub lacp_active: bool,
    /// `ad_select`.
    pub ad_select: AdSelect,
    /// `ad_actor_sys_prio`.
    pub ad_actor_sys_prio: u16,
    /// `ad_user_port_key`.
    pub ad_user_port_key: u16,
    /// `ad_actor_system`.
    pub ad_actor_system: MacAddr,
    /// `coupled_control`.
    pub coupled_control: bool,
    /// `broadcast_neighbor`.
    pub broadcast_neighbor: bool,
    /// bondd `lacp_fallback`.
    pub lacp_fallback: bool,
    /// bondd `lacp_fallback_member`.
    pub lacp_fallback_member: Option<String>,
    /// `max_bonds` (module-load parameter).
    pub max_bonds: u32,
    explicit: Explicit,
}

impl Default for BondOptions {
    fn default() -> Self {
        BondOptions {
            mode: Mode::BalanceRr,
            miimon: 0,
            updelay: 0,
            downdelay: 0,
            peer_notif_delay: 0,
            use_carrier: true,
            arp_interval: 0,
            arp_ip_target: Vec::new(),
            ns_ip6_target: Vec::new(),
            arp_validate: ArpValidate::None,
            arp_all_targets: ArpAllTargets::Any,
            arp_missed_max: 2,
            primary: None,
            primary_reselect: PrimaryReselect::Always,
            active_slave: None,
            fail_over_mac: FailOverMac::None,
            xmit_hash_policy: XmitHashPolicy::Layer2,
            packets_per_slave: 1,
            tlb_dynamic_lb: true,
            lp_interval: 1,
            resend_igmp: 1,
            num_peer_notif: 1,
            all_slaves_active: false,
            min_links: 0,
            lacp_rate: LacpRate::Slow,
            lacp_active: true,
            ad_select: AdSelect::Stable,
            ad_actor_sys_prio: 65535,
            ad_user_port_key: 0,
            ad_actor_system: MacAddr::ZERO,
            coupled_control: true,
            broadcast_neighbor: false,
            lacp_fallback: false,
            lacp_fallback_member: None,
            max_bonds: 1,
            explicit: Explicit::default(),
        }
    }
}

/// Converts a checked table number into a narrower field type.
fn narrow<T: TryFrom<u64>>(spec: &OptionSpec, raw: &str, value: u64) -> Result<T, OptionError> {
    T::try_from(value).map_err(|_| spec.invalid(raw))
}

pub(crate) fn parse_interface(spec: &OptionSpec, raw: &str) -> Result<Option<String>, OptionError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let bad_char = |c: char| {
        c.is_whitespace() || c.is_control() || matches!(c, '=' | ',' | '"' | '\'' | '/' | '#')
    };
    if raw.len() > MAX_IFNAME_LEN || raw.chars().any(bad_char) || raw == "." || raw == ".." {
        return Err(spec.invalid(raw));
    }
    Ok(Some(raw.to_string()))
}

pub(crate) fn check_ipv4_target(spec: &OptionSpec, addr: Ipv4Addr) -> Result<(), OptionError> {
    if addr.octets()[0] == 0 || addr.is_broadcast() {
        return Err(OptionError::refused(
            spec.name,
            addr,
            "0.0.0.0/8 and 255.255.255.255 cannot be probed".to_string(),
        ));
    }
    Ok(())
}

pub(crate) fn check_ipv6_target(spec: &OptionSpec, addr: Ipv6Addr) -> Result<(), OptionError> {
    if addr.is_unspecified() || addr.is_loopback() || addr.is_multicast() {
        return Err(OptionError::refused(
            spec.name,
            addr,
            "the unspecified, loopback and multicast addresses cannot be probed".to_string(),
        ));
    }
    Ok(())
}

fn parse_ipv4_target(spec: &OptionSpec, text: &str) -> Result<Ipv4Addr, OptionError> {
    let addr = Ipv4Addr::from_str(text).map_err(|_| spec.invalid(text))?;
    check_ipv4_target(spec, addr)?;
    Ok(addr)
}

fn parse_ipv6_target(spec: &OptionSpec, text: &str) -> Result<Ipv6Addr, OptionError> {
    let addr = Ipv6Addr::from_str(text).map_err(|_| spec.invalid(text))?;
    check_ipv6_target(spec, addr)?;
    Ok(addr)
}

/// Applies a target-list value: empty clears; otherwise comma-separated
/// items, `+addr`/`addr` adds and `-addr` removes.  All or nothing.
fn edit_targets<A: Copy + PartialEq + fmt::Display>(
    spec: &OptionSpec,
    list: &mut Vec<A>,
    raw: &str,
    max: usize,
    parse: fn(&OptionSpec, &str) -> Result<A, OptionError>,
) -> Result<(), OptionError> {
    let items: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        list.clear();
        return Ok(());
    }
    let mut new = list.clone();
    for item in items {
        if let Some(text) = item.strip_prefix('-') {
            let addr = parse(spec, text.trim())?;
            let Some(pos) = new.iter().position(|a| *a == addr) else {
                return Err(OptionError::refused(
                    spec.name,
                    item,
                    format!("{addr} is not in the target list, nothing to remove"),
                ));
            };
            new.remove(pos);
        } else {
            let text = item.strip_prefix('+').unwrap_or(item).trim();
            let addr = parse(spec, text)?;
            if new.contains(&addr) {
                return Err(OptionError::refused(
                    spec.name,
                    item,
                    format!("{addr} is already in the target list"),
                ));
            }
            if new.len() >= max {
                return Err(OptionError::refused(
                    spec.name,
                    item,
                    format!("at most {max} targets are allowed"),
                ));
            }
            new.push(addr);
        }
    }
    *list = new;
    Ok(())
}

fn join<T: fmt::Display>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

/// A word of a settings string that could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitError {
    /// The word as far as it was read (quotes removed).
    pub(crate) word: String,
    /// What is wrong.
    pub(crate) reason: String,
}

/// Splits a `BONDING_OPTS` / module-options string into words on
/// whitespace, honouring double and single quotes (which are removed).
pub(crate) fn split_words(s: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '"' || c == '\'' {
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == c {
                        closed = true;
                        break;
                    }
                    word.push(q);
                }
                if !closed {
                    return Err(SplitError {
                        word,
                        reason: format!("unterminated {c} quote"),
                    });
                }
            } else {
                word.push(c);
            }
        }
        words.push(word);
    }
}

impl BondOptions {
    /// Linux defaults (same as `Default`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a Linux `BONDING_OPTS` string such as
    /// `mode=active-backup miimon=100 arp_ip_target=+10.0.0.1`.
    pub fn from_bonding_opts(s: &str) -> Result<Self, OptionError> {
        let mut opts = Self::default();
        opts.apply_bonding_opts(s)?;
        Ok(opts)
    }

    /// Applies the settings of a `BONDING_OPTS` string, left to right.
    /// Stops at the first bad setting; settings before it stay applied.
    pub fn apply_bonding_opts(&mut self, s: &str) -> Result<(), OptionError> {
        let words = split_words(s).map_err(|e| OptionError::Malformed {
            option: e.word.split('=').next().unwrap_or_default().to_string(),
            text: e.word.clone(),
            reason: e.reason,
        })?;
        for word in words {
            let Some((name, value)) = word.split_once('=') else {
                return Err(OptionError::Malformed {
                    option: word.clone(),
                    text: word,
                    reason: "expected name=value".to_string(),
                });
            };
            if name.is_empty() {
                return Err(OptionError::Malformed {
                    option: String::new(),
                    text: word.clone(),
                    reason: "missing option name before '='".to_string(),
                });
            }
            self.set(name, value)?;
        }
        Ok(())
    }

    /// Sets one option from its textual value (the single entry point used
    /// by every parser).  The value is checked completely before anything
    /// changes.  Cross-option rules are checked by [`Self::validate`].
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), OptionError> {
        let spec = lookup(name.trim())?;
        let raw = value.trim();
        self.apply(spec, raw)?;
        self.explicit.insert(spec.id);
        tracing::debug!(option = spec.name, value = raw, "bonding option set");
        Ok(())
    }

    fn apply(&mut self, spec: &'static OptionSpec, raw: &str) -> Result<(), OptionError> {
        use OptionId as O;
        let num = || spec.parse_number(raw);
        let flag = || num().map(|v| v != 0);
        match spec.id {
            O::Mode => self.mode = Mode::from_str(raw)?,
            O::Miimon => self.miimon = narrow(spec, raw, num()?)?,
            O::Updelay => self.updelay = narrow(spec, raw, num()?)?,
            O::Downdelay => self.downdelay = narrow(spec, raw, num()?)?,
            O::PeerNotifDelay => self.peer_notif_delay = narrow(spec, raw, num()?)?,
            O::UseCarrier => self.use_carrier = flag()?,
            O::ArpInterval => {
                let v: u32 = narrow(spec, raw, num()?)?;
                self.arp_interval = v;
                // A miimon that was only defaulted yields to an explicit ARP monitor.
                if v > 0 && !self.explicit.contains(O::Miimon) {
                    self.miimon = 0;
                }
            }
            O::ArpIpTarget => edit_targets(
                spec,
                &mut self.arp_ip_target,
                raw,
                MAX_ARP_TARGETS,
                parse_ipv4_target,
            )?,
            O::NsIp6Target => edit_targets(
                spec,
                &mut self.ns_ip6_target,
                raw,
                MAX_NS_TARGETS,
                parse_ipv6_target,
            )?,
            O::ArpValidate => self.arp_validate = ArpValidate::from_str(raw)?,
            O::ArpAllTargets => self.arp_all_targets = ArpAllTargets::from_str(raw)?,
            O::ArpMissedMax => self.arp_missed_max = narrow(spec, raw, num()?)?,
            O::Primary => self.primary = parse_interface(spec, raw)?,
            O::PrimaryReselect => self.primary_reselect = PrimaryReselect::from_str(raw)?,
            O::ActiveSlave => self.active_slave = parse_interface(spec, raw)?,
            O::FailOverMac => self.fail_over_mac = FailOverMac::from_str(raw)?,
            O::XmitHashPolicy => self.xmit_hash_policy = XmitHashPolicy::parse_option(raw)?,
            O::PacketsPerSlave => self.packets_per_slave = narrow(spec, raw, num()?)?,
            O::TlbDynamicLb => self.tlb_dynamic_lb = flag()?,
            O::LpInterval => self.lp_interval = narrow(spec, raw, num()?)?,
            O::ResendIgmp => self.resend_igmp = narrow(spec, raw, num()?)?,
            O::NumPeerNotif => self.num_peer_notif = narrow(spec, raw, num()?)?,
            O::AllSlavesActive => self.all_slaves_active = flag()?,
            O::MinLinks => self.min_links = narrow(spec, raw, num()?)?,
            O::LacpRate => self.lacp_rate = LacpRate::from_str(raw)?,
            O::LacpActive => self.lacp_active = flag()?,
            O::AdSelect => self.ad_select = AdSelect::from_str(raw)?,
            O::AdActorSysPrio => self.ad_actor_sys_prio = narrow(spec, raw, num()?)?,
            O::AdUserPortKey => self.ad_user_port_key = narrow(spec, raw, num()?)?,
            O::AdActorSystem => {
                // The option takes ':' only; MacAddr's FromStr also takes '-'.
                let mac = MacAddr::from_str(raw)
                    .ok()
                    .filter(|_| !raw.contains('-'))
                    .ok_or_else(|| spec.invalid(raw))?;
                if mac.is_multicast() {
                    return Err(OptionError::refused(
                        spec.name,
                        raw,
                        "the LACP system address must be a unicast MAC".to_string(),
                    ));
                }
                self.ad_actor_system = mac;
            }
            O::CoupledControl => self.coupled_control = flag()?,
            O::BroadcastNeighbor => self.broadcast_neighbor = flag()?,
            O::LacpFallback => self.lacp_fallback = flag()?,
            O::LacpFallbackMember => self.lacp_fallback_member = parse_interface(spec, raw)?,
            O::MaxBonds => self.max_bonds = narrow(spec, raw, num()?)?,
        }
        Ok(())
    }

    /// Whether the option was set through [`Self::set`] (by any parser).
    pub fn is_explicit(&self, id: OptionId) -> bool {
        self.explicit.contains(id)
    }

    /// Whether the option was set explicitly or differs from the Linux
    /// default (e.g. through a direct field write or `finalize`).
    pub fn is_given(&self, id: OptionId) -> bool {
        self.is_explicit(id) || self.value_of(id) != Self::default().value_of(id)
    }

    /// The number behind a table-driven option (enum, bool, integer).
    pub fn numeric(&self, id: OptionId) -> Option<u64> {
        use OptionId as O;
        Some(match id {
            O::Mode => self.mode.value(),
            O::Miimon => self.miimon.into(),
            O::Updelay => self.updelay.into(),
            O::Downdelay => self.downdelay.into(),
            O::PeerNotifDelay => self.peer_notif_delay.into(),
            O::UseCarrier => self.use_carrier.into(),
            O::ArpInterval => self.arp_interval.into(),
            O::ArpValidate => self.arp_validate.value(),
            O::ArpAllTargets => self.arp_all_targets.value(),
            O::ArpMissedMax => self.arp_missed_max.into(),
            O::PrimaryReselect => self.primary_reselect.value(),
            O::FailOverMac => self.fail_over_mac.value(),
            O::XmitHashPolicy => self.xmit_hash_policy.value(),
            O::PacketsPerSlave => self.packets_per_slave.into(),
            O::TlbDynamicLb => self.tlb_dynamic_lb.into(),
            O::LpInterval => self.lp_interval.into(),
            O::ResendIgmp => self.resend_igmp.into(),
            O::NumPeerNotif => self.num_peer_notif.into(),
            O::AllSlavesActive => self.all_slaves_active.into(),
            O::MinLinks => self.min_links.into(),
            O::LacpRate => self.lacp_rate.value(),
            O::LacpActive => self.lacp_active.into(),
            O::AdSelect => self.ad_select.value(),
            O::AdActorSysPrio => self.ad_actor_sys_prio.into(),
            O::AdUserPortKey => self.ad_user_port_key.into(),
            O::CoupledControl => self.coupled_control.into(),
            O::BroadcastNeighbor => self.broadcast_neighbor.into(),
            O::LacpFallback => self.lacp_fallback.into(),
            O::MaxBonds => self.max_bonds.into(),
            O::ArpIpTarget
            | O::NsIp6Target
            | O::Primary
            | O::ActiveSlave
            | O::AdActorSystem
            | O::LacpFallbackMember => return None,
        })
    }

    /// The value in the form `set()` and BONDING_OPTS accept back:
    /// names for enums (`active-backup`), numbers otherwise, comma-separated
    /// target lists, empty for an unset interface.
    pub fn value_of(&self, id: OptionId) -> String {
        use OptionId as O;
        let spec = spec(id);
        if let Some(n) = self.numeric(id) {
            return match spec.kind {
                ValueKind::Enum => spec
                    .name_of(n)
                    .map_or_else(|| n.to_string(), str::to_string),
                _ => n.to_string(),
            };
        }
        match id {
            O::ArpIpTarget => join(&self.arp_ip_target, ","),
            O::NsIp6Target => join(&self.ns_ip6_target, ","),
            O::Primary => self.primary.clone().unwrap_or_default(),
            O::ActiveSlave => self.active_slave.clone().unwrap_or_default(),
            O::LacpFallbackMember => self.lacp_fallback_member.clone().unwrap_or_default(),
            O::AdActorSystem => self.ad_actor_system.to_string(),
            _ => String::new(),
        }
    }

    /// The value of option `name` in canonical (BONDING_OPTS) form.
    pub fn get(&self, name: &str) -> Result<String, OptionError> {
        Ok(self.value_of(lookup(name.trim())?.id))
    }

    /// The value of option `name` as Linux shows it in sysfs:
    /// `active-backup 1` for named values, numbers, space-separated targets.
    pub fn sysfs_value(&self, name: &str) -> Result<String, OptionError> {
        let spec = lookup(name.trim())?;
        Ok(match (self.numeric(spec.id), spec.kind) {
            (Some(n), _) if spec.shows_name => match spec.name_of(n) {
                Some(text) => format!("{text} {n}"),
                None => n.to_string(),
            },
            (_, ValueKind::Ipv4Targets) => join(&self.arp_ip_target, " "),
            (_, ValueKind::Ipv6Targets) => join(&self.ns_ip6_target, " "),
            _ => self.value_of(spec.id),
        })
    }

    /// `(name, value)` of every option that is explicit or not at its
    /// Linux default, in canonical order.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        canonical_options()
            .iter()
            .filter(|s| self.is_given(s.id))
            .map(|s| (s.name, self.value_of(s.id)))
            .collect()
    }

    fn render(&self, include_extensions: bool) -> String {
        canonical_options()
            .iter()
            .filter(|s| include_extensions || !s.extension)
            .filter(|s| self.is_given(s.id))
            .map(|s| format!("{}={}", s.name, self.value_of(s.id)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The option set as a `BONDING_OPTS` string (options that are explicit
    /// or differ from the Linux default, bondd extensions included).
    /// `BondOptions::from_bonding_opts(&o.to_bonding_opts())` equals `o`.
    pub fn to_bonding_opts(&self) -> String {
        self.render(true)
    }

    /// Like [`Self::to_bonding_opts`] without the bondd extensions, for
    /// handing back to a Linux host.
    pub fn to_linux_bonding_opts(&self) -> String {
        self.render(false)
    }

    /// Applies bondd's defaulting rules and returns what was adjusted:
    ///
    /// * `miimon` becomes [`DEFAULT_MIIMON`] when neither `miimon` nor
    ///   `arp_interval` was given;
    /// * `updelay`, `downdelay` and `peer_notif_delay` are rounded down to
    ///   a multiple of `miimon`, with a warning, as Linux does.
    ///
    /// Idempotent.
    pub fn finalize(&mut self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if !self.is_given(OptionId::Miimon) && !self.is_given(OptionId::ArpInterval) {
            self.miimon = DEFAULT_MIIMON;
        }
        let miimon = self.miimon;
        if miimon > 0 {
            let delays = [
                (spec(OptionId::Updelay).name, &mut self.updelay),
                (spec(OptionId::Downdelay).name, &mut self.downdelay),
                (
                    spec(OptionId::PeerNotifDelay).name,
                    &mut self.peer_notif_delay,
                ),
            ];
            for (name, delay) in delays {
                if *delay % miimon != 0 {
                    let rounded = *delay / miimon * miimon;
                    warnings.push(Warning::new(
                        name,
                        WarningKind::DelayRounded,
                        format!(
                            "{name} ({}) is not a multiple of miimon ({miimon}), value rounded to {rounded} ms",
                            *delay
                        ),
                    ));
                    *delay = rounded;
                }
            }
        }
        warnings
    }
}

impl FromStr for BondOptions {
    type Err = OptionError;

    fn from_str(s: &str) -> Result<Self, OptionError> {
        Self::from_bonding_opts(s)
    }
}

impl fmt::Display for BondOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bonding_opts())
    }
}
