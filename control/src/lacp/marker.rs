//! The Marker protocol (802.1AX-2014 6.5): the Marker Responder (6.5.4.2) and the optional
//! Marker Generator (6.5.4.1) of one port.
//!
//! **Responder.** A Marker Information PDU is answered on the same port with a Marker Response
//! PDU that carries the requester's port, system and transaction id unchanged (6.5.3.3: the
//! responder copies the Marker Information TLV and changes only its type). The responder
//! answers whenever the port's link is up, whatever the LACP state, as the standard places it
//! beside, not inside, the LACP machines.
//!
//! **Generator.** Linux never generates Marker PDUs (the generator is optional, 6.5.1) and Open
//! vSwitch does not even answer them. bondd sends one on request (the shell's `send bonding
//! marker`): a Marker Information PDU with the port's Actor_Port as Requester_Port, the actor's
//! system as Requester_System and a transaction id that increases by one per request. A
//! Marker Response whose requester fields are ours and whose transaction id is the one
//! outstanding completes the request; its round trip is kept. Other responses are only
//! counted. A distributor would send one before moving a conversation to another port and
//! wait for the answer (or a timeout) to keep frame order; bondd's redirection table moves
//! only a failed member's flows, so the generator is a diagnostic: it proves the partner's
//! responder works, and measures the round trip through it.
//!
//! **Rate limit**, shared by requests and responses: at most [`MAX_MARKERS_PER_SEC`] Marker
//! PDUs sent in any one-second window; the excess is dropped and counted (a request over the
//! limit is refused). The Slow Protocols allow a protocol at most 10 frames per second on a
//! link (IEEE 802.3 Annex 57A, formerly 43B); LACP itself may use 3 of them (6.4.16), so 5
//! marker PDUs keep the port within budget and still answer a well-behaved generator, which
//! sends one Marker per conversation move. Linux answers every request unconditionally, which
//! lets a flood of requests turn into a flood of responses.
//!
//! ```text
//! (IDLE, MARKER_INFO, room in window)      -> IDLE (respond)
//! (IDLE, MARKER_INFO, window full)         -> IDLE (drop, count)
//! (IDLE, MARKER_RESPONSE, ours, pending)   -> IDLE (count, request answered)
//! (IDLE, MARKER_RESPONSE, otherwise)       -> IDLE (count)
//! (IDLE, request, link up, room in window) -> IDLE (send Marker Information, pending)
//! (IDLE, request, otherwise)               -> IDLE (refused)
//! ```

use super::pdu::{MacAddr, MarkerInfo, MarkerKind, build_marker};

/// Marker PDUs (responses and requests) allowed in any one-second window.
pub const MAX_MARKERS_PER_SEC: usize = 5;
const WINDOW_MS: u64 = 1_000;

/// What the responder did with one Marker PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerAction {
    /// Send this Marker Response frame.
    Respond([u8; super::pdu::FRAME_LEN]),
    /// A request over the rate limit (or on a down link): dropped.
    Dropped,
    /// A response to someone's request: counted, nothing to do.
    ResponseReceived,
}

/// Marker counters of one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct MarkerStats {
    /// Marker Information PDUs received (`marker_rx`).
    pub marker_rx: u64,
    /// Marker Response PDUs received (`marker_resp_rx`).
    pub marker_resp_rx: u64,
    /// Marker Response PDUs sent (`marker_resp_tx`).
    pub marker_resp_tx: u64,
    /// Marker Information PDUs sent (`marker_tx`) by the generator.
    pub marker_tx: u64,
    /// Requests not answered because of the rate limit or a down link (bondd only).
    pub marker_resp_dropped: u64,
}

/// Why the generator did not send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MarkerRefused {
    #[error("no such member")]
    NoSuchPort,
    #[error("the member's link is down")]
    LinkDown,
    #[error(
        "rate limit: already {MAX_MARKERS_PER_SEC} marker PDUs in the last second on this member"
    )]
    RateLimited,
}

/// The generator's side of one port: the last request and the last response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct MarkerStatus {
    /// Transaction id of the last request sent, if any.
    pub last_request_tid: Option<u32>,
    /// The last request has not been answered yet.
    pub pending: bool,
    /// Transaction id of the last Marker Response received (ours or not).
    pub last_response_tid: Option<u32>,
    /// The last response answered our outstanding request (requester port, system and
    /// transaction id all ours).
    pub last_response_matched: bool,
    /// Milliseconds between the last answered request and its response.
    pub last_rtt_ms: Option<u64>,
}

/// The marker protocol of one port: responder and generator.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct MarkerMachine {
    /// Times of the last marker PDUs sent, oldest first.
    sent: [Option<u64>; MAX_MARKERS_PER_SEC],
    stats: MarkerStats,
    /// The last transaction id used (the next request uses one more).
    last_tid: u32,
    /// The outstanding request: its fields and when it left.
    outstanding: Option<(MarkerInfo, u64)>,
    status: MarkerStatus,
}

impl MarkerMachine {
    pub fn stats(&self) -> &MarkerStats {
        &self.stats
    }

    pub fn status(&self) -> &MarkerStatus {
        &self.status
    }

    fn note_sent(&mut self, now: u64) {
        self.sent.rotate_left(1);
        self.sent[MAX_MARKERS_PER_SEC - 1] = Some(now);
    }

    /// The generator: builds a Marker Information PDU from port `requester_port` of system
    /// `requester_system`, sent from `src`. Returns the frame and its transaction id.
    pub fn request(
        &mut self,
        now: u64,
        requester_port: u16,
        requester_system: MacAddr,
        src: MacAddr,
        link_up: bool,
    ) -> Result<([u8; super::pdu::FRAME_LEN], u32), MarkerRefused> {
        if !link_up {
            return Err(MarkerRefused::LinkDown);
        }
        if !self.room(now) {
            return Err(MarkerRefused::RateLimited);
        }
        let tid = self.last_tid.wrapping_add(1);
        let info = MarkerInfo {
            requester_port,
            requester_system,
            requester_transaction_id: tid,
        };
        let mut frame = [0u8; super::pdu::FRAME_LEN];
        // The buffer is FRAME_LEN long, so the builder cannot fail.
        if build_marker(&mut frame, src, MarkerKind::Information, &info).is_err() {
            return Err(MarkerRefused::RateLimited);
        }
        self.last_tid = tid;
        self.note_sent(now);
        self.stats.marker_tx += 1;
        self.outstanding = Some((info, now));
        self.status.last_request_tid = Some(tid);
        self.status.pending = true;
        Ok((frame, tid))
    }

    fn room(&self, now: u64) -> bool {
        match self.sent[0] {
            Some(oldest) => now >= oldest.saturating_add(WINDOW_MS),
            None => true,
        }
    }

    /// Handles one received Marker PDU of `kind` with `info` on a port whose own address is
    /// `src` and whose link is `link_up`.
    pub fn on_pdu(
        &mut self,
        now: u64,
        kind: MarkerKind,
        info: &MarkerInfo,
        src: MacAddr,
        link_up: bool,
    ) -> MarkerAction {
        match kind {
            MarkerKind::Response => {
                self.stats.marker_resp_rx += 1;
                let matched = matches!(self.outstanding, Some((sent, _)) if sent == *info);
                self.status.last_response_tid = Some(info.requester_transaction_id);
                self.status.last_response_matched = matched;
                if matched && let Some((_, at)) = self.outstanding.take() {
                    self.status.pending = false;
                    self.status.last_rtt_ms = Some(now.saturating_sub(at));
                }
                MarkerAction::ResponseReceived
            }
            MarkerKind::Information => {
                self.stats.marker_rx += 1;
                if !link_up || !self.room(now) {
                    self.stats.marker_resp_dropped += 1;
                    return MarkerAction::Dropped;
                }
                let mut frame = [0u8; super::pdu::FRAME_LEN];
                match build_marker(&mut frame, src, MarkerKind::Response, info) {
                    Ok(_) => {
                        self.note_sent(now);
                        self.stats.marker_resp_tx += 1;
                        MarkerAction::Respond(frame)
                    }
                    Err(_) => {
                        self.stats.marker_resp_dropped += 1;
                        MarkerAction::Dropped
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lacp::pdu::{SlowPdu, parse_frame};

    const ME: MacAddr = MacAddr::new(0x52, 0x54, 0, 0, 0, 0x01);

    fn request(tid: u32) -> MarkerInfo {
        MarkerInfo {
            requester_port: 9,
            requester_system: MacAddr::new(0x02, 0, 0, 0, 0, 0x0b),
            requester_transaction_id: tid,
        }
    }

    #[test]
    fn answers_with_the_same_fields() {
        let mut r = MarkerMachine::default();
        let MarkerAction::Respond(f) = r.on_pdu(0, MarkerKind::Information, &request(42), ME, true)
        else {
            panic!("no response")
        };
        let SlowPdu::Marker(m) = parse_frame(&f).unwrap() else {
            panic!("not a marker")
        };
        assert_eq!(m.kind(), MarkerKind::Response);
        assert_eq!(m.info(), request(42));
        assert_eq!(crate::lacp::pdu::frame_source(&f), ME);
        assert_eq!(r.stats().marker_rx, 1);
        assert_eq!(r.stats().marker_resp_tx, 1);
    }

    #[test]
    fn rate_limited_to_five_per_second() {
        let mut r = MarkerMachine::default();
        let mut answered = Vec::new();
        for i in 0..40u32 {
            let t = u64::from(i) * 50; // 20 requests per second for 2 s
            if matches!(
                r.on_pdu(t, MarkerKind::Information, &request(i), ME, true),
                MarkerAction::Respond(_)
            ) {
                answered.push(t);
            }
        }
        assert_eq!(
            answered,
            vec![0, 50, 100, 150, 200, 1_000, 1_050, 1_100, 1_150, 1_200]
        );
        assert_eq!(r.stats().marker_resp_dropped, 30);
        assert_eq!(
            r.on_pdu(5_000, MarkerKind::Response, &request(1), ME, true),
            MarkerAction::ResponseReceived
        );
        assert_eq!(r.stats().marker_resp_rx, 1);
        assert_eq!(
            r.on_pdu(6_000, MarkerKind::Information, &request(1), ME, false),
            MarkerAction::Dropped,
            "no answer on a down link"
        );
    }

    #[test]
    fn request_carries_port_system_and_a_fresh_transaction_id() {
        let mut r = MarkerMachine::default();
        let sys = MacAddr::new(0x02, 0, 0, 0, 0, 0x0a);
        let (f, tid) = r.request(0, 3, sys, ME, true).unwrap();
        assert_eq!(tid, 1);
        let SlowPdu::Marker(m) = parse_frame(&f).unwrap() else {
            panic!("not a marker")
        };
        assert_eq!(m.kind(), MarkerKind::Information);
        let sent = MarkerInfo {
            requester_port: 3,
            requester_system: sys,
            requester_transaction_id: 1,
        };
        assert_eq!(m.info(), sent);
        assert_eq!(crate::lacp::pdu::frame_source(&f), ME);
        assert_eq!(r.stats().marker_tx, 1);
        assert!(r.status().pending);
        assert_eq!(r.status().last_request_tid, Some(1));

        // Someone else's response, or one with another id: counted, not ours.
        r.on_pdu(5, MarkerKind::Response, &request(1), ME, true);
        let mut other = sent;
        other.requester_transaction_id = 7;
        r.on_pdu(6, MarkerKind::Response, &other, ME, true);
        assert!(r.status().pending);
        assert!(!r.status().last_response_matched);
        assert_eq!(r.status().last_response_tid, Some(7));

        // The answer.
        r.on_pdu(12, MarkerKind::Response, &sent, ME, true);
        let st = *r.status();
        assert!(!st.pending && st.last_response_matched);
        assert_eq!(st.last_rtt_ms, Some(12));
        assert_eq!(st.last_response_tid, Some(1));
        assert_eq!(r.stats().marker_resp_rx, 3);

        // A duplicate answer completes nothing more.
        r.on_pdu(20, MarkerKind::Response, &sent, ME, true);
        assert!(!r.status().last_response_matched);
        assert_eq!(r.status().last_rtt_ms, Some(12));

        let (_, tid) = r.request(2_000, 3, sys, ME, true).unwrap();
        assert_eq!(tid, 2);
    }

    #[test]
    fn requests_share_the_rate_limit_and_need_a_link() {
        let mut r = MarkerMachine::default();
        let sys = MacAddr::new(0x02, 0, 0, 0, 0, 0x0a);
        assert_eq!(
            r.request(0, 1, sys, ME, false),
            Err(MarkerRefused::LinkDown)
        );
        for t in 0..3 {
            assert!(matches!(
                r.on_pdu(t, MarkerKind::Information, &request(1), ME, true),
                MarkerAction::Respond(_)
            ));
        }
        assert!(r.request(10, 1, sys, ME, true).is_ok());
        assert!(r.request(20, 1, sys, ME, true).is_ok());
        assert_eq!(
            r.request(30, 1, sys, ME, true),
            Err(MarkerRefused::RateLimited)
        );
        assert_eq!(
            r.on_pdu(40, MarkerKind::Information, &request(1), ME, true),
            MarkerAction::Dropped
        );
        assert!(r.request(1_000, 1, sys, ME, true).is_ok());
        assert_eq!(r.stats().marker_tx, 3);
        assert_eq!(r.status().last_request_tid, Some(3));
    }
}
