//! ICMPv6 header view, the pseudo-header checksum and the unsolicited
//! Neighbour Advertisement builder.

use core::net::Ipv6Addr;

use super::ethernet::{self, MacAddr};
use super::ipv6::{self, Ipv6Packet};
use super::{WireError, be16, check_len, check_room, checksum, ethertype, ip_proto, put_be16};

/// Type, code, checksum.
pub const HEADER_LEN: usize = 4;
/// ICMPv6 type of a Neighbour Solicitation.
pub const NEIGHBOR_SOLICIT: u8 = 135;
/// ICMPv6 type of a Neighbour Advertisement.
pub const NEIGHBOR_ADVERT: u8 = 136;
/// NA body: header, flags + reserved, target address.
pub const NA_LEN: usize = 24;
/// Neighbour discovery option: target link-layer address.
pub const OPT_TARGET_LL_ADDR: u8 = 2;
/// NA flag: sender is a router.
pub const NA_ROUTER: u8 = 0x80;
/// NA flag: sent in response to a solicitation.
pub const NA_SOLICITED: u8 = 0x40;
/// NA flag: override existing cache entries.
pub const NA_OVERRIDE: u8 = 0x20;
/// Hop limit required on neighbour discovery messages.
pub const ND_HOP_LIMIT: u8 = 255;
/// ICMPv6 length of the unsolicited NA (24 + 8-byte TLLA option).
pub const UNSOL_NA_ICMP_LEN: usize = NA_LEN + 8;
/// Length of the untagged unsolicited NA frame (14 + 40 + 32).
pub const UNSOL_NA_FRAME_LEN: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN + UNSOL_NA_ICMP_LEN;
/// Link-local all-nodes group, the destination of unsolicited NAs.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// ICMPv6 checksum over the IPv6 pseudo-header (`src`, `dst`, upper-layer
/// length, next header 58) and `msg`. `msg` is summed as given: compute
/// with the checksum field zeroed to get the value to store; a message
/// carrying a correct checksum yields 0.
pub fn checksum(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> u16 {
    let mut acc = checksum::add(0, &src.octets());
    acc = checksum::add(acc, &dst.octets());
    acc = checksum::add(acc, &(msg.len() as u32).to_be_bytes());
    acc = checksum::add(acc, &[0, 0, 0, ip_proto::ICMPV6]);
    checksum::finish(checksum::add(acc, msg))
}

/// View of an ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Packet<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps `buf` without validation.
    pub const fn new_unchecked(buf: T) -> Self {
        Icmpv6Packet { buf }
    }

    /// Wraps `buf` after checking it holds the 4-byte header, and the
    /// 24-byte body when the type is a neighbour solicitation/advertisement.
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        check_len(buf.as_ref(), HEADER_LEN, "icmpv6 header")?;
        let p = Icmpv6Packet { buf };
        if matches!(p.msg_type(), NEIGHBOR_SOLICIT | NEIGHBOR_ADVERT) {
            check_len(p.buf.as_ref(), NA_LEN, "icmpv6 neighbour discovery body")?;
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buf
    }

    pub fn msg_type(&self) -> u8 {
        self.buf.as_ref()[0]
    }

    pub fn code(&self) -> u8 {
        self.buf.as_ref()[1]
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buf.as_ref(), 2)
    }

    /// True when the stored checksum is correct for the given addresses.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        checksum(src, dst, self.buf.as_ref()) == 0
    }

    /// NA/NS flag byte (R, S, O bits for an advertisement).
    pub fn nd_flags(&self) -> u8 {
        self.buf.as_ref()[4]
    }

    pub fn na_router(&self) -> bool {
        self.nd_flags() & NA_ROUTER != 0
    }

    pub fn na_solicited(&self) -> bool {
        self.nd_flags() & NA_SOLICITED != 0
    }

    pub fn na_override(&self) -> bool {
        self.nd_flags() & NA_OVERRIDE != 0
    }

    /// Target address of a neighbour solicitation/advertisement.
    pub fn nd_target(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buf.as_ref()[8..24]);
        Ipv6Addr::from(a)
    }

    /// Neighbour discovery options after the 24-byte body.
    pub fn nd_options(&self) -> &[u8] {
        &self.buf.as_ref()[NA_LEN..]
    }

    /// The link-layer address carried in the first target (type 2) or
    /// source (type 1) link-layer address option of type `opt_type`.
    pub fn nd_link_layer_option(&self, opt_type: u8) -> Option<MacAddr> {
        let mut opts = self.nd_options();
        while opts.len() >= 2 {
            let len = usize::from(opts[1]) * 8;
            if len == 0 || len > opts.len() {
                return None;
            }
            if opts[0] == opt_type && len >= 8 {
                return Some(MacAddr::from_slice(&opts[2..8]));
            }
            opts = &opts[len..];
        }
        None
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    pub fn set_msg_type(&mut self, t: u8) {
        self.buf.as_mut()[0] = t;
    }

    pub fn set_code(&mut self, c: u8) {
        self.buf.as_mut()[1] = c;
    }

    /// Computes and stores the checksum for the given addresses.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        put_be16(self.buf.as_mut(), 2, 0);
        let c = checksum(src, dst, self.buf.as_ref());
        put_be16(self.buf.as_mut(), 2, c);
    }
}

/// Builds the unsolicited Neighbour Advertisement Linux sends for `target`
/// after a failover (`ndisc_send_unsol_na`) into `buf` and returns its
/// length (86 bytes, 90 with `vlan_tci`).
///
/// Ethernet `33:33:00:00:00:01` <- `mac`; IPv6 `target` -> `ff02::1`, traffic
/// class and flow label 0, hop limit 255, next header 58; ICMPv6 type 136
/// code 0, flags Override only (Router and Solicited clear), target
/// `target`, one target link-layer address option (type 2, length 1) with
/// `mac`; checksum over the pseudo-header.
pub fn build_unsolicited_na(
    buf: &mut [u8],
    mac: MacAddr,
    target: &Ipv6Addr,
    vlan_tci: Option<u16>,
) -> Result<usize, WireError> {
    let tag_len = if vlan_tci.is_some() {
        ethernet::VLAN_TAG_LEN
    } else {
        0
    };
    let total = UNSOL_NA_FRAME_LEN + tag_len;
    check_room(buf, total, "unsolicited neighbour advertisement frame")?;
    let frame = &mut buf[..total];
    frame.fill(0);
    let dst_mac = MacAddr::ipv6_multicast(&ALL_NODES);
    let l3 = ethernet::write_header(frame, dst_mac, mac, vlan_tci, ethertype::IPV6);

    let (ip_hdr, icmp) = frame[l3..].split_at_mut(ipv6::HEADER_LEN);
    let mut ip = Ipv6Packet::new_unchecked(ip_hdr);
    ip.set_version_tc_flow(0, 0);
    ip.set_payload_len(UNSOL_NA_ICMP_LEN as u16);
    ip.set_next_header(ip_proto::ICMPV6);
    ip.set_hop_limit(ND_HOP_LIMIT);
    ip.set_src(target);
    ip.set_dst(&ALL_NODES);

    icmp[0] = NEIGHBOR_ADVERT;
    icmp[1] = 0;
    icmp[4] = NA_OVERRIDE;
    icmp[8..24].copy_from_slice(&target.octets());
    icmp[24] = OPT_TARGET_LL_ADDR;
    icmp[25] = 1; // length in units of 8 bytes
    icmp[26..32].copy_from_slice(&mac.0);
    Icmpv6Packet::new_unchecked(icmp).fill_checksum(target, &ALL_NODES);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr::new(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

    fn target() -> Ipv6Addr {
        "2001:db8::10".parse().unwrap()
    }

    /// The 86-byte frame laid out by hand.
    ///
    /// Checksum arithmetic (16-bit one's complement sum of big-endian words):
    /// pseudo-header src 2001:0db8:0:0:0:0:0:0010 -> 0x2001+0x0db8+0x0010
    /// = 0x2dc9; dst ff02::1 -> 0xff02+0x0001 = 0xff03; length 0x0020;
    /// next header 0x003a. ICMPv6: 0x8800 (type 136, code 0), 0x2000
    /// (flags O), target again 0x2dc9, option 0x0201, MAC 0x5254+0x0012
    /// +0x3456 = 0x86bc. Running total: 0x2dc9+0xff03 = 0x12ccc, +0x0020 =
    /// 0x12cec, +0x003a = 0x12d26, +0x8800 = 0x1b526, +0x2000 = 0x1d526,
    /// +0x2dc9 = 0x202ef, +0x0201 = 0x204f0, +0x86bc = 0x28bac -> fold
    /// 0x8bac+0x2 = 0x8bae -> checksum !0x8bae = 0x7451.
    fn expected() -> [u8; 86] {
        let mut f = [0u8; 86];
        let eth: [u8; 14] = [
            0x33, 0x33, 0x00, 0x00, 0x00, 0x01, // all-nodes multicast MAC
            0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // our MAC
            0x86, 0xdd,
        ];
        let ip6: [u8; 8] = [
            0x60, 0x00, 0x00, 0x00, // version 6, tc 0, flow 0
            0x00, 0x20, // payload length 32
            0x3a, // ICMPv6
            0xff, // hop limit 255
        ];
        let tgt = [
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let all_nodes = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];
        let icmp_head: [u8; 8] = [
            0x88, 0x00, // type 136, code 0
            0x74, 0x51, // checksum (see above)
            0x20, 0x00, 0x00, 0x00, // R=0 S=0 O=1, reserved
        ];
        let opt: [u8; 8] = [0x02, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        f[0..14].copy_from_slice(&eth);
        f[14..22].copy_from_slice(&ip6);
        f[22..38].copy_from_slice(&tgt);
        f[38..54].copy_from_slice(&all_nodes);
        f[54..62].copy_from_slice(&icmp_head);
        f[62..78].copy_from_slice(&tgt);
        f[78..86].copy_from_slice(&opt);
        f
    }

    #[test]
    fn unsolicited_na_byte_exact() {
        let mut buf = [0xaau8; 90];
        let n = build_unsolicited_na(&mut buf, MAC, &target(), None).unwrap();
        assert_eq!(n, 86);
        assert_eq!(buf[..86], expected());
        assert_eq!(buf[86..], [0xaa; 4]);
    }

    #[test]
    fn unsolicited_na_checksum_and_fields() {
        let mut buf = [0u8; 86];
        build_unsolicited_na(&mut buf, MAC, &target(), None).unwrap();
        let ip = Ipv6Packet::new_checked(&buf[14..]).unwrap();
        assert_eq!(ip.hop_limit(), 255);
        assert_eq!(ip.src(), target());
        assert_eq!(ip.dst(), ALL_NODES);
        let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum(&ip.src(), &ip.dst()));
        assert_eq!(icmp.checksum(), 0x7451);
        assert_eq!(icmp.msg_type(), NEIGHBOR_ADVERT);
        assert!(icmp.na_override() && !icmp.na_solicited() && !icmp.na_router());
        assert_eq!(icmp.nd_target(), target());
        assert_eq!(icmp.nd_link_layer_option(OPT_TARGET_LL_ADDR), Some(MAC));
        assert_eq!(icmp.nd_link_layer_option(1), None);
        // A flipped bit breaks the checksum.
        let mut bad = buf;
        bad[70] ^= 0x01;
        let ip = Ipv6Packet::new_checked(&bad[14..]).unwrap();
        assert!(
            !Icmpv6Packet::new_checked(ip.payload())
                .unwrap()
                .verify_checksum(&ip.src(), &ip.dst())
        );
    }

    #[test]
    fn unsolicited_na_tagged() {
        let mut buf = [0u8; 90];
        let n = build_unsolicited_na(&mut buf, MAC, &target(), Some(0x0064)).unwrap();
        assert_eq!(n, 90);
        let want = expected();
        assert_eq!(buf[..12], want[..12]);
        assert_eq!(buf[12..16], [0x81, 0x00, 0x00, 0x64]);
        assert_eq!(buf[16..], want[12..]);
    }

    #[test]
    fn refuses_small_buffers() {
        let mut buf = [0u8; 89];
        assert_eq!(
            build_unsolicited_na(&mut buf, MAC, &target(), Some(1)).unwrap_err(),
            WireError::NoRoom {
                what: "unsolicited neighbour advertisement frame",
                need: 90,
                have: 89
            }
        );
        assert_eq!(
            Icmpv6Packet::new_checked(&[136u8, 0, 0][..]).unwrap_err(),
            WireError::Truncated {
                what: "icmpv6 header",
                need: 4,
                have: 3
            }
        );
        assert_eq!(
            Icmpv6Packet::new_checked(&[136u8, 0, 0, 0, 0, 0][..]).unwrap_err(),
            WireError::Truncated {
                what: "icmpv6 neighbour discovery body",
                need: 24,
                have: 6
            }
        );
        // Echo request needs only the 4-byte header.
        assert!(Icmpv6Packet::new_checked(&[128u8, 0, 0, 0][..]).is_ok());
    }
}
