//! ARP for Ethernet / IPv4 and the gratuitous ARP builder.

use core::net::Ipv4Addr;

use super::ethernet::{self, MacAddr};
use super::{WireError, be16, check_len, check_room, ethertype, put_be16};

/// Fixed ARP header (htype, ptype, hlen, plen, op).
pub const HEADER_LEN: usize = 8;
/// Full Ethernet/IPv4 ARP packet.
pub const ETH_IPV4_LEN: usize = 28;
/// ARP hardware type for Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;

/// Length of a gratuitous ARP frame as sent on the wire: 14 + 28 bytes
/// (18 + 28 when tagged) zero-padded to the 60-byte Ethernet minimum, as a
/// Linux NIC driver pads the 42-byte frame `arp_create` builds.
pub const GARP_FRAME_LEN: usize = ethernet::MIN_FRAME_LEN;

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OP: usize = 6;
    pub const SHA: usize = 8;
    pub const SPA: usize = 14;
    pub const THA: usize = 18;
    pub const TPA: usize = 24;
}

/// ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum ArpOp {
    Request = 1,
    Reply = 2,
}

/// View of an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buf` without validation; accessors panic if it is shorter
    /// than 28 bytes.
    pub const fn new_unchecked(buf: T) -> Self {
        ArpPacket { buf }
    }

    /// Wraps `buf` after checking it is a complete Ethernet/IPv4 ARP packet
    /// (htype 1, ptype 0x0800, hlen 6, plen 4, 28 bytes).
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        let b = buf.as_ref();
        check_len(b, HEADER_LEN, "arp header")?;
        let p = ArpPacket { buf };
        let malformed = |reason| WireError::Malformed {
            what: "arp header",
            reason,
        };
        if p.htype() != HTYPE_ETHERNET {
            return Err(malformed("hardware type is not Ethernet"));
        }
        if p.ptype() != ethertype::IPV4 {
            return Err(malformed("protocol type is not IPv4"));
        }
        if p.hlen() != 6 || p.plen() != 4 {
            return Err(malformed("address lengths are not 6/4"));
        }
        check_len(p.buf.as_ref(), ETH_IPV4_LEN, "arp ethernet/ipv4 body")?;
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buf
    }

    pub fn htype(&self) -> u16 {
        be16(self.buf.as_ref(), field::HTYPE)
    }

    pub fn ptype(&self) -> u16 {
        be16(self.buf.as_ref(), field::PTYPE)
    }

    pub fn hlen(&self) -> u8 {
        self.buf.as_ref()[field::HLEN]
    }

    pub fn plen(&self) -> u8 {
        self.buf.as_ref()[field::PLEN]
    }

    /// Raw operation code.
    pub fn op_raw(&self) -> u16 {
        be16(self.buf.as_ref(), field::OP)
    }

    /// Operation, if it is a request or a reply.
    pub fn op(&self) -> Option<ArpOp> {
        match self.op_raw() {
            1 => Some(ArpOp::Request),
            2 => Some(ArpOp::Reply),
            _ => None,
        }
    }

    /// Sender hardware address.
    pub fn sha(&self) -> MacAddr {
        MacAddr::from_slice(&self.buf.as_ref()[field::SHA..])
    }

    /// Sender protocol address.
    pub fn spa(&self) -> Ipv4Addr {
        ip_at(self.buf.as_ref(), field::SPA)
    }

    /// Target hardware address.
    pub fn tha(&self) -> MacAddr {
        MacAddr::from_slice(&self.buf.as_ref()[field::THA..])
    }

    /// Target protocol address.
    pub fn tpa(&self) -> Ipv4Addr {
        ip_at(self.buf.as_ref(), field::TPA)
    }

    /// Gratuitous: sender and target protocol addresses are equal.
    pub fn is_gratuitous(&self) -> bool {
        self.spa() == self.tpa()
    }
}

fn ip_at(b: &[u8], off: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[off], b[off + 1], b[off + 2], b[off + 3])
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Writes htype 1, ptype IPv4, hlen 6, plen 4 and `op`.
    pub fn set_eth_ipv4_header(&mut self, op: ArpOp) {
        let b = self.buf.as_mut();
        put_be16(b, field::HTYPE, HTYPE_ETHERNET);
        put_be16(b, field::PTYPE, ethertype::IPV4);
        b[field::HLEN] = 6;
        b[field::PLEN] = 4;
        put_be16(b, field::OP, op as u16);
    }

    pub fn set_sha(&mut self, m: MacAddr) {
        self.buf.as_mut()[field::SHA..field::SHA + 6].copy_from_slice(&m.0);
    }

    pub fn set_spa(&mut self, a: Ipv4Addr) {
        self.buf.as_mut()[field::SPA..field::SPA + 4].copy_from_slice(&a.octets());
    }

    pub fn set_tha(&mut self, m: MacAddr) {
        self.buf.as_mut()[field::THA..field::THA + 6].copy_from_slice(&m.0);
    }

    pub fn set_tpa(&mut self, a: Ipv4Addr) {
        self.buf.as_mut()[field::TPA..field::TPA + 4].copy_from_slice(&a.octets());
    }
}

/// Builds a gratuitous ARP frame announcing `ip` at `mac` into `buf` and
/// returns its length ([`GARP_FRAME_LEN`]).
///
/// The frame matches what Linux sends for a peer notification
/// (`arp_send(ARPOP_REQUEST, ETH_P_ARP, ip, dev, ip, NULL, dev_addr, NULL)`):
/// Ethernet destination broadcast, source `mac`; ARP sender = `mac`/`ip`,
/// target protocol address = `ip`, target hardware address all zeros for
/// [`ArpOp::Request`]. For [`ArpOp::Reply`] (which Linux itself does not
/// send on failover) the target hardware address is `mac`, as `arping -A`
/// does. With `vlan_tci` an 802.1Q tag is inserted after the source MAC.
/// The rest of the 60 bytes is zero padding.
pub fn build_gratuitous_arp(
    buf: &mut [u8],
    mac: MacAddr,
    ip: Ipv4Addr,
    op: ArpOp,
    vlan_tci: Option<u16>,
) -> Result<usize, WireError> {
    check_room(buf, GARP_FRAME_LEN, "gratuitous arp frame")?;
    let frame = &mut buf[..GARP_FRAME_LEN];
    frame.fill(0);
    let off = ethernet::write_header(frame, MacAddr::BROADCAST, mac, vlan_tci, ethertype::ARP);
    let mut arp = ArpPacket::new_unchecked(&mut frame[off..off + ETH_IPV4_LEN]);
    arp.set_eth_ipv4_header(op);
    arp.set_sha(mac);
    arp.set_spa(ip);
    arp.set_tha(match op {
        ArpOp::Request => MacAddr::ZERO,
        ArpOp::Reply => mac,
    });
    arp.set_tpa(ip);
    Ok(GARP_FRAME_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr::new(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
    const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

    /// The request Linux emits, laid out by hand.
    fn expected_request() -> [u8; 60] {
        let mut f = [0u8; 60];
        let hand: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // dst: broadcast
            0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // src: our MAC
            0x08, 0x06, // ethertype ARP
            0x00, 0x01, // htype Ethernet
            0x08, 0x00, // ptype IPv4
            0x06, 0x04, // hlen, plen
            0x00, 0x01, // op request
            0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // sha
            192, 0, 2, 10, // spa
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // tha: zero
            192, 0, 2, 10, // tpa = spa
        ];
        f[..42].copy_from_slice(&hand);
        f
    }

    #[test]
    fn garp_request_byte_exact() {
        let mut buf = [0xaau8; 64];
        let n = build_gratuitous_arp(&mut buf, MAC, IP, ArpOp::Request, None).unwrap();
        assert_eq!(n, 60);
        assert_eq!(buf[..60], expected_request());
        assert_eq!(buf[60..], [0xaa; 4], "must not write past the frame");
    }

    #[test]
    fn garp_reply_and_tagged() {
        let mut buf = [0u8; 60];
        build_gratuitous_arp(&mut buf, MAC, IP, ArpOp::Reply, None).unwrap();
        let mut want = expected_request();
        want[21] = 0x02; // op reply
        want[32..38].copy_from_slice(&MAC.0); // tha = our MAC
        assert_eq!(buf, want);

        build_gratuitous_arp(&mut buf, MAC, IP, ArpOp::Request, Some(0x2064)).unwrap();
        let mut want = [0u8; 60];
        let req = expected_request();
        want[..12].copy_from_slice(&req[..12]);
        want[12..16].copy_from_slice(&[0x81, 0x00, 0x20, 0x64]); // 802.1Q, PCP 1, VID 100
        want[16..46].copy_from_slice(&req[12..42]);
        assert_eq!(buf, want);
    }

    #[test]
    fn garp_parses_back() {
        let mut buf = [0u8; 60];
        build_gratuitous_arp(&mut buf, MAC, IP, ArpOp::Request, None).unwrap();
        let p = ArpPacket::new_checked(&buf[14..]).unwrap();
        assert_eq!(p.op(), Some(ArpOp::Request));
        assert_eq!(p.sha(), MAC);
        assert_eq!(p.spa(), IP);
        assert_eq!(p.tha(), MacAddr::ZERO);
        assert_eq!(p.tpa(), IP);
        assert!(p.is_gratuitous());
    }

    #[test]
    fn builder_refuses_small_buffer() {
        let mut buf = [0u8; 59];
        assert_eq!(
            build_gratuitous_arp(&mut buf, MAC, IP, ArpOp::Request, None).unwrap_err(),
            WireError::NoRoom {
                what: "gratuitous arp frame",
                need: 60,
                have: 59
            }
        );
    }

    #[test]
    fn view_refuses_bad_input() {
        let f = expected_request();
        assert_eq!(
            ArpPacket::new_checked(&f[14..20]).unwrap_err(),
            WireError::Truncated {
                what: "arp header",
                need: 8,
                have: 6
            }
        );
        assert_eq!(
            ArpPacket::new_checked(&f[14..40]).unwrap_err(),
            WireError::Truncated {
                what: "arp ethernet/ipv4 body",
                need: 28,
                have: 26
            }
        );
        let mut g = f;
        g[17] = 0xdd; // ptype 0x08dd
        assert!(matches!(
            ArpPacket::new_checked(&g[14..]),
            Err(WireError::Malformed {
                what: "arp header",
                reason: "protocol type is not IPv4"
            })
        ));
        let mut g = f;
        g[20] = 0;
        g[21] = 9;
        assert_eq!(ArpPacket::new_checked(&g[14..]).unwrap().op(), None);
    }
}
