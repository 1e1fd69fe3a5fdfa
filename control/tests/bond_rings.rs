//! The bond engine in-process, with `net_ring` members: what each mode puts on each member,
//! failover when a member's link is forced down, primary reselection, updelay/downdelay,
//! peer notification, the status file, two workers, and no mbuf leaked.
//!
//! A `net_ring` vdev port has one ring per queue shared by RX and TX (`ETH_RXTX<q>_<dev>`), so
//! the test injects into the LAN port's ring and reads what each member transmitted from the
//! member's rings: queue q for worker q, the last queue for the control thread.

mod common;
use common::TempDir;
use control::appliance::Appliance;
use dataplane::hash::XmitHashPolicy;
use dataplane::mbuf::Mbuf;
use dataplane::mempool::{DEFAULT_DATA_ROOM, PktPool};
use dataplane::ring::Ring;
use dataplane::testing::{eal, uniq};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

struct Rig {
    app: Option<Appliance>,
    pool: PktPool,
    lan: String,
    members: Vec<String>,
    workers: usize,
    stop: AtomicBool,
    dir: TempDir,
}

/// A LAN ring port forwarding one way into `bond0` of `n` ring members.
fn rig(bond: &str, n: usize, workers: &[usize], extra: &str) -> Rig {
    rig_dir(bond, n, workers, extra, "from = \"lan\"\nto = \"bond0\"")
}

/// As [`rig`], with the direction given as the `[[forward]]` from/to lines.
fn rig_dir(bond: &str, n: usize, workers: &[usize], extra: &str, direction: &str) -> Rig {
    let _ = dataplane::worker::usable_cores();
    let dir = TempDir::new("bond");
    // Short names: the PMD names its rings ETH_RXTX<q>_<device> and DPDK caps ring (memzone)
    // names at 31 characters. Unique within the process is enough (--no-shconf).
    static RIGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = RIGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let lan = format!("net_ring{k}l");
    let members: Vec<String> = (0..n).map(|i| format!("net_ring{k}m{i}")).collect();
    let mut text = format!(
        "[cores]\ncontrol = 0\nworkers = {workers:?}\n[[port]]\nname = \"lan\"\ndevice = \"{lan}\"\n\
         [[bond]]\nname = \"bond0\"\n{bond}\n"
    );
    text += &common::bond_members("eth", n, |i| members[i].clone());
    text += &format!(
        "[[forward]]\n{direction}\nbidirectional = false\n\
         [run]\nstats_period_ms = 0\nrun_dir = \"{}\"\n{extra}",
        dir.0.display()
    );
    let app = common::start_appliance(&text);
    let pool = PktPool::create(&uniq("tp"), 8191, 0, DEFAULT_DATA_ROOM, -1).unwrap();
    Rig {
        app: Some(app),
        pool,
        lan,
        members,
        workers: workers.len(),
        stop: AtomicBool::new(false),
        dir,
    }
}

impl Rig {
    fn app(&mut self) -> &mut Appliance {
        self.app.as_mut().unwrap()
    }
    fn inject(&self, frames: &[Vec<u8>], queue: usize) {
        let r = Ring::lookup(&format!("ETH_RXTX{queue}_{}", self.lan)).unwrap();
        for f in frames {
            r.enqueue(Mbuf::from_bytes(&self.pool, f).unwrap()).unwrap();
        }
    }
    fn run(&mut self, ms: u64) {
        let stop = std::mem::replace(&mut self.stop, AtomicBool::new(false));
        self.app().run_until(
            &stop,
            Some(Duration::from_millis(ms)),
            None,
            &mut std::io::sink(),
        );
    }
    /// Runs the control loop until `secs` after the appliance started (scheduled events are
    /// timed from the start too, so checkpoints do not drift with setup time).
    fn run_to(&mut self, secs: f64) {
        let target = self.app().started() + Duration::from_secs_f64(secs);
        let now = std::time::Instant::now();
        assert!(
            now < target,
            "the test is already past its {secs} s checkpoint"
        );
        self.run((target - now).as_millis() as u64);
    }
    /// Frames member `m` sent on queue `q`.
    fn sent(&self, m: usize, q: usize) -> Vec<Vec<u8>> {
        let r = Ring::lookup(&format!("ETH_RXTX{q}_{}", self.members[m])).unwrap();
        r.dequeue(usize::MAX)
            .iter()
            .map(|x| x.data().to_vec())
            .collect()
    }
    /// Frames member `m` sent from the workers (all worker queues).
    fn data(&self, m: usize) -> Vec<Vec<u8>> {
        (0..self.workers).flat_map(|q| self.sent(m, q)).collect()
    }
    /// Frames member `m` sent from the control thread.
    fn control(&self, m: usize) -> Vec<Vec<u8>> {
        self.sent(m, self.workers)
    }
    /// Injects frames as if member `m` had received them.
    fn receive_on(&self, m: usize, frames: &[Vec<u8>]) {
        let r = Ring::lookup(&format!("ETH_RXTX0_{}", self.members[m])).unwrap();
        for f in frames {
            r.enqueue(Mbuf::from_bytes(&self.pool, f).unwrap()).unwrap();
        }
    }
    /// Frames the LAN port sent.
    fn lan_sent(&self) -> Vec<Vec<u8>> {
        let r = Ring::lookup(&format!("ETH_RXTX0_{}", self.lan)).unwrap();
        r.dequeue(usize::MAX)
            .iter()
            .map(|x| x.data().to_vec())
            .collect()
    }
    fn status(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("bond0")).unwrap()
    }
    /// Asserts that the status file says `needle`.
    #[track_caller]
    fn assert_status(&self, needle: &str) {
        let st = self.status();
        assert!(st.contains(needle), "{st}");
    }
    fn events(&mut self) -> Vec<String> {
        self.app().bonds()[0]
            .events
            .iter_recent(1000)
            .map(|e| e.event.to_string())
            .collect()
    }
    /// Shuts down and checks that neither pool lost an mbuf.
    fn finish(mut self) {
        let report = self.app.take().unwrap().shutdown().expect("clean shutdown");
        assert_eq!(report.mbufs_in_use_after_shutdown, 0);
        assert_eq!(self.pool.in_use(), 0, "every injected mbuf came back");
    }
}

/// `[[run.event]]` sections: each (`at_s`, `action`, `port`), e.g. `(0.3, "link-down", "eth0")`.
fn link_events(events: &[(f64, &str, &str)]) -> String {
    events
        .iter()
        .map(|(at, action, port)| {
            format!("[[run.event]]\nat_s = {at:?}\naction = \"{action}\"\nport = \"{port}\"\n")
        })
        .collect()
}

fn flows(n: u32) -> Vec<Vec<u8>> {
    control::pcap::UdpFlows {
        flows: n,
        ..Default::default()
    }
    .frames()
}

/// Waits until the members have sent `n` frames in all (the worker runs asynchronously).
fn settle(r: &mut Rig) {
    r.run(100);
}

#[test]
fn round_robin_alternates_members() {
    let _g = eal();
    let mut r = rig("mode = \"balance-rr\"", 2, &[1], "");
    let frames = flows(600);
    r.inject(&frames, 0);
    settle(&mut r);
    let (a, b) = (r.data(0), r.data(1));
    assert_eq!(a.len() + b.len(), 600);
    assert_eq!(a.len(), 300);
    // Linux's counter is incremented before use: the first frame goes to member 1.
    let evens: Vec<&Vec<u8>> = frames.iter().step_by(2).collect();
    let odds: Vec<&Vec<u8>> = frames.iter().skip(1).step_by(2).collect();
    assert_eq!(b.iter().collect::<Vec<_>>(), evens);
    assert_eq!(a.iter().collect::<Vec<_>>(), odds);
    r.finish();
}

#[test]
fn round_robin_packets_per_slave() {
    let _g = eal();
    let mut r = rig("mode = 0\npackets_per_slave = 3", 3, &[1], "");
    r.inject(&flows(90), 0);
    settle(&mut r);
    let counts: Vec<usize> = (0..3).map(|m| r.data(m).len()).collect();
    assert_eq!(counts, vec![30, 30, 30]);
    r.finish();
}

#[test]
fn active_backup_uses_one_member() {
    let _g = eal();
    let mut r = rig("mode = \"active-backup\"\nprimary = \"eth1\"", 2, &[1], "");
    r.inject(&flows(200), 0);
    settle(&mut r);
    assert_eq!(r.data(0).len(), 0);
    assert_eq!(r.data(1).len(), 200, "everything on the primary");
    r.assert_status("Currently Active Slave: eth1");
    r.finish();
}

#[test]
fn xor_follows_the_linux_hash_for_every_policy() {
    let _g = eal();
    for policy in XmitHashPolicy::ALL {
        let mut r = rig(
            &format!("mode = \"balance-xor\"\nxmit_hash_policy = \"{policy}\""),
            2,
            &[1],
            "",
        );
        // Vary the source MAC too, or layer2 and vlan+srcmac would put everything on one link.
        let mut frames = flows(300);
        for (i, f) in frames.iter_mut().enumerate() {
            f[11] = (i * 7) as u8;
            f[5] = (i * 13) as u8;
        }
        // Tagged frames too, for vlan+srcmac and the tag skipping of the others.
        for (i, f) in flows(100).into_iter().enumerate() {
            let mut t = f[..12].to_vec();
            t.extend_from_slice(&[0x81, 0x00, (i >> 8) as u8 & 0x0f, i as u8]);
            t.extend_from_slice(&f[12..]);
            t[11] = i as u8; // vary the source MAC as well
            frames.push(t);
        }
        r.inject(&frames, 0);
        settle(&mut r);
        let (a, b) = (r.data(0), r.data(1));
        assert_eq!(a.len() + b.len(), frames.len(), "{policy}");
        for f in &a {
            assert_eq!(
                policy.hash(f) % 2,
                0,
                "{policy}: frame on member 0 hashes odd"
            );
        }
        for f in &b {
            assert_eq!(
                policy.hash(f) % 2,
                1,
                "{policy}: frame on member 1 hashes even"
            );
        }
        assert!(
            !a.is_empty() && !b.is_empty(),
            "{policy}: both members used"
        );
        r.finish();
    }
}

#[test]
fn broadcast_sends_every_frame_on_every_member() {
    let _g = eal();
    let mut r = rig("mode = \"broadcast\"", 3, &[1], "");
    let frames = flows(150);
    r.inject(&frames, 0);
    settle(&mut r);
    for m in 0..3 {
        assert_eq!(r.data(m), frames, "member {m}");
    }
    r.finish();
}

#[test]
fn failover_and_primary_reselection_with_peer_notification() {
    let _g = eal();
    let mut r = rig(
        "mode = \"active-backup\"\nmiimon = 5\nprimary = \"eth0\"\nnum_grat_arp = 2\nipaddr = [\"192.0.2.7\"]",
        2,
        &[1],
        &link_events(&[(0.3, "link-down", "eth0"), (0.6, "link-up", "eth0")]),
    );
    let batch = |k: u32| -> Vec<Vec<u8>> {
        (0..100)
            .map(|i| control::pcap::UdpFlows::default().frame(k * 1000 + i))
            .collect()
    };
    r.run_to(0.15);
    // Startup: eth0 became active and announced the bond's address twice.
    let garps = r.control(0);
    assert_eq!(garps.len(), 2, "two gratuitous ARPs at startup");
    r.inject(&batch(1), 0);
    r.run_to(0.45); // eth0 went down at 0.3 and the monitor noticed within 5 ms
    r.assert_status("Currently Active Slave: eth1");
    r.inject(&batch(2), 0);
    r.run_to(0.85); // eth0 back at 0.6, primary with reselect=always takes over
    r.assert_status("Currently Active Slave: eth0");
    r.inject(&batch(3), 0);
    settle(&mut r);

    let on0 = r.data(0);
    let on1 = r.data(1);
    let mut want0 = batch(1);
    want0.extend(batch(3));
    assert_eq!(on0, want0, "batches 1 and 3 on eth0");
    assert_eq!(on1, batch(2), "batch 2 on eth1 while eth0 was down");

    // Gratuitous ARPs: two on eth1 at the failover, two more on eth0 when it came back.
    let g1 = r.control(1);
    assert_eq!(g1.len(), 2, "two gratuitous ARPs on the new active member");
    let g0 = r.control(0);
    assert_eq!(g0.len(), 2);
    for g in g1.iter().chain(&g0).chain(&garps) {
        assert_eq!(&g[0..6], &[0xff; 6], "broadcast");
        assert_eq!(&g[12..14], &[0x08, 0x06], "ARP");
        assert_eq!(&g[20..22], &[0, 1], "request, as Linux sends");
        assert_eq!(&g[28..32], &[192, 0, 2, 7], "sender IP");
        assert_eq!(&g[38..42], &[192, 0, 2, 7], "target IP = sender IP");
        assert_eq!(&g[6..12], &g[22..28], "sender MAC = source MAC");
    }

    let ev = r.events();
    let find = |needle: &str| ev.iter().position(|e| e.contains(needle));
    let down =
        find("(slave eth0): link status definitely down, disabling slave").expect("down logged");
    let to1 = find("(slave eth1): making interface the new active one").expect("eth1 active");
    let up = find("(slave eth0): link status definitely up").expect("up logged");
    assert!(down < to1 && to1 < up, "{ev:#?}");
    assert!(
        ev[up..]
            .iter()
            .any(|e| e.contains("(slave eth0): making interface the new active one"))
    );
    let st = r.status();
    assert!(
        st.contains("Bonding Mode: fault-tolerance (active-backup)"),
        "{st}"
    );
    assert!(
        st.contains("Primary Slave: eth0 (primary_reselect always)"),
        "{st}"
    );
    let eth0 = &st[st.find("Slave Interface: eth0").unwrap()..];
    assert!(eth0.contains("Link Failure Count: 1"), "{st}");
    r.finish();
}

#[test]
fn primary_reselect_failure_keeps_the_backup() {
    let _g = eal();
    let mut r = rig(
        "mode = 1\nmiimon = 5\nprimary = \"eth0\"\nprimary_reselect = \"failure\"",
        2,
        &[1],
        &link_events(&[(0.1, "link-down", "eth0"), (0.2, "link-up", "eth0")]),
    );
    r.run(300);
    r.assert_status("Currently Active Slave: eth1");
    r.finish();
}

#[test]
fn downdelay_and_updelay_hold_the_change_back() {
    let _g = eal();
    let mut r = rig(
        "mode = 1\nmiimon = 10\ndowndelay = 200\nupdelay = 200",
        2,
        &[1],
        &link_events(&[(0.2, "link-down", "eth0"), (0.8, "link-up", "eth0")]),
    );
    r.run_to(0.3); // 100 ms into the downdelay
    assert!(
        r.status().contains("Currently Active Slave: eth0"),
        "still eth0 during downdelay"
    );
    r.assert_status("MII Status: going down");
    r.run_to(0.55); // 350 ms after the loss: past the downdelay
    r.assert_status("Currently Active Slave: eth1");
    r.run_to(0.9); // 100 ms into the updelay
    r.assert_status("MII Status: going back");
    r.run_to(1.15); // past the updelay
    let eth0 = r.status()[r.status().find("Slave Interface: eth0").unwrap()..].to_owned();
    assert!(eth0.contains("MII Status: up"), "{eth0}");
    let ev = r.events();
    // Last occurrences: at startup the members come up too.
    let pos = |s: &str| {
        ev.iter()
            .rposition(|e| e.contains(s))
            .unwrap_or_else(|| panic!("{s} not in {ev:#?}"))
    };
    assert!(
        pos("link status down for active interface, disabling it in 200 ms")
            < pos("definitely down")
    );
    assert!(pos("link status up, enabling it in 200 ms") < pos("definitely up"));
    // The log stamps show the delays were honoured (to within half a 10 ms tick of jitter; the
    // exact tick counts are checked by the monitor's unit tests).
    let log = &r.app().bonds()[0].events;
    let t = |s: &str| {
        log.iter()
            .rev()
            .find(|e| e.event.to_string().contains(s))
            .unwrap()
            .mono_us
    };
    let held = t("definitely down") - t("disabling it in 200 ms");
    assert!(held >= 195_000, "downdelay held the member for {held} us");
    let held = t("definitely up") - t("enabling it in 200 ms");
    assert!(held >= 195_000, "updelay held the member for {held} us");
    r.finish();
}

#[test]
fn two_workers_share_the_load_without_loss() {
    let _g = eal();
    let mut r = rig(
        "mode = \"balance-xor\"\nxmit_hash_policy = \"layer3+4\"",
        2,
        &[0, 1],
        "",
    );
    let frames = flows(800);
    r.inject(&frames[..400], 0);
    r.inject(&frames[400..], 1);
    settle(&mut r);
    let mut per_queue = [0usize; 2];
    let mut total = 0;
    for m in 0..2 {
        for (q, n) in per_queue.iter_mut().enumerate() {
            let s = r.sent(m, q);
            for f in &s {
                assert_eq!(XmitHashPolicy::Layer34.hash(f) as usize % 2, m);
            }
            *n += s.len();
            total += s.len();
        }
    }
    assert_eq!(total, 800);
    assert_eq!(
        per_queue,
        [400, 400],
        "each worker transmits on its own queue"
    );
    r.finish();
}

#[test]
fn all_members_down_drops_and_counts() {
    let _g = eal();
    let mut r = rig(
        "mode = 2\nmiimon = 5",
        2,
        &[1],
        &link_events(&[(0.0, "link-down", "eth0"), (0.0, "link-down", "eth1")]),
    );
    r.run(100);
    r.assert_status("MII Status: down");
    r.inject(&flows(50), 0);
    settle(&mut r);
    assert_eq!(r.data(0).len() + r.data(1).len(), 0);
    let ev = r.events();
    assert!(
        ev.iter()
            .any(|e| e.contains("now running without any active interface!")),
        "{ev:#?}"
    );
    let samples = r.app().bond_samples();
    assert_eq!(samples[0].no_member_drops, 50, "dropped and counted");
    r.finish();
}

#[test]
fn active_backup_delivers_only_what_the_active_member_receives() {
    let _g = eal();
    for all_active in [false, true] {
        let mut r = rig_dir(
            &format!(
                "mode = \"active-backup\"\nprimary = \"eth0\"\nall_slaves_active = {all_active}"
            ),
            2,
            &[1],
            "",
            "from = \"bond0\"\nto = \"lan\"",
        );
        let on_active = flows(40);
        let on_backup: Vec<Vec<u8>> = (100..130)
            .map(|i| control::pcap::UdpFlows::default().frame(i))
            .collect();
        r.receive_on(0, &on_active);
        r.receive_on(1, &on_backup);
        settle(&mut r);
        let got = r.lan_sent();
        let samples = r.app().sample();
        let eth1 = samples.iter().find(|p| p.name == "eth1").unwrap();
        if all_active {
            assert_eq!(
                got.len(),
                70,
                "all_slaves_active=1 delivers from the backup too"
            );
            assert_eq!(eth1.worker.dropped(), 0);
        } else {
            assert_eq!(got, on_active, "only the active member delivers");
            assert_eq!(
                eth1.worker.drops[dataplane::counters::DropReason::Inactive as usize],
                30,
                "frames on the backup are dropped and counted"
            );
        }
        r.finish();
    }
}

#[test]
fn balance_modes_deliver_from_every_member() {
    let _g = eal();
    let mut r = rig_dir(
        "mode = \"balance-xor\"",
        2,
        &[1],
        "",
        "from = \"bond0\"\nto = \"lan\"",
    );
    r.receive_on(0, &flows(20));
    r.receive_on(1, &flows(25));
    settle(&mut r);
    assert_eq!(r.lan_sent().len(), 45);
    r.finish();
}

#[test]
fn members_can_be_removed_and_added_at_run_time() {
    let _g = eal();
    let spare = format!("net_ringS{}", std::process::id() % 100_000);
    let mut r = rig(
        "mode = \"balance-xor\"\nxmit_hash_policy = \"layer3+4\"",
        2,
        &[1],
        &format!("[[port]]\nname = \"spare\"\ndevice = \"{spare}\"\n"),
    );
    let app = r.app();
    let reply = app.execute_line("remove bonding member eth1 bond0");
    assert!(reply.ok, "{}", reply.text);
    r.inject(&flows(100), 0);
    settle(&mut r);
    assert_eq!(r.data(0).len(), 100, "everything on the remaining member");
    assert_eq!(r.data(1).len(), 0);
    let reply = r.app().execute_line("add bonding member spare bond0");
    assert!(reply.ok, "{}", reply.text);
    let reply = r.app().execute_line("add bonding member lan bond0");
    assert!(
        !reply.ok && reply.text.contains("forwards traffic itself"),
        "{}",
        reply.text
    );
    r.run(50); // the monitor sees the new member up
    r.inject(&flows(200), 0);
    settle(&mut r);
    let on0 = r.data(0).len();
    let ring = Ring::lookup(&format!("ETH_RXTX0_{spare}")).unwrap();
    let on_spare = ring.dequeue(usize::MAX).len();
    assert_eq!(on0 + on_spare, 200);
    assert!(
        on_spare > 50 && on0 > 50,
        "the new member takes a share: {on0}/{on_spare}"
    );
    let ev = r.events();
    assert!(
        ev.iter().any(|e| e.contains("(slave eth1): Releasing")),
        "{ev:#?}"
    );
    assert!(
        ev.iter().any(|e| e.contains("(slave spare): Enslaving")),
        "{ev:#?}"
    );
    let st = r.status();
    assert!(
        st.contains("Slave Interface: spare") && !st.contains("Slave Interface: eth1"),
        "{st}"
    );
    r.finish();
}

#[test]
fn a_bond_created_at_run_time_forwards_once_it_has_members_and_a_path() {
    let _g = eal();
    let tag = std::process::id() % 100_000;
    let (pa, pb) = (format!("net_ringC{tag}a"), format!("net_ringC{tag}b"));
    let mut r = rig(
        "mode = \"active-backup\"\nmiimon = 10",
        1,
        &[1],
        &format!(
            "[[port]]\nname = \"pa\"\ndevice = \"{pa}\"\n\
             [[port]]\nname = \"pb\"\ndevice = \"{pb}\"\n"
        ),
    );
    // (command, should succeed, text the answer must contain)
    let steps: &[(&str, bool, &str)] = &[
        ("create bonding device 2 7", false, "no NUMA socket 7"),
        ("create bonding device 6 0", false, "not implemented yet"),
        ("create bonding device balance-xor 0", true, "bond1 (bond 1"),
        ("show bonding config bond1", true, "Bonding mode: 2"),
        (
            "set bonding balance_xmit_policy bond1 l34",
            true,
            "layer3+4",
        ),
        ("add bonding member pa bond1", true, "added to bond1"),
        ("add bonding member pb bond1", true, "added to bond1"),
        ("add forward pa bond1", false, "member of bond1"),
        ("add forward lan bond1", false, "already forwards to bond0"),
        ("remove forward lan bond1", false, "does not forward to"),
        ("remove forward lan bond0", true, "no longer forwarding"),
        ("add forward lan lan", false, "to itself"),
        (
            "add forward lan bond1",
            true,
            "lan (port 0) -> bond1 (bond 1)",
        ),
        ("show config fwd", true, "lan (port 0) -> bond1 (bond 1)"),
    ];
    for (cmd, ok, needle) in steps {
        let reply = r.app().execute_line(cmd);
        assert_eq!(reply.ok, *ok, "{cmd}: {}", reply.text);
        assert!(
            reply.text.contains(needle),
            "{cmd}: expected {needle:?} in:\n{}",
            reply.text
        );
    }
    let fwd = r.app().execute_line("show config fwd --json");
    let v: serde_json::Value = serde_json::from_str(&fwd.text).unwrap();
    assert_eq!(
        v["paths"],
        serde_json::json!([{"from": "lan", "to": "bond1"}])
    );
    r.run(50); // the monitor sees the members up
    r.inject(&flows(200), 0);
    settle(&mut r);
    assert_eq!(r.data(0).len(), 0, "nothing goes to bond0 any more");
    let on = |dev: &str| {
        Ring::lookup(&format!("ETH_RXTX0_{dev}"))
            .unwrap()
            .dequeue(usize::MAX)
            .len()
    };
    let (a, b) = (on(&pa), on(&pb));
    assert_eq!(a + b, 200, "every frame left through bond1");
    assert!(a > 50 && b > 50, "both members carry flows: {a}/{b}");
    // Its status file, in the kernel's layout, with the first member's address as its own.
    let st = std::fs::read_to_string(r.dir.0.join("bond1")).unwrap();
    assert!(
        st.contains("Bonding Mode: load balancing (xor)")
            && st.contains("Transmit Hash Policy: layer3+4 (1)")
            && st.contains("Slave Interface: pa")
            && st.contains("Slave Interface: pb"),
        "{st}"
    );
    // Ring ports have no address (00:00:00:00:00:00), so the bond keeps the random, locally
    // administered one it was created with.
    let cfg = r.app().execute_line("show bonding config bond1").text;
    assert!(
        !cfg.contains("Current active"),
        "no active member in balance-xor: {cfg}"
    );
    let mac = cfg
        .lines()
        .find_map(|l| l.trim().strip_prefix("Bond MAC: "))
        .unwrap()
        .to_owned();
    let first = u8::from_str_radix(&mac[..2], 16).unwrap();
    assert!(mac != "00:00:00:00:00:00" && first & 0x03 == 0x02, "{cfg}");
    r.finish();
}

#[test]
fn broadcast_of_a_chained_mbuf_frees_every_segment_once() {
    let _g = eal();
    let mut r = rig("mode = \"broadcast\"", 3, &[1], "");
    let f = &flows(1)[0];
    let head = Mbuf::from_bytes(&r.pool, &f[..30]).unwrap();
    let tail = Mbuf::from_bytes(&r.pool, &f[30..]).unwrap();
    // SAFETY: both are owned; after chaining, the head owns the tail.
    let rc = unsafe { dpdk_sys::rte_pktmbuf_chain(head.as_ptr(), tail.as_ptr()) };
    assert_eq!(rc, 0);
    std::mem::forget(tail);
    assert_eq!(r.pool.in_use(), 2);
    let ring = Ring::lookup(&format!("ETH_RXTX0_{}", r.lan)).unwrap();
    ring.enqueue(head).unwrap();
    settle(&mut r);
    // The three members hold the same chain; every segment must count three references.
    // (A double free would not show in the pool's in-use count: DPDK clamps it.)
    let copies: Vec<Mbuf> = (0..3)
        .flat_map(|m| {
            Ring::lookup(&format!("ETH_RXTX0_{}", r.members[m]))
                .unwrap()
                .dequeue(8)
        })
        .collect();
    assert_eq!(copies.len(), 3, "every member sent the frame");
    for c in &copies {
        assert_eq!(c.data(), &f[..30], "first segment as sent");
        // SAFETY: reading the refcounts of a chain we hold references to.
        let (head, tail) = unsafe {
            let h = c.as_ptr();
            ((*h).refcnt, (*(*h).next).refcnt)
        };
        assert_eq!(
            (head, tail),
            (3, 3),
            "both segments carry one reference per member"
        );
    }
    drop(copies);
    assert_eq!(r.pool.in_use(), 0);
    r.finish();
}

#[test]
fn garbage_frames_never_crash_a_worker() {
    let _g = eal();
    let mut rng = dataplane::testing::Rng(0xbad_f00d);
    let mut garbage: Vec<Vec<u8>> = (0..300)
        .map(|i| {
            let mut f = rng.bytes(i % 100);
            // Some look like the start of real headers, cut short.
            if f.len() > 14 && i % 3 == 0 {
                f[12] = [0x08, 0x81, 0x86][i % 3];
                f[13] = [0x00, 0x00, 0xdd][i % 3];
            }
            f
        })
        .collect();
    garbage.push(Vec::new()); // an empty frame
    let modes = [
        "mode = \"balance-rr\"".to_owned(),
        "mode = \"broadcast\"".to_owned(),
        "mode = \"active-backup\"".to_owned(),
    ]
    .into_iter()
    .chain(
        XmitHashPolicy::ALL
            .iter()
            .map(|p| format!("mode = \"balance-xor\"\nxmit_hash_policy = \"{p}\"")),
    );
    for (k, mode) in modes.enumerate() {
        // Every other rig rewrites MACs too, where runts are counted as malformed.
        let fwd = if k % 2 == 0 {
            "forward_mode = \"mac\"\n"
        } else {
            ""
        };
        let mut r = rig(&mode, 2, &[1], fwd);
        r.inject(&garbage, 0);
        settle(&mut r);
        let copies = if mode.contains("broadcast") { 2 } else { 1 };
        let sent: usize = (0..2).map(|m| r.data(m).len()).sum();
        let lan = r
            .app()
            .sample()
            .into_iter()
            .find(|p| p.name == "lan")
            .unwrap();
        let malformed = lan.worker.drops[dataplane::counters::DropReason::Malformed as usize];
        assert_eq!(
            lan.worker.rx,
            garbage.len() as u64,
            "{mode}: every frame received"
        );
        assert_eq!(
            sent as u64 + malformed * copies as u64,
            garbage.len() as u64 * copies as u64,
            "{mode}: each frame sent or counted as malformed"
        );
        if fwd.is_empty() {
            assert_eq!(malformed, 0, "{mode}: io mode forwards whatever it gets");
        } else {
            assert!(malformed > 0, "{mode}: runts counted in mac mode");
        }
        r.finish();
    }
}
