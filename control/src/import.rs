//! Import of the bonding configurations operators migrate from:
//!
//! * Red Hat style `ifcfg-*` files: a bond file (`DEVICE=bond0`,
//!   `BONDING_OPTS="mode=1 miimon=100"`, `IPADDR=`, `NETMASK=`/`PREFIX=`,
//!   `GATEWAY=`) and member files (`MASTER=bond0`, `SLAVE=yes`); SUSE's
//!   `BONDING_MODULE_OPTS` / `BONDING_SLAVEn` are understood as well;
//! * `modprobe.conf` / `modprobe.d` lines: `alias bond0 bonding`,
//!   `options bonding mode=4 miimon=100 max_bonds=2`, `options bond0 ...`
//!   and the old `install bond1 /sbin/modprobe bonding -o bond1 ...` form.
//!
//! The results are plain structs; the options string is checked with
//! [`crate::options::BondOptions`] but returned as written.  Errors name the
//! file and line.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::str::FromStr;

use crate::options::{BondOptions, OptionError, split_words};

/// Import failure, always naming the file (and line when there is one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The line cannot be read.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A bonding option on that line is wrong.
    #[error("{file}:{line}: {source}")]
    Option {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The option error.
        source: OptionError,
    },
    /// A problem with a whole file (unreadable, inconsistent with others).
    #[error("{file}: {message}")]
    File {
        /// File name.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// One bond found in the imported configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportedBond {
    /// Bond interface name (`bond0`).
    pub name: String,
    /// Bonding options as written (BONDING_OPTS syntax); parses with
    /// [`BondOptions::from_bonding_opts`].
    pub options: String,
    /// Member interface names, in the order found.
    pub members: Vec<String>,
    /// Static IPv4 address.
    pub ipv4_address: Option<Ipv4Addr>,
    /// Prefix length of `ipv4_address`.
    pub ipv4_prefix: Option<u8>,
    /// Default gateway.
    pub ipv4_gateway: Option<Ipv4Addr>,
    /// File the bond was defined in.
    pub source: String,
    /// Non-fatal remarks (ignored settings, option warnings).
    pub notes: Vec<String>,
}

impl ImportedBond {
    /// The options parsed into a typed set.
    pub fn parsed_options(&self) -> Result<BondOptions, OptionError> {
        BondOptions::from_bonding_opts(&self.options)
    }
}

/// Result of an `ifcfg` import.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfcfgImport {
    /// Bonds, in the order their files were given.
    pub bonds: Vec<ImportedBond>,
    /// Remarks not tied to one bond.
    pub notes: Vec<String>,
}

/// Result of a modprobe configuration import.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModprobeImport {
    /// Bonds: `bond0..bondN-1` for `max_bonds=N` (one by default), then
    /// every aliased name not already listed.
    pub bonds: Vec<ImportedBond>,
    /// The `max_bonds` module parameter, if given.
    pub max_bonds: Option<u32>,
    /// Remarks (ignored lines).
    pub notes: Vec<String>,
}

/// Most bonds a modprobe `max_bonds` may ask the importer to create.
pub const MAX_IMPORTED_BONDS: u32 = 1024;

// ---------------------------------------------------------------------------
// ifcfg files

/// One `KEY=value` assignment of an ifcfg file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfcfgEntry {
    /// Variable name.
    pub key: String,
    /// Value with shell quoting removed.
    pub value: String,
    /// 1-based line number.
    pub line: usize,
}

/// A parsed ifcfg file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfcfgFile {
    /// File name as given.
    pub file: String,
    /// Assignments in file order.
    pub entries: Vec<IfcfgEntry>,
}

impl IfcfgFile {
    /// The last assignment of `key` (later assignments win, as in a shell).
    pub fn get(&self, key: &str) -> Option<&IfcfgEntry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.get(key).map(|e| e.value.as_str())
    }

    fn flag(&self, key: &str) -> bool {
        self.value(key).is_some_and(is_yes)
    }

    fn syntax(&self, line: usize, message: String) -> ImportError {
        ImportError::Syntax {
            file: self.file.clone(),
            line,
            message,
        }
    }
}

fn is_yes(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "yes" | "y" | "true" | "1" | "on"
    )
}

fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads one shell word (quotes and backslashes as in `sh`, no expansion)
/// and returns it with the rest of the line.
fn shell_word(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut iter = s.char_indices().peekable();
    while let Some(&(i, c)) = iter.peek() {
        if c.is_whitespace() {
            return Ok((out, &s[i..]));
        }
        iter.next();
        match c {
            '\'' => loop {
                match iter.next() {
                    Some((_, '\'')) => break,
                    Some((_, q)) => out.push(q),
                    None => return Err("unterminated single quote".to_string()),
                }
            },
            '"' => loop {
                match iter.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match iter.next() {
                        Some((_, e @ ('"' | '\\' | '$' | '`'))) => out.push(e),
                        Some((_, e)) => {
                            out.push('\\');
                            out.push(e);
                        }
                        None => return Err("unterminated double quote".to_string()),
                    },
                    Some((_, q)) => out.push(q),
                    None => return Err("unterminated double quote".to_string()),
                }
            },
            '\\' => match iter.next() {
                Some((_, e)) => out.push(e),
                None => return Err("backslash at end of line".to_string()),
            },
            _ => out.push(c),
        }
    }
    Ok((out, ""))
}

/// Parses an ifcfg file: `KEY=value` lines (value quoted or not, optional
/// `export`), blank lines and `#` comments.
pub fn parse_ifcfg(file: &str, text: &str) -> Result<IfcfgFile, ImportError> {
    let mut entries = Vec::new();
    for (idx, raw_line) in text.lines().enumerate() {
        let line = idx + 1;
        let err = |message: String| ImportError::Syntax {
            file: file.to_string(),
            line,
            message,
        };
        let trimmed = raw_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let body = trimmed
            .strip_prefix("export ")
            .map_or(trimmed, str::trim_start);
        let Some((key, rest)) = body.split_once('=') else {
            return Err(err(format!("expected KEY=value, found '{trimmed}'")));
        };
        if !is_valid_key(key) {
            return Err(err(format!("'{key}' is not a valid variable name")));
        }
        let (value, after) = shell_word(rest).map_err(|m| err(format!("{key}: {m}")))?;
        let after = after.trim();
        if !after.is_empty() && !after.starts_with('#') {
            return Err(err(format!(
                "{key}: unexpected text '{after}' after the value (quote values that contain spaces)"
            )));
        }
        entries.push(IfcfgEntry {
            key: key.to_string(),
            value,
            line,
        });
    }
    Ok(IfcfgFile {
        file: file.to_string(),
        entries,
    })
}

fn device_name(f: &IfcfgFile) -> Result<String, ImportError> {
    if let Some(e) = f.get("DEVICE") {
        let name = e.value.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(f.syntax(
                e.line,
                format!("DEVICE='{}' is not an interface name", e.value),
            ));
        }
        return Ok(name.to_string());
    }
    let base = Path::new(&f.file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(&f.file);
    match base.strip_prefix("ifcfg-") {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(ImportError::File {
            file: f.file.clone(),
            message: "no DEVICE= line and the file name is not ifcfg-<name>".to_string(),
        }),
    }
}

/// Prefix length of a contiguous netmask.
fn netmask_prefix(mask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// Class-based prefix that initscripts derive when neither PREFIX nor
/// NETMASK is given.
fn classful_prefix(addr: Ipv4Addr) -> Option<u8> {
    match addr.octets()[0] {
        0..=127 => Some(8),
        128..=191 => Some(16),
        192..=223 => Some(24),
        _ => None,
    }
}

fn first_of<'a>(f: &'a IfcfgFile, keys: &[&str]) -> Option<&'a IfcfgEntry> {
    keys.iter().find_map(|k| f.get(k))
}

struct Ipv4Settings {
    address: Option<Ipv4Addr>,
    prefix: Option<u8>,
    gateway: Option<Ipv4Addr>,
}

fn ipv4_settings(f: &IfcfgFile, notes: &mut Vec<String>) -> Result<Ipv4Settings, ImportError> {
    let parse_addr = |e: &IfcfgEntry| {
        Ipv4Addr::from_str(e.value.trim()).map_err(|_| {
            f.syntax(
                e.line,
                format!("{}='{}' is not an IPv4 address", e.key, e.value),
            )
        })
    };
    let address = first_of(f, &["IPADDR", "IPADDR0"])
        .filter(|e| !e.value.trim().is_empty())
        .map(parse_addr)
        .transpose()?;
    let gateway = first_of(f, &["GATEWAY", "GATEWAY0"])
        .filter(|e| !e.value.trim().is_empty())
        .map(parse_addr)
        .transpose()?;
    let mut prefix = None;
    if let Some(e) = first_of(f, &["PREFIX", "PREFIX0"]).filter(|e| !e.value.trim().is_empty()) {
        let p = e
            .value
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| {
                f.syntax(
                    e.line,
                    format!("{}='{}' is not a prefix length 0..=32", e.key, e.value),
                )
            })?;
        prefix = Some(p);
    } else if let Some(e) =
        first_of(f, &["NETMASK", "NETMASK0"]).filter(|e| !e.value.trim().is_empty())
    {
        let mask = parse_addr(e)?;
        let p = netmask_prefix(mask).ok_or_else(|| {
            f.syntax(
                e.line,
                format!("{}='{}' is not a contiguous netmask", e.key, e.value),
            )
        })?;
        prefix = Some(p);
    }
    if let (Some(addr), None) = (address, prefix) {
        let p = classful_prefix(addr).ok_or_else(|| ImportError::File {
            file: f.file.clone(),
            message: format!("IPADDR={addr} has no PREFIX or NETMASK and no class-based default"),
        })?;
        notes.push(format!(
            "{}: no PREFIX/NETMASK for {addr}, using the class-based /{p}",
            f.file
        ));
        prefix = Some(p);
    }
    if f.get("IPADDR1").is_some() {
        notes.push(format!(
            "{}: only the first IPv4 address is imported",
            f.file
        ));
    }
    if f.value("BOOTPROTO")
        .is_some_and(|v| v.eq_ignore_ascii_case("dhcp"))
    {
        notes.push(format!("{}: BOOTPROTO=dhcp is not imported", f.file));
    }
    Ok(Ipv4Settings {
        address,
        prefix,
        gateway,
    })
}

/// Checks an options string with the typed parser, attributing errors to
/// `file:line`.
fn check_options(
    file: &str,
    line: Option<usize>,
    options: &str,
    members: Option<&[&str]>,
    notes: &mut Vec<String>,
) -> Result<(), ImportError> {
    let opt_err = |source: OptionError| match line {
        Some(line) => ImportError::Option {
            file: file.to_string(),
            line,
            source,
        },
        None => ImportError::File {
            file: file.to_string(),
            message: source.to_string(),
        },
    };
    let at = line.map_or_else(|| file.to_string(), |l| format!("{file}:{l}"));
    let parsed = BondOptions::from_bonding_opts(options).map_err(opt_err)?;
    if let Some(members) = members {
        for w in parsed.validate(members).map_err(opt_err)? {
            notes.push(format!("{at}: {w}"));
        }
    }
    Ok(())
}

struct BondDraft {
    bond: ImportedBond,
    options_line: usize,
    file_index: usize,
}

/// Imports a set of ifcfg files given as `(file name, contents)`.
///
/// A file defines a bond when it has `TYPE=Bond`, `BONDING_MASTER=yes`,
/// `BONDING_OPTS`/`BONDING_MODULE_OPTS`, or when a member names its DEVICE
/// as `MASTER`.  A member has `MASTER=<bond>` and `SLAVE=yes`.
pub fn import_ifcfg<'a, I>(files: I) -> Result<IfcfgImport, ImportError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let parsed: Vec<IfcfgFile> = files
        .into_iter()
        .map(|(name, text)| parse_ifcfg(name, text))
        .collect::<Result<_, _>>()?;

    let mut out = IfcfgImport::default();
    let mut devices: BTreeMap<String, usize> = BTreeMap::new();
    let mut names = Vec::with_capacity(parsed.len());
    for (i, f) in parsed.iter().enumerate() {
        let name = device_name(f)?;
        if let Some(&other) = devices.get(&name) {
            return Err(ImportError::File {
                file: f.file.clone(),
                message: format!("device {name} is also defined in {}", parsed[other].file),
            });
        }
        devices.insert(name.clone(), i);
        names.push(name);
    }

    // Which devices are named as a MASTER by an enslaved file.
    let mut wanted_masters: BTreeMap<&str, ()> = BTreeMap::new();
    for f in &parsed {
        if let Some(m) = f.value("MASTER")
            && f.flag("SLAVE")
        {
            wanted_masters.insert(m.trim(), ());
        }
    }

    let mut drafts: BTreeMap<String, BondDraft> = BTreeMap::new();
    for (i, f) in parsed.iter().enumerate() {
        let name = &names[i];
        let is_bond = f
            .value("TYPE")
            .is_some_and(|t| t.eq_ignore_ascii_case("bond"))
            || f.flag("BONDING_MASTER")
            || f.get("BONDING_OPTS").is_some()
            || f.get("BONDING_MODULE_OPTS").is_some()
            || wanted_masters.contains_key(name.as_str());
        if !is_bond {
            continue;
        }
        let opts_entry = f
            .get("BONDING_OPTS")
            .or_else(|| f.get("BONDING_MODULE_OPTS"));
        let mut notes = Vec::new();
        let ip = ipv4_settings(f, &mut notes)?;
        // SUSE style member list.
        let mut suse: Vec<(u32, String)> = f
            .entries
            .iter()
            .filter_map(|e| {
                let n = e.key.strip_prefix("BONDING_SLAVE")?.parse::<u32>().ok()?;
                let v = e.value.trim();
                (!v.is_empty()).then(|| (n, v.to_string()))
            })
            .collect();
        suse.sort();
        suse.dedup_by(|a, b| a.0 == b.0);
        drafts.insert(
            name.clone(),
            BondDraft {
                bond: ImportedBond {
                    name: name.clone(),
                    options: opts_entry
                        .map(|e| e.value.trim().to_string())
                        .unwrap_or_default(),
                    members: suse.into_iter().map(|(_, m)| m).collect(),
                    ipv4_address: ip.address,
                    ipv4_prefix: ip.prefix,
                    ipv4_gateway: ip.gateway,
                    source: f.file.clone(),
                    notes,
                },
                options_line: opts_entry.map_or(0, |e| e.line),
                file_index: i,
            },
        );
    }

    for (i, f) in parsed.iter().enumerate() {
        let name = &names[i];
        let master = f.get("MASTER").filter(|e| !e.value.trim().is_empty());
        match (master, f.flag("SLAVE")) {
            (Some(m), true) => {
                let bond_name = m.value.trim();
                let Some(draft) = drafts.get_mut(bond_name) else {
                    return Err(f.syntax(
                        m.line,
                        format!(
                            "MASTER={bond_name}: no ifcfg file defines a bond named {bond_name}"
                        ),
                    ));
                };
                if drafts_contains_member(&draft.bond, name) {
                    continue;
                }
                draft.bond.members.push(name.clone());
                if first_of(f, &["IPADDR", "IPADDR0"]).is_some() {
                    out.notes.push(format!(
                        "{}: IP settings of member {name} are ignored",
                        f.file
                    ));
                }
            }
            (Some(m), false) => out.notes.push(format!(
                "{}:{}: MASTER={} without SLAVE=yes; {name} is not enslaved",
                f.file,
                m.line,
                m.value.trim()
            )),
            (None, true) => out
                .notes
                .push(format!("{}: SLAVE=yes without MASTER=; ignored", f.file)),
            (None, false) => {}
        }
    }

    let mut drafts: Vec<BondDraft> = drafts.into_values().collect();
    drafts.sort_by_key(|d| d.file_index);
    for mut d in drafts {
        let members: Vec<&str> = d.bond.members.iter().map(String::as_str).collect();
        let line = (d.options_line > 0).then_some(d.options_line);
        check_options(
            &d.bond.source,
            line,
            &d.bond.options,
            Some(&members),
            &mut d.bond.notes,
        )?;
        tracing::debug!(bond = %d.bond.name, file = %d.bond.source, "imported ifcfg bond");
        out.bonds.push(d.bond);
    }
    Ok(out)
}

fn drafts_contains_member(bond: &ImportedBond, name: &str) -> bool {
    bond.members.iter().any(|m| m == name)
}

/// Imports the `ifcfg-*` files of a directory (such as
/// `/etc/sysconfig/network-scripts`), skipping `ifcfg-lo` and backup files.
pub fn import_ifcfg_dir(dir: &Path) -> Result<IfcfgImport, ImportError> {
    let dir_err = |message: String| ImportError::File {
        file: dir.display().to_string(),
        message,
    };
    let mut files = Vec::new();
    let listing = std::fs::read_dir(dir).map_err(|e| dir_err(e.to_string()))?;
    for entry in listing {
        let entry = entry.map_err(|e| dir_err(e.to_string()))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let skipped = [".bak", ".orig", ".rpmnew", ".rpmsave", ".old", "~"]
            .iter()
            .any(|s| name.ends_with(s));
        if !name.starts_with("ifcfg-") || name == "ifcfg-lo" || skipped {
            continue;
        }
        let path = entry.path();
        let text = std::fs::read_to_string(&path).map_err(|e| ImportError::File {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        files.push((path.display().to_string(), text));
    }
    files.sort();
    import_ifcfg(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
}

// ---------------------------------------------------------------------------
// modprobe configuration

struct OptionsLine {
    line: usize,
    settings: Vec<String>,
}

/// Joins physical lines ending in `\` and returns `(first line number, text)`.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (idx, raw) in text.lines().enumerate() {
        let (start, mut acc) = current.take().unwrap_or((idx + 1, String::new()));
        match raw.strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                acc.push(' ');
                current = Some((start, acc));
            }
            None => {
                acc.push_str(raw);
                out.push((start, acc));
            }
        }
    }
    if let Some(last) = current {
        out.push(last);
    }
    out
}

fn quote_setting(s: &str) -> String {
    if s.chars().any(char::is_whitespace) {
        match s.split_once('=') {
            Some((k, v)) => format!("{k}=\"{v}\""),
            None => format!("\"{s}\""),
        }
    } else {
        s.to_string()
    }
}

/// Imports bonding settings from a modprobe configuration file.
pub fn import_modprobe(file: &str, text: &str) -> Result<ModprobeImport, ImportError> {
    let mut aliases: Vec<String> = Vec::new();
    let mut module_opts: Vec<OptionsLine> = Vec::new();
    let mut named_opts: Vec<(String, OptionsLine)> = Vec::new();
    let mut notes = Vec::new();
    let mut max_bonds: Option<u32> = None;

    let syntax = |line: usize, message: String| ImportError::Syntax {
        file: file.to_string(),
        line,
        message,
    };

    for (line, text) in logical_lines(text) {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let words = split_words(trimmed)
            .map_err(|e| syntax(line, format!("{} in '{}'", e.reason, e.word)))?;
        let Some((command, args)) = words.split_first() else {
            continue;
        };
        match command.as_str() {
            "alias" => {
                let [name, module] = args else {
                    return Err(syntax(line, "expected 'alias <name> <module>'".to_string()));
                };
                if module == "bonding" {
                    let name = name.strip_prefix("netdev-").unwrap_or(name);
                    if !aliases.iter().any(|a| a == name) {
                        aliases.push(name.to_string());
                    }
                }
            }
            "options" => {
                let Some((module, settings)) = args.split_first() else {
                    return Err(syntax(
                        line,
                        "expected 'options <module> <name=value>...'".to_string(),
                    ));
                };
                let entry = OptionsLine {
                    line,
                    settings: settings.to_vec(),
                };
                if module == "bonding" {
                    module_opts.push(entry);
                } else {
                    named_opts.push((module.clone(), entry));
                }
            }
            "install" => {
                // install bond1 /sbin/modprobe [--ignore-install] bonding -o bond1 k=v...
                let Some((name, cmd)) = args.split_first() else {
                    return Err(syntax(
                        line,
                        "expected 'install <name> <command>'".to_string(),
                    ));
                };
                let o = cmd.iter().position(|w| w == "-o");
                let loads_bonding = cmd.iter().any(|w| w == "bonding");
                match o {
                    Some(pos) if loads_bonding && cmd.get(pos + 1) == Some(name) => {
                        if !aliases.iter().any(|a| a == name) {
                            aliases.push(name.clone());
                        }
                        let settings: Vec<String> = cmd[pos + 2..]
                            .iter()
                            .take_while(|w| !matches!(w.as_str(), ";" | "&&" | "||"))
                            .cloned()
                            .collect();
                        named_opts.push((name.clone(), OptionsLine { line, settings }));
                    }
                    _ if loads_bonding => notes.push(format!(
                        "{file}:{line}: install command for {name} not understood; ignored"
                    )),
                    _ => {}
                }
            }
            "remove" | "blacklist" | "softdep" | "include" => {}
            other => notes.push(format!("{file}:{line}: unknown command '{other}' ignored")),
        }
    }

    // Check each options line on its own so errors point at it, and pull
    // max_bonds out of the per-bond settings.
    let mut strip_max_bonds = |entry: &mut OptionsLine,
                               module: bool,
                               notes: &mut Vec<String>|
     -> Result<(), ImportError> {
        let opt_err = |source| ImportError::Option {
            file: file.to_string(),
            line: entry.line,
            source,
        };
        let mut checked = BondOptions::default();
        let mut kept = Vec::new();
        for s in &entry.settings {
            checked
                .apply_bonding_opts(&quote_setting(s))
                .map_err(opt_err)?;
            if s.split_once('=').is_some_and(|(k, _)| k == "max_bonds") {
                if module {
                    max_bonds = Some(checked.max_bonds);
                } else {
                    notes.push(format!(
                        "{file}:{}: max_bonds only applies to 'options bonding'; ignored",
                        entry.line
                    ));
                }
            } else {
                kept.push(s.clone());
            }
        }
        entry.settings = kept;
        Ok(())
    };
    for entry in &mut module_opts {
        strip_max_bonds(entry, true, &mut notes)?;
    }
    let mut per_bond: BTreeMap<String, Vec<OptionsLine>> = BTreeMap::new();
    for (name, mut entry) in named_opts {
        if !aliases.contains(&name) {
            notes.push(format!(
                "{file}:{}: options for '{name}' ignored (not a bonding alias)",
                entry.line
            ));
            continue;
        }
        strip_max_bonds(&mut entry, false, &mut notes)?;
        per_bond.entry(name).or_default().push(entry);
    }

    if module_opts.is_empty() && aliases.is_empty() {
        return Ok(ModprobeImport {
            bonds: Vec::new(),
            max_bonds,
            notes,
        });
    }
    let count = max_bonds.unwrap_or(1);
    if count > MAX_IMPORTED_BONDS {
        let line = module_opts.last().map_or(1, |e| e.line);
        return Err(syntax(
            line,
            format!(
                "max_bonds={count} is more bonds than the importer creates (at most {MAX_IMPORTED_BONDS})"
            ),
        ));
    }
    let mut names: Vec<String> = (0..count).map(|i| format!("bond{i}")).collect();
    for a in &aliases {
        if !names.contains(a) {
            names.push(a.clone());
        }
    }

    let mut bonds = Vec::with_capacity(names.len());
    for name in names {
        let lines: Vec<&OptionsLine> = module_opts
            .iter()
            .chain(per_bond.get(&name).into_iter().flatten())
            .collect();
        // Check the combination; blame the last line that took part.
        let mut combined = BondOptions::default();
        for entry in &lines {
            let text = entry
                .settings
                .iter()
                .map(|s| quote_setting(s))
                .collect::<Vec<_>>()
                .join(" ");
            combined
                .apply_bonding_opts(&text)
                .map_err(|source| ImportError::Option {
                    file: file.to_string(),
                    line: entry.line,
                    source,
                })?;
        }
        let options = lines
            .iter()
            .flat_map(|e| e.settings.iter().map(|s| quote_setting(s)))
            .collect::<Vec<_>>()
            .join(" ");
        bonds.push(ImportedBond {
            name,
            options,
            source: file.to_string(),
            ..ImportedBond::default()
        });
    }
    Ok(ModprobeImport {
        bonds,
        max_bonds,
        notes,
    })
}

/// Writes imported bonds as a bondd config (TOML). The DPDK device of each member cannot be
/// known from the Linux files: each is written as `TODO-<interface>` with a comment, for the
/// operator to replace with the port's PCI address (`bondd check` then validates the file).
pub fn to_bondd_toml(bonds: &[ImportedBond], notes: &[String]) -> String {
    let mut out = String::from(
        "# Imported by `bondd import`. Replace every TODO device with the DPDK device string\n# (e.g. the PCI address) of that interface, add [[port]]s and [[forward]]s, then run\n# `bondd check --config FILE`.\n",
    );
    for n in notes {
        out += &format!("# note: {n}\n");
    }
    for b in bonds {
        out += &format!("\n# from {}\n[[bond]]\nname = {:?}\n", b.source, b.name);
        if !b.options.is_empty() {
            out += &format!("options = {:?}\n", b.options);
        }
        if let Some(ip) = b.ipv4_address {
            let prefix = b.ipv4_prefix.map(|p| format!("/{p}")).unwrap_or_default();
            out += &format!("ipaddr = [\"{ip}{prefix}\"]\n");
        }
        if let Some(gw) = b.ipv4_gateway {
            out += &format!("# gateway {gw} (bondd forwards at layer 2 and does not route)\n");
        }
        for n in &b.notes {
            out += &format!("# note: {n}\n");
        }
        for m in &b.members {
            out += &format!(
                "\n[[bond.member]]\nname = {m:?}\n# the DPDK device of {m}:\ndevice = \"TODO-{m}\"\n"
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOND0: &str = r#"# Bond for the storage network
DEVICE=bond0
NAME=bond0
TYPE=Bond
BONDING_MASTER=yes
BONDING_OPTS="mode=active-backup miimon=100 primary=eth0 updelay=200"
IPADDR=192.168.10.21
NETMASK=255.255.255.0
GATEWAY=192.168.10.1
BOOTPROTO=none
ONBOOT=yes   # start at boot
USERCTL=no
"#;

    const ETH0: &str = "DEVICE=eth0\nNAME=bond0-slave\nTYPE=Ethernet\nBOOTPROTO=none\nONBOOT=yes\nMASTER=bond0\nSLAVE=yes\nHWADDR=52:54:00:aa:bb:01\n";
    const ETH1: &str = "DEVICE='eth1'\nMASTER=\"bond0\"\nSLAVE=\"yes\"\nONBOOT=yes\n";
    const ETH2: &str = "DEVICE=eth2\nBOOTPROTO=dhcp\nONBOOT=yes\n";
    const BOND1: &str = "DEVICE=bond1\nBONDING_OPTS='mode=4 miimon=100 lacp_rate=fast xmit_hash_policy=layer3+4'\nIPADDR=10.20.0.5\nPREFIX=16\n";
    const ETH3: &str = "DEVICE=eth3\nMASTER=bond1\nSLAVE=yes\n";
    const ETH4: &str = "export DEVICE=eth4\nexport MASTER=bond1\nexport SLAVE=yes\n";

    fn set<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut v = vec![
            ("ifcfg-bond0", BOND0),
            ("ifcfg-eth0", ETH0),
            ("ifcfg-eth1", ETH1),
            ("ifcfg-eth2", ETH2),
            ("ifcfg-bond1", BOND1),
            ("ifcfg-eth3", ETH3),
            ("ifcfg-eth4", ETH4),
        ];
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn realistic_red_hat_set() {
        let imp = import_ifcfg(set(&[])).unwrap();
        assert_eq!(imp.bonds.len(), 2);
        let b0 = &imp.bonds[0];
        assert_eq!(b0.name, "bond0");
        assert_eq!(b0.source, "ifcfg-bond0");
        assert_eq!(
            b0.options,
            "mode=active-backup miimon=100 primary=eth0 updelay=200"
        );
        assert_eq!(b0.members, ["eth0", "eth1"]);
        assert_eq!(b0.ipv4_address, Some(Ipv4Addr::new(192, 168, 10, 21)));
        assert_eq!(b0.ipv4_prefix, Some(24));
        assert_eq!(b0.ipv4_gateway, Some(Ipv4Addr::new(192, 168, 10, 1)));
        assert!(b0.notes.is_empty(), "{:?}", b0.notes);
        let parsed = b0.parsed_options().unwrap();
        assert_eq!(parsed.primary.as_deref(), Some("eth0"));

        let b1 = &imp.bonds[1];
        assert_eq!(b1.name, "bond1");
        assert_eq!(b1.members, ["eth3", "eth4"]);
        assert_eq!(b1.ipv4_address, Some(Ipv4Addr::new(10, 20, 0, 5)));
        assert_eq!(b1.ipv4_prefix, Some(16));
        assert_eq!(b1.ipv4_gateway, None);
        let o = b1.parsed_options().unwrap();
        assert_eq!(o.mode, crate::options::Mode::Ieee8023ad);
        assert_eq!(o.lacp_rate, crate::options::LacpRate::Fast);
        assert!(imp.notes.is_empty(), "{:?}", imp.notes);
    }

    #[test]
    fn bad_bonding_opts_names_file_and_line() {
        let bad = BOND0.replace("mode=active-backup", "mode=active-bakup");
        let err = import_ifcfg(set(&[]).into_iter().map(|(n, t)| {
            if n == "ifcfg-bond0" {
                (n, bad.as_str())
            } else {
                (n, t)
            }
        }))
        .unwrap_err();
        assert!(
            matches!(&err, ImportError::Option { file, line: 6, .. } if file == "ifcfg-bond0"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("ifcfg-bond0:6: option 'mode': invalid value 'active-bakup'"),
            "{err}"
        );
    }

    #[test]
    fn primary_must_be_an_imported_member() {
        let bad = BOND0.replace("primary=eth0", "primary=eth7");
        let files = vec![("ifcfg-bond0", bad.as_str()), ("ifcfg-eth0", ETH0)];
        let err = import_ifcfg(files).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ifcfg-bond0:6: option 'primary': 'eth7' is not a member of this bond (members: eth0)"
        );
    }

    #[test]
    fn option_warnings_become_notes() {
        let files = vec![
            (
                "ifcfg-bond2",
                "DEVICE=bond2\nBONDING_OPTS=\"mode=1 miimon=100 updelay=250 packets_per_slave=4\"\n",
            ),
            ("ifcfg-eth5", "DEVICE=eth5\nMASTER=bond2\nSLAVE=yes\n"),
        ];
        let imp = import_ifcfg(files).unwrap();
        let notes = &imp.bonds[0].notes;
        assert!(
            notes.iter().any(|n| n
                .starts_with("ifcfg-bond2:2: option 'updelay': updelay (250) is not a multiple")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("packets_per_slave")),
            "{notes:?}"
        );
    }

    #[test]
    fn member_of_unknown_bond() {
        let files = vec![("ifcfg-eth0", "DEVICE=eth0\nMASTER=bond7\nSLAVE=yes\n")];
        let err = import_ifcfg(files).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ifcfg-eth0:2: MASTER=bond7: no ifcfg file defines a bond named bond7"
        );
    }

    #[test]
    fn bond_without_options_is_found_through_its_members() {
        let files = vec![
            ("ifcfg-bond0", "DEVICE=bond0\nONBOOT=yes\n"),
            ("ifcfg-eth0", "DEVICE=eth0\nMASTER=bond0\nSLAVE=yes\n"),
            ("ifcfg-eth1", "DEVICE=eth1\nMASTER=bond0\n"),
            ("ifcfg-eth2", "DEVICE=eth2\nSLAVE=yes\n"),
        ];
        let imp = import_ifcfg(files).unwrap();
        assert_eq!(imp.bonds.len(), 1);
        assert_eq!(imp.bonds[0].options, "");
        assert_eq!(imp.bonds[0].members, ["eth0"]);
        assert_eq!(
            imp.notes,
            [
                "ifcfg-eth1:2: MASTER=bond0 without SLAVE=yes; eth1 is not enslaved",
                "ifcfg-eth2: SLAVE=yes without MASTER=; ignored",
            ]
        );
        // Default miimon rule applies to the imported options.
        let mut o = imp.bonds[0].parsed_options().unwrap();
        o.finalize();
        assert_eq!(o.miimon, 100);
    }

    #[test]
    fn ifcfg_syntax_errors_name_file_and_line() {
        let cases = [
            (
                "DEVICE=bond0\nBONDING_OPTS=\"mode=1 miimon=100\nONBOOT=yes\n",
                2,
                "unterminated double quote",
            ),
            (
                "DEVICE=bond0\nBONDING_OPTS=mode=1 miimon=100\n",
                2,
                "unexpected text 'miimon=100'",
            ),
            (
                "DEVICE=bond0\nthis is not an assignment\n",
                2,
                "expected KEY=value",
            ),
            ("DEVICE=bond0\n1KEY=x\n", 2, "not a valid variable name"),
            (
                "DEVICE=bond0\nTYPE=Bond\nIPADDR=10.0.0.300\n",
                3,
                "not an IPv4 address",
            ),
            (
                "DEVICE=bond0\nTYPE=Bond\nIPADDR=10.0.0.3\nNETMASK=255.0.255.0\n",
                4,
                "not a contiguous netmask",
            ),
            (
                "DEVICE=bond0\nTYPE=Bond\nIPADDR=10.0.0.3\nPREFIX=33\n",
                4,
                "not a prefix length",
            ),
            ("DEVICE=bond0\nTYPE=Bond\nGATEWAY=gw\n", 3, "GATEWAY='gw'"),
            ("DEVICE=bond0\nKEY='abc\n", 2, "unterminated single quote"),
        ];
        for (text, line, needle) in cases {
            let err = import_ifcfg([("ifcfg-bond0", text)]).unwrap_err();
            match &err {
                ImportError::Syntax {
                    file,
                    line: l,
                    message,
                } => {
                    assert_eq!(file, "ifcfg-bond0");
                    assert_eq!(*l, line, "{text:?}: {err}");
                    assert!(message.contains(needle), "{text:?}: {err}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn ifcfg_quoting_and_comments() {
        let f = parse_ifcfg(
            "x",
            "# c\n\n  A=plain # comment\nB='single # not comment'\nC=\"dq \\\"x\\\" \\$HOME\"\nD=\nE=a\\ b\nA=override\n",
        )
        .unwrap();
        assert_eq!(f.get("A").unwrap().value, "override");
        assert_eq!(f.get("A").unwrap().line, 8);
        assert_eq!(f.get("B").unwrap().value, "single # not comment");
        assert_eq!(f.get("C").unwrap().value, "dq \"x\" $HOME");
        assert_eq!(f.get("D").unwrap().value, "");
        assert_eq!(f.get("E").unwrap().value, "a b");
    }

    #[test]
    fn netmask_and_classful_prefixes() {
        assert_eq!(netmask_prefix(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
        assert_eq!(netmask_prefix(Ipv4Addr::new(255, 255, 255, 255)), Some(32));
        assert_eq!(netmask_prefix(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
        assert_eq!(netmask_prefix(Ipv4Addr::new(255, 255, 128, 0)), Some(17));
        assert_eq!(netmask_prefix(Ipv4Addr::new(255, 0, 255, 0)), None);
        let imp = import_ifcfg([(
            "ifcfg-bond0",
            "DEVICE=bond0\nTYPE=Bond\nIPADDR=172.16.1.1\n",
        )])
        .unwrap();
        assert_eq!(imp.bonds[0].ipv4_prefix, Some(16));
        assert_eq!(
            imp.bonds[0].notes,
            ["ifcfg-bond0: no PREFIX/NETMASK for 172.16.1.1, using the class-based /16"]
        );
        let err = import_ifcfg([("ifcfg-bond0", "DEVICE=bond0\nTYPE=Bond\nIPADDR=224.0.0.1\n")])
            .unwrap_err();
        assert!(matches!(err, ImportError::File { .. }), "{err:?}");
        // PREFIX wins over NETMASK; IPADDR0/PREFIX0 (NetworkManager) work too.
        let imp = import_ifcfg([(
            "ifcfg-bond0",
            "DEVICE=bond0\nTYPE=Bond\nIPADDR0=10.1.2.3\nPREFIX0=26\nNETMASK=255.0.0.0\nGATEWAY0=10.1.2.1\n",
        )])
        .unwrap();
        assert_eq!(imp.bonds[0].ipv4_prefix, Some(26));
        assert_eq!(imp.bonds[0].ipv4_gateway, Some(Ipv4Addr::new(10, 1, 2, 1)));
    }

    #[test]
    fn duplicate_devices_are_refused() {
        let err = import_ifcfg([
            ("ifcfg-bond0", "DEVICE=bond0\nTYPE=Bond\n"),
            ("ifcfg-bond0-copy", "DEVICE=bond0\nTYPE=Bond\n"),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ifcfg-bond0-copy: device bond0 is also defined in ifcfg-bond0"
        );
    }

    #[test]
    fn device_name_from_file_name() {
        let imp = import_ifcfg([
            ("/etc/sysconfig/network-scripts/ifcfg-bond3", "TYPE=Bond\n"),
            (
                "/etc/sysconfig/network-scripts/ifcfg-ens1f0",
                "MASTER=bond3\nSLAVE=yes\n",
            ),
        ])
        .unwrap();
        assert_eq!(imp.bonds[0].name, "bond3");
        assert_eq!(imp.bonds[0].members, ["ens1f0"]);
        let err = import_ifcfg([("bond-config", "TYPE=Bond\n")]).unwrap_err();
        assert!(
            err.to_string().starts_with("bond-config: no DEVICE="),
            "{err}"
        );
    }

    #[test]
    fn suse_style_bond() {
        let imp = import_ifcfg([(
            "ifcfg-bond0",
            "BOOTPROTO='static'\nIPADDR='10.0.2.10/24'\nSTARTMODE='onboot'\nBONDING_MASTER='yes'\nBONDING_MODULE_OPTS='mode=active-backup miimon=100'\nBONDING_SLAVE1='eth1'\nBONDING_SLAVE0='eth0'\n",
        )]);
        // SUSE allows address/prefix in IPADDR; that is not an IPv4 address here.
        let err = imp.unwrap_err();
        assert!(err.to_string().contains("IPADDR='10.0.2.10/24'"), "{err}");
        let imp = import_ifcfg([(
            "ifcfg-bond0",
            "BONDING_MASTER='yes'\nBONDING_MODULE_OPTS='mode=active-backup miimon=100'\nBONDING_SLAVE1='eth1'\nBONDING_SLAVE0='eth0'\n",
        )])
        .unwrap();
        assert_eq!(imp.bonds[0].members, ["eth0", "eth1"]);
        assert_eq!(imp.bonds[0].options, "mode=active-backup miimon=100");
    }

    #[test]
    fn directory_import_skips_backups() {
        let dir = std::env::temp_dir().join(format!("bondopts-import-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ifcfg-bond0"), BOND0).unwrap();
        std::fs::write(dir.join("ifcfg-eth0"), ETH0).unwrap();
        std::fs::write(dir.join("ifcfg-eth1"), ETH1).unwrap();
        std::fs::write(dir.join("ifcfg-lo"), "DEVICE=lo\nIPADDR=127.0.0.1\n").unwrap();
        std::fs::write(
            dir.join("ifcfg-bond0.bak"),
            "DEVICE=bond0\nBONDING_OPTS=junk\n",
        )
        .unwrap();
        std::fs::write(dir.join("route-bond0"), "garbage line\n").unwrap();
        let imp = import_ifcfg_dir(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(imp.bonds.len(), 1);
        assert_eq!(imp.bonds[0].members, ["eth0", "eth1"]);
        assert!(imp.bonds[0].source.ends_with("ifcfg-bond0"));
        let missing = import_ifcfg_dir(Path::new("/nonexistent/bondopts")).unwrap_err();
        assert!(
            missing.to_string().starts_with("/nonexistent/bondopts: "),
            "{missing}"
        );
    }

    // -- modprobe ----------------------------------------------------------

    #[test]
    fn modprobe_module_options_and_max_bonds() {
        let imp = import_modprobe(
            "/etc/modprobe.d/bonding.conf",
            "# bonding\nalias bond0 bonding\noptions bonding mode=4 miimon=100 max_bonds=2\n",
        )
        .unwrap();
        assert_eq!(imp.max_bonds, Some(2));
        let names: Vec<&str> = imp.bonds.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["bond0", "bond1"]);
        for b in &imp.bonds {
            assert_eq!(b.options, "mode=4 miimon=100");
            assert_eq!(b.source, "/etc/modprobe.d/bonding.conf");
            assert!(b.members.is_empty());
        }
        assert!(imp.notes.is_empty(), "{:?}", imp.notes);
    }

    #[test]
    fn modprobe_per_alias_options() {
        let imp = import_modprobe(
            "modprobe.conf",
            "alias eth0 e1000e\n\
             alias bond0 bonding\n\
             alias bond1 bonding\n\
             options bonding miimon=100\n\
             options bond0 mode=1 primary=eth0\n\
             options bond1 mode=balance-xor \\\n    xmit_hash_policy=layer2+3\n\
             options e1000e InterruptThrottleRate=1\n",
        )
        .unwrap();
        assert_eq!(imp.max_bonds, None);
        assert_eq!(imp.bonds.len(), 2);
        assert_eq!(imp.bonds[0].name, "bond0");
        assert_eq!(imp.bonds[0].options, "miimon=100 mode=1 primary=eth0");
        assert_eq!(imp.bonds[1].name, "bond1");
        assert_eq!(
            imp.bonds[1].options,
            "miimon=100 mode=balance-xor xmit_hash_policy=layer2+3"
        );
        let o = imp.bonds[1].parsed_options().unwrap();
        assert_eq!(o.xmit_hash_policy, crate::options::XmitHashPolicy::Layer23);
    }

    #[test]
    fn modprobe_install_lines() {
        let imp = import_modprobe(
            "modprobe.conf",
            "install bond0 /sbin/modprobe --ignore-install bonding -o bond0 mode=1 miimon=100\n\
             install bond1 /sbin/modprobe bonding -o bond1 mode=0 arp_interval=200 arp_ip_target=10.0.0.1,10.0.0.2\n\
             install bond2 /bin/true bonding\n\
             frobnicate everything\n",
        )
        .unwrap();
        let names: Vec<&str> = imp.bonds.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["bond0", "bond1"]);
        assert_eq!(imp.bonds[0].options, "mode=1 miimon=100");
        assert_eq!(
            imp.bonds[1].options,
            "mode=0 arp_interval=200 arp_ip_target=10.0.0.1,10.0.0.2"
        );
        assert_eq!(
            imp.notes,
            [
                "modprobe.conf:3: install command for bond2 not understood; ignored",
                "modprobe.conf:4: unknown command 'frobnicate' ignored",
            ]
        );
    }

    #[test]
    fn modprobe_errors_name_file_and_line() {
        let cases = [
            (
                "alias bond0 bonding\noptions bonding mode=9\n",
                2,
                "option 'mode': invalid value '9'",
            ),
            (
                "options bonding miimon\n",
                1,
                "option 'miimon': malformed setting",
            ),
            ("alias bond0\n", 1, "expected 'alias <name> <module>'"),
            ("options\n", 1, "expected 'options <module>"),
            (
                "alias bond0 bonding\noptions bond0 primary=\"eth0\n",
                2,
                "unterminated",
            ),
            ("options bonding max_bonds=5000\n", 1, "max_bonds=5000"),
            (
                "alias bond0 bonding\n\noptions bond0 mode=1\noptions bond0 bogus=1\n",
                4,
                "unknown option 'bogus'",
            ),
            (
                "options bonding arp_ip_target=10.0.0.1\nalias bond0 bonding\noptions bond0 arp_ip_target=+10.0.0.1\n",
                3,
                "already in the target list",
            ),
        ];
        for (text, line, needle) in cases {
            let err = import_modprobe("bonding.conf", text).unwrap_err();
            let s = err.to_string();
            assert!(
                s.starts_with(&format!("bonding.conf:{line}: ")),
                "{text:?}: {s}"
            );
            assert!(s.contains(needle), "{text:?}: {s}");
        }
    }

    #[test]
    fn modprobe_edge_cases() {
        let none = import_modprobe("x.conf", "options e1000e foo=1\nblacklist pcspkr\n").unwrap();
        assert!(none.bonds.is_empty());
        let zero = import_modprobe(
            "x.conf",
            "options bonding max_bonds=0\nalias bond0 bonding\n",
        )
        .unwrap();
        let names: Vec<&str> = zero.bonds.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["bond0"]);
        assert_eq!(zero.bonds[0].options, "");
        let orphan =
            import_modprobe("x.conf", "options bonding mode=1\noptions bond3 mode=0\n").unwrap();
        assert_eq!(orphan.bonds.len(), 1);
        assert_eq!(
            orphan.notes,
            ["x.conf:2: options for 'bond3' ignored (not a bonding alias)"]
        );
        let netdev = import_modprobe(
            "x.conf",
            "alias netdev-bond5 bonding\noptions bond5 mode=1 max_bonds=3\n",
        )
        .unwrap();
        let names: Vec<&str> = netdev.bonds.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["bond0", "bond5"]);
        assert_eq!(netdev.bonds[1].options, "mode=1");
        assert_eq!(netdev.max_bonds, None);
        assert_eq!(
            netdev.notes,
            ["x.conf:2: max_bonds only applies to 'options bonding'; ignored"]
        );
    }

    #[test]
    fn no_panics_on_odd_files() {
        let junk = [
            "",
            "\n\n",
            "=",
            "==",
            "\\",
            "'",
            "\"",
            "A=\\",
            "export",
            "export =x",
            "A=\"\\",
            "é=1",
            "DEVICE=\nMASTER=\nSLAVE=yes",
            "DEVICE= \n",
            "TYPE=Bond\nIPADDR=\n",
        ];
        for j in junk {
            let _ = import_ifcfg([("ifcfg-x", j)]);
            let _ = import_modprobe("m", j);
            let _ = import_modprobe("m", &format!("options bonding {j}"));
            let _ = import_modprobe("m", &format!("install bond0 modprobe bonding -o bond0 {j}"));
        }
        let _ = import_modprobe("m", "install bond0 modprobe bonding -o");
        let _ = import_modprobe("m", "alias bond0 bonding\\");
    }
}
