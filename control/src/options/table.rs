//! The option table: one record per Linux bonding option (plus the bondd
//! extensions) with its value table, range, applicable modes, change
//! restrictions and help text.
//!
//! Value tables, ranges and flags mirror the Linux driver's option table
//! (`drivers/net/bonding/bond_options.c`); the help texts are our own.

use super::OptionError;
use super::types::{Mode, ModeSet};

/// Largest value of the many options Linux bounds by `INT_MAX`.
pub const INT_MAX: u64 = i32::MAX as u64;
/// Most IPv4 ARP targets a bond can have.
pub const MAX_ARP_TARGETS: usize = 16;
/// Most IPv6 NS targets a bond can have.
pub const MAX_NS_TARGETS: usize = 16;
/// The MII monitor interval bondd uses when no monitor was configured.
pub const DEFAULT_MIIMON: u32 = 100;
/// Longest interface (member) name accepted by interface-valued options.
/// Linux allows 15 bytes; DPDK port names can be longer (up to 63).
pub const MAX_IFNAME_LEN: usize = 63;

/// Identifies an option independently of the name used to set it
/// (`num_grat_arp` and `num_unsol_na` share one id).
///
/// The declaration order is the canonical display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OptionId {
    Mode,
    Miimon,
    Updelay,
    Downdelay,
    PeerNotifDelay,
    UseCarrier,
    ArpInterval,
    ArpIpTarget,
    NsIp6Target,
    ArpValidate,
    ArpAllTargets,
    ArpMissedMax,
    Primary,
    PrimaryReselect,
    ActiveSlave,
    FailOverMac,
    XmitHashPolicy,
    PacketsPerSlave,
    TlbDynamicLb,
    LpInterval,
    ResendIgmp,
    NumPeerNotif,
    AllSlavesActive,
    MinLinks,
    LacpRate,
    LacpActive,
    AdSelect,
    AdActorSysPrio,
    AdUserPortKey,
    AdActorSystem,
    CoupledControl,
    BroadcastNeighbor,
    LacpFallback,
    LacpFallbackMember,
    MaxBonds,
}

impl OptionId {
    pub(crate) const fn bit(self) -> u64 {
        1u64 << (self as u32)
    }
}

/// One named value of an option (`active-backup` = 1, `maxval` = 255, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedValue {
    /// Name accepted for the value.
    pub name: &'static str,
    /// The number it stands for.
    pub value: u64,
    /// The keyword `default` selects this entry.
    pub is_default: bool,
}

/// The shape of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// One of the named values (or its number).
    Enum,
    /// `off`/`on` or `0`/`1`.
    Bool,
    /// An integer in `min..=max`, or one of the named values.
    Int {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// A member interface name; the empty value clears it.
    Interface,
    /// List of IPv4 addresses (`a,b`, `+a`, `-a`).
    Ipv4Targets,
    /// List of IPv6 addresses (`a,b`, `+a`, `-a`).
    Ipv6Targets,
    /// A unicast MAC address.
    Mac,
}

/// Metadata of one option, for listing, completion and help.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// Identity (shared by aliases).
    pub id: OptionId,
    /// Name as written in BONDING_OPTS, sysfs, TOML and the shell.
    pub name: &'static str,
    /// For alias rows, the canonical name.
    pub alias_of: Option<&'static str>,
    /// Value shape.
    pub kind: ValueKind,
    /// Named values, mirroring the Linux value table.
    pub values: &'static [NamedValue],
    /// Modes the option has an effect in.
    pub modes: ModeSet,
    /// Linux refuses to set the option while the bond's mode is outside
    /// `modes` (bondd warns instead; see `validate`).
    pub linux_mode_restricted: bool,
    /// Changing it requires the bond to be down (Linux `BOND_OPTFLAG_IFDOWN`).
    pub requires_down: bool,
    /// Changing it requires a bond without members (`BOND_OPTFLAG_NOSLAVES`).
    pub requires_no_members: bool,
    /// Only meaningful when the driver is loaded (module parameter).
    pub module_only: bool,
    /// Linux only shows it via sysfs as `name number` (e.g. `active-backup 1`).
    pub shows_name: bool,
    /// bondd extension, not a Linux option.
    pub extension: bool,
    /// Linux default, as displayed.
    pub linux_default: &'static str,
    /// One-line description.
    pub help: &'static str,
}

const fn nv(name: &'static str, value: u64) -> NamedValue {
    NamedValue {
        name,
        value,
        is_default: false,
    }
}

const fn dv(name: &'static str, value: u64) -> NamedValue {
    NamedValue {
        name,
        value,
        is_default: true,
    }
}

const MODE_VALUES: &[NamedValue] = &[
    dv("balance-rr", 0),
    nv("active-backup", 1),
    nv("balance-xor", 2),
    nv("broadcast", 3),
    nv("802.3ad", 4),
    nv("balance-tlb", 5),
    nv("balance-alb", 6),
];
const PACKETS_PER_SLAVE_VALUES: &[NamedValue] = &[dv("default", 1), nv("maxval", 65535)];
const XMIT_HASH_VALUES: &[NamedValue] = &[
    dv("layer2", 0),
    nv("layer3+4", 1),
    nv("layer2+3", 2),
    nv("encap2+3", 3),
    nv("encap3+4", 4),
    nv("vlan+srcmac", 5),
];
const ARP_VALIDATE_VALUES: &[NamedValue] = &[
    dv("none", 0),
    nv("active", 1),
    nv("backup", 2),
    nv("all", 3),
    nv("filter", 4),
    nv("filter_active", 5),
    nv("filter_backup", 6),
];
const ARP_ALL_TARGETS_VALUES: &[NamedValue] = &[dv("any", 0), nv("all", 1)];
const FAIL_OVER_MAC_VALUES: &[NamedValue] = &[dv("none", 0), nv("active", 1), nv("follow", 2)];
const INTMAX_VALUES: &[NamedValue] = &[dv("off", 0), nv("maxval", INT_MAX)];
const LACP_ACTIVE_VALUES: &[NamedValue] = &[nv("off", 0), dv("on", 1)];
const LACP_RATE_VALUES: &[NamedValue] = &[nv("slow", 0), nv("fast", 1)];
const AD_SELECT_VALUES: &[NamedValue] = &[
    dv("stable", 0),
    nv("bandwidth", 1),
    nv("count", 2),
    nv("actor_port_prio", 3),
];
const NUM_PEER_NOTIF_VALUES: &[NamedValue] = &[nv("off", 0), nv("maxval", 255), dv("default", 1)];
const PEER_NOTIF_DELAY_VALUES: &[NamedValue] = &[nv("off", 0), nv("maxval", 300_000)];
const PRIMARY_RESELECT_VALUES: &[NamedValue] =
    &[dv("always", 0), nv("better", 1), nv("failure", 2)];
const USE_CARRIER_VALUES: &[NamedValue] = &[nv("off", 0), dv("on", 1)];
const ALL_SLAVES_ACTIVE_VALUES: &[NamedValue] = &[dv("off", 0), nv("on", 1)];
const RESEND_IGMP_VALUES: &[NamedValue] = &[nv("off", 0), nv("maxval", 255), dv("default", 1)];
const LP_INTERVAL_VALUES: &[NamedValue] = &[dv("minval", 1), nv("maxval", INT_MAX)];
const TLB_DYNAMIC_LB_VALUES: &[NamedValue] = &[nv("off", 0), dv("on", 1)];
const AD_ACTOR_SYS_PRIO_VALUES: &[NamedValue] = &[nv("minval", 1), dv("maxval", 65535)];
const AD_USER_PORT_KEY_VALUES: &[NamedValue] = &[dv("minval", 0), nv("maxval", 1023)];
const ARP_MISSED_MAX_VALUES: &[NamedValue] =
    &[nv("minval", 1), nv("maxval", 255), dv("default", 2)];
const COUPLED_CONTROL_VALUES: &[NamedValue] = &[dv("on", 1), nv("off", 0)];
const BROADCAST_NEIGHBOR_VALUES: &[NamedValue] = &[dv("off", 0), nv("on", 1)];
const LACP_FALLBACK_VALUES: &[NamedValue] = &[dv("off", 0), nv("on", 1)];
const NO_VALUES: &[NamedValue] = &[];

const ARP_MODES: ModeSet = ModeSet::of(&[
    Mode::BalanceRr,
    Mode::ActiveBackup,
    Mode::BalanceXor,
    Mode::Broadcast,
]);
const PRIMARY_MODES: ModeSet =
    ModeSet::of(&[Mode::ActiveBackup, Mode::BalanceTlb, Mode::BalanceAlb]);
const AB_MODE: ModeSet = ModeSet::of(&[Mode::ActiveBackup]);
const RR_MODE: ModeSet = ModeSet::of(&[Mode::BalanceRr]);
const AD_MODE: ModeSet = ModeSet::of(&[Mode::Ieee8023ad]);
const LB_MODES: ModeSet = ModeSet::of(&[Mode::BalanceTlb, Mode::BalanceAlb]);
const HASH_MODES: ModeSet = ModeSet::of(&[
    Mode::BalanceXor,
    Mode::Ieee8023ad,
    Mode::BalanceTlb,
    Mode::BalanceAlb,
]);
const IGMP_MODES: ModeSet = ModeSet::of(&[
    Mode::BalanceRr,
    Mode::ActiveBackup,
    Mode::BalanceTlb,
    Mode::BalanceAlb,
]);

const fn int(min: u64, max: u64) -> ValueKind {
    ValueKind::Int { min, max }
}

/// Base record: applies to all modes, no restrictions.
const fn opt(
    id: OptionId,
    name: &'static str,
    kind: ValueKind,
    values: &'static [NamedValue],
    linux_default: &'static str,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        id,
        name,
        alias_of: None,
        kind,
        values,
        modes: ModeSet::ALL,
        linux_mode_restricted: false,
        requires_down: false,
        requires_no_members: false,
        module_only: false,
        shows_name: matches!(kind, ValueKind::Enum),
        extension: false,
        linux_default,
        help,
    }
}

/// Same, for an option Linux refuses outside `modes`.
const fn restricted(base: OptionSpec, modes: ModeSet) -> OptionSpec {
    OptionSpec {
        modes,
        linux_mode_restricted: true,
        ..base
    }
}

/// Same, for an option Linux accepts everywhere but which only acts in `modes`.
const fn only(base: OptionSpec, modes: ModeSet) -> OptionSpec {
    OptionSpec { modes, ..base }
}

const fn down(base: OptionSpec) -> OptionSpec {
    OptionSpec {
        requires_down: true,
        ..base
    }
}

use OptionId as O;

/// Canonical rows first, in `OptionId` order (so `spec(id)` can index),
/// then alias rows.
static OPTIONS: [OptionSpec; 36] = [
    OptionSpec {
        requires_down: true,
        requires_no_members: true,
        ..opt(
            O::Mode,
            "mode",
            ValueKind::Enum,
            MODE_VALUES,
            "balance-rr",
            "Bonding policy: how frames are spread over members and how failover works.",
        )
    },
    opt(
        O::Miimon,
        "miimon",
        int(0, INT_MAX),
        INTMAX_VALUES,
        "0",
        "Milliseconds between member link-state checks; 0 turns the MII monitor off.",
    ),
    opt(
        O::Updelay,
        "updelay",
        int(0, INT_MAX),
        INTMAX_VALUES,
        "0",
        "Milliseconds a recovered link must stay up before the member is used (multiple of miimon).",
    ),
    opt(
        O::Downdelay,
        "downdelay",
        int(0, INT_MAX),
        INTMAX_VALUES,
        "0",
        "Milliseconds a failed link must stay down before the member is dropped (multiple of miimon).",
    ),
    only(
        opt(
            O::PeerNotifDelay,
            "peer_notif_delay",
            int(0, 300_000),
            PEER_NOTIF_DELAY_VALUES,
            "0",
            "Milliseconds between repeated peer notifications after a failover (0: one miimon interval).",
        ),
        AB_MODE,
    ),
    opt(
        O::UseCarrier,
        "use_carrier",
        ValueKind::Bool,
        USE_CARRIER_VALUES,
        "1",
        "Obsolete: link state always comes from the port carrier; only 1 is meaningful.",
    ),
    restricted(
        opt(
            O::ArpInterval,
            "arp_interval",
            int(0, INT_MAX),
            INTMAX_VALUES,
            "0",
            "Milliseconds between ARP/NS probes of the targets; 0 turns the ARP monitor off.",
        ),
        ARP_MODES,
    ),
    only(
        opt(
            O::ArpIpTarget,
            "arp_ip_target",
            ValueKind::Ipv4Targets,
            NO_VALUES,
            "",
            "IPv4 addresses the ARP monitor probes (at most 16; +addr adds, -addr removes).",
        ),
        ARP_MODES,
    ),
    only(
        opt(
            O::NsIp6Target,
            "ns_ip6_target",
            ValueKind::Ipv6Targets,
            NO_VALUES,
            "",
            "IPv6 addresses the ARP monitor probes with neighbour solicitations (at most 16).",
        ),
        ARP_MODES,
    ),
    restricted(
        opt(
            O::ArpValidate,
            "arp_validate",
            ValueKind::Enum,
            ARP_VALIDATE_VALUES,
            "none",
            "Which members must see genuine probe traffic, and whether only ARP counts, to stay up.",
        ),
        ARP_MODES,
    ),
    only(
        opt(
            O::ArpAllTargets,
            "arp_all_targets",
            ValueKind::Enum,
            ARP_ALL_TARGETS_VALUES,
            "any",
            "Whether one answering target (any) or every target (all) keeps a validated member up.",
        ),
        AB_MODE,
    ),
    restricted(
        opt(
            O::ArpMissedMax,
            "arp_missed_max",
            int(1, 255),
            ARP_MISSED_MAX_VALUES,
            "2",
            "ARP monitor intervals a member may miss before it is declared down.",
        ),
        ARP_MODES,
    ),
    restricted(
        opt(
            O::Primary,
            "primary",
            ValueKind::Interface,
            NO_VALUES,
            "",
            "Member preferred as the active one whenever its link is usable (empty: none).",
        ),
        PRIMARY_MODES,
    ),
    only(
        opt(
            O::PrimaryReselect,
            "primary_reselect",
            ValueKind::Enum,
            PRIMARY_RESELECT_VALUES,
            "always",
            "When a recovered primary takes over again: always, only if better, or only on failure.",
        ),
        PRIMARY_MODES,
    ),
    restricted(
        opt(
            O::ActiveSlave,
            "active_slave",
            ValueKind::Interface,
            NO_VALUES,
            "",
            "Member to make active now (empty: let the bond choose).",
        ),
        PRIMARY_MODES,
    ),
    OptionSpec {
        requires_no_members: true,
        ..only(
            opt(
                O::FailOverMac,
                "fail_over_mac",
                ValueKind::Enum,
                FAIL_OVER_MAC_VALUES,
                "none",
                "MAC handling on failover in active-backup: keep one MAC (none), follow the active member, or swap.",
            ),
            AB_MODE,
        )
    },
    only(
        opt(
            O::XmitHashPolicy,
            "xmit_hash_policy",
            ValueKind::Enum,
            XMIT_HASH_VALUES,
            "layer2",
            "Header fields hashed to choose the egress member in the hashing modes.",
        ),
        HASH_MODES,
    ),
    restricted(
        opt(
            O::PacketsPerSlave,
            "packets_per_slave",
            int(0, 65535),
            PACKETS_PER_SLAVE_VALUES,
            "1",
            "Frames sent on one member before moving on in balance-rr (0: pick a random member).",
        ),
        RR_MODE,
    ),
    down(restricted(
        opt(
            O::TlbDynamicLb,
            "tlb_dynamic_lb",
            ValueKind::Bool,
            TLB_DYNAMIC_LB_VALUES,
            "1",
            "Rebalance flows by measured load in tlb/alb (1) or rely on the hash alone (0).",
        ),
        LB_MODES,
    )),
    only(
        opt(
            O::LpInterval,
            "lp_interval",
            int(1, INT_MAX),
            LP_INTERVAL_VALUES,
            "1",
            "Seconds between learning frames sent for each member to the switch in tlb/alb.",
        ),
        LB_MODES,
    ),
    only(
        opt(
            O::ResendIgmp,
            "resend_igmp",
            int(0, 255),
            RESEND_IGMP_VALUES,
            "1",
            "IGMP membership reports sent after a failover (0: none).",
        ),
        IGMP_MODES,
    ),
    only(
        opt(
            O::NumPeerNotif,
            "num_grat_arp",
            int(0, 255),
            NUM_PEER_NOTIF_VALUES,
            "1",
            "Gratuitous ARPs and unsolicited NAs sent after a failover.",
        ),
        AB_MODE,
    ),
    opt(
        O::AllSlavesActive,
        "all_slaves_active",
        ValueKind::Bool,
        ALL_SLAVES_ACTIVE_VALUES,
        "0",
        "Deliver frames received on inactive members (1) instead of dropping them (0).",
    ),
    only(
        opt(
            O::MinLinks,
            "min_links",
            int(0, INT_MAX),
            INTMAX_VALUES,
            "0",
            "Members that must be up in the active aggregator before the bond reports carrier.",
        ),
        AD_MODE,
    ),
    down(restricted(
        opt(
            O::LacpRate,
            "lacp_rate",
            ValueKind::Enum,
            LACP_RATE_VALUES,
            "slow",
            "LACPDU rate asked of the partner: slow (every 30 s) or fast (every second).",
        ),
        AD_MODE,
    )),
    OptionSpec {
        shows_name: true,
        ..down(restricted(
            opt(
                O::LacpActive,
                "lacp_active",
                ValueKind::Bool,
                LACP_ACTIVE_VALUES,
                "1",
                "Send LACPDUs periodically (on) or only in reply to the partner (off).",
            ),
            AD_MODE,
        ))
    },
    down(only(
        opt(
            O::AdSelect,
            "ad_select",
            ValueKind::Enum,
            AD_SELECT_VALUES,
            "stable",
            "How the active aggregator is picked: stable, bandwidth, count or actor_port_prio.",
        ),
        AD_MODE,
    )),
    restricted(
        opt(
            O::AdActorSysPrio,
            "ad_actor_sys_prio",
            int(1, 65535),
            AD_ACTOR_SYS_PRIO_VALUES,
            "65535",
            "LACP system priority the bond advertises.",
        ),
        AD_MODE,
    ),
    down(restricted(
        opt(
            O::AdUserPortKey,
            "ad_user_port_key",
            int(0, 1023),
            AD_USER_PORT_KEY_VALUES,
            "0",
            "User-defined upper ten bits of the LACP port key.",
        ),
        AD_MODE,
    )),
    restricted(
        opt(
            O::AdActorSystem,
            "ad_actor_system",
            ValueKind::Mac,
            NO_VALUES,
            "00:00:00:00:00:00",
            "LACP system MAC the bond advertises (all zero: the bond's own MAC).",
        ),
        AD_MODE,
    ),
    down(restricted(
        opt(
            O::CoupledControl,
            "coupled_control",
            ValueKind::Bool,
            COUPLED_CONTROL_VALUES,
            "1",
            "Coupled LACP mux (1) or separate collecting and distributing states (0).",
        ),
        AD_MODE,
    )),
    restricted(
        opt(
            O::BroadcastNeighbor,
            "broadcast_neighbor",
            ValueKind::Bool,
            BROADCAST_NEIGHBOR_VALUES,
            "0",
            "Send ARP and IPv6 neighbour discovery frames on every active member in 802.3ad.",
        ),
        AD_MODE,
    ),
    OptionSpec {
        extension: true,
        ..only(
            opt(
                O::LacpFallback,
                "lacp_fallback",
                ValueKind::Bool,
                LACP_FALLBACK_VALUES,
                "0",
                "bondd: without an LACP partner, forward on one member instead of going down.",
            ),
            AD_MODE,
        )
    },
    OptionSpec {
        extension: true,
        ..only(
            opt(
                O::LacpFallbackMember,
                "lacp_fallback_member",
                ValueKind::Interface,
                NO_VALUES,
                "",
                "bondd: member used while in LACP fallback (empty: first member with link).",
            ),
            AD_MODE,
        )
    },
    OptionSpec {
        module_only: true,
        ..opt(
            O::MaxBonds,
            "max_bonds",
            int(0, INT_MAX),
            NO_VALUES,
            "1",
            "Module-load parameter: number of bonds to create; no meaning for a single bond.",
        )
    },
    // Alias rows.
    OptionSpec {
        alias_of: Some("num_grat_arp"),
        ..only(
            opt(
                O::NumPeerNotif,
                "num_unsol_na",
                int(0, 255),
                NUM_PEER_NOTIF_VALUES,
                "1",
                "Same setting as num_grat_arp (peer notifications after a failover).",
            ),
            AB_MODE,
        )
    },
];

/// Number of canonical rows (one per [`OptionId`]).
pub(crate) const CANONICAL_COUNT: usize = O::MaxBonds as usize + 1;

/// Every option record: canonical rows in display order, then aliases.
pub fn option_table() -> &'static [OptionSpec] {
    &OPTIONS
}

/// The canonical records only (one per [`OptionId`]), in display order.
pub fn canonical_options() -> &'static [OptionSpec] {
    &OPTIONS[..CANONICAL_COUNT]
}

/// Looks an option up by name (exact, case-sensitive, like Linux).
pub fn find_option(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|s| s.name == name)
}

/// The canonical record of `id`.
pub fn spec(id: OptionId) -> &'static OptionSpec {
    &OPTIONS[id as usize]
}

pub(crate) fn lookup(name: &str) -> Result<&'static OptionSpec, OptionError> {
    find_option(name).ok_or_else(|| OptionError::UnknownOption {
        name: name.to_string(),
        suggestion: suggest(name),
    })
}

/// The closest known option name, if reasonably close.
fn suggest(name: &str) -> Option<&'static str> {
    let lowered = name.to_ascii_lowercase().replace('-', "_");
    if let Some(s) = find_option(&lowered) {
        return Some(s.name);
    }
    OPTIONS
        .iter()
        .map(|s| (edit_distance(&lowered, s.name), s.name))
        .filter(|(d, n)| *d <= 2.max(n.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            let deletion = prev[j + 1] + 1;
            let insertion = cur[j] + 1;
            cur.push(substitution.min(deletion).min(insertion));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl OptionSpec {
    /// Whether the option acts in `mode`.
    pub fn applies_to(&self, mode: Mode) -> bool {
        self.modes.contains(mode)
    }

    /// Whether this is an alias row.
    pub fn is_alias(&self) -> bool {
        self.alias_of.is_some()
    }

    /// Words accepted as a value (for completion): the value names, plus
    /// `default` where the table has a default entry.  Numbers are also
    /// accepted; free-form kinds return an empty list.
    pub fn accepted_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.values.iter().map(|v| v.name).collect();
        if self.values.iter().any(|v| v.is_default) && !names.contains(&"default") {
            names.push("default");
        }
        names
    }

    /// The named entry for a number, if any.
    pub fn name_of(&self, value: u64) -> Option<&'static str> {
        self.values
            .iter()
            .find(|v| v.value == value)
            .map(|v| v.name)
    }

    /// Description of the accepted values, used in error messages.
    pub fn expected(&self) -> String {
        let pairs = || {
            self.values
                .iter()
                .map(|v| format!("{}|{}", v.name, v.value))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.kind {
            ValueKind::Enum | ValueKind::Bool => format!("one of {}", pairs()),
            ValueKind::Int { min, max } if self.values.is_empty() => {
                format!("an integer in {min}..={max}")
            }
            ValueKind::Int { min, max } => {
                format!("an integer in {min}..={max} or one of {}", pairs())
            }
            ValueKind::Interface => format!(
                "a member interface name (no whitespace, at most {MAX_IFNAME_LEN} characters), or nothing to clear it"
            ),
            ValueKind::Ipv4Targets => format!(
                "comma-separated IPv4 addresses, each optionally prefixed with + (add) or - (remove), at most {MAX_ARP_TARGETS}"
            ),
            ValueKind::Ipv6Targets => format!(
                "comma-separated IPv6 addresses, each optionally prefixed with + (add) or - (remove), at most {MAX_NS_TARGETS}"
            ),
            ValueKind::Mac => "a unicast MAC address xx:xx:xx:xx:xx:xx".to_string(),
        }
    }

    pub(crate) fn invalid(&self, value: &str) -> OptionError {
        OptionError::InvalidValue {
            option: self.name,
            value: value.to_string(),
            expected: self.expected(),
        }
    }

    fn out_of_range(&self, value: &str) -> OptionError {
        match self.kind {
            ValueKind::Int { min, max } => OptionError::OutOfRange {
                option: self.name,
                value: value.to_string(),
                min,
                max,
            },
            _ => self.invalid(value),
        }
    }

    /// Parses the value of a table-driven option (enum, bool or integer)
    /// the way Linux does: a string of digits is a number that must match a
    /// table entry or lie in the range; anything else must be an entry name
    /// or `default`.  Leading and trailing whitespace is ignored.
    pub fn parse_number(&self, raw: &str) -> Result<u64, OptionError> {
        let text = raw.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let Ok(number) = text.parse::<u64>() else {
                return Err(self.out_of_range(text));
            };
            if self.values.iter().any(|v| v.value == number) {
                return Ok(number);
            }
            return match self.kind {
                ValueKind::Int { min, max } if (min..=max).contains(&number) => Ok(number),
                ValueKind::Int { .. } => Err(self.out_of_range(text)),
                _ => Err(self.invalid(text)),
            };
        }
        if let Some(digits) = text.strip_prefix('-')
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(self.out_of_range(text));
        }
        if let Some(v) = self.values.iter().find(|v| v.name == text) {
            return Ok(v.value);
        }
        if text == "default"
            && let Some(v) = self.values.iter().find(|v| v.is_default)
        {
            return Ok(v.value);
        }
        Err(self.invalid(text))
    }
}
