//! The leading words of transport headers that flow hashing looks at.

use super::{WireError, be16, check_len, ip_proto};

/// Bytes of the port pair (TCP, UDP, SCTP, DCCP, UDP-Lite).
pub const PORTS_LEN: usize = 4;
/// Bytes of the ICMP/ICMPv6 header up to and including id and sequence.
pub const ICMP_HEADER_LEN: usize = 8;

/// Offset from the start of the L4 header of the 4 bytes the kernel uses as
/// "ports" for `ip_proto` (its `proto_ports_offset`): the port pair for TCP,
/// UDP, DCCP, SCTP and UDP-Lite, the SPI for ESP (offset 0) and AH
/// (offset 4). `None` for every other protocol.
pub const fn ports_offset(proto: u8) -> Option<usize> {
    match proto {
        ip_proto::TCP
        | ip_proto::UDP
        | ip_proto::DCCP
        | ip_proto::ESP
        | ip_proto::SCTP
        | ip_proto::UDPLITE => Some(0),
        ip_proto::AH => Some(4),
        _ => None,
    }
}

/// View of the first four bytes of a TCP, UDP, SCTP, DCCP or UDP-Lite
/// header: source and destination port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortHeader<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> PortHeader<T> {
    /// Wraps `buf` without validation.
    pub const fn new_unchecked(buf: T) -> Self {
        PortHeader { buf }
    }

    /// Wraps `buf` after checking the port pair is present.
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        check_len(buf.as_ref(), PORTS_LEN, "l4 ports")?;
        Ok(PortHeader { buf })
    }

    pub fn src_port(&self) -> u16 {
        be16(self.buf.as_ref(), 0)
    }

    pub fn dst_port(&self) -> u16 {
        be16(self.buf.as_ref(), 2)
    }

    /// The four bytes in wire order.
    pub fn raw(&self) -> [u8; 4] {
        let b = self.buf.as_ref();
        [b[0], b[1], b[2], b[3]]
    }

    /// The four bytes loaded as a little-endian u32: what the kernel's
    /// `__be32 ports` is as a number on an x86 host.
    pub fn raw_le(&self) -> u32 {
        u32::from_le_bytes(self.raw())
    }
}

/// View of the first eight bytes of an ICMP or ICMPv6 message: type, code,
/// checksum and, for echo-like messages, identifier and sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpHeader<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> IcmpHeader<T> {
    /// Wraps `buf` without validation.
    pub const fn new_unchecked(buf: T) -> Self {
        IcmpHeader { buf }
    }

    /// Wraps `buf` after checking all eight bytes are present.
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        check_len(buf.as_ref(), ICMP_HEADER_LEN, "icmp header")?;
        Ok(IcmpHeader { buf })
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

    /// Echo/timestamp identifier (bytes 4..6), host order.
    pub fn identifier(&self) -> u16 {
        be16(self.buf.as_ref(), 4)
    }

    /// Echo/timestamp sequence number (bytes 6..8), host order.
    pub fn sequence(&self) -> u16 {
        be16(self.buf.as_ref(), 6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        let b = [0x30, 0x39, 0x00, 0x50, 0xde, 0xad];
        let p = PortHeader::new_checked(&b[..]).unwrap();
        assert_eq!(p.src_port(), 12345);
        assert_eq!(p.dst_port(), 80);
        assert_eq!(p.raw(), [0x30, 0x39, 0x00, 0x50]);
        assert_eq!(p.raw_le(), 0x5000_3930);
        assert_eq!(
            PortHeader::new_checked(&b[..3]).unwrap_err(),
            WireError::Truncated {
                what: "l4 ports",
                need: 4,
                have: 3
            }
        );
    }

    #[test]
    fn icmp() {
        let b = [8u8, 0, 0xf7, 0xfd, 0x12, 0x34, 0x00, 0x01];
        let h = IcmpHeader::new_checked(&b[..]).unwrap();
        assert_eq!((h.msg_type(), h.code(), h.checksum()), (8, 0, 0xf7fd));
        assert_eq!((h.identifier(), h.sequence()), (0x1234, 1));
        assert_eq!(
            IcmpHeader::new_checked(&b[..7]).unwrap_err(),
            WireError::Truncated {
                what: "icmp header",
                need: 8,
                have: 7
            }
        );
    }

    #[test]
    fn port_offsets_follow_the_kernel() {
        for p in [6, 17, 33, 50, 132, 136] {
            assert_eq!(ports_offset(p), Some(0), "proto {p}");
        }
        assert_eq!(ports_offset(51), Some(4));
        for p in [0, 1, 4, 41, 47, 58, 115, 255] {
            assert_eq!(ports_offset(p), None, "proto {p}");
        }
    }
}
