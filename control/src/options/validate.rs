//! Cross-option validation.
//!
//! Errors are what Linux refuses (through sysfs, netlink or at module load)
//! and what would leave the bond without the monitoring the operator asked
//! for.  Where Linux accepts a setting but ignores it in the bond's mode,
//! or where an option is inert because another one is off, bondd accepts
//! it and returns a [`Warning`].

use super::table::{MAX_ARP_TARGETS, MAX_NS_TARGETS, OptionId, ValueKind, canonical_options, spec};
use super::{
    ArpAllTargets, ArpValidate, BondOptions, Mode, OptionError, Warning, WarningKind,
    check_ipv4_target, check_ipv6_target, parse_interface,
};

const ARP_MODE_NAMES: &str = "balance-rr, active-backup, balance-xor, broadcast";

impl BondOptions {
    /// Checks the option set against the cross-option rules for a bond with
    /// the given members.  Works on a finalized copy (see
    /// [`BondOptions::finalize`]), so the returned warnings include the
    /// finalize adjustments when `self` was not finalized yet.
    pub fn validate(&self, members: &[&str]) -> Result<Vec<Warning>, OptionError> {
        let mut eff = self.clone();
        let mut warnings = eff.finalize();
        eff.check_values()?;
        eff.check_rules(members)?;
        eff.collect_warnings(members, &mut warnings);
        Ok(warnings)
    }

    /// Re-checks single values (fields may have been written directly).
    fn check_values(&self) -> Result<(), OptionError> {
        for s in canonical_options() {
            let value = self.value_of(s.id);
            match s.kind {
                ValueKind::Int { .. } | ValueKind::Enum | ValueKind::Bool => {
                    s.parse_number(&value)?;
                }
                ValueKind::Interface => {
                    if !value.is_empty() {
                        parse_interface(s, &value)?;
                    }
                }
                ValueKind::Ipv4Targets => {
                    check_list(s.name, &self.arp_ip_target, MAX_ARP_TARGETS)?;
                    for a in &self.arp_ip_target {
                        check_ipv4_target(s, *a)?;
                    }
                }
                ValueKind::Ipv6Targets => {
                    check_list(s.name, &self.ns_ip6_target, MAX_NS_TARGETS)?;
                    for a in &self.ns_ip6_target {
                        check_ipv6_target(s, *a)?;
                    }
                }
                ValueKind::Mac => {
                    if self.ad_actor_system.is_multicast() {
                        return Err(OptionError::refused(
                            s.name,
                            self.ad_actor_system,
                            "the LACP system address must be a unicast MAC".to_string(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn check_rules(&self, members: &[&str]) -> Result<(), OptionError> {
        let mode = self.mode;
        let arp = spec(OptionId::ArpInterval).name;

        if self.arp_interval > 0 && !mode.uses_arp() {
            return Err(OptionError::refused(
                arp,
                self.arp_interval,
                format!(
                    "the ARP monitor is not available in mode {mode} (only in {ARP_MODE_NAMES}); use miimon instead"
                ),
            ));
        }
        if self.arp_interval > 0 && self.miimon > 0 {
            return Err(OptionError::refused(
                arp,
                self.arp_interval,
                format!(
                    "ARP monitoring cannot be combined with MII monitoring (miimon={}); set miimon=0 to use the ARP monitor or arp_interval=0 to use miimon",
                    self.miimon
                ),
            ));
        }
        if self.arp_validate != ArpValidate::None && self.arp_interval == 0 {
            let mut reason = "arp_validate requires the ARP monitor (arp_interval > 0)".to_string();
            if !mode.uses_arp() {
                reason.push_str(&format!(", which is not available in mode {mode}"));
            }
            return Err(OptionError::refused(
                spec(OptionId::ArpValidate).name,
                self.arp_validate,
                reason,
            ));
        }
        for (id, value) in [
            (OptionId::Updelay, self.updelay),
            (OptionId::Downdelay, self.downdelay),
            (OptionId::PeerNotifDelay, self.peer_notif_delay),
        ] {
            if value > 0 && self.miimon == 0 {
                return Err(OptionError::refused(
                    spec(id).name,
                    value,
                    "this delay is counted in MII monitor intervals and requires miimon > 0"
                        .to_string(),
                ));
            }
        }
        for (id, value) in [
            (OptionId::Primary, &self.primary),
            (OptionId::ActiveSlave, &self.active_slave),
            (OptionId::LacpFallbackMember, &self.lacp_fallback_member),
        ] {
            if let Some(name) = value
                && !members.contains(&name.as_str())
            {
                return Err(OptionError::NotAMember {
                    option: spec(id).name,
                    value: name.clone(),
                    members: members.iter().map(|m| m.to_string()).collect(),
                });
            }
        }
        Ok(())
    }

    fn collect_warnings(&self, members: &[&str], out: &mut Vec<Warning>) {
        use OptionId as O;
        let mode = self.mode;
        let mut push = |id: OptionId, kind: WarningKind, message: String| {
            out.push(Warning::new(spec(id).name, kind, message));
        };

        if self.miimon == 0 && self.arp_interval == 0 {
            let mut message = "neither miimon nor arp_interval is enabled: member link failures will not be detected and the bond will never fail over".to_string();
            if mode == Mode::Ieee8023ad {
                message.push_str(" (only LACPDU timeouts will remove a member)");
            }
            push(O::Miimon, WarningKind::NoLinkMonitoring, message);
        }

        if self.arp_interval > 0 && self.arp_ip_target.is_empty() && self.ns_ip6_target.is_empty() {
            push(
                O::ArpInterval,
                WarningKind::NoArpTargets,
                "the ARP monitor is enabled but neither arp_ip_target nor ns_ip6_target is set: no probes are sent and members may be declared down".to_string(),
            );
        }

        // Options given in a mode where they do nothing.
        for s in canonical_options() {
            if s.id == O::Mode || !self.is_given(s.id) || s.applies_to(mode) {
                continue;
            }
            let mut message = format!("has no effect in mode {mode} (applies to {})", s.modes);
            if s.linux_mode_restricted {
                message.push_str("; Linux refuses to set it in this mode, bondd ignores it");
            }
            push(s.id, WarningKind::NoEffectInMode, message);
        }

        // ARP-family options while the ARP monitor is off.
        if mode.uses_arp() && self.arp_interval == 0 {
            for id in [
                O::ArpIpTarget,
                O::NsIp6Target,
                O::ArpMissedMax,
                O::ArpAllTargets,
            ] {
                if self.is_given(id) && spec(id).applies_to(mode) {
                    push(
                        id,
                        WarningKind::NoEffect,
                        "has no effect while the ARP monitor is off (arp_interval=0)".to_string(),
                    );
                }
            }
        }
        if mode == Mode::ActiveBackup
            && self.arp_interval > 0
            && self.arp_all_targets == ArpAllTargets::All
            && self.arp_validate == ArpValidate::None
        {
            push(
                O::ArpAllTargets,
                WarningKind::NoEffect,
                "has no effect unless arp_validate is enabled".to_string(),
            );
        }
        if mode.uses_primary() && self.is_given(O::PrimaryReselect) && self.primary.is_none() {
            push(
                O::PrimaryReselect,
                WarningKind::NoEffect,
                "has no effect without a primary".to_string(),
            );
        }
        if mode == Mode::Ieee8023ad && self.lacp_fallback_member.is_some() && !self.lacp_fallback {
            push(
                O::LacpFallbackMember,
                WarningKind::NoEffect,
                "has no effect while lacp_fallback is off".to_string(),
            );
        }
        if mode == Mode::Ieee8023ad
            && !members.is_empty()
            && usize::try_from(self.min_links).map_or(true, |n| n > members.len())
        {
            push(
                O::MinLinks,
                WarningKind::MinLinksUnreachable,
                format!(
                    "min_links ({}) exceeds the number of members ({}): the bond will never report carrier",
                    self.min_links,
                    members.len()
                ),
            );
        }
        if !self.use_carrier {
            push(
                O::UseCarrier,
                WarningKind::Obsolete,
                "use_carrier=0 is obsolete (current Linux only accepts 1); link state always comes from the port carrier".to_string(),
            );
        }
        if self.is_given(O::MaxBonds) {
            push(
                O::MaxBonds,
                WarningKind::ModuleParameter,
                "is a module-load parameter and has no meaning for a single bond; ignored"
                    .to_string(),
            );
        }
    }
}

fn check_list<T: PartialEq + std::fmt::Display>(
    option: &'static str,
    list: &[T],
    max: usize,
) -> Result<(), OptionError> {
    if list.len() > max {
        return Err(OptionError::refused(
            option,
            list.len(),
            format!("at most {max} targets are allowed"),
        ));
    }
    for (i, a) in list.iter().enumerate() {
        if list[..i].contains(a) {
            return Err(OptionError::refused(
                option,
                a,
                format!("{a} appears more than once in the target list"),
            ));
        }
    }
    Ok(())
}
