//! Errors and warnings produced while parsing and validating options.

use std::fmt;

/// Why an option setting was refused.  Every variant names the option and
/// the offending value, says what is wrong and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// The option name is not a Linux bonding option (nor a bondd one).
    #[error("unknown option '{name}'{}", suggestion_text(.suggestion))]
    UnknownOption {
        /// The name as given.
        name: String,
        /// A known option whose name is close to the one given.
        suggestion: Option<&'static str>,
    },

    /// The value is not one the option accepts.
    #[error("option '{option}': invalid value '{value}' (expected {expected})")]
    InvalidValue {
        /// Option name.
        option: &'static str,
        /// Value as given.
        value: String,
        /// Description of the accepted values.
        expected: String,
    },

    /// A number outside the option's range.
    #[error("option '{option}': value {value} out of range {min}..={max}")]
    OutOfRange {
        /// Option name.
        option: &'static str,
        /// Value as given.
        value: String,
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },

    /// An interface-valued option names something that is not a member.
    #[error(
        "option '{option}': '{value}' is not a member of this bond (members: {})",
        member_list(.members)
    )]
    NotAMember {
        /// Option name.
        option: &'static str,
        /// Interface named.
        value: String,
        /// The bond's members.
        members: Vec<String>,
    },

    /// The value is well-formed but not allowed here (cross-option rules,
    /// target table rules, ...).
    #[error("option '{option}': value '{value}' refused: {reason}")]
    Refused {
        /// Option name.
        option: &'static str,
        /// Value as given (or the current value for cross-option rules).
        value: String,
        /// What is wrong and what to do instead.
        reason: String,
    },

    /// A `name=value` setting that could not even be split.
    #[error("option '{option}': malformed setting '{text}': {reason}")]
    Malformed {
        /// Option name as far as it could be read.
        option: String,
        /// The setting text.
        text: String,
        /// What is wrong.
        reason: String,
    },
}

impl OptionError {
    /// The option the error is about (as given for unknown options).
    pub fn option(&self) -> &str {
        match self {
            OptionError::UnknownOption { name, .. } => name,
            OptionError::InvalidValue { option, .. }
            | OptionError::OutOfRange { option, .. }
            | OptionError::NotAMember { option, .. }
            | OptionError::Refused { option, .. } => option,
            OptionError::Malformed { option, .. } => option,
        }
    }

    pub(crate) fn refused(option: &'static str, value: impl fmt::Display, reason: String) -> Self {
        OptionError::Refused {
            option,
            value: value.to_string(),
            reason,
        }
    }
}

fn suggestion_text(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    }
}

fn member_list(members: &[String]) -> String {
    if members.is_empty() {
        "none".to_string()
    } else {
        members.join(", ")
    }
}

/// Category of a [`Warning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarningKind {
    /// The option is set but does nothing in the bond's mode.
    NoEffectInMode,
    /// The option is set but does nothing because another option is off.
    NoEffect,
    /// updelay/downdelay/peer_notif_delay rounded down to a multiple of miimon.
    DelayRounded,
    /// Neither the MII nor the ARP monitor runs.
    NoLinkMonitoring,
    /// The ARP monitor runs without any target.
    NoArpTargets,
    /// Obsolete setting kept for compatibility.
    Obsolete,
    /// A module-load parameter given for a single bond.
    ModuleParameter,
    /// `min_links` larger than the number of members.
    MinLinksUnreachable,
}

/// Something accepted but probably not what the operator meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Option the warning is about.
    pub option: &'static str,
    /// Category.
    pub kind: WarningKind,
    /// Human-readable explanation.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(option: &'static str, kind: WarningKind, message: String) -> Self {
        Warning {
            option,
            kind,
            message,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "option '{}': {}", self.option, self.message)
    }
}
