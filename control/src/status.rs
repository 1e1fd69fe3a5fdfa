//! `/proc/net/bonding/bondN` compatible status text (and JSON) for bondd.
//!
//! Operators' scripts parse the Linux bonding driver's procfs file, so bondd
//! writes a file per bond with exactly the same layout.  The layout below is
//! an independent re-implementation of the text produced by the kernel's
//! `bond_info_show_master()` / `bond_info_show_slave()`
//! (`drivers/net/bonding/bond_procfs.c`).  It matches **current mainline
//! (6.x)**, checked against a 2025 mainline-derived tree (gregkh/linux,
//! `bond_procfs.c` with `pde_data()`, `READ_ONCE(slave->queue_id)`, the
//! `NS IPv6 target/s` line and `bond_version` =
//! `"Ethernet Channel Bonding Driver: v" UTS_RELEASE "\n"`) and against real
//! captures from 5.14 (RHEL 9), 5.15 and 6.8 kernels (see the golden tests).
//!
//! # Layout (mainline)
//!
//! ```text
//! Ethernet Channel Bonding Driver: <version>      <- bond_version ends in "\n" and is
//!                                                 <- printed with "%s\n": one blank line
//! Bonding Mode: <mode>[ (fail_over_mac <fom>)]    <- fom only in active-backup, fom != none
//! [Transmit Hash Policy: <policy> (<n>)]          <- balance-xor, 802.3ad, and
//!                                                    balance-tlb/alb with tlb_dynamic_lb=0
//! [Primary Slave: <name|None>[ (primary_reselect <r>)]
//!  Currently Active Slave: <name|None>]           <- active-backup, balance-tlb, balance-alb
//! MII Status: up|down
//! MII Polling Interval (ms): <n>
//! Up Delay (ms): <n>
//! Down Delay (ms): <n>
//! Peer Notification Delay (ms): <n>
//! [ARP Polling Interval (ms): <n>                 <- only when arp_interval > 0
//!  ARP Missed Max: <n>
//!  ARP IP target/s (n.n.n.n form): a, b           <- ":" then " a" and ", b" ...
//!  NS IPv6 target/s (xx::xx form): x, y]          <- CONFIG_IPV6 kernels only
//! [
//!  802.3ad info                                   <- 802.3ad only, preceded by a blank line
//!  LACP active: on|off
//!  LACP rate: slow|fast
//!  Min links: <n>
//!  Aggregator selection policy (ad_select): <s>
//!  System priority: <n>                           <- CAP_NET_ADMIN readers only (from here)
//!  System MAC address: <mac>
//!  bond <name> has no active aggregator | Active Aggregator Info:
//!  \tAggregator ID: .. \tNumber of ports: .. \tActor Key: .. \tPartner Key: ..
//!  \tPartner Mac Address: <mac>]
//!
//! Slave Interface: <name>                         <- per member, preceded by a blank line
//! MII Status: up|going down|down|going back
//! Speed: <n> Mbps | Speed: Unknown
//! Duplex: full|half|Unknown
//! Link Failure Count: <n>
//! Permanent HW addr: <mac>
//! Slave queue ID: <n>
//! [Aggregator ID: <n>                             <- 802.3ad only; "Aggregator ID: N/A" and
//!  Actor Churn State: monitoring|churned|none        nothing else when not in an aggregator
//!  Partner Churn State: ..
//!  Actor Churned Count: <n>
//!  Partner Churned Count: <n>
//!  details actor lacp pdu:                        <- CAP_NET_ADMIN readers only
//!      system priority / system mac address / port key / port priority / port number / port state
//!  details partner lacp pdu:
//!      system priority / system mac address / oper key / port priority / port number / port state]
//! ```
//!
//! The file ends right after the last member's last line (no trailing blank
//! line).  The kernel never prints `arp_validate` / `arp_all_targets`; they
//! are carried in the snapshot for the JSON form only.
//!
//! # Differences between kernel versions (observed)
//!
//! * Header: old drivers and RHEL 7/8 print `v3.7.1 (April 27, 2011)`
//!   (older still `v3.2.4 (January 28, 2008)`, ...); mainline since 5.x
//!   prints `v<uname -r>`, e.g. `v6.8.0-142-generic`.  The caller passes the
//!   whole version string, including the leading `v`.
//! * `Peer Notification Delay (ms)` was added in 5.3 (absent in a real 4.15
//!   Ubuntu capture, present in RHEL 8's 4.18 through a backport).
//! * `LACP active:` was added in 5.15 (absent in RHEL 8 captures).
//! * `ARP Missed Max:` was added in 5.18, `NS IPv6 target/s` in 5.19.
//! * 3.x kernels printed `Speed: %d Mbps` and `Duplex: full|half` even for
//!   unknown values, printed the per-slave `Aggregator ID` *before*
//!   `Slave queue ID`, and had neither churn lines, `Min links`,
//!   `System priority`/`System MAC address` nor the `details ... lacp pdu`
//!   blocks.  2.6 kernels had no `Speed`/`Duplex`/`Slave queue ID` lines.
//! * Vendor kernels add lines (e.g. `Slave active:`, `Slave sm_vars:`,
//!   `Aggregator active:`); those are not mainline and not reproduced.
//! * Readers without `CAP_NET_ADMIN` do not see `System priority`,
//!   `System MAC address`, the active aggregator block and the per-member
//!   LACPDU details; see [`ProcOptions::privileged`].
//! * Newest kernels know the `ad_select` value `actor_port_prio`.

pub use crate::lacp::LacpStats;
use crate::options::{
    AdSelect, ArpAllTargets, ArpValidate, FailOverMac, LacpRate, Mode, OptionEnum, PrimaryReselect,
    XmitHashPolicy,
};
use dataplane::wire::MacAddr;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

// ---------------------------------------------------------------------------
// Small value types
// ---------------------------------------------------------------------------

/// The JSON form of a [`MacAddr`], for `#[serde(with)]`: the kernel's
/// `%pM` text (lower-case hex, colon separated); reading accepts what
/// [`MacAddr::parse_loose`] does.
pub mod mac_serde {
    use dataplane::wire::MacAddr;
    use serde::Deserialize;

    pub fn serialize<S: serde::Serializer>(m: &MacAddr, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(m)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<MacAddr, D::Error> {
        let s = String::deserialize(d)?;
        MacAddr::parse_loose(&s)
            .ok_or_else(|| serde::de::Error::custom(format_args!("invalid MAC address {s:?}")))
    }
}

/// Formats an IPv6 address exactly like the kernel's `%pI6c`
/// (`ip6_compressed_string`): RFC 5952 style — lower-case hex without
/// leading zeros, the first longest run of two or more zero groups becomes
/// `::`, and IPv4-mapped (`::ffff:a.b.c.d`) and ISATAP (`..:5efe:a.b.c.d`)
/// addresses end in dotted quad.
pub fn ipv6_compressed(addr: &Ipv6Addr) -> String {
    let w = addr.segments();
    let o = addr.octets();
    let v4mapped = w[..5].iter().all(|&x| x == 0) && w[5] == 0xffff;
    let isatap = (w[4] | 0x0200) == 0x0200 && w[5] == 0x5efe;
    let use_v4 = v4mapped || isatap;
    let groups = if use_v4 { 6 } else { 8 };

    // first longest run of >= 2 zero groups
    let mut best_start = usize::MAX;
    let mut best_len = 1usize;
    let mut i = 0;
    while i < groups {
        if w[i] == 0 {
            let start = i;
            while i < groups && w[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_len = i - start;
                best_start = start;
            }
        } else {
            i += 1;
        }
    }

    let mut out = String::with_capacity(40);
    let mut need_colon = false;
    let mut i = 0;
    while i < groups {
        if i == best_start {
            if need_colon || i == 0 {
                out.push(':');
            }
            out.push(':');
            need_colon = false;
            i += best_len;
            continue;
        }
        if need_colon {
            out.push(':');
        }
        let _ = write!(out, "{:x}", w[i]);
        need_colon = true;
        i += 1;
    }
    if use_v4 {
        if need_colon {
            out.push(':');
        }
        let _ = write!(out, "{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    }
    out
}

// ---------------------------------------------------------------------------
// Kernel option enums (number + name, like sysfs "active-backup 1")
// ---------------------------------------------------------------------------

/// Serialized form of a kernel bonding option value: both the number and
/// the kernel's option string.  When deserializing either may be omitted,
/// but if both are given they must agree.
///
/// The snapshot holds the option enums of [`crate::options`] (and the data
/// plane's [`XmitHashPolicy`]); this is their JSON form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl OptionValue {
    /// The form of `v`: its number and its name.
    pub fn of<T: OptionEnum>(v: T) -> OptionValue {
        OptionValue {
            // Every kernel option number is tiny.
            number: u32::try_from(v.value()).ok(),
            name: Some(v.name().to_string()),
        }
    }

    /// The value this form stands for; `label` names the type in errors.
    pub fn resolve<T: OptionEnum>(&self, label: &str) -> Result<T, String> {
        let by_num = match self.number {
            Some(n) => {
                Some(T::from_value(n.into()).ok_or_else(|| format!("unknown {label} number {n}"))?)
            }
            None => None,
        };
        let by_name = match self.name.as_deref() {
            Some(s) => Some(T::from_name(s).ok_or_else(|| format!("unknown {label} name {s:?}"))?),
            None => None,
        };
        match (by_num, by_name) {
            (Some(a), Some(b)) if a != b => Err(format!(
                "{label} number {} does not match name {:?}",
                a.value(),
                b.name()
            )),
            (Some(a), _) | (None, Some(a)) => Ok(a),
            (None, None) => Err(format!("{label}: number or name required")),
        }
    }
}

/// Implements `Serialize` / `Deserialize` through [`OptionValue`] for the
/// option enums; the label names the type in deserialization errors.
macro_rules! option_value_serde {
    ($($ty:ty => $label:literal),+ $(,)?) => {$(
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                OptionValue::of(*self).serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                OptionValue::deserialize(d)?
                    .resolve($label)
                    .map_err(serde::de::Error::custom)
            }
        }
    )+};
}

option_value_serde! {
    Mode => "BondMode",
    PrimaryReselect => "PrimaryReselect",
    FailOverMac => "FailOverMac",
    ArpValidate => "ArpValidate",
    ArpAllTargets => "ArpAllTargets",
    LacpRate => "LacpRate",
    AdSelect => "AdSelect",
}

/// [`OptionValue`] form of the data plane's [`XmitHashPolicy`], for
/// `#[serde(with)]` (the enum is defined in another crate).
mod xmit_hash_policy_serde {
    use super::{OptionValue, XmitHashPolicy};
    use serde::{Deserialize, Serialize};

    pub fn serialize<S: serde::Serializer>(p: &XmitHashPolicy, s: S) -> Result<S::Ok, S::Error> {
        OptionValue::of(*p).serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<XmitHashPolicy, D::Error> {
        OptionValue::deserialize(d)?
            .resolve("XmitHashPolicy")
            .map_err(serde::de::Error::custom)
    }
}

/// Carrier state of the bond itself (`MII Status:` in the master part).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Up,
    #[default]
    Down,
}

impl LinkStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Up => "up",
            LinkStatus::Down => "down",
        }
    }
}

/// A member's link monitor state (kernel `BOND_LINK_*`,
/// printed by `bond_slave_link_status()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberLink {
    /// `BOND_LINK_UP`: "up"
    Up,
    /// `BOND_LINK_FAIL` (down, downdelay running): "going down"
    GoingDown,
    /// `BOND_LINK_DOWN`: "down"
    #[default]
    Down,
    /// `BOND_LINK_BACK` (up, updelay running): "going back"
    GoingBack,
}

impl MemberLink {
    pub const fn as_str(self) -> &'static str {
        match self {
            MemberLink::Up => "up",
            MemberLink::GoingDown => "going down",
            MemberLink::Down => "down",
            MemberLink::GoingBack => "going back",
        }
    }
}

/// Member duplex.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duplex {
    Full,
    Half,
    #[default]
    Unknown,
}

impl Duplex {
    /// Text on the procfs `Duplex:` line.
    pub const fn proc_str(self) -> &'static str {
        match self {
            Duplex::Full => "full",
            Duplex::Half => "half",
            Duplex::Unknown => "Unknown",
        }
    }
}

/// 802.3ad churn detection state (kernel `bond_3ad_churn_desc()`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChurnState {
    /// `AD_CHURN_MONITOR`: "monitoring"
    #[default]
    #[serde(rename = "monitoring")]
    Monitoring,
    /// `AD_CHURN`: "churned"
    #[serde(rename = "churned")]
    Churned,
    /// `AD_NO_CHURN`: "none"
    #[serde(rename = "none")]
    NoChurn,
}

impl ChurnState {
    pub const fn as_str(self) -> &'static str {
        match self {
            ChurnState::Monitoring => "monitoring",
            ChurnState::Churned => "churned",
            ChurnState::NoChurn => "none",
        }
    }
}

// ---------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------

/// Everything `/proc/net/bonding/<bond>` shows about one bond, as plain data.
///
/// Times are in milliseconds as printed.  (The kernel stores up/down/peer
/// notification delays as multiples of `miimon` and prints the product;
/// bondd should store the already-rounded millisecond values here.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BondSnapshot {
    /// Bond name, e.g. `bond0` (used by `bond <name> has no active aggregator`).
    pub name: String,
    pub mode: Mode,
    #[serde(with = "xmit_hash_policy_serde")]
    pub xmit_hash_policy: XmitHashPolicy,
    /// `tlb_dynamic_lb` (default true).  When false in balance-tlb (or alb),
    /// the kernel also prints the `Transmit Hash Policy:` line.
    #[serde(default = "default_true")]
    pub tlb_dynamic_lb: bool,
    /// The current primary *member* (kernel `bond->primary_slave`), i.e. the
    /// configured primary only if it is enslaved; `None` prints `None`.
    pub primary: Option<String>,
    pub primary_reselect: PrimaryReselect,
    /// `None` prints `None`.
    pub currently_active: Option<String>,
    /// Carrier of the bond.
    pub mii_status: LinkStatus,
    pub miimon_ms: u32,
    pub updelay_ms: u32,
    pub downdelay_ms: u32,
    pub peer_notif_delay_ms: u32,
    /// 0 disables the ARP monitor (and its lines).
    pub arp_interval_ms: u32,
    pub arp_missed_max: u32,
    pub arp_ip_targets: Vec<Ipv4Addr>,
    pub ns_ip6_targets: Vec<Ipv6Addr>,
    pub arp_validate: ArpValidate,
    pub arp_all_targets: ArpAllTargets,
    pub fail_over_mac: FailOverMac,
    /// 802.3ad bond-wide state; only used in mode 802.3ad (kernel defaults
    /// are rendered if it is missing there).
    pub lacp: Option<LacpSnapshot>,
    pub members: Vec<MemberSnapshot>,
}

fn default_true() -> bool {
    true
}

/// Bond-wide 802.3ad information.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LacpSnapshot {
    /// `lacp_active` (on by default).
    pub lacp_active: bool,
    pub lacp_rate: LacpRate,
    pub min_links: u32,
    pub ad_select: AdSelect,
    /// `ad_actor_sys_prio` (65535 by default).
    pub system_priority: u16,
    /// `ad_actor_system`, or the bond's MAC.
    #[serde(with = "mac_serde")]
    pub system_mac: MacAddr,
    /// `None` prints `bond <name> has no active aggregator`.
    pub active_aggregator: Option<AggregatorInfo>,
    /// The bond's LACP counters (`ip -s link xstats type bond dev <bond>`): the sum over
    /// its members, members that left included. JSON only: /proc does not show them.
    #[serde(default)]
    pub counters: LacpStats,
}

impl Default for LacpSnapshot {
    fn default() -> Self {
        LacpSnapshot {
            lacp_active: true,
            lacp_rate: LacpRate::Slow,
            min_links: 0,
            ad_select: AdSelect::Stable,
            system_priority: 65535,
            system_mac: MacAddr::ZERO,
            active_aggregator: None,
            counters: LacpStats::default(),
        }
    }
}

/// The active aggregator (kernel `struct ad_info`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregatorInfo {
    pub id: u16,
    pub num_ports: u16,
    pub actor_key: u16,
    pub partner_key: u16,
    #[serde(with = "mac_serde")]
    pub partner_mac: MacAddr,
}

/// One member ("slave") of a bond.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSnapshot {
    pub name: String,
    pub mii_status: MemberLink,
    /// `None` prints `Speed: Unknown`.
    pub speed_mbps: Option<u32>,
    pub duplex: Duplex,
    pub link_failure_count: u32,
    #[serde(with = "mac_serde")]
    pub perm_hwaddr: MacAddr,
    pub queue_id: u16,
    /// 802.3ad per-port state; in mode 802.3ad `None` (or an
    /// `aggregator_id` of `None`) prints `Aggregator ID: N/A`.
    pub ad: Option<MemberAdSnapshot>,
}

/// Per-member 802.3ad state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAdSnapshot {
    /// The aggregator this port is attached to; `None` prints
    /// `Aggregator ID: N/A` and hides the rest of the block.
    pub aggregator_id: Option<u16>,
    pub actor_churn_state: ChurnState,
    pub partner_churn_state: ChurnState,
    pub actor_churned_count: u32,
    pub partner_churned_count: u32,
    /// `details actor lacp pdu:` (the key is the actor oper port key).
    pub actor: LacpduDetails,
    /// `details partner lacp pdu:` (the key is printed as `oper key`).
    pub partner: LacpduDetails,
    /// The member's LACP counters (`ip -s link xstats type bond_slave`). JSON only.
    #[serde(default)]
    pub counters: LacpStats,
}

/// One side of the LACPDU details block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LacpduDetails {
    pub system_priority: u16,
    #[serde(with = "mac_serde")]
    pub system_mac: MacAddr,
    pub key: u16,
    pub port_priority: u16,
    pub port_number: u16,
    /// LACP state bits (activity=1, timeout=2, aggregation=4, sync=8,
    /// collecting=16, distributing=32, defaulted=64, expired=128).
    pub port_state: u8,
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// What kind of reader the text is rendered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcOptions {
    /// The kernel shows `System priority`, `System MAC address`, the active
    /// aggregator block and the per-member `details ... lacp pdu` blocks
    /// only to readers with `CAP_NET_ADMIN`.  bondd's file is the root view
    /// by default.
    pub privileged: bool,
    /// Kernels built with `CONFIG_IPV6` (all distribution kernels since
    /// 5.19) print the `NS IPv6 target/s` line after the ARP targets.
    pub ipv6: bool,
}

impl Default for ProcOptions {
    fn default() -> Self {
        ProcOptions {
            privileged: true,
            ipv6: true,
        }
    }
}

/// Renders the `/proc/net/bonding/<bond>` text as root sees it on a current
/// mainline kernel.  `driver_version` is inserted verbatim after
/// `Ethernet Channel Bonding Driver: ` (the kernel prints `v` + `uname -r`,
/// e.g. `v6.8.0-142-generic`).
pub fn render_proc(s: &BondSnapshot, driver_version: &str) -> String {
    render_proc_with(s, driver_version, &ProcOptions::default())
}

/// [`render_proc`] with explicit reader options.
pub fn render_proc_with(s: &BondSnapshot, driver_version: &str, opts: &ProcOptions) -> String {
    let mut out = String::with_capacity(512 + 640 * s.members.len());
    // bond_version itself ends with '\n' and is printed with "%s\n".
    let _ = write!(out, "Ethernet Channel Bonding Driver: {driver_version}\n\n");
    render_master(&mut out, s, opts);
    for m in &s.members {
        render_member(&mut out, s, m, opts);
    }
    out
}

/// Renders the snapshot as pretty-printed JSON.
pub fn render_json(s: &BondSnapshot) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(s)
}

/// Whether the `Transmit Hash Policy:` line is printed
/// (kernel `bond_mode_uses_xmit_hash()`).
pub fn shows_xmit_hash_policy(s: &BondSnapshot) -> bool {
    matches!(s.mode, Mode::BalanceXor | Mode::Ieee8023ad) || (s.mode.is_lb() && !s.tlb_dynamic_lb)
}

fn render_master(out: &mut String, s: &BondSnapshot, opts: &ProcOptions) {
    let _ = write!(out, "Bonding Mode: {}", s.mode.proc_name());
    if s.mode == Mode::ActiveBackup && s.fail_over_mac != FailOverMac::None {
        let _ = write!(out, " (fail_over_mac {})", s.fail_over_mac.name());
    }
    out.push('\n');

    if shows_xmit_hash_policy(s) {
        let _ = writeln!(
            out,
            "Transmit Hash Policy: {}",
            s.xmit_hash_policy.proc_text()
        );
    }

    if s.mode.uses_primary() {
        let _ = write!(
            out,
            "Primary Slave: {}",
            s.primary.as_deref().unwrap_or("None")
        );
        if s.primary.is_some() {
            let _ = write!(out, " (primary_reselect {})", s.primary_reselect.name());
        }
        let _ = writeln!(
            out,
            "\nCurrently Active Slave: {}",
            s.currently_active.as_deref().unwrap_or("None")
        );
    }

    let _ = writeln!(out, "MII Status: {}", s.mii_status.as_str());
    let _ = writeln!(out, "MII Polling Interval (ms): {}", s.miimon_ms);
    let _ = writeln!(out, "Up Delay (ms): {}", s.updelay_ms);
    let _ = writeln!(out, "Down Delay (ms): {}", s.downdelay_ms);
    let _ = writeln!(
        out,
        "Peer Notification Delay (ms): {}",
        s.peer_notif_delay_ms
    );

    if s.arp_interval_ms > 0 {
        let _ = writeln!(out, "ARP Polling Interval (ms): {}", s.arp_interval_ms);
        let _ = writeln!(out, "ARP Missed Max: {}", s.arp_missed_max);
        out.push_str("ARP IP target/s (n.n.n.n form):");
        // The kernel stops at the first empty slot and holds at most 16.
        for (i, t) in s
            .arp_ip_targets
            .iter()
            .take_while(|t| !t.is_unspecified())
            .take(16)
            .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, " {t}");
        }
        out.push('\n');
        if opts.ipv6 {
            out.push_str("NS IPv6 target/s (xx::xx form):");
            for (i, t) in s
                .ns_ip6_targets
                .iter()
                .take_while(|t| !t.is_unspecified())
                .take(16)
                .enumerate()
            {
                if i > 0 {
                    out.push(',');
                }
                out.push(' ');
                out.push_str(&ipv6_compressed(t));
            }
            out.push('\n');
        }
    }

    if s.mode == Mode::Ieee8023ad {
        let default_lacp = LacpSnapshot::default();
        let l = s.lacp.as_ref().unwrap_or(&default_lacp);
        out.push_str("\n802.3ad info\n");
        let _ = writeln!(
            out,
            "LACP active: {}",
            if l.lacp_active { "on" } else { "off" }
        );
        let _ = writeln!(out, "LACP rate: {}", l.lacp_rate.name());
        let _ = writeln!(out, "Min links: {}", l.min_links);
        let _ = writeln!(
            out,
            "Aggregator selection policy (ad_select): {}",
            l.ad_select.name()
        );
        if opts.privileged {
            let _ = writeln!(out, "System priority: {}", l.system_priority);
            let _ = writeln!(out, "System MAC address: {}", l.system_mac);
            match &l.active_aggregator {
                None => {
                    let _ = writeln!(out, "bond {} has no active aggregator", s.name);
                }
                Some(a) => {
                    out.push_str("Active Aggregator Info:\n");
                    let _ = writeln!(out, "\tAggregator ID: {}", a.id);
                    let _ = writeln!(out, "\tNumber of ports: {}", a.num_ports);
                    let _ = writeln!(out, "\tActor Key: {}", a.actor_key);
                    let _ = writeln!(out, "\tPartner Key: {}", a.partner_key);
                    let _ = writeln!(out, "\tPartner Mac Address: {}", a.partner_mac);
                }
            }
        }
    }
}

fn render_member(out: &mut String, s: &BondSnapshot, m: &MemberSnapshot, opts: &ProcOptions) {
    let _ = writeln!(out, "\nSlave Interface: {}", m.name);
    let _ = writeln!(out, "MII Status: {}", m.mii_status.as_str());
    match m.speed_mbps {
        Some(v) => {
            let _ = writeln!(out, "Speed: {v} Mbps");
        }
        None => out.push_str("Speed: Unknown\n"),
    }
    let _ = writeln!(out, "Duplex: {}", m.duplex.proc_str());
    let _ = writeln!(out, "Link Failure Count: {}", m.link_failure_count);
    let _ = writeln!(out, "Permanent HW addr: {}", m.perm_hwaddr);
    let _ = writeln!(out, "Slave queue ID: {}", m.queue_id);

    if s.mode != Mode::Ieee8023ad {
        return;
    }
    let ad = match m.ad {
        Some(ad) => ad,
        None => {
            out.push_str("Aggregator ID: N/A\n");
            return;
        }
    };
    let Some(agg) = ad.aggregator_id else {
        out.push_str("Aggregator ID: N/A\n");
        return;
    };
    let _ = writeln!(out, "Aggregator ID: {agg}");
    let _ = writeln!(out, "Actor Churn State: {}", ad.actor_churn_state.as_str());
    let _ = writeln!(
        out,
        "Partner Churn State: {}",
        ad.partner_churn_state.as_str()
    );
    let _ = writeln!(out, "Actor Churned Count: {}", ad.actor_churned_count);
    let _ = writeln!(out, "Partner Churned Count: {}", ad.partner_churned_count);
    if opts.privileged {
        render_pdu(out, "actor", "port key", &ad.actor);
        render_pdu(out, "partner", "oper key", &ad.partner);
    }
}

fn render_pdu(out: &mut String, who: &str, key_label: &str, p: &LacpduDetails) {
    let _ = writeln!(out, "details {who} lacp pdu:");
    let _ = writeln!(out, "    system priority: {}", p.system_priority);
    let _ = writeln!(out, "    system mac address: {}", p.system_mac);
    let _ = writeln!(out, "    {key_label}: {}", p.key);
    let _ = writeln!(out, "    port priority: {}", p.port_priority);
    let _ = writeln!(out, "    port number: {}", p.port_number);
    let _ = writeln!(out, "    port state: {}", p.port_state);
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> MacAddr {
        match s.parse() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    fn member(name: &str, hw: &str) -> MemberSnapshot {
        MemberSnapshot {
            name: name.to_string(),
            mii_status: MemberLink::Up,
            speed_mbps: Some(1000),
            duplex: Duplex::Full,
            link_failure_count: 0,
            perm_hwaddr: mac(hw),
            queue_id: 0,
            ad: None,
        }
    }

    fn base(mode: Mode) -> BondSnapshot {
        BondSnapshot {
            name: "bond0".to_string(),
            mode,
            tlb_dynamic_lb: true,
            mii_status: LinkStatus::Up,
            miimon_ms: 100,
            ..BondSnapshot::default()
        }
    }

    /// Shows the first differing line on failure.
    #[track_caller]
    fn assert_text(got: &str, want: &str) {
        if got != want {
            let g: Vec<&str> = got.split('\n').collect();
            let w: Vec<&str> = want.split('\n').collect();
            for i in 0..g.len().max(w.len()) {
                let (a, b) = (g.get(i), w.get(i));
                if a != b {
                    panic!(
                        "text differs at line {}:\n  got:  {:?}\n  want: {:?}\n--- full got ---\n{}",
                        i + 1,
                        a,
                        b,
                        got
                    );
                }
            }
            panic!("texts differ (line structure identical?)\n{got}");
        }
    }

    // ---- golden tests against real captures -------------------------------

    /// Real capture, Ubuntu kernel 6.8.0-142-generic, read as root
    /// (a lab write-up in the public code index: "What the bond says about
    /// itself", sw1 with members e1/e2).  Current mainline layout.
    const REAL_8023AD_V6_8_ROOT: &str = "Ethernet Channel Bonding Driver: v6.8.0-142-generic

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer2+3 (2)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

802.3ad info
LACP active: on
LACP rate: fast
Min links: 0
Aggregator selection policy (ad_select): stable
System priority: 65535
System MAC address: 02:1d:22:fd:7e:72
Active Aggregator Info:
\tAggregator ID: 1
\tNumber of ports: 2
\tActor Key: 15
\tPartner Key: 15
\tPartner Mac Address: 02:fc:ce:91:32:14

Slave Interface: e1
MII Status: up
Speed: 10000 Mbps
Duplex: full
Link Failure Count: 1
Permanent HW addr: 02:1d:22:fd:7e:72
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: monitoring
Partner Churn State: monitoring
Actor Churned Count: 0
Partner Churned Count: 0
details actor lacp pdu:
    system priority: 65535
    system mac address: 02:1d:22:fd:7e:72
    port key: 15
    port priority: 255
    port number: 1
    port state: 63
details partner lacp pdu:
    system priority: 65535
    system mac address: 02:fc:ce:91:32:14
    oper key: 15
    port priority: 255
    port number: 1
    port state: 63

Slave Interface: e2
MII Status: up
Speed: 10000 Mbps
Duplex: full
Link Failure Count: 1
Permanent HW addr: 02:ce:7c:39:59:d3
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: monitoring
Partner Churn State: monitoring
Actor Churned Count: 0
Partner Churned Count: 0
details actor lacp pdu:
    system priority: 65535
    system mac address: 02:1d:22:fd:7e:72
    port key: 15
    port priority: 255
    port number: 2
    port state: 63
details partner lacp pdu:
    system priority: 65535
    system mac address: 02:fc:ce:91:32:14
    oper key: 15
    port priority: 255
    port number: 2
    port state: 63
";

    fn lab_8023ad_v6_8() -> BondSnapshot {
        let sys = mac("02:1d:22:fd:7e:72");
        let partner = mac("02:fc:ce:91:32:14");
        let ad = |port: u16| MemberAdSnapshot {
            counters: LacpStats::default(),
            aggregator_id: Some(1),
            actor_churn_state: ChurnState::Monitoring,
            partner_churn_state: ChurnState::Monitoring,
            actor_churned_count: 0,
            partner_churned_count: 0,
            actor: LacpduDetails {
                system_priority: 65535,
                system_mac: sys,
                key: 15,
                port_priority: 255,
                port_number: port,
                port_state: 63,
            },
            partner: LacpduDetails {
                system_priority: 65535,
                system_mac: partner,
                key: 15,
                port_priority: 255,
                port_number: port,
                port_state: 63,
            },
        };
        let mut e1 = member("e1", "02:1d:22:fd:7e:72");
        let mut e2 = member("e2", "02:ce:7c:39:59:d3");
        for (m, p) in [(&mut e1, 1), (&mut e2, 2)] {
            m.speed_mbps = Some(10000);
            m.link_failure_count = 1;
            m.ad = Some(ad(p));
        }
        BondSnapshot {
            xmit_hash_policy: XmitHashPolicy::Layer23,
            lacp: Some(LacpSnapshot {
                counters: LacpStats::default(),
                lacp_active: true,
                lacp_rate: LacpRate::Fast,
                min_links: 0,
                ad_select: AdSelect::Stable,
                system_priority: 65535,
                system_mac: sys,
                active_aggregator: Some(AggregatorInfo {
                    id: 1,
                    num_ports: 2,
                    actor_key: 15,
                    partner_key: 15,
                    partner_mac: partner,
                }),
            }),
            members: vec![e1, e2],
            ..base(Mode::Ieee8023ad)
        }
    }

    #[test]
    fn golden_8023ad_v6_8_root() {
        let got = render_proc(&lab_8023ad_v6_8(), "v6.8.0-142-generic");
        assert_text(&got, REAL_8023AD_V6_8_ROOT);
    }

    /// Real capture, Alpine kernel 5.15.16-0-lts, read without
    /// CAP_NET_ADMIN (a Chinese-language notes file in the public code
    /// index, section "/proc/net/bonding/bond0").
    const REAL_8023AD_V5_15_USER: &str = "Ethernet Channel Bonding Driver: v5.15.16-0-lts

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer2 (0)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

802.3ad info
LACP active: on
LACP rate: slow
Min links: 0
Aggregator selection policy (ad_select): stable

Slave Interface: eth0
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 74:00:11:22:33:40
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0

Slave Interface: eth1
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 74:00:11:22:33:41
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0

Slave Interface: eth2
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 74:00:11:22:33:42
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0

Slave Interface: eth3
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 74:00:11:22:33:43
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0
";

    #[test]
    fn golden_8023ad_v5_15_unprivileged() {
        let members = (0..4)
            .map(|i| {
                let mut m = member(&format!("eth{i}"), &format!("74:00:11:22:33:4{i}"));
                m.ad = Some(MemberAdSnapshot {
                    aggregator_id: Some(1),
                    actor_churn_state: ChurnState::NoChurn,
                    partner_churn_state: ChurnState::NoChurn,
                    ..MemberAdSnapshot::default()
                });
                m
            })
            .collect();
        let s = BondSnapshot {
            xmit_hash_policy: XmitHashPolicy::Layer2,
            lacp: Some(LacpSnapshot::default()),
            members,
            ..base(Mode::Ieee8023ad)
        };
        let user = ProcOptions {
            privileged: false,
            ipv6: true,
        };
        assert_text(
            &render_proc_with(&s, "v5.15.16-0-lts", &user),
            REAL_8023AD_V5_15_USER,
        );
        // And the privileged view differs exactly by the root-only lines.
        let root = render_proc(&s, "v5.15.16-0-lts");
        assert!(root.contains(
            "stable\nSystem priority: 65535\nSystem MAC address: 00:00:00:00:00:00\n\
             bond bond0 has no active aggregator\n\nSlave Interface: eth0\n"
        ));
    }

    /// Real capture, RHEL 9.4 kernel 5.14.0-427.13.1.el9_4 (mainline layout
    /// through backports), unprivileged, Vagrant lab "inetRouter".
    const REAL_8023AD_RHEL9_USER: &str =
        "Ethernet Channel Bonding Driver: v5.14.0-427.13.1.el9_4.x86_64

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer3+4 (1)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

802.3ad info
LACP active: on
LACP rate: fast
Min links: 0
Aggregator selection policy (ad_select): stable

Slave Interface: eth1
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 08:00:27:1b:2c:55
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0

Slave Interface: eth2
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 08:00:27:63:49:47
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0
";

    #[test]
    fn golden_8023ad_rhel9_unprivileged() {
        let ad = MemberAdSnapshot {
            aggregator_id: Some(1),
            actor_churn_state: ChurnState::NoChurn,
            partner_churn_state: ChurnState::NoChurn,
            ..MemberAdSnapshot::default()
        };
        let mut a = member("eth1", "08:00:27:1b:2c:55");
        let mut b = member("eth2", "08:00:27:63:49:47");
        a.ad = Some(ad);
        b.ad = Some(ad);
        let s = BondSnapshot {
            xmit_hash_policy: XmitHashPolicy::Layer34,
            lacp: Some(LacpSnapshot {
                lacp_rate: LacpRate::Fast,
                ..LacpSnapshot::default()
            }),
            members: vec![a, b],
            ..base(Mode::Ieee8023ad)
        };
        let user = ProcOptions {
            privileged: false,
            ipv6: true,
        };
        assert_text(
            &render_proc_with(&s, "v5.14.0-427.13.1.el9_4.x86_64", &user),
            REAL_8023AD_RHEL9_USER,
        );
    }

    /// Real capture, RHEL 8 kernel (4.18 + backports, version string still
    /// `v3.7.1 (April 27, 2011)`), as root, from a Chinese blog post on
    /// 100G bonding.  RHEL 8 predates the 5.15 `LACP active:` line; apart
    /// from that it is the mainline layout.
    const REAL_8023AD_RHEL8_ROOT: &str = "Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer3+4 (1)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

802.3ad info
LACP rate: slow
Min links: 0
Aggregator selection policy (ad_select): stable
System priority: 65535
System MAC address: 9c:63:c0:0b:37:4e
Active Aggregator Info:
\tAggregator ID: 5
\tNumber of ports: 2
\tActor Key: 29
\tPartner Key: 2897
\tPartner Mac Address: 3c:c7:86:87:8a:21

Slave Interface: enp1s0f0
MII Status: up
Speed: 100000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 9c:63:c0:0b:37:4e
Slave queue ID: 0
Aggregator ID: 5
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 1
details actor lacp pdu:
    system priority: 65535
    system mac address: 9c:63:c0:0b:37:4e
    port key: 29
    port priority: 255
    port number: 1
    port state: 61
details partner lacp pdu:
    system priority: 32768
    system mac address: 3c:c7:86:87:8a:21
    oper key: 2897
    port priority: 32768
    port number: 1
    port state: 61

Slave Interface: enp1s0f1
MII Status: up
Speed: 100000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 9c:63:c0:0b:37:4f
Slave queue ID: 0
Aggregator ID: 5
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 1
Partner Churned Count: 1
details actor lacp pdu:
    system priority: 65535
    system mac address: 9c:63:c0:0b:37:4e
    port key: 29
    port priority: 255
    port number: 2
    port state: 61
details partner lacp pdu:
    system priority: 32768
    system mac address: 3c:c7:86:87:8a:21
    oper key: 2897
    port priority: 32768
    port number: 2
    port state: 61
";

    #[test]
    fn golden_8023ad_rhel8_root_differs_only_by_lacp_active() {
        let sys = mac("9c:63:c0:0b:37:4e");
        let peer = mac("3c:c7:86:87:8a:21");
        let ad = |port: u16, actor_churned: u32| MemberAdSnapshot {
            counters: LacpStats::default(),
            aggregator_id: Some(5),
            actor_churn_state: ChurnState::NoChurn,
            partner_churn_state: ChurnState::NoChurn,
            actor_churned_count: actor_churned,
            partner_churned_count: 1,
            actor: LacpduDetails {
                system_priority: 65535,
                system_mac: sys,
                key: 29,
                port_priority: 255,
                port_number: port,
                port_state: 61,
            },
            partner: LacpduDetails {
                system_priority: 32768,
                system_mac: peer,
                key: 2897,
                port_priority: 32768,
                port_number: port,
                port_state: 61,
            },
        };
        let mut a = member("enp1s0f0", "9c:63:c0:0b:37:4e");
        let mut b = member("enp1s0f1", "9c:63:c0:0b:37:4f");
        a.speed_mbps = Some(100000);
        b.speed_mbps = Some(100000);
        a.ad = Some(ad(1, 0));
        b.ad = Some(ad(2, 1));
        let s = BondSnapshot {
            xmit_hash_policy: XmitHashPolicy::Layer34,
            lacp: Some(LacpSnapshot {
                system_mac: sys,
                active_aggregator: Some(AggregatorInfo {
                    id: 5,
                    num_ports: 2,
                    actor_key: 29,
                    partner_key: 2897,
                    partner_mac: peer,
                }),
                ..LacpSnapshot::default()
            }),
            members: vec![a, b],
            ..base(Mode::Ieee8023ad)
        };
        let got = render_proc(&s, "v3.7.1 (April 27, 2011)");
        assert!(got.contains("\n802.3ad info\nLACP active: on\nLACP rate: slow\n"));
        assert_text(
            &got.replacen("LACP active: on\n", "", 1),
            REAL_8023AD_RHEL8_ROOT,
        );
    }

    /// Real capture, RHEL 9.4 kernel 5.14.0-427.64.1.el9_4 (an nmstate-style
    /// "Interface Bond" doc), active-backup with both members down.
    const REAL_AB_RHEL9_DOWN: &str =
        "Ethernet Channel Bonding Driver: v5.14.0-427.64.1.el9_4.x86_64

Bonding Mode: fault-tolerance (active-backup)
Primary Slave: None
Currently Active Slave: None
MII Status: down
MII Polling Interval (ms): 140
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

Slave Interface: eno1
MII Status: down
Speed: Unknown
Duplex: Unknown
Link Failure Count: 0
Permanent HW addr: aa:aa:aa:aa:aa:aa
Slave queue ID: 0

Slave Interface: eno2
MII Status: down
Speed: Unknown
Duplex: Unknown
Link Failure Count: 0
Permanent HW addr: bb:bb:bb:bb:bb:bb
Slave queue ID: 0
";

    #[test]
    fn golden_active_backup_rhel9_all_down() {
        let down = |n: &str, hw: &str| MemberSnapshot {
            mii_status: MemberLink::Down,
            speed_mbps: None,
            duplex: Duplex::Unknown,
            ..member(n, hw)
        };
        let s = BondSnapshot {
            mii_status: LinkStatus::Down,
            miimon_ms: 140,
            members: vec![
                down("eno1", "aa:aa:aa:aa:aa:aa"),
                down("eno2", "bb:bb:bb:bb:bb:bb"),
            ],
            ..base(Mode::ActiveBackup)
        };
        assert_text(
            &render_proc(&s, "v5.14.0-427.64.1.el9_4.x86_64"),
            REAL_AB_RHEL9_DOWN,
        );
    }

    /// Real capture, RHEL 8 (4.18 with the 5.3 peer-notification backport;
    /// old version string), Korean iSCSI migration notes.
    const REAL_AB_RHEL8: &str = "Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)

Bonding Mode: fault-tolerance (active-backup)
Primary Slave: None
Currently Active Slave: ens5f0
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

Slave Interface: ens5f0
MII Status: up
Speed: 25000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: ec:e7:a7:0d:ac:f0
Slave queue ID: 0

Slave Interface: ens6f1
MII Status: up
Speed: 25000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: ec:e7:a7:0d:a2:b1
Slave queue ID: 0
";

    #[test]
    fn golden_active_backup_rhel8() {
        let mut a = member("ens5f0", "ec:e7:a7:0d:ac:f0");
        let mut b = member("ens6f1", "ec:e7:a7:0d:a2:b1");
        a.speed_mbps = Some(25000);
        b.speed_mbps = Some(25000);
        let s = BondSnapshot {
            currently_active: Some("ens5f0".into()),
            members: vec![a, b],
            ..base(Mode::ActiveBackup)
        };
        assert_text(&render_proc(&s, "v3.7.1 (April 27, 2011)"), REAL_AB_RHEL8);
    }

    /// Real capture posted to netdev by Jarod Wilson (RHEL 8 test kernel
    /// 4.18.0-272, balance-xor, no members yet) while developing the
    /// vlan+srcmac policy.  In that prototype the policy was called
    /// `vlansrc`; mainline merged it as `vlan+srcmac` (value 5), so that one
    /// word is substituted below.
    const REAL_XOR_RHEL8_NO_MEMBERS: &str =
        "Ethernet Channel Bonding Driver: v4.18.0-272.el8.vstx.x86_64

Bonding Mode: load balancing (xor)
Transmit Hash Policy: vlansrc (5)
MII Status: down
MII Polling Interval (ms): 0
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0
";

    #[test]
    fn golden_balance_xor_rhel8_no_members() {
        let s = BondSnapshot {
            xmit_hash_policy: XmitHashPolicy::VlanSrcMac,
            mii_status: LinkStatus::Down,
            miimon_ms: 0,
            ..base(Mode::BalanceXor)
        };
        let want = REAL_XOR_RHEL8_NO_MEMBERS.replace("vlansrc (5)", "vlan+srcmac (5)");
        assert_text(&render_proc(&s, "v4.18.0-272.el8.vstx.x86_64"), &want);
    }

    /// Real capture, Ubuntu 18.04 kernel 4.15.0-72 (linux-rdma mailing
    /// list bug report), balance-xor with 200 ms up/down delays.  4.15
    /// predates `Peer Notification Delay (ms)` (added in 5.3): mainline
    /// output minus that line must equal the capture.
    const REAL_XOR_4_15: &str = "Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)

Bonding Mode: load balancing (xor)
Transmit Hash Policy: layer2 (0)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 200
Down Delay (ms): 200

Slave Interface: enp1s0f1
MII Status: up
Speed: 10000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 00:1b:21:bc:6e:7d
Slave queue ID: 0

Slave Interface: enp1s0f0
MII Status: up
Speed: 10000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 00:1b:21:bc:6e:7c
Slave queue ID: 0
";

    #[test]
    fn golden_balance_xor_4_15_differs_only_by_peer_notif_line() {
        let mut a = member("enp1s0f1", "00:1b:21:bc:6e:7d");
        let mut b = member("enp1s0f0", "00:1b:21:bc:6e:7c");
        a.speed_mbps = Some(10000);
        b.speed_mbps = Some(10000);
        let s = BondSnapshot {
            updelay_ms: 200,
            downdelay_ms: 200,
            members: vec![a, b],
            ..base(Mode::BalanceXor)
        };
        let got = render_proc(&s, "v3.7.1 (April 27, 2011)");
        assert!(got.contains("Down Delay (ms): 200\nPeer Notification Delay (ms): 0\n\n"));
        assert_text(
            &got.replacen("Peer Notification Delay (ms): 0\n", "", 1),
            REAL_XOR_4_15,
        );
    }

    /// Lines checked by NetworkManager's CI against a real kernel
    /// (`NS IPv6 target/s (xx::xx form):.*2001:dead:beef::, 2000:acdc:1234:6600::`),
    /// and the target list shape of an old active-backup capture
    /// (`ARP IP target/s (n.n.n.n form): 169.254.144.20, 169.254.144.21`).
    #[test]
    fn arp_and_ns_target_lines_match_real_output() {
        let s = BondSnapshot {
            arp_interval_ms: 100,
            arp_missed_max: 200,
            miimon_ms: 0,
            arp_ip_targets: vec![
                Ipv4Addr::new(10, 16, 135, 254),
                Ipv4Addr::new(10, 16, 135, 253),
            ],
            ns_ip6_targets: vec![
                "2001:dead:beef::".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
                "2000:acdc:1234:6600::"
                    .parse()
                    .unwrap_or(Ipv6Addr::UNSPECIFIED),
            ],
            ..base(Mode::ActiveBackup)
        };
        let got = render_proc(&s, "v6.1");
        assert!(got.contains(
            "Peer Notification Delay (ms): 0\n\
             ARP Polling Interval (ms): 100\n\
             ARP Missed Max: 200\n\
             ARP IP target/s (n.n.n.n form): 10.16.135.254, 10.16.135.253\n\
             NS IPv6 target/s (xx::xx form): 2001:dead:beef::, 2000:acdc:1234:6600::\n"
        ));
        let s2 = BondSnapshot {
            arp_interval_ms: 1000,
            arp_ip_targets: vec![
                Ipv4Addr::new(169, 254, 144, 20),
                Ipv4Addr::new(169, 254, 144, 21),
            ],
            ..base(Mode::ActiveBackup)
        };
        assert!(
            render_proc(&s2, "v6.1")
                .contains("\nARP IP target/s (n.n.n.n form): 169.254.144.20, 169.254.144.21\n")
        );
    }

    // ---- one test per mode --------------------------------------------------

    #[test]
    fn mode0_balance_rr() {
        let s = BondSnapshot {
            members: vec![member("eth0", "52:54:00:00:00:01")],
            ..base(Mode::BalanceRr)
        };
        assert_text(
            &render_proc(&s, "v6.12.0"),
            "Ethernet Channel Bonding Driver: v6.12.0

Bonding Mode: load balancing (round-robin)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

Slave Interface: eth0
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:00:00:01
Slave queue ID: 0
",
        );
    }

    #[test]
    fn mode1_active_backup_primary_fail_over_mac_arp() {
        let mut b = member("eth1", "52:54:00:00:00:02");
        b.mii_status = MemberLink::GoingBack;
        b.link_failure_count = 3;
        b.queue_id = 2;
        b.duplex = Duplex::Half;
        b.speed_mbps = Some(100);
        let s = BondSnapshot {
            primary: Some("eth0".into()),
            primary_reselect: PrimaryReselect::Better,
            currently_active: Some("eth0".into()),
            fail_over_mac: FailOverMac::Active,
            xmit_hash_policy: XmitHashPolicy::Layer34, // not shown in this mode
            miimon_ms: 0,
            updelay_ms: 0,
            peer_notif_delay_ms: 0,
            arp_interval_ms: 250,
            arp_missed_max: 2,
            arp_ip_targets: vec![Ipv4Addr::new(192, 0, 2, 1)],
            ns_ip6_targets: vec![],
            arp_validate: ArpValidate::All, // never printed
            members: vec![member("eth0", "52:54:00:00:00:01"), b],
            ..base(Mode::ActiveBackup)
        };
        assert_text(
            &render_proc(&s, "v6.12.0"),
            "Ethernet Channel Bonding Driver: v6.12.0

Bonding Mode: fault-tolerance (active-backup) (fail_over_mac active)
Primary Slave: eth0 (primary_reselect better)
Currently Active Slave: eth0
MII Status: up
MII Polling Interval (ms): 0
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0
ARP Polling Interval (ms): 250
ARP Missed Max: 2
ARP IP target/s (n.n.n.n form): 192.0.2.1
NS IPv6 target/s (xx::xx form):

Slave Interface: eth0
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:00:00:01
Slave queue ID: 0

Slave Interface: eth1
MII Status: going back
Speed: 100 Mbps
Duplex: half
Link Failure Count: 3
Permanent HW addr: 52:54:00:00:00:02
Slave queue ID: 2
",
        );
        // Without CONFIG_IPV6 the NS line disappears.
        let no6 = ProcOptions {
            privileged: true,
            ipv6: false,
        };
        assert!(
            render_proc_with(&s, "v6.12.0", &no6)
                .contains("ARP IP target/s (n.n.n.n form): 192.0.2.1\n\nSlave Interface: eth0\n")
        );
    }

    #[test]
    fn mode2_balance_xor() {
        let mut b = member("eth1", "52:54:00:00:00:02");
        b.mii_status = MemberLink::GoingDown;
        let s = BondSnapshot {
            xmit_hash_policy: XmitHashPolicy::Encap34,
            fail_over_mac: FailOverMac::Follow, // only shown in active-backup
            primary: Some("eth0".into()),       // not a primary mode
            updelay_ms: 200,
            downdelay_ms: 300,
            peer_notif_delay_ms: 400,
            members: vec![member("eth0", "52:54:00:00:00:01"), b],
            ..base(Mode::BalanceXor)
        };
        assert_text(
            &render_proc(&s, "v6.12.0"),
            "Ethernet Channel Bonding Driver: v6.12.0

Bonding Mode: load balancing (xor)
Transmit Hash Policy: encap3+4 (4)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 200
Down Delay (ms): 300
Peer Notification Delay (ms): 400

Slave Interface: eth0
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:00:00:01
Slave queue ID: 0

Slave Interface: eth1
MII Status: going down
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:00:00:02
Slave queue ID: 0
",
        );
    }

    #[test]
    fn mode3_broadcast_with_arp_and_no_members() {
        let s = BondSnapshot {
            arp_interval_ms: 1000,
            arp_missed_max: 2,
            arp_ip_targets: vec![
                Ipv4Addr::new(10, 0, 0, 1),
                Ipv4Addr::new(10, 0, 0, 2),
                Ipv4Addr::UNSPECIFIED, // the kernel stops at the first empty slot
                Ipv4Addr::new(10, 0, 0, 3),
            ],
            ns_ip6_targets: vec![
                "fe80::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
                "::ffff:192.0.2.7".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
            ],
            mii_status: LinkStatus::Down,
            miimon_ms: 0,
            ..base(Mode::Broadcast)
        };
        assert_text(
            &render_proc(&s, "v6.12.0"),
            "Ethernet Channel Bonding Driver: v6.12.0

Bonding Mode: fault-tolerance (broadcast)
MII Status: down
MII Polling Interval (ms): 0
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0
ARP Polling Interval (ms): 1000
ARP Missed Max: 2
ARP IP target/s (n.n.n.n form): 10.0.0.1, 10.0.0.2
NS IPv6 target/s (xx::xx form): fe80::1, ::ffff:192.0.2.7
",
        );
    }

    #[test]
    fn mode4_8023ad_no_active_aggregator_and_unattached_member() {
        let mut attached = member("eth0", "52:54:00:00:00:01");
        attached.speed_mbps = Some(25000);
        attached.ad = Some(MemberAdSnapshot {
            counters: LacpStats::default(),
            aggregator_id: Some(2),
            actor_churn_state: ChurnState::Churned,
            partner_churn_state: ChurnState::Monitoring,
            actor_churned_count: 4,
            partner_churned_count: 5,
            actor: LacpduDetails {
                system_priority: 100,
                system_mac: mac("52:54:00:00:00:01"),
                key: 21,
                port_priority: 255,
                port_number: 1,
                port_state: 69,
            },
            partner: LacpduDetails {
                system_priority: 65535,
                system_mac: MacAddr::ZERO,
                key: 1,
                port_priority: 255,
                port_number: 1,
                port_state: 1,
            },
        });
        let mut no_agg = member("eth1", "52:54:00:00:00:02");
        no_agg.mii_status = MemberLink::Down;
        no_agg.ad = Some(MemberAdSnapshot {
            aggregator_id: None,
            ..MemberAdSnapshot::default()
        });
        let mut no_ad = member("eth2", "52:54:00:00:00:03");
        no_ad.ad = None;
        let s = BondSnapshot {
            name: "bond7".into(),
            xmit_hash_policy: XmitHashPolicy::Layer34,
            lacp: Some(LacpSnapshot {
                counters: LacpStats::default(),
                lacp_active: false,
                lacp_rate: LacpRate::Fast,
                min_links: 2,
                ad_select: AdSelect::Bandwidth,
                system_priority: 100,
                system_mac: mac("52:54:00:00:00:01"),
                active_aggregator: None,
            }),
            members: vec![attached, no_agg, no_ad],
            ..base(Mode::Ieee8023ad)
        };
        let want_root = "Ethernet Channel Bonding Driver: v6.12.0

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer3+4 (1)
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

802.3ad info
LACP active: off
LACP rate: fast
Min links: 2
Aggregator selection policy (ad_select): bandwidth
System priority: 100
System MAC address: 52:54:00:00:00:01
bond bond7 has no active aggregator

Slave Interface: eth0
MII Status: up
Speed: 25000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:00:00:01
Slave queue ID: 0
Aggregator ID: 2
Actor Churn State: churned
Partner Churn State: monitoring
Actor Churned Count: 4
Partner Churned Count: 5
details actor lacp pdu:
    system priority: 100
    system mac address: 52:54:00:00:00:01
    port key: 21
    port priority: 255
    port number: 1
    port state: 69
details partner lacp pdu:
    system priority: 65535
    system mac address: 00:00:00:00:00:00
    oper key: 1
    port priority: 255
    port number: 1
    port state: 1

Slave Interface: eth1
MII Status: down
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:00:00:02
Slave queue ID: 0
Aggregator ID: N/A

Slave Interface: eth2
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:00:00:03
Slave queue ID: 0
Aggregator ID: N/A
";
        assert_text(&render_proc(&s, "v6.12.0"), want_root);

        // Unprivileged: root-only lines vanish, nothing else changes.
        let user = ProcOptions {
            privileged: false,
            ipv6: true,
        };
        let want_user: String = want_root
            .split_inclusive('\n')
            .filter(|l| {
                !(l.starts_with("System ")
                    || l.starts_with("bond bond7 has")
                    || l.starts_with("details ")
                    || l.starts_with("    "))
            })
            .collect();
        assert_text(&render_proc_with(&s, "v6.12.0", &user), &want_user);
    }

    #[test]
    fn mode4_8023ad_without_lacp_snapshot_uses_kernel_defaults() {
        let s = BondSnapshot {
            lacp: None,
            ..base(Mode::Ieee8023ad)
        };
        let got = render_proc(&s, "v6.12.0");
        assert!(got.ends_with(
            "\n802.3ad info\nLACP active: on\nLACP rate: slow\nMin links: 0\n\
             Aggregator selection policy (ad_select): stable\nSystem priority: 65535\n\
             System MAC address: 00:00:00:00:00:00\nbond bond0 has no active aggregator\n"
        ));
        // and a LACP snapshot is ignored in other modes
        let s = BondSnapshot {
            lacp: Some(LacpSnapshot::default()),
            ..base(Mode::BalanceXor)
        };
        assert!(!render_proc(&s, "v").contains("802.3ad"));
    }

    #[test]
    fn mode5_balance_tlb() {
        let mut s = BondSnapshot {
            primary: None,
            currently_active: Some("eth1".into()),
            xmit_hash_policy: XmitHashPolicy::Layer23,
            members: vec![member("eth1", "52:54:00:00:00:02")],
            ..base(Mode::BalanceTlb)
        };
        let dynamic = "Ethernet Channel Bonding Driver: v6.12.0

Bonding Mode: transmit load balancing
Primary Slave: None
Currently Active Slave: eth1
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

Slave Interface: eth1
MII Status: up
Speed: 1000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 52:54:00:00:00:02
Slave queue ID: 0
";
        assert_text(&render_proc(&s, "v6.12.0"), dynamic);
        // tlb_dynamic_lb=0 makes the kernel hash, and show the policy.
        s.tlb_dynamic_lb = false;
        let static_lb = dynamic.replace(
            "transmit load balancing\n",
            "transmit load balancing\nTransmit Hash Policy: layer2+3 (2)\n",
        );
        assert_text(&render_proc(&s, "v6.12.0"), &static_lb);
    }

    #[test]
    fn mode6_balance_alb() {
        let s = BondSnapshot {
            primary: Some("eth0".into()),
            primary_reselect: PrimaryReselect::Failure,
            currently_active: None,
            fail_over_mac: FailOverMac::Active, // active-backup only
            mii_status: LinkStatus::Down,
            members: vec![MemberSnapshot {
                mii_status: MemberLink::Down,
                speed_mbps: None,
                duplex: Duplex::Unknown,
                link_failure_count: u32::MAX,
                queue_id: 65535,
                ..member("eth0", "52:54:00:00:00:01")
            }],
            ..base(Mode::BalanceAlb)
        };
        assert_text(
            &render_proc(&s, "v6.12.0"),
            "Ethernet Channel Bonding Driver: v6.12.0

Bonding Mode: adaptive load balancing
Primary Slave: eth0 (primary_reselect failure)
Currently Active Slave: None
MII Status: down
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

Slave Interface: eth0
MII Status: down
Speed: Unknown
Duplex: Unknown
Link Failure Count: 4294967295
Permanent HW addr: 52:54:00:00:00:01
Slave queue ID: 65535
",
        );
    }

    // ---- helpers, enums, JSON ------------------------------------------------

    #[test]
    fn mode_names_and_numbers() {
        let want = [
            (0, "balance-rr", "load balancing (round-robin)"),
            (1, "active-backup", "fault-tolerance (active-backup)"),
            (2, "balance-xor", "load balancing (xor)"),
            (3, "broadcast", "fault-tolerance (broadcast)"),
            (4, "802.3ad", "IEEE 802.3ad Dynamic link aggregation"),
            (5, "balance-tlb", "transmit load balancing"),
            (6, "balance-alb", "adaptive load balancing"),
        ];
        assert_eq!(Mode::ALL.len(), want.len());
        for (n, name, long) in want {
            let m = Mode::from_value(n);
            assert_eq!(m.map(Mode::name), Some(name));
            assert_eq!(m.map(Mode::proc_name), Some(long));
            assert_eq!(Mode::from_name(name), m);
        }
        assert_eq!(Mode::from_value(7), None);
        let hp: Vec<(u64, &str)> = XmitHashPolicy::ALL
            .iter()
            .map(|p| (p.value(), p.name()))
            .collect();
        assert_eq!(
            hp,
            [
                (0, "layer2"),
                (1, "layer3+4"),
                (2, "layer2+3"),
                (3, "encap2+3"),
                (4, "encap3+4"),
                (5, "vlan+srcmac")
            ]
        );
    }

    #[test]
    fn mac_parse_and_format() {
        let m = mac("0A:1b:2C:3d:4E:5f");
        assert_eq!(m.to_string(), "0a:1b:2c:3d:4e:5f");
        assert_eq!(
            "00-11-22-33-44-55".parse::<MacAddr>().map(|m| m.0[5]),
            Ok(0x55)
        );
        for bad in [
            "",
            "00:11:22:33:44",
            "00:11:22:33:44:55:66",
            "0:11:22:33:44:55",
            "zz:11:22:33:44:55",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_compressed_matches_kernel_pi6c() {
        let cases = [
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), // first of equal runs
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), // single 0 kept
            ("2001:0db8:0000:0000:0000:0000:0000:0000", "2001:db8::"),
            ("0:0:0:0:0:0:0:1", "::1"),
            ("fe80:0:0:0:0:0:0:1", "fe80::1"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), // longest wins
            ("::ffff:10.1.2.3", "::ffff:10.1.2.3"),
            ("fe80::5efe:192.0.2.1", "fe80::5efe:192.0.2.1"), // ISATAP
            ("fe80::200:5efe:c000:201", "fe80::200:5efe:192.0.2.1"), // ISATAP, global id
            ("ABCD:EF01:0:0:0:0:0:0a", "abcd:ef01::a"),
        ];
        for (input, want) in cases {
            let a: Ipv6Addr = match input.parse() {
                Ok(a) => a,
                Err(e) => panic!("{input}: {e}"),
            };
            assert_eq!(ipv6_compressed(&a), want, "{input}");
        }
    }

    #[test]
    fn json_round_trip_and_shape() {
        let s = lab_8023ad_v6_8();
        let json = match render_json(&s) {
            Ok(j) => j,
            Err(e) => panic!("{e}"),
        };
        assert!(json.contains("\"mode\": {\n    \"number\": 4,\n    \"name\": \"802.3ad\"\n  }"));
        assert!(json.contains("\"system_mac\": \"02:1d:22:fd:7e:72\""));
        assert!(json.contains("\"actor_churn_state\": \"monitoring\""));
        let back: BondSnapshot = match serde_json::from_str(&json) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(back, s);
        assert_eq!(
            render_proc(&back, "v6.8.0-142-generic"),
            REAL_8023AD_V6_8_ROOT
        );
    }

    #[test]
    fn option_value_deserialization_rules() {
        let ok: Result<Mode, _> = serde_json::from_str(r#"{"name":"balance-alb"}"#);
        assert_eq!(ok.ok(), Some(Mode::BalanceAlb));
        let ok: Result<Mode, _> = serde_json::from_str(r#"{"number":1}"#);
        assert_eq!(ok.ok(), Some(Mode::ActiveBackup));
        let mismatch: Result<Mode, _> = serde_json::from_str(r#"{"number":1,"name":"802.3ad"}"#);
        assert!(mismatch.is_err());
        let unknown: Result<AdSelect, _> = serde_json::from_str(r#"{"number":9}"#);
        assert!(unknown.is_err());
        let empty: Result<LacpRate, _> = serde_json::from_str("{}");
        assert!(empty.is_err());
    }
}
