//! Typed, zero-copy views and builders for the two Slow Protocols PDUs of link aggregation:
//! the LACPDU (IEEE 802.1AX-2014 6.4.2.3, subtype 1) and the Marker PDU (6.5.3.3, subtype 2).
//!
//! Both are carried untagged, Ethernet type 0x8809, to the Slow_Protocols_Multicast address
//! 01-80-C2-00-00-02, and both are exactly 110 octets after the Ethernet header, so every
//! frame built here is 124 bytes (128 on the wire with the FCS, the Slow Protocols maximum).
//!
//! The views follow the dataplane's `wire` module (smoltcp style): a thin wrapper around a
//! buffer, built with `new_checked`, which validates lengths and the fixed fields once so the
//! accessors cannot fail afterwards. Nothing here allocates or panics.
//!
//! # Receive validation and the statistics it feeds
//!
//! [`PduError::class`] sorts a rejected frame into the counters Linux keeps per member
//! (`ip -s link xstats type bond`):
//!
//! * [`RxErrorClass::Unknown`] → `lacpdu_unknown_rx`: a Slow Protocols frame whose subtype is
//!   neither LACP nor Marker (Linux counts every other subtype this way).
//! * [`RxErrorClass::Illegal`] → `lacpdu_illegal_rx`: truncated (shorter than the 110-octet
//!   PDU, as Linux requires), version 0, a TLV type or length other than the fixed values of
//!   6.4.2.3, or (version 1 only) a bad terminator.
//! * [`RxErrorClass::MarkerUnknown`] → `marker_unknown_rx`: a Marker PDU whose TLV is neither
//!   Marker Information nor Marker Response.
//! * [`RxErrorClass::NotSlowProtocols`]: not ours at all (other EtherType or destination); not
//!   counted, the caller passes the frame on.
//!
//! Versions above 1 are accepted and read as version 1 (6.4.2.3: a receiver parses the
//! version-1 TLVs at their fixed offsets and ignores what a later version appends; 802.1AX-2014
//! LACPv2 inserts its TLVs between the Collector and Terminator TLVs, so the terminator is only
//! checked for version 1). Reserved octets are ignored on receipt and written as zero.

use core::fmt;

/// Slow Protocols EtherType.
pub const ETHERTYPE_SLOW: u16 = 0x8809;
/// Slow_Protocols_Multicast address, the destination of every LACPDU and Marker PDU.
pub const SLOW_PROTOCOLS_DST: MacAddr = MacAddr([0x01, 0x80, 0xc2, 0x00, 0x00, 0x02]);
/// Slow Protocols subtype of the LACPDU.
pub const SUBTYPE_LACP: u8 = 1;
/// Slow Protocols subtype of the Marker PDU.
pub const SUBTYPE_MARKER: u8 = 2;
/// LACP version this implementation speaks.
pub const LACP_VERSION: u8 = 1;
/// Marker protocol version.
pub const MARKER_VERSION: u8 = 1;

/// TLV types of the LACPDU.
pub const TLV_TERMINATOR: u8 = 0x00;
pub const TLV_ACTOR: u8 = 0x01;
pub const TLV_PARTNER: u8 = 0x02;
pub const TLV_COLLECTOR: u8 = 0x03;
/// TLV types of the Marker PDU.
pub const TLV_MARKER_INFO: u8 = 0x01;
pub const TLV_MARKER_RESPONSE: u8 = 0x02;

/// Actor_Information_Length / Partner_Information_Length.
pub const ACTOR_PARTNER_TLV_LEN: u8 = 20;
/// Collector_Information_Length.
pub const COLLECTOR_TLV_LEN: u8 = 16;
/// Marker_Information_Length / Marker_Response_Information_Length.
pub const MARKER_TLV_LEN: u8 = 16;

/// Ethernet header (no tag: Slow Protocols frames are never tagged).
pub const ETH_HEADER_LEN: usize = 14;
/// LACPDU and Marker PDU length after the Ethernet header, padding included.
pub const PDU_LEN: usize = 110;
/// Frame length of every PDU built here (without FCS).
pub const FRAME_LEN: usize = ETH_HEADER_LEN + PDU_LEN;

pub use dataplane::wire::MacAddr;

/// The MAC at `off`, or all zeros where the frame is too short.
fn read_mac(b: &[u8], off: usize) -> MacAddr {
    b.get(off..off + 6)
        .map_or(MacAddr::ZERO, MacAddr::from_slice)
}

/// The Actor_State / Partner_State octet (6.4.2.3 m), bit 0 first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(transparent)]
pub struct LacpState(pub u8);

impl LacpState {
    /// Active LACP (1) or passive (0).
    pub const ACTIVITY: LacpState = LacpState(0x01);
    /// Short timeout (1) or long (0).
    pub const TIMEOUT: LacpState = LacpState(0x02);
    /// Aggregatable (1) or individual (0).
    pub const AGGREGATION: LacpState = LacpState(0x04);
    /// IN_SYNC (1) or OUT_OF_SYNC (0).
    pub const SYNCHRONIZATION: LacpState = LacpState(0x08);
    pub const COLLECTING: LacpState = LacpState(0x10);
    pub const DISTRIBUTING: LacpState = LacpState(0x20);
    /// Partner information is the administrative default.
    pub const DEFAULTED: LacpState = LacpState(0x40);
    /// The receive machine is in EXPIRED.
    pub const EXPIRED: LacpState = LacpState(0x80);

    pub const fn empty() -> Self {
        LacpState(0)
    }

    pub const fn bits(self) -> u8 {
        self.0
    }

    pub const fn contains(self, other: LacpState) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: LacpState) {
        self.0 |= other.0;
    }

    pub fn remove(&mut self, other: LacpState) {
        self.0 &= !other.0;
    }

    pub fn set(&mut self, other: LacpState, on: bool) {
        if on {
            self.insert(other);
        } else {
            self.remove(other);
        }
    }

    /// `self` with `other` set.
    pub const fn with(self, other: LacpState) -> Self {
        LacpState(self.0 | other.0)
    }

    pub const fn activity(self) -> bool {
        self.contains(Self::ACTIVITY)
    }
    pub const fn short_timeout(self) -> bool {
        self.contains(Self::TIMEOUT)
    }
    pub const fn aggregation(self) -> bool {
        self.contains(Self::AGGREGATION)
    }
    pub const fn synchronization(self) -> bool {
        self.contains(Self::SYNCHRONIZATION)
    }
    pub const fn collecting(self) -> bool {
        self.contains(Self::COLLECTING)
    }
    pub const fn distributing(self) -> bool {
        self.contains(Self::DISTRIBUTING)
    }
    pub const fn defaulted(self) -> bool {
        self.contains(Self::DEFAULTED)
    }
    pub const fn expired(self) -> bool {
        self.contains(Self::EXPIRED)
    }

    /// The flags as a readable, space-separated list (the words `ovs-appctl lacp/show` uses),
    /// e.g. `"activity aggregation synchronized collecting distributing"`.
    pub fn describe(self) -> String {
        const WORDS: [&str; 8] = [
            "activity",
            "timeout",
            "aggregation",
            "synchronized",
            "collecting",
            "distributing",
            "defaulted",
            "expired",
        ];
        let mut s = String::new();
        for (bit, word) in WORDS.iter().enumerate() {
            if self.0 & (1 << bit) != 0 {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(word);
            }
        }
        s
    }
}

/// Wireshark's "State Flags" string: one letter per bit from Expired (bit 7) down to
/// Activity (bit 0), `*` for a clear bit: `EFDCSGSA` = Expired, deFaulted, Distributing,
/// Collecting, Synchronization, aGgregation, Short timeout, Activity. A converged fast active
/// port reads `**DCSGSA`.
impl fmt::Display for LacpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LETTERS: &[u8; 8] = b"EFDCSGSA";
        for (i, letter) in LETTERS.iter().enumerate() {
            let bit = 7 - i;
            let c = if self.0 & (1 << bit) != 0 {
                char::from(*letter)
            } else {
                '*'
            };
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

/// The contents of an Actor or Partner Information TLV (6.4.2.3 d–m): who a port is and what
/// state it is in. Also the type of the actor's and partner's operational variables (6.4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct PortInfo {
    pub system_priority: u16,
    pub system: MacAddr,
    pub key: u16,
    pub port_priority: u16,
    pub port: u16,
    pub state: LacpState,
}

impl PortInfo {
    /// Equal in every field but the state octet.
    pub fn same_identity(&self, other: &PortInfo) -> bool {
        self.system_priority == other.system_priority
            && self.system == other.system
            && self.key == other.key
            && self.port_priority == other.port_priority
            && self.port == other.port
    }
}

/// The fields of a Marker Information or Marker Response TLV (6.5.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct MarkerInfo {
    pub requester_port: u16,
    pub requester_system: MacAddr,
    pub requester_transaction_id: u32,
}

/// Which Marker TLV a Marker PDU carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MarkerKind {
    /// Marker Information (a request; TLV type 1).
    Information,
    /// Marker Response (TLV type 2).
    Response,
}

impl MarkerKind {
    pub const fn tlv_type(self) -> u8 {
        match self {
            MarkerKind::Information => TLV_MARKER_INFO,
            MarkerKind::Response => TLV_MARKER_RESPONSE,
        }
    }
}

/// The counter a rejected frame is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum RxErrorClass {
    /// Not a Slow Protocols frame for us: not counted.
    NotSlowProtocols,
    /// `lacpdu_unknown_rx`.
    Unknown,
    /// `lacpdu_illegal_rx`.
    Illegal,
    /// `marker_unknown_rx`.
    MarkerUnknown,
    /// A builder's output buffer was too small (never from a received frame).
    Build,
}

/// Why a frame could not be viewed as (or built into) a LACPDU or Marker PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PduError {
    /// Not EtherType 0x8809 to 01-80-C2-00-00-02 (or shorter than an Ethernet header).
    #[error("not a slow protocols frame (ethertype {ethertype:#06x}, destination {dst})")]
    NotSlowProtocols { ethertype: u16, dst: MacAddr },
    /// The input ends before `what` is complete.
    #[error("{what} truncated: need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// A Slow Protocols subtype that is neither LACP (1) nor Marker (2).
    #[error("unknown slow protocols subtype {0}")]
    UnknownSubtype(u8),
    /// Version 0.
    #[error("{what}: illegal version {version}")]
    BadVersion { what: &'static str, version: u8 },
    /// A TLV whose type or length is not the one the PDU layout fixes at that offset.
    #[error(
        "{what} TLV: type {tlv_type:#04x} length {length} (want type {want_type:#04x} length {want_length})"
    )]
    BadTlv {
        what: &'static str,
        tlv_type: u8,
        length: u8,
        want_type: u8,
        want_length: u8,
    },
    /// A Marker PDU whose TLV is neither Marker Information nor Marker Response.
    #[error("unknown marker TLV type {0:#04x}")]
    UnknownMarkerTlv(u8),
    /// An output buffer handed to a builder is too small.
    #[error("output buffer too small for {what}: need {need} bytes, have {have}")]
    NoRoom {
        what: &'static str,
        need: usize,
        have: usize,
    },
}

impl PduError {
    /// The statistics counter this error is charged to.
    pub fn class(&self) -> RxErrorClass {
        match self {
            PduError::NotSlowProtocols { .. } => RxErrorClass::NotSlowProtocols,
            PduError::UnknownSubtype(_) => RxErrorClass::Unknown,
            PduError::Truncated { .. } | PduError::BadVersion { .. } | PduError::BadTlv { .. } => {
                RxErrorClass::Illegal
            }
            PduError::UnknownMarkerTlv(_) => RxErrorClass::MarkerUnknown,
            PduError::NoRoom { .. } => RxErrorClass::Build,
        }
    }
}

fn check_len(b: &[u8], need: usize, what: &'static str) -> Result<(), PduError> {
    if b.len() < need {
        Err(PduError::Truncated {
            what,
            need,
            have: b.len(),
        })
    } else {
        Ok(())
    }
}

fn check_room(b: &[u8], need: usize, what: &'static str) -> Result<(), PduError> {
    if b.len() < need {
        Err(PduError::NoRoom {
            what,
            need,
            have: b.len(),
        })
    } else {
        Ok(())
    }
}

fn be16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

fn be32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

fn byte(b: &[u8], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

fn put(b: &mut [u8], off: usize, v: &[u8]) {
    if let Some(d) = b.get_mut(off..off + v.len()) {
        d.copy_from_slice(v);
    }
}

/// The Slow Protocols payload (from the subtype octet on) of an Ethernet frame, after checking
/// it is untagged EtherType 0x8809 addressed to 01-80-C2-00-00-02.
pub fn slow_payload(frame: &[u8]) -> Result<&[u8], PduError> {
    if frame.len() < ETH_HEADER_LEN {
        return Err(PduError::NotSlowProtocols {
            ethertype: 0,
            dst: read_mac(frame, 0),
        });
    }
    let dst = read_mac(frame, 0);
    let ethertype = be16(frame, 12);
    if ethertype != ETHERTYPE_SLOW || dst != SLOW_PROTOCOLS_DST {
        return Err(PduError::NotSlowProtocols { ethertype, dst });
    }
    Ok(frame.get(ETH_HEADER_LEN..).unwrap_or(&[]))
}

/// A validated Slow Protocols PDU of one of the two link-aggregation subtypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowPdu<'a> {
    Lacp(Lacpdu<&'a [u8]>),
    Marker(MarkerPdu<&'a [u8]>),
}

/// Parses a whole Ethernet frame into a LACPDU or Marker PDU view.
pub fn parse_frame(frame: &[u8]) -> Result<SlowPdu<'_>, PduError> {
    let payload = slow_payload(frame)?;
    check_len(payload, 1, "slow protocols subtype")?;
    match byte(payload, 0) {
        SUBTYPE_LACP => Lacpdu::new_checked(payload).map(SlowPdu::Lacp),
        SUBTYPE_MARKER => MarkerPdu::new_checked(payload).map(SlowPdu::Marker),
        other => Err(PduError::UnknownSubtype(other)),
    }
}

/// The frame is a Slow Protocols frame of the LACP subtype (not validated further).
pub fn is_lacpdu(frame: &[u8]) -> bool {
    slow_payload(frame).is_ok_and(|p| p.first() == Some(&SUBTYPE_LACP))
}

/// Source MAC address of a frame (zero if too short).
pub fn frame_source(frame: &[u8]) -> MacAddr {
    read_mac(frame, 6)
}

mod lacp_field {
    pub const SUBTYPE: usize = 0;
    pub const VERSION: usize = 1;
    pub const ACTOR_TLV: usize = 2;
    pub const PARTNER_TLV: usize = 22;
    pub const COLLECTOR_TLV: usize = 42;
    pub const COLLECTOR_MAX_DELAY: usize = 44;
    pub const TERMINATOR_TLV: usize = 58;
    /// Offsets inside an actor/partner TLV (from its type octet).
    pub const SYS_PRIO: usize = 2;
    pub const SYSTEM: usize = 4;
    pub const KEY: usize = 10;
    pub const PORT_PRIO: usize = 12;
    pub const PORT: usize = 14;
    pub const STATE: usize = 16;
}

/// View of a LACPDU: the 110-octet Slow Protocols payload starting at the subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lacpdu<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Lacpdu<T> {
    /// Wraps `buf` after checking it is a complete LACPDU: 110 octets, subtype 1, version
    /// ≥ 1, Actor (1, 20), Partner (2, 20) and Collector (3, 16) TLVs, and for version 1 a
    /// Terminator (0, 0).
    pub fn new_checked(buf: T) -> Result<Self, PduError> {
        use lacp_field::*;
        let b = buf.as_ref();
        check_len(b, 1, "lacpdu")?;
        if b[SUBTYPE] != SUBTYPE_LACP {
            return Err(PduError::UnknownSubtype(b[SUBTYPE]));
        }
        check_len(b, PDU_LEN, "lacpdu")?;
        let version = b[VERSION];
        if version == 0 {
            return Err(PduError::BadVersion {
                what: "lacpdu",
                version,
            });
        }
        let tlvs: [(&'static str, usize, u8, u8); 3] = [
            (
                "actor information",
                ACTOR_TLV,
                TLV_ACTOR,
                ACTOR_PARTNER_TLV_LEN,
            ),
            (
                "partner information",
                PARTNER_TLV,
                TLV_PARTNER,
                ACTOR_PARTNER_TLV_LEN,
            ),
            (
                "collector information",
                COLLECTOR_TLV,
                TLV_COLLECTOR,
                COLLECTOR_TLV_LEN,
            ),
        ];
        for (what, off, want_type, want_length) in tlvs {
            check_tlv(b, what, off, want_type, want_length)?;
        }
        if version == LACP_VERSION {
            check_tlv(b, "terminator", TERMINATOR_TLV, TLV_TERMINATOR, 0)?;
        }
        Ok(Lacpdu { buf })
    }

    pub fn into_inner(self) -> T {
        self.buf
    }

    pub fn version(&self) -> u8 {
        byte(self.buf.as_ref(), lacp_field::VERSION)
    }

    /// The Actor Information TLV.
    pub fn actor(&self) -> PortInfo {
        read_port_info(self.buf.as_ref(), lacp_field::ACTOR_TLV)
    }

    /// The Partner Information TLV.
    pub fn partner(&self) -> PortInfo {
        read_port_info(self.buf.as_ref(), lacp_field::PARTNER_TLV)
    }

    /// Collector_Max_Delay, in tens of microseconds.
    pub fn collector_max_delay(&self) -> u16 {
        be16(self.buf.as_ref(), lacp_field::COLLECTOR_MAX_DELAY)
    }

    /// Everything the state machines need, copied out.
    pub fn info(&self) -> LacpduInfo {
        LacpduInfo {
            version: self.version(),
            actor: self.actor(),
            partner: self.partner(),
            collector_max_delay: self.collector_max_delay(),
        }
    }
}

fn check_tlv(
    b: &[u8],
    what: &'static str,
    off: usize,
    want_type: u8,
    want_length: u8,
) -> Result<(), PduError> {
    let (tlv_type, length) = (byte(b, off), byte(b, off + 1));
    if tlv_type != want_type || length != want_length {
        return Err(PduError::BadTlv {
            what,
            tlv_type,
            length,
            want_type,
            want_length,
        });
    }
    Ok(())
}

fn read_port_info(b: &[u8], tlv: usize) -> PortInfo {
    use lacp_field::*;
    PortInfo {
        system_priority: be16(b, tlv + SYS_PRIO),
        system: read_mac(b, tlv + SYSTEM),
        key: be16(b, tlv + KEY),
        port_priority: be16(b, tlv + PORT_PRIO),
        port: be16(b, tlv + PORT),
        state: LacpState(byte(b, tlv + STATE)),
    }
}

fn write_port_info(b: &mut [u8], tlv: usize, tlv_type: u8, p: &PortInfo) {
    use lacp_field::*;
    put(b, tlv, &[tlv_type, ACTOR_PARTNER_TLV_LEN]);
    put(b, tlv + SYS_PRIO, &p.system_priority.to_be_bytes());
    put(b, tlv + SYSTEM, &p.system.0);
    put(b, tlv + KEY, &p.key.to_be_bytes());
    put(b, tlv + PORT_PRIO, &p.port_priority.to_be_bytes());
    put(b, tlv + PORT, &p.port.to_be_bytes());
    put(b, tlv + STATE, &[p.state.0]);
}

/// The fields of a received LACPDU, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct LacpduInfo {
    pub version: u8,
    pub actor: PortInfo,
    pub partner: PortInfo,
    pub collector_max_delay: u16,
}

/// Writes the Ethernet header of a Slow Protocols frame from `src`.
fn write_eth_header(frame: &mut [u8], src: MacAddr) {
    put(frame, 0, &SLOW_PROTOCOLS_DST.0);
    put(frame, 6, &src.0);
    put(frame, 12, &ETHERTYPE_SLOW.to_be_bytes());
}

/// Builds a version-1 LACPDU frame into `buf` and returns its length ([`FRAME_LEN`]).
///
/// Destination 01-80-C2-00-00-02, source `src` (the member's own, permanent, address: the
/// frame must leave with the port's address, not the bond's), EtherType 0x8809, then the
/// 110-octet LACPDU with all reserved octets zero. Nothing past [`FRAME_LEN`] is written.
pub fn build_lacpdu(
    buf: &mut [u8],
    src: MacAddr,
    actor: &PortInfo,
    partner: &PortInfo,
    collector_max_delay: u16,
) -> Result<usize, PduError> {
    use lacp_field::*;
    check_room(buf, FRAME_LEN, "lacpdu frame")?;
    let frame = &mut buf[..FRAME_LEN];
    frame.fill(0);
    write_eth_header(frame, src);
    let pdu = &mut frame[ETH_HEADER_LEN..];
    put(pdu, SUBTYPE, &[SUBTYPE_LACP, LACP_VERSION]);
    write_port_info(pdu, ACTOR_TLV, TLV_ACTOR, actor);
    write_port_info(pdu, PARTNER_TLV, TLV_PARTNER, partner);
    put(pdu, COLLECTOR_TLV, &[TLV_COLLECTOR, COLLECTOR_TLV_LEN]);
    put(pdu, COLLECTOR_MAX_DELAY, &collector_max_delay.to_be_bytes());
    put(pdu, TERMINATOR_TLV, &[TLV_TERMINATOR, 0]);
    Ok(FRAME_LEN)
}

mod marker_field {
    pub const SUBTYPE: usize = 0;
    pub const VERSION: usize = 1;
    pub const TLV: usize = 2;
    pub const REQUESTER_PORT: usize = 4;
    pub const REQUESTER_SYSTEM: usize = 6;
    pub const TRANSACTION_ID: usize = 12;
    pub const TERMINATOR_TLV: usize = 18;
}

/// View of a Marker PDU: the 110-octet Slow Protocols payload starting at the subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkerPdu<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> MarkerPdu<T> {
    /// Wraps `buf` after checking it is a complete Marker PDU: 110 octets, subtype 2, version
    /// ≥ 1, a Marker Information or Marker Response TLV of length 16, and for version 1 a
    /// Terminator (0, 0).
    pub fn new_checked(buf: T) -> Result<Self, PduError> {
        use marker_field::*;
        let b = buf.as_ref();
        check_len(b, 1, "marker pdu")?;
        if b[SUBTYPE] != SUBTYPE_MARKER {
            return Err(PduError::UnknownSubtype(b[SUBTYPE]));
        }
        check_len(b, PDU_LEN, "marker pdu")?;
        let version = b[VERSION];
        if version == 0 {
            return Err(PduError::BadVersion {
                what: "marker pdu",
                version,
            });
        }
        let (tlv_type, length) = (b[TLV], b[TLV + 1]);
        if tlv_type != TLV_MARKER_INFO && tlv_type != TLV_MARKER_RESPONSE {
            return Err(PduError::UnknownMarkerTlv(tlv_type));
        }
        if length != MARKER_TLV_LEN {
            return Err(PduError::BadTlv {
                what: "marker information",
                tlv_type,
                length,
                want_type: tlv_type,
                want_length: MARKER_TLV_LEN,
            });
        }
        if version == MARKER_VERSION {
            check_tlv(b, "terminator", TERMINATOR_TLV, TLV_TERMINATOR, 0)?;
        }
        Ok(MarkerPdu { buf })
    }

    pub fn into_inner(self) -> T {
        self.buf
    }

    pub fn version(&self) -> u8 {
        byte(self.buf.as_ref(), marker_field::VERSION)
    }

    pub fn kind(&self) -> MarkerKind {
        if byte(self.buf.as_ref(), marker_field::TLV) == TLV_MARKER_RESPONSE {
            MarkerKind::Response
        } else {
            MarkerKind::Information
        }
    }

    pub fn info(&self) -> MarkerInfo {
        use marker_field::*;
        let b = self.buf.as_ref();
        MarkerInfo {
            requester_port: be16(b, REQUESTER_PORT),
            requester_system: read_mac(b, REQUESTER_SYSTEM),
            requester_transaction_id: be32(b, TRANSACTION_ID),
        }
    }
}

/// Builds a version-1 Marker PDU frame (Information or Response) into `buf` and returns its
/// length ([`FRAME_LEN`]). The pad and reserved octets are zero.
pub fn build_marker(
    buf: &mut [u8],
    src: MacAddr,
    kind: MarkerKind,
    info: &MarkerInfo,
) -> Result<usize, PduError> {
    use marker_field::*;
    check_room(buf, FRAME_LEN, "marker frame")?;
    let frame = &mut buf[..FRAME_LEN];
    frame.fill(0);
    write_eth_header(frame, src);
    let pdu = &mut frame[ETH_HEADER_LEN..];
    put(
        pdu,
        SUBTYPE,
        &[
            SUBTYPE_MARKER,
            MARKER_VERSION,
            kind.tlv_type(),
            MARKER_TLV_LEN,
        ],
    );
    put(pdu, REQUESTER_PORT, &info.requester_port.to_be_bytes());
    put(pdu, REQUESTER_SYSTEM, &info.requester_system.0);
    put(
        pdu,
        TRANSACTION_ID,
        &info.requester_transaction_id.to_be_bytes(),
    );
    put(pdu, TERMINATOR_TLV, &[TLV_TERMINATOR, 0]);
    Ok(FRAME_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: MacAddr = MacAddr::new(0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01);
    const SYS_A: MacAddr = MacAddr::new(0x02, 0x00, 0x00, 0x00, 0x00, 0x0a);
    const SYS_B: MacAddr = MacAddr::new(0x02, 0x00, 0x00, 0x00, 0x00, 0x0b);

    fn actor() -> PortInfo {
        PortInfo {
            system_priority: 0xffff,
            system: SYS_A,
            key: 0x0f,
            port_priority: 0xff,
            port: 1,
            state: LacpState(0x3f),
        }
    }

    fn partner() -> PortInfo {
        PortInfo {
            system_priority: 0x8000,
            system: SYS_B,
            key: 0x1234,
            port_priority: 0x80,
            port: 0x0102,
            state: LacpState(0x3d),
        }
    }

    /// A LACPDU frame laid out octet by octet from the LACPDU structure of 802.1AX-2014 6.4.2.3.
    fn hand_lacpdu() -> [u8; 124] {
        let mut f = [0u8; 124];
        let head: [u8; 74] = [
            0x01, 0x80, 0xc2, 0x00, 0x00, 0x02, // dst: Slow_Protocols_Multicast
            0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01, // src: the member's address
            0x88, 0x09, // Slow Protocols EtherType
            0x01, 0x01, // subtype LACP, version 1
            0x01, 0x14, // Actor Information, length 20
            0xff, 0xff, // actor system priority
            0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, // actor system
            0x00, 0x0f, // actor key
            0x00, 0xff, // actor port priority
            0x00, 0x01, // actor port
            0x3f, // actor state
            0x00, 0x00, 0x00, // reserved
            0x02, 0x14, // Partner Information, length 20
            0x80, 0x00, // partner system priority
            0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, // partner system
            0x12, 0x34, // partner key
            0x00, 0x80, // partner port priority
            0x01, 0x02, // partner port
            0x3d, // partner state
            0x00, 0x00, 0x00, // reserved
            0x03, 0x10, // Collector Information, length 16
            0x00, 0x00, // collector max delay
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // reserved (12)
            0x00, 0x00, // Terminator, length 0
        ];
        f[..74].copy_from_slice(&head);
        // 50 reserved octets follow as zero.
        f
    }

    fn hand_marker(tlv: u8) -> [u8; 124] {
        let mut f = [0u8; 124];
        let head: [u8; 34] = [
            0x01, 0x80, 0xc2, 0x00, 0x00, 0x02, // dst
            0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01, // src
            0x88, 0x09, // Slow Protocols
            0x02, 0x01, // subtype Marker, version 1
            tlv, 0x10, // Marker Information/Response, length 16
            0x00, 0x07, // requester port
            0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, // requester system
            0xde, 0xad, 0xbe, 0xef, // transaction id
            0x00, 0x00, // pad
            0x00, 0x00, // Terminator
        ];
        f[..34].copy_from_slice(&head);
        f
    }

    #[test]
    fn lacpdu_builder_matches_hand_layout() {
        let mut buf = [0xa5u8; 130];
        let n = build_lacpdu(&mut buf, SRC, &actor(), &partner(), 0).unwrap();
        assert_eq!(n, FRAME_LEN);
        assert_eq!(n, 124);
        assert_eq!(buf[..124], hand_lacpdu());
        assert_eq!(buf[124..], [0xa5; 6], "nothing written past the frame");
    }

    #[test]
    fn lacpdu_parses_back() {
        let f = hand_lacpdu();
        let SlowPdu::Lacp(p) = parse_frame(&f).unwrap() else {
            panic!("not a lacpdu")
        };
        assert_eq!(p.version(), 1);
        assert_eq!(p.actor(), actor());
        assert_eq!(p.partner(), partner());
        assert_eq!(p.collector_max_delay(), 0);
        assert_eq!(frame_source(&f), SRC);
    }

    #[test]
    fn marker_builder_matches_hand_layout_and_parses_back() {
        let info = MarkerInfo {
            requester_port: 7,
            requester_system: SYS_B,
            requester_transaction_id: 0xdead_beef,
        };
        for (kind, tlv) in [(MarkerKind::Information, 1), (MarkerKind::Response, 2)] {
            let mut buf = [0x5au8; 124];
            assert_eq!(build_marker(&mut buf, SRC, kind, &info).unwrap(), 124);
            assert_eq!(buf, hand_marker(tlv));
            let SlowPdu::Marker(m) = parse_frame(&buf).unwrap() else {
                panic!("not a marker")
            };
            assert_eq!(m.kind(), kind);
            assert_eq!(m.info(), info);
        }
    }

    #[test]
    fn builders_refuse_small_buffers() {
        let mut buf = [0u8; 123];
        assert_eq!(
            build_lacpdu(&mut buf, SRC, &actor(), &partner(), 0).unwrap_err(),
            PduError::NoRoom {
                what: "lacpdu frame",
                need: 124,
                have: 123
            }
        );
        assert!(matches!(
            build_marker(&mut buf, SRC, MarkerKind::Response, &MarkerInfo::default()),
            Err(PduError::NoRoom { .. })
        ));
    }

    #[test]
    fn errors_are_classified_like_the_linux_counters() {
        let good = hand_lacpdu();
        let class = |f: &[u8]| parse_frame(f).unwrap_err().class();

        let mut f = good;
        f[14] = 0x0a; // OSSP subtype: not ours
        assert_eq!(parse_frame(&f).unwrap_err(), PduError::UnknownSubtype(10));
        assert_eq!(class(&f), RxErrorClass::Unknown);

        let mut f = good;
        f[15] = 0; // version 0
        assert_eq!(class(&f), RxErrorClass::Illegal);

        let mut f = good;
        f[16] = 0x05; // actor TLV type
        assert!(matches!(
            parse_frame(&f),
            Err(PduError::BadTlv {
                what: "actor information",
                tlv_type: 5,
                ..
            })
        ));
        assert_eq!(class(&f), RxErrorClass::Illegal);

        let mut f = good;
        f[37] = 19; // partner TLV length
        assert_eq!(class(&f), RxErrorClass::Illegal);

        let mut f = good;
        f[57] = 0x20; // collector TLV length
        assert_eq!(class(&f), RxErrorClass::Illegal);

        let mut f = good;
        f[73] = 3; // terminator length
        assert_eq!(class(&f), RxErrorClass::Illegal);

        assert_eq!(
            parse_frame(&good[..123]).unwrap_err(),
            PduError::Truncated {
                what: "lacpdu",
                need: 110,
                have: 109
            }
        );
        assert_eq!(class(&good[..15]), RxErrorClass::Illegal);
        assert_eq!(class(&good[..14]), RxErrorClass::Illegal);

        let mut f = good;
        f[12] = 0x08; // other EtherType
        assert_eq!(class(&f), RxErrorClass::NotSlowProtocols);
        let mut f = good;
        f[5] = 0x03; // other destination
        assert_eq!(class(&f), RxErrorClass::NotSlowProtocols);
        assert_eq!(class(&good[..13]), RxErrorClass::NotSlowProtocols);

        let mut m = hand_marker(1);
        m[16] = 7;
        assert_eq!(parse_frame(&m).unwrap_err(), PduError::UnknownMarkerTlv(7));
        assert_eq!(class(&m), RxErrorClass::MarkerUnknown);
        let mut m = hand_marker(1);
        m[17] = 0x16; // the length Linux's header comment claims
        assert_eq!(class(&m), RxErrorClass::Illegal);
        let mut m = hand_marker(2);
        m[15] = 0;
        assert_eq!(class(&m), RxErrorClass::Illegal);
    }

    #[test]
    fn later_versions_are_read_as_version_one() {
        let mut f = hand_lacpdu();
        f[15] = 2;
        // A v2 PDU carries more TLVs where v1 has its terminator.
        f[72] = 0x04;
        f[73] = 0x08;
        let SlowPdu::Lacp(p) = parse_frame(&f).unwrap() else {
            panic!("not a lacpdu")
        };
        assert_eq!(p.version(), 2);
        assert_eq!(p.actor(), actor());
    }

    #[test]
    fn longer_frames_are_fine() {
        let mut f = [0u8; 200];
        f[..124].copy_from_slice(&hand_lacpdu());
        assert!(parse_frame(&f).is_ok());
    }

    #[test]
    fn state_display_like_tshark() {
        assert_eq!(LacpState(0x3f).to_string(), "**DCSGSA");
        assert_eq!(LacpState(0x00).to_string(), "********");
        assert_eq!(LacpState(0xff).to_string(), "EFDCSGSA");
        assert_eq!(LacpState(0x45).to_string(), "*F***G*A");
        assert_eq!(
            LacpState(0x3d).describe(),
            "activity aggregation synchronized collecting distributing"
        );
        assert_eq!(LacpState(0xc2).describe(), "timeout defaulted expired");
        let mut s = LacpState::empty();
        s.insert(LacpState::SYNCHRONIZATION);
        s.set(LacpState::ACTIVITY, true);
        assert!(s.synchronization() && s.activity() && !s.collecting());
        s.remove(LacpState::SYNCHRONIZATION);
        assert_eq!(s, LacpState::ACTIVITY);
    }

    /// xorshift64*: a deterministic generator for the fuzz loops.
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn fuzz_random_and_mutated_buffers_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let good = hand_lacpdu();
        let marker = hand_marker(1);
        let mut accepted = 0;
        for i in 0..6000 {
            let len = (rng.next() % 160) as usize;
            let mut buf = vec![0u8; len];
            if i % 3 == 0 {
                // Mutations of a valid frame: most bytes survive, so the deep paths run.
                let base = if i % 2 == 0 { &good } else { &marker };
                for (j, b) in buf.iter_mut().enumerate() {
                    *b = base.get(j).copied().unwrap_or(0);
                }
                for _ in 0..(rng.next() % 4) {
                    if !buf.is_empty() {
                        let at = (rng.next() as usize) % buf.len();
                        buf[at] = rng.next() as u8;
                    }
                }
            } else {
                for b in buf.iter_mut() {
                    *b = rng.next() as u8;
                }
                if len >= 14 && i % 3 == 1 {
                    buf[..6].copy_from_slice(&SLOW_PROTOCOLS_DST.0);
                    buf[12..14].copy_from_slice(&ETHERTYPE_SLOW.to_be_bytes());
                }
            }
            match parse_frame(&buf) {
                Ok(SlowPdu::Lacp(p)) => {
                    accepted += 1;
                    let _ = (p.info(), p.actor().state.to_string());
                }
                Ok(SlowPdu::Marker(m)) => {
                    accepted += 1;
                    let _ = (m.info(), m.kind());
                }
                Err(e) => {
                    let _ = (e.class(), e.to_string());
                }
            }
        }
        assert!(
            accepted > 100,
            "the mutations should keep many frames valid"
        );
    }
}
