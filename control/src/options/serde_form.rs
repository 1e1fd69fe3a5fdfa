//! Structured (TOML) form: a table whose keys are the Linux option names and
//! whose values are strings, integers, booleans, or (for the target lists)
//! arrays of strings.  Every entry goes through [`BondOptions::set`].
//!
//! ```toml
//! mode = "802.3ad"          # or mode = 4
//! miimon = 100
//! lacp_rate = "fast"
//! all_slaves_active = true
//! ```

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::table::{OptionSpec, ValueKind, canonical_options, lookup};
use super::{BondOptions, OptionError};

/// One TOML value before it is turned into option text.
enum RawValue {
    Bool(bool),
    Int(i128),
    Str(String),
    List(Vec<String>),
}

struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, an integer, a boolean or an array of strings")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v.into()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<String>()? {
            items.push(item);
        }
        Ok(RawValue::List(items))
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawValueVisitor)
    }
}

impl RawValue {
    /// The option text for `spec`, refusing value types that make no sense
    /// for it (a boolean for `miimon`, an integer for `primary`, ...).
    fn into_text(self, spec: &OptionSpec) -> Result<String, OptionError> {
        let textual = matches!(
            spec.kind,
            ValueKind::Interface | ValueKind::Ipv4Targets | ValueKind::Ipv6Targets | ValueKind::Mac
        );
        let targets = matches!(spec.kind, ValueKind::Ipv4Targets | ValueKind::Ipv6Targets);
        match self {
            RawValue::Bool(b) if spec.kind == ValueKind::Bool => Ok(u8::from(b).to_string()),
            RawValue::Bool(b) => Err(spec.invalid(&b.to_string())),
            RawValue::Int(i) if textual => Err(spec.invalid(&i.to_string())),
            RawValue::Int(i) => Ok(i.to_string()),
            RawValue::Str(s) => Ok(s),
            RawValue::List(items) if targets => Ok(items.join(",")),
            RawValue::List(items) => Err(OptionError::InvalidValue {
                option: spec.name,
                value: format!("[{}]", items.join(", ")),
                expected: format!(
                    "{} (arrays are only accepted for target lists)",
                    spec.expected()
                ),
            }),
        }
    }
}

struct OptionsVisitor;

impl<'de> Visitor<'de> for OptionsVisitor {
    type Value = BondOptions;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of Linux bonding options")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BondOptions, A::Error> {
        let mut opts = BondOptions::default();
        while let Some(key) = map.next_key::<String>()? {
            let spec = lookup(&key).map_err(de::Error::custom)?;
            let raw: RawValue = map.next_value()?;
            let text = raw.into_text(spec).map_err(de::Error::custom)?;
            opts.set(spec.name, &text).map_err(de::Error::custom)?;
        }
        Ok(opts)
    }
}

impl<'de> Deserialize<'de> for BondOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(OptionsVisitor)
    }
}

/// Serialized form of one option value.
enum OutValue {
    Bool(bool),
    Int(u64),
    Str(String),
    List(Vec<String>),
}

impl Serialize for OutValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OutValue::Bool(b) => s.serialize_bool(*b),
            OutValue::Int(i) => s.serialize_u64(*i),
            OutValue::Str(v) => s.serialize_str(v),
            OutValue::List(items) => items.serialize(s),
        }
    }
}

/// Serializes the options that are explicit or differ from the Linux
/// default, with the natural TOML type of each (names for enums, integers,
/// booleans for on/off options, arrays for target lists).
impl Serialize for BondOptions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let given: Vec<&OptionSpec> = canonical_options()
            .iter()
            .filter(|o| self.is_given(o.id))
            .collect();
        let mut map = s.serialize_map(Some(given.len()))?;
        for o in given {
            let value = match (o.kind, self.numeric(o.id)) {
                (ValueKind::Bool, Some(n)) => OutValue::Bool(n != 0),
                (ValueKind::Int { .. }, Some(n)) => OutValue::Int(n),
                (ValueKind::Ipv4Targets, _) => {
                    OutValue::List(self.arp_ip_target.iter().map(|a| a.to_string()).collect())
                }
                (ValueKind::Ipv6Targets, _) => {
                    OutValue::List(self.ns_ip6_target.iter().map(|a| a.to_string()).collect())
                }
                _ => OutValue::Str(self.value_of(o.id)),
            };
            map.serialize_entry(o.name, &value)?;
        }
        map.end()
    }
}
