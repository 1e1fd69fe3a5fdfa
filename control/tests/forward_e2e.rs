//! The appliance forwards through real PMDs: net_pcap files, and net_af_packet over a veth
//! pair in a namespace that the test creates and removes.

mod common;
use common::*;

/// The two ends of a path through bondd: `[[port]]` sections for `src`, which replays `frames`
/// once from `in.pcap`, and `dst`, which writes what it sends to `out`.
struct PcapEnds {
    frames: Vec<Vec<u8>>,
    out: std::path::PathBuf,
    src: String,
    dst: String,
}

/// [`PcapEnds`] with `n` test frames, their files in `dir`.
fn pcap_ends(dir: &TempDir, n: usize) -> PcapEnds {
    let frames: Vec<Vec<u8>> = (0..n).map(test_frame).collect();
    let inp = dir.path("in.pcap");
    control::pcap::write_file(&inp, frames.iter().map(|f| f.as_slice())).unwrap();
    let out = dir.path("out.pcap");
    let tag = std::process::id();
    PcapEnds {
        src: format!(
            "[[port]]\nname = \"src\"\ndevice = \"net_pcap_s{tag},rx_pcap={}\"\n",
            inp.display()
        ),
        dst: format!(
            "[[port]]\nname = \"dst\"\ndevice = \"net_pcap_d{tag},tx_pcap={}\"\n",
            out.display()
        ),
        frames,
        out,
    }
}

#[test]
fn pcap_to_pcap_is_byte_exact() {
    let dir = TempDir::new("pcap");
    let ends = pcap_ends(&dir, 700);
    let cfg = dir.write(
        "c.toml",
        &format!(
            r#"
[cores]
control = 0
{src}
{dst}
[[forward]]
from = "src"
to = "dst"
bidirectional = false
[run]
stats_period_ms = 0
duration_s = 1.5
"#,
            src = ends.src,
            dst = ends.dst
        ),
    );
    let (ok, json, err) = run_config(&cfg, &[]);
    assert!(ok, "bondd failed:\n{err}");
    let got = control::pcap::read_file(&ends.out).unwrap();
    assert_eq!(got.len(), ends.frames.len(), "every frame arrives");
    for (i, (g, f)) in got.iter().zip(&ends.frames).enumerate() {
        assert_eq!(g, f, "frame {i} differs");
    }
    let r = json.expect("JSON report");
    assert_eq!(r["mbufs_in_use_after_shutdown"], 0);
    assert_eq!(r["ports"][0]["worker"]["rx"], 700);
    assert_eq!(r["ports"][1]["worker"]["tx"], 700);
    assert_eq!(r["ports"][1]["nic"]["tx_packets"], 700);
}

#[test]
fn af_packet_over_a_veth_pair_in_a_namespace() {
    if !need_root("af_packet_over_a_veth_pair_in_a_namespace") {
        return;
    }
    let ns = Netns::with_veths("bdfw", "bva", "bvb", 1);

    let dir = TempDir::new("afp");
    let ends = pcap_ends(&dir, 300);
    let tag = std::process::id();
    // pcap file -> af_packet(bva0) -> kernel veth -> af_packet(bvb0) -> pcap file
    let cfg = dir.write(
        "c.toml",
        &format!(
            r#"
{src}
[[port]]
name = "va"
device = "net_af_packet_a{tag},iface=bva0"
[[port]]
name = "vb"
device = "net_af_packet_b{tag},iface=bvb0"
{dst}
[[forward]]
from = "src"
to = "va"
bidirectional = false
[[forward]]
from = "vb"
to = "dst"
bidirectional = false
[run]
stats_period_ms = 0
duration_s = 2
"#,
            src = ends.src,
            dst = ends.dst
        ),
    );
    let (ok, report, err) = run_config_in(Some(&ns), &cfg, &[]);
    assert!(ok, "bondd failed:\n{err}");
    let got: Vec<Vec<u8>> = control::pcap::read_file(&ends.out)
        .unwrap()
        .into_iter()
        .filter(|f| f.len() >= 12 && f[6..9] == [0x02, 0xbd, 0xd0])
        .collect();
    assert_eq!(
        got.len(),
        ends.frames.len(),
        "every frame crosses the veth pair"
    );
    for (i, (g, f)) in got.iter().zip(&ends.frames).enumerate() {
        assert_eq!(g, f, "frame {i} differs after the veth pair");
    }
    assert_eq!(
        report.expect("JSON report")["mbufs_in_use_after_shutdown"],
        0
    );
}

#[test]
fn sigterm_stops_cleanly_with_final_counters() {
    let dir = TempDir::new("sig");
    let tag = std::process::id();
    let cfg = dir.write(
        "c.toml",
        &format!(
            "[[port]]\nname=\"a\"\ndevice=\"net_null_a{tag}\"\n[[port]]\nname=\"b\"\ndevice=\"net_null_b{tag}\"\n\
             [[forward]]\nfrom=\"a\"\nto=\"b\"\n[run]\nstats_period_ms=200\n"
        ),
    );
    let child = Proc::spawn(
        bondd()
            .arg("run")
            .arg("--config")
            .arg(&cfg)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.signal(libc::SIGTERM);
    let out = child.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
    assert!(
        stdout.contains("Rx-pps"),
        "periodic rates printed:\n{stdout}"
    );
    assert!(stdout.contains("final counters"), "{stdout}");
    assert!(
        stdout.contains("mbufs in use after shutdown: 0 of"),
        "{stdout}"
    );
}
