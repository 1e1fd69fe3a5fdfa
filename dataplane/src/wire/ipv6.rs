//! IPv6 fixed header view.

use core::net::Ipv6Addr;

use super::{WireError, be16, check_len, put_be16};

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// View of an IPv6 fixed header (and what follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps `buf` without validation; accessors panic if it is shorter
    /// than 40 bytes.
    pub const fn new_unchecked(buf: T) -> Self {
        Ipv6Packet { buf }
    }

    /// Wraps `buf` after checking it holds 40 bytes and version 6.
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        check_len(buf.as_ref(), HEADER_LEN, "ipv6 header")?;
        let p = Ipv6Packet { buf };
        if p.version() != 6 {
            return Err(WireError::Malformed {
                what: "ipv6 header",
                reason: "version is not 6",
            });
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buf
    }

    fn word0(&self) -> u32 {
        let b = self.buf.as_ref();
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn version(&self) -> u8 {
        self.buf.as_ref()[field::VER_TC_FLOW] >> 4
    }

    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }

    pub fn payload_len(&self) -> u16 {
        be16(self.buf.as_ref(), field::PAYLOAD_LEN)
    }

    pub fn next_header(&self) -> u8 {
        self.buf.as_ref()[field::NEXT_HEADER]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buf.as_ref()[field::HOP_LIMIT]
    }

    /// Source address octets in wire order.
    pub fn src_bytes(&self) -> [u8; 16] {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buf.as_ref()[field::SRC..field::SRC + 16]);
        a
    }

    /// Destination address octets in wire order.
    pub fn dst_bytes(&self) -> [u8; 16] {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buf.as_ref()[field::DST..field::DST + 16]);
        a
    }

    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.src_bytes())
    }

    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.dst_bytes())
    }

    /// Bytes after the fixed header, limited by `payload_len` when that fits.
    pub fn payload(&self) -> &[u8] {
        let b = self.buf.as_ref();
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(b.len());
        &b[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Sets version 6, the traffic class and the flow label in one go.
    pub fn set_version_tc_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let w = (6u32 << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        self.buf.as_mut()[0..4].copy_from_slice(&w.to_be_bytes());
    }

    pub fn set_payload_len(&mut self, len: u16) {
        put_be16(self.buf.as_mut(), field::PAYLOAD_LEN, len);
    }

    pub fn set_next_header(&mut self, nh: u8) {
        self.buf.as_mut()[field::NEXT_HEADER] = nh;
    }

    pub fn set_hop_limit(&mut self, hl: u8) {
        self.buf.as_mut()[field::HOP_LIMIT] = hl;
    }

    pub fn set_src(&mut self, a: &Ipv6Addr) {
        self.buf.as_mut()[field::SRC..field::SRC + 16].copy_from_slice(&a.octets());
    }

    pub fn set_dst(&mut self, a: &Ipv6Addr) {
        self.buf.as_mut()[field::DST..field::DST + 16].copy_from_slice(&a.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> [u8; 44] {
        let mut b = [0u8; 44];
        // version 6, traffic class 0xb8, flow label 0x12345
        b[0..4].copy_from_slice(&[0x6b, 0x81, 0x23, 0x45]);
        b[4..6].copy_from_slice(&[0x00, 0x04]); // payload length 4
        b[6] = 17; // UDP
        b[7] = 64;
        b[8..24].copy_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        b[24..40].copy_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        b[40..44].copy_from_slice(&[1, 2, 3, 4]);
        b
    }

    #[test]
    fn fields() {
        let b = sample();
        let p = Ipv6Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb8);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 4);
        assert_eq!(p.next_header(), 17);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src(), "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst(), "2001:db8::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
    }

    #[test]
    fn refuses_short_or_wrong_version() {
        let b = sample();
        assert_eq!(
            Ipv6Packet::new_checked(&b[..39]).unwrap_err(),
            WireError::Truncated {
                what: "ipv6 header",
                need: 40,
                have: 39
            }
        );
        let mut b = sample();
        b[0] = 0x4b;
        assert!(matches!(
            Ipv6Packet::new_checked(&b[..]),
            Err(WireError::Malformed {
                what: "ipv6 header",
                ..
            })
        ));
    }

    #[test]
    fn setters_round_trip() {
        let want = sample();
        let mut b = [0u8; 44];
        b[40..44].copy_from_slice(&[1, 2, 3, 4]);
        let mut p = Ipv6Packet::new_unchecked(&mut b[..]);
        p.set_version_tc_flow(0xb8, 0x12345);
        p.set_payload_len(4);
        p.set_next_header(17);
        p.set_hop_limit(64);
        p.set_src(&"2001:db8::1".parse().unwrap());
        p.set_dst(&"2001:db8::2".parse().unwrap());
        assert_eq!(b, want);
    }
}
