//! The Marker Responder (802.1AX-2014 6.5.4.2).
//!
//! A Marker Information PDU is answered on the same port with a Marker Response PDU that
//! carries the requester's port, system and transaction id unchanged (6.5.3.3: the responder
//! copies the Marker Information TLV and changes only its type). Marker Responses received are
//! only counted: bondd, like Linux, never generates Marker PDUs (the generator is optional,
//! 6.5.1), and Open vSwitch does not even answer them.
//!
//! Rate limit: at most [`MAX_RESPONSES_PER_SEC`] responses in any one-second window; the
//! excess is dropped and counted. The Slow Protocols allow a protocol at most 10 frames per
//! second on a link (IEEE 802.3 Annex 57A, formerly 43B); LACP itself may use 3 of them
//! (6.4.16), so 5 responses keep the port within budget and still answer a well-behaved
//! generator, which sends one Marker per conversation move. Linux answers every request
//! unconditionally, which lets a flood of requests turn into a flood of responses.
//!
//! The responder answers whenever the port's link is up, whatever the LACP state, as the
//! standard places it beside, not inside, the LACP machines.
//!
//! ```text
//! (IDLE, MARKER_INFO, room in window)  -> IDLE (respond)
//! (IDLE, MARKER_INFO, window full)     -> IDLE (drop, count)
//! (IDLE, MARKER_RESPONSE)              -> IDLE (count)
//! ```

use super::pdu::{MacAddr, MarkerInfo, MarkerKind, build_marker};

/// Responses allowed in any one-second window.
pub const MAX_RESPONSES_PER_SEC: usize = 5;
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
    /// Marker Information PDUs sent (`marker_tx`): always 0, there is no generator.
    pub marker_tx: u64,
    /// Requests not answered because of the rate limit or a down link (bondd only).
    pub marker_resp_dropped: u64,
}

/// The responder of one port.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct MarkerResponder {
    /// Times of the last responses, oldest first.
    sent: [Option<u64>; MAX_RESPONSES_PER_SEC],
    stats: MarkerStats,
}

impl MarkerResponder {
    pub fn stats(&self) -> &MarkerStats {
        &self.stats
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
                        self.sent.rotate_left(1);
                        self.sent[MAX_RESPONSES_PER_SEC - 1] = Some(now);
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
        let mut r = MarkerResponder::default();
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
        let mut r = MarkerResponder::default();
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
}
