//! The Linux bonding driver's transmit hash policies (`xmit_hash_policy`),
//! reimplemented so that bondd picks, for every frame, the same 32-bit hash
//! the kernel (`drivers/net/bonding/bond_main.c`, `__bond_xmit_hash`)
//! computes on a little-endian host, and therefore the same member
//! (`hash % count`, see [`member_for`]).
//!
//! # The formulas
//!
//! * **layer2**: `dst[5] ^ src[5] ^ ethertype` (EtherType in host order).
//! * **layer2+3**: the layer2 value XOR the source and destination address
//!   words, then folded: `h ^= h >> 16; h ^= h >> 8`.
//! * **layer3+4**: the "ports" word (the four bytes at the start of the TCP,
//!   UDP, SCTP, DCCP or UDP-Lite header; the SPI for ESP at offset 0 and AH
//!   at offset 4; otherwise 0) XOR the address words, folded, then shifted
//!   right by one (the kernel drops the lowest bit because the ports word is
//!   often even).
//! * **encap2+3 / encap3+4**: as layer2+3 / layer3+4, but the addresses and
//!   ports come from the kernel's full flow dissector, which looks through
//!   tunnels to the innermost IP header (see below).
//! * **vlan+srcmac**: `vlan ^ src[0..3] ^ src[3..6]`, the two MAC halves read
//!   as big-endian 24-bit numbers and `vlan` the full TCI of the outermost
//!   tag (0 when untagged).
//!
//! Address words are the raw network-order bytes loaded as a little-endian
//! `u32` (a `__be32` as seen by an x86 CPU). An IPv6 address contributes the
//! XOR of its four such words. The ports word is loaded the same way. For
//! ICMP and ICMPv6 in layer3+4/encap3+4, when the message type carries an
//! identifier (echo request/reply, timestamp request/reply, ICMPv6 echo
//! request/reply), the ports word is replaced by the kernel's ICMP key
//! `type | code << 8 | id << 16`, with `id` the identifier in host order
//! (or 1 if the identifier is 0). IPv4 fragments (MF set or a nonzero
//! offset) are hashed on their addresses only.
//!
//! In layer2+3/layer3+4 an ICMP/ICMPv6 *error* (destination unreachable,
//! source quench, redirect, time exceeded, parameter problem / packet too
//! big) is hashed on the IP header it quotes (and, for layer3+4, that
//! header's ports), as the kernel does.
//!
//! Frames whose headers are not all present fall back exactly as the kernel
//! does: to the layer2 value when the needed L3 header is cut short (or the
//! frame is not IP), and to 0 when not even the 14-byte Ethernet header is
//! there. A missing L4 header just makes the ports word 0.
//!
//! # VLAN model
//!
//! DPDK hands us frames with their VLAN tags inline, whereas a frame that a
//! Linux VLAN device sends over a bond reaches `bond_xmit_hash` with its
//! outermost tag stripped into hardware-acceleration metadata: the Ethernet
//! header then carries the inner EtherType and `skb->protocol` is the L3
//! protocol. bondd treats a frame with inline tags exactly as Linux treats
//! the same frame with its tags accelerated/skipped:
//!
//! * every leading 802.1Q (`0x8100`), 802.1ad (`0x88a8`) and `0x9100` tag is
//!   skipped to find the L3 header;
//! * the EtherType in the layer2 term is the one after the last tag;
//! * vlan+srcmac uses the outermost tag's full TCI (priority and DEI bits
//!   included, as `skb_vlan_tag_get` returns the whole TCI), or 0.
//!
//! For a single tag this is bit-exact with Linux. Where Linux itself would
//! see more than the outer tag inline (a VLAN device stacked on another
//! VLAN device pushes the inner tag into the payload; Linux then sees
//! `skb->protocol == 0x8100` and falls back to the layer2 value with
//! EtherType `0x8100`), bondd deliberately still hashes the inner IP
//! header, so QinQ traffic spreads like single-tagged traffic. Linux also
//! does not know `0x9100` as a tag; bondd skips it.
//!
//! # Encapsulations followed by encap2+3 / encap3+4
//!
//! The kernel calls its generic flow dissector with the bonding key set and
//! no flags. bondd mirrors that dissector for:
//!
//! * inline VLAN tags (`0x8100`, `0x88a8`) at any depth, also inside GRE;
//! * IPv4-in-IPv4 (protocol 4), IPv6-in-IPv4 (41), IPv4/IPv6-in-IPv6;
//! * GRE version 0 without routing, with the optional checksum, key and
//!   sequence words, carrying IPv4, IPv6 or transparent Ethernet (`0x6558`,
//!   whose inner EtherType is then followed); GRE version 1 (PPTP) carrying
//!   PPP-encapsulated IPv4/IPv6;
//! * IPv6 hop-by-hop, routing and destination-options headers (walked to
//!   the transport header) and the IPv6 fragment header (stops, no ports);
//! * MPLS-in-IP (137), PPPoE session (`0x8864`, PPP IPv4/IPv6/MPLS),
//!   HSR/PRP tags, batman-adv unicast, each to the next header;
//! * the protocols the dissector accepts without addresses (ARP, RARP,
//!   MPLS, FCoE, PTP, CFM, other PPPoE protocols), whose hash is then built
//!   from zero addresses and ports (so encap3+4 hashes them to 0), and TIPC,
//!   whose source node identity (fourth header word) is the only address;
//! * at most 15 headers, like the kernel.
//!
//! Not followed, because the kernel's dissector does not look into them
//! without flags or keys either: VXLAN, Geneve, GUE, FOU, L2TP and every
//! other UDP-based tunnel (their hash is the outer UDP 4-tuple), IPsec
//! payloads (the SPI is used as ports), GRE with routing or version > 1,
//! the contents of MPLS label stacks.
//!
//! # What the kernel does that bondd cannot mirror
//!
//! * encap3+4 returns `skb->hash` unchanged when the socket layer already
//!   computed an L4 hash (`skb->l4_hash`); there is no such hash here.
//! * A BPF flow dissector attached to the network namespace replaces the
//!   built-in dissector for encap2+3/encap3+4.
//! * TIPC keepalive messages get a random key in the kernel; bondd uses the
//!   header's node identity like for every other TIPC message.
//! * The kernel can pull headers out of paged skb data; [`xmit_hash`] sees
//!   only the contiguous slice it is given, so headers split across mbuf
//!   segments must be linearised first or they count as truncated.
//! * The QinQ and `0x9100` cases described in the VLAN model.

use core::fmt;
use core::str::FromStr;

use crate::wire::ethernet::{ETHERTYPE_OFFSET, skip_vlan_tags};
use crate::wire::l4::ports_offset;
use crate::wire::{ethertype, ip_proto};

/// A Linux bonding transmit hash policy; the discriminant is the value
/// Linux uses (`BOND_XMIT_POLICY_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum XmitHashPolicy {
    /// `layer2`: MAC addresses and EtherType (the Linux default).
    #[default]
    Layer2 = 0,
    /// `layer3+4`: IP addresses and transport ports.
    Layer34 = 1,
    /// `layer2+3`: MAC addresses, EtherType and IP addresses.
    Layer23 = 2,
    /// `encap2+3`: like layer2+3 with the innermost IP header.
    Encap23 = 3,
    /// `encap3+4`: like layer3+4 with the innermost headers.
    Encap34 = 4,
    /// `vlan+srcmac`: outer VLAN TCI and source MAC.
    VlanSrcMac = 5,
}

impl XmitHashPolicy {
    /// Every policy, in Linux's numeric order.
    pub const ALL: [XmitHashPolicy; 6] = [
        XmitHashPolicy::Layer2,
        XmitHashPolicy::Layer34,
        XmitHashPolicy::Layer23,
        XmitHashPolicy::Encap23,
        XmitHashPolicy::Encap34,
        XmitHashPolicy::VlanSrcMac,
    ];

    /// The Linux option name (`layer2`, `layer3+4`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            XmitHashPolicy::Layer2 => "layer2",
            XmitHashPolicy::Layer34 => "layer3+4",
            XmitHashPolicy::Layer23 => "layer2+3",
            XmitHashPolicy::Encap23 => "encap2+3",
            XmitHashPolicy::Encap34 => "encap3+4",
            XmitHashPolicy::VlanSrcMac => "vlan+srcmac",
        }
    }

    /// The Linux numeric value (`u64`, like every bonding option number).
    pub const fn value(self) -> u64 {
        self as u64
    }

    /// The policy with Linux numeric value `v`.
    pub const fn from_value(v: u64) -> Option<XmitHashPolicy> {
        match v {
            0 => Some(XmitHashPolicy::Layer2),
            1 => Some(XmitHashPolicy::Layer34),
            2 => Some(XmitHashPolicy::Layer23),
            3 => Some(XmitHashPolicy::Encap23),
            4 => Some(XmitHashPolicy::Encap34),
            5 => Some(XmitHashPolicy::VlanSrcMac),
            _ => None,
        }
    }

    /// The value shown after `Transmit Hash Policy: ` in
    /// `/proc/net/bonding/<bond>`, e.g. `layer2 (0)`.
    pub const fn proc_text(self) -> &'static str {
        match self {
            XmitHashPolicy::Layer2 => "layer2 (0)",
            XmitHashPolicy::Layer34 => "layer3+4 (1)",
            XmitHashPolicy::Layer23 => "layer2+3 (2)",
            XmitHashPolicy::Encap23 => "encap2+3 (3)",
            XmitHashPolicy::Encap34 => "encap3+4 (4)",
            XmitHashPolicy::VlanSrcMac => "vlan+srcmac (5)",
        }
    }

    /// Shorthand for [`xmit_hash`]`(self, frame)`.
    #[inline]
    pub fn hash(self, frame: &[u8]) -> u32 {
        xmit_hash(self, frame)
    }

    /// `then(self.hash(frame))`, with `then` inlined separately into the common frame's path
    /// and the uncommon one. A per-frame loop that only uses some bits of the hash (a table
    /// bucket) then computes only those on the common path: with one `then` after both
    /// paths joined, the compiler computes all 32 bits.
    #[inline(always)]
    pub fn hash_then<R>(self, frame: &[u8], then: impl Fn(u32) -> R) -> R {
        match fast_hash(self, frame) {
            Some(h) => then(h),
            None => then(xmit_hash_uncommon(self, frame)),
        }
    }

    /// `then(self.hash(frame))` for the frames the fast path takes (the common ones: untagged
    /// IPv4 TCP or UDP for the L3/L4 policies, any untagged IPv4 but ICMP for layer2+3,
    /// untagged for layer2), None for the others. Inlines to a few loads and compares with no
    /// call, for loops that keep the general path out of the way.
    #[inline(always)]
    pub fn common_then<R>(self, frame: &[u8], then: impl Fn(u32) -> R) -> Option<R> {
        fast_hash(self, frame).map(then)
    }
}

impl fmt::Display for XmitHashPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for a string that names no transmit hash policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown xmit_hash_policy: expected layer2, layer3+4, layer2+3, encap2+3, encap3+4, \
     vlan+srcmac or 0-5"
)]
pub struct ParsePolicyError;

impl FromStr for XmitHashPolicy {
    type Err = ParsePolicyError;

    /// Accepts the Linux names and numbers (surrounding whitespace ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(p) = Self::ALL.into_iter().find(|p| p.name() == s) {
            return Ok(p);
        }
        s.parse::<u8>()
            .ok()
            .map(u64::from)
            .and_then(Self::from_value)
            .ok_or(ParsePolicyError)
    }
}

/// The member index Linux picks for `hash` among `count` usable members:
/// `hash % count` (0 when `count` is 0).
#[inline]
pub fn member_for(hash: u32, count: usize) -> usize {
    (hash as usize).checked_rem(count).unwrap_or(0)
}

/// The 32-bit value Linux's bonding driver computes for `frame` under
/// `policy`. `frame` starts at the Ethernet destination address and must
/// hold the headers contiguously. Never panics and never allocates.
pub fn xmit_hash(policy: XmitHashPolicy, frame: &[u8]) -> u32 {
    if let Some(h) = fast_hash(policy, frame) {
        return h;
    }
    xmit_hash_uncommon(policy, frame)
}

/// [`xmit_hash_generic`] for frames the fast path declines, marked cold so that the compiler
/// lays the fast path out straight through the per-frame loops.
#[cold]
#[inline(never)]
fn xmit_hash_uncommon(policy: XmitHashPolicy, frame: &[u8]) -> u32 {
    xmit_hash_generic(policy, frame)
}

/// The common frame, hashed with a handful of loads: untagged IPv4 with a 20-byte header,
/// not a fragment, carrying TCP or UDP (layer2+3: any untagged IPv4 but ICMP). For such a
/// frame the kernel's formulas reduce to XORs of fixed offsets, and the encap policies equal
/// their plain counterparts (the flow dissector does not follow UDP tunnels without flags).
/// Anything else returns None and goes the general way; a test checks that both ways agree
/// on many thousands of frames.
#[inline(always)]
fn fast_hash(policy: XmitHashPolicy, f: &[u8]) -> Option<u32> {
    if f.len() < 38 {
        return None;
    }
    // No tag type is below 0x8100, so a first byte below 0x81 lets IPv4 and ARP through
    // without assembling the ethertype.
    let untagged = f[12] < 0x81 || !is_tpid(u16::from_be_bytes([f[12], f[13]]));
    match policy {
        XmitHashPolicy::Layer2 if untagged => {
            return Some(u32::from(f[5] ^ f[11] ^ f[13]) ^ u32::from(f[12]) << 8);
        }
        XmitHashPolicy::VlanSrcMac if untagged => {
            let vendor = u32::from_be_bytes([0, f[6], f[7], f[8]]);
            let dev = u32::from_be_bytes([0, f[9], f[10], f[11]]);
            return Some(vendor ^ dev);
        }
        XmitHashPolicy::Layer2 | XmitHashPolicy::VlanSrcMac => return None,
        _ => {}
    }
    if u16::from_be_bytes([f[12], f[13]]) != 0x0800 {
        return None;
    }
    let addrs = u32::from_le_bytes([f[26], f[27], f[28], f[29]])
        ^ u32::from_le_bytes([f[30], f[31], f[32], f[33]]);
    if policy == XmitHashPolicy::Layer23 {
        // The kernel's layer2+3 reads the two addresses of any IPv4 header, whatever its
        // version nibble, length, flags or protocol (`bond_flow_ip`), except that an ICMP
        // error that is not a fragment is hashed on the header it quotes: ICMP goes the
        // general way.
        if f[23] == 1 {
            return None;
        }
        // The fold is linear, and folds the MAC byte XOR 0x0800 (the ethertype) into itself
        // XOR 0x0808: folding the addresses alone and adding that after gives the same 32
        // bits, with the MAC bytes off the fold's dependency chain.
        let mut h = addrs;
        h ^= h >> 16;
        h ^= h >> 8;
        return Some(h ^ u32::from(f[5] ^ f[11]) ^ 0x0808);
    }
    // The others: IHL 5, no MF flag and offset 0, TCP or UDP. (encap2+3 too: the full flow
    // dissector checks the version and length, and parses the first fragment's ports.) The
    // last three from one 32-bit load of bytes 20-23: MF (0x20 of byte 20) and the 13-bit
    // offset in one test (DF, the reserved bit and the TTL may be anything), the protocol
    // shifted down. (Masking flags and protocol together and rotating is one instruction
    // shorter, but its 32-bit mask takes a register of the loop, and the loop then reloads
    // another value from the stack on every frame.)
    if f[14] != 0x45 {
        return None;
    }
    let tail = u32::from_le_bytes(word(f, 20));
    let proto = tail >> 24;
    if tail & 0xff3f != 0 || (proto != 6 && proto != 17) {
        return None;
    }
    let (mut h, shift) = match policy {
        XmitHashPolicy::Layer34 | XmitHashPolicy::Encap34 => {
            (u32::from_le_bytes([f[34], f[35], f[36], f[37]]), 1)
        }
        _ => (u32::from(f[5] ^ f[11]) ^ 0x0800, 0),
    };
    h ^= addrs;
    // Linux folds, then shifts (`h ^= h >> 16; h ^= h >> 8; h >> 1` in layer3+4). Logical
    // shifts distribute over XOR, so shifting first gives the same 32 bits, and the
    // compiler then needs fewer instructions for the bucket's bits.
    h >>= shift;
    h ^= h >> 16;
    h ^= h >> 8;
    Some(h)
}

/// The `N` bytes of `f` at `at`, read as one load.
#[inline(always)]
fn word<const N: usize>(f: &[u8], at: usize) -> [u8; N] {
    match f.get(at..at + N) {
        Some(b) => b.try_into().unwrap_or([0; N]),
        None => [0; N],
    }
}

/// 802.1Q (0x8100), 802.1ad (0x88a8) or the old QinQ tag (0x9100). The first and last differ
/// in bit 12 only, so one OR folds them into one compare.
#[inline(always)]
fn is_tpid(t: u16) -> bool {
    t | 0x1000 == 0x9100 || t == 0x88a8
}

/// [`xmit_hash`] without the fast path: the general walk over tags and headers.
pub fn xmit_hash_generic(policy: XmitHashPolicy, frame: &[u8]) -> u32 {
    let Some(l2) = skip_vlan_tags(frame) else {
        return 0;
    };
    match policy {
        XmitHashPolicy::VlanSrcMac => vlan_srcmac_hash(frame, l2.outer_tci.unwrap_or(0)),
        XmitHashPolicy::Layer2 => eth_hash(frame, l2.ethertype),
        XmitHashPolicy::Layer23 | XmitHashPolicy::Layer34 => {
            let l34 = policy == XmitHashPolicy::Layer34;
            match bond_flow(frame, l2.ethertype, l2.l3_offset, l34) {
                Some(keys) => combine(policy, frame, l2.ethertype, &keys),
                None => eth_hash(frame, l2.ethertype),
            }
        }
        XmitHashPolicy::Encap23 | XmitHashPolicy::Encap34 => {
            match dissect(frame, l2.ethertype, l2.l3_offset) {
                Some(keys) => combine(policy, frame, l2.ethertype, &keys),
                None => eth_hash(frame, l2.ethertype),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Bounds-checked readers. Every read of the frame goes through these.

#[inline]
fn has(b: &[u8], off: usize, len: usize) -> bool {
    off.checked_add(len).is_some_and(|end| end <= b.len())
}

#[inline]
fn rd_be16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Four raw bytes as a little-endian u32 (a `__be32` on x86).
#[inline]
fn rd_raw32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// XOR of the four raw words of the IPv6 address at `off` (the kernel's
/// `ipv6_addr_hash`). The caller has checked the bytes are present.
#[inline]
fn v6_word(b: &[u8], off: usize) -> u32 {
    (0..4).fold(0, |acc, i| acc ^ rd_raw32(b, off + 4 * i).unwrap_or(0))
}

// ---------------------------------------------------------------------------
// Flow keys: the subset of the kernel's `struct flow_keys` the hash reads.

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Addrs {
    #[default]
    None,
    /// Raw source and destination words.
    V4 { src: u32, dst: u32 },
    /// Folded source and destination addresses.
    V6 { src: u32, dst: u32 },
    /// TIPC source node identity (contributes as the source only).
    Tipc(u32),
}

impl Addrs {
    fn v4(frame: &[u8], l3: usize) -> Self {
        Addrs::V4 {
            src: rd_raw32(frame, l3 + 12).unwrap_or(0),
            dst: rd_raw32(frame, l3 + 16).unwrap_or(0),
        }
    }

    fn v6(frame: &[u8], l3: usize) -> Self {
        Addrs::V6 {
            src: v6_word(frame, l3 + 8),
            dst: v6_word(frame, l3 + 24),
        }
    }

    /// `flow_get_u32_src ^ flow_get_u32_dst`.
    fn word(&self) -> u32 {
        match *self {
            Addrs::None => 0,
            Addrs::V4 { src, dst } | Addrs::V6 { src, dst } => src ^ dst,
            Addrs::Tipc(key) => key,
        }
    }
}

/// The kernel's ICMP flow key: type, code and identifier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct IcmpKey {
    ty: u8,
    code: u8,
    id: u16,
}

impl IcmpKey {
    /// The key's memory image as a little-endian u32.
    fn word(&self) -> u32 {
        u32::from(self.ty) | u32::from(self.code) << 8 | u32::from(self.id) << 16
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct FlowKeys {
    addrs: Addrs,
    ports: u32,
    icmp: IcmpKey,
}

// ---------------------------------------------------------------------------
// Pieces shared by the policies.

/// layer2 value: `dst[5] ^ src[5] ^ ethertype`. `frame` holds >= 14 bytes.
#[inline]
fn eth_hash(frame: &[u8], ethertype: u16) -> u32 {
    u32::from(frame[5] ^ frame[11]) ^ u32::from(ethertype)
}

/// vlan+srcmac value. `frame` holds >= 14 bytes.
#[inline]
fn vlan_srcmac_hash(frame: &[u8], tci: u16) -> u32 {
    let vendor = u32::from_be_bytes([0, frame[6], frame[7], frame[8]]);
    let dev = u32::from_be_bytes([0, frame[9], frame[10], frame[11]]);
    u32::from(tci) ^ vendor ^ dev
}

/// Final step shared by the L3/L4 policies (`bond_ip_hash`).
fn combine(policy: XmitHashPolicy, frame: &[u8], ethertype: u16, keys: &FlowKeys) -> u32 {
    let mut h = match policy {
        XmitHashPolicy::Layer23 | XmitHashPolicy::Encap23 => eth_hash(frame, ethertype),
        _ if keys.icmp.id != 0 => keys.icmp.word(),
        _ => keys.ports,
    };
    h ^= keys.addrs.word();
    h ^= h >> 16;
    h ^= h >> 8;
    match policy {
        XmitHashPolicy::Layer34 | XmitHashPolicy::Encap34 => h >> 1,
        _ => h,
    }
}

/// The kernel's "ports" word for `proto` at transport offset `thoff`
/// (0 when the protocol has none or the bytes are missing).
#[inline]
fn get_ports(frame: &[u8], thoff: usize, proto: u8) -> u32 {
    match ports_offset(proto) {
        Some(poff) => thoff
            .checked_add(poff)
            .and_then(|off| rd_raw32(frame, off))
            .unwrap_or(0),
        None => 0,
    }
}

/// ICMP types whose header carries an identifier (the kernel's
/// `icmp_has_id`, which tests ICMP and ICMPv6 type numbers alike).
#[inline]
fn icmp_has_id(ty: u8) -> bool {
    matches!(ty, 0 | 8 | 13 | 14 | 128 | 129)
}

/// Fills `key` from the 8-byte ICMP header at `off`, leaving it untouched
/// when the header is cut short (`skb_flow_get_icmp_tci`).
fn get_icmp_key(frame: &[u8], off: usize, key: &mut IcmpKey) {
    if !has(frame, off, 8) {
        return;
    }
    key.ty = frame[off];
    key.code = frame[off + 1];
    key.id = if icmp_has_id(key.ty) {
        match rd_be16(frame, off + 4) {
            Some(0) | None => 1,
            Some(id) => id,
        }
    } else {
        0
    };
}

// ---------------------------------------------------------------------------
// layer2+3 / layer3+4: the bonding driver's own shallow parser.

const IPV4_HDR: usize = 20;
const IPV6_HDR: usize = 40;
const ICMP_HDR: usize = 8;

/// One IP header at `*nhoff` (`bond_flow_ip`). `ip_proto` stays `None`
/// for an IPv4 fragment. IHL is used unvalidated, as in the kernel.
fn flow_ip(
    frame: &[u8],
    l3_proto: u16,
    nhoff: &mut usize,
    ip_proto: &mut Option<u8>,
    l34: bool,
    keys: &mut FlowKeys,
) -> bool {
    let off = *nhoff;
    match l3_proto {
        ethertype::IPV4 => {
            if !has(frame, off, IPV4_HDR) {
                return false;
            }
            keys.addrs = Addrs::v4(frame, off);
            let ihl = usize::from(frame[off] & 0x0f);
            let frag = rd_be16(frame, off + 6).unwrap_or(0) & 0x3fff != 0;
            *nhoff = off + ihl * 4;
            if !frag {
                *ip_proto = Some(frame[off + 9]);
            }
        }
        ethertype::IPV6 => {
            if !has(frame, off, IPV6_HDR) {
                return false;
            }
            keys.addrs = Addrs::v6(frame, off);
            *nhoff = off + IPV6_HDR;
            *ip_proto = Some(frame[off + 6]);
        }
        _ => return false,
    }
    if l34 && let Some(p) = *ip_proto {
        keys.ports = get_ports(frame, *nhoff, p);
    }
    true
}

/// `bond_flow_dissect` for layer2+3/layer3+4; `None` means "use layer2".
fn bond_flow(frame: &[u8], l3_proto: u16, mut nhoff: usize, l34: bool) -> Option<FlowKeys> {
    let mut keys = FlowKeys::default();
    let mut ip_proto = None;
    if !flow_ip(frame, l3_proto, &mut nhoff, &mut ip_proto, l34, &mut keys) {
        return None;
    }
    let is_err = match ip_proto {
        Some(ip_proto::ICMP) => {
            get_icmp_key(frame, nhoff, &mut keys.icmp);
            matches!(keys.icmp.ty, 3 | 4 | 5 | 11 | 12)
        }
        Some(ip_proto::ICMPV6) => {
            get_icmp_key(frame, nhoff, &mut keys.icmp);
            matches!(keys.icmp.ty, 1..=4)
        }
        _ => return Some(keys),
    };
    if !is_err {
        return Some(keys);
    }
    // An error quotes the offending packet's IP header: hash on that.
    nhoff += ICMP_HDR;
    flow_ip(frame, l3_proto, &mut nhoff, &mut ip_proto, l34, &mut keys).then_some(keys)
}

// ---------------------------------------------------------------------------
// encap2+3 / encap3+4: the generic flow dissector with the bonding keys and
// no flags.

/// Most headers the dissector walks (`MAX_FLOW_DISSECT_HDRS`).
const MAX_HDRS: u32 = 15;

/// Outcome of one dissection step.
enum Step {
    /// Stop; the keys so far are the result.
    Good,
    /// Stop; dissection failed (layer2 fallback).
    Bad,
    /// Parse the next header by (new) EtherType.
    ProtoAgain,
    /// Parse the next header by (new) IP protocol.
    IpProtoAgain,
    /// Go on to the IP protocol of the header just parsed.
    Continue,
}

struct Dissector<'a> {
    frame: &'a [u8],
    proto: u16,
    nhoff: usize,
    ip_proto: u8,
    is_fragment: bool,
    num_hdrs: u32,
    keys: FlowKeys,
}

/// `__skb_flow_dissect(&flow_keys_bonding, flags = 0)` from EtherType
/// `proto` at `nhoff`. `None` when the dissector reports failure.
fn dissect(frame: &[u8], proto: u16, nhoff: usize) -> Option<FlowKeys> {
    let mut d = Dissector {
        frame,
        proto,
        nhoff,
        ip_proto: 0,
        is_fragment: false,
        num_hdrs: 0,
        keys: FlowKeys::default(),
    };
    d.run().then_some(d.keys)
}

impl Dissector<'_> {
    fn allowed(&mut self) -> bool {
        self.num_hdrs += 1;
        self.num_hdrs <= MAX_HDRS
    }

    fn run(&mut self) -> bool {
        'proto: loop {
            match self.l3_step() {
                Step::Good => return true,
                Step::Bad => return false,
                Step::ProtoAgain | Step::IpProtoAgain => {
                    if self.allowed() {
                        continue 'proto;
                    }
                    return true;
                }
                Step::Continue => {}
            }
            loop {
                let step = self.ip_proto_step();
                if !self.is_fragment {
                    self.keys.ports = get_ports(self.frame, self.nhoff, self.ip_proto);
                }
                match step {
                    Step::ProtoAgain => {
                        if self.allowed() {
                            continue 'proto;
                        }
                        return true;
                    }
                    Step::IpProtoAgain => {
                        if self.allowed() {
                            continue;
                        }
                        return true;
                    }
                    Step::Good | Step::Continue => return true,
                    Step::Bad => return false,
                }
            }
        }
    }

    /// The switch on the EtherType.
    fn l3_step(&mut self) -> Step {
        let (f, off) = (self.frame, self.nhoff);
        match self.proto {
            ethertype::IPV4 => {
                if !has(f, off, IPV4_HDR) || f[off] & 0x0f < 5 {
                    return Step::Bad;
                }
                self.nhoff = off + usize::from(f[off] & 0x0f) * 4;
                self.ip_proto = f[off + 9];
                self.keys.addrs = Addrs::v4(f, off);
                if rd_be16(f, off + 6).unwrap_or(0) & 0x3fff != 0 {
                    // Any fragment stops here without ports (no
                    // FLOW_DISSECTOR_F_PARSE_1ST_FRAG).
                    self.is_fragment = true;
                    return Step::Good;
                }
                Step::Continue
            }
            ethertype::IPV6 => {
                if !has(f, off, IPV6_HDR) {
                    return Step::Bad;
                }
                self.ip_proto = f[off + 6];
                self.nhoff = off + IPV6_HDR;
                self.keys.addrs = Addrs::v6(f, off);
                Step::Continue
            }
            ethertype::VLAN | ethertype::QINQ => match rd_be16(f, off + 2) {
                Some(inner) => {
                    self.proto = inner;
                    self.nhoff = off + 4;
                    Step::ProtoAgain
                }
                None => Step::Bad,
            },
            ethertype::PPPOE_SESSION => self.pppoe(),
            ethertype::TIPC => {
                // struct tipc_basic_hdr: four words; the key is word 3.
                match rd_raw32(f, off + 12) {
                    Some(key) => {
                        self.keys.addrs = Addrs::Tipc(key);
                        Step::Good
                    }
                    None => Step::Bad,
                }
            }
            // No MPLS, ARP or CFM keys in the bonding key set: accepted as
            // they are, without looking at the bytes.
            ethertype::MPLS_UC
            | ethertype::MPLS_MC
            | ethertype::ARP
            | ethertype::RARP
            | ethertype::CFM => Step::Good,
            ethertype::FCOE => {
                // FCOE_HEADER_LEN
                if has(f, off, 38) {
                    Step::Good
                } else {
                    Step::Bad
                }
            }
            ethertype::PTP => {
                // sizeof(struct ptp_header)
                if has(f, off, 34) {
                    Step::Good
                } else {
                    Step::Bad
                }
            }
            ethertype::HSR | ethertype::PRP => match rd_be16(f, off + 4) {
                // struct hsr_tag: path/LSDU size, sequence, encapsulated proto.
                Some(inner) => {
                    self.proto = inner;
                    self.nhoff = off + 6;
                    Step::ProtoAgain
                }
                None => Step::Bad,
            },
            ethertype::BATMAN => {
                // batadv unicast header (10 bytes) + inner Ethernet header.
                const BATADV_UNICAST: u8 = 0x40;
                const BATADV_COMPAT_VERSION: u8 = 15;
                if !has(f, off, 24)
                    || f[off] != BATADV_UNICAST
                    || f[off + 1] != BATADV_COMPAT_VERSION
                {
                    return Step::Bad;
                }
                self.proto = rd_be16(f, off + 10 + ETHERTYPE_OFFSET).unwrap_or(0);
                self.nhoff = off + 24;
                Step::ProtoAgain
            }
            _ => Step::Bad,
        }
    }

    /// PPPoE session header (8 bytes with the PPP protocol); compressed
    /// PPP protocol fields are not parsed.
    fn pppoe(&mut self) -> Step {
        let (f, off) = (self.frame, self.nhoff);
        if !has(f, off, 8) {
            return Step::Bad;
        }
        // Version 1, type 1, code 0.
        if f[off] != 0x11 || f[off + 1] != 0 {
            return Step::Bad;
        }
        let ppp = rd_be16(f, off + 6).unwrap_or(0);
        self.nhoff = off + 8;
        let next = match ppp {
            0x0021 => ethertype::IPV4,
            0x0057 => ethertype::IPV6,
            0x0281 => ethertype::MPLS_UC,
            0x0283 => ethertype::MPLS_MC,
            // A valid but uninteresting PPP protocol.
            p if p & 0x0101 == 0x0001 => return Step::Good,
            _ => return Step::Bad,
        };
        self.proto = next;
        Step::ProtoAgain
    }

    /// The switch on the IP protocol.
    fn ip_proto_step(&mut self) -> Step {
        let (f, off) = (self.frame, self.nhoff);
        match self.ip_proto {
            ip_proto::GRE => self.gre(),
            ip_proto::HOPOPTS | ip_proto::ROUTING | ip_proto::DSTOPTS => {
                if self.proto != ethertype::IPV6 {
                    return Step::Continue;
                }
                if !has(f, off, 2) {
                    return Step::Bad;
                }
                self.ip_proto = f[off];
                self.nhoff = off + (usize::from(f[off + 1]) + 1) * 8;
                Step::IpProtoAgain
            }
            ip_proto::FRAGMENT => {
                if self.proto != ethertype::IPV6 {
                    return Step::Continue;
                }
                if !has(f, off, 8) {
                    return Step::Bad;
                }
                self.is_fragment = true;
                self.ip_proto = f[off];
                self.nhoff = off + 8;
                Step::Good
            }
            ip_proto::IPIP => {
                self.proto = ethertype::IPV4;
                Step::ProtoAgain
            }
            ip_proto::IPV6 => {
                self.proto = ethertype::IPV6;
                Step::ProtoAgain
            }
            ip_proto::MPLS => {
                self.proto = ethertype::MPLS_UC;
                Step::ProtoAgain
            }
            ip_proto::ICMP | ip_proto::ICMPV6 => {
                get_icmp_key(f, off, &mut self.keys.icmp);
                Step::Continue
            }
            _ => Step::Continue,
        }
    }

    /// GRE versions 0 and 1 (`__skb_flow_dissect_gre`).
    fn gre(&mut self) -> Step {
        const CSUM: u16 = 0x8000;
        const ROUTING: u16 = 0x4000;
        const KEY: u16 = 0x2000;
        const SEQ: u16 = 0x1000;
        const ACK: u16 = 0x0080;
        const VERSION: u16 = 0x0007;

        let (f, base) = (self.frame, self.nhoff);
        let (Some(flags), Some(proto)) = (rd_be16(f, base), rd_be16(f, base + 2)) else {
            return Step::Bad;
        };
        if flags & ROUTING != 0 {
            return Step::Good;
        }
        let version = flags & VERSION;
        if version > 1 {
            return Step::Good;
        }
        self.proto = proto;
        if version == 1 && !(proto == ethertype::PPP && flags & KEY != 0) {
            return Step::Good;
        }
        let mut off = 4;
        if flags & CSUM != 0 {
            off += 4;
        }
        if flags & KEY != 0 {
            if !has(f, base + off, 4) {
                return Step::Bad;
            }
            off += 4;
        }
        if flags & SEQ != 0 {
            off += 4;
        }
        if version == 0 {
            if proto == ethertype::TEB {
                match rd_be16(f, base + off + ETHERTYPE_OFFSET) {
                    Some(inner) => self.proto = inner,
                    None => return Step::Bad,
                }
                off += 14;
            }
        } else {
            // PPTP: optional acknowledgement number, then a 4-byte PPP header.
            if flags & ACK != 0 {
                off += 4;
            }
            let Some(ppp) = rd_be16(f, base + off + 2) else {
                return Step::Bad;
            };
            match ppp {
                0x0021 => self.proto = ethertype::IPV4,
                0x0057 => self.proto = ethertype::IPV6,
                _ => {}
            }
            off += 4;
        }
        self.nhoff = base + off;
        Step::ProtoAgain
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    fn frames() -> Vec<Vec<u8>> {
        // Structured frames: IPv4 TCP/UDP/ICMP/fragments/options, IPv6, tagged, ARP.
        let mut out = Vec::new();
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..4000u32 {
            let mut f = vec![0u8; 64 + (i as usize % 40)];
            for b in f.iter_mut() {
                *b = rnd() as u8;
            }
            const IPV4: [u8; 3] = [0x08, 0x00, 0x45];
            match i % 10 {
                0..=3 => {
                    f[12..15].copy_from_slice(&IPV4);
                    f[20] &= 0x40; // DF at most: not a fragment
                    f[21] = 0;
                    f[23] = if i / 10 % 2 == 0 { 6 } else { 17 };
                    if i % 10 == 3 {
                        // One bit off: any flag, offset, TTL or protocol bit flipped.
                        let bit = rnd() % 32;
                        f[20 + (bit / 8) as usize] ^= 1 << (bit % 8);
                    }
                }
                4 => {
                    f[12..15].copy_from_slice(&IPV4);
                    f[23] = [1, 6, 17, 132][(i / 8) as usize % 4]; // fragments and others
                }
                5 => {
                    f[12..14].copy_from_slice(&[0x81, 0x00]);
                    f[16..19].copy_from_slice(&IPV4);
                }
                6 => f[12..15].copy_from_slice(&[0x86, 0xdd, 0x60]),
                // Any version nibble, header length, flags and protocol.
                7 => f[12..14].copy_from_slice(&IPV4[..2]),
                8 => {
                    // ICMP, not a fragment: echo, or an error quoting an IPv4 header.
                    f[12..15].copy_from_slice(&IPV4);
                    f[20] &= 0x40;
                    f[21] = 0;
                    f[23] = 1;
                    f[34] = [0, 3, 5, 8, 11][(i / 10) as usize % 5];
                    f[42] = 0x45;
                }
                _ => {}
            }
            out.push(f);
        }
        // Every prefix of a few, to cross the length checks.
        for f in out.clone().iter().take(8) {
            for n in 0..f.len() {
                out.push(f[..n].to_vec());
            }
        }
        out
    }

    #[test]
    fn fast_path_equals_the_general_walk() {
        let fs = frames();
        let mut fast = 0;
        for &p in XmitHashPolicy::ALL.iter() {
            for f in &fs {
                assert_eq!(
                    xmit_hash(p, f),
                    xmit_hash_generic(p, f),
                    "{p} on {:02x?}",
                    &f[..f.len().min(40)]
                );
                fast += fast_hash(p, f).is_some() as usize;
            }
        }
        assert!(fast > 10_000, "the fast path was taken {fast} times");
    }
}

#[cfg(test)]
mod tests {
    //! Expected values are derived by hand from the kernel formulas; the
    //! arithmetic is in the comments. Recurring quantities:
    //!
    //! * MACs: dst 00:11:22:33:44:55, src 66:77:88:99:aa:bb, so
    //!   `dst[5] ^ src[5] = 0x55 ^ 0xbb = 0xee`; layer2 term for IPv4 is
    //!   `0xee ^ 0x0800 = 0x08ee`, for IPv6 `0xee ^ 0x86dd = 0x8633`, for
    //!   ARP `0xee ^ 0x0806 = 0x08e8`.
    //! * A = 192.168.1.10 = c0 a8 01 0a -> LE word 0x0a01a8c0;
    //!   B = 10.0.0.1 = 0a 00 00 01 -> 0x0100000a; A^B = 0x0b01a8ca.
    //! * C = 172.16.0.1 -> 0x010010ac; D = 203.0.113.7 -> 0x077100cb;
    //!   C^D = 0x06711067 (tunnel outer addresses).
    //! * S6 = 2001:db8::1: words 20 01 0d b8 -> 0xb80d0120, 0, 0,
    //!   00 00 00 01 -> 0x01000000; XOR 0xb90d0120. D6 = 2001:db8::2 ->
    //!   0xba0d0120. S6^D6 = 0x03000000.
    //! * fold(h) = `h ^= h >> 16; h ^= h >> 8`.
    use super::*;
    use crate::wire::ip_proto as ipp;

    const DST: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
    const SRC: [u8; 6] = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];
    const A: [u8; 4] = [192, 168, 1, 10];
    const B: [u8; 4] = [10, 0, 0, 1];
    const C: [u8; 4] = [172, 16, 0, 1];
    const D: [u8; 4] = [203, 0, 113, 7];
    const S6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const D6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    use XmitHashPolicy::*;

    // ---- frame construction helpers -------------------------------------

    fn eth_with(dst: [u8; 6], src: [u8; 6], tags: &[(u16, u16)], ty: u16) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&dst);
        f.extend_from_slice(&src);
        for &(tpid, tci) in tags {
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&tci.to_be_bytes());
        }
        f.extend_from_slice(&ty.to_be_bytes());
        f
    }

    fn eth(tags: &[(u16, u16)], ty: u16) -> Vec<u8> {
        eth_with(DST, SRC, tags, ty)
    }

    /// IPv4 header (IHL 5) followed by `payload`; `frag` is the whole
    /// flags/fragment-offset word.
    fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        h.extend_from_slice(&[0x12, 0x34]);
        h.extend_from_slice(&frag.to_be_bytes());
        h.extend_from_slice(&[64, proto, 0, 0]);
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        let mut p = crate::wire::Ipv4Packet::new_unchecked(&mut h[..]);
        p.fill_checksum();
        h.extend_from_slice(payload);
        h
    }

    fn ipv6(src: [u8; 16], dst: [u8; 16], nh: u8, payload: &[u8]) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        h.extend_from_slice(&[nh, 64]);
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h.extend_from_slice(payload);
        h
    }

    /// First 8 bytes of a TCP/UDP/SCTP header: ports and 4 more bytes.
    fn ports(sport: u16, dport: u16) -> Vec<u8> {
        let mut p = sport.to_be_bytes().to_vec();
        p.extend_from_slice(&dport.to_be_bytes());
        p.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        p
    }

    fn icmp(ty: u8, code: u8, id: u16, seq: u16) -> Vec<u8> {
        let mut p = vec![ty, code, 0, 0];
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn tcp4() -> Vec<u8> {
        ipv4(A, B, ipp::TCP, 0, &ports(12345, 80))
    }

    fn tcp6() -> Vec<u8> {
        ipv6(S6, D6, ipp::TCP, &ports(51000, 443))
    }

    /// Ethernet + IPv4 A->B TCP 12345->80, untagged.
    fn frame_tcp4() -> Vec<u8> {
        cat(&[&eth(&[], 0x0800), &tcp4()])
    }

    // Values shared by several tests.
    /// layer2, IPv4: 0xee ^ 0x0800.
    const L2_V4: u32 = 0x08ee;
    /// layer2+3, IPv4 A<->B: h = 0x08ee ^ 0x0b01a8ca = 0x0b01a024;
    /// ^>>16 -> 0x0b01ab25; ^>>8 -> 0x0b0aaa8e.
    const L23_AB: u32 = 0x0b0a_aa8e;
    /// layer3+4, IPv4 A->B TCP 12345->80: ports 30 39 00 50 -> 0x50003930;
    /// h = 0x50003930 ^ 0x0b01a8ca = 0x5b0191fa; ^>>16 -> 0x5b01cafb;
    /// ^>>8 -> 0x5b5acb31; >>1 -> 0x2dad6598.
    const L34_AB_TCP: u32 = 0x2dad_6598;
    /// layer3+4, addresses A<->B only: h = 0x0b01a8ca; ^>>16 -> 0x0b01a3cb;
    /// ^>>8 -> 0x0b0aa268; >>1 -> 0x05855134.
    const L34_AB_NOPORTS: u32 = 0x0585_5134;
    /// layer3+4, IPv6 S6->D6 TCP 51000->443: ports c7 38 01 bb ->
    /// 0xbb0138c7; h = 0xbb0138c7 ^ 0x03000000 = 0xb80138c7; ^>>16 ->
    /// 0xb80180c6; ^>>8 -> 0xb8b98146; >>1 -> 0x5c5cc0a3.
    const L34_V6_TCP: u32 = 0x5c5c_c0a3;
    /// layer3+4, IPv6 addresses only: h = 0x03000000; ^>>16 -> 0x03000300;
    /// ^>>8 -> 0x03030303; >>1 -> 0x01818181.
    const L34_V6_NOPORTS: u32 = 0x0181_8181;
    /// layer3+4, outer C<->D, no ports: h = 0x06711067; ^>>16 ->
    /// 0x06711616; ^>>8 -> 0x06776700; >>1 -> 0x033bb380.
    const L34_CD_NOPORTS: u32 = 0x033b_b380;
    /// vlan+srcmac untagged: 0x667788 ^ 0x99aabb = 0xffdd33.
    const SRCMAC: u32 = 0x00ff_dd33;

    // ---- policy names ---------------------------------------------------

    #[test]
    fn policy_names_numbers_and_proc_text() {
        let want = [
            ("layer2", 0, "layer2 (0)"),
            ("layer3+4", 1, "layer3+4 (1)"),
            ("layer2+3", 2, "layer2+3 (2)"),
            ("encap2+3", 3, "encap2+3 (3)"),
            ("encap3+4", 4, "encap3+4 (4)"),
            ("vlan+srcmac", 5, "vlan+srcmac (5)"),
        ];
        for (p, (name, num, proc_text)) in XmitHashPolicy::ALL.into_iter().zip(want) {
            assert_eq!(p.to_string(), name);
            assert_eq!(p.value(), num);
            assert_eq!(p.proc_text(), proc_text);
            assert_eq!(name.parse::<XmitHashPolicy>(), Ok(p));
            assert_eq!(num.to_string().parse::<XmitHashPolicy>(), Ok(p));
            assert_eq!(format!(" {name}\n").parse::<XmitHashPolicy>(), Ok(p));
            assert_eq!(XmitHashPolicy::from_value(num), Some(p));
        }
        for bad in [
            "", "6", "-1", "layer3", "Layer2", "layer2+4", "256", "srcmac",
        ] {
            assert_eq!(
                bad.parse::<XmitHashPolicy>(),
                Err(ParsePolicyError),
                "{bad:?}"
            );
        }
        assert_eq!(XmitHashPolicy::default(), Layer2);
    }

    #[test]
    fn member_for_is_modulo() {
        assert_eq!(member_for(L34_AB_TCP, 1), 0);
        // 0x2dad6598 is even -> member 0 of 2; 0x2dad6598 % 3 = 766338456 % 3 = 0.
        assert_eq!(member_for(L34_AB_TCP, 2), 0);
        assert_eq!(member_for(L34_AB_TCP, 3), (0x2dad_6598u32 % 3) as usize);
        // 0x08ee = 2286; 2286 % 4 = 2.
        assert_eq!(member_for(L2_V4, 4), 2);
        assert_eq!(member_for(7, 0), 0);
    }

    // ---- layer2 -----------------------------------------------------------

    #[test]
    fn layer2_untagged_vlan_qinq() {
        assert_eq!(xmit_hash(Layer2, &frame_tcp4()), L2_V4);
        // The tags are skipped: the EtherType term is the inner 0x0800.
        let vlan = cat(&[&eth(&[(0x8100, 0x0064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(Layer2, &vlan), L2_V4);
        let qinq = cat(&[&eth(&[(0x88a8, 0x00c8), (0x8100, 0x0064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(Layer2, &qinq), L2_V4);
        let q9100 = cat(&[&eth(&[(0x9100, 0x00c8), (0x8100, 0x0064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(Layer2, &q9100), L2_V4);
        // IPv6: 0xee ^ 0x86dd = 0x8633.
        assert_eq!(
            xmit_hash(Layer2, &cat(&[&eth(&[], 0x86dd), &tcp6()])),
            0x8633
        );
    }

    #[test]
    fn layer2_arp() {
        let arp = cat(&[&eth(&[], 0x0806), &[0u8; 28]]);
        // 0xee ^ 0x0806 = 0x08e8.
        assert_eq!(xmit_hash(Layer2, &arp), 0x08e8);
    }

    #[test]
    fn layer2_only_last_octets_matter() {
        let mut f = frame_tcp4();
        f[0] ^= 0xff;
        f[6] ^= 0xff;
        assert_eq!(xmit_hash(Layer2, &f), L2_V4);
        f[5] = 0x54; // 0x54 ^ 0xbb = 0xef -> 0x08ef
        assert_eq!(xmit_hash(Layer2, &f), 0x08ef);
    }

    // ---- layer2+3 ---------------------------------------------------------

    #[test]
    fn layer23_ipv4_and_tags() {
        assert_eq!(xmit_hash(Layer23, &frame_tcp4()), L23_AB);
        let vlan = cat(&[&eth(&[(0x8100, 0x0064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(Layer23, &vlan), L23_AB);
        let qinq = cat(&[&eth(&[(0x88a8, 0x00c8), (0x8100, 0x0064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(Layer23, &qinq), L23_AB);
        // Ports do not matter for layer2+3.
        let other = cat(&[&eth(&[], 0x0800), &ipv4(A, B, ipp::UDP, 0, &ports(1, 2))]);
        assert_eq!(xmit_hash(Layer23, &other), L23_AB);
    }

    #[test]
    fn layer23_ipv6() {
        // h = 0x8633 ^ 0x03000000 = 0x03008633; ^>>16 -> 0x03008533;
        // ^>>8 -> 0x030385b6.
        let f = cat(&[&eth(&[], 0x86dd), &ipv6(S6, D6, ipp::UDP, &ports(1, 2))]);
        assert_eq!(xmit_hash(Layer23, &f), 0x0303_85b6);
    }

    #[test]
    fn layer23_fragment_and_icmp_are_l3_only() {
        let frag = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::TCP, 0x2000, &ports(1, 2)),
        ]);
        assert_eq!(xmit_hash(Layer23, &frag), L23_AB);
        let echo = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::ICMP, 0, &icmp(8, 0, 0x1234, 1)),
        ]);
        assert_eq!(xmit_hash(Layer23, &echo), L23_AB);
    }

    #[test]
    fn layer23_non_ip_falls_back_to_layer2() {
        let arp = cat(&[&eth(&[], 0x0806), &[0u8; 28]]);
        assert_eq!(xmit_hash(Layer23, &arp), 0x08e8);
        let lacp = cat(&[&eth(&[], 0x8809), &[1u8; 110]]);
        // 0xee ^ 0x8809 = 0x88e7.
        assert_eq!(xmit_hash(Layer23, &lacp), 0x88e7);
    }

    // ---- layer3+4 ---------------------------------------------------------

    #[test]
    fn layer34_ipv4_tcp_udp_sctp() {
        assert_eq!(xmit_hash(Layer34, &frame_tcp4()), L34_AB_TCP);
        // UDP 5353->53: 14 e9 00 35 -> 0x3500e914; h = 0x3500e914 ^
        // 0x0b01a8ca = 0x3e0141de; ^>>16 -> 0x3e017fdf; ^>>8 -> 0x3e3f7ea0;
        // >>1 -> 0x1f1fbf50.
        let udp = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::UDP, 0, &ports(5353, 53)),
        ]);
        assert_eq!(xmit_hash(Layer34, &udp), 0x1f1f_bf50);
        // SCTP 2905->2905: 0b 59 0b 59 -> 0x590b590b; h = 0x520af1c1;
        // ^>>16 -> 0x520aa3cb; ^>>8 -> 0x5258a968; >>1 -> 0x292c54b4.
        let sctp = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::SCTP, 0, &ports(2905, 2905)),
        ]);
        assert_eq!(xmit_hash(Layer34, &sctp), 0x292c_54b4);
        // DCCP and UDP-Lite use the same 4 bytes as TCP.
        for p in [ipp::DCCP, ipp::UDPLITE] {
            let f = cat(&[&eth(&[], 0x0800), &ipv4(A, B, p, 0, &ports(12345, 80))]);
            assert_eq!(xmit_hash(Layer34, &f), L34_AB_TCP, "proto {p}");
        }
    }

    #[test]
    fn layer34_vlan_and_qinq_match_untagged() {
        let vlan = cat(&[&eth(&[(0x8100, 0x0064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(Layer34, &vlan), L34_AB_TCP);
        let qinq = cat(&[&eth(&[(0x88a8, 0x00c8), (0x8100, 0x0064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(Layer34, &qinq), L34_AB_TCP);
    }

    #[test]
    fn layer34_fragments_hash_on_addresses_only() {
        // First fragment: MF set, offset 0.
        let first = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::TCP, 0x2000, &ports(12345, 80)),
        ]);
        assert_eq!(xmit_hash(Layer34, &first), L34_AB_NOPORTS);
        // Later fragment: offset 185, MF clear; its "ports" are payload.
        let later = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::TCP, 185, &ports(999, 999)),
        ]);
        assert_eq!(xmit_hash(Layer34, &later), L34_AB_NOPORTS);
        // DF alone is not a fragment.
        let df = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::TCP, 0x4000, &ports(12345, 80)),
        ]);
        assert_eq!(xmit_hash(Layer34, &df), L34_AB_TCP);
    }

    #[test]
    fn layer34_ipv6_tcp_udp() {
        assert_eq!(
            xmit_hash(Layer34, &cat(&[&eth(&[], 0x86dd), &tcp6()])),
            L34_V6_TCP
        );
        let udp = cat(&[
            &eth(&[], 0x86dd),
            &ipv6(S6, D6, ipp::UDP, &ports(51000, 443)),
        ]);
        assert_eq!(xmit_hash(Layer34, &udp), L34_V6_TCP);
        let vlan = cat(&[&eth(&[(0x8100, 5)], 0x86dd), &tcp6()]);
        assert_eq!(xmit_hash(Layer34, &vlan), L34_V6_TCP);
    }

    #[test]
    fn layer34_ipv6_extension_header_hides_ports() {
        // Hop-by-hop (next header 0) then TCP: bonding's own parser stops at
        // the fixed header, proto 0 has no ports -> addresses only.
        let mut hbh = vec![ipp::TCP, 0, 1, 4, 0, 0, 0, 0];
        hbh.extend_from_slice(&ports(51000, 443));
        let f = cat(&[&eth(&[], 0x86dd), &ipv6(S6, D6, ipp::HOPOPTS, &hbh)]);
        assert_eq!(xmit_hash(Layer34, &f), L34_V6_NOPORTS);
        // The flow dissector (encap3+4) walks the option header.
        assert_eq!(xmit_hash(Encap34, &f), L34_V6_TCP);
    }

    #[test]
    fn layer34_icmp_echo_uses_identifier() {
        // Key = type 8 | code 0 << 8 | id 0x1234 << 16 = 0x12340008;
        // h = 0x12340008 ^ 0x0b01a8ca = 0x1935a8c2; ^>>16 -> 0x1935b1f7;
        // ^>>8 -> 0x192c8446; >>1 -> 0x0c964223.
        let echo = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::ICMP, 0, &icmp(8, 0, 0x1234, 1)),
        ]);
        assert_eq!(xmit_hash(Layer34, &echo), 0x0c96_4223);
        // The reply (type 0) with the same id differs only in the type.
        let reply = cat(&[
            &eth(&[], 0x0800),
            &ipv4(B, A, ipp::ICMP, 0, &icmp(0, 0, 0x1234, 1)),
        ]);
        // key 0x12340000; h = 0x1935a8ca; ^>>16 -> 0x1935b1ff;
        // ^>>8 -> 0x192c844e; >>1 -> 0x0c964227.
        assert_eq!(xmit_hash(Layer34, &reply), 0x0c96_4227);
        // Identifier 0 is replaced by 1: key 0x00010008; h = 0x0b00a8c2;
        // ^>>16 -> 0x0b00a3c2; ^>>8 -> 0x0b0ba361; >>1 -> 0x0585d1b0.
        let zero = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::ICMP, 0, &icmp(8, 0, 0, 1)),
        ]);
        assert_eq!(xmit_hash(Layer34, &zero), 0x0585_d1b0);
        // The sequence number is not part of the key.
        let seq = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::ICMP, 0, &icmp(8, 0, 0x1234, 77)),
        ]);
        assert_eq!(xmit_hash(Layer34, &seq), 0x0c96_4223);
        // Types without an identifier (e.g. 9, router advertisement) use
        // ports = 0 -> addresses only.
        let ra = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::ICMP, 0, &icmp(9, 0, 0x1234, 1)),
        ]);
        assert_eq!(xmit_hash(Layer34, &ra), L34_AB_NOPORTS);
        // Truncated ICMP header (4 bytes): key stays zero -> addresses only.
        let short = cat(&[&eth(&[], 0x0800), &ipv4(A, B, ipp::ICMP, 0, &[8, 0, 0, 0])]);
        assert_eq!(xmit_hash(Layer34, &short), L34_AB_NOPORTS);
    }

    #[test]
    fn layer34_icmpv6_echo() {
        // Key = 128 | 0 << 8 | 0x0042 << 16 = 0x00420080; h = 0x00420080 ^
        // 0x03000000 = 0x03420080; ^>>16 -> 0x034203c2; ^>>8 -> 0x034141c1;
        // >>1 -> 0x01a0a0e0.
        let f = cat(&[
            &eth(&[], 0x86dd),
            &ipv6(S6, D6, ipp::ICMPV6, &icmp(128, 0, 0x42, 1)),
        ]);
        assert_eq!(xmit_hash(Layer34, &f), 0x01a0_a0e0);
        assert_eq!(xmit_hash(Encap34, &f), 0x01a0_a0e0);
        // Neighbour solicitation (135) carries no identifier.
        let ns = cat(&[
            &eth(&[], 0x86dd),
            &ipv6(S6, D6, ipp::ICMPV6, &icmp(135, 0, 0, 0)),
        ]);
        assert_eq!(xmit_hash(Layer34, &ns), L34_V6_NOPORTS);
    }

    #[test]
    fn layer34_icmp_error_hashes_the_quoted_packet() {
        // Router R = 198.51.100.1 reports "port unreachable" for the A->B
        // TCP segment; layer3+4 hashes the quoted header and its ports,
        // which gives exactly the value of that TCP flow.
        const R: [u8; 4] = [198, 51, 100, 1];
        let err = cat(&[
            &eth(&[], 0x0800),
            &ipv4(R, A, ipp::ICMP, 0, &cat(&[&icmp(3, 3, 0, 0), &tcp4()])),
        ]);
        assert_eq!(xmit_hash(Layer34, &err), L34_AB_TCP);
        assert_eq!(xmit_hash(Layer23, &err), L23_AB);
        // encap3+4 uses the general dissector, which does not look inside:
        // outer R^A = 0x0164...: R = c6 33 64 01 -> 0x016433c6, A ->
        // 0x0a01a8c0, XOR 0x0b659b06; ^>>16 -> 0x0b659063; ^>>8 ->
        // 0x0b6ef5f3; >>1 -> 0x05b77af9.
        assert_eq!(xmit_hash(Encap34, &err), 0x05b7_7af9);
        // Quoted header cut short: the whole thing falls back to layer2.
        let cut = &err[..14 + 20 + 8 + 10];
        assert_eq!(xmit_hash(Layer34, cut), L2_V4);
        // ICMPv6 packet too big (2) quoting the IPv6 TCP packet.
        let err6 = cat(&[
            &eth(&[], 0x86dd),
            &ipv6(D6, S6, ipp::ICMPV6, &cat(&[&icmp(2, 0, 0, 1500), &tcp6()])),
        ]);
        assert_eq!(xmit_hash(Layer34, &err6), L34_V6_TCP);
    }

    #[test]
    fn layer34_ipsec_spi() {
        // ESP: SPI de ad be ef at offset 0 -> 0xefbeadde; h = 0xefbeadde ^
        // 0x0b01a8ca = 0xe4bf0514; ^>>16 -> 0xe4bfe1ab; ^>>8 -> 0xe45b5e4a;
        // >>1 -> 0x722daf25.
        let esp = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::ESP, 0, &[0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1]),
        ]);
        assert_eq!(xmit_hash(Layer34, &esp), 0x722d_af25);
        // AH: SPI 01 02 03 04 at offset 4 -> 0x04030201; h = 0x0f02aacb;
        // ^>>16 -> 0x0f02a5c9; ^>>8 -> 0x0f0da76c; >>1 -> 0x0786d3b6.
        let ah = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::AH, 0, &[ipp::TCP, 4, 0, 0, 1, 2, 3, 4]),
        ]);
        assert_eq!(xmit_hash(Layer34, &ah), 0x0786_d3b6);
    }

    #[test]
    fn layer34_missing_l4_means_zero_ports() {
        let f = frame_tcp4();
        // Cut right after the IP header, and 2 bytes into the ports.
        assert_eq!(xmit_hash(Layer34, &f[..34]), L34_AB_NOPORTS);
        assert_eq!(xmit_hash(Layer34, &f[..36]), L34_AB_NOPORTS);
        assert_eq!(xmit_hash(Layer34, &f[..38]), L34_AB_TCP);
    }

    #[test]
    fn layer34_uses_ihl_unvalidated_like_the_kernel() {
        // IHL 4: bonding's parser takes the "transport header" at offset 16
        // of the IP header, i.e. the destination address 0a 00 00 01 ->
        // ports 0x0100000a; h = 0x0100000a ^ 0x0b01a8ca = 0x0a01a8c0;
        // ^>>16 -> 0x0a01a2c1; ^>>8 -> 0x0a0ba363; >>1 -> 0x0505d1b1.
        let mut f = frame_tcp4();
        f[14] = 0x44;
        assert_eq!(xmit_hash(Layer34, &f), 0x0505_d1b1);
        // The flow dissector refuses IHL < 5 -> layer2 fallback.
        assert_eq!(xmit_hash(Encap34, &f), L2_V4);
    }

    #[test]
    fn layer34_arp_falls_back_to_layer2() {
        let arp = cat(&[&eth(&[], 0x0806), &[0u8; 28]]);
        assert_eq!(xmit_hash(Layer34, &arp), 0x08e8);
    }

    // ---- runts ------------------------------------------------------------

    #[test]
    fn runt_frames() {
        let f = frame_tcp4();
        for p in XmitHashPolicy::ALL {
            // No Ethernet header at all: 0.
            assert_eq!(xmit_hash(p, &[]), 0, "{p} len 0");
            assert_eq!(xmit_hash(p, &f[..10]), 0, "{p} len 10");
            assert_eq!(xmit_hash(p, &f[..13]), 0, "{p} len 13");
            // Ethernet header but no (complete) IP header: layer2 value,
            // except vlan+srcmac which needs only the header.
            let want = if p == VlanSrcMac { SRCMAC } else { L2_V4 };
            assert_eq!(xmit_hash(p, &f[..14]), want, "{p} len 14");
            assert_eq!(xmit_hash(p, &f[..20]), want, "{p} len 20");
            assert_eq!(xmit_hash(p, &f[..33]), want, "{p} len 33");
        }
        // 34 bytes: the IPv4 header is complete.
        assert_eq!(xmit_hash(Layer23, &f[..34]), L23_AB);
        // IPv6 header cut at 39 bytes: layer2 (0x8633).
        let f6 = cat(&[&eth(&[], 0x86dd), &tcp6()]);
        assert_eq!(xmit_hash(Layer34, &f6[..14 + 39]), 0x8633);
        assert_eq!(xmit_hash(Encap34, &f6[..14 + 39]), 0x8633);
        // A 16-byte frame with a TPID but no room for a full tag: not
        // skipped, EtherType 0x8100: 0xee ^ 0x8100 = 0x81ee.
        let t = eth(&[], 0x8100);
        let t16 = cat(&[&t, &[0x00, 0x64]]);
        for p in [Layer2, Layer23, Layer34, Encap23, Encap34] {
            assert_eq!(xmit_hash(p, &t16), 0x81ee, "{p}");
        }
        assert_eq!(xmit_hash(VlanSrcMac, &t16), SRCMAC);
    }

    // ---- vlan+srcmac ------------------------------------------------------

    #[test]
    fn vlan_srcmac() {
        // Untagged: 0x667788 ^ 0x99aabb = 0xffdd33.
        assert_eq!(xmit_hash(VlanSrcMac, &frame_tcp4()), SRCMAC);
        let arp = cat(&[&eth(&[], 0x0806), &[0u8; 28]]);
        assert_eq!(xmit_hash(VlanSrcMac, &arp), SRCMAC);
        // TCI 0x2064 (PCP 1, VID 100): full TCI: 0xffdd33 ^ 0x2064 = 0xfffd57.
        let vlan = cat(&[&eth(&[(0x8100, 0x2064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(VlanSrcMac, &vlan), 0x00ff_fd57);
        // QinQ: only the outer TCI 0x00c8: 0xffdd33 ^ 0xc8 = 0xffddfb.
        let qinq = cat(&[&eth(&[(0x88a8, 0x00c8), (0x8100, 0x2064)], 0x0800), &tcp4()]);
        assert_eq!(xmit_hash(VlanSrcMac, &qinq), 0x00ff_ddfb);
        // Destination MAC and payload do not matter.
        let other = cat(&[&eth_with([1; 6], SRC, &[], 0x86dd), &tcp6()]);
        assert_eq!(xmit_hash(VlanSrcMac, &other), SRCMAC);
    }

    // ---- encap2+3 / encap3+4 ---------------------------------------------

    #[test]
    fn encap_plain_frames_match_layer_policies() {
        let f = frame_tcp4();
        assert_eq!(xmit_hash(Encap34, &f), L34_AB_TCP);
        assert_eq!(xmit_hash(Encap23, &f), L23_AB);
        let f6 = cat(&[&eth(&[(0x8100, 7)], 0x86dd), &tcp6()]);
        assert_eq!(xmit_hash(Encap34, &f6), L34_V6_TCP);
        let frag = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::UDP, 0x2000, &ports(1, 2)),
        ]);
        assert_eq!(xmit_hash(Encap34, &frag), L34_AB_NOPORTS);
        let echo = cat(&[
            &eth(&[], 0x0800),
            &ipv4(A, B, ipp::ICMP, 0, &icmp(8, 0, 0x1234, 1)),
        ]);
        assert_eq!(xmit_hash(Encap34, &echo), 0x0c96_4223);
    }

    #[test]
    fn ipv4_in_ipv4() {
        let f = cat(&[&eth(&[], 0x0800), &ipv4(C, D, ipp::IPIP, 0, &tcp4())]);
        // The layer policies see only the outer header (proto 4: no ports).
        assert_eq!(xmit_hash(Layer34, &f), L34_CD_NOPORTS);
        // layer2+3: h = 0x08ee ^ 0x06711067 = 0x06711889; ^>>16 ->
        // 0x06711ef8; ^>>8 -> 0x06776fe6.
        assert_eq!(xmit_hash(Layer23, &f), 0x0677_6fe6);
        // encap: the inner header, with the outer frame's layer2 term.
        assert_eq!(xmit_hash(Encap34, &f), L34_AB_TCP);
        assert_eq!(xmit_hash(Encap23, &f), L23_AB);
        // Inner header cut short: the dissector fails -> layer2.
        assert_eq!(xmit_hash(Encap34, &f[..14 + 20 + 19]), L2_V4);
    }

    #[test]
    fn ipv6_in_ipv4_and_ip_in_ipv6() {
        let f = cat(&[&eth(&[], 0x0800), &ipv4(C, D, ipp::IPV6, 0, &tcp6())]);
        assert_eq!(xmit_hash(Encap34, &f), L34_V6_TCP);
        // encap2+3 keeps the outer EtherType in the layer2 term:
        // h = 0x08ee ^ 0x03000000 = 0x030008ee; ^>>16 -> 0x03000bee;
        // ^>>8 -> 0x03030be5.
        assert_eq!(xmit_hash(Encap23, &f), 0x0303_0be5);

        let outer6a: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa];
        let outer6b: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb];
        let f = cat(&[
            &eth(&[], 0x86dd),
            &ipv6(outer6a, outer6b, ipp::IPIP, &tcp4()),
        ]);
        assert_eq!(xmit_hash(Encap34, &f), L34_AB_TCP);
        // h = 0x8633 ^ 0x0b01a8ca = 0x0b012ef9; ^>>16 -> 0x0b0125f8;
        // ^>>8 -> 0x0b0a24dd.
        assert_eq!(xmit_hash(Encap23, &f), 0x0b0a_24dd);
        let f = cat(&[
            &eth(&[], 0x86dd),
            &ipv6(outer6a, outer6b, ipp::IPV6, &tcp6()),
        ]);
        assert_eq!(xmit_hash(Encap34, &f), L34_V6_TCP);
    }

    fn gre(flags: u16, proto: u16, extra: &[u8]) -> Vec<u8> {
        let mut g = flags.to_be_bytes().to_vec();
        g.extend_from_slice(&proto.to_be_bytes());
        g.extend_from_slice(extra);
        g
    }

    #[test]
    fn gre_ipv4_and_ipv6() {
        let f = cat(&[
            &eth(&[], 0x0800),
            &ipv4(C, D, ipp::GRE, 0, &cat(&[&gre(0, 0x0800, &[]), &tcp4()])),
        ]);
        assert_eq!(xmit_hash(Encap34, &f), L34_AB_TCP);
        assert_eq!(xmit_hash(Encap23, &f), L23_AB);
        // GRE is not a ports protocol for layer3+4.
        assert_eq!(xmit_hash(Layer34, &f), L34_CD_NOPORTS);
        let f6 = cat(&[
            &eth(&[], 0x0800),
            &ipv4(C, D, ipp::GRE, 0, &cat(&[&gre(0, 0x86dd, &[]), &tcp6()])),
        ]);
        assert_eq!(xmit_hash(Encap34, &f6), L34_V6_TCP);
    }

    #[test]
    fn gre_with_options_and_transparent_ethernet() {
        // Checksum + key + sequence words, then an Ethernet frame with its
        // own MACs and an 802.1Q tag, then IPv4 TCP.
        let opts = [0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 7];
        let inner = cat(&[&eth_with([9; 6], [8; 6], &[(0x8100, 30)], 0x0800), &tcp4()]);
        let g = cat(&[&gre(0x8000 | 0x2000 | 0x1000, 0x6558, &opts), &inner]);
        let f = cat(&[
            &eth(&[(0x8100, 0x0064)], 0x0800),
            &ipv4(C, D, ipp::GRE, 0, &g),
        ]);
        assert_eq!(xmit_hash(Encap34, &f), L34_AB_TCP);
        // The layer2 term is the outer frame's (inner MACs ignored).
        assert_eq!(xmit_hash(Encap23, &f), L23_AB);
        // Key announced but cut off: dissection fails -> layer2.
        let cut = cat(&[
            &eth(&[], 0x0800),
            &ipv4(C, D, ipp::GRE, 0, &gre(0x2000, 0x0800, &[0, 0])),
        ]);
        assert_eq!(xmit_hash(Encap34, &cut), L2_V4);
    }

    #[test]
    fn gre_not_followed() {
        // Routing bit or version > 1: dissection stops at the outer header
        // with ports 0.
        for flags in [0x4000u16, 0x0002] {
            let f = cat(&[
                &eth(&[], 0x0800),
                &ipv4(
                    C,
                    D,
                    ipp::GRE,
                    0,
                    &cat(&[&gre(flags, 0x0800, &[0; 8]), &tcp4()]),
                ),
            ]);
            assert_eq!(xmit_hash(Encap34, &f), L34_CD_NOPORTS, "flags {flags:#x}");
        }
        // Version 1 without the PPP/key combination is not PPTP: same.
        let f = cat(&[
            &eth(&[], 0x0800),
            &ipv4(
                C,
                D,
                ipp::GRE,
                0,
                &cat(&[&gre(0x0001, 0x0800, &[]), &tcp4()]),
            ),
        ]);
        assert_eq!(xmit_hash(Encap34, &f), L34_CD_NOPORTS);
    }

    #[test]
    fn gre_pptp() {
        // Version 1, key (payload length + call id), sequence, PPP header
        // ff 03 00 21 (IPv4).
        let extra = [0, 40, 0, 1, 0, 0, 0, 9, 0xff, 0x03, 0x00, 0x21];
        let g = cat(&[&gre(0x2000 | 0x1000 | 0x0001, 0x880b, &extra), &tcp4()]);
        let f = cat(&[&eth(&[], 0x0800), &ipv4(C, D, ipp::GRE, 0, &g)]);
        assert_eq!(xmit_hash(Encap34, &f), L34_AB_TCP);
    }

    #[test]
    fn udp_tunnels_are_not_followed() {
        // VXLAN (UDP 4789) carrying an Ethernet/IPv4 frame: the outer UDP
        // ports are used, like layer3+4. Outer C->D, ports 0xc000 -> 4789
        // (c0 00 12 b5 -> 0xb51200c0); h = 0xb51200c0 ^ 0x06711067 =
        // 0xb36310a7; ^>>16 -> 0xb363a3c4; ^>>8 -> 0xb3d0c067;
        // >>1 -> 0x59e86033.
        let vx = cat(&[
            &ports(0xc000, 4789),
            &[8, 0, 0, 0, 0, 0, 1, 0],
            &frame_tcp4(),
        ]);
        let f = cat(&[&eth(&[], 0x0800), &ipv4(C, D, ipp::UDP, 0, &vx)]);
        assert_eq!(xmit_hash(Encap34, &f), 0x59e8_6033);
        assert_eq!(xmit_hash(Layer34, &f), 0x59e8_6033);
    }

    #[test]
    fn encap_non_ip_protocols() {
        let arp = cat(&[&eth(&[], 0x0806), &[0u8; 28]]);
        // The dissector accepts ARP without addresses: encap2+3 folds the
        // layer2 term alone: 0x08e8 ^ (0x08e8 >> 8 = 0x08) = 0x08e0;
        // encap3+4 is 0 (no ports, no addresses).
        assert_eq!(xmit_hash(Encap23, &arp), 0x08e0);
        assert_eq!(xmit_hash(Encap34, &arp), 0);
        // Even an empty ARP payload is accepted.
        assert_eq!(xmit_hash(Encap34, &eth(&[], 0x0806)), 0);
        // MPLS likewise.
        let mpls = cat(&[&eth(&[], 0x8847), &[0, 1, 0x01, 0x40], &tcp4()]);
        assert_eq!(xmit_hash(Encap34, &mpls), 0);
        // Unknown EtherType (LACP): dissector fails -> layer2 0x88e7.
        let lacp = cat(&[&eth(&[], 0x8809), &[1u8; 110]]);
        assert_eq!(xmit_hash(Encap34, &lacp), 0x88e7);
        // FCoE needs 38 bytes after the header.
        assert_eq!(
            xmit_hash(Encap34, &cat(&[&eth(&[], 0x8906), &[0u8; 38]])),
            0
        );
        // 0xee ^ 0x8906 = 0x89e8.
        assert_eq!(
            xmit_hash(Encap34, &cat(&[&eth(&[], 0x8906), &[0u8; 37]])),
            0x89e8
        );
    }

    #[test]
    fn encap_tipc_uses_node_identity() {
        // Word 3 = 01 02 03 04 -> 0x04030201 as the only address word:
        // h = 0x04030201; ^>>16 -> 0x04030602; ^>>8 -> 0x04070504;
        // >>1 -> 0x02038282.
        let hdr = [0x40, 0, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        let f = cat(&[&eth(&[], 0x88ca), &hdr]);
        assert_eq!(xmit_hash(Encap34, &f), 0x0203_8282);
        // Header cut short: failure -> layer2 0xee ^ 0x88ca = 0x8824.
        assert_eq!(xmit_hash(Encap34, &f[..29]), 0x8824);
    }

    #[test]
    fn encap_pppoe_session() {
        let mut p = vec![0x11, 0x00, 0x12, 0x34, 0x00, 0x2a, 0x00, 0x21];
        p.extend_from_slice(&tcp4());
        let f = cat(&[&eth(&[], 0x8864), &p]);
        assert_eq!(xmit_hash(Encap34, &f), L34_AB_TCP);
        // Layer policies do not understand PPPoE: layer2 0xee ^ 0x8864 = 0x888a.
        assert_eq!(xmit_hash(Layer34, &f), 0x888a);
        // LCP (0xc021) is a valid PPP protocol without addresses -> 0.
        let mut lcp = p.clone();
        lcp[6..8].copy_from_slice(&[0xc0, 0x21]);
        assert_eq!(xmit_hash(Encap34, &cat(&[&eth(&[], 0x8864), &lcp])), 0);
        // Wrong version/type -> failure -> layer2.
        let mut bad = p;
        bad[0] = 0x21;
        assert_eq!(xmit_hash(Encap34, &cat(&[&eth(&[], 0x8864), &bad])), 0x888a);
    }

    #[test]
    fn encap_ipv6_fragment_header_stops() {
        // IPv6 fragment header (first fragment) then TCP: no ports.
        let mut fh = vec![ipp::TCP, 0, 0, 1, 0, 0, 0, 9];
        fh.extend_from_slice(&ports(51000, 443));
        let f = cat(&[&eth(&[], 0x86dd), &ipv6(S6, D6, ipp::FRAGMENT, &fh)]);
        assert_eq!(xmit_hash(Encap34, &f), L34_V6_NOPORTS);
    }

    #[test]
    fn encap_header_limit_is_fifteen() {
        // 20 nested IPv4-in-IPv4 headers, header i: 10.0.0.i -> 10.0.1.0.
        // The dissector parses the outer header plus 15 more, so it stops
        // on header 15 with ports 0: 0a 00 00 0f ^ 0a 00 01 00 = 00 00 01 0f
        // -> 0x0f010000; ^>>16 -> 0x0f010f01; ^>>8 -> 0x0f0e0e0e;
        // >>1 -> 0x07870707.
        let mut pkt = tcp4();
        for i in (0..20u8).rev() {
            pkt = ipv4([10, 0, 0, i], [10, 0, 1, 0], ipp::IPIP, 0, &pkt);
        }
        let f = cat(&[&eth(&[], 0x0800), &pkt]);
        assert_eq!(xmit_hash(Encap34, &f), 0x0787_0707);
        // encap2+3: h = 0x08ee ^ 0x0f010000 = 0x0f0108ee; ^>>16 ->
        // 0x0f0107ef; ^>>8 -> 0x0f0e06e8.
        assert_eq!(xmit_hash(Encap23, &f), 0x0f0e_06e8);
        // With only 15 headers in all, the innermost TCP is reached.
        let mut pkt = tcp4();
        for i in (0..14u8).rev() {
            pkt = ipv4([10, 0, 0, i], [10, 0, 1, 0], ipp::IPIP, 0, &pkt);
        }
        let f = cat(&[&eth(&[], 0x0800), &pkt]);
        assert_eq!(xmit_hash(Encap34, &f), L34_AB_TCP);
    }

    // ---- robustness -----------------------------------------------------

    use crate::testing::Rng;

    fn check_invariants(frame: &[u8]) {
        for p in XmitHashPolicy::ALL {
            let h = xmit_hash(p, frame);
            assert_eq!(h, xmit_hash(p, frame), "deterministic");
            match p {
                Layer2 => assert!(h <= 0xffff),
                VlanSrcMac => assert!(h <= 0x00ff_ffff),
                Layer34 | Encap34 => assert!(h < 1 << 31),
                _ => {}
            }
            if frame.len() < 14 {
                assert_eq!(h, 0);
            }
        }
    }

    #[test]
    fn fuzz_random_and_truncated_frames() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Interesting EtherTypes and IP protocols to steer random data
        // into every branch of both parsers.
        let types = [
            0x0800u16, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x0806, 0x8864, 0x88ca, 0x8847, 0x8906,
            0x88f7, 0x892f, 0x88fb, 0x4305, 0x8902, 0x6558,
        ];
        let protos = [0u8, 1, 4, 6, 17, 41, 43, 44, 47, 50, 51, 58, 60, 132, 137];
        let mut seeds = vec![
            frame_tcp4(),
            cat(&[&eth(&[(0x8100, 5)], 0x86dd), &tcp6()]),
            cat(&[
                &eth(&[], 0x0800),
                &ipv4(
                    C,
                    D,
                    ipp::GRE,
                    0,
                    &cat(&[&gre(0xb000, 0x6558, &[0; 12]), &frame_tcp4()]),
                ),
            ]),
        ];
        for _ in 0..4000 {
            let len = rng.below(160);
            let mut f = rng.bytes(len);
            match rng.below(4) {
                0 => {}
                1 if len >= 14 => {
                    let t = types[rng.below(types.len())];
                    f[12..14].copy_from_slice(&t.to_be_bytes());
                }
                _ if len >= 34 => {
                    // Make the start look like IPv4/IPv6 with a chosen protocol.
                    let v6 = rng.below(2) == 0;
                    f[12..14].copy_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
                    let p = protos[rng.below(protos.len())];
                    if v6 {
                        f[14] = 0x60;
                        if len > 20 {
                            f[20] = p;
                        }
                    } else {
                        f[14] = 0x45;
                        f[20] = 0;
                        f[21] = 0;
                        f[23] = p;
                    }
                }
                _ => {}
            }
            check_invariants(&f);
            seeds.push(f);
        }
        // Every prefix of every structured frame, and single-byte mutations.
        for s in seeds.iter().take(3) {
            for n in 0..=s.len() {
                check_invariants(&s[..n]);
            }
            for i in 0..s.len() {
                let mut m = s.clone();
                m[i] ^= 1 << rng.below(8);
                check_invariants(&m);
            }
        }
    }

    /// Straightforward restatement of the layer3+4 formula for a plain
    /// untagged IPv4/TCP frame, for comparison on random addresses/ports.
    fn reference_l34_v4(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16) -> u32 {
        let word = |b: [u8; 4]| {
            u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16 | u32::from(b[3]) << 24
        };
        let [s0, s1] = sp.to_be_bytes();
        let [d0, d1] = dp.to_be_bytes();
        let mut h = word([s0, s1, d0, d1]) ^ word(src) ^ word(dst);
        h ^= h >> 16;
        h ^= h >> 8;
        h >> 1
    }

    #[test]
    fn random_flows_match_reference_formula() {
        let mut rng = Rng(42);
        for _ in 0..2000 {
            let r = rng.next_u64();
            let src = (r as u32).to_be_bytes();
            let dst = ((r >> 32) as u32).to_be_bytes();
            let (sp, dp) = (rng.next_u64() as u16, rng.next_u64() as u16);
            let f = cat(&[
                &eth(&[], 0x0800),
                &ipv4(src, dst, ipp::TCP, 0, &ports(sp, dp)),
            ]);
            let want = reference_l34_v4(src, dst, sp, dp);
            assert_eq!(xmit_hash(Layer34, &f), want);
            assert_eq!(xmit_hash(Encap34, &f), want);
            // Swapping addresses keeps the hash (XOR is symmetric).
            let g = cat(&[
                &eth(&[], 0x0800),
                &ipv4(dst, src, ipp::TCP, 0, &ports(sp, dp)),
            ]);
            assert_eq!(xmit_hash(Layer34, &g), want);
        }
    }
}
