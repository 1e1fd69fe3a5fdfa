//! Typed values of the named bonding options and the mode set used by the
//! option metadata.

use std::fmt;
use std::str::FromStr;

pub use dataplane::hash::XmitHashPolicy;
pub use dataplane::wire::MacAddr;

use super::OptionError;
use super::table::{OptionId, spec};

/// An enum-valued bonding option: the values with their Linux names and
/// numbers.  Implemented by every enum declared here and by the data plane's
/// [`XmitHashPolicy`] (which the hash implementation owns).
pub trait OptionEnum: Copy + Eq + 'static {
    /// The option this enum is the value of.
    const OPTION: OptionId;

    /// Every value, in the order of the Linux value table.
    fn all() -> &'static [Self];

    /// The Linux name of this value.
    fn name(self) -> &'static str;

    /// The Linux number of this value.
    fn value(self) -> u64;

    /// Looks a value up by its Linux number.
    fn from_value(value: u64) -> Option<Self>;

    /// Looks a value up by its exact Linux name (no numbers, no `default`).
    fn from_name(name: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.name() == name)
    }

    /// Parses `raw` through the option table, so that it accepts exactly
    /// what the option accepts (names, numbers and the `default` keyword).
    fn parse_option(raw: &str) -> Result<Self, OptionError> {
        let spec = spec(Self::OPTION);
        let number = spec.parse_number(raw)?;
        Self::from_value(number).ok_or_else(|| spec.invalid(raw))
    }
}

impl OptionEnum for XmitHashPolicy {
    const OPTION: OptionId = OptionId::XmitHashPolicy;

    fn all() -> &'static [Self] {
        &XmitHashPolicy::ALL
    }

    fn name(self) -> &'static str {
        XmitHashPolicy::name(self)
    }

    fn value(self) -> u64 {
        XmitHashPolicy::value(self)
    }

    fn from_value(value: u64) -> Option<Self> {
        XmitHashPolicy::from_value(value)
    }
}

/// Declares an enum whose variants carry the Linux name and number of a
/// bonding option value, with its [`OptionEnum`] impl.  Parsing (`FromStr`)
/// is [`OptionEnum::parse_option`]: through the option table.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $name:ident, option = $id:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, $text:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order of the Linux value table.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Linux name of this value.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// The Linux number of this value.
            pub const fn value(self) -> u64 {
                match self { $($name::$variant => $value,)+ }
            }

            /// Looks a value up by its Linux number.
            pub const fn from_value(value: u64) -> Option<Self> {
                match value { $($value => Some($name::$variant),)+ _ => None }
            }
        }

        impl OptionEnum for $name {
            const OPTION: OptionId = OptionId::$id;

            fn all() -> &'static [Self] {
                Self::ALL
            }

            fn name(self) -> &'static str {
                $name::name(self)
            }

            fn value(self) -> u64 {
                $name::value(self)
            }

            fn from_value(value: u64) -> Option<Self> {
                $name::from_value(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $name {
            type Err = OptionError;

            fn from_str(s: &str) -> Result<Self, OptionError> {
                Self::parse_option(s)
            }
        }
    };
}

named_enum! {
    /// Bonding mode (`mode`).
    Mode, option = Mode {
        #[default]
        BalanceRr = 0, "balance-rr";
        ActiveBackup = 1, "active-backup";
        BalanceXor = 2, "balance-xor";
        Broadcast = 3, "broadcast";
        Ieee8023ad = 4, "802.3ad";
        BalanceTlb = 5, "balance-tlb";
        BalanceAlb = 6, "balance-alb";
    }
}

impl Mode {
    /// Modes in which the ARP/NS monitor may run (Linux refuses it in
    /// 802.3ad, balance-tlb and balance-alb).
    pub const fn uses_arp(self) -> bool {
        !matches!(self, Mode::Ieee8023ad | Mode::BalanceTlb | Mode::BalanceAlb)
    }

    /// Modes that have a single active member and therefore honour
    /// `primary` and `active_slave` (kernel `bond_mode_uses_primary()`).
    pub const fn uses_primary(self) -> bool {
        matches!(
            self,
            Mode::ActiveBackup | Mode::BalanceTlb | Mode::BalanceAlb
        )
    }

    /// balance-tlb or balance-alb (kernel `bond_is_lb()`).
    pub const fn is_lb(self) -> bool {
        matches!(self, Mode::BalanceTlb | Mode::BalanceAlb)
    }

    /// The descriptive name printed on the `Bonding Mode:` line of
    /// `/proc/net/bonding/<bond>` (kernel `bond_mode_name()`).
    pub const fn proc_name(self) -> &'static str {
        match self {
            Mode::BalanceRr => "load balancing (round-robin)",
            Mode::ActiveBackup => "fault-tolerance (active-backup)",
            Mode::BalanceXor => "load balancing (xor)",
            Mode::Broadcast => "fault-tolerance (broadcast)",
            Mode::Ieee8023ad => "IEEE 802.3ad Dynamic link aggregation",
            Mode::BalanceTlb => "transmit load balancing",
            Mode::BalanceAlb => "adaptive load balancing",
        }
    }

    const fn bit(self) -> u8 {
        1u8 << (self.value() as u32)
    }
}

named_enum! {
    /// ARP validation and filtering (`arp_validate`).
    ArpValidate, option = ArpValidate {
        #[default]
        None = 0, "none";
        Active = 1, "active";
        Backup = 2, "backup";
        All = 3, "all";
        Filter = 4, "filter";
        FilterActive = 5, "filter_active";
        FilterBackup = 6, "filter_backup";
    }
}

named_enum! {
    /// How many ARP targets must answer (`arp_all_targets`).
    ArpAllTargets, option = ArpAllTargets {
        #[default]
        Any = 0, "any";
        All = 1, "all";
    }
}

named_enum! {
    /// MAC address policy on failover (`fail_over_mac`).
    FailOverMac, option = FailOverMac {
        #[default]
        None = 0, "none";
        Active = 1, "active";
        Follow = 2, "follow";
    }
}

named_enum! {
    /// When a recovered primary becomes active again (`primary_reselect`).
    PrimaryReselect, option = PrimaryReselect {
        #[default]
        Always = 0, "always";
        Better = 1, "better";
        Failure = 2, "failure";
    }
}

named_enum! {
    /// LACPDU rate requested from the partner (`lacp_rate`).
    LacpRate, option = LacpRate {
        #[default]
        Slow = 0, "slow";
        Fast = 1, "fast";
    }
}

named_enum! {
    /// Aggregator selection policy (`ad_select`).
    AdSelect, option = AdSelect {
        #[default]
        Stable = 0, "stable";
        Bandwidth = 1, "bandwidth";
        Count = 2, "count";
        ActorPortPrio = 3, "actor_port_prio";
    }
}

/// A set of bonding modes (the modes an option has an effect in).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModeSet(u8);

impl ModeSet {
    /// Every mode.
    pub const ALL: ModeSet = ModeSet(0x7f);

    /// The set holding exactly `modes`.
    pub const fn of(modes: &[Mode]) -> ModeSet {
        let mut bits = 0u8;
        let mut i = 0;
        while i < modes.len() {
            bits |= modes[i].bit();
            i += 1;
        }
        ModeSet(bits)
    }

    /// Whether `mode` is in the set.
    pub const fn contains(self, mode: Mode) -> bool {
        self.0 & mode.bit() != 0
    }

    /// Whether the set holds every mode.
    pub const fn is_all(self) -> bool {
        self.0 == Self::ALL.0
    }

    /// The modes in the set, in Linux number order.
    pub fn iter(self) -> impl Iterator<Item = Mode> {
        Mode::ALL.iter().copied().filter(move |m| self.contains(*m))
    }
}

impl fmt::Display for ModeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all modes");
        }
        let names: Vec<&str> = self.iter().map(Mode::name).collect();
        f.write_str(&names.join(", "))
    }
}

impl fmt::Debug for ModeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModeSet({self})")
    }
}
