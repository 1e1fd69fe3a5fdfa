//! `bondd import` turns what operators migrate from into a bondd config.

mod common;
use common::*;

#[test]
fn ifcfg_and_modprobe_become_a_config_that_checks() {
    let dir = TempDir::new("import");
    let scripts = dir.path("network-scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(
        scripts.join("ifcfg-bond0"),
        "DEVICE=bond0\nTYPE=Bond\nBONDING_MASTER=yes\n\
         BONDING_OPTS=\"mode=balance-xor miimon=100 xmit_hash_policy=layer3+4\"\n\
         IPADDR=192.0.2.5\nPREFIX=24\n",
    )
    .unwrap();
    for m in ["eth0", "eth1"] {
        std::fs::write(
            scripts.join(format!("ifcfg-{m}")),
            format!("DEVICE={m}\nMASTER=bond0\nSLAVE=yes\n"),
        )
        .unwrap();
    }
    let mut c = bondd();
    c.arg("import").arg("--ifcfg").arg(&scripts);
    let (ok, out, err) = run(c);
    assert!(ok, "{err}");
    let cfg = control::config::Config::parse(&out, std::path::Path::new("imported")).unwrap();
    let checked = cfg.check(&[0, 1]).expect("the imported config checks");
    let b = &checked.bonds[0];
    assert_eq!(b.name, "bond0");
    assert_eq!(b.options.mode, control::options::Mode::BalanceXor);
    assert_eq!(b.options.xmit_hash_policy.name(), "layer3+4");
    assert_eq!(
        b.ipv4,
        vec!["192.0.2.5".parse::<std::net::Ipv4Addr>().unwrap()]
    );
    let members: Vec<&str> = b
        .members
        .iter()
        .map(|&i| checked.ports[i].name.as_str())
        .collect();
    assert_eq!(members, ["eth0", "eth1"]);
    assert!(out.contains("device = \"TODO-eth0\""), "{out}");

    let conf = dir.write(
        "bonding.conf",
        "alias bond0 bonding\noptions bond0 mode=1 miimon=50\n",
    );
    let mut c = bondd();
    c.arg("import").arg("--modprobe").arg(&conf);
    let (ok, out, err) = run(c);
    assert!(ok, "{err}");
    let cfg = control::config::Config::parse(&out, std::path::Path::new("imported")).unwrap();
    let checked = cfg.check(&[0, 1]);
    // A modprobe line names no members, so the bond has none yet: check says so.
    let e = checked.unwrap_err().to_string();
    assert!(e.contains("bond[0].member"), "{e}");
    assert!(out.contains("miimon=50"), "{out}");

    let mut c = bondd();
    c.arg("import").arg("--ifcfg").arg(dir.path("nowhere"));
    let (ok, _, err) = run(c);
    assert!(!ok && err.contains("nowhere"), "{err}");
}
