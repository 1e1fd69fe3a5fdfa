//! What the generator sends: header templates per flow and size, built once.
//!
//! Flows are the product of four ranges (source and destination address, source and
//! destination port); flow `i` takes source address `i mod S`, then destination address, then
//! source port, then destination port, so any prefix of the flows varies the source address
//! first. Sizes are on-wire frame sizes including the 4-byte FCS, which the NIC adds: a
//! "64-byte frame" is 60 bytes in the mbuf.

use super::trailer;
use dataplane::wire::checksum;
use std::net::IpAddr;

/// On-wire overhead per frame besides the frame itself: preamble, SFD and inter-frame gap.
pub const WIRE_OVERHEAD: u64 = 20;
/// The FCS the NIC appends.
pub const FCS: usize = 4;
/// Simple IMIX (on-wire sizes and weights): 7 × 64, 4 × 594, 1 × 1518.
pub const IMIX: [(u16, u32); 3] = [(64, 7), (594, 4), (1518, 1)];
/// The order IMIX sizes are sent in: classes spread out, 12 frames per round.
pub const IMIX_ORDER: [u8; 12] = [0, 1, 0, 0, 1, 0, 2, 0, 1, 0, 1, 0];

/// Why a traffic description cannot be generated; each names the input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrafficError {
    #[error("--size {0}: a frame is at least 64 bytes on the wire")]
    TooSmall(u16),
    #[error(
        "--size {size}: {what} with the {trailer}-byte test trailer needs frames of at least {min} bytes"
    )]
    TooSmallFor {
        size: u16,
        what: String,
        trailer: usize,
        min: usize,
    },
    #[error("--size {size}: larger than the MTU {mtu} allows ({max} bytes on the wire)")]
    OverMtu { size: u16, mtu: u16, max: usize },
    #[error("--{what} {value:?}: {why}")]
    Range {
        what: &'static str,
        value: String,
        why: String,
    },
    #[error("--src-ip and --dst-ip must both be IPv4 or both IPv6 (got {0} and {1})")]
    MixedFamilies(IpAddr, IpAddr),
    #[error("{flows} flows: at most {max} are supported")]
    TooManyFlows { flows: u64, max: u64 },
    #[error("--vlan {0}: a VLAN id is 1 to 4094")]
    Vlan(u16),
}

/// The largest number of flows (the receiver keeps 24 bytes of state per flow).
pub const MAX_FLOWS: u64 = 1 << 22;

/// Frame sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    Fixed(u16),
    Imix,
}

impl std::str::FromStr for Sizes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("imix") {
            return Ok(Sizes::Imix);
        }
        s.parse::<u16>()
            .map(Sizes::Fixed)
            .map_err(|_| format!("{s:?} is neither a size in bytes (64..9018) nor \"imix\""))
    }
}

impl Sizes {
    /// (on-wire size, weight) per size class.
    pub fn classes(self) -> Vec<(u16, u32)> {
        match self {
            Sizes::Fixed(s) => vec![(s, 1)],
            Sizes::Imix => IMIX.to_vec(),
        }
    }

    /// Mean on-wire size.
    pub fn mean(self) -> f64 {
        let c = self.classes();
        let w: u32 = c.iter().map(|x| x.1).sum();
        c.iter()
            .map(|x| f64::from(x.0) * f64::from(x.1))
            .sum::<f64>()
            / f64::from(w)
    }

    /// The size class of the `n`-th frame.
    #[inline]
    pub fn class_of(self, n: u64) -> usize {
        match self {
            Sizes::Fixed(_) => 0,
            Sizes::Imix => IMIX_ORDER[(n % IMIX_ORDER.len() as u64) as usize] as usize,
        }
    }
}

/// Transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum L4 {
    Udp,
    Tcp,
}

/// A range of addresses: a first one and how many follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub first: IpAddr,
    pub count: u32,
}

impl IpRange {
    /// "10.0.0.1", "10.0.0.1-10.0.0.255", "2001:db8::1-2001:db8::ff" or "10.0.0.1+16".
    pub fn parse(what: &'static str, s: &str) -> Result<IpRange, TrafficError> {
        let bad = |why: &str| TrafficError::Range {
            what,
            value: s.to_owned(),
            why: why.to_owned(),
        };
        let ip = |t: &str| {
            t.trim()
                .parse::<IpAddr>()
                .map_err(|_| bad("not an IP address"))
        };
        if let Some((a, n)) = s.split_once('+') {
            let first = ip(a)?;
            let count: u32 = n
                .parse()
                .map_err(|_| bad("count after + is not a number"))?;
            if count == 0 {
                return Err(bad("the count must be at least 1"));
            }
            return Ok(IpRange { first, count });
        }
        let (a, b) = match s.split_once('-') {
            Some((a, b)) => (ip(a)?, ip(b)?),
            None => {
                let a = ip(s)?;
                (a, a)
            }
        };
        let (x, y) = match (a, b) {
            (IpAddr::V4(x), IpAddr::V4(y)) => (u128::from(u32::from(x)), u128::from(u32::from(y))),
            (IpAddr::V6(x), IpAddr::V6(y)) => (u128::from(x), u128::from(y)),
            _ => return Err(bad("both ends must be of the same family")),
        };
        if y < x {
            return Err(bad("the range ends before it starts"));
        }
        let count = u32::try_from(y - x + 1).map_err(|_| bad("more than 2^32 addresses"))?;
        Ok(IpRange { first: a, count })
    }

    /// The `i`-th address (i < count).
    pub fn nth(&self, i: u32) -> IpAddr {
        match self.first {
            IpAddr::V4(a) => IpAddr::V4(u32::from(a).wrapping_add(i).into()),
            IpAddr::V6(a) => IpAddr::V6(u128::from(a).wrapping_add(u128::from(i)).into()),
        }
    }
}

/// A range of ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub count: u32,
}

impl PortRange {
    /// "5001" or "1024-2047".
    pub fn parse(what: &'static str, s: &str) -> Result<PortRange, TrafficError> {
        let bad = |why: &str| TrafficError::Range {
            what,
            value: s.to_owned(),
            why: why.to_owned(),
        };
        let p = |t: &str| {
            t.trim()
                .parse::<u16>()
                .map_err(|_| bad("not a port (0-65535)"))
        };
        let (a, b) = match s.split_once('-') {
            Some((a, b)) => (p(a)?, p(b)?),
            None => {
                let a = p(s)?;
                (a, a)
            }
        };
        if b < a {
            return Err(bad("the range ends before it starts"));
        }
        Ok(PortRange {
            first: a,
            count: u32::from(b - a) + 1,
        })
    }
}

/// Everything about the frames.
#[derive(Debug, Clone)]
pub struct Traffic {
    pub sizes: Sizes,
    pub l4: L4,
    pub vlan: Option<u16>,
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src_ip: IpRange,
    pub dst_ip: IpRange,
    pub sport: PortRange,
    pub dport: PortRange,
    /// The IP MTU of the path: the largest frame is MTU + 14 (+4 tagged) + FCS.
    pub mtu: u16,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            sizes: Sizes::Fixed(64),
            l4: L4::Udp,
            vlan: None,
            src_mac: [0x02, 0, 0, 0, 0x0a, 0x01],
            dst_mac: [0x02, 0, 0, 0, 0x0b, 0x01],
            src_ip: IpRange {
                first: IpAddr::V4([10, 0, 0, 1].into()),
                count: 1,
            },
            dst_ip: IpRange {
                first: IpAddr::V4([10, 255, 0, 1].into()),
                count: 1,
            },
            sport: PortRange {
                first: 1024,
                count: 1024,
            },
            dport: PortRange {
                first: 5001,
                count: 1,
            },
            mtu: 1500,
        }
    }
}

/// A built header for one (size class, flow): the frame minus its trailer, and the partial
/// L4 checksum over everything but the trailer.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Bytes in the mbuf (on-wire size minus FCS).
    pub len: usize,
    /// Bytes of headers copied per frame.
    pub header_len: usize,
    /// Where the L4 header starts.
    pub l4_at: usize,
    /// Where the L4 checksum field is.
    pub csum_at: usize,
    /// True when the trailer starts at an odd offset from the L4 header (its 16-bit words
    /// are then byte-swapped in the one's-complement sum).
    pub trailer_odd: bool,
}

impl Traffic {
    pub fn is_v6(&self) -> bool {
        self.src_ip.first.is_ipv6()
    }

    /// Number of flows: the product of the four ranges.
    pub fn flows(&self) -> u64 {
        u64::from(self.src_ip.count)
            * u64::from(self.dst_ip.count)
            * u64::from(self.sport.count)
            * u64::from(self.dport.count)
    }

    fn l2_len(&self) -> usize {
        14 + if self.vlan.is_some() { 4 } else { 0 }
    }

    /// Bytes of headers (Ethernet, tag, IP, L4).
    pub fn header_len(&self) -> usize {
        self.l2_len()
            + if self.is_v6() { 40 } else { 20 }
            + match self.l4 {
                L4::Udp => 8,
                L4::Tcp => 20,
            }
    }

    /// The smallest on-wire frame that holds the headers and the trailer.
    pub fn min_size(&self) -> usize {
        (self.header_len() + trailer::LEN + FCS).max(64)
    }

    /// The largest on-wire frame the MTU allows.
    pub fn max_size(&self) -> usize {
        usize::from(self.mtu) + self.l2_len() + FCS
    }

    /// Checks everything before anything starts.
    pub fn validate(&self) -> Result<(), TrafficError> {
        if self.src_ip.first.is_ipv6() != self.dst_ip.first.is_ipv6() {
            return Err(TrafficError::MixedFamilies(
                self.src_ip.first,
                self.dst_ip.first,
            ));
        }
        if let Some(v) = self.vlan
            && !(1..=4094).contains(&v)
        {
            return Err(TrafficError::Vlan(v));
        }
        for (size, _) in self.sizes.classes() {
            if size < 64 {
                return Err(TrafficError::TooSmall(size));
            }
            if usize::from(size) < self.min_size() {
                return Err(TrafficError::TooSmallFor {
                    size,
                    what: self.describe(),
                    trailer: trailer::LEN,
                    min: self.min_size(),
                });
            }
            if usize::from(size) > self.max_size() {
                return Err(TrafficError::OverMtu {
                    size,
                    mtu: self.mtu,
                    max: self.max_size(),
                });
            }
        }
        let flows = self.flows();
        if flows > MAX_FLOWS {
            return Err(TrafficError::TooManyFlows {
                flows,
                max: MAX_FLOWS,
            });
        }
        Ok(())
    }

    /// "IPv4/UDP", "802.1Q IPv6/TCP"...
    pub fn describe(&self) -> String {
        format!(
            "{}{}/{}",
            if self.vlan.is_some() { "802.1Q " } else { "" },
            if self.is_v6() { "IPv6" } else { "IPv4" },
            match self.l4 {
                L4::Udp => "UDP",
                L4::Tcp => "TCP",
            }
        )
    }

    /// The flow's addresses and ports.
    pub fn flow_tuple(&self, flow: u32) -> (IpAddr, IpAddr, u16, u16) {
        let mut i = u64::from(flow);
        let mut take = |n: u32| {
            let v = (i % u64::from(n)) as u32;
            i /= u64::from(n);
            v
        };
        let s = take(self.src_ip.count);
        let d = take(self.dst_ip.count);
        let sp = take(self.sport.count);
        let dp = take(self.dport.count);
        (
            self.src_ip.nth(s),
            self.dst_ip.nth(d),
            self.sport.first.wrapping_add(sp as u16),
            self.dport.first.wrapping_add(dp as u16),
        )
    }

    /// The layout of frames of on-wire size `size`.
    pub fn layout(&self, size: u16) -> Layout {
        let l4_at = self.l2_len() + if self.is_v6() { 40 } else { 20 };
        let len = usize::from(size) - FCS;
        Layout {
            len,
            header_len: self.header_len(),
            l4_at,
            csum_at: l4_at
                + match self.l4 {
                    L4::Udp => 6,
                    L4::Tcp => 16,
                },
            trailer_odd: (len - trailer::LEN - l4_at) % 2 == 1,
        }
    }

    /// Builds the frame of `flow` at on-wire size `size`, with a zero trailer and its L4
    /// checksum field zero; returns it with the one's-complement sum (not yet folded) of the
    /// pseudo-header and the L4 segment.
    pub fn template(&self, flow: u32, size: u16) -> (Vec<u8>, u32) {
        let lay = self.layout(size);
        let mut f = vec![0u8; lay.len];
        f[0..6].copy_from_slice(&self.dst_mac);
        f[6..12].copy_from_slice(&self.src_mac);
        let mut at = 12;
        if let Some(v) = self.vlan {
            f[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
            f[14..16].copy_from_slice(&v.to_be_bytes());
            at = 16;
        }
        let (src, dst, sport, dport) = self.flow_tuple(flow);
        let l4_len = lay.len - lay.l4_at;
        let proto = match self.l4 {
            L4::Udp => 17u8,
            L4::Tcp => 6u8,
        };
        let mut pseudo = 0u32;
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                f[at..at + 2].copy_from_slice(&0x0800u16.to_be_bytes());
                let ip = &mut f[at + 2..at + 22];
                ip[0] = 0x45;
                ip[2..4].copy_from_slice(&((l4_len + 20) as u16).to_be_bytes());
                ip[6] = 0x40; // don't fragment
                ip[8] = 64;
                ip[9] = proto;
                ip[12..16].copy_from_slice(&s.octets());
                ip[16..20].copy_from_slice(&d.octets());
                let ck = checksum::of(ip);
                ip[10..12].copy_from_slice(&ck.to_be_bytes());
                pseudo = checksum::add(pseudo, &s.octets());
                pseudo = checksum::add(pseudo, &d.octets());
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                f[at..at + 2].copy_from_slice(&0x86DDu16.to_be_bytes());
                let ip = &mut f[at + 2..at + 42];
                ip[0] = 0x60;
                ip[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
                ip[6] = proto;
                ip[7] = 64;
                ip[8..24].copy_from_slice(&s.octets());
                ip[24..40].copy_from_slice(&d.octets());
                pseudo = checksum::add(pseudo, &s.octets());
                pseudo = checksum::add(pseudo, &d.octets());
            }
            _ => unreachable!("validate() refuses mixed families"),
        }
        pseudo = checksum::add(pseudo, &[0, proto]);
        pseudo = checksum::add(pseudo, &(l4_len as u32).to_be_bytes());
        let l4 = &mut f[lay.l4_at..];
        l4[0..2].copy_from_slice(&sport.to_be_bytes());
        l4[2..4].copy_from_slice(&dport.to_be_bytes());
        match self.l4 {
            L4::Udp => l4[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes()),
            L4::Tcp => {
                l4[12] = 5 << 4; // data offset: 5 words
                l4[13] = 0x18; // PSH, ACK
                l4[14..16].copy_from_slice(&0xffffu16.to_be_bytes());
            }
        }
        let sum = checksum::add(pseudo, l4);
        (f, sum)
    }
}

/// Adds the trailer to a template's partial sum and returns the L4 checksum to store.
#[inline]
pub fn finish_checksum(partial: u32, trailer: &[u8], odd: bool, l4: L4) -> u16 {
    let mut s = partial;
    for w in trailer.chunks_exact(2) {
        s += u32::from(if odd {
            u16::from_le_bytes([w[0], w[1]])
        } else {
            u16::from_be_bytes([w[0], w[1]])
        });
    }
    let c = checksum::finish(s);
    // UDP sends an all-zero checksum as all ones (zero means "none").
    if c == 0 && l4 == L4::Udp { 0xffff } else { c }
}
