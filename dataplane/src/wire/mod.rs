//! Typed, zero-copy views of the wire formats the bonding data plane reads
//! and writes.
//!
//! The design follows smoltcp's `wire` module: every header type is a thin
//! wrapper around a byte buffer (`T: AsRef<[u8]>`, with setters when the
//! buffer is also `AsMut<[u8]>`), built either with `new_unchecked` (the
//! caller vouches for the length; accessors panic on a short buffer) or with
//! `new_checked`, which validates the length once so the accessors can never
//! panic. Nothing here allocates.
//!
//! Builders for the frames bondd originates itself (gratuitous ARP,
//! unsolicited neighbour advertisement) fill a caller-provided buffer and
//! return the number of bytes written.

pub mod arp;
pub mod ethernet;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod l4;

pub use arp::{ArpOp, ArpPacket};
pub use ethernet::{EthernetFrame, L2Info, MacAddr, VlanTag};
pub use icmpv6::Icmpv6Packet;
pub use ipv4::Ipv4Packet;
pub use ipv6::Ipv6Packet;
pub use l4::{IcmpHeader, PortHeader};

/// Why a buffer could not be viewed as (or written into) a wire format.
///
/// `what` always names the header or field that did not fit or did not
/// validate, e.g. `"ipv4 header"` or `"arp ethernet/ipv4 body"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ends before `what` is complete.
    #[error("{what} truncated: need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// A field of `what` holds a value this view does not accept.
    #[error("malformed {what}: {reason}")]
    Malformed {
        what: &'static str,
        reason: &'static str,
    },
    /// An output buffer handed to a builder is too small for `what`.
    #[error("output buffer too small for {what}: need {need} bytes, have {have}")]
    NoRoom {
        what: &'static str,
        need: usize,
        have: usize,
    },
}

/// Fails with [`WireError::Truncated`] unless `buf` holds at least `need` bytes.
#[inline]
pub(crate) fn check_len(buf: &[u8], need: usize, what: &'static str) -> Result<(), WireError> {
    if buf.len() < need {
        Err(WireError::Truncated {
            what,
            need,
            have: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// Fails with [`WireError::NoRoom`] unless `buf` can hold `need` bytes.
#[inline]
pub(crate) fn check_room(buf: &[u8], need: usize, what: &'static str) -> Result<(), WireError> {
    if buf.len() < need {
        Err(WireError::NoRoom {
            what,
            need,
            have: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// Big-endian u16 at `off`. Panics if out of bounds (callers check first).
#[inline]
pub(crate) fn be16(buf: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([buf[off], buf[off + 1]])
}

/// Writes a big-endian u16 at `off`. Panics if out of bounds.
#[inline]
pub(crate) fn put_be16(buf: &mut [u8], off: usize, v: u16) {
    buf[off..off + 2].copy_from_slice(&v.to_be_bytes());
}

/// EtherType values (host order).
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const BATMAN: u16 = 0x4305;
    /// Transparent Ethernet bridging (Ethernet inside GRE).
    pub const TEB: u16 = 0x6558;
    pub const RARP: u16 = 0x8035;
    /// IEEE 802.1Q customer tag.
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
    /// IEEE 802.3ad slow protocols (LACP, marker).
    pub const SLOW: u16 = 0x8809;
    pub const PPP: u16 = 0x880b;
    pub const MPLS_UC: u16 = 0x8847;
    pub const MPLS_MC: u16 = 0x8848;
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// IEEE 802.1ad service tag.
    pub const QINQ: u16 = 0x88a8;
    pub const TIPC: u16 = 0x88ca;
    /// IEEE 1588 (PTP over Ethernet).
    pub const PTP: u16 = 0x88f7;
    pub const PRP: u16 = 0x88fb;
    pub const CFM: u16 = 0x8902;
    pub const FCOE: u16 = 0x8906;
    pub const HSR: u16 = 0x892f;
    /// Pre-standard QinQ service tag still used by some switches.
    pub const QINQ_9100: u16 = 0x9100;
}

/// IP protocol / IPv6 next-header numbers.
pub mod ip_proto {
    pub const HOPOPTS: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const DCCP: u8 = 33;
    pub const IPV6: u8 = 41;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const DSTOPTS: u8 = 60;
    pub const L2TP: u8 = 115;
    pub const SCTP: u8 = 132;
    pub const UDPLITE: u8 = 136;
    pub const MPLS: u8 = 137;
}

/// RFC 1071 Internet checksum helpers.
pub mod checksum {
    /// Adds `data` as a sequence of big-endian 16-bit words to `acc`
    /// (an odd trailing byte is padded with zero). The result is unfolded.
    pub fn add(mut acc: u32, data: &[u8]) -> u32 {
        let mut chunks = data.chunks_exact(2);
        for w in &mut chunks {
            acc = acc.wrapping_add(u32::from(u16::from_be_bytes([w[0], w[1]])));
            // Fold early so the accumulator can never overflow.
            acc = (acc & 0xffff) + (acc >> 16);
        }
        if let [last] = chunks.remainder() {
            acc = acc.wrapping_add(u32::from(*last) << 8);
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc
    }

    /// Folds the carries of `acc` and returns the one's complement.
    pub fn finish(mut acc: u32) -> u16 {
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        !(acc as u16)
    }

    /// Checksum of `data` alone.
    pub fn of(data: &[u8]) -> u16 {
        finish(add(0, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_rfc1071_example() {
        // RFC 1071 section 3 example words: 0001 f203 f4f5 f6f7.
        // Sum = 0x0001 + 0xf203 + 0xf4f5 + 0xf6f7 = 0x2ddf0 -> fold 0xddf2,
        // complement 0x220d.
        assert_eq!(
            checksum::of(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
    }

    #[test]
    fn checksum_odd_length_pads_with_zero() {
        // [0x12, 0x34, 0x56] == words 0x1234 + 0x5600 = 0x6834 -> !0x6834.
        assert_eq!(checksum::of(&[0x12, 0x34, 0x56]), !0x6834u16);
    }

    #[test]
    fn error_messages_name_the_short_part() {
        let e = check_len(&[0u8; 3], 14, "ethernet header").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ethernet header truncated: need 14 bytes, have 3"
        );
        let e = check_room(&[0u8; 3], 60, "gratuitous arp frame").unwrap_err();
        assert!(e.to_string().contains("gratuitous arp frame"));
    }
}
