//! End-to-end scenarios on the virtual clock: two LACP speakers cabled back to back.

use super::mux::MuxState;
use super::pdu::{
    self, LacpState, MacAddr, MarkerInfo, MarkerKind, RxErrorClass, SlowPdu, build_marker,
};
use super::rx::RxState;
use super::testutil::{End, SYS_A, SYS_B, Wire, assert_rate_limited, params, port_cfg};
use super::{AggPort, Change, LacpBond, LacpParams, Outcome, Selected, TxKind, churn::ChurnState};

const GIG: u32 = 1_000;

fn port(sys: MacAddr, p: &LacpParams) -> AggPort {
    AggPort::new(port_cfg(0, sys), p)
}

/// Two standalone ports with links up at t = 0.
fn pair(pa: LacpParams, pb: LacpParams) -> Wire<AggPort, AggPort> {
    let mut w = Wire::new(port(SYS_A, &pa), port(SYS_B, &pb));
    let oa = w.a.set_link(0, true, GIG, true);
    let ob = w.b.set_link(0, true, GIG, true);
    w.inject(oa, ob);
    w
}

fn fast(sys: MacAddr) -> LacpParams {
    LacpParams {
        lacp_fast: true,
        ..params(sys)
    }
}

fn passive(sys: MacAddr) -> LacpParams {
    LacpParams {
        lacp_active: false,
        ..params(sys)
    }
}

const DIST_ON: Change = Change::Distributing { port: 0, on: true };
const DIST_OFF: Change = Change::Distributing { port: 0, on: false };

#[test]
fn back_to_back_ports_converge_after_the_aggregate_wait() {
    let mut w = pair(params(SYS_A), params(SYS_B));
    w.run_every(1_990, 10);
    assert!(
        !w.a.is_distributing() && !w.b.is_distributing(),
        "before wait_while"
    );
    w.run_every(5_000, 10);
    for p in [&w.a, &w.b] {
        assert!(p.is_collecting() && p.is_distributing());
        assert_eq!(p.mux_state(), MuxState::CollectingDistributing);
        assert_eq!(p.rx_state(), RxState::Current);
        assert_eq!(
            p.actor().state.to_string(),
            "**DCSG*A",
            "slow, active, converged"
        );
        assert_eq!(p.partner().state.to_string(), "**DCSG*A");
        assert_eq!(p.selected(), Selected::Selected);
        assert_eq!(p.aggregator_id(), Some(1));
    }
    assert_eq!(w.a.partner().system, SYS_B);
    assert_eq!(w.b.partner().system, SYS_A);
    assert_eq!(w.a.partner().key, w.b.actor().key);
    assert_eq!(w.a.actor().key, 9, "1G full duplex");
    let ta = w.first(End::A, DIST_ON).unwrap();
    let tb = w.first(End::B, DIST_ON).unwrap();
    assert!((2_000..=2_100).contains(&ta), "A distributing at {ta}");
    assert!((2_000..=2_100).contains(&tb), "B distributing at {tb}");
    assert_rate_limited(&w.lacpdus(End::A, 0, 0, 5_000));
    assert_rate_limited(&w.lacpdus(End::B, 0, 0, 5_000));
}

#[test]
fn deadlines_alone_drive_convergence() {
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.run_by_deadlines(10_000);
    assert!(w.a.is_distributing() && w.b.is_distributing());
    let ta = w.first(End::A, DIST_ON).unwrap();
    assert!((2_000..=2_010).contains(&ta), "A distributing at {ta}");
    // Fast: a LACPDU each second each way once converged.
    let a = w.lacpdus(End::A, 0, 3_000, 10_000);
    assert!((7..=8).contains(&a.len()), "{a:?}");
}

#[test]
fn fast_and_slow_rates_follow_the_partner() {
    // A asks for short timeouts, B for long ones: B must send every second, A every 30 s.
    let mut w = pair(fast(SYS_A), params(SYS_B));
    w.run_every(70_000, 10);
    assert!(w.a.is_distributing() && w.b.is_distributing());
    assert_eq!(w.a.actor().state.to_string(), "**DCSGSA");
    let from_b = w.lacpdus(End::B, 0, 10_000, 70_000);
    let from_a = w.lacpdus(End::A, 0, 10_000, 70_000);
    assert!(
        (59..=61).contains(&from_b.len()),
        "B to a fast partner: {} in 60 s",
        from_b.len()
    );
    assert!(
        (2..=3).contains(&from_a.len()),
        "A to a slow partner: {from_a:?}"
    );
    for pair in from_b.windows(2) {
        assert!(pair[1] - pair[0] <= 1_010, "fast gap {pair:?}");
    }
    assert_rate_limited(&w.lacpdus(End::A, 0, 0, 70_000));
    assert_rate_limited(&w.lacpdus(End::B, 0, 0, 70_000));
    // No fast interval ever carries more than 3.
    let all_b = w.lacpdus(End::B, 0, 0, 70_000);
    for start in (0..70_000).step_by(100) {
        let n = all_b
            .iter()
            .filter(|&&t| t >= start && t < start + 1_000)
            .count();
        assert!(n <= 3, "{n} LACPDUs in [{start}, {start}+1000)");
    }
}

#[test]
fn partner_silence_expires_then_defaults() {
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.run_every(10_000, 10);
    assert!(w.a.is_distributing());
    w.cut_b_to_a = true;
    let last_heard = *w.lacpdus(End::B, 0, 0, 10_001).last().unwrap();
    w.run_every(20_000, 10);
    let rx_changes: Vec<_> = w
        .changes_a
        .iter()
        .filter(|(t, c)| *t > 10_000 && matches!(c, Change::Rx { .. }))
        .copied()
        .collect();
    assert_eq!(
        rx_changes,
        vec![
            (
                last_heard + 3_000,
                Change::Rx {
                    port: 0,
                    from: RxState::Current,
                    to: RxState::Expired
                }
            ),
            (
                last_heard + 6_000,
                Change::Rx {
                    port: 0,
                    from: RxState::Expired,
                    to: RxState::Defaulted
                }
            ),
        ],
        "current_while 3 s, then 3 s more in EXPIRED"
    );
    let off = w
        .changes_a
        .iter()
        .find(|(t, c)| *t > 10_000 && *c == DIST_OFF)
        .map(|(t, _)| *t);
    assert_eq!(
        off,
        Some(last_heard + 3_000),
        "stops distributing on expiry"
    );
    assert_eq!(w.a.rx_state(), RxState::Defaulted);
    assert!(w.a.actor().state.defaulted());
    assert_eq!(w.a.partner().system, MacAddr::ZERO);
    assert!(!w.a.is_collecting() && !w.a.is_distributing());
    // In EXPIRED the partner counts as short-timeout: A kept sending every second.
    let during = w.lacpdus(End::A, 0, last_heard + 3_000, last_heard + 6_000);
    assert!(during.len() >= 3, "{during:?}");
    // DEFAULTED unselects the port (the admin partner differs), so it detaches, waits 2 s
    // and attaches alone, announcing each step; after that the admin partner's long timeout
    // leaves only the 30 s periodic LACPDU.
    w.run_every(50_000, 10);
    let after = w.lacpdus(End::A, 0, last_heard + 8_500, 50_000);
    assert_eq!(
        after,
        vec![last_heard + 6_000 + 30_000],
        "slow periodic only"
    );
}

#[test]
fn passive_pair_never_converges_active_passive_does() {
    let mut w = pair(passive(SYS_A), passive(SYS_B));
    w.run_every(120_000, 50);
    assert!(w.log.is_empty(), "passive ports never speak first");
    assert!(!w.a.is_distributing() && !w.b.is_distributing());
    assert_ne!(w.a.partner().system, SYS_B);

    let mut w = pair(params(SYS_A), passive(SYS_B));
    w.run_every(5_000, 10);
    assert!(w.a.is_distributing() && w.b.is_distributing());
    assert!(!w.b.actor().state.activity());
    assert!(!w.a.partner().state.activity(), "A sees a passive partner");
    let first_a = w.lacpdus(End::A, 0, 0, 5_000)[0];
    let first_b = w.lacpdus(End::B, 0, 0, 5_000)[0];
    assert!(first_b >= first_a);
    let tb = w.first(End::B, DIST_ON).unwrap();
    assert!((2_000..=2_100).contains(&tb), "{tb}");
}

#[test]
fn independent_control_collects_before_distributing() {
    let pa = LacpParams {
        coupled_control: false,
        ..fast(SYS_A)
    };
    let pb = LacpParams {
        coupled_control: false,
        ..fast(SYS_B)
    };
    let mut w = pair(pa, pb);
    w.run_every(5_000, 10);
    for (end, p) in [(End::A, &w.a), (End::B, &w.b)] {
        assert_eq!(p.mux_state(), MuxState::Distributing);
        assert!(p.is_collecting() && p.is_distributing());
        let col = w
            .first(end, Change::Collecting { port: 0, on: true })
            .unwrap();
        let dist = w.first(end, DIST_ON).unwrap();
        assert!(col <= dist);
        let mux_to = |s: MuxState| {
            let changes = if end == End::A {
                &w.changes_a
            } else {
                &w.changes_b
            };
            changes
                .iter()
                .position(|(_, c)| matches!(c, Change::Mux { to, .. } if *to == s))
        };
        assert!(mux_to(MuxState::Collecting).unwrap() < mux_to(MuxState::Distributing).unwrap());
        assert_eq!(mux_to(MuxState::CollectingDistributing), None);
    }
}

#[test]
fn link_down_stops_distributing_and_link_up_reconverges() {
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.run_every(5_000, 10);
    w.now = 5_005;
    let out = w.a.set_link(5_005, false, 0, false);
    assert!(out.stopped_distributing(0));
    assert!(!w.a.is_collecting());
    assert_eq!(w.a.rx_state(), RxState::PortDisabled);
    assert!(out.frames.is_empty(), "nothing leaves a down port");
    w.cut_a_to_b = true;
    w.cut_b_to_a = true;
    w.run_every(12_000, 10);
    assert!(!w.b.is_distributing(), "B expired its silent partner");
    w.cut_a_to_b = false;
    w.cut_b_to_a = false;
    w.now = 12_005;
    let oa = w.a.set_link(12_005, true, GIG, true);
    w.inject(oa, Outcome::default());
    w.run_every(20_000, 10);
    assert!(w.a.is_distributing() && w.b.is_distributing());
    let back = w
        .changes_a
        .iter()
        .find(|(t, c)| *t > 12_000 && *c == DIST_ON)
        .unwrap()
        .0;
    assert!((14_000..=14_100).contains(&back), "{back}");
}

#[test]
fn speed_change_changes_the_key_and_reselects() {
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.run_every(5_000, 10);
    w.now = 5_005;
    let oa = w.a.set_link(5_005, true, 10_000, true);
    assert!(oa.stopped_distributing(0), "a new key unselects the port");
    let ob = w.b.set_link(5_005, true, 10_000, true);
    w.inject(oa, ob);
    w.run_every(10_000, 10);
    assert_eq!(w.a.actor().key, 15);
    assert_eq!(w.b.partner().key, 15);
    assert!(w.a.is_distributing() && w.b.is_distributing());
}

#[test]
fn half_duplex_port_does_not_run_lacp() {
    let mut a = port(SYS_A, &params(SYS_A));
    let out = a.set_link(0, true, 100, false);
    assert!(out.frames.is_empty());
    let out = a.tick(10_000);
    assert!(out.frames.is_empty());
    assert_eq!(a.rx_state(), RxState::LacpDisabled);
    assert_eq!(a.actor().key, 6, "100M, no duplex bit");
}

#[test]
fn loopback_partner_is_refused() {
    // A standalone port hearing its own LACPDUs (a reflecting link).
    let mut a = port(SYS_A, &fast(SYS_A));
    let mut pending = a.set_link(0, true, GIG, true).frames;
    let mut loops = Vec::new();
    for t in (0..10_000).step_by(10) {
        let mut out = a.tick(t);
        for f in pending.drain(..) {
            out.extend(a.rx_pdu(t, &f.data));
        }
        loops.extend(
            out.changes
                .iter()
                .filter(|c| matches!(c, Change::Loopback { .. }))
                .copied(),
        );
        pending = out.frames;
    }
    assert!(a.is_loopback());
    assert_eq!(loops, vec![Change::Loopback { port: 0 }]);
    assert_eq!(a.selected(), Selected::Unselected);
    assert_eq!(a.aggregator_id(), None);
    assert!(!a.is_collecting() && !a.is_distributing());

    // Two members of one bond cabled to each other.
    let mut bond = LacpBond::new(fast(SYS_A));
    bond.add_port(port_cfg(0, SYS_A));
    bond.add_port(port_cfg(1, SYS_A));
    let mut pending = bond.set_link(0, 0, true, GIG, true).frames;
    pending.extend(bond.set_link(0, 1, true, GIG, true).frames);
    for t in (0..10_000).step_by(10) {
        let mut out = bond.tick(t);
        for f in pending.drain(..) {
            out.extend(bond.rx_pdu(t, 1 - f.port, &f.data));
        }
        pending = out.frames;
    }
    for p in bond.ports() {
        assert!(p.is_loopback());
        assert_eq!(p.selected(), Selected::Unselected);
        assert!(!p.is_distributing());
        assert_eq!(p.partner().system, SYS_A);
    }
    assert_eq!(bond.distributing_ports().count(), 0);
    assert!(bond.active_aggregator().is_none());
    assert!(!bond.carrier());
    assert_eq!(
        bond.unpartnered_active_ports().count(),
        0,
        "no fallback onto a loop"
    );
    // No LACPDU storm on a reflecting link: the rate limit and update_NTT settle it.
    assert!(
        bond.stats().lacpdu_tx <= 2 * 12,
        "{}",
        bond.stats().lacpdu_tx
    );
}

#[test]
fn a_partner_without_lacp_leaves_linux_fallback_ports() {
    let mut bond = LacpBond::new(params(SYS_A));
    bond.add_port(port_cfg(0, SYS_A));
    bond.add_port(port_cfg(1, SYS_A));
    bond.set_link(0, 0, true, GIG, true);
    bond.set_link(0, 1, true, GIG, true);
    for t in (0..10_000).step_by(10) {
        bond.tick(t);
    }
    for p in bond.ports() {
        assert_eq!(p.rx_state(), RxState::Defaulted);
        assert!(!p.is_distributing());
    }
    let agg = bond.active_aggregator().unwrap();
    assert!(!agg.has_partner);
    assert_eq!(
        agg.ports, 1,
        "defaulted ports are individual: one per aggregator"
    );
    assert_eq!(bond.unpartnered_active_ports().collect::<Vec<_>>(), vec![0]);
    assert_eq!(bond.distributing_ports().count(), 0);
    // Only slow periodic LACPDUs after the 3 s of EXPIRED: 2 ports x (fast then 30 s).
    let tx = bond.stats().lacpdu_tx;
    assert!(tx <= 2 * 8, "{tx}");
}

#[test]
fn lacp_rate_change_reaches_the_partner() {
    let mut w = pair(params(SYS_A), params(SYS_B));
    w.run_every(40_000, 10);
    assert!(w.lacpdus(End::B, 0, 5_000, 40_000).len() <= 2);
    w.now = 40_005;
    let oa = w.a.set_params(40_005, &fast(SYS_A));
    assert_eq!(oa.frames.len(), 1, "NTT on the change");
    w.inject(oa, Outcome::default());
    w.run_every(50_000, 10);
    let from_b = w.lacpdus(End::B, 0, 41_000, 50_000);
    assert!((8..=10).contains(&from_b.len()), "{from_b:?}");
    assert_eq!(w.b.partner().state.to_string(), "**DCSGSA");
}

#[test]
fn churn_is_detected_after_60_s_and_counted() {
    // A port whose partner never answers: its actor syncs (ATTACHED), its partner never.
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.cut_b_to_a = true;
    w.cut_a_to_b = true;
    w.run_every(59_990, 10);
    assert_eq!(w.a.partner_churn().state(), ChurnState::Monitor);
    assert_eq!(w.a.actor_churn().state(), ChurnState::NoChurn);
    w.run_every(61_000, 10);
    let churned = Change::PartnerChurn {
        port: 0,
        state: ChurnState::Churn,
    };
    assert_eq!(w.first(End::A, churned), Some(60_000));
    let st = w.a.status();
    assert_eq!(st.partner_churn_state.to_string(), "churned");
    assert_eq!(st.actor_churn_state.to_string(), "none");
    assert_eq!(st.partner_churned_count, 1);
    assert_eq!(st.actor_churned_count, 0);
    // The cable comes back: the partner syncs, churn clears, the count stays.
    w.cut_b_to_a = false;
    w.cut_a_to_b = false;
    w.run_every(70_000, 10);
    assert!(w.a.is_distributing());
    assert_eq!(w.a.partner_churn().state(), ChurnState::NoChurn);
    assert_eq!(w.a.partner_churn().count(), 1);

    // A loopback port never syncs its actor either: actor churn.
    let mut a = port(SYS_A, &fast(SYS_A));
    let mut pending = a.set_link(0, true, GIG, true).frames;
    for t in (0..61_000).step_by(100) {
        let mut out = a.tick(t);
        for f in pending.drain(..) {
            out.extend(a.rx_pdu(t, &f.data));
        }
        pending = out.frames;
    }
    assert_eq!(a.actor_churn().state(), ChurnState::Churn);
    assert_eq!(a.actor_churn().count(), 1);
}

fn marker_frame(kind: MarkerKind, tid: u32) -> [u8; pdu::FRAME_LEN] {
    let mut f = [0u8; pdu::FRAME_LEN];
    let info = MarkerInfo {
        requester_port: 3,
        requester_system: SYS_B,
        requester_transaction_id: tid,
    };
    build_marker(&mut f, MacAddr::new(0x52, 0xbb, 0, 0, 0, 3), kind, &info).unwrap();
    f
}

#[test]
fn marker_request_is_answered_on_the_port() {
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.run_every(3_000, 10);
    let out =
        w.a.rx_pdu(3_001, &marker_frame(MarkerKind::Information, 0x0102_0304));
    assert_eq!(out.frames.len(), 1);
    let f = out.frames[0];
    assert_eq!(f.kind, TxKind::MarkerResponse);
    assert_eq!(pdu::frame_source(&f.data), w.a.config().mac);
    let Ok(SlowPdu::Marker(m)) = pdu::parse_frame(&f.data) else {
        panic!("not a marker")
    };
    assert_eq!(m.kind(), MarkerKind::Response);
    assert_eq!(m.info().requester_transaction_id, 0x0102_0304);
    assert_eq!(m.info().requester_system, SYS_B);
    assert_eq!(m.info().requester_port, 3);
    let out = w.a.rx_pdu(3_002, &marker_frame(MarkerKind::Response, 9));
    assert!(out.frames.is_empty());
    let s = w.a.stats();
    assert_eq!((s.marker_rx, s.marker_resp_tx, s.marker_resp_rx), (1, 1, 1));
    assert!(w.a.is_distributing(), "markers do not disturb LACP");
}

#[test]
fn our_marker_request_is_answered_by_the_partner_responder() {
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.run_every(3_000, 10);
    let (req, tid) = w.a.send_marker(3_001).unwrap();
    assert_eq!(req.kind, TxKind::MarkerInformation);
    let Ok(SlowPdu::Marker(m)) = pdu::parse_frame(&req.data) else {
        panic!("not a marker")
    };
    assert_eq!(m.kind(), MarkerKind::Information);
    assert_eq!(m.info().requester_port, w.a.actor().port);
    assert_eq!(m.info().requester_system, SYS_A);
    assert_eq!(m.info().requester_transaction_id, tid);
    let out = w.b.rx_pdu(3_002, &req.data);
    assert_eq!(out.frames.len(), 1);
    assert_eq!(out.frames[0].kind, TxKind::MarkerResponse);
    w.a.rx_pdu(3_005, &out.frames[0].data);
    let st = w.a.status().marker;
    assert!(st.last_response_matched && !st.pending, "{st:?}");
    assert_eq!(st.last_response_tid, Some(tid));
    assert_eq!(st.last_rtt_ms, Some(4));
    let s = w.a.stats();
    assert_eq!((s.marker_tx, s.marker_resp_rx), (1, 1));
    assert!(w.a.is_distributing(), "markers do not disturb LACP");
}

#[test]
fn malformed_frames_are_counted_and_never_panic() {
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.run_every(3_000, 10);
    let good = w.lacpdus(End::B, 0, 0, 3_000).len();
    assert!(good > 0);
    let sample = w
        .log
        .iter()
        .find(|s| s.from == End::B && s.frame.kind == TxKind::Lacpdu)
        .unwrap()
        .frame
        .data;
    let before = w.a.stats();

    let mut f = sample;
    f[14] = 3; // OAM subtype: unknown here
    assert!(w.a.rx_pdu(3_001, &f).is_empty());
    let mut f = sample;
    f[15] = 0; // version 0
    w.a.rx_pdu(3_002, &f);
    let mut f = sample;
    f[16] = 2; // actor TLV typed as partner
    w.a.rx_pdu(3_003, &f);
    let mut f = sample;
    f[17] = 21; // actor TLV length
    w.a.rx_pdu(3_004, &f);
    w.a.rx_pdu(3_005, &sample[..100]); // truncated
    let mut m = marker_frame(MarkerKind::Information, 1);
    m[16] = 9; // unknown marker TLV
    w.a.rx_pdu(3_006, &m);
    let mut other = sample;
    other[12] = 0x08; // not slow protocols: ignored
    w.a.rx_pdu(3_007, &other);

    let s = w.a.stats();
    assert_eq!(s.lacpdu_unknown_rx - before.lacpdu_unknown_rx, 1);
    assert_eq!(s.lacpdu_illegal_rx - before.lacpdu_illegal_rx, 4);
    assert_eq!(s.marker_unknown_rx - before.marker_unknown_rx, 1);
    assert_eq!(s.lacpdu_rx, before.lacpdu_rx, "none reached the machines");
    assert!(w.a.is_distributing(), "bad frames change nothing");

    // Thousands of random and mutated frames: no panic, every frame lands in one counter.
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let before = w.a.stats();
    let (mut lacp, mut unknown, mut illegal, mut marker, mut marker_unknown, mut ignored) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    for i in 0..5_000u64 {
        let len = (next() % 140) as usize;
        let mut buf = vec![0u8; len];
        for (j, b) in buf.iter_mut().enumerate() {
            *b = if i % 2 == 0 {
                sample.get(j).copied().unwrap_or(0)
            } else {
                next() as u8
            };
        }
        if len >= 14 && i % 4 == 1 {
            buf[..14].copy_from_slice(&sample[..14]);
        }
        for _ in 0..(next() % 3) {
            if !buf.is_empty() {
                let at = (next() as usize) % buf.len();
                buf[at] = next() as u8;
            }
        }
        match pdu::parse_frame(&buf) {
            Ok(SlowPdu::Lacp(_)) => lacp += 1,
            Ok(SlowPdu::Marker(_)) => marker += 1,
            Err(e) => match e.class() {
                RxErrorClass::Unknown => unknown += 1,
                RxErrorClass::Illegal => illegal += 1,
                RxErrorClass::MarkerUnknown => marker_unknown += 1,
                _ => ignored += 1,
            },
        }
        let _ = w.a.rx_pdu(3_100 + i, &buf);
    }
    let s = w.a.stats();
    assert_eq!(s.lacpdu_rx - before.lacpdu_rx, lacp);
    assert_eq!(s.lacpdu_unknown_rx - before.lacpdu_unknown_rx, unknown);
    assert_eq!(s.lacpdu_illegal_rx - before.lacpdu_illegal_rx, illegal);
    assert_eq!(
        s.marker_unknown_rx - before.marker_unknown_rx,
        marker_unknown
    );
    assert_eq!(
        (s.marker_rx + s.marker_resp_rx) - (before.marker_rx + before.marker_resp_rx),
        marker
    );
    assert!(
        lacp > 100 && illegal > 100 && ignored > 100 && unknown > 10,
        "{lacp} {illegal} {ignored} {unknown}"
    );
}

/// Two bonds of two ports, port i cabled to port i.
fn bonds(pa: LacpParams, pb: LacpParams) -> Wire<LacpBond, LacpBond> {
    let mut a = LacpBond::new(pa);
    let mut b = LacpBond::new(pb);
    for i in 0..2 {
        a.add_port(port_cfg(i, SYS_A));
        b.add_port(port_cfg(i, SYS_B));
    }
    let mut w = Wire::new(a, b);
    let mut oa = Outcome::default();
    let mut ob = Outcome::default();
    for i in 0..2 {
        oa.extend(w.a.set_link(0, i, true, 10_000, true));
        ob.extend(w.b.set_link(0, i, true, 10_000, true));
    }
    w.inject(oa, ob);
    w
}

#[test]
fn two_bonds_of_two_ports_aggregate_both_links() {
    let pa = LacpParams {
        min_links: 2,
        ..fast(SYS_A)
    };
    let mut w = bonds(pa, fast(SYS_B));
    w.run_every(1_990, 10);
    assert_eq!(w.a.distributing_ports().count(), 0);
    w.run_every(5_000, 10);
    for bond in [&w.a, &w.b] {
        assert_eq!(bond.distributing_ports().collect::<Vec<_>>(), vec![0, 1]);
        let agg = bond.active_aggregator().unwrap();
        assert_eq!(agg.ports, 2);
        assert!(agg.has_partner);
        assert_eq!(agg.actor_key, 15, "10G");
        assert_eq!(
            bond.port(0).unwrap().aggregator_id(),
            bond.port(1).unwrap().aggregator_id()
        );
        assert!(bond.carrier());
        for p in bond.ports() {
            assert_eq!(p.actor().state.to_string(), "**DCSGSA");
            assert_rate_limited(&w.lacpdus(End::A, p.index(), 0, 5_000));
            assert_rate_limited(&w.lacpdus(End::B, p.index(), 0, 5_000));
        }
    }
    assert_eq!(w.a.active_aggregator().unwrap().partner_mac, SYS_B);
    assert_eq!(w.b.active_aggregator().unwrap().partner_mac, SYS_A);
    let dist_a: Vec<_> = w
        .changes_a
        .iter()
        .filter(|(_, c)| matches!(c, Change::Distributing { on: true, .. }))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(dist_a.len(), 2);
    assert!(
        dist_a.iter().all(|t| (2_000..=2_100).contains(t)),
        "{dist_a:?}"
    );

    // Cable 1 fails on both ends: port 1 stops, the aggregate carries on with port 0,
    // and bond A's carrier drops below min_links = 2.
    w.now = 5_005;
    let oa = w.a.set_link(5_005, 1, false, 0, false);
    let ob = w.b.set_link(5_005, 1, false, 0, false);
    assert!(oa.stopped_distributing(1));
    assert!(oa.changes.contains(&Change::Carrier { up: false }));
    w.inject(oa, ob);
    w.run_every(8_000, 10);
    assert_eq!(w.a.distributing_ports().collect::<Vec<_>>(), vec![0]);
    assert_eq!(w.b.distributing_ports().collect::<Vec<_>>(), vec![0]);
    assert_eq!(w.a.active_aggregator().unwrap().ports, 1);
    assert!(!w.a.carrier());
    assert!(w.b.carrier(), "min_links 0 on B");

    let s = w.a.stats();
    assert_eq!(
        s.lacpdu_tx,
        w.log
            .iter()
            .filter(|x| x.from == End::A && x.frame.kind == TxKind::Lacpdu)
            .count() as u64
    );
}

#[test]
fn removing_a_member_says_goodbye_and_keeps_the_aggregate() {
    let mut w = bonds(fast(SYS_A), fast(SYS_B));
    w.run_every(5_000, 10);
    let agg = w.a.active_aggregator().unwrap().aggregator_id;
    let (bye, out) = w.a.remove_port(5_005, 1);
    assert_eq!(bye.len(), 1);
    assert!(out.frames.iter().all(|f| f.port == 0), "{out:?}");
    let Ok(SlowPdu::Lacp(p)) = pdu::parse_frame(&bye[0].data) else {
        panic!("no farewell LACPDU")
    };
    let st = p.actor().state;
    assert!(!st.synchronization() && !st.aggregation() && !st.distributing());
    assert_eq!(w.a.ports().len(), 1);
    assert_eq!(w.a.active_aggregator().unwrap().aggregator_id, agg);
    assert_eq!(w.a.distributing_ports().collect::<Vec<_>>(), vec![0]);
    assert_eq!(w.a.aggregators().len(), 1);
    assert!(w.a.stats().lacpdu_tx >= bye.len() as u64);
    // A member added later takes the free port number, not the one still in use.
    let used = w.a.port(0).unwrap().actor().port;
    assert_ne!(w.a.free_port_number(), used);
    assert!(w.a.free_port_number() >= 1);
}

#[test]
fn leaving_802_3ad_says_goodbye_on_every_member() {
    let mut w = bonds(fast(SYS_A), fast(SYS_B));
    w.run_every(5_000, 10);
    let bye = w.a.release_all();
    assert_eq!(bye.len(), 2);
    let mut ports: Vec<usize> = bye.iter().map(|f| f.port).collect();
    ports.sort_unstable();
    assert_eq!(ports, vec![0, 1]);
    for f in &bye {
        let Ok(SlowPdu::Lacp(p)) = pdu::parse_frame(&f.data) else {
            panic!("no farewell LACPDU")
        };
        let st = p.actor().state;
        assert!(!st.synchronization() && !st.collecting() && !st.distributing());
    }
}

#[test]
fn a_link_to_another_system_gets_its_own_aggregator() {
    // Bond A port 0 to system B, port 1 to system C: two aggregators, one active.
    let mut a = LacpBond::new(fast(SYS_A));
    a.add_port(port_cfg(0, SYS_A));
    a.add_port(port_cfg(1, SYS_A));
    let sys_c = MacAddr::new(0x02, 0xcc, 0, 0, 0, 1);
    let mut b = AggPort::new(port_cfg(0, SYS_B), &fast(SYS_B));
    let mut c = AggPort::new(port_cfg(0, sys_c), &fast(sys_c));
    let mut pending: Vec<(usize, [u8; pdu::FRAME_LEN])> = Vec::new();
    let mut to_a = Vec::new();
    for f in a.set_link(0, 0, true, GIG, true).frames {
        pending.push((f.port, f.data));
    }
    for f in a.set_link(0, 1, true, GIG, true).frames {
        pending.push((f.port, f.data));
    }
    to_a.extend(
        b.set_link(0, true, GIG, true)
            .frames
            .into_iter()
            .map(|f| (0, f.data)),
    );
    to_a.extend(
        c.set_link(0, true, GIG, true)
            .frames
            .into_iter()
            .map(|f| (1, f.data)),
    );
    for t in (0..6_000).step_by(10) {
        for f in a.tick(t).frames {
            pending.push((f.port, f.data));
        }
        to_a.extend(b.tick(t).frames.into_iter().map(|f| (0, f.data)));
        to_a.extend(c.tick(t).frames.into_iter().map(|f| (1, f.data)));
        for _ in 0..8 {
            for (port, data) in std::mem::take(&mut pending) {
                let out = if port == 0 {
                    b.rx_pdu(t, &data)
                } else {
                    c.rx_pdu(t, &data)
                };
                to_a.extend(out.frames.into_iter().map(|f| (port, f.data)));
            }
            for (port, data) in std::mem::take(&mut to_a) {
                for f in a.rx_pdu(t, port, &data).frames {
                    pending.push((f.port, f.data));
                }
            }
        }
    }
    let p0 = a.port(0).unwrap();
    let p1 = a.port(1).unwrap();
    assert_ne!(p0.aggregator_id(), p1.aggregator_id());
    assert_eq!(a.aggregators().len(), 2);
    let active = a.active_aggregator().unwrap();
    assert_eq!(active.ports, 1);
    assert_eq!(a.distributing_ports().count(), 1);
    let standby = if p0.selected() == Selected::Standby {
        p0
    } else {
        p1
    };
    assert_eq!(standby.selected(), Selected::Standby);
    assert!(
        !standby.actor().state.synchronization(),
        "standby ports stay out of sync"
    );
    assert!(!standby.is_distributing());
    // The partner behind the standby link sees us out of sync and does not distribute.
    let stuck = if standby.index() == 0 { &b } else { &c };
    assert!(!stuck.is_distributing());
}

#[test]
fn status_has_the_proc_fields() {
    let mut w = pair(fast(SYS_A), fast(SYS_B));
    w.run_every(3_000, 10);
    let s = w.a.status();
    assert_eq!(s.aggregator_id, Some(1));
    assert_eq!(s.actor.system, SYS_A);
    assert_eq!(s.actor.system_priority, 65535);
    assert_eq!(s.actor.port_priority, 255);
    assert_eq!(s.actor.port, 1);
    assert_eq!(s.actor.key, 9);
    assert_eq!(s.actor.state.0, 0x3f, "port state: 63");
    assert_eq!(s.partner.system, SYS_B);
    assert_eq!(s.partner.state.0, 0x3f);
    assert!(s.stats.lacpdu_rx > 0 && s.stats.lacpdu_tx > 0);
    assert_eq!(s.actor_churn_state, ChurnState::NoChurn);
    assert_eq!(s.partner_churn_state, ChurnState::NoChurn);
    assert!(w.a.actor().state.contains(LacpState::SYNCHRONIZATION));
}

/// Writes `frames` into a classic pcap (LINKTYPE_ETHERNET).
fn write_pcap(path: &std::path::Path, frames: &[(u64, &[u8])]) -> std::io::Result<()> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (ms, f) in frames {
        let len = f.len() as u32;
        out.extend_from_slice(&((ms / 1_000) as u32).to_le_bytes());
        out.extend_from_slice(&(((ms % 1_000) * 1_000) as u32).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(f);
    }
    std::fs::write(path, out)
}

#[test]
fn tshark_dissects_our_frames_without_complaint() {
    let Ok(version) = std::process::Command::new("tshark")
        .arg("--version")
        .output()
    else {
        eprintln!("tshark not installed: skipping the dissector check");
        return;
    };
    if !version.status.success() {
        eprintln!("tshark does not run: skipping the dissector check");
        return;
    }
    let mut w = pair(fast(SYS_A), params(SYS_B));
    w.run_every(4_000, 10);
    let mut frames: Vec<(u64, Vec<u8>)> = w
        .log
        .iter()
        .map(|s| (s.at, s.frame.data.to_vec()))
        .collect();
    let lacpdus = frames.len();
    let out =
        w.a.rx_pdu(4_001, &marker_frame(MarkerKind::Information, 77));
    frames.push((4_001, marker_frame(MarkerKind::Information, 77).to_vec()));
    frames.push((4_001, out.frames[0].data.to_vec()));
    // Our own request (the Marker Generator).
    let (req, _) = w.a.send_marker(4_002).unwrap();
    frames.push((4_002, req.data.to_vec()));
    let path = std::env::temp_dir().join(format!("bondd-lacp-{}.pcap", std::process::id()));
    let refs: Vec<(u64, &[u8])> = frames.iter().map(|(t, f)| (*t, f.as_slice())).collect();
    write_pcap(&path, &refs).unwrap();
    let run = |filter: &str| {
        let o = std::process::Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&path)
            .args(["-Y", filter])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).lines().count()
    };
    let malformed = run(
        "_ws.malformed || _ws.expert.severity >= \"Warning\" || lacp.wrong_tlv_type \
         || lacp.wrong_tlv_length || marker.wrong_tlv_type || marker.wrong_tlv_length",
    );
    let lacp = run("lacp && lacp.version == 1 && lacp.tlv_length == 20");
    let markers = run("marker");
    let states = std::process::Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&path)
        .args(["-Y", "lacp", "-T", "fields", "-e", "lacp.actor.state_str"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(malformed, 0, "tshark flags frames");
    assert_eq!(lacp, lacpdus);
    assert_eq!(markers, 3);
    let last = String::from_utf8_lossy(&states.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let ours = w.log.last().unwrap().frame.data[14 + 18];
    assert_eq!(
        last,
        LacpState(ours).to_string(),
        "same flag string as tshark"
    );
}
