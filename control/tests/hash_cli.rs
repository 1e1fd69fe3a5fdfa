//! `bondd hash` prints what the data path would do with each frame of a pcap.

mod common;
use common::*;
use dataplane::hash::{XmitHashPolicy, member_for};
use dataplane::reta::RedirectionTable;

#[test]
fn prints_the_hash_and_member_of_every_frame() {
    let dir = TempDir::new("hash");
    let frames = control::pcap::UdpFlows {
        flows: 64,
        ..Default::default()
    }
    .frames();
    let pcap = dir.path("f.pcap");
    control::pcap::write_file(&pcap, frames.iter().map(|f| f.as_slice())).unwrap();
    for (arg, policy, members) in [
        ("layer3+4", XmitHashPolicy::Layer34, 3),
        ("l23", XmitHashPolicy::Layer23, 2),
        ("5", XmitHashPolicy::VlanSrcMac, 4),
    ] {
        let mut c = bondd();
        c.args(["hash", "--policy", arg, "--members", &members.to_string()])
            .arg(&pcap);
        let (ok, out, err) = run(c);
        assert!(ok, "{err}");
        let rows: Vec<Vec<String>> = out
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim_start().starts_with("frame"))
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .collect();
        assert_eq!(rows.len(), frames.len());
        let reta = RedirectionTable::new(members);
        for (row, f) in rows.iter().zip(&frames) {
            let h = policy.hash(f);
            assert_eq!(row[1], format!("{h:#010x}"));
            assert_eq!(row[3], reta.lookup(h).to_string(), "bondd's member");
            assert_eq!(row[4], member_for(h, members).to_string(), "Linux's member");
        }
    }
}

#[test]
fn refuses_bad_arguments() {
    let dir = TempDir::new("hashbad");
    for (args, expect) in [
        (
            vec!["--policy", "layer5", "--members", "2", "x.pcap"],
            "unknown transmit hash policy",
        ),
        (
            vec!["--policy", "layer2", "--members", "0", "x.pcap"],
            "--members 0",
        ),
        (
            vec!["--policy", "layer2", "--members", "2", "/nonexistent.pcap"],
            "/nonexistent.pcap",
        ),
    ] {
        let mut c = bondd();
        c.arg("hash").args(&args).current_dir(&dir.0);
        let (ok, _, err) = run(c);
        assert!(!ok);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}
