use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

// ---------------------------------------------------------------------------
// Per-option value tables

/// Values one option must accept (`input` -> canonical value) and refuse.
struct Case {
    name: &'static str,
    good: &'static [(&'static str, &'static str)],
    /// Numbers that must give `OutOfRange` (integers) or `InvalidValue`
    /// (named options have no range).
    bad_numbers: &'static [&'static str],
    bad_names: &'static [&'static str],
}

const INTMAX_GOOD: &[(&str, &str)] = &[
    ("0", "0"),
    ("100", "100"),
    ("2147483647", "2147483647"),
    ("off", "0"),
    ("maxval", "2147483647"),
    ("default", "0"),
    (" 250\n", "250"),
];
const INTMAX_BAD: &[&str] = &["2147483648", "-5", "99999999999999999999999"];
const BOOL_ON_DEFAULT: &[(&str, &str)] = &[
    ("0", "0"),
    ("1", "1"),
    ("off", "0"),
    ("on", "1"),
    ("default", "1"),
];
const BOOL_OFF_DEFAULT: &[(&str, &str)] = &[
    ("0", "0"),
    ("1", "1"),
    ("off", "0"),
    ("on", "1"),
    ("default", "0"),
];

const CASES: &[Case] = &[
    Case {
        name: "mode",
        good: &[
            ("balance-rr", "balance-rr"),
            ("0", "balance-rr"),
            ("active-backup", "active-backup"),
            ("1", "active-backup"),
            ("balance-xor", "balance-xor"),
            ("2", "balance-xor"),
            ("broadcast", "broadcast"),
            ("3", "broadcast"),
            ("802.3ad", "802.3ad"),
            ("4", "802.3ad"),
            ("balance-tlb", "balance-tlb"),
            ("5", "balance-tlb"),
            ("balance-alb", "balance-alb"),
            ("6", "balance-alb"),
            ("default", "balance-rr"),
        ],
        bad_numbers: &["7", "-1"],
        bad_names: &["active-bakup", "Active-Backup", "lacp"],
    },
    Case {
        name: "miimon",
        good: INTMAX_GOOD,
        bad_numbers: INTMAX_BAD,
        bad_names: &["fast", "100ms"],
    },
    Case {
        name: "updelay",
        good: INTMAX_GOOD,
        bad_numbers: INTMAX_BAD,
        bad_names: &["soon"],
    },
    Case {
        name: "downdelay",
        good: INTMAX_GOOD,
        bad_numbers: INTMAX_BAD,
        bad_names: &["later"],
    },
    Case {
        name: "peer_notif_delay",
        good: &[
            ("0", "0"),
            ("300000", "300000"),
            ("off", "0"),
            ("maxval", "300000"),
        ],
        bad_numbers: &["300001", "-1"],
        // The Linux table has no default entry, so `default` is refused.
        bad_names: &["default", "slow"],
    },
    Case {
        name: "use_carrier",
        good: BOOL_ON_DEFAULT,
        bad_numbers: &["2", "-1"],
        bad_names: &["yes", "true"],
    },
    Case {
        name: "arp_interval",
        good: INTMAX_GOOD,
        bad_numbers: INTMAX_BAD,
        bad_names: &["often"],
    },
    Case {
        name: "arp_validate",
        good: &[
            ("none", "none"),
            ("0", "none"),
            ("active", "active"),
            ("1", "active"),
            ("backup", "backup"),
            ("2", "backup"),
            ("all", "all"),
            ("3", "all"),
            ("filter", "filter"),
            ("4", "filter"),
            ("filter_active", "filter_active"),
            ("5", "filter_active"),
            ("filter_backup", "filter_backup"),
            ("6", "filter_backup"),
            ("default", "none"),
        ],
        bad_numbers: &["7"],
        bad_names: &["strict", "filter-active"],
    },
    Case {
        name: "arp_all_targets",
        good: &[
            ("any", "any"),
            ("0", "any"),
            ("all", "all"),
            ("1", "all"),
            ("default", "any"),
        ],
        bad_numbers: &["2"],
        bad_names: &["some"],
    },
    Case {
        name: "arp_missed_max",
        good: &[
            ("1", "1"),
            ("255", "255"),
            ("minval", "1"),
            ("maxval", "255"),
            ("default", "2"),
        ],
        bad_numbers: &["0", "256", "-2"],
        bad_names: &["many"],
    },
    Case {
        name: "primary_reselect",
        good: &[
            ("always", "always"),
            ("0", "always"),
            ("better", "better"),
            ("1", "better"),
            ("failure", "failure"),
            ("2", "failure"),
            ("default", "always"),
        ],
        bad_numbers: &["3"],
        bad_names: &["sometimes"],
    },
    Case {
        name: "fail_over_mac",
        good: &[
            ("none", "none"),
            ("0", "none"),
            ("active", "active"),
            ("1", "active"),
            ("follow", "follow"),
            ("2", "follow"),
            ("default", "none"),
        ],
        bad_numbers: &["3"],
        bad_names: &["swap"],
    },
    Case {
        name: "xmit_hash_policy",
        good: &[
            ("layer2", "layer2"),
            ("0", "layer2"),
            ("layer3+4", "layer3+4"),
            ("1", "layer3+4"),
            ("layer2+3", "layer2+3"),
            ("2", "layer2+3"),
            ("encap2+3", "encap2+3"),
            ("3", "encap2+3"),
            ("encap3+4", "encap3+4"),
            ("4", "encap3+4"),
            ("vlan+srcmac", "vlan+srcmac"),
            ("5", "vlan+srcmac"),
            ("default", "layer2"),
        ],
        bad_numbers: &["6"],
        bad_names: &["layer4", "layer3 + 4"],
    },
    Case {
        name: "resend_igmp",
        good: &[
            ("0", "0"),
            ("255", "255"),
            ("off", "0"),
            ("maxval", "255"),
            ("default", "1"),
        ],
        bad_numbers: &["256", "-1"],
        bad_names: &["lots"],
    },
    Case {
        name: "num_grat_arp",
        good: &[
            ("0", "0"),
            ("255", "255"),
            ("off", "0"),
            ("maxval", "255"),
            ("default", "1"),
        ],
        bad_numbers: &["256"],
        bad_names: &["few"],
    },
    Case {
        name: "num_unsol_na",
        good: &[
            ("0", "0"),
            ("17", "17"),
            ("maxval", "255"),
            ("default", "1"),
        ],
        bad_numbers: &["256"],
        bad_names: &["few"],
    },
    Case {
        name: "lacp_rate",
        good: &[
            ("slow", "slow"),
            ("0", "slow"),
            ("fast", "fast"),
            ("1", "fast"),
        ],
        bad_numbers: &["2"],
        // No default entry in the Linux table.
        bad_names: &["default", "medium"],
    },
    Case {
        name: "lacp_active",
        good: BOOL_ON_DEFAULT,
        bad_numbers: &["2"],
        bad_names: &["passive"],
    },
    Case {
        name: "ad_select",
        good: &[
            ("stable", "stable"),
            ("0", "stable"),
            ("bandwidth", "bandwidth"),
            ("1", "bandwidth"),
            ("count", "count"),
            ("2", "count"),
            ("actor_port_prio", "actor_port_prio"),
            ("3", "actor_port_prio"),
            ("default", "stable"),
        ],
        bad_numbers: &["4"],
        bad_names: &["fastest"],
    },
    Case {
        name: "min_links",
        good: INTMAX_GOOD,
        bad_numbers: INTMAX_BAD,
        bad_names: &["two"],
    },
    Case {
        name: "all_slaves_active",
        good: BOOL_OFF_DEFAULT,
        bad_numbers: &["2"],
        bad_names: &["true"],
    },
    Case {
        name: "packets_per_slave",
        good: &[
            ("0", "0"),
            ("65535", "65535"),
            ("default", "1"),
            ("maxval", "65535"),
        ],
        bad_numbers: &["65536", "-1"],
        bad_names: &["many", "off"],
    },
    Case {
        name: "tlb_dynamic_lb",
        good: BOOL_ON_DEFAULT,
        bad_numbers: &["2"],
        bad_names: &["dynamic"],
    },
    Case {
        name: "lp_interval",
        good: &[
            ("1", "1"),
            ("2147483647", "2147483647"),
            ("minval", "1"),
            ("maxval", "2147483647"),
            ("default", "1"),
        ],
        bad_numbers: &["0", "2147483648"],
        bad_names: &["often"],
    },
    Case {
        name: "ad_actor_sys_prio",
        good: &[
            ("1", "1"),
            ("65535", "65535"),
            ("minval", "1"),
            ("maxval", "65535"),
            ("default", "65535"),
        ],
        bad_numbers: &["0", "65536"],
        bad_names: &["high"],
    },
    Case {
        name: "ad_user_port_key",
        good: &[
            ("0", "0"),
            ("1023", "1023"),
            ("minval", "0"),
            ("maxval", "1023"),
            ("default", "0"),
        ],
        bad_numbers: &["1024"],
        bad_names: &["key"],
    },
    Case {
        name: "coupled_control",
        good: BOOL_ON_DEFAULT,
        bad_numbers: &["2"],
        bad_names: &["coupled"],
    },
    Case {
        name: "broadcast_neighbor",
        good: BOOL_OFF_DEFAULT,
        bad_numbers: &["2"],
        bad_names: &["yes"],
    },
    Case {
        name: "lacp_fallback",
        good: BOOL_OFF_DEFAULT,
        bad_numbers: &["2"],
        bad_names: &["enabled"],
    },
    Case {
        name: "max_bonds",
        good: &[("0", "0"), ("2", "2"), ("2147483647", "2147483647")],
        bad_numbers: &["2147483648", "-1"],
        bad_names: &["two", "default"],
    },
];

/// Options with free-form values, tested separately below.
const FREE_FORM: &[&str] = &[
    "arp_ip_target",
    "ns_ip6_target",
    "primary",
    "active_slave",
    "ad_actor_system",
    "lacp_fallback_member",
];

#[test]
fn every_option_has_a_value_case() {
    for spec in option_table() {
        let covered = CASES.iter().any(|c| c.name == spec.name) || FREE_FORM.contains(&spec.name);
        assert!(covered, "option {} has no test case", spec.name);
    }
    assert_eq!(CASES.len() + FREE_FORM.len(), option_table().len());
}

#[test]
fn named_and_numeric_values_are_accepted() {
    for case in CASES {
        for (input, expected) in case.good {
            let mut o = BondOptions::default();
            o.set(case.name, input)
                .unwrap_or_else(|e| panic!("{}={input:?} refused: {e}", case.name));
            assert_eq!(
                o.get(case.name).unwrap(),
                *expected,
                "{}={input:?}",
                case.name
            );
            let id = find_option(case.name).unwrap().id;
            assert!(o.is_explicit(id));
        }
    }
}

#[test]
fn out_of_range_numbers_are_refused() {
    for case in CASES {
        let spec = find_option(case.name).unwrap();
        for input in case.bad_numbers {
            let mut o = BondOptions::default();
            let before = o.clone();
            let err = o.set(case.name, input).unwrap_err();
            assert_eq!(err.option(), case.name);
            match (spec.kind, &err) {
                (
                    ValueKind::Int { min, max },
                    OptionError::OutOfRange {
                        value,
                        min: lo,
                        max: hi,
                        ..
                    },
                ) => {
                    assert_eq!(value, input.trim());
                    assert_eq!((*lo, *hi), (min, max));
                }
                (ValueKind::Enum | ValueKind::Bool, OptionError::InvalidValue { value, .. }) => {
                    assert_eq!(value, input);
                }
                _ => panic!("{}={input}: unexpected error {err:?}", case.name),
            }
            assert_eq!(o, before, "{}={input} changed the options", case.name);
            assert!(!o.is_explicit(spec.id));
        }
    }
}

#[test]
fn bad_names_are_refused_with_the_accepted_list() {
    for case in CASES {
        let spec = find_option(case.name).unwrap();
        for input in case.bad_names {
            let mut o = BondOptions::default();
            let err = o.set(case.name, input).unwrap_err();
            let OptionError::InvalidValue {
                option,
                value,
                expected,
            } = &err
            else {
                panic!("{}={input}: unexpected error {err:?}", case.name)
            };
            assert_eq!(*option, spec.name);
            assert_eq!(value, input);
            for v in spec.values {
                assert!(
                    expected.contains(&format!("{}|{}", v.name, v.value)),
                    "{err}"
                );
            }
        }
    }
}

#[test]
fn error_messages_match_the_documented_format() {
    let mut o = BondOptions::default();
    assert_eq!(
        o.set("mode", "active-bakup").unwrap_err().to_string(),
        "option 'mode': invalid value 'active-bakup' (expected one of balance-rr|0, \
         active-backup|1, balance-xor|2, broadcast|3, 802.3ad|4, balance-tlb|5, balance-alb|6)"
    );
    assert_eq!(
        o.set("miimon", "-5").unwrap_err().to_string(),
        "option 'miimon': value -5 out of range 0..=2147483647"
    );
    assert_eq!(
        o.set("miimonn", "100").unwrap_err().to_string(),
        "unknown option 'miimonn' (did you mean 'miimon'?)"
    );
    assert_eq!(
        o.set("frobnicate", "1").unwrap_err().to_string(),
        "unknown option 'frobnicate'"
    );
    assert_eq!(
        o.set("Lacp_Rate", "fast").unwrap_err().to_string(),
        "unknown option 'Lacp_Rate' (did you mean 'lacp_rate'?)"
    );
    o.set("mode", "active-backup").unwrap();
    o.set("primary", "eth9").unwrap();
    assert_eq!(
        o.validate(&["eth0", "eth1"]).unwrap_err().to_string(),
        "option 'primary': 'eth9' is not a member of this bond (members: eth0, eth1)"
    );
    assert_eq!(
        o.validate(&[]).unwrap_err().to_string(),
        "option 'primary': 'eth9' is not a member of this bond (members: none)"
    );
}

#[test]
fn enums_parse_through_the_table() {
    assert_eq!("4".parse::<Mode>().unwrap(), Mode::Ieee8023ad);
    assert_eq!("802.3ad".parse::<Mode>().unwrap(), Mode::Ieee8023ad);
    assert_eq!("default".parse::<Mode>().unwrap(), Mode::BalanceRr);
    assert!("9".parse::<Mode>().is_err());
    assert_eq!(
        "layer3+4".parse::<XmitHashPolicy>().unwrap(),
        XmitHashPolicy::Layer34
    );
    // The data plane's FromStr above knows no `default`; the option does.
    assert_eq!(
        XmitHashPolicy::parse_option("default").unwrap(),
        XmitHashPolicy::Layer2
    );
    assert_eq!("fast".parse::<LacpRate>().unwrap(), LacpRate::Fast);
    assert_eq!(Mode::BalanceAlb.to_string(), "balance-alb");
    assert_eq!(Mode::from_value(3), Some(Mode::Broadcast));
    assert_eq!(Mode::from_value(7), None);
}

#[test]
fn enum_variants_match_the_value_tables() {
    fn check(name: &str, all: &[(&'static str, u64)]) {
        let spec = find_option(name).unwrap();
        let table: Vec<(&str, u64)> = spec.values.iter().map(|v| (v.name, v.value)).collect();
        assert_eq!(table, all, "{name}");
    }
    let pairs = |v: Vec<(&'static str, u64)>| v;
    check(
        "mode",
        &pairs(Mode::ALL.iter().map(|m| (m.name(), m.value())).collect()),
    );
    check(
        "xmit_hash_policy",
        &pairs(
            XmitHashPolicy::ALL
                .iter()
                .map(|m| (m.name(), m.value()))
                .collect(),
        ),
    );
    check(
        "arp_validate",
        &pairs(
            ArpValidate::ALL
                .iter()
                .map(|m| (m.name(), m.value()))
                .collect(),
        ),
    );
    check(
        "arp_all_targets",
        &pairs(
            ArpAllTargets::ALL
                .iter()
                .map(|m| (m.name(), m.value()))
                .collect(),
        ),
    );
    check(
        "fail_over_mac",
        &pairs(
            FailOverMac::ALL
                .iter()
                .map(|m| (m.name(), m.value()))
                .collect(),
        ),
    );
    check(
        "primary_reselect",
        &pairs(
            PrimaryReselect::ALL
                .iter()
                .map(|m| (m.name(), m.value()))
                .collect(),
        ),
    );
    check(
        "lacp_rate",
        &pairs(
            LacpRate::ALL
                .iter()
                .map(|m| (m.name(), m.value()))
                .collect(),
        ),
    );
    check(
        "ad_select",
        &pairs(
            AdSelect::ALL
                .iter()
                .map(|m| (m.name(), m.value()))
                .collect(),
        ),
    );
}

// ---------------------------------------------------------------------------
// Option table metadata

#[test]
fn table_is_indexed_by_id_and_documented() {
    let canonical = canonical_options();
    for (i, s) in canonical.iter().enumerate() {
        assert_eq!(s.id as usize, i, "{} out of order", s.name);
        assert!(s.alias_of.is_none());
        assert!(std::ptr::eq(spec(s.id), s));
    }
    let mut names: Vec<&str> = option_table().iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), option_table().len(), "duplicate option names");
    for s in option_table() {
        assert!(!s.help.is_empty() && !s.help.contains('\n'), "{}", s.name);
        assert_eq!(
            BondOptions::default().get(s.name).unwrap(),
            s.linux_default,
            "{} default",
            s.name
        );
    }
    let alias = find_option("num_unsol_na").unwrap();
    assert_eq!(alias.alias_of, Some("num_grat_arp"));
    assert_eq!(alias.id, OptionId::NumPeerNotif);
}

#[test]
fn table_lists_every_requested_option() {
    let wanted = [
        "mode",
        "miimon",
        "updelay",
        "downdelay",
        "use_carrier",
        "arp_interval",
        "arp_ip_target",
        "ns_ip6_target",
        "arp_validate",
        "arp_all_targets",
        "arp_missed_max",
        "primary",
        "primary_reselect",
        "fail_over_mac",
        "xmit_hash_policy",
        "resend_igmp",
        "num_grat_arp",
        "num_unsol_na",
        "lacp_rate",
        "lacp_active",
        "ad_select",
        "min_links",
        "all_slaves_active",
        "packets_per_slave",
        "tlb_dynamic_lb",
        "lp_interval",
        "peer_notif_delay",
        "ad_actor_sys_prio",
        "ad_user_port_key",
        "ad_actor_system",
        "coupled_control",
        "active_slave",
        "max_bonds",
        "lacp_fallback",
        "lacp_fallback_member",
    ];
    for name in wanted {
        assert!(find_option(name).is_some(), "{name} missing");
    }
    assert!(find_option("ipaddr").is_none());
    assert!(find_option("ip6addr").is_none());
}

#[test]
fn change_flags_mirror_linux() {
    let down: Vec<&str> = canonical_options()
        .iter()
        .filter(|s| s.requires_down)
        .map(|s| s.name)
        .collect();
    assert_eq!(
        down,
        [
            "mode",
            "tlb_dynamic_lb",
            "lacp_rate",
            "lacp_active",
            "ad_select",
            "ad_user_port_key",
            "coupled_control"
        ]
    );
    let no_members: Vec<&str> = canonical_options()
        .iter()
        .filter(|s| s.requires_no_members)
        .map(|s| s.name)
        .collect();
    assert_eq!(no_members, ["mode", "fail_over_mac"]);
    let ext: Vec<&str> = option_table()
        .iter()
        .filter(|s| s.extension)
        .map(|s| s.name)
        .collect();
    assert_eq!(ext, ["lacp_fallback", "lacp_fallback_member"]);
    assert!(find_option("max_bonds").unwrap().module_only);
}

#[test]
fn mode_metadata() {
    let s = find_option("packets_per_slave").unwrap();
    assert!(s.applies_to(Mode::BalanceRr));
    assert!(!s.applies_to(Mode::ActiveBackup));
    let p = find_option("primary").unwrap();
    assert_eq!(
        p.modes.to_string(),
        "active-backup, balance-tlb, balance-alb"
    );
    assert_eq!(
        find_option("miimon").unwrap().modes.to_string(),
        "all modes"
    );
    let arp = find_option("arp_interval").unwrap();
    assert!(arp.linux_mode_restricted);
    assert!(!arp.applies_to(Mode::Ieee8023ad));
    assert!(!arp.applies_to(Mode::BalanceTlb));
    assert!(!arp.applies_to(Mode::BalanceAlb));
    for m in [
        Mode::BalanceRr,
        Mode::ActiveBackup,
        Mode::BalanceXor,
        Mode::Broadcast,
    ] {
        assert!(arp.applies_to(m));
        assert!(m.uses_arp());
    }
}

#[test]
fn completion_names() {
    let mode = find_option("mode").unwrap();
    assert_eq!(
        mode.accepted_names(),
        [
            "balance-rr",
            "active-backup",
            "balance-xor",
            "broadcast",
            "802.3ad",
            "balance-tlb",
            "balance-alb",
            "default"
        ]
    );
    assert_eq!(
        find_option("lacp_rate").unwrap().accepted_names(),
        ["slow", "fast"]
    );
    assert_eq!(
        find_option("packets_per_slave").unwrap().accepted_names(),
        ["default", "maxval"]
    );
    assert!(find_option("primary").unwrap().accepted_names().is_empty());
}

// ---------------------------------------------------------------------------
// Free-form options

#[test]
fn arp_ip_target_forms() {
    let mut o = BondOptions::default();
    o.set("arp_ip_target", "10.0.0.1,10.0.0.2").unwrap();
    assert_eq!(
        o.arp_ip_target,
        [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]
    );
    o.set("arp_ip_target", "+10.0.0.3").unwrap();
    o.set("arp_ip_target", "-10.0.0.1").unwrap();
    assert_eq!(o.get("arp_ip_target").unwrap(), "10.0.0.2,10.0.0.3");
    o.set("arp_ip_target", " +10.0.0.4 , -10.0.0.2 ,").unwrap();
    assert_eq!(o.get("arp_ip_target").unwrap(), "10.0.0.3,10.0.0.4");
    assert_eq!(o.sysfs_value("arp_ip_target").unwrap(), "10.0.0.3 10.0.0.4");
    o.set("arp_ip_target", "").unwrap();
    assert!(o.arp_ip_target.is_empty());
    assert!(o.is_explicit(OptionId::ArpIpTarget));
}

#[test]
fn arp_ip_target_refusals_leave_the_list_alone() {
    let mut o = BondOptions::default();
    o.set("arp_ip_target", "10.0.0.1").unwrap();
    let cases: &[(&str, &str)] = &[
        ("+10.0.0.1", "already in the target list"),
        ("10.0.0.2,10.0.0.2", "already in the target list"),
        ("-10.0.0.9", "not in the target list"),
        ("0.0.0.0", "cannot be probed"),
        ("0.1.2.3", "cannot be probed"),
        ("255.255.255.255", "cannot be probed"),
        ("10.0.0.256", "expected comma-separated IPv4 addresses"),
        ("fe80::1", "expected comma-separated IPv4 addresses"),
        ("+", "expected comma-separated IPv4 addresses"),
        ("10.0.0.2,bogus", "expected comma-separated IPv4 addresses"),
    ];
    for (input, needle) in cases {
        let err = o.set("arp_ip_target", input).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("option 'arp_ip_target': "), "{text}");
        assert!(text.contains(needle), "{input}: {text}");
        assert_eq!(o.arp_ip_target, [Ipv4Addr::new(10, 0, 0, 1)], "{input}");
    }
}

#[test]
fn at_most_sixteen_targets() {
    let sixteen: Vec<String> = (1..=16).map(|i| format!("10.0.0.{i}")).collect();
    let mut o = BondOptions::default();
    o.set("arp_ip_target", &sixteen.join(",")).unwrap();
    assert_eq!(o.arp_ip_target.len(), MAX_ARP_TARGETS);
    let err = o.set("arp_ip_target", "+10.0.0.17").unwrap_err();
    assert_eq!(
        err.to_string(),
        "option 'arp_ip_target': value '+10.0.0.17' refused: at most 16 targets are allowed"
    );
    let seventeen: Vec<String> = (1..=17).map(|i| format!("10.1.0.{i}")).collect();
    let mut fresh = BondOptions::default();
    assert!(fresh.set("arp_ip_target", &seventeen.join(",")).is_err());
    assert!(fresh.arp_ip_target.is_empty());

    let v6: Vec<String> = (1..=17).map(|i| format!("2001:db8::{i:x}")).collect();
    let mut o6 = BondOptions::default();
    let err = o6.set("ns_ip6_target", &v6.join(",")).unwrap_err();
    assert!(err.to_string().contains("at most 16"), "{err}");
    o6.set("ns_ip6_target", &v6[..16].join(",")).unwrap();
    assert_eq!(o6.ns_ip6_target.len(), MAX_NS_TARGETS);

    // Direct field writes are caught by validate.
    let mut direct = BondOptions {
        mode: Mode::ActiveBackup,
        miimon: 0,
        arp_interval: 100,
        arp_ip_target: (1..=17).map(|i| Ipv4Addr::new(10, 2, 0, i)).collect(),
        ..BondOptions::default()
    };
    let err = direct.validate(&[]).unwrap_err();
    assert!(err.to_string().contains("at most 16"), "{err}");
    direct.arp_ip_target = vec![Ipv4Addr::new(10, 2, 0, 1), Ipv4Addr::new(10, 2, 0, 1)];
    assert!(
        direct
            .validate(&[])
            .unwrap_err()
            .to_string()
            .contains("more than once")
    );
    direct.arp_ip_target = vec![Ipv4Addr::BROADCAST];
    assert!(direct.validate(&[]).is_err());
}

#[test]
fn ns_ip6_target_forms_and_refusals() {
    let mut o = BondOptions::default();
    o.set("ns_ip6_target", "2001:db8::1,fe80::1").unwrap();
    o.set("ns_ip6_target", "+2001:db8::2").unwrap();
    o.set("ns_ip6_target", "-fe80::1").unwrap();
    assert_eq!(
        o.ns_ip6_target,
        [
            "2001:db8::1".parse::<Ipv6Addr>().unwrap(),
            "2001:db8::2".parse::<Ipv6Addr>().unwrap()
        ]
    );
    assert_eq!(o.get("ns_ip6_target").unwrap(), "2001:db8::1,2001:db8::2");
    for bad in ["::", "::1", "ff02::1", "10.0.0.1", "2001:db8::zz"] {
        let err = o.set("ns_ip6_target", bad).unwrap_err();
        assert_eq!(err.option(), "ns_ip6_target");
        assert_eq!(o.ns_ip6_target.len(), 2);
    }
}

#[test]
fn interface_options() {
    for name in ["primary", "active_slave", "lacp_fallback_member"] {
        let mut o = BondOptions::default();
        o.set(name, "eth0").unwrap();
        assert_eq!(o.get(name).unwrap(), "eth0");
        o.set(name, "0000:3b:00.1").unwrap();
        assert_eq!(o.get(name).unwrap(), "0000:3b:00.1");
        o.set(name, "").unwrap();
        assert_eq!(o.get(name).unwrap(), "");
        for bad in ["eth 0", "a,b", "x=y", "..", &"e".repeat(64)] {
            let err = o.set(name, bad).unwrap_err();
            assert!(
                matches!(err, OptionError::InvalidValue { option, .. } if option == name),
                "{name}={bad}: {err:?}"
            );
        }
    }
    let mut o = BondOptions::default();
    o.set("primary", "eth1").unwrap();
    assert_eq!(o.primary.as_deref(), Some("eth1"));
}

#[test]
fn ad_actor_system_values() {
    let mut o = BondOptions::default();
    o.set("ad_actor_system", "02:AB:cd:00:00:01").unwrap();
    assert_eq!(o.ad_actor_system, MacAddr([0x02, 0xab, 0xcd, 0, 0, 1]));
    assert_eq!(o.get("ad_actor_system").unwrap(), "02:ab:cd:00:00:01");
    o.set("ad_actor_system", "00:00:00:00:00:00").unwrap();
    assert!(o.ad_actor_system.is_zero());
    let err = o.set("ad_actor_system", "01:80:c2:00:00:02").unwrap_err();
    assert!(err.to_string().contains("unicast"), "{err}");
    for bad in [
        "",
        "02:ab:cd:00:00",
        "02:ab:cd:00:00:01:02",
        "02-ab-cd-00-00-01",
        "2:ab:cd:0:0:1",
        "zz:ab:cd:00:00:01",
    ] {
        let err = o.set("ad_actor_system", bad).unwrap_err();
        assert!(
            matches!(err, OptionError::InvalidValue { .. }),
            "{bad}: {err:?}"
        );
    }
    assert!(o.ad_actor_system.is_zero());
    assert_eq!(MacAddr([0xff; 6]).to_string(), "ff:ff:ff:ff:ff:ff");
    assert!(
        "ff:ff:ff:ff:ff:ff"
            .parse::<MacAddr>()
            .unwrap()
            .is_multicast()
    );
}

#[test]
fn num_grat_arp_and_num_unsol_na_are_one_setting() {
    let mut o = BondOptions::default();
    o.set("num_unsol_na", "5").unwrap();
    assert_eq!(o.num_peer_notif, 5);
    assert_eq!(o.get("num_grat_arp").unwrap(), "5");
    o.set("num_grat_arp", "7").unwrap();
    assert_eq!(o.get("num_unsol_na").unwrap(), "7");
    assert_eq!(o.to_bonding_opts(), "num_grat_arp=7");
}

// ---------------------------------------------------------------------------
// Defaults and finalize

#[test]
fn defaults_are_linux_defaults() {
    let o = BondOptions::default();
    assert_eq!(o.mode, Mode::BalanceRr);
    assert_eq!(o.miimon, 0);
    assert!(o.use_carrier);
    assert_eq!(o.arp_missed_max, 2);
    assert_eq!(o.packets_per_slave, 1);
    assert_eq!(o.ad_actor_sys_prio, 65535);
    assert!(o.tlb_dynamic_lb && o.lacp_active && o.coupled_control);
    assert!(!o.lacp_fallback && o.lacp_fallback_member.is_none());
    assert_eq!(o.to_bonding_opts(), "");
}

#[test]
fn finalize_defaults_miimon_only_without_any_monitor() {
    let mut o = BondOptions::from_bonding_opts("mode=active-backup").unwrap();
    assert!(o.finalize().is_empty());
    assert_eq!(o.miimon, DEFAULT_MIIMON);
    assert!(o.finalize().is_empty(), "idempotent");
    assert_eq!(o.to_bonding_opts(), "mode=active-backup miimon=100");

    let mut arp =
        BondOptions::from_bonding_opts("mode=1 arp_interval=200 arp_ip_target=10.0.0.1").unwrap();
    arp.finalize();
    assert_eq!(arp.miimon, 0);

    let mut zero = BondOptions::from_bonding_opts("mode=1 miimon=0").unwrap();
    zero.finalize();
    assert_eq!(zero.miimon, 0);
    let w = zero.validate(&["eth0", "eth1"]).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].kind, WarningKind::NoLinkMonitoring);
    assert_eq!(w[0].option, "miimon");
    assert!(w[0].message.contains("never fail over"), "{}", w[0]);

    let mut explicit = BondOptions::from_bonding_opts("miimon=250").unwrap();
    explicit.finalize();
    assert_eq!(explicit.miimon, 250);
}

#[test]
fn defaulted_miimon_yields_to_a_later_arp_interval() {
    let mut o = BondOptions::from_bonding_opts("mode=active-backup").unwrap();
    o.finalize();
    assert_eq!(o.miimon, 100);
    o.set("arp_interval", "500").unwrap();
    o.set("arp_ip_target", "10.0.0.1").unwrap();
    assert_eq!(o.miimon, 0);
    assert!(o.validate(&["eth0"]).unwrap().is_empty());

    let mut both = BondOptions::from_bonding_opts("miimon=100 arp_interval=500").unwrap();
    both.set("arp_ip_target", "10.0.0.1").unwrap();
    let err = both.validate(&[]).unwrap_err();
    assert_eq!(err.option(), "arp_interval");
    assert!(
        err.to_string()
            .contains("cannot be combined with MII monitoring (miimon=100)")
    );
}

#[test]
fn delays_are_rounded_to_miimon() {
    let mut o = BondOptions::from_bonding_opts(
        "mode=1 miimon=100 updelay=250 downdelay=199 peer_notif_delay=300",
    )
    .unwrap();
    let w = o.validate(&["eth0"]).unwrap();
    let rounded: Vec<String> = w
        .iter()
        .filter(|w| w.kind == WarningKind::DelayRounded)
        .map(|w| w.message.clone())
        .collect();
    assert_eq!(
        rounded,
        [
            "updelay (250) is not a multiple of miimon (100), value rounded to 200 ms",
            "downdelay (199) is not a multiple of miimon (100), value rounded to 100 ms",
        ]
    );
    assert_eq!(o.updelay, 250, "validate does not modify");
    let fw = o.finalize();
    assert_eq!(fw.len(), 2);
    assert_eq!(
        (o.updelay, o.downdelay, o.peer_notif_delay),
        (200, 100, 300)
    );
    assert!(o.validate(&["eth0"]).unwrap().is_empty());
    assert_eq!(
        fw[0].to_string(),
        "option 'updelay': updelay (250) is not a multiple of miimon (100), value rounded to 200 ms"
    );

    let mut defaulted = BondOptions::from_bonding_opts("mode=1 updelay=150").unwrap();
    defaulted.finalize();
    assert_eq!((defaulted.miimon, defaulted.updelay), (100, 100));
}

// ---------------------------------------------------------------------------
// Cross-option refusals

fn refusal(opts: &str, members: &[&str]) -> OptionError {
    BondOptions::from_bonding_opts(opts)
        .unwrap_or_else(|e| panic!("{opts}: {e}"))
        .validate(members)
        .expect_err(opts)
}

#[test]
fn arp_monitor_refused_in_modes_without_it() {
    for mode in ["802.3ad", "balance-tlb", "balance-alb"] {
        let err = refusal(
            &format!("mode={mode} arp_interval=100 arp_ip_target=10.0.0.1"),
            &[],
        );
        assert_eq!(err.option(), "arp_interval");
        assert!(
            err.to_string()
                .contains(&format!("the ARP monitor is not available in mode {mode}")),
            "{err}"
        );
    }
    for mode in ["balance-rr", "active-backup", "balance-xor", "broadcast"] {
        let o = BondOptions::from_bonding_opts(&format!(
            "mode={mode} arp_interval=100 arp_ip_target=10.0.0.1"
        ))
        .unwrap();
        assert_eq!(o.validate(&["eth0"]).unwrap(), [], "{mode}");
    }
}

#[test]
fn arp_validate_requires_the_arp_monitor() {
    let err = refusal("mode=active-backup arp_validate=all", &[]);
    assert_eq!(
        err.to_string(),
        "option 'arp_validate': value 'all' refused: arp_validate requires the ARP monitor (arp_interval > 0)"
    );
    let err = refusal("mode=802.3ad arp_validate=active", &[]);
    assert!(
        err.to_string().contains("not available in mode 802.3ad"),
        "{err}"
    );
    // Linux accepts validation in every ARP-capable mode, not only active-backup.
    for mode in ["balance-rr", "active-backup", "balance-xor", "broadcast"] {
        let o = BondOptions::from_bonding_opts(&format!(
            "mode={mode} arp_interval=100 arp_ip_target=10.0.0.1 arp_validate=filter_backup"
        ))
        .unwrap();
        assert!(o.validate(&[]).is_ok(), "{mode}");
    }
}

#[test]
fn delays_require_miimon() {
    for opt in ["updelay", "downdelay", "peer_notif_delay"] {
        let err = refusal(
            &format!("mode=1 arp_interval=100 arp_ip_target=10.0.0.1 {opt}=200"),
            &[],
        );
        assert_eq!(err.option(), opt);
        assert!(err.to_string().contains("requires miimon > 0"), "{err}");
    }
    // Zero is harmless.
    BondOptions::from_bonding_opts("mode=1 arp_interval=100 arp_ip_target=10.0.0.1 updelay=0")
        .unwrap()
        .validate(&[])
        .unwrap();
}

#[test]
fn interface_options_must_name_members() {
    for (opt, mode) in [
        ("primary", "active-backup"),
        ("active_slave", "balance-tlb"),
        ("lacp_fallback_member", "802.3ad"),
    ] {
        let text = format!("mode={mode} {opt}=eth9 lacp_fallback=1");
        let err = refusal(&text, &["eth0", "eth1"]);
        assert_eq!(
            err,
            OptionError::NotAMember {
                option: find_option(opt).unwrap().name,
                value: "eth9".to_string(),
                members: vec!["eth0".to_string(), "eth1".to_string()],
            }
        );
        let ok = BondOptions::from_bonding_opts(&text.replace("eth9", "eth1")).unwrap();
        let w = ok.validate(&["eth0", "eth1"]).unwrap();
        assert!(
            w.iter().all(|w| w.option != opt),
            "{opt} in {mode}: unexpected {w:?}"
        );
    }
}

#[test]
fn direct_writes_out_of_range_are_caught() {
    let o = BondOptions {
        arp_missed_max: 0,
        ..BondOptions::default()
    };
    assert!(matches!(
        o.validate(&[]),
        Err(OptionError::OutOfRange {
            option: "arp_missed_max",
            ..
        })
    ));
    let o = BondOptions {
        miimon: u32::MAX,
        ..BondOptions::default()
    };
    assert!(matches!(
        o.validate(&[]),
        Err(OptionError::OutOfRange {
            option: "miimon",
            ..
        })
    ));
    let o = BondOptions {
        ad_user_port_key: 2000,
        ..BondOptions::default()
    };
    assert!(o.validate(&[]).is_err());
    let o = BondOptions {
        ad_actor_sys_prio: 0,
        ..BondOptions::default()
    };
    assert!(o.validate(&[]).is_err());
    let o = BondOptions {
        ad_actor_system: MacAddr([1, 0, 0, 0, 0, 0]),
        ..BondOptions::default()
    };
    assert!(o.validate(&[]).is_err());
    let o = BondOptions {
        primary: Some("bad name".into()),
        ..BondOptions::default()
    };
    assert!(o.validate(&["bad name"]).is_err());
}

// ---------------------------------------------------------------------------
// Warnings

fn warnings(opts: &str, members: &[&str]) -> Vec<Warning> {
    BondOptions::from_bonding_opts(opts)
        .unwrap_or_else(|e| panic!("{opts}: {e}"))
        .validate(members)
        .unwrap_or_else(|e| panic!("{opts}: {e}"))
}

fn has(w: &[Warning], option: &str, kind: WarningKind) -> bool {
    w.iter().any(|w| w.option == option && w.kind == kind)
}

#[test]
fn options_without_effect_in_the_mode_warn() {
    let cases = [
        (
            "mode=active-backup packets_per_slave=3",
            "packets_per_slave",
            true,
        ),
        ("mode=balance-rr lacp_rate=fast", "lacp_rate", true),
        ("mode=balance-xor primary=eth0", "primary", true),
        ("mode=broadcast active_slave=eth0", "active_slave", true),
        (
            "mode=balance-xor fail_over_mac=active",
            "fail_over_mac",
            false,
        ),
        (
            "mode=active-backup xmit_hash_policy=layer3+4",
            "xmit_hash_policy",
            false,
        ),
        ("mode=balance-rr tlb_dynamic_lb=0", "tlb_dynamic_lb", true),
        ("mode=balance-rr lp_interval=5", "lp_interval", false),
        ("mode=802.3ad resend_igmp=3", "resend_igmp", false),
        ("mode=balance-rr num_unsol_na=3", "num_grat_arp", false),
        ("mode=active-backup min_links=1", "min_links", false),
        ("mode=active-backup ad_select=count", "ad_select", false),
        (
            "mode=active-backup ad_actor_sys_prio=10",
            "ad_actor_sys_prio",
            true,
        ),
        (
            "mode=active-backup ad_user_port_key=10",
            "ad_user_port_key",
            true,
        ),
        (
            "mode=active-backup ad_actor_system=02:00:00:00:00:01",
            "ad_actor_system",
            true,
        ),
        ("mode=active-backup lacp_active=off", "lacp_active", true),
        (
            "mode=active-backup coupled_control=0",
            "coupled_control",
            true,
        ),
        (
            "mode=active-backup broadcast_neighbor=1",
            "broadcast_neighbor",
            true,
        ),
        (
            "mode=active-backup lacp_fallback=on",
            "lacp_fallback",
            false,
        ),
        (
            "mode=balance-xor primary_reselect=better",
            "primary_reselect",
            false,
        ),
        (
            "mode=802.3ad arp_ip_target=10.0.0.1",
            "arp_ip_target",
            false,
        ),
        ("mode=balance-alb arp_missed_max=3", "arp_missed_max", true),
        (
            "mode=balance-tlb arp_all_targets=all",
            "arp_all_targets",
            false,
        ),
        (
            "mode=802.3ad peer_notif_delay=200",
            "peer_notif_delay",
            false,
        ),
    ];
    for (text, option, linux_refuses) in cases {
        let w = warnings(text, &["eth0", "eth1"]);
        let found = w
            .iter()
            .find(|w| w.option == option && w.kind == WarningKind::NoEffectInMode)
            .unwrap_or_else(|| panic!("{text}: no warning for {option} in {w:?}"));
        assert_eq!(
            found.message.contains("Linux refuses"),
            linux_refuses,
            "{text}: {found}"
        );
        assert!(
            found
                .to_string()
                .starts_with(&format!("option '{option}': has no effect in mode"))
        );
    }
    // Same options in their own modes: no such warning.
    let w = warnings(
        "mode=802.3ad lacp_rate=fast ad_select=bandwidth min_links=1 lacp_fallback=1 lacp_fallback_member=eth1 xmit_hash_policy=layer3+4",
        &["eth0", "eth1"],
    );
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn arp_warnings() {
    let w = warnings("mode=active-backup arp_interval=100", &["eth0"]);
    assert!(has(&w, "arp_interval", WarningKind::NoArpTargets), "{w:?}");
    let w = warnings(
        "mode=active-backup arp_interval=100 ns_ip6_target=2001:db8::1",
        &["eth0"],
    );
    assert!(!has(&w, "arp_interval", WarningKind::NoArpTargets), "{w:?}");
    let w = warnings(
        "mode=active-backup miimon=100 arp_ip_target=10.0.0.1 arp_missed_max=5",
        &[],
    );
    assert!(has(&w, "arp_ip_target", WarningKind::NoEffect), "{w:?}");
    assert!(has(&w, "arp_missed_max", WarningKind::NoEffect), "{w:?}");
    let w = warnings(
        "mode=active-backup arp_interval=100 arp_ip_target=10.0.0.1 arp_all_targets=all",
        &[],
    );
    assert!(has(&w, "arp_all_targets", WarningKind::NoEffect), "{w:?}");
    let w = warnings(
        "mode=active-backup arp_interval=100 arp_ip_target=10.0.0.1 arp_all_targets=all arp_validate=all",
        &[],
    );
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn other_warnings() {
    let w = warnings("mode=active-backup primary_reselect=failure", &["eth0"]);
    assert!(has(&w, "primary_reselect", WarningKind::NoEffect), "{w:?}");
    let w = warnings("mode=802.3ad lacp_fallback_member=eth0", &["eth0"]);
    assert!(
        has(&w, "lacp_fallback_member", WarningKind::NoEffect),
        "{w:?}"
    );
    let w = warnings("mode=802.3ad min_links=3", &["eth0", "eth1"]);
    let m = w
        .iter()
        .find(|w| w.kind == WarningKind::MinLinksUnreachable)
        .unwrap();
    assert_eq!(
        m.message,
        "min_links (3) exceeds the number of members (2): the bond will never report carrier"
    );
    assert!(warnings("mode=802.3ad min_links=2", &["eth0", "eth1"]).is_empty());
    let w = warnings("use_carrier=0", &[]);
    assert!(has(&w, "use_carrier", WarningKind::Obsolete), "{w:?}");
    let w = warnings("max_bonds=4", &[]);
    assert!(has(&w, "max_bonds", WarningKind::ModuleParameter), "{w:?}");
    let w = warnings("mode=802.3ad miimon=0", &[]);
    let nm = w
        .iter()
        .find(|w| w.kind == WarningKind::NoLinkMonitoring)
        .unwrap();
    assert!(nm.message.contains("LACPDU"), "{nm}");
    assert!(warnings("", &[]).is_empty());
}

// ---------------------------------------------------------------------------
// BONDING_OPTS

#[test]
fn bonding_opts_example() {
    let o = BondOptions::from_bonding_opts(
        "mode=active-backup miimon=100 primary=eth0 arp_ip_target=+10.0.0.1",
    )
    .unwrap();
    assert_eq!(o.mode, Mode::ActiveBackup);
    assert_eq!(o.miimon, 100);
    assert_eq!(o.primary.as_deref(), Some("eth0"));
    assert_eq!(o.arp_ip_target, [Ipv4Addr::new(10, 0, 0, 1)]);
    assert_eq!(
        o.to_bonding_opts(),
        "mode=active-backup miimon=100 arp_ip_target=10.0.0.1 primary=eth0"
    );
    let parsed: BondOptions = "mode=4\tmiimon=100\n lacp_rate=1".parse().unwrap();
    assert_eq!(parsed.to_string(), "mode=802.3ad miimon=100 lacp_rate=fast");
    let quoted = BondOptions::from_bonding_opts(r#"primary="eth0" mode='1'"#).unwrap();
    assert_eq!(quoted.primary.as_deref(), Some("eth0"));
    assert_eq!(quoted.mode, Mode::ActiveBackup);
    assert_eq!(
        BondOptions::from_bonding_opts("  ").unwrap(),
        BondOptions::default()
    );
}

#[test]
fn bonding_opts_incremental_targets() {
    let o = BondOptions::from_bonding_opts(
        "arp_interval=200 arp_ip_target=+10.0.0.1 arp_ip_target=+10.0.0.2 arp_ip_target=+10.0.0.3 arp_ip_target=-10.0.0.1",
    )
    .unwrap();
    assert_eq!(o.get("arp_ip_target").unwrap(), "10.0.0.2,10.0.0.3");
}

#[test]
fn bonding_opts_malformed() {
    let err = BondOptions::from_bonding_opts("mode=1 miimon").unwrap_err();
    assert_eq!(
        err.to_string(),
        "option 'miimon': malformed setting 'miimon': expected name=value"
    );
    let err = BondOptions::from_bonding_opts("=5").unwrap_err();
    assert!(matches!(err, OptionError::Malformed { .. }), "{err:?}");
    let err = BondOptions::from_bonding_opts("mode=1 primary=\"eth0").unwrap_err();
    assert_eq!(
        err.to_string(),
        "option 'primary': malformed setting 'primary=eth0': unterminated \" quote"
    );
    let err = BondOptions::from_bonding_opts("mode=1 miimonn=100").unwrap_err();
    assert_eq!(err.option(), "miimonn");
    let err = BondOptions::from_bonding_opts("mode=1 miimon=abc").unwrap_err();
    assert_eq!(err.option(), "miimon");
}

fn everything_set() -> BondOptions {
    let mut o = BondOptions::default();
    let settings = [
        ("mode", "active-backup"),
        ("miimon", "50"),
        ("updelay", "100"),
        ("downdelay", "150"),
        ("peer_notif_delay", "200"),
        ("use_carrier", "0"),
        ("arp_interval", "0"),
        ("arp_ip_target", "10.0.0.1,192.168.7.9"),
        ("ns_ip6_target", "2001:db8::1,fe80::2"),
        ("arp_validate", "0"),
        ("arp_all_targets", "all"),
        ("arp_missed_max", "7"),
        ("primary", "eth0"),
        ("primary_reselect", "better"),
        ("active_slave", "eth1"),
        ("fail_over_mac", "follow"),
        ("xmit_hash_policy", "encap3+4"),
        ("packets_per_slave", "0"),
        ("tlb_dynamic_lb", "0"),
        ("lp_interval", "9"),
        ("resend_igmp", "0"),
        ("num_unsol_na", "4"),
        ("all_slaves_active", "1"),
        ("min_links", "2"),
        ("lacp_rate", "fast"),
        ("lacp_active", "off"),
        ("ad_select", "count"),
        ("ad_actor_sys_prio", "100"),
        ("ad_user_port_key", "1023"),
        ("ad_actor_system", "02:00:00:00:00:09"),
        ("coupled_control", "0"),
        ("broadcast_neighbor", "1"),
        ("lacp_fallback", "on"),
        ("lacp_fallback_member", "eth1"),
        ("max_bonds", "3"),
    ];
    for (k, v) in settings {
        o.set(k, v).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
    }
    o
}

#[test]
fn bonding_opts_round_trip() {
    let o = everything_set();
    let text = o.to_bonding_opts();
    assert!(
        text.starts_with("mode=active-backup miimon=50 updelay=100"),
        "{text}"
    );
    let back = BondOptions::from_bonding_opts(&text).unwrap();
    assert_eq!(back, o);
    assert_eq!(back.to_bonding_opts(), text);
    for s in canonical_options() {
        assert!(
            back.is_explicit(s.id),
            "{} not explicit after round trip",
            s.name
        );
    }
    // A finalized set round-trips too (miimon=100 becomes visible).
    let mut f = BondOptions::from_bonding_opts("mode=balance-alb").unwrap();
    f.finalize();
    let again = BondOptions::from_bonding_opts(&f.to_bonding_opts()).unwrap();
    assert_eq!(again, f);
    // Linux form drops the bondd extensions.
    let linux = o.to_linux_bonding_opts();
    assert!(!linux.contains("lacp_fallback"), "{linux}");
    assert!(
        text.contains("lacp_fallback=1 lacp_fallback_member=eth1"),
        "{text}"
    );
}

#[test]
fn equality_ignores_provenance() {
    let mut a = BondOptions::default();
    a.set("miimon", "0").unwrap();
    assert_eq!(a, BondOptions::default());
    assert!(a.is_given(OptionId::Miimon));
    assert!(!BondOptions::default().is_given(OptionId::Miimon));
    assert_eq!(a.to_bonding_opts(), "miimon=0");
}

#[test]
fn sysfs_style_display() {
    let o = BondOptions::from_bonding_opts(
        "mode=1 xmit_hash_policy=1 arp_validate=filter lacp_rate=fast ad_select=2 \
         arp_ip_target=10.0.0.1,10.0.0.2 primary=eth0 fail_over_mac=2",
    )
    .unwrap();
    let cases = [
        ("mode", "active-backup 1"),
        ("xmit_hash_policy", "layer3+4 1"),
        ("arp_validate", "filter 4"),
        ("arp_all_targets", "any 0"),
        ("primary_reselect", "always 0"),
        ("fail_over_mac", "follow 2"),
        ("lacp_rate", "fast 1"),
        ("lacp_active", "on 1"),
        ("ad_select", "count 2"),
        ("use_carrier", "1"),
        ("all_slaves_active", "0"),
        ("tlb_dynamic_lb", "1"),
        ("miimon", "0"),
        ("arp_ip_target", "10.0.0.1 10.0.0.2"),
        ("primary", "eth0"),
        ("active_slave", ""),
        ("ad_actor_system", "00:00:00:00:00:00"),
        ("num_unsol_na", "1"),
    ];
    for (name, shown) in cases {
        assert_eq!(o.sysfs_value(name).unwrap(), shown, "{name}");
    }
    assert!(o.sysfs_value("nope").is_err());
    assert_eq!(o.settings()[0], ("mode", "active-backup".to_string()));
}

// ---------------------------------------------------------------------------
// TOML form

#[test]
fn toml_strings_integers_booleans_arrays() {
    let o: BondOptions = toml::from_str(
        r#"
        mode = "active-backup"
        miimon = 100
        all_slaves_active = true
        tlb_dynamic_lb = false
        arp_ip_target = ["10.0.0.1", "10.0.0.2"]
        ns_ip6_target = ["2001:db8::1"]
        primary = "eth0"
        lacp_rate = 1
        ad_actor_system = "02:00:00:00:00:01"
        "#,
    )
    .unwrap();
    assert_eq!(o.mode, Mode::ActiveBackup);
    assert_eq!(o.miimon, 100);
    assert!(o.all_slaves_active);
    assert!(!o.tlb_dynamic_lb);
    assert_eq!(o.arp_ip_target.len(), 2);
    assert_eq!(o.ns_ip6_target.len(), 1);
    assert_eq!(o.primary.as_deref(), Some("eth0"));
    assert_eq!(o.lacp_rate, LacpRate::Fast);

    let a: BondOptions = toml::from_str("mode = 4").unwrap();
    let b: BondOptions = toml::from_str("mode = \"802.3ad\"").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.mode, Mode::Ieee8023ad);
    let c: BondOptions = toml::from_str("arp_ip_target = \"10.0.0.1,10.0.0.2\"").unwrap();
    assert_eq!(c.arp_ip_target.len(), 2);
}

#[test]
fn toml_errors_name_the_key() {
    let cases = [
        (
            "miimonn = 100",
            "unknown option 'miimonn' (did you mean 'miimon'?)",
        ),
        (
            "mode = \"active-bakup\"",
            "option 'mode': invalid value 'active-bakup'",
        ),
        (
            "miimon = -5",
            "option 'miimon': value -5 out of range 0..=2147483647",
        ),
        ("miimon = true", "option 'miimon': invalid value 'true'"),
        ("mode = true", "option 'mode': invalid value 'true'"),
        ("primary = 5", "option 'primary': invalid value '5'"),
        (
            "mode = [\"1\"]",
            "arrays are only accepted for target lists",
        ),
        (
            "miimon = 1.5",
            "a string, an integer, a boolean or an array of strings",
        ),
        ("arp_ip_target = [1, 2]", "arp_ip_target"),
        (
            "lacp_rate = \"default\"",
            "option 'lacp_rate': invalid value 'default'",
        ),
    ];
    for (doc, needle) in cases {
        let err = toml::from_str::<BondOptions>(doc).unwrap_err().to_string();
        assert!(err.contains(needle), "{doc}: {err}");
    }
}

#[test]
fn toml_inside_a_larger_config() {
    #[derive(serde::Deserialize)]
    struct Bond {
        members: Vec<String>,
        options: BondOptions,
    }
    #[derive(serde::Deserialize)]
    struct Config {
        bond: std::collections::BTreeMap<String, Bond>,
    }
    let cfg: Config = toml::from_str(
        r#"
        [bond.bond0]
        members = ["eth0", "eth1"]
        [bond.bond0.options]
        mode = "802.3ad"
        lacp_rate = "fast"
        xmit_hash_policy = "layer3+4"
        lacp_fallback = true
        "#,
    )
    .unwrap();
    let b = &cfg.bond["bond0"];
    assert_eq!(b.options.mode, Mode::Ieee8023ad);
    assert!(b.options.lacp_fallback);
    let members: Vec<&str> = b.members.iter().map(String::as_str).collect();
    assert!(b.options.validate(&members).unwrap().is_empty());

    let err = toml::from_str::<Config>(
        "[bond.bond0]\nmembers = []\n[bond.bond0.options]\nmode = 1\nbogus = 2\n",
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("unknown option 'bogus'"), "{err}");
}

#[test]
fn toml_round_trip() {
    let o = everything_set();
    let text = toml::to_string(&o).unwrap();
    assert!(text.contains("mode = \"active-backup\""), "{text}");
    assert!(text.contains("miimon = 50"), "{text}");
    assert!(text.contains("all_slaves_active = true"), "{text}");
    assert!(
        text.contains("arp_ip_target = [\"10.0.0.1\", \"192.168.7.9\"]"),
        "{text}"
    );
    let back: BondOptions = toml::from_str(&text).unwrap();
    assert_eq!(back, o);
    assert_eq!(toml::to_string(&BondOptions::default()).unwrap(), "");
}

// ---------------------------------------------------------------------------
// Robustness

#[test]
fn no_panics_on_odd_input() {
    let values = [
        "",
        " ",
        "+",
        "-",
        ",",
        ",,,",
        "\"",
        "'",
        "=",
        "==",
        "-0",
        "+1",
        "00000000000000000000000000000000000001",
        "18446744073709551615",
        "18446744073709551616",
        "-18446744073709551616",
        "0x10",
        "1e3",
        "ünïcödé",
        "\u{0}",
        "\u{202e}eth0",
        "default",
        "maxval",
        "minval",
        "+10.0.0.1,-10.0.0.1,+10.0.0.1",
        "-::1",
        "ff:ff:ff:ff:ff:ff",
        "::ffff:10.0.0.1",
    ];
    let mut count = 0;
    for spec in option_table() {
        for v in values {
            let mut o = BondOptions::default();
            if o.set(spec.name, v).is_ok() {
                count += 1;
                let _ = o.validate(&["eth0"]);
                let text = o.to_bonding_opts();
                let back = BondOptions::from_bonding_opts(&text)
                    .unwrap_or_else(|e| panic!("{}={v:?} -> {text:?}: {e}", spec.name));
                assert_eq!(back, o, "{}={v:?}", spec.name);
            }
        }
    }
    assert!(count > 0);
    for text in [
        "\"", "'a", "a=\"b", "= = =", "mode==1", "mode=1=2", "\u{0}=1",
    ] {
        let _ = BondOptions::from_bonding_opts(text);
    }
    for name in ["", " ", "MODE", "mode ", "arp-ip-target"] {
        let _ = BondOptions::default().set(name, "1");
    }
}
