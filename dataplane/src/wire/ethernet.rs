//! Ethernet II header, MAC addresses and 802.1Q / 802.1ad tag walking.

use core::fmt;
use core::str::FromStr;

use super::{WireError, be16, check_len, ethertype, put_be16};

/// Length of the untagged Ethernet header (dst, src, ethertype).
pub const HEADER_LEN: usize = 14;
/// Length of one VLAN tag (TPID + TCI).
pub const VLAN_TAG_LEN: usize = 4;
/// Offset of the (outer) EtherType / TPID field.
pub const ETHERTYPE_OFFSET: usize = 12;
/// Minimum Ethernet frame length without FCS; shorter frames are padded.
pub const MIN_FRAME_LEN: usize = 60;

/// A 48-bit IEEE MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// Builds an address from its six octets.
    pub const fn new(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> Self {
        MacAddr([a, b, c, d, e, f])
    }

    /// The six octets, most significant first (wire order).
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Reads an address from the first six bytes of `b`. Panics if shorter.
    pub fn from_slice(b: &[u8]) -> Self {
        let mut a = [0u8; 6];
        a.copy_from_slice(&b[..6]);
        MacAddr(a)
    }

    pub const fn is_broadcast(&self) -> bool {
        let o = self.0;
        o[0] == 0xff && o[1] == 0xff && o[2] == 0xff && o[3] == 0xff && o[4] == 0xff && o[5] == 0xff
    }

    /// Group bit set (includes broadcast).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    pub const fn is_zero(&self) -> bool {
        let o = self.0;
        o[0] | o[1] | o[2] | o[3] | o[4] | o[5] == 0
    }

    /// The Ethernet multicast address an IPv6 multicast group maps to
    /// (RFC 2464: `33:33` followed by the group's low 32 bits).
    pub const fn ipv6_multicast(group: &core::net::Ipv6Addr) -> Self {
        let o = group.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for MacAddr {
    /// As text, `aa:bb:cc:dd:ee:ff`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(o: [u8; 6]) -> Self {
        MacAddr(o)
    }
}

impl From<MacAddr> for [u8; 6] {
    fn from(m: MacAddr) -> Self {
        m.0
    }
}

/// Error returned when a string is not a MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address: expected six two-digit hex octets separated by ':' or '-'")]
pub struct MacParseError;

impl FromStr for MacAddr {
    type Err = MacParseError;

    /// Parses `aa:bb:cc:dd:ee:ff` (either case; `-` is accepted as the
    /// separator too, but not mixed with `:`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() != 17 {
            return Err(MacParseError);
        }
        let sep = b[2];
        if sep != b':' && sep != b'-' {
            return Err(MacParseError);
        }
        let mut out = [0u8; 6];
        for (i, o) in out.iter_mut().enumerate() {
            let p = i * 3;
            if i > 0 && b[p - 1] != sep {
                return Err(MacParseError);
            }
            let hi = hex_val(b[p]).ok_or(MacParseError)?;
            let lo = hex_val(b[p + 1]).ok_or(MacParseError)?;
            *o = (hi << 4) | lo;
        }
        Ok(MacAddr(out))
    }
}

impl MacAddr {
    /// Parses the looser text that bondd's config file and status JSON
    /// have always accepted: six groups split at `:` or `-` (the two may be
    /// mixed), each group two characters that `u8::from_str_radix(_, 16)`
    /// reads (so `+a` counts as `0a`). `None` for anything else.
    ///
    /// Prefer [`FromStr`], the strict form (one separator throughout, two
    /// hex digits per octet); this one exists so that those files keep
    /// reading what they read before.
    pub fn parse_loose(s: &str) -> Option<Self> {
        let mut out = [0u8; 6];
        let mut groups = s.split([':', '-']);
        for o in out.iter_mut() {
            let g = groups.next()?;
            if g.len() != 2 {
                return None;
            }
            *o = u8::from_str_radix(g, 16).ok()?;
        }
        groups.next().is_none().then_some(MacAddr(out))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// True for the TPIDs treated as VLAN tags: 802.1Q (`0x8100`), 802.1ad
/// (`0x88a8`) and the pre-standard `0x9100`.
#[inline]
pub const fn is_vlan_tpid(ty: u16) -> bool {
    matches!(ty, ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_9100)
}

/// One VLAN tag as carried inline in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanTag {
    /// Tag protocol identifier (`0x8100`, `0x88a8` or `0x9100`).
    pub tpid: u16,
    /// Full tag control information: PCP (3 bits), DEI (1), VID (12).
    pub tci: u16,
}

impl VlanTag {
    /// VLAN identifier (low 12 bits of the TCI).
    pub const fn vid(&self) -> u16 {
        self.tci & 0x0fff
    }
    /// Priority code point.
    pub const fn pcp(&self) -> u8 {
        (self.tci >> 13) as u8
    }
    /// Drop eligible indicator.
    pub const fn dei(&self) -> bool {
        self.tci & 0x1000 != 0
    }
}

/// Where the layer-3 header of a frame starts once its VLAN tags are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L2Info {
    /// Number of VLAN tags skipped.
    pub tag_count: usize,
    /// TCI of the outermost tag, if any was skipped.
    pub outer_tci: Option<u16>,
    /// EtherType found after the last skipped tag.
    pub ethertype: u16,
    /// Offset of the first byte after that EtherType (the L3 header).
    pub l3_offset: usize,
}

/// Skips every VLAN tag (see [`is_vlan_tpid`]) at the head of `frame`.
///
/// Returns `None` when `frame` is shorter than an Ethernet header. A tag is
/// skipped only when its TCI *and* the following EtherType are both inside
/// the buffer; a TPID that is not followed by four more bytes stops the walk
/// and is itself reported as the EtherType (so a truncated tagged frame is
/// seen as a non-IP frame of type `0x8100`).
pub fn skip_vlan_tags(frame: &[u8]) -> Option<L2Info> {
    if frame.len() < HEADER_LEN {
        return None;
    }
    let mut type_off = ETHERTYPE_OFFSET;
    let mut ty = be16(frame, type_off);
    let mut tag_count = 0;
    let mut outer_tci = None;
    while is_vlan_tpid(ty) && type_off + 2 + VLAN_TAG_LEN <= frame.len() {
        let tci = be16(frame, type_off + 2);
        if outer_tci.is_none() {
            outer_tci = Some(tci);
        }
        tag_count += 1;
        type_off += VLAN_TAG_LEN;
        ty = be16(frame, type_off);
    }
    Some(L2Info {
        tag_count,
        outer_tci,
        ethertype: ty,
        l3_offset: type_off + 2,
    })
}

/// Iterator over the inline VLAN tags of a frame, outermost first. Stops at
/// the same place as [`skip_vlan_tags`].
#[derive(Debug, Clone)]
pub struct VlanTags<'a> {
    frame: &'a [u8],
    type_off: usize,
}

impl Iterator for VlanTags<'_> {
    type Item = VlanTag;

    fn next(&mut self) -> Option<VlanTag> {
        let off = self.type_off;
        if off + 2 + VLAN_TAG_LEN > self.frame.len() {
            return None;
        }
        let tpid = be16(self.frame, off);
        if !is_vlan_tpid(tpid) {
            return None;
        }
        self.type_off += VLAN_TAG_LEN;
        Some(VlanTag {
            tpid,
            tci: be16(self.frame, off + 2),
        })
    }
}

/// View of an Ethernet II frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetFrame<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buf` without checking its length; accessors panic if it is
    /// shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buf: T) -> Self {
        EthernetFrame { buf }
    }

    /// Wraps `buf` after checking it holds a full Ethernet header.
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        check_len(buf.as_ref(), HEADER_LEN, "ethernet header")?;
        Ok(EthernetFrame { buf })
    }

    pub fn into_inner(self) -> T {
        self.buf
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    pub fn dst(&self) -> MacAddr {
        MacAddr::from_slice(&self.buf.as_ref()[0..6])
    }

    pub fn src(&self) -> MacAddr {
        MacAddr::from_slice(&self.buf.as_ref()[6..12])
    }

    /// The EtherType field of the untagged header (a TPID if tagged).
    pub fn ethertype(&self) -> u16 {
        be16(self.buf.as_ref(), ETHERTYPE_OFFSET)
    }

    /// Everything after the 14-byte header (tags included, if any).
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[HEADER_LEN..]
    }

    /// The inline VLAN tags, outermost first.
    pub fn vlan_tags(&self) -> VlanTags<'_> {
        VlanTags {
            frame: self.buf.as_ref(),
            type_off: ETHERTYPE_OFFSET,
        }
    }

    /// Tag count, outer TCI, inner EtherType and L3 offset.
    pub fn l2_info(&self) -> L2Info {
        // new_checked/new_unchecked guarantee (or require) >= 14 bytes.
        skip_vlan_tags(self.buf.as_ref()).expect("ethernet frame shorter than its header")
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst(&mut self, mac: MacAddr) {
        self.buf.as_mut()[0..6].copy_from_slice(&mac.0);
    }

    pub fn set_src(&mut self, mac: MacAddr) {
        self.buf.as_mut()[6..12].copy_from_slice(&mac.0);
    }

    pub fn set_ethertype(&mut self, ty: u16) {
        put_be16(self.buf.as_mut(), ETHERTYPE_OFFSET, ty);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[HEADER_LEN..]
    }
}

/// Writes an Ethernet header, optionally with one 802.1Q tag carrying
/// `vlan_tci`, and returns the offset where the payload starts (14 or 18).
/// `buf` must be at least that long.
pub(crate) fn write_header(
    buf: &mut [u8],
    dst: MacAddr,
    src: MacAddr,
    vlan_tci: Option<u16>,
    ty: u16,
) -> usize {
    buf[0..6].copy_from_slice(&dst.0);
    buf[6..12].copy_from_slice(&src.0);
    match vlan_tci {
        Some(tci) => {
            put_be16(buf, 12, ethertype::VLAN);
            put_be16(buf, 14, tci);
            put_be16(buf, 16, ty);
            HEADER_LEN + VLAN_TAG_LEN
        }
        None => {
            put_be16(buf, 12, ty);
            HEADER_LEN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 18] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // dst
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // src
        0x08, 0x00, // IPv4
        0x45, 0x00, 0x00, 0x14,
    ];

    #[test]
    fn fields() {
        let f = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(f.dst(), MacAddr::new(0x00, 0x11, 0x22, 0x33, 0x44, 0x55));
        assert_eq!(f.src().to_string(), "66:77:88:99:aa:bb");
        assert_eq!(f.ethertype(), 0x0800);
        assert_eq!(f.payload(), &[0x45, 0x00, 0x00, 0x14]);
        assert_eq!(f.vlan_tags().count(), 0);
        assert_eq!(
            f.l2_info(),
            L2Info {
                tag_count: 0,
                outer_tci: None,
                ethertype: 0x0800,
                l3_offset: 14
            }
        );
    }

    #[test]
    fn short_frame_refused_naming_header() {
        let e = EthernetFrame::new_checked(&FRAME[..13]).unwrap_err();
        assert_eq!(
            e,
            WireError::Truncated {
                what: "ethernet header",
                need: 14,
                have: 13
            }
        );
        assert!(e.to_string().starts_with("ethernet header truncated"));
        assert!(skip_vlan_tags(&FRAME[..13]).is_none());
    }

    #[test]
    fn setters() {
        let mut buf = [0u8; 14];
        let mut f = EthernetFrame::new_checked(&mut buf[..]).unwrap();
        f.set_dst(MacAddr::BROADCAST);
        f.set_src(MacAddr::new(2, 0, 0, 0, 0, 1));
        f.set_ethertype(ethertype::ARP);
        assert_eq!(
            buf,
            [
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06
            ]
        );
    }

    #[test]
    fn skips_any_number_of_tags() {
        // dst/src, 88a8 TCI 0x2064, 8100 TCI 0x00c8, 9100 TCI 0x0005, 86dd.
        let mut f = [0u8; 12].to_vec();
        f.extend_from_slice(&[0x88, 0xa8, 0x20, 0x64, 0x81, 0x00, 0x00, 0xc8]);
        f.extend_from_slice(&[0x91, 0x00, 0x00, 0x05, 0x86, 0xdd, 0x60]);
        let info = skip_vlan_tags(&f).unwrap();
        assert_eq!(
            info,
            L2Info {
                tag_count: 3,
                outer_tci: Some(0x2064),
                ethertype: 0x86dd,
                l3_offset: 26
            }
        );
        let tags: Vec<_> = EthernetFrame::new_checked(&f[..])
            .unwrap()
            .vlan_tags()
            .collect();
        assert_eq!(tags.len(), 3);
        assert_eq!(
            tags[0],
            VlanTag {
                tpid: 0x88a8,
                tci: 0x2064
            }
        );
        assert_eq!(tags[0].vid(), 100);
        assert_eq!(tags[0].pcp(), 1);
        assert!(!tags[0].dei());
        assert_eq!(tags[2].tpid, 0x9100);
    }

    #[test]
    fn truncated_tag_stops_the_walk() {
        // 0x8100 with only the TCI present (16 bytes): not skipped.
        let mut f = [0u8; 12].to_vec();
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x64]);
        let info = skip_vlan_tags(&f).unwrap();
        assert_eq!(
            info,
            L2Info {
                tag_count: 0,
                outer_tci: None,
                ethertype: 0x8100,
                l3_offset: 14
            }
        );
        // With the inner EtherType present (18 bytes) the tag is skipped.
        f.extend_from_slice(&[0x08, 0x00]);
        let info = skip_vlan_tags(&f).unwrap();
        assert_eq!(info.ethertype, 0x0800);
        assert_eq!(info.l3_offset, 18);
    }

    #[test]
    fn mac_display_and_parse() {
        let m: MacAddr = "AA:bb:0c:0D:ee:f0".parse().unwrap();
        assert_eq!(m, MacAddr::new(0xaa, 0xbb, 0x0c, 0x0d, 0xee, 0xf0));
        assert_eq!(m.to_string(), "aa:bb:0c:0d:ee:f0");
        assert_eq!(format!("{m:?}"), "aa:bb:0c:0d:ee:f0");
        assert_eq!("aa-bb-0c-0d-ee-f0".parse::<MacAddr>().unwrap(), m);
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aa:bb:cc:dd:ee:fg",
            "aa-bb:cc:dd:ee:ff",
            "a:bb:cc:dd:ee:fff",
            "aabb.ccdd.eeff.",
        ] {
            assert_eq!(bad.parse::<MacAddr>(), Err(MacParseError), "{bad:?}");
        }
        assert!(MacAddr::BROADCAST.is_broadcast() && MacAddr::BROADCAST.is_multicast());
        assert!(MacAddr::ZERO.is_zero() && m.is_unicast() == (m.0[0] & 1 == 0));
        let all_nodes: core::net::Ipv6Addr = "ff02::1".parse().unwrap();
        assert_eq!(
            MacAddr::ipv6_multicast(&all_nodes).to_string(),
            "33:33:00:00:00:01"
        );
    }

    #[test]
    fn mac_parse_loose() {
        let m = MacAddr::new(0xaa, 0xbb, 0x0c, 0x0d, 0xee, 0xf0);
        for good in [
            "AA:bb:0c:0D:ee:f0",
            "aa-bb-0c-0d-ee-f0",
            // What FromStr refuses: mixed separators, `+` before one digit.
            "aa-bb:0c:0d-ee:f0",
            "aa:bb:+c:+d:ee:f0",
        ] {
            assert_eq!(MacAddr::parse_loose(good), Some(m), "{good:?}");
        }
        assert!("aa-bb:0c:0d-ee:f0".parse::<MacAddr>().is_err());
        assert!("aa:bb:+c:+d:ee:f0".parse::<MacAddr>().is_err());
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aa:bb:cc:dd:ee:fg",
            "a:bb:cc:dd:ee:fff",
            "aa:bb:cc:dd:ee:-f",
            "aabb.ccdd.eeff.",
            "aa:bb:cc:dd:ee:ff:",
        ] {
            assert_eq!(MacAddr::parse_loose(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn write_header_tagged_and_untagged() {
        let mut b = [0u8; 18];
        let src = MacAddr::new(2, 0, 0, 0, 0, 1);
        assert_eq!(
            write_header(&mut b, MacAddr::BROADCAST, src, None, 0x0806),
            14
        );
        assert_eq!(&b[12..14], &[0x08, 0x06]);
        assert_eq!(
            write_header(&mut b, MacAddr::BROADCAST, src, Some(0x0064), 0x0806),
            18
        );
        assert_eq!(&b[12..18], &[0x81, 0x00, 0x00, 0x64, 0x08, 0x06]);
    }
}
