//! The shell's command grammar: text in, typed [`Command`] out.
//!
//! The commands mirror DPDK testpmd's bonding commands, word for word and in testpmd's
//! argument order, with both the old `slave` and the new `member` spelling, plus what Linux
//! bonding has and testpmd lacks (`set bonding option`, `set bonding active`,
//! `show bonding status|events|list`). Ports and bonds are given by number or by name.
//!
//! Everything is driven by one table, [`COMMANDS`]: each entry lists the command's words
//! (keywords and typed placeholders), whether it takes `--json`, its help text and how it
//! builds its [`Command`]. [`parse`], [`help`] and [`complete`] all read that table, and usage
//! lines are derived from it, so the three cannot disagree.
//!
//! The module is pure: no I/O, no global state, and no input makes it panic.

use std::fmt;

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// A port or bond as the operator wrote it: a DPDK port number or a name.
///
/// A word of decimal digits only is a number; anything else is a name, which the caller
/// resolves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Index(u16),
    Name(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Index(i) => write!(f, "{i}"),
            Target::Name(n) => f.write_str(n),
        }
    }
}

/// `all` or one port, as in `show port stats all|<port>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortSel {
    All,
    One(Target),
}

/// Forwarding mode of `set fwd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FwdMode {
    /// Frames forwarded untouched.
    Io,
    /// Source MAC rewritten to the egress port's.
    Mac,
}

/// One parsed shell command.
///
/// Modes, hash policies and aggregator selection policies are the canonical Linux names
/// (`active-backup`, `layer3+4`, `bandwidth`, ...), so the caller can hand them to its option
/// parser, which checks them once more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `create bonding device <mode> <socket>`
    CreateBond { mode: String, socket: u32 },
    /// `add bonding member|slave <port> <bond>`
    AddMember { port: Target, bond: Target },
    /// `remove bonding member|slave <port> <bond>`
    RemoveMember { port: Target, bond: Target },
    /// `set bonding mode <mode> <bond>`
    SetMode { mode: String, bond: Target },
    /// `set bonding primary <port> <bond>`
    SetPrimary { port: Target, bond: Target },
    /// `set bonding balance_xmit_policy <bond> <policy>` (Linux `xmit_hash_policy`)
    SetXmitPolicy { bond: Target, policy: String },
    /// `set bonding mon_period <bond> <ms>` (Linux `miimon`)
    SetMonPeriod { bond: Target, ms: u32 },
    /// `set bonding mac_addr <bond> <mac>`
    SetMacAddr { bond: Target, mac: [u8; 6] },
    /// `set bonding agg_mode <bond> count|stable|bandwidth` (Linux `ad_select`)
    SetAggMode { bond: Target, agg_mode: String },
    /// `set bonding lacp dedicated_queues <bond> enable|disable`
    SetDedicatedQueues { bond: Target, enable: bool },
    /// `set bonding option <bond> <linux-option> <value>`; `value` is the rest of the line.
    SetOption {
        bond: Target,
        option: String,
        value: String,
    },
    /// `set bonding active <bond> <member>` (Linux `active_slave`)
    SetActive { bond: Target, member: Target },
    /// `send bonding marker <bond> <member>`: an 802.3ad Marker Information PDU (the Marker
    /// Generator), answered by the partner's Marker Responder.
    SendMarker { bond: Target, member: Target },
    /// `show bonding config <bond> [--json]`
    ShowBondConfig { bond: Target, json: bool },
    /// `show bonding lacp info <bond> [--json]`
    ShowLacpInfo { bond: Target, json: bool },
    /// `show bonding status <bond> [--json]`: the `/proc/net/bonding/<bond>` text
    ShowBondStatus { bond: Target, json: bool },
    /// `show bonding events <bond> [<count>] [--json]`
    ShowBondEvents {
        bond: Target,
        count: Option<u32>,
        json: bool,
    },
    /// `show bonding list [--json]`
    ShowBondList { json: bool },
    /// `show port info all|<port> [--json]`
    ShowPortInfo { port: PortSel, json: bool },
    /// `show port stats all|<port> [--json]`
    ShowPortStats { port: PortSel, json: bool },
    /// `show port summary all|<port> [--json]`
    ShowPortSummary { port: PortSel, json: bool },
    /// `show port xstats all|<port> [--json]`
    ShowPortXstats { port: PortSel, json: bool },
    /// `clear port stats all|<port>`
    ClearPortStats { port: PortSel },
    /// `set link-up port <port>`
    SetLinkUp { port: Target },
    /// `set link-down port <port>`
    SetLinkDown { port: Target },
    /// `start`
    Start,
    /// `stop`
    Stop,
    /// `set fwd io|mac`
    SetFwd { mode: FwdMode },
    /// `add forward <from> <to>`: a one-way forwarding path (a config `[[forward]]` with
    /// `bidirectional = false`).
    AddForward { from: Target, to: Target },
    /// `remove forward <from> <to>`
    RemoveForward { from: Target, to: Target },
    /// `show config fwd [--json]`: the forwarding mode and paths (testpmd's name).
    ShowFwd { json: bool },
    /// `quit` or `exit`
    Quit,
    /// `help [<command words>]`; the topic is known to be valid for [`help`].
    Help { topic: Option<String> },
}

/// Names the completer offers, supplied by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Bond names.
    pub bonds: Vec<String>,
    /// Member port names.
    pub members: Vec<String>,
    /// Port names.
    pub ports: Vec<String>,
    /// Linux bonding option names.
    pub options: Vec<String>,
}

/// What is wrong with a command line. The message says what and shows the usage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// The words do not start any command.
    #[error("unknown command \"{line}\"{}{}", did_you_mean(.suggestion), usage_lines(.usage))]
    UnknownCommand {
        line: String,
        /// The keyword nearest to the first unknown word.
        suggestion: Option<String>,
        /// Usage of the commands sharing the words that were recognised (none when the first
        /// word is unknown).
        usage: Vec<String>,
    },
    /// The line stops before the command's keywords are complete (`show bonding`).
    #[error("incomplete command \"{line}\": expected {}{}", one_of(.expected), usage_lines(.usage))]
    Incomplete {
        line: String,
        /// Keywords that may come next.
        expected: Vec<String>,
        /// Usage of the commands the line may be the start of.
        usage: Vec<String>,
    },
    /// A known command with a missing, extra or malformed argument.
    #[error("{command}: {problem}\nusage: {usage}")]
    BadArgument {
        /// The command's keywords as typed (`add bonding slave`).
        command: String,
        problem: String,
        usage: String,
    },
    /// `help` on words that name no command.
    #[error("no help for \"{topic}\"{}", did_you_mean(.suggestion))]
    UnknownTopic {
        topic: String,
        suggestion: Option<String>,
    },
}

fn did_you_mean(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean \"{s}\"?)"),
        None => String::new(),
    }
}

fn usage_lines(usage: &[String]) -> String {
    usage.iter().map(|u| format!("\nusage: {u}")).collect()
}

fn one_of(words: &[String]) -> String {
    match words {
        [one] => format!("\"{one}\""),
        _ => format!(
            "one of {}",
            words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// Canonical Linux mode names, indexed by mode number.
const MODES: [&str; 7] = [
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
];
/// testpmd's hash policy names and the Linux names they stand for.
const POLICY_ALIASES: [(&str, &str); 3] =
    [("l2", "layer2"), ("l23", "layer2+3"), ("l34", "layer3+4")];
/// Linux transmit hash policies.
const POLICIES: [&str; 6] = [
    "layer2",
    "layer2+3",
    "layer3+4",
    "encap2+3",
    "encap3+4",
    "vlan+srcmac",
];
/// Aggregator selection policies (testpmd `agg_mode`, Linux `ad_select`).
const AGG_MODES: [&str; 3] = ["count", "stable", "bandwidth"];
/// The trailing flag every `show` command accepts.
const JSON_FLAG: &str = "--json";

/// What a placeholder accepts; decides how its word is parsed, described and completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A bond: number or name. Completes bond names.
    Bond,
    /// A port to become a member: number or name. Completes port names.
    Port,
    /// Any port, bonds included. Completes port and bond names.
    AnyPort,
    /// A member port. Completes member names.
    Member,
    /// `all` or any port. Completes `all`, port and bond names.
    PortOrAll,
    /// A bonding mode: 0-6 or a Linux name.
    Mode,
    /// A NUMA socket id.
    Socket,
    /// Milliseconds.
    Millis,
    /// A MAC address `aa:bb:cc:dd:ee:ff`.
    Mac,
    /// A transmit hash policy: testpmd or Linux name.
    HashPolicy,
    /// `count|stable|bandwidth`.
    AggMode,
    /// `enable|disable`.
    Toggle,
    /// `io|mac`.
    Fwd,
    /// A Linux bonding option name. Completes the caller's option names.
    OptionName,
    /// The rest of the line, unchanged (required).
    Rest,
    /// An optional count.
    Count,
    /// The rest of the line as help topic words (optional).
    Topic,
}

impl Kind {
    /// What the placeholder expects, for error messages.
    fn describe(self) -> String {
        match self {
            Kind::Bond => "a bond port number or name".into(),
            Kind::Port | Kind::AnyPort => "a port number or name".into(),
            Kind::Member => "a member port number or name".into(),
            Kind::PortOrAll => "\"all\" or a port number or name".into(),
            Kind::Mode => format!("a bonding mode (0-6, {})", MODES.join(", ")),
            Kind::Socket => "a socket id".into(),
            Kind::Millis => "a period in ms".into(),
            Kind::Mac => "a MAC address like aa:bb:cc:dd:ee:ff".into(),
            Kind::HashPolicy => {
                let mut names: Vec<&str> = POLICY_ALIASES.iter().map(|(a, _)| *a).collect();
                names.extend(POLICIES);
                format!("a transmit hash policy ({})", names.join(", "))
            }
            Kind::AggMode => format!("an aggregator selection mode ({})", AGG_MODES.join(", ")),
            Kind::Toggle => "enable or disable".into(),
            Kind::Fwd => "a forwarding mode (io, mac)".into(),
            Kind::OptionName => "a Linux bonding option name".into(),
            Kind::Rest => "a value".into(),
            Kind::Count => "a number of events".into(),
            Kind::Topic => "command words".into(),
        }
    }

    /// Takes the rest of the line rather than one word.
    fn is_rest(self) -> bool {
        matches!(self, Kind::Rest | Kind::Topic)
    }

    /// The value when the placeholder is left out; `None` if it is required.
    fn absent(self) -> Option<Value> {
        match self {
            Kind::Count => Some(Value::OptNum(None)),
            Kind::Topic => Some(Value::OptText(None)),
            _ => None,
        }
    }

    /// Parses one word (or, for rest kinds, the rest of the line).
    fn parse(self, word: &str) -> Result<Value, String> {
        let expected = || format!("expected {}, got \"{word}\"", self.describe());
        let number = |max: u64| -> Result<u64, String> {
            if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
                return Err(expected());
            }
            match word.parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(format!("{} (at most {max})", expected())),
            }
        };
        let target = || -> Result<Target, String> {
            if word.bytes().all(|b| b.is_ascii_digit()) {
                let n = number(u64::from(u16::MAX))?;
                Ok(Target::Index(u16::try_from(n).map_err(|_| expected())?))
            } else if word.starts_with('-') {
                Err(expected())
            } else {
                Ok(Target::Name(word.to_owned()))
            }
        };
        let num32 = || -> Result<u32, String> {
            let n = number(u64::from(u32::MAX))?;
            u32::try_from(n).map_err(|_| expected())
        };
        match self {
            Kind::Bond | Kind::Port | Kind::AnyPort | Kind::Member => target().map(Value::Target),
            Kind::PortOrAll => {
                if word == "all" {
                    Ok(Value::PortSel(PortSel::All))
                } else {
                    target().map(|t| Value::PortSel(PortSel::One(t)))
                }
            }
            Kind::Mode => {
                if word.bytes().all(|b| b.is_ascii_digit()) {
                    let n = number(6)?;
                    MODES
                        .get(usize::try_from(n).unwrap_or(usize::MAX))
                        .map(|m| Value::Text((*m).to_owned()))
                        .ok_or_else(expected)
                } else if MODES.contains(&word) {
                    Ok(Value::Text(word.to_owned()))
                } else {
                    Err(expected())
                }
            }
            Kind::Socket | Kind::Millis => num32().map(Value::Num),
            Kind::Count => num32().map(|n| Value::OptNum(Some(n))),
            Kind::Mac => parse_mac(word).map(Value::Mac).ok_or_else(expected),
            Kind::HashPolicy => {
                if let Some((_, linux)) = POLICY_ALIASES.iter().find(|(a, _)| *a == word) {
                    Ok(Value::Text((*linux).to_owned()))
                } else if POLICIES.contains(&word) {
                    Ok(Value::Text(word.to_owned()))
                } else {
                    Err(expected())
                }
            }
            Kind::AggMode => {
                if AGG_MODES.contains(&word) {
                    Ok(Value::Text(word.to_owned()))
                } else {
                    Err(expected())
                }
            }
            Kind::Toggle => match word {
                "enable" => Ok(Value::Flag(true)),
                "disable" => Ok(Value::Flag(false)),
                _ => Err(expected()),
            },
            Kind::Fwd => match word {
                "io" => Ok(Value::Fwd(FwdMode::Io)),
                "mac" => Ok(Value::Fwd(FwdMode::Mac)),
                _ => Err(expected()),
            },
            Kind::OptionName => Ok(Value::Text(word.to_owned())),
            Kind::Rest => Ok(Value::Text(word.to_owned())),
            Kind::Topic => Ok(Value::OptText(Some(
                word.split_whitespace().collect::<Vec<_>>().join(" "),
            ))),
        }
    }

    /// Words the completer offers for this placeholder.
    fn candidates(self, ctx: &Names) -> Vec<String> {
        let owned = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let ports_and_bonds = || {
            ctx.ports
                .iter()
                .chain(&ctx.bonds)
                .cloned()
                .collect::<Vec<_>>()
        };
        match self {
            Kind::Bond => ctx.bonds.clone(),
            Kind::Port => ctx.ports.clone(),
            Kind::AnyPort => ports_and_bonds(),
            Kind::Member => ctx.members.clone(),
            Kind::PortOrAll => {
                let mut v = ports_and_bonds();
                v.push("all".to_owned());
                v
            }
            Kind::Mode => owned(&MODES),
            Kind::HashPolicy => {
                let mut v: Vec<String> = POLICY_ALIASES
                    .iter()
                    .map(|(a, _)| (*a).to_owned())
                    .collect();
                v.extend(owned(&POLICIES));
                v
            }
            Kind::AggMode => owned(&AGG_MODES),
            Kind::Toggle => owned(&["enable", "disable"]),
            Kind::Fwd => owned(&["io", "mac"]),
            Kind::OptionName => ctx.options.clone(),
            Kind::Socket | Kind::Millis | Kind::Mac | Kind::Rest | Kind::Count | Kind::Topic => {
                Vec::new()
            }
        }
    }
}

/// `aa:bb:cc:dd:ee:ff`: six pairs of hex digits (either case) separated by colons.
fn parse_mac(word: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = word.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// One word of a command's grammar.
#[derive(Debug, Clone, Copy)]
enum Tok {
    /// A keyword, with its accepted spellings; the first is the one shown in messages.
    Kw(&'static [&'static str]),
    /// A placeholder as written in the usage line, and what it accepts.
    Arg(&'static str, Kind),
}

/// A parsed placeholder, handed to the command's builder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Target(Target),
    PortSel(PortSel),
    Text(String),
    OptText(Option<String>),
    Num(u32),
    OptNum(Option<u32>),
    Mac([u8; 6]),
    Flag(bool),
    Fwd(FwdMode),
}

/// The parsed placeholders of one command, in table order, and the `--json` flag.
///
/// Each accessor takes the next value; `None` if it is of another type (a table error, which
/// the tests rule out).
struct Args {
    values: std::vec::IntoIter<Value>,
    json: bool,
}

impl Args {
    fn target(&mut self) -> Option<Target> {
        match self.values.next()? {
            Value::Target(t) => Some(t),
            _ => None,
        }
    }
    fn port_sel(&mut self) -> Option<PortSel> {
        match self.values.next()? {
            Value::PortSel(p) => Some(p),
            _ => None,
        }
    }
    fn text(&mut self) -> Option<String> {
        match self.values.next()? {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    fn opt_text(&mut self) -> Option<Option<String>> {
        match self.values.next()? {
            Value::OptText(s) => Some(s),
            _ => None,
        }
    }
    fn num(&mut self) -> Option<u32> {
        match self.values.next()? {
            Value::Num(n) => Some(n),
            _ => None,
        }
    }
    fn opt_num(&mut self) -> Option<Option<u32>> {
        match self.values.next()? {
            Value::OptNum(n) => Some(n),
            _ => None,
        }
    }
    fn mac(&mut self) -> Option<[u8; 6]> {
        match self.values.next()? {
            Value::Mac(m) => Some(m),
            _ => None,
        }
    }
    fn flag(&mut self) -> Option<bool> {
        match self.values.next()? {
            Value::Flag(b) => Some(b),
            _ => None,
        }
    }
    fn fwd(&mut self) -> Option<FwdMode> {
        match self.values.next()? {
            Value::Fwd(f) => Some(f),
            _ => None,
        }
    }
}

/// One command of the grammar.
struct Spec {
    /// Keywords first, then placeholders.
    words: &'static [Tok],
    /// Accepts a trailing `--json`.
    json: bool,
    /// First line: the one-line summary; the rest: the description.
    help: &'static str,
    /// Builds the command from the placeholders' values, taken in `words` order.
    build: fn(&mut Args) -> Option<Command>,
}

// Words shared by many commands.
const ADD: Tok = Tok::Kw(&["add"]);
const BONDING: Tok = Tok::Kw(&["bonding"]);
const CLEAR: Tok = Tok::Kw(&["clear"]);
const CREATE: Tok = Tok::Kw(&["create"]);
const MEMBER: Tok = Tok::Kw(&["member", "slave"]);
const PORT: Tok = Tok::Kw(&["port"]);
const REMOVE: Tok = Tok::Kw(&["remove"]);
const SET: Tok = Tok::Kw(&["set"]);
const SHOW: Tok = Tok::Kw(&["show"]);
const STATS: Tok = Tok::Kw(&["stats"]);
const BOND_ARG: Tok = Tok::Arg("<bond>", Kind::Bond);
const MEMBER_ARG: Tok = Tok::Arg("<member>", Kind::Member);
const MODE_ARG: Tok = Tok::Arg("<mode>", Kind::Mode);
const NEW_PORT_ARG: Tok = Tok::Arg("<port>", Kind::Port);
const MEMBER_PORT_ARG: Tok = Tok::Arg("<port>", Kind::Member);
const ANY_PORT_ARG: Tok = Tok::Arg("<port>", Kind::AnyPort);
const PORTS_ARG: Tok = Tok::Arg("all|<port>", Kind::PortOrAll);

/// The grammar. No command's keywords are a prefix of another's (checked by the tests), so a
/// line's keywords name at most one command.
static COMMANDS: &[Spec] = &[
    Spec {
        words: &[
            CREATE,
            BONDING,
            Tok::Kw(&["device"]),
            MODE_ARG,
            Tok::Arg("<socket>", Kind::Socket),
        ],
        json: false,
        help: "Create a bond with the given mode, its memory on NUMA socket <socket>.\n\
               <mode> is a number 0-6 or a Linux mode name: balance-rr (0), active-backup (1), \
               balance-xor (2), broadcast (3), 802.3ad (4), balance-tlb (5), balance-alb (6).",
        build: |a| {
            Some(Command::CreateBond {
                mode: a.text()?,
                socket: a.num()?,
            })
        },
    },
    Spec {
        words: &[ADD, BONDING, MEMBER, NEW_PORT_ARG, BOND_ARG],
        json: false,
        help: "Add a port to a bond as a member.\n\
               Linux: enslaving an interface. \"slave\" is the old spelling, still accepted.",
        build: |a| {
            Some(Command::AddMember {
                port: a.target()?,
                bond: a.target()?,
            })
        },
    },
    Spec {
        words: &[REMOVE, BONDING, MEMBER, MEMBER_PORT_ARG, BOND_ARG],
        json: false,
        help: "Remove a member port from a bond.\n\
               \"slave\" is the old spelling, still accepted.",
        build: |a| {
            Some(Command::RemoveMember {
                port: a.target()?,
                bond: a.target()?,
            })
        },
    },
    Spec {
        words: &[SET, BONDING, Tok::Kw(&["mode"]), MODE_ARG, BOND_ARG],
        json: false,
        help: "Change a bond's mode (Linux option mode).\n\
               <mode> is a number 0-6 or a Linux mode name: balance-rr (0), active-backup (1), \
               balance-xor (2), broadcast (3), 802.3ad (4), balance-tlb (5), balance-alb (6).",
        build: |a| {
            Some(Command::SetMode {
                mode: a.text()?,
                bond: a.target()?,
            })
        },
    },
    Spec {
        words: &[
            SET,
            BONDING,
            Tok::Kw(&["primary"]),
            MEMBER_PORT_ARG,
            BOND_ARG,
        ],
        json: false,
        help: "Set a bond's primary member (Linux option primary).\n\
               In active-backup, balance-tlb and balance-alb the primary is preferred as the \
               active member whenever its link is up.",
        build: |a| {
            Some(Command::SetPrimary {
                port: a.target()?,
                bond: a.target()?,
            })
        },
    },
    Spec {
        words: &[
            SET,
            BONDING,
            Tok::Kw(&["balance_xmit_policy"]),
            BOND_ARG,
            Tok::Arg("l2|l23|l34|<linux policy name>", Kind::HashPolicy),
        ],
        json: false,
        help: "Set the transmit hash policy (Linux option xmit_hash_policy).\n\
               l2, l23 and l34 are testpmd's names for layer2, layer2+3 and layer3+4; the Linux \
               names layer2, layer2+3, layer3+4, encap2+3, encap3+4 and vlan+srcmac are \
               accepted too. Used by balance-xor, 802.3ad and balance-tlb.",
        build: |a| {
            Some(Command::SetXmitPolicy {
                bond: a.target()?,
                policy: a.text()?,
            })
        },
    },
    Spec {
        words: &[
            SET,
            BONDING,
            Tok::Kw(&["mon_period"]),
            BOND_ARG,
            Tok::Arg("<ms>", Kind::Millis),
        ],
        json: false,
        help: "Set the link monitoring period in milliseconds (Linux option miimon).\n\
               0 turns the MII link monitor off.",
        build: |a| {
            Some(Command::SetMonPeriod {
                bond: a.target()?,
                ms: a.num()?,
            })
        },
    },
    Spec {
        words: &[
            SET,
            BONDING,
            Tok::Kw(&["mac_addr"]),
            BOND_ARG,
            Tok::Arg("<mac>", Kind::Mac),
        ],
        json: false,
        help: "Set a bond's MAC address.\n\
               <mac> is six pairs of hex digits separated by colons, e.g. 02:00:00:00:00:01.",
        build: |a| {
            Some(Command::SetMacAddr {
                bond: a.target()?,
                mac: a.mac()?,
            })
        },
    },
    Spec {
        words: &[
            SET,
            BONDING,
            Tok::Kw(&["agg_mode"]),
            BOND_ARG,
            Tok::Arg("count|stable|bandwidth", Kind::AggMode),
        ],
        json: false,
        help: "Set the 802.3ad aggregator selection policy (Linux option ad_select).\n\
               stable: keep the active aggregator while any of its members is up; bandwidth: \
               prefer the aggregator with the highest total speed; count: prefer the one with \
               the most members.",
        build: |a| {
            Some(Command::SetAggMode {
                bond: a.target()?,
                agg_mode: a.text()?,
            })
        },
    },
    Spec {
        words: &[
            SET,
            BONDING,
            Tok::Kw(&["lacp"]),
            Tok::Kw(&["dedicated_queues"]),
            BOND_ARG,
            Tok::Arg("enable|disable", Kind::Toggle),
        ],
        json: false,
        help: "Enable or disable dedicated LACP control queues in 802.3ad mode.\n\
               With dedicated queues, LACPDUs use a separate rx/tx queue pair on each member \
               instead of sharing the data queues.",
        build: |a| {
            Some(Command::SetDedicatedQueues {
                bond: a.target()?,
                enable: a.flag()?,
            })
        },
    },
    Spec {
        words: &[
            SET,
            BONDING,
            Tok::Kw(&["option"]),
            BOND_ARG,
            Tok::Arg("<linux-option>", Kind::OptionName),
            Tok::Arg("<value>", Kind::Rest),
        ],
        json: false,
        help: "Set any Linux bonding option by its name.\n\
               <linux-option> is named as in BONDING_OPTS and sysfs (miimon, arp_ip_target, \
               lacp_rate, ...). <value> is the rest of the line, passed on unchanged, so it may \
               hold commas (arp_ip_target 10.0.0.1,10.0.0.2).",
        build: |a| {
            Some(Command::SetOption {
                bond: a.target()?,
                option: a.text()?,
                value: a.text()?,
            })
        },
    },
    Spec {
        words: &[SET, BONDING, Tok::Kw(&["active"]), BOND_ARG, MEMBER_ARG],
        json: false,
        help: "Make a member the bond's active member (Linux option active_slave).\n\
               Meaningful in active-backup, balance-tlb and balance-alb.",
        build: |a| {
            Some(Command::SetActive {
                bond: a.target()?,
                member: a.target()?,
            })
        },
    },
    Spec {
        words: &[
            Tok::Kw(&["send"]),
            BONDING,
            Tok::Kw(&["marker"]),
            BOND_ARG,
            MEMBER_ARG,
        ],
        json: false,
        help: "Send an 802.3ad Marker request on a member of a bond.\n\
               The Marker Information PDU carries the member's LACP port number, the bond's \
               system and a new transaction id; the partner's Marker Responder sends it back as \
               a Marker Response. `show bonding lacp info` shows whether and how fast it was \
               answered, and the Marker Tx / Marker response Rx counters. Linux and testpmd \
               never send markers; this is a diagnostic.",
        build: |a| {
            Some(Command::SendMarker {
                bond: a.target()?,
                member: a.target()?,
            })
        },
    },
    Spec {
        words: &[SHOW, BONDING, Tok::Kw(&["config"]), BOND_ARG],
        json: true,
        help: "Show a bond's configuration.\n\
               --json prints it as JSON.",
        build: |a| {
            Some(Command::ShowBondConfig {
                bond: a.target()?,
                json: a.json,
            })
        },
    },
    Spec {
        words: &[
            SHOW,
            BONDING,
            Tok::Kw(&["lacp"]),
            Tok::Kw(&["info"]),
            BOND_ARG,
        ],
        json: true,
        help: "Show a bond's 802.3ad (LACP) state: actor and partner per member.\n\
               --json prints it as JSON.",
        build: |a| {
            Some(Command::ShowLacpInfo {
                bond: a.target()?,
                json: a.json,
            })
        },
    },
    Spec {
        words: &[SHOW, BONDING, Tok::Kw(&["status"]), BOND_ARG],
        json: true,
        help: "Show a bond's status as Linux prints it in /proc/net/bonding/<bond>.\n\
               --json prints it as JSON.",
        build: |a| {
            Some(Command::ShowBondStatus {
                bond: a.target()?,
                json: a.json,
            })
        },
    },
    Spec {
        words: &[
            SHOW,
            BONDING,
            Tok::Kw(&["events"]),
            BOND_ARG,
            Tok::Arg("[<count>]", Kind::Count),
        ],
        json: true,
        help: "Show a bond's recent events (link changes, failovers, LACP changes).\n\
               <count> limits the list to that many of the most recent events. --json prints \
               them as JSON.",
        build: |a| {
            Some(Command::ShowBondEvents {
                bond: a.target()?,
                count: a.opt_num()?,
                json: a.json,
            })
        },
    },
    Spec {
        words: &[SHOW, BONDING, Tok::Kw(&["list"])],
        json: true,
        help: "List the bonds.\n\
               --json prints the list as JSON.",
        build: |a| Some(Command::ShowBondList { json: a.json }),
    },
    Spec {
        words: &[SHOW, PORT, Tok::Kw(&["info"]), PORTS_ARG],
        json: true,
        help: "Show general information on one port or all ports.\n\
               --json prints it as JSON.",
        build: |a| {
            Some(Command::ShowPortInfo {
                port: a.port_sel()?,
                json: a.json,
            })
        },
    },
    Spec {
        words: &[SHOW, PORT, STATS, PORTS_ARG],
        json: true,
        help: "Show the packet and byte counters of one port or all ports.\n\
               --json prints them as JSON.",
        build: |a| {
            Some(Command::ShowPortStats {
                port: a.port_sel()?,
                json: a.json,
            })
        },
    },
    Spec {
        words: &[SHOW, PORT, Tok::Kw(&["summary"]), PORTS_ARG],
        json: true,
        help: "Show one line per port.\n\
               --json prints the lines as JSON.",
        build: |a| {
            Some(Command::ShowPortSummary {
                port: a.port_sel()?,
                json: a.json,
            })
        },
    },
    Spec {
        words: &[SHOW, PORT, Tok::Kw(&["xstats"]), PORTS_ARG],
        json: true,
        help: "Show the extended (driver) statistics of one port or all ports.\n\
               --json prints them as JSON.",
        build: |a| {
            Some(Command::ShowPortXstats {
                port: a.port_sel()?,
                json: a.json,
            })
        },
    },
    Spec {
        words: &[CLEAR, PORT, STATS, PORTS_ARG],
        json: false,
        help: "Reset the packet and byte counters of one port or all ports.",
        build: |a| {
            Some(Command::ClearPortStats {
                port: a.port_sel()?,
            })
        },
    },
    Spec {
        words: &[SET, Tok::Kw(&["link-up"]), PORT, ANY_PORT_ARG],
        json: false,
        help: "Bring a port's link up.",
        build: |a| Some(Command::SetLinkUp { port: a.target()? }),
    },
    Spec {
        words: &[SET, Tok::Kw(&["link-down"]), PORT, ANY_PORT_ARG],
        json: false,
        help: "Take a port's link down.",
        build: |a| Some(Command::SetLinkDown { port: a.target()? }),
    },
    Spec {
        words: &[Tok::Kw(&["start"])],
        json: false,
        help: "Start forwarding.",
        build: |_| Some(Command::Start),
    },
    Spec {
        words: &[Tok::Kw(&["stop"])],
        json: false,
        help: "Stop forwarding.",
        build: |_| Some(Command::Stop),
    },
    Spec {
        words: &[SET, Tok::Kw(&["fwd"]), Tok::Arg("io|mac", Kind::Fwd)],
        json: false,
        help: "Choose the forwarding mode.\n\
               io: frames are forwarded untouched; mac: the source MAC is rewritten to the \
               egress port's.",
        build: |a| Some(Command::SetFwd { mode: a.fwd()? }),
    },
    Spec {
        words: &[
            ADD,
            Tok::Kw(&["forward"]),
            Tok::Arg("<from>", Kind::AnyPort),
            Tok::Arg("<to>", Kind::AnyPort),
        ],
        json: false,
        help: "Forward what <from> receives to <to>, one way (a [[forward]] of the config with \
               bidirectional = false; add the reverse path for both ways).\n\
               <from> and <to> are plain ports (by number or name) or bonds (by name); a bond \
               member cannot forward by itself. Each port or bond has at most one destination.",
        build: |a| {
            Some(Command::AddForward {
                from: a.target()?,
                to: a.target()?,
            })
        },
    },
    Spec {
        words: &[
            REMOVE,
            Tok::Kw(&["forward"]),
            Tok::Arg("<from>", Kind::AnyPort),
            Tok::Arg("<to>", Kind::AnyPort),
        ],
        json: false,
        help: "Stop forwarding from <from> to <to> (the other direction, if any, stays).",
        build: |a| {
            Some(Command::RemoveForward {
                from: a.target()?,
                to: a.target()?,
            })
        },
    },
    Spec {
        words: &[SHOW, Tok::Kw(&["config"]), Tok::Kw(&["fwd"])],
        json: true,
        help: "Show the forwarding mode and every forwarding path.\n\
               --json prints them as JSON.",
        build: |a| Some(Command::ShowFwd { json: a.json }),
    },
    Spec {
        words: &[Tok::Kw(&["quit", "exit"])],
        json: false,
        help: "Leave the shell.\n\
               \"exit\" does the same.",
        build: |_| Some(Command::Quit),
    },
    Spec {
        words: &[Tok::Kw(&["help"]), Tok::Arg("[<command>]", Kind::Topic)],
        json: false,
        help: "List the commands, or show one command's usage and description.\n\
               <command> is the command's leading words (help set bonding mode); a partial \
               command (help show bonding) lists the commands starting with it.",
        build: |a| {
            Some(Command::Help {
                topic: a.opt_text()?,
            })
        },
    },
];

impl Spec {
    /// Number of leading keywords.
    fn kw_len(&self) -> usize {
        self.words
            .iter()
            .take_while(|t| matches!(t, Tok::Kw(_)))
            .count()
    }

    /// The keyword spellings at position `i`, if that position is a keyword.
    fn keyword(&self, i: usize) -> Option<&'static [&'static str]> {
        match self.words.get(i)? {
            Tok::Kw(k) => Some(k),
            Tok::Arg(..) => None,
        }
    }

    /// The placeholders after the keywords.
    fn args(&self) -> impl Iterator<Item = (&'static str, Kind)> {
        self.words[self.kw_len()..].iter().filter_map(|t| match *t {
            Tok::Arg(p, k) => Some((p, k)),
            Tok::Kw(_) => None,
        })
    }

    /// How many leading `words` match this command's keywords.
    fn matched(&self, words: &[&str]) -> usize {
        words
            .iter()
            .enumerate()
            .take_while(|(i, w)| self.keyword(*i).is_some_and(|k| k.contains(w)))
            .count()
    }

    /// The keywords with their spellings: `add bonding member|slave`.
    fn name(&self) -> String {
        (0..self.kw_len())
            .filter_map(|i| self.keyword(i))
            .map(|k| k.join("|"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The usage line, derived from the words.
    fn usage(&self) -> String {
        let mut u: Vec<String> = self
            .words
            .iter()
            .map(|t| match t {
                Tok::Kw(k) => k.join("|"),
                Tok::Arg(p, _) => (*p).to_owned(),
            })
            .collect();
        if self.json {
            u.push(format!("[{JSON_FLAG}]"));
        }
        u.join(" ")
    }

    fn summary(&self) -> &'static str {
        self.help.lines().next().unwrap_or("")
    }

    /// Parses the words after the keywords.
    fn parse_args(&self, line: &str, words: &[Word<'_>]) -> Result<Command, UsageError> {
        let kw = self.kw_len();
        let command = words
            .iter()
            .take(kw)
            .map(|w| w.text)
            .collect::<Vec<_>>()
            .join(" ");
        let bad = |problem: String| UsageError::BadArgument {
            command: command.clone(),
            problem,
            usage: self.usage(),
        };
        let mut rest = words.get(kw..).unwrap_or(&[]);
        let mut json = false;
        if self.json
            && let Some((last, init)) = rest.split_last()
            && last.text == JSON_FLAG
        {
            json = true;
            rest = init;
        }
        let mut values = Vec::new();
        let mut next = 0;
        for (placeholder, kind) in self.args() {
            let Some(word) = rest.get(next) else {
                match kind.absent() {
                    Some(v) => values.push(v),
                    None => {
                        return Err(bad(format!("missing {placeholder} ({})", kind.describe())));
                    }
                }
                continue;
            };
            let text = if kind.is_rest() {
                let end = rest.last().map_or(line.len(), |l| l.start + l.text.len());
                next = rest.len();
                line.get(word.start..end).unwrap_or(word.text)
            } else {
                next += 1;
                word.text
            };
            values.push(kind.parse(text).map_err(bad)?);
        }
        if let Some(extra) = rest.get(next) {
            return Err(bad(format!("unexpected argument \"{}\"", extra.text)));
        }
        let mut args = Args {
            values: values.into_iter(),
            json,
        };
        (self.build)(&mut args).ok_or_else(|| bad("internal grammar error".to_owned()))
    }

    /// Adds the completions of the word after `done` to `out`.
    fn complete(&self, done: &[&str], ctx: &Names, out: &mut Vec<String>) {
        let kw = self.kw_len();
        let pos = done.len();
        if self.matched(done) < pos.min(kw) {
            return;
        }
        if let Some(k) = self.keyword(pos) {
            out.extend(k.iter().map(|s| (*s).to_owned()));
            return;
        }
        if done.last() == Some(&JSON_FLAG) && pos > kw {
            return;
        }
        let args: Vec<(&str, Kind)> = self.args().collect();
        let j = pos - kw;
        if args.iter().take(j).any(|(_, k)| k.is_rest()) {
            return;
        }
        match args.get(j) {
            Some((_, kind)) => {
                out.extend(kind.candidates(ctx));
                if self.json && kind.absent().is_some() {
                    out.push(JSON_FLAG.to_owned());
                }
            }
            None if j == args.len() && self.json => out.push(JSON_FLAG.to_owned()),
            None => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// A word of the line and where it starts (byte offset).
#[derive(Debug, Clone, Copy)]
struct Word<'a> {
    text: &'a str,
    start: usize,
}

fn split_words(line: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push(Word {
                    text: &line[s..i],
                    start: s,
                });
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(Word {
            text: &line[s..],
            start: s,
        });
    }
    out
}

/// Words that name no command: how far they matched and which commands got that far.
struct Miss {
    depth: usize,
    near: Vec<&'static Spec>,
}

impl Miss {
    /// Keywords that may come at `depth`, each once, in table order.
    fn next_keywords(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for spec in &self.near {
            for k in spec.keyword(self.depth).unwrap_or(&[]) {
                if !out.iter().any(|o| o == k) {
                    out.push((*k).to_owned());
                }
            }
        }
        out
    }

    fn usages(&self) -> Vec<String> {
        self.near.iter().map(|s| s.usage()).collect()
    }

    fn suggestion(&self, word: &str) -> Option<String> {
        nearest(word, &self.next_keywords())
    }
}

/// The command whose keywords the words start with, or how far they got.
fn resolve(words: &[&str]) -> Result<&'static Spec, Miss> {
    let mut depth = 0;
    for spec in COMMANDS {
        let m = spec.matched(words);
        if m == spec.kw_len() {
            return Ok(spec);
        }
        depth = depth.max(m);
    }
    Err(Miss {
        depth,
        near: COMMANDS
            .iter()
            .filter(|s| s.matched(words) == depth)
            .collect(),
    })
}

/// Parses one line. `Ok(None)` for a blank line or a comment (`#` first).
pub fn parse(line: &str) -> Result<Option<Command>, UsageError> {
    let words = split_words(line);
    let Some(first) = words.first() else {
        return Ok(None);
    };
    if first.text.starts_with('#') {
        return Ok(None);
    }
    let texts: Vec<&str> = words.iter().map(|w| w.text).collect();
    let spec = match resolve(&texts) {
        Ok(spec) => spec,
        Err(miss) => {
            let line = line.trim().to_owned();
            return Err(match texts.get(miss.depth) {
                None => UsageError::Incomplete {
                    line,
                    expected: miss.next_keywords(),
                    usage: miss.usages(),
                },
                Some(word) => UsageError::UnknownCommand {
                    line,
                    suggestion: miss.suggestion(word),
                    usage: if miss.depth > 0 {
                        miss.usages()
                    } else {
                        Vec::new()
                    },
                },
            });
        }
    };
    let command = spec.parse_args(line, &words)?;
    if let Command::Help { topic: Some(t) } = &command {
        help(Some(t))?;
    }
    Ok(Some(command))
}

// ---------------------------------------------------------------------------------------------
// Help
// ---------------------------------------------------------------------------------------------

/// Lines `name  summary` for `specs`, names padded to one column.
fn listing<'a>(specs: impl Iterator<Item = &'a Spec> + Clone) -> String {
    let width = specs.clone().map(|s| s.name().len()).max().unwrap_or(0);
    specs
        .map(|s| format!("  {:<width$}  {}\n", s.name(), s.summary()))
        .collect()
}

/// `help`: every command with a one-line summary. `help <command words>`: that command's
/// usage and description; words that start several commands (`show bonding`) list them.
pub fn help(topic: Option<&str>) -> Result<String, UsageError> {
    let words: Vec<&str> = topic.unwrap_or("").split_whitespace().collect();
    if words.is_empty() {
        return Ok(format!(
            "Commands (help <command> for its usage and description):\n{}",
            listing(COMMANDS.iter())
        ));
    }
    match resolve(&words) {
        Ok(spec) => {
            let mut lines = spec.help.lines();
            let mut out = format!("usage: {}\n\n{}\n", spec.usage(), spec.summary());
            lines.next();
            for l in lines {
                out.push_str(l);
                out.push('\n');
            }
            Ok(out)
        }
        Err(miss) if miss.depth == words.len() => Ok(format!(
            "Commands starting with \"{}\":\n{}",
            words.join(" "),
            listing(miss.near.iter().copied())
        )),
        Err(miss) => Err(UsageError::UnknownTopic {
            topic: words.join(" "),
            suggestion: words.get(miss.depth).and_then(|w| miss.suggestion(w)),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Completion
// ---------------------------------------------------------------------------------------------

/// Completes the word under the cursor: the last word of `line`, empty if `line` is empty or
/// ends in whitespace. Returns the full candidate words, sorted and deduplicated.
pub fn complete(line: &str, ctx: &Names) -> Vec<String> {
    let words: Vec<&str> = split_words(line).iter().map(|w| w.text).collect();
    let at_new_word = line.chars().last().is_none_or(char::is_whitespace);
    let (done, current) = match words.split_last() {
        Some((last, init)) if !at_new_word => (init, *last),
        _ => (words.as_slice(), ""),
    };
    if done.first().is_some_and(|w| w.starts_with('#')) {
        return Vec::new();
    }
    let mut out = Vec::new();
    match done.split_first() {
        // After `help`, complete command keywords only.
        Some((&"help", topic)) => {
            for spec in COMMANDS {
                let pos = topic.len();
                if spec.matched(topic) == pos
                    && let Some(k) = spec.keyword(pos)
                {
                    out.extend(k.iter().map(|s| (*s).to_owned()));
                }
            }
        }
        _ => {
            for spec in COMMANDS {
                spec.complete(done, ctx, &mut out);
            }
        }
    }
    out.retain(|c| c.starts_with(current));
    out.sort();
    out.dedup();
    out
}

// ---------------------------------------------------------------------------------------------
// Suggestions
// ---------------------------------------------------------------------------------------------

/// Longest word considered for a suggestion (the distance is quadratic).
const MAX_SUGGEST_LEN: usize = 64;

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions each cost 1.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate nearest to `word`, ignoring case: an exact match, else a candidate `word`
/// is the start of, else one within 2 edits (and fewer edits than the candidate has letters);
/// ties go to the fewest edits, then to the first candidate.
fn nearest(word: &str, candidates: &[String]) -> Option<String> {
    if word.is_empty() || word.chars().count() > MAX_SUGGEST_LEN {
        return None;
    }
    let lower = word.to_lowercase();
    candidates
        .iter()
        .filter_map(|c| {
            let d = distance(&lower, c);
            let rank = if d == 0 {
                0
            } else if c.starts_with(&lower) {
                1
            } else if d <= 2 && d < c.chars().count() {
                2
            } else {
                return None;
            };
            Some(((rank, d), c))
        })
        .min_by_key(|(key, _)| *key)
        .map(|(_, c)| c.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        match parse(line) {
            Ok(Some(c)) => c,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn err(line: &str) -> String {
        match parse(line) {
            Err(e) => e.to_string(),
            other => panic!("{line:?} should fail, gave {other:?}"),
        }
    }

    fn idx(i: u16) -> Target {
        Target::Index(i)
    }

    fn name(n: &str) -> Target {
        Target::Name(n.to_owned())
    }

    fn names() -> Names {
        Names {
            bonds: vec!["bond0".into(), "bond1".into(), "uplink".into()],
            members: vec!["eth0".into(), "eth1".into()],
            ports: vec!["eth0".into(), "eth1".into(), "eth2".into(), "lan0".into()],
            options: vec![
                "miimon".into(),
                "mode".into(),
                "arp_ip_target".into(),
                "arp_interval".into(),
            ],
        }
    }

    fn comp(line: &str) -> Vec<String> {
        complete(line, &names())
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    // --- the table -----------------------------------------------------------------------

    #[test]
    fn table_keywords_come_first_and_rest_comes_last() {
        for spec in COMMANDS {
            let kw = spec.kw_len();
            assert!(kw > 0, "{}", spec.usage());
            assert!(
                spec.words[kw..].iter().all(|t| matches!(t, Tok::Arg(..))),
                "keyword after a placeholder in {}",
                spec.usage()
            );
            let args: Vec<_> = spec.args().collect();
            for (i, (_, k)) in args.iter().enumerate() {
                if k.is_rest() || k.absent().is_some() {
                    assert_eq!(
                        i + 1,
                        args.len(),
                        "{}: only the last may be optional",
                        spec.usage()
                    );
                }
            }
        }
    }

    #[test]
    fn table_no_command_is_a_prefix_of_another() {
        for (i, a) in COMMANDS.iter().enumerate() {
            for (j, b) in COMMANDS.iter().enumerate() {
                if i == j {
                    continue;
                }
                let n = a.kw_len().min(b.kw_len());
                let shared = (0..n).all(|p| {
                    let (ka, kb) = (a.keyword(p).unwrap(), b.keyword(p).unwrap());
                    ka.iter().any(|w| kb.contains(w))
                });
                assert!(!shared, "{} and {} are ambiguous", a.usage(), b.usage());
            }
        }
    }

    #[test]
    fn table_help_texts_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for spec in COMMANDS {
            assert!(!spec.summary().is_empty(), "{}", spec.usage());
            assert!(spec.summary().ends_with('.'), "{}", spec.summary());
            assert!(seen.insert(spec.name()), "duplicate {}", spec.name());
        }
    }

    /// A valid word for each placeholder, to parse every command generically.
    fn sample(kind: Kind) -> &'static str {
        match kind {
            Kind::Bond => "bond0",
            Kind::Port | Kind::AnyPort | Kind::Member => "3",
            Kind::PortOrAll => "all",
            Kind::Mode => "4",
            Kind::Socket => "0",
            Kind::Millis => "100",
            Kind::Mac => "02:00:00:00:00:01",
            Kind::HashPolicy => "l34",
            Kind::AggMode => "stable",
            Kind::Toggle => "enable",
            Kind::Fwd => "mac",
            Kind::OptionName => "miimon",
            Kind::Rest => "1, 2",
            Kind::Count => "7",
            Kind::Topic => "show bonding",
        }
    }

    /// Every command, every spelling: the sample line parses, and dropping the last
    /// placeholder or adding a word fails with the command's usage.
    #[test]
    fn every_command_builds_with_every_spelling() {
        for spec in COMMANDS {
            let kw = spec.kw_len();
            let mut spellings: Vec<Vec<&str>> = vec![Vec::new()];
            for p in 0..kw {
                let alts = spec.keyword(p).unwrap();
                spellings = spellings
                    .iter()
                    .flat_map(|s| {
                        alts.iter().map(move |a| {
                            let mut s = s.clone();
                            s.push(*a);
                            s
                        })
                    })
                    .collect();
            }
            assert_eq!(
                spellings.len(),
                (0..kw)
                    .map(|p| spec.keyword(p).unwrap().len())
                    .product::<usize>()
            );
            let args: Vec<&str> = spec.args().map(|(_, k)| sample(k)).collect();
            for kws in &spellings {
                let line = [kws.join(" "), args.join(" ")].join(" ");
                let c = ok(&line);
                if spec.json {
                    let with = ok(&format!("{line} --json"));
                    assert_ne!(c, with, "{line} --json");
                }
                let required = spec.args().filter(|(_, k)| k.absent().is_none()).count();
                if required > 0 {
                    let short = [kws.join(" "), args[..required - 1].join(" ")].join(" ");
                    let e = err(&short);
                    assert!(e.contains("missing"), "{short}: {e}");
                    assert!(e.ends_with(&format!("\nusage: {}", spec.usage())), "{e}");
                }
                if !spec.args().any(|(_, k)| k.is_rest()) {
                    let e = err(&format!("{line} extra"));
                    assert!(e.contains("unexpected argument \"extra\""), "{e}");
                }
            }
        }
    }

    // --- parse: every command ------------------------------------------------------------

    #[test]
    fn blank_and_comment_lines() {
        for l in ["", "   ", "\t\n", "# comment", "   #show bonding list", "#"] {
            assert_eq!(parse(l), Ok(None), "{l:?}");
        }
    }

    #[test]
    fn create_bonding_device() {
        assert_eq!(
            ok("create bonding device 1 0"),
            Command::CreateBond {
                mode: "active-backup".into(),
                socket: 0
            }
        );
        assert_eq!(
            ok("  create   bonding device  802.3ad 1  "),
            Command::CreateBond {
                mode: "802.3ad".into(),
                socket: 1
            }
        );
        for (n, m) in MODES.iter().enumerate() {
            assert_eq!(
                ok(&format!("create bonding device {n} 0")),
                ok(&format!("create bonding device {m} 0"))
            );
        }
        assert_eq!(
            ok("create bonding device 6 3"),
            Command::CreateBond {
                mode: "balance-alb".into(),
                socket: 3
            }
        );
    }

    #[test]
    fn add_and_remove_member_both_spellings() {
        for kw in ["member", "slave"] {
            assert_eq!(
                ok(&format!("add bonding {kw} 0 4")),
                Command::AddMember {
                    port: idx(0),
                    bond: idx(4)
                }
            );
            assert_eq!(
                ok(&format!("add bonding {kw} eth1 bond0")),
                Command::AddMember {
                    port: name("eth1"),
                    bond: name("bond0")
                }
            );
            assert_eq!(
                ok(&format!("remove bonding {kw} 0000:01:00.0 5")),
                Command::RemoveMember {
                    port: name("0000:01:00.0"),
                    bond: idx(5)
                }
            );
            assert_eq!(
                ok(&format!("remove bonding {kw} 65535 net_bonding0")),
                Command::RemoveMember {
                    port: idx(65535),
                    bond: name("net_bonding0")
                }
            );
        }
    }

    #[test]
    fn set_bonding_mode_and_primary() {
        assert_eq!(
            ok("set bonding mode 4 bond0"),
            Command::SetMode {
                mode: "802.3ad".into(),
                bond: name("bond0")
            }
        );
        assert_eq!(
            ok("set bonding mode balance-xor 2"),
            Command::SetMode {
                mode: "balance-xor".into(),
                bond: idx(2)
            }
        );
        assert_eq!(
            ok("set bonding primary 1 2"),
            Command::SetPrimary {
                port: idx(1),
                bond: idx(2)
            }
        );
        assert_eq!(
            ok("set bonding primary eth0 bond0"),
            Command::SetPrimary {
                port: name("eth0"),
                bond: name("bond0")
            }
        );
    }

    #[test]
    fn set_bonding_balance_xmit_policy_maps_testpmd_names() {
        let cases = [
            ("l2", "layer2"),
            ("l23", "layer2+3"),
            ("l34", "layer3+4"),
            ("layer2", "layer2"),
            ("layer2+3", "layer2+3"),
            ("layer3+4", "layer3+4"),
            ("encap2+3", "encap2+3"),
            ("encap3+4", "encap3+4"),
            ("vlan+srcmac", "vlan+srcmac"),
        ];
        for (given, linux) in cases {
            assert_eq!(
                ok(&format!("set bonding balance_xmit_policy bond0 {given}")),
                Command::SetXmitPolicy {
                    bond: name("bond0"),
                    policy: linux.into()
                }
            );
        }
        assert_eq!(
            ok("set bonding balance_xmit_policy 3 l34"),
            Command::SetXmitPolicy {
                bond: idx(3),
                policy: "layer3+4".into()
            }
        );
    }

    #[test]
    fn set_bonding_mon_period_mac_agg_lacp() {
        assert_eq!(
            ok("set bonding mon_period 3 100"),
            Command::SetMonPeriod {
                bond: idx(3),
                ms: 100
            }
        );
        assert_eq!(
            ok("set bonding mon_period bond0 4294967295"),
            Command::SetMonPeriod {
                bond: name("bond0"),
                ms: u32::MAX
            }
        );
        assert_eq!(
            ok("set bonding mac_addr bond0 02:aB:cd:EF:00:ff"),
            Command::SetMacAddr {
                bond: name("bond0"),
                mac: [0x02, 0xab, 0xcd, 0xef, 0x00, 0xff]
            }
        );
        for m in AGG_MODES {
            assert_eq!(
                ok(&format!("set bonding agg_mode 1 {m}")),
                Command::SetAggMode {
                    bond: idx(1),
                    agg_mode: m.into()
                }
            );
        }
        assert_eq!(
            ok("set bonding lacp dedicated_queues bond0 enable"),
            Command::SetDedicatedQueues {
                bond: name("bond0"),
                enable: true
            }
        );
        assert_eq!(
            ok("set bonding lacp dedicated_queues 2 disable"),
            Command::SetDedicatedQueues {
                bond: idx(2),
                enable: false
            }
        );
    }

    #[test]
    fn set_bonding_option_takes_the_rest_of_the_line() {
        assert_eq!(
            ok("set bonding option bond0 arp_ip_target 10.0.0.1,10.0.0.2"),
            Command::SetOption {
                bond: name("bond0"),
                option: "arp_ip_target".into(),
                value: "10.0.0.1,10.0.0.2".into()
            }
        );
        assert_eq!(
            ok("set bonding option 1 arp_ip_target  +10.0.0.1,  -10.0.0.2   "),
            Command::SetOption {
                bond: idx(1),
                option: "arp_ip_target".into(),
                value: "+10.0.0.1,  -10.0.0.2".into()
            }
        );
        // Not a show command: --json is part of the value.
        assert_eq!(
            ok("set bonding option 1 miimon --json"),
            Command::SetOption {
                bond: idx(1),
                option: "miimon".into(),
                value: "--json".into()
            }
        );
        assert_eq!(
            err("set bonding option bond0 miimon"),
            "set bonding option: missing <value> (a value)\n\
             usage: set bonding option <bond> <linux-option> <value>"
        );
    }

    #[test]
    fn set_bonding_active() {
        assert_eq!(
            ok("set bonding active bond0 eth1"),
            Command::SetActive {
                bond: name("bond0"),
                member: name("eth1")
            }
        );
        assert_eq!(
            ok("set bonding active 4 1"),
            Command::SetActive {
                bond: idx(4),
                member: idx(1)
            }
        );
    }

    #[test]
    fn send_bonding_marker() {
        assert_eq!(
            ok("send bonding marker bond0 eth1"),
            Command::SendMarker {
                bond: name("bond0"),
                member: name("eth1")
            }
        );
        assert_eq!(
            ok("send bonding marker 4 1"),
            Command::SendMarker {
                bond: idx(4),
                member: idx(1)
            }
        );
        assert_eq!(
            err("send bonding marker bond0"),
            "send bonding marker: missing <member> (a member port number or name)\n\
             usage: send bonding marker <bond> <member>"
        );
        assert!(err("send bonding marker bond0 eth0 --json").contains("usage"));
    }

    #[test]
    fn show_bonding_commands_with_and_without_json() {
        assert_eq!(
            ok("show bonding config 4"),
            Command::ShowBondConfig {
                bond: idx(4),
                json: false
            }
        );
        assert_eq!(
            ok("show bonding config bond0 --json"),
            Command::ShowBondConfig {
                bond: name("bond0"),
                json: true
            }
        );
        assert_eq!(
            ok("show bonding lacp info bond0"),
            Command::ShowLacpInfo {
                bond: name("bond0"),
                json: false
            }
        );
        assert_eq!(
            ok("show bonding lacp info 2 --json"),
            Command::ShowLacpInfo {
                bond: idx(2),
                json: true
            }
        );
        assert_eq!(
            ok("show bonding status bond0"),
            Command::ShowBondStatus {
                bond: name("bond0"),
                json: false
            }
        );
        assert_eq!(
            ok("show bonding status 0 --json"),
            Command::ShowBondStatus {
                bond: idx(0),
                json: true
            }
        );
        assert_eq!(
            ok("show bonding events bond0"),
            Command::ShowBondEvents {
                bond: name("bond0"),
                count: None,
                json: false
            }
        );
        assert_eq!(
            ok("show bonding events bond0 20"),
            Command::ShowBondEvents {
                bond: name("bond0"),
                count: Some(20),
                json: false
            }
        );
        assert_eq!(
            ok("show bonding events 1 --json"),
            Command::ShowBondEvents {
                bond: idx(1),
                count: None,
                json: true
            }
        );
        assert_eq!(
            ok("show bonding events 1 5 --json"),
            Command::ShowBondEvents {
                bond: idx(1),
                count: Some(5),
                json: true
            }
        );
        assert_eq!(
            ok("show bonding list"),
            Command::ShowBondList { json: false }
        );
        assert_eq!(
            ok("show bonding list --json"),
            Command::ShowBondList { json: true }
        );
    }

    #[test]
    fn port_commands() {
        let all = PortSel::All;
        let cases: Vec<(&str, Command)> = vec![
            (
                "show port info all",
                Command::ShowPortInfo {
                    port: all.clone(),
                    json: false,
                },
            ),
            (
                "show port info 1 --json",
                Command::ShowPortInfo {
                    port: PortSel::One(idx(1)),
                    json: true,
                },
            ),
            (
                "show port stats eth0",
                Command::ShowPortStats {
                    port: PortSel::One(name("eth0")),
                    json: false,
                },
            ),
            (
                "show port stats all --json",
                Command::ShowPortStats {
                    port: all.clone(),
                    json: true,
                },
            ),
            (
                "show port summary all",
                Command::ShowPortSummary {
                    port: all.clone(),
                    json: false,
                },
            ),
            (
                "show port summary bond0 --json",
                Command::ShowPortSummary {
                    port: PortSel::One(name("bond0")),
                    json: true,
                },
            ),
            (
                "show port xstats 7",
                Command::ShowPortXstats {
                    port: PortSel::One(idx(7)),
                    json: false,
                },
            ),
            (
                "show port xstats all --json",
                Command::ShowPortXstats {
                    port: all.clone(),
                    json: true,
                },
            ),
            (
                "clear port stats all",
                Command::ClearPortStats { port: all.clone() },
            ),
            (
                "clear port stats lan0",
                Command::ClearPortStats {
                    port: PortSel::One(name("lan0")),
                },
            ),
            ("set link-up port 0", Command::SetLinkUp { port: idx(0) }),
            (
                "set link-up port eth0",
                Command::SetLinkUp { port: name("eth0") },
            ),
            (
                "set link-down port 3",
                Command::SetLinkDown { port: idx(3) },
            ),
            (
                "set link-down port bond0",
                Command::SetLinkDown {
                    port: name("bond0"),
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(ok(line), want, "{line}");
        }
    }

    #[test]
    fn run_control_commands() {
        assert_eq!(ok("start"), Command::Start);
        assert_eq!(ok("stop"), Command::Stop);
        assert_eq!(ok("quit"), Command::Quit);
        assert_eq!(ok("exit"), Command::Quit);
        assert_eq!(ok("set fwd io"), Command::SetFwd { mode: FwdMode::Io });
        assert_eq!(
            ok("add forward lan bond1"),
            Command::AddForward {
                from: name("lan"),
                to: name("bond1")
            }
        );
        assert_eq!(
            ok("remove forward 0 bond1"),
            Command::RemoveForward {
                from: idx(0),
                to: name("bond1")
            }
        );
        assert_eq!(ok("show config fwd"), Command::ShowFwd { json: false });
        assert_eq!(
            ok("show config fwd --json"),
            Command::ShowFwd { json: true }
        );
        assert!(err("add forward lan").contains("usage: add forward <from> <to>"));
        assert_eq!(ok("set fwd mac"), Command::SetFwd { mode: FwdMode::Mac });
        assert_eq!(ok("help"), Command::Help { topic: None });
        assert_eq!(
            ok("help  set   bonding mode"),
            Command::Help {
                topic: Some("set bonding mode".into())
            }
        );
        assert_eq!(
            ok("help show"),
            Command::Help {
                topic: Some("show".into())
            }
        );
    }

    #[test]
    fn target_display_round_trips() {
        assert_eq!(idx(3).to_string(), "3");
        assert_eq!(name("bond0").to_string(), "bond0");
    }

    // --- parse: errors -------------------------------------------------------------------

    #[test]
    fn unknown_command_suggests_the_nearest_keyword() {
        assert_eq!(
            err("sho bonding config 0"),
            "unknown command \"sho bonding config 0\" (did you mean \"show\"?)"
        );
        assert_eq!(
            err("SHOW port info all"),
            "unknown command \"SHOW port info all\" (did you mean \"show\"?)"
        );
        assert_eq!(err("frobnicate"), "unknown command \"frobnicate\"");
        assert_eq!(
            err("qiut"),
            "unknown command \"qiut\" (did you mean \"quit\"?)"
        );
        assert_eq!(
            parse("  sho bonding  "),
            Err(UsageError::UnknownCommand {
                line: "sho bonding".into(),
                suggestion: Some("show".into()),
                usage: vec![]
            })
        );
    }

    #[test]
    fn unknown_word_deeper_suggests_and_shows_usages() {
        let e = err("set bonding moed 1 0");
        assert!(
            e.starts_with("unknown command \"set bonding moed 1 0\" (did you mean \"mode\"?)\n"),
            "{e}"
        );
        assert!(e.contains("\nusage: set bonding mode <mode> <bond>"), "{e}");
        assert!(
            e.contains("\nusage: set bonding mon_period <bond> <ms>"),
            "{e}"
        );
        assert!(!e.contains("usage: show"), "{e}");
        assert_eq!(
            err("add bonding slav 0 1"),
            "unknown command \"add bonding slav 0 1\" (did you mean \"slave\"?)\n\
             usage: add bonding member|slave <port> <bond>"
        );
        assert_eq!(
            err("show port xstat all"),
            "unknown command \"show port xstat all\" (did you mean \"xstats\"?)\n\
             usage: show port info all|<port> [--json]\n\
             usage: show port stats all|<port> [--json]\n\
             usage: show port summary all|<port> [--json]\n\
             usage: show port xstats all|<port> [--json]"
        );
    }

    #[test]
    fn incomplete_command_lists_what_may_follow() {
        assert_eq!(
            err("show bonding lacp"),
            "incomplete command \"show bonding lacp\": expected \"info\"\n\
             usage: show bonding lacp info <bond> [--json]"
        );
        assert_eq!(
            parse("clear port"),
            Err(UsageError::Incomplete {
                line: "clear port".into(),
                expected: vec!["stats".into()],
                usage: vec!["clear port stats all|<port>".into()]
            })
        );
        let e = err("show bonding");
        assert!(
            e.starts_with(
                "incomplete command \"show bonding\": expected one of \"config\", \"lacp\", \
                 \"status\", \"events\", \"list\"\n"
            ),
            "{e}"
        );
        let e = err("add bonding");
        assert!(
            e.starts_with(
                "incomplete command \"add bonding\": expected one of \"member\", \"slave\""
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_number_messages() {
        assert_eq!(
            err("set bonding mon_period 0 fast"),
            "set bonding mon_period: expected a period in ms, got \"fast\"\n\
             usage: set bonding mon_period <bond> <ms>"
        );
        assert_eq!(
            err("set bonding mon_period 0 -5"),
            "set bonding mon_period: expected a period in ms, got \"-5\"\n\
             usage: set bonding mon_period <bond> <ms>"
        );
        assert_eq!(
            err("set bonding mon_period 0 4294967296"),
            "set bonding mon_period: expected a period in ms, got \"4294967296\" \
             (at most 4294967295)\nusage: set bonding mon_period <bond> <ms>"
        );
        assert_eq!(
            err("add bonding slave 65536 0"),
            "add bonding slave: expected a port number or name, got \"65536\" (at most 65535)\n\
             usage: add bonding member|slave <port> <bond>"
        );
        assert_eq!(
            err("add bonding member 1 -2"),
            "add bonding member: expected a bond port number or name, got \"-2\"\n\
             usage: add bonding member|slave <port> <bond>"
        );
        assert_eq!(
            err("create bonding device 1 one"),
            "create bonding device: expected a socket id, got \"one\"\n\
             usage: create bonding device <mode> <socket>"
        );
        assert_eq!(
            err("create bonding device 1 +1"),
            "create bonding device: expected a socket id, got \"+1\"\n\
             usage: create bonding device <mode> <socket>"
        );
        assert_eq!(
            err("show bonding events bond0 many"),
            "show bonding events: expected a number of events, got \"many\"\n\
             usage: show bonding events <bond> [<count>] [--json]"
        );
        assert_eq!(
            err("show port stats 99999"),
            "show port stats: expected \"all\" or a port number or name, got \"99999\" \
             (at most 65535)\nusage: show port stats all|<port> [--json]"
        );
    }

    #[test]
    fn bad_mac_messages() {
        for mac in [
            "02:00:00:00:00",
            "02:00:00:00:00:01:02",
            "02:00:00:00:00:1",
            "02:00:00:00:00:001",
            "02-00-00-00-00-01",
            "02:00:00:00:00:0g",
            "02:00:00:00:00:",
            "+2:00:00:00:00:01",
            "02:00:00:00:00:01:",
            "xx",
        ] {
            assert_eq!(
                err(&format!("set bonding mac_addr bond0 {mac}")),
                format!(
                    "set bonding mac_addr: expected a MAC address like aa:bb:cc:dd:ee:ff, \
                     got \"{mac}\"\nusage: set bonding mac_addr <bond> <mac>"
                )
            );
        }
    }

    #[test]
    fn bad_enum_messages() {
        assert_eq!(
            err("set bonding balance_xmit_policy 0 l4"),
            "set bonding balance_xmit_policy: expected a transmit hash policy (l2, l23, l34, \
             layer2, layer2+3, layer3+4, encap2+3, encap3+4, vlan+srcmac), got \"l4\"\n\
             usage: set bonding balance_xmit_policy <bond> l2|l23|l34|<linux policy name>"
        );
        assert_eq!(
            err("set bonding agg_mode 0 fastest"),
            "set bonding agg_mode: expected an aggregator selection mode (count, stable, \
             bandwidth), got \"fastest\"\nusage: set bonding agg_mode <bond> count|stable|bandwidth"
        );
        assert_eq!(
            err("set bonding lacp dedicated_queues 0 on"),
            "set bonding lacp dedicated_queues: expected enable or disable, got \"on\"\n\
             usage: set bonding lacp dedicated_queues <bond> enable|disable"
        );
        assert_eq!(
            err("set fwd rxonly"),
            "set fwd: expected a forwarding mode (io, mac), got \"rxonly\"\nusage: set fwd io|mac"
        );
        let mode_err = "expected a bonding mode (0-6, balance-rr, active-backup, balance-xor, \
                        broadcast, 802.3ad, balance-tlb, balance-alb)";
        assert_eq!(
            err("set bonding mode 7 0"),
            format!(
                "set bonding mode: {mode_err}, got \"7\" (at most 6)\n\
                 usage: set bonding mode <mode> <bond>"
            )
        );
        assert_eq!(
            err("create bonding device Active-Backup 0"),
            format!(
                "create bonding device: {mode_err}, got \"Active-Backup\"\n\
                 usage: create bonding device <mode> <socket>"
            )
        );
        // Case-sensitive as in testpmd.
        assert!(err("set bonding balance_xmit_policy 0 L2").contains("got \"L2\""));
        assert!(err("set bonding lacp dedicated_queues 0 Enable").contains("got \"Enable\""));
    }

    #[test]
    fn missing_and_extra_argument_messages() {
        assert_eq!(
            err("add bonding member 1"),
            "add bonding member: missing <bond> (a bond port number or name)\n\
             usage: add bonding member|slave <port> <bond>"
        );
        assert_eq!(
            err("create bonding device"),
            "create bonding device: missing <mode> (a bonding mode (0-6, balance-rr, \
             active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb))\n\
             usage: create bonding device <mode> <socket>"
        );
        assert_eq!(
            err("show bonding config --json"),
            "show bonding config: missing <bond> (a bond port number or name)\n\
             usage: show bonding config <bond> [--json]"
        );
        assert_eq!(
            err("show port info"),
            "show port info: missing all|<port> (\"all\" or a port number or name)\n\
             usage: show port info all|<port> [--json]"
        );
        assert_eq!(
            err("start now"),
            "start: unexpected argument \"now\"\nusage: start"
        );
        assert_eq!(
            err("exit 0"),
            "exit: unexpected argument \"0\"\nusage: quit|exit"
        );
        assert_eq!(
            err("show bonding list bond0"),
            "show bonding list: unexpected argument \"bond0\"\nusage: show bonding list [--json]"
        );
        assert_eq!(
            err("clear port stats all --json"),
            "clear port stats: unexpected argument \"--json\"\nusage: clear port stats all|<port>"
        );
        // --json only at the end, once.
        assert!(err("show bonding config --json bond0").contains("got \"--json\""));
        assert!(err("show bonding list --json --json").contains("unexpected argument \"--json\""));
        assert!(err("set link-up port 1 2").contains("unexpected argument \"2\""));
    }

    #[test]
    fn help_topic_is_checked_when_parsing() {
        assert_eq!(
            parse("help sho bonding"),
            Err(UsageError::UnknownTopic {
                topic: "sho bonding".into(),
                suggestion: Some("show".into())
            })
        );
        assert_eq!(
            err("help show bonding confg"),
            "no help for \"show bonding confg\" (did you mean \"config\"?)"
        );
    }

    // --- help ----------------------------------------------------------------------------

    #[test]
    fn help_lists_every_command() {
        let text = help(None).unwrap();
        assert_eq!(help(Some("  ")).unwrap(), text);
        assert_eq!(text.lines().count(), COMMANDS.len() + 1);
        for spec in COMMANDS {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{} ", spec.name())))
                .unwrap_or_else(|| panic!("{} missing from\n{text}", spec.name()));
            assert!(line.ends_with(spec.summary()), "{line}");
        }
        for name in [
            "create bonding device",
            "add bonding member|slave",
            "set bonding lacp dedicated_queues",
            "show bonding events",
            "quit|exit",
            "help",
        ] {
            assert!(text.contains(&format!("  {name} ")), "{name}");
        }
    }

    #[test]
    fn help_for_every_command_gives_usage_and_description() {
        for spec in COMMANDS {
            let kw = spec.kw_len();
            for alt in 0..2 {
                let words: Vec<&str> = (0..kw)
                    .map(|p| {
                        let k = spec.keyword(p).unwrap();
                        k[alt.min(k.len() - 1)]
                    })
                    .collect();
                let text = help(Some(&words.join(" "))).unwrap();
                assert!(
                    text.starts_with(&format!("usage: {}\n\n", spec.usage())),
                    "{text}"
                );
                for l in spec.help.lines() {
                    assert!(text.contains(l.trim()), "{l} not in {text}");
                }
                assert_eq!(
                    ok(&format!("help {}", words.join(" "))),
                    Command::Help {
                        topic: Some(words.join(" "))
                    }
                );
            }
        }
    }

    #[test]
    fn help_examples() {
        assert_eq!(
            help(Some("set bonding mon_period")).unwrap(),
            "usage: set bonding mon_period <bond> <ms>\n\n\
             Set the link monitoring period in milliseconds (Linux option miimon).\n\
             0 turns the MII link monitor off.\n"
        );
        assert_eq!(
            help(Some("add bonding slave")),
            help(Some("add bonding member"))
        );
        assert_eq!(help(Some("exit")), help(Some("quit")));
        // A whole command line gives the command's help.
        assert_eq!(
            help(Some("set bonding mode 4 bond0")),
            help(Some("set bonding mode"))
        );
        assert!(
            help(Some("show bonding events"))
                .unwrap()
                .starts_with("usage: show bonding events <bond> [<count>] [--json]\n")
        );
    }

    #[test]
    fn help_on_a_partial_command_lists_its_commands() {
        let text = help(Some("show bonding")).unwrap();
        assert!(
            text.starts_with("Commands starting with \"show bonding\":\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 6, "{text}");
        for n in ["config", "lacp info", "status", "events", "list"] {
            assert!(text.contains(&format!("show bonding {n} ")), "{n}: {text}");
        }
        assert!(!text.contains("show port"), "{text}");
        let set = help(Some("set")).unwrap();
        assert!(
            set.contains("set fwd") && set.contains("set link-up port"),
            "{set}"
        );
        assert!(!set.contains("show"), "{set}");
    }

    #[test]
    fn help_on_unknown_words() {
        assert_eq!(
            help(Some("sho")),
            Err(UsageError::UnknownTopic {
                topic: "sho".into(),
                suggestion: Some("show".into())
            })
        );
        assert_eq!(
            help(Some("bogus")).unwrap_err().to_string(),
            "no help for \"bogus\""
        );
        assert_eq!(
            help(Some("set bonding mac")).unwrap_err().to_string(),
            "no help for \"set bonding mac\" (did you mean \"mac_addr\"?)"
        );
    }

    // --- completion ----------------------------------------------------------------------

    #[test]
    fn complete_first_word() {
        let all = strs(&[
            "add", "clear", "create", "exit", "help", "quit", "remove", "send", "set", "show",
            "start", "stop",
        ]);
        assert_eq!(comp(""), all);
        assert_eq!(comp("   "), all);
        assert_eq!(comp("s"), strs(&["send", "set", "show", "start", "stop"]));
        assert_eq!(comp("st"), strs(&["start", "stop"]));
        assert_eq!(comp("sh"), strs(&["show"]));
        assert_eq!(comp("show"), strs(&["show"]));
        assert!(comp("x").is_empty());
        assert!(comp("# show").is_empty());
        assert!(comp("#").is_empty());
    }

    #[test]
    fn complete_keywords_at_each_position() {
        assert_eq!(comp("show "), strs(&["bonding", "config", "port"]));
        assert_eq!(comp("show config "), strs(&["fwd"]));
        assert_eq!(comp("add "), strs(&["bonding", "forward"]));
        assert_eq!(comp("remove f"), strs(&["forward"]));
        assert_eq!(
            comp("show bonding "),
            strs(&["config", "events", "lacp", "list", "status"])
        );
        assert_eq!(comp("show bonding l"), strs(&["lacp", "list"]));
        assert_eq!(comp("show bonding lacp "), strs(&["info"]));
        assert_eq!(
            comp("show port "),
            strs(&["info", "stats", "summary", "xstats"])
        );
        assert_eq!(
            comp("set "),
            strs(&["bonding", "fwd", "link-down", "link-up"])
        );
        assert_eq!(
            comp("set bonding "),
            strs(&[
                "active",
                "agg_mode",
                "balance_xmit_policy",
                "lacp",
                "mac_addr",
                "mode",
                "mon_period",
                "option",
                "primary",
            ])
        );
        assert_eq!(
            comp("set bonding m"),
            strs(&["mac_addr", "mode", "mon_period"])
        );
        assert_eq!(comp("set bonding lacp "), strs(&["dedicated_queues"]));
        assert_eq!(comp("add bonding "), strs(&["member", "slave"]));
        assert_eq!(comp("remove bonding s"), strs(&["slave"]));
        assert_eq!(comp("set link-up "), strs(&["port"]));
        assert_eq!(comp("create bonding "), strs(&["device"]));
        assert_eq!(comp("clear "), strs(&["port"]));
        // Nothing follows an unknown word.
        assert!(comp("sho ").is_empty());
        assert!(comp("set bonding bogus ").is_empty());
    }

    #[test]
    fn complete_names_from_context() {
        // Bonds.
        assert_eq!(
            comp("show bonding config "),
            strs(&["bond0", "bond1", "uplink"])
        );
        assert_eq!(comp("show bonding config b"), strs(&["bond0", "bond1"]));
        assert_eq!(comp("set bonding mon_period u"), strs(&["uplink"]));
        assert_eq!(
            comp("add bonding slave eth2 "),
            strs(&["bond0", "bond1", "uplink"])
        );
        assert_eq!(
            comp("set bonding mode 4 "),
            strs(&["bond0", "bond1", "uplink"])
        );
        // Ports to become members.
        assert_eq!(
            comp("add bonding member "),
            strs(&["eth0", "eth1", "eth2", "lan0"])
        );
        // Members.
        assert_eq!(comp("remove bonding member "), strs(&["eth0", "eth1"]));
        assert_eq!(comp("set bonding primary e"), strs(&["eth0", "eth1"]));
        assert_eq!(comp("set bonding active bond0 "), strs(&["eth0", "eth1"]));
        // Any port, bonds included, and all.
        assert_eq!(
            comp("show port stats "),
            strs(&[
                "all", "bond0", "bond1", "eth0", "eth1", "eth2", "lan0", "uplink"
            ])
        );
        assert_eq!(comp("clear port stats a"), strs(&["all"]));
        assert_eq!(
            comp("set link-down port "),
            strs(&["bond0", "bond1", "eth0", "eth1", "eth2", "lan0", "uplink"])
        );
        // Option names.
        assert_eq!(
            comp("set bonding option bond0 "),
            strs(&["arp_interval", "arp_ip_target", "miimon", "mode"])
        );
        assert_eq!(
            comp("set bonding option bond0 arp"),
            strs(&["arp_interval", "arp_ip_target"])
        );
        // Empty context: nothing to offer.
        assert!(complete("show bonding config ", &Names::default()).is_empty());
    }

    #[test]
    fn complete_enumerated_values() {
        assert_eq!(
            comp("create bonding device "),
            strs(&[
                "802.3ad",
                "active-backup",
                "balance-alb",
                "balance-rr",
                "balance-tlb",
                "balance-xor",
                "broadcast",
            ])
        );
        assert_eq!(
            comp("set bonding mode bal"),
            strs(&["balance-alb", "balance-rr", "balance-tlb", "balance-xor"])
        );
        assert_eq!(
            comp("set bonding balance_xmit_policy bond0 "),
            strs(&[
                "encap2+3",
                "encap3+4",
                "l2",
                "l23",
                "l34",
                "layer2",
                "layer2+3",
                "layer3+4",
                "vlan+srcmac",
            ])
        );
        assert_eq!(
            comp("set bonding balance_xmit_policy 0 l"),
            strs(&["l2", "l23", "l34", "layer2", "layer2+3", "layer3+4"])
        );
        assert_eq!(
            comp("set bonding agg_mode bond0 "),
            strs(&["bandwidth", "count", "stable"])
        );
        assert_eq!(
            comp("set bonding lacp dedicated_queues 0 "),
            strs(&["disable", "enable"])
        );
        assert_eq!(comp("set fwd "), strs(&["io", "mac"]));
        assert_eq!(comp("set fwd m"), strs(&["mac"]));
    }

    #[test]
    fn complete_json_flag_and_ends() {
        assert_eq!(comp("show bonding config bond0 "), strs(&["--json"]));
        assert_eq!(comp("show bonding config bond0 -"), strs(&["--json"]));
        assert_eq!(comp("show bonding list "), strs(&["--json"]));
        assert_eq!(comp("show port xstats all "), strs(&["--json"]));
        // Optional count: --json may come at once.
        assert_eq!(comp("show bonding events bond0 "), strs(&["--json"]));
        assert_eq!(comp("show bonding events bond0 5 "), strs(&["--json"]));
        assert!(comp("show bonding list --json ").is_empty());
        assert!(comp("show bonding events bond0 5 --json ").is_empty());
        // Non-show commands take no flag; nothing after the last argument.
        assert!(comp("clear port stats all ").is_empty());
        assert!(comp("start ").is_empty());
        assert!(comp("add bonding member 1 2 ").is_empty());
        // Free-form values are not completed.
        assert!(comp("set bonding mon_period bond0 ").is_empty());
        assert!(comp("set bonding mac_addr bond0 ").is_empty());
        assert!(comp("set bonding option bond0 miimon ").is_empty());
        assert!(comp("set bonding option bond0 miimon 100 m").is_empty());
        assert!(comp("create bonding device 1 ").is_empty());
    }

    #[test]
    fn complete_help_topics() {
        assert_eq!(comp("help "), comp(""));
        assert_eq!(comp("help sh"), strs(&["show"]));
        assert_eq!(comp("help show bonding "), comp("show bonding "));
        assert_eq!(comp("help add bonding "), strs(&["member", "slave"]));
        // No placeholders after help.
        assert!(comp("help show bonding config ").is_empty());
        assert!(comp("help quit ").is_empty());
    }

    #[test]
    fn completions_parse() {
        // Every keyword completion of a complete command's prefix leads to a known command.
        for spec in COMMANDS {
            let mut line = String::new();
            for p in 0..spec.kw_len() {
                let k = spec.keyword(p).unwrap();
                let c = comp(&line);
                for alt in k {
                    assert!(
                        c.iter().any(|w| w == alt),
                        "{alt} not offered after {line:?}"
                    );
                }
                line.push_str(k[0]);
                line.push(' ');
            }
        }
    }

    // --- robustness ----------------------------------------------------------------------

    use dataplane::testing::Rng;

    fn random_word(rng: &mut Rng) -> String {
        const POOL: &[&str] = &[
            "show",
            "set",
            "bonding",
            "port",
            "member",
            "slave",
            "all",
            "--json",
            "-",
            "--",
            "#",
            "0",
            "65535",
            "65536",
            "-1",
            "99999999999999999999999",
            "l2",
            "layer3+4",
            "02:00:00:00:00:01",
            "::::::",
            "bond0",
            "é",
            "ß",
            "\u{200b}",
            "\u{0}",
            "\u{feff}",
            "ǅ",
            "İ",
            "😀",
            "+",
            ",",
            "a,b",
            "help",
            "option",
            "events",
            "mode",
        ];
        match rng.below(4) {
            0 => {
                let all: Vec<&str> = COMMANDS
                    .iter()
                    .flat_map(|s| s.words.iter())
                    .flat_map(|t| match t {
                        Tok::Kw(k) => k.to_vec(),
                        Tok::Arg(p, _) => vec![*p],
                    })
                    .collect();
                all[rng.below(all.len())].to_owned()
            }
            1 => POOL[rng.below(POOL.len())].to_owned(),
            2 => (0..rng.below(12))
                .map(|_| {
                    char::from_u32(u32::try_from(rng.below(0x11_0000)).unwrap()).unwrap_or('?')
                })
                .collect(),
            _ => (0..1 + rng.below(8))
                .map(|_| char::from(b"0123456789abcdef:+-_.,#"[rng.below(23)]))
                .collect(),
        }
    }

    fn exercise(line: &str) {
        let ctx = names();
        if let Err(e) = parse(line) {
            assert!(!e.to_string().is_empty());
        }
        if let Err(e) = help(Some(line)) {
            assert!(!e.to_string().is_empty());
        }
        let c = complete(line, &ctx);
        assert!(c.windows(2).all(|w| w[0] < w[1]), "{line:?}: {c:?}");
    }

    #[test]
    fn random_lines_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let seps = [" ", "  ", "\t", "\u{a0}", "\u{3000}", "\n", ""];
        for _ in 0..5000 {
            let mut line = String::new();
            for _ in 0..rng.below(9) {
                line.push_str(&random_word(&mut rng));
                line.push_str(seps[rng.below(seps.len())]);
            }
            exercise(&line);
        }
        // Every prefix and every mutation of valid lines, at char boundaries.
        for spec in COMMANDS {
            let mut words: Vec<&str> = (0..spec.kw_len())
                .map(|p| spec.keyword(p).unwrap()[0])
                .collect();
            words.extend(spec.args().map(|(_, k)| sample(k)));
            let line = words.join(" ");
            for (i, _) in line.char_indices() {
                exercise(&line[..i]);
                exercise(&format!("{}é{}", &line[..i], &line[i..]));
                exercise(&format!(
                    "{}{}",
                    &line[..i],
                    &line[(i + 1).min(line.len())..]
                ));
            }
        }
        // Raw bytes, lossily decoded.
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..rng.below(40))
                .map(|_| (rng.next_u64() & 0xff) as u8)
                .collect();
            exercise(&String::from_utf8_lossy(&bytes));
        }
        exercise(&"x".repeat(100_000));
        exercise(&"show ".repeat(10_000));
    }
}
