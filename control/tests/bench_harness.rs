//! `bondd bench` end to end: the generator's frames byte for byte and at the rate asked for,
//! the receiver's accounts through a stand-in device that drops, swaps and duplicates known
//! frames, and a failover run on `net_ring` members whose gap and loss agree with the fault.

use control::bench::account::Accounts;
use control::bench::dut::{BondSetup, Dut, External, Placement, Sink, Source};
use control::bench::engine::{Cut, End, GenLoop, Generator, Live, MemberRx};
use control::bench::experiment::{self, Experiment, Setup};
use control::bench::rate::{Pacer, Rate};
use control::bench::traffic::{IpRange, L4, PortRange, Sizes, Traffic};
use control::bench::trailer::Trailer;
use control::bench::trial::{self, Cores, TrialSpec, Wiring};
use dataplane::ring::{Ring, Sync};
use dataplane::testing::{eal, uniq};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn ring(name: &str) -> Arc<Ring> {
    Arc::new(Ring::create(&uniq(name), 4096, Sync::SingleProducerSingleConsumer).unwrap())
}

fn core() -> usize {
    dataplane::worker::usable_cores()[0]
}

/// Drains `r` into a list of frames (bytes), freeing the mbufs.
/// A bond of two members read frame by frame (ring sinks), one DUT: the control thread,
/// generator and receiver on the first usable core, the worker on the last, 4 KiB pages.
fn two_member_setup(mode: u8, policy: &str, miimon: u32, dut: Dut) -> Setup {
    let usable = dataplane::worker::usable_cores();
    Setup {
        traffic: Traffic::default(),
        bond: BondSetup {
            mode,
            policy: policy.into(),
            miimon,
            members: 2,
            extra: String::new(),
            sink: Sink::Ring,
            source: Source::Generator,
        },
        external: External::default(),
        place: Placement {
            control_core: usable[0],
            workers: vec![*usable.last().unwrap()],
            memory: "no-huge".into(),
        },
        cores: Cores {
            generator: usable[0],
            rx: usable[0],
        },
        duts: vec![dut],
        link_mbps: 10_000,
        progress: false,
    }
}

fn drain(r: &Ring) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let got = r.dequeue(512);
        if got.is_empty() {
            return out;
        }
        out.extend(got.iter().map(|m| m.data().to_vec()));
    }
}

#[test]
fn generator_builds_exactly_the_frames_asked_for_at_the_rate_asked_for() {
    let _g = eal();
    let traffic = Traffic {
        sizes: Sizes::Imix,
        src_ip: IpRange::parse("src-ip", "10.1.0.1-10.1.0.4").unwrap(),
        sport: PortRange::parse("sport", "2000-2009").unwrap(),
        ..Traffic::default()
    };
    traffic.validate().unwrap();
    assert_eq!(traffic.flows(), 40);
    let generator = Generator::new(&traffic, &uniq("g")).unwrap();
    let out = ring("gq");
    let tx = [End::Ring(Arc::clone(&out))];
    let live = Live::new(1);
    let hz = dataplane::eal::tsc_hz();
    // 20 000 frames/s for 0.5 s: 10 000 frames, paced in bursts of at most 32.
    let pacer = Pacer::new(20_000.0, hz, dataplane::eal::tsc());
    let mut g = GenLoop::new(&generator, &tx, Some(pacer), &live);
    let t0 = Instant::now();
    let mut frames = Vec::new();
    while t0.elapsed() < Duration::from_millis(500) {
        g.step();
        frames.extend(drain(&out));
    }
    let (sent, refused) = g.finish();
    frames.extend(drain(&out));
    assert_eq!(refused, 0);
    assert_eq!(sent as usize, frames.len());
    let expect = 10_000.0;
    assert!(
        (frames.len() as f64 - expect).abs() < expect * 0.05,
        "{} frames in 0.5 s at 20 kpps",
        frames.len()
    );
    // Every frame is the template of its flow and size with its trailer, in flow order,
    // sequence numbers counting per flow, sizes in the IMIX pattern.
    let mut sizes = std::collections::BTreeMap::new();
    for (n, f) in frames.iter().enumerate() {
        let t = Trailer::read(f).expect("our trailer");
        assert_eq!(t.flow as usize, n % 40, "frame {n}");
        assert_eq!(t.seq as usize, n / 40, "frame {n}");
        let class = traffic.sizes.class_of(n as u64);
        assert_eq!(
            f,
            &generator.frame(class, t.flow, t.seq, t.tsc),
            "frame {n}"
        );
        assert_eq!(&f[12..14], &[0x08, 0x00], "IPv4");
        *sizes.entry(f.len() + 4).or_insert(0usize) += 1;
    }
    let total = frames.len() as f64;
    for (size, weight) in [(64usize, 7.0), (594, 4.0), (1518, 1.0)] {
        let share = sizes[&size] as f64 / total;
        assert!(
            (share - weight / 12.0).abs() < 0.01,
            "{size}-byte frames: {share} of all"
        );
    }
    drop(g);
    assert_eq!(generator.in_use(), 0, "every frame went back to its pool");
    // Tagged frames carry the tag before the IP ethertype.
    let tagged = Traffic {
        vlan: Some(42),
        sizes: Sizes::Fixed(128),
        ..Traffic::default()
    };
    tagged.validate().unwrap();
    let (f, _) = tagged.template(3, 128);
    assert_eq!(&f[12..18], &[0x81, 0x00, 0, 42, 0x08, 0x00], "802.1Q tag");
    assert_eq!(f.len(), 124);
}

/// A stand-in device: moves frames from `input` to `output`, dropping every 10th, swapping
/// each 7th with the next, duplicating every 50th (by position in the stream).
fn faulty_device(input: &Ring, output: &Ring, stop: &AtomicBool) -> (u64, u64, u64) {
    let (mut dropped, mut swapped, mut duped) = (0, 0, 0);
    let mut n = 0u64;
    let mut held: Option<dataplane::mbuf::Mbuf> = None;
    loop {
        let got = input.dequeue(32);
        if got.is_empty() {
            if stop.load(Ordering::Relaxed) {
                if let Some(h) = held.take() {
                    output.enqueue(h).unwrap();
                }
                return (dropped, swapped, duped);
            }
            std::thread::yield_now();
            continue;
        }
        for m in got {
            n += 1;
            if n.is_multiple_of(10) {
                dropped += 1;
                continue;
            }
            if n % 50 == 1 {
                m.refcnt_add(1);
                let copy = unsafe { dataplane::mbuf::Mbuf::from_raw(m.as_ptr()) };
                output.enqueue(copy).unwrap();
                duped += 1;
            }
            if n.is_multiple_of(7) && held.is_none() {
                held = Some(m);
                swapped += 1;
                continue;
            }
            output.enqueue(m).unwrap();
            if let Some(h) = held.take() {
                output.enqueue(h).unwrap();
            }
        }
    }
}

#[test]
fn receiver_counts_what_a_faulty_device_did() {
    let _g = eal();
    let traffic = Traffic {
        sport: PortRange::parse("sport", "1000").unwrap(),
        ..Traffic::default()
    };
    let generator = Generator::new(&traffic, &uniq("g")).unwrap();
    let input = ring("fi");
    let output = ring("fo");
    let stop = AtomicBool::new(false);
    let wiring = Wiring {
        tx: vec![End::Ring(Arc::clone(&input))],
        members: vec![MemberRx {
            ends: vec![End::Ring(Arc::clone(&output))],
            cut: Arc::new(Cut::default()),
        }],
        member_ports: vec![0],
        member_names: vec!["eth0".into()],
        member_counts: None,
        counted: None,
    };
    let spec = TrialSpec {
        pps: Some(100_000.0),
        duration: Duration::from_millis(400),
        faults: vec![],
        copies: 1,
    };
    let (outcome, (dropped, swapped, duped)) = std::thread::scope(|s| {
        let dev = s.spawn(|| faulty_device(&input, &output, &stop));
        let o = trial::run(
            "stand-in",
            &wiring,
            &generator,
            &spec,
            Cores {
                generator: core(),
                rx: core(),
            },
            None,
        );
        stop.store(true, Ordering::Relaxed);
        let d = dev.join().unwrap();
        (o.unwrap(), d)
    });
    assert!(outcome.sent > 30_000, "{outcome:?}");
    assert_eq!(outcome.lost, dropped, "lost");
    assert_eq!(outcome.duplicates, duped, "duplicates");
    // A held frame overtaken by the next one is reordered unless the next was dropped.
    assert!(
        outcome.reordered <= swapped && outcome.reordered >= swapped * 8 / 10,
        "reordered {} of {swapped} swaps",
        outcome.reordered
    );
    assert!(outcome.per_frame);
    assert!(outcome.latency_us.max > 0.0 && outcome.latency_us.p50 <= outcome.latency_us.max);
    assert_eq!(generator.in_use(), 0);
}

#[test]
fn accounts_attribute_a_cut_to_its_member() {
    // The pure part is unit-tested in the library; here the receive loop's cut switch.
    let _g = eal();
    let traffic = Traffic::default();
    let generator = Generator::new(&traffic, &uniq("g")).unwrap();
    let r0 = ring("c0");
    let cut = Arc::new(Cut::default());
    let members = [MemberRx {
        ends: vec![End::Ring(Arc::clone(&r0))],
        cut: Arc::clone(&cut),
    }];
    let live = Live::new(1);
    let tx = [End::Ring(Arc::clone(&r0))];
    let mut g = GenLoop::new(&generator, &tx, None, &live);
    let hz = dataplane::eal::tsc_hz();
    let acc = Accounts::new(1024, 1, dataplane::eal::tsc(), hz / 1000, 100, 64, hz);
    let mut rx = control::bench::engine::RxLoop::new(acc, &members, &live);
    // 64 frames queued before the cut are on the wire: they arrive. 64 after it are lost.
    g.step();
    g.step();
    cut.grace.store(r0.count(), Ordering::Relaxed);
    cut.on.store(true, Ordering::Release);
    g.step();
    g.step();
    while rx.step() > 0 {}
    assert_eq!(rx.accounts.totals.distinct, 64);
    assert_eq!(rx.accounts.cut_count[0], 64);
    g.finish();
}

#[test]
fn failover_run_reports_the_gap_and_loss_of_the_fault() {
    let setup = two_member_setup(1, "layer2", 5, Dut::Bondd);
    let rate = 200_000.0;
    let exp = Experiment::Failover {
        rate: Rate::Pps(rate),
        trials: 3,
        member: None,
        fault_at: Duration::from_millis(150),
        restore_after: Duration::from_millis(150),
    };
    let results = experiment::execute(&setup, &exp).unwrap();
    assert_eq!(results.runs.len(), 3);
    for o in &results.runs {
        let f = &o.faults[0];
        // The monitor looks every 5 ms: the bond leaves the dead member within a period and
        // a bit (the control thread shares its CPU with the generator here).
        assert!(
            f.gap_us >= 0.0 && f.gap_us < 5_000.0 + 15_000.0,
            "gap {} µs: {o:?}",
            f.gap_us
        );
        // What was lost is what the generator sent into the dead member during the gap:
        // rate × gap, give or take the generator catching up after a stall of a few ms on a
        // busy CI machine, up to 10 ms (a release build on a quiet one agrees within 1 %).
        let expect = rate * f.gap_us / 1e6;
        assert!(
            (f.lost as f64 - expect).abs() <= expect * 0.5 + rate * 0.010,
            "lost {} for a gap of {} µs at {rate} pps",
            f.lost,
            f.gap_us
        );
        // Nothing else was lost inside the device (what its ingress refused while a busy CI
        // machine stalled its worker is loss too, but not the fault's), and the member's
        // return lost nothing but such refusals.
        assert!(o.lost <= f.lost + o.refused, "{o:?}");
        assert!(f.restore_lost <= o.refused, "{o:?}");
        assert_eq!(o.duplicates, 0);
    }
}

#[test]
fn bad_input_is_refused_before_anything_starts() {
    let base = Traffic::default();
    let e = Traffic {
        sizes: Sizes::Fixed(60),
        ..base.clone()
    }
    .validate()
    .unwrap_err();
    assert!(e.to_string().contains("at least 64"), "{e}");
    let e = Traffic {
        sizes: Sizes::Fixed(64),
        src_ip: IpRange::parse("src-ip", "2001:db8::1").unwrap(),
        dst_ip: IpRange::parse("dst-ip", "2001:db8::2").unwrap(),
        ..base.clone()
    }
    .validate()
    .unwrap_err();
    assert!(
        e.to_string().contains("IPv6/UDP") && e.to_string().contains("84"),
        "{e}"
    );
    let e = Traffic {
        sizes: Sizes::Fixed(2000),
        ..base.clone()
    }
    .validate()
    .unwrap_err();
    assert!(e.to_string().contains("MTU 1500"), "{e}");
    let e = Traffic {
        l4: L4::Tcp,
        sizes: Sizes::Fixed(64),
        ..base.clone()
    }
    .validate()
    .unwrap_err();
    assert!(e.to_string().contains("76"), "{e}");
    assert!(IpRange::parse("src-ip", "10.0.0.9-10.0.0.1").is_err());
    assert!(
        "bondx"
            .parse::<Dut>()
            .unwrap_err()
            .contains("unknown device")
    );
    // External devices: both ends named, and only for --dut external.
    let ext = |tx: &str, rx: &[&str]| External {
        tx: tx.into(),
        rx: rx.iter().map(|r| r.to_string()).collect(),
    };
    let e = ext("", &[]).validate(&[Dut::External]).unwrap_err();
    assert!(e.contains("--tx-device"), "{e}");
    let e = ext("net_af_packet0,iface=a", &[])
        .validate(&[Dut::External])
        .unwrap_err();
    assert!(e.contains("--rx-device"), "{e}");
    let e = ext("net_af_packet0,iface=a", &["net_af_packet1,iface=b"])
        .validate(&[Dut::Bondd])
        .unwrap_err();
    assert!(e.contains("--dut external"), "{e}");
    let e = ext("x", &["net_af_packet1,iface=b", "net_af_packet1,iface=b"])
        .validate(&[Dut::External])
        .unwrap_err();
    assert!(e.contains("twice"), "{e}");
    ext("net_af_packet0,iface=a", &["net_af_packet0,iface=a"])
        .validate(&[Dut::External, Dut::None])
        .unwrap();
    ext("", &[]).validate(&[Dut::Bondd]).unwrap();
}

/// 802.3ad: two bonds facing each other, `dut`'s own on both sides, at 100 kpps.
fn facing_bonds_carry_every_frame(dut: Dut) {
    let setup = two_member_setup(4, "layer3+4", 10, dut);
    let rate = 100_000.0;
    let exp = Experiment::Run {
        rate: Rate::Pps(rate),
        duration: Duration::from_millis(300),
        reps: 1,
    };
    // Starting converges the bonds (or fails naming the device); stopping checks that no
    // mbuf of the appliance's pool leaked, and `execute` that every generated frame came back.
    let results = experiment::execute(&setup, &exp).unwrap();
    assert_eq!(results.runs.len(), 1);
    let o = &results.runs[0];
    assert_eq!(o.dut, dut.to_string());
    // Read frame by frame behind the far bond.
    assert!(o.per_frame, "{o:?}");
    assert!(o.sent as f64 >= rate * 0.3 * 0.5, "{o:?}");
    // Everything the device took came out once and in order; a loaded CI machine may stall
    // the worker long enough for the source ring to refuse frames, which is the ingress's
    // loss, not the bonds'.
    assert_eq!(o.lost, o.refused, "lost inside the device: {o:?}");
    assert_eq!(o.distinct, o.sent, "{o:?}");
    assert_eq!((o.duplicates, o.foreign, o.late), (0, 0, 0), "{o:?}");
    // A layer3+4 hash keeps each flow on one member: no reordering.
    assert_eq!(o.reordered, 0, "{o:?}");
    assert!(o.latency_us.max > 0.0, "{o:?}");
    // Both members carry traffic (1024 flows hashed over 2), and their counts add up to
    // what arrived: exactly for bondd (its workers' frames per member), and give or take
    // net_bonding's LACPDUs (its members' TX statistics count them; a settled pair sends one
    // per member every 30 s).
    let names: Vec<&str> = o.members.iter().map(|s| s.member.as_str()).collect();
    assert_eq!(names, ["eth0", "eth1"], "{o:?}");
    for s in &o.members {
        assert!(s.share > 0.3 && s.share < 0.7, "{o:?}");
    }
    let counted: u64 = o.members.iter().map(|s| s.frames).sum();
    match dut {
        Dut::Bondd => assert_eq!(counted, o.received, "{o:?}"),
        _ => assert!(
            counted >= o.received && counted <= o.received + 4,
            "{counted} counted on the members, {} received: {o:?}",
            o.received
        ),
    }
}

#[test]
fn bondd_802_3ad_facing_bonds_carry_every_frame() {
    facing_bonds_carry_every_frame(Dut::Bondd);
}

#[test]
fn net_bonding_802_3ad_facing_bonds_carry_every_frame() {
    facing_bonds_carry_every_frame(Dut::NetBonding);
}

/// `--source replay`: the device's worker reads a net_pcap loop into net_null ports; the
/// frames are counted by port statistics.
fn replay_counts_what_the_sinks_got(mode: u8, dut: Dut) {
    let mut setup = two_member_setup(mode, "layer3+4", 10, dut);
    setup.bond.source = Source::Replay;
    let exp = Experiment::Run {
        rate: Rate::Max,
        duration: Duration::from_millis(300),
        reps: 1,
    };
    // Stopping the rig checks that no mbuf of the appliance's pool leaked (the replay keeps
    // its frames in that pool).
    let results = experiment::execute(&setup, &exp).unwrap();
    let o = &results.runs[0];
    assert_eq!(o.dut, dut.to_string());
    assert!(!o.per_frame, "{o:?}");
    assert!(
        o.sent > 10_000 && o.received > 10_000 && o.rx_pps > 0.0,
        "{o:?}"
    );
    // Nothing is lost but what is still in flight when the counting stops (a few bursts, and
    // in 802.3ad what the links between the facing bonds hold).
    assert!(o.lost * 100 <= o.sent, "{o:?}");
    assert!(o.received <= o.sent + 20_000, "{o:?}");
    for s in &o.members {
        assert!(s.share > 0.3 && s.share < 0.7, "{o:?}");
    }
    let counted: u64 = o.members.iter().map(|s| s.frames).sum();
    // Shares are read just before and after the frames out: the same frames, give or take
    // what the worker moved meanwhile.
    let d = counted.abs_diff(o.received) as f64;
    assert!(
        d <= 0.02 * o.received as f64 + 64.0,
        "{counted} on the members: {o:?}"
    );
}

#[test]
fn bondd_replay_counts_what_the_sinks_got() {
    replay_counts_what_the_sinks_got(2, Dut::Bondd);
}

#[test]
fn net_bonding_replay_counts_what_the_sinks_got() {
    replay_counts_what_the_sinks_got(2, Dut::NetBonding);
}

#[test]
fn bondd_802_3ad_replay_counts_what_the_sinks_got() {
    replay_counts_what_the_sinks_got(4, Dut::Bondd);
}

#[test]
fn net_bonding_802_3ad_replay_counts_what_the_sinks_got() {
    replay_counts_what_the_sinks_got(4, Dut::NetBonding);
}

#[test]
fn a_replay_is_refused_where_it_cannot_measure() {
    let mut setup = two_member_setup(4, "layer3+4", 10, Dut::Bondd);
    setup.bond.source = Source::Replay;
    let run = |rate| Experiment::Run {
        rate,
        duration: Duration::from_secs(1),
        reps: 1,
    };
    setup.validate(&run(Rate::Max)).unwrap();
    let e = setup
        .validate(&run(Rate::Pps(1e6)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--rate max"), "{e}");
    let e = setup
        .validate(&Experiment::Rfc2544 {
            trial: Duration::from_secs(1),
            tolerance_pct: 0.0,
            resolution_pct: 1.0,
            max_trials: 4,
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("fixed runs only"), "{e}");
    setup.traffic.sport = PortRange::parse("sport", "1024-11023").unwrap();
    let e = setup.validate(&run(Rate::Max)).unwrap_err().to_string();
    assert!(e.contains("10000 flows, at most 8192"), "{e}");
}
