//! Bad input is refused before any port starts, with a message that names it, and a non-zero
//! exit.

mod common;
use common::*;

fn refused(cfg_text: Option<&str>, path_override: Option<&str>, expect: &[&str]) {
    let dir = TempDir::new("err");
    let path = match (cfg_text, path_override) {
        (_, Some(p)) => std::path::PathBuf::from(p),
        (Some(t), None) => dir.write("bad.toml", t),
        (None, None) => dir.0.clone(), // a directory: unreadable as a file
    };
    let mut c = bondd();
    c.arg("run")
        .arg("--config")
        .arg(&path)
        .arg("--duration")
        .arg("1");
    let (ok, _out, err) = run(c);
    assert!(!ok, "bondd accepted a bad config: {cfg_text:?}\n{err}");
    for e in expect {
        assert!(err.contains(e), "stderr should contain {e:?}:\n{err}");
    }
    assert!(
        !err.contains("started, id"),
        "a port was started before the config was refused:\n{err}"
    );
}

const PORTS: &str = "[[port]]\nname = \"a\"\ndevice = \"net_null_e0\"\n";

#[test]
fn missing_config_file() {
    refused(
        None,
        Some("/nonexistent/bondd.toml"),
        &["/nonexistent/bondd.toml", "cannot read"],
    );
}

#[test]
fn unreadable_config_file() {
    refused(None, None, &["cannot read"]);
}

#[test]
fn invalid_toml() {
    refused(Some("[[port]\nname = "), None, &["bad.toml", "TOML"]);
}

#[test]
fn unknown_key() {
    refused(
        Some(&format!("{PORTS}speed = 10\n")),
        None,
        &["bad.toml", "unknown field `speed`"],
    );
}

#[test]
fn unknown_dpdk_device() {
    let cfg = format!("{PORTS}[[port]]\nname = \"b\"\ndevice = \"net_nosuchdriver0\"\n");
    refused(Some(&cfg), None, &["port \"b\"", "net_nosuchdriver0"]);
}

#[test]
fn core_that_does_not_exist() {
    refused(
        Some(&format!("[cores]\nworkers = [97]\n{PORTS}")),
        None,
        &["cores.workers[0]", "core 97 does not exist"],
    );
}

#[test]
fn port_named_twice() {
    let cfg = format!("{PORTS}[[port]]\nname = \"a\"\ndevice = \"net_null_e1\"\n");
    refused(
        Some(&cfg),
        None,
        &["port[1].name", "\"a\" is already used by port[0]"],
    );
}

#[test]
fn bad_command_line_values() {
    let dir = TempDir::new("cli");
    let mut c = bondd();
    c.args(["gen-pcap", "--size", "20", "--out"])
        .arg(dir.path("x.pcap"));
    let (ok, _, err) = run(c);
    assert!(!ok);
    assert!(err.contains("--size 20"), "{err}");
}

#[test]
fn check_subcommand_accepts_the_shipped_configs() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let mut c = bondd();
            c.arg("check").arg("--config").arg(&p);
            let (ok, out, err) = run(c);
            assert!(ok, "{} refused:\n{err}", p.display());
            assert!(out.contains("OK"), "{out}");
        }
    }
}

/// `bondd bench run --source`: a bad source, and the options a replay cannot honour, are
/// refused before EAL starts.
#[test]
fn bench_replay_refuses_what_it_cannot_measure() {
    for (args, expect) in [
        (
            &["run", "--source", "bogus"][..],
            "--source \"bogus\": generator or replay",
        ),
        (
            &["run", "--source", "replay", "--rate", "1Mpps"],
            "--rate max",
        ),
        (
            &["run", "--source", "replay", "--sink", "ring"],
            "net_null ports",
        ),
        (&["rfc2544", "--source", "replay"], "fixed runs only"),
        (
            &["run", "--source", "replay", "--flows", "9000"],
            "9000 flows, at most 8192",
        ),
    ] {
        let mut c = bondd();
        c.arg("bench").args(args);
        let (ok, _out, err) = run(c);
        assert!(!ok, "accepted: {args:?}");
        assert!(
            err.contains(expect),
            "{args:?}: stderr should contain {expect:?}:\n{err}"
        );
        assert!(
            !err.contains("EAL:"),
            "{args:?}: EAL started before the refusal:\n{err}"
        );
    }
}
