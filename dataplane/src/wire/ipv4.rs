//! IPv4 header view.

use core::net::Ipv4Addr;

use super::{WireError, be16, check_len, checksum, put_be16};

/// Length of an IPv4 header without options.
pub const MIN_HEADER_LEN: usize = 20;

/// "More fragments" bit of the flags/fragment-offset word.
pub const FLAG_MF: u16 = 0x2000;
/// "Don't fragment" bit.
pub const FLAG_DF: u16 = 0x4000;
/// Fragment offset mask (in 8-byte units).
pub const OFFSET_MASK: u16 = 0x1fff;

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const TOTAL_LEN: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

/// View of an IPv4 header (and what follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buf` without validation; the fixed-field accessors panic if it
    /// is shorter than 20 bytes.
    pub const fn new_unchecked(buf: T) -> Self {
        Ipv4Packet { buf }
    }

    /// Wraps `buf` after checking: at least 20 bytes, version 4, IHL >= 5 and
    /// the options announced by IHL present.
    pub fn new_checked(buf: T) -> Result<Self, WireError> {
        let b = buf.as_ref();
        check_len(b, MIN_HEADER_LEN, "ipv4 header")?;
        let p = Ipv4Packet { buf };
        if p.version() != 4 {
            return Err(WireError::Malformed {
                what: "ipv4 header",
                reason: "version is not 4",
            });
        }
        if p.ihl() < 5 {
            return Err(WireError::Malformed {
                what: "ipv4 header",
                reason: "IHL below 5",
            });
        }
        check_len(p.buf.as_ref(), p.header_len(), "ipv4 options")?;
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buf
    }

    pub fn version(&self) -> u8 {
        self.buf.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in 32-bit words, as carried (not validated).
    pub fn ihl(&self) -> u8 {
        self.buf.as_ref()[field::VER_IHL] & 0x0f
    }

    /// Header length in bytes (`ihl * 4`).
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    pub fn dscp(&self) -> u8 {
        self.buf.as_ref()[field::TOS] >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.buf.as_ref()[field::TOS] & 0x03
    }

    pub fn total_len(&self) -> u16 {
        be16(self.buf.as_ref(), field::TOTAL_LEN)
    }

    pub fn ident(&self) -> u16 {
        be16(self.buf.as_ref(), field::IDENT)
    }

    fn flags_frag(&self) -> u16 {
        be16(self.buf.as_ref(), field::FLAGS_FRAG)
    }

    pub fn dont_frag(&self) -> bool {
        self.flags_frag() & FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        self.flags_frag() & FLAG_MF != 0
    }

    /// Fragment offset in 8-byte units.
    pub fn frag_offset(&self) -> u16 {
        self.flags_frag() & OFFSET_MASK
    }

    /// True when this is any fragment (MF set or a nonzero offset), the
    /// same test as the kernel's `ip_is_fragment`.
    pub fn is_fragment(&self) -> bool {
        self.flags_frag() & (FLAG_MF | OFFSET_MASK) != 0
    }

    pub fn ttl(&self) -> u8 {
        self.buf.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> u8 {
        self.buf.as_ref()[field::PROTOCOL]
    }

    pub fn checksum(&self) -> u16 {
        be16(self.buf.as_ref(), field::CHECKSUM)
    }

    /// Source address octets in wire order.
    pub fn src_bytes(&self) -> [u8; 4] {
        let b = self.buf.as_ref();
        [
            b[field::SRC],
            b[field::SRC + 1],
            b[field::SRC + 2],
            b[field::SRC + 3],
        ]
    }

    /// Destination address octets in wire order.
    pub fn dst_bytes(&self) -> [u8; 4] {
        let b = self.buf.as_ref();
        [
            b[field::DST],
            b[field::DST + 1],
            b[field::DST + 2],
            b[field::DST + 3],
        ]
    }

    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.src_bytes())
    }

    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.dst_bytes())
    }

    /// The header bytes (options included). Panics unless the buffer holds
    /// `header_len()` bytes (guaranteed by `new_checked`).
    pub fn header(&self) -> &[u8] {
        &self.buf.as_ref()[..self.header_len()]
    }

    /// Bytes after the header, limited by `total_len` when that fits in the
    /// buffer (Ethernet padding is thus excluded).
    pub fn payload(&self) -> &[u8] {
        let b = self.buf.as_ref();
        let start = self.header_len();
        let end = usize::from(self.total_len()).clamp(start, b.len());
        &b[start..end]
    }

    /// The header checksum this header should carry (computed with the
    /// checksum field taken as zero).
    pub fn compute_checksum(&self) -> u16 {
        let h = self.header();
        let acc = checksum::add(0, &h[..field::CHECKSUM]);
        checksum::finish(checksum::add(acc, &h[field::CHECKSUM + 2..]))
    }

    /// True when the header checksum is correct.
    pub fn verify_checksum(&self) -> bool {
        checksum::of(self.header()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets version 4 and the IHL (in 32-bit words).
    pub fn set_version_ihl(&mut self, ihl: u8) {
        self.buf.as_mut()[field::VER_IHL] = 0x40 | (ihl & 0x0f);
    }

    pub fn set_tos(&mut self, tos: u8) {
        self.buf.as_mut()[field::TOS] = tos;
    }

    pub fn set_total_len(&mut self, len: u16) {
        put_be16(self.buf.as_mut(), field::TOTAL_LEN, len);
    }

    pub fn set_ident(&mut self, id: u16) {
        put_be16(self.buf.as_mut(), field::IDENT, id);
    }

    /// Sets the whole flags + fragment offset word.
    pub fn set_flags_frag(&mut self, v: u16) {
        put_be16(self.buf.as_mut(), field::FLAGS_FRAG, v);
    }

    pub fn set_ttl(&mut self, ttl: u8) {
        self.buf.as_mut()[field::TTL] = ttl;
    }

    pub fn set_protocol(&mut self, p: u8) {
        self.buf.as_mut()[field::PROTOCOL] = p;
    }

    pub fn set_src(&mut self, a: Ipv4Addr) {
        self.buf.as_mut()[field::SRC..field::SRC + 4].copy_from_slice(&a.octets());
    }

    pub fn set_dst(&mut self, a: Ipv4Addr) {
        self.buf.as_mut()[field::DST..field::DST + 4].copy_from_slice(&a.octets());
    }

    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        let c = self.compute_checksum();
        put_be16(self.buf.as_mut(), field::CHECKSUM, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A classic example header: 192.168.0.1 -> 192.168.0.199, UDP, TTL 64,
    // total length 0x0073, ident 0, DF set. Its checksum is 0xb861
    // (widely used worked example: the sum of the other words is 0x479e,
    // and !0x479e = 0xb861).
    const HDR: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    #[test]
    fn fields() {
        let p = Ipv4Packet::new_checked(&HDR[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.ihl(), 5);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 0x73);
        assert!(p.dont_frag() && !p.more_frags() && !p.is_fragment());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), 17);
        assert_eq!(p.src(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(p.dst(), Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(p.checksum(), 0xb861);
        assert_eq!(p.compute_checksum(), 0xb861);
        assert!(p.verify_checksum());
        assert!(p.payload().is_empty());
    }

    #[test]
    fn bad_checksum_detected_and_refilled() {
        let mut h = HDR;
        h[10] = 0;
        h[11] = 0;
        assert!(!Ipv4Packet::new_checked(&h[..]).unwrap().verify_checksum());
        let mut p = Ipv4Packet::new_checked(&mut h[..]).unwrap();
        p.fill_checksum();
        assert_eq!(&h[10..12], &[0xb8, 0x61]);
    }

    #[test]
    fn fragment_flags() {
        let mut h = HDR;
        h[6] = 0x20; // MF, offset 0: first fragment
        assert!(Ipv4Packet::new_unchecked(&h[..]).is_fragment());
        h[6] = 0x00;
        h[7] = 0xb9; // offset 185 (1480 bytes), MF clear: last fragment
        let p = Ipv4Packet::new_unchecked(&h[..]);
        assert!(p.is_fragment() && !p.more_frags());
        assert_eq!(p.frag_offset(), 185);
    }

    #[test]
    fn refuses_bad_lengths_naming_the_part() {
        assert_eq!(
            Ipv4Packet::new_checked(&HDR[..19]).unwrap_err(),
            WireError::Truncated {
                what: "ipv4 header",
                need: 20,
                have: 19
            }
        );
        let mut h = [0u8; 24];
        h[..20].copy_from_slice(&HDR);
        h[0] = 0x47; // IHL 7 = 28 bytes, only 24 present
        assert_eq!(
            Ipv4Packet::new_checked(&h[..]).unwrap_err(),
            WireError::Truncated {
                what: "ipv4 options",
                need: 28,
                have: 24
            }
        );
        h[0] = 0x44;
        assert!(matches!(
            Ipv4Packet::new_checked(&h[..]),
            Err(WireError::Malformed {
                what: "ipv4 header",
                reason: "IHL below 5"
            })
        ));
        h[0] = 0x65;
        assert!(matches!(
            Ipv4Packet::new_checked(&h[..]),
            Err(WireError::Malformed {
                reason: "version is not 4",
                ..
            })
        ));
    }

    #[test]
    fn build_with_setters() {
        let mut b = [0u8; 20];
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.set_version_ihl(5);
        p.set_total_len(0x73);
        p.set_flags_frag(FLAG_DF);
        p.set_ttl(64);
        p.set_protocol(17);
        p.set_src(Ipv4Addr::new(192, 168, 0, 1));
        p.set_dst(Ipv4Addr::new(192, 168, 0, 199));
        p.fill_checksum();
        assert_eq!(b, HDR);
    }
}
