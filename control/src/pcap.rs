//! Classic pcap files (little-endian, microsecond timestamps, Ethernet link type): a writer,
//! a reader, and a generator of UDP test traffic for the demo and the benchmarks.

use dataplane::wire::checksum;
use std::io::{self, Read, Write};
use std::path::Path;

const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;
const LINKTYPE_ETHERNET: u32 = 1;

/// Errors reading a pcap file; each names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: not a pcap file (magic {magic:#010x})")]
    BadMagic { path: String, magic: u32 },
    #[error("{path}: link type {0} is not Ethernet (1)", .linktype)]
    LinkType { path: String, linktype: u32 },
    #[error("{path}: record {index} is truncated")]
    Truncated { path: String, index: usize },
}

/// Writes `frames` to `path` as a pcap file, one microsecond apart.
pub fn write_file<'a>(path: &Path, frames: impl IntoIterator<Item = &'a [u8]>) -> io::Result<()> {
    let mut out = io::BufWriter::new(std::fs::File::create(path)?);
    let mut hdr = Vec::with_capacity(24);
    hdr.extend_from_slice(&MAGIC_US.to_le_bytes());
    hdr.extend_from_slice(&2u16.to_le_bytes());
    hdr.extend_from_slice(&4u16.to_le_bytes());
    hdr.extend_from_slice(&0i32.to_le_bytes());
    hdr.extend_from_slice(&0u32.to_le_bytes());
    hdr.extend_from_slice(&65535u32.to_le_bytes());
    hdr.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    out.write_all(&hdr)?;
    for (i, f) in frames.into_iter().enumerate() {
        let us = i as u64;
        out.write_all(&((us / 1_000_000) as u32).to_le_bytes())?;
        out.write_all(&((us % 1_000_000) as u32).to_le_bytes())?;
        out.write_all(&(f.len() as u32).to_le_bytes())?;
        out.write_all(&(f.len() as u32).to_le_bytes())?;
        out.write_all(f)?;
    }
    out.flush()
}

/// Reads every frame of a pcap file (either byte order, µs or ns timestamps).
pub fn read_file(path: &Path) -> Result<Vec<Vec<u8>>, PcapError> {
    let p = path.display().to_string();
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(|source| PcapError::Io {
            path: p.clone(),
            source,
        })?;
    if data.len() < 24 {
        return Err(PcapError::Truncated { path: p, index: 0 });
    }
    let magic_le = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let magic_be = u32::from_be_bytes(data[0..4].try_into().unwrap());
    let le = match (magic_le, magic_be) {
        (MAGIC_US | MAGIC_NS, _) => true,
        (_, MAGIC_US | MAGIC_NS) => false,
        _ => {
            return Err(PcapError::BadMagic {
                path: p,
                magic: magic_le,
            });
        }
    };
    let rd = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let linktype = rd(&data[20..24]);
    if linktype != LINKTYPE_ETHERNET {
        return Err(PcapError::LinkType { path: p, linktype });
    }
    let mut frames = Vec::new();
    let mut off = 24;
    while off < data.len() {
        if off + 16 > data.len() {
            return Err(PcapError::Truncated {
                path: p,
                index: frames.len(),
            });
        }
        let caplen = rd(&data[off + 8..off + 12]) as usize;
        off += 16;
        if off + caplen > data.len() {
            return Err(PcapError::Truncated {
                path: p,
                index: frames.len(),
            });
        }
        frames.push(data[off..off + caplen].to_vec());
        off += caplen;
    }
    Ok(frames)
}

/// What UDP test traffic to generate.
#[derive(Debug, Clone)]
pub struct UdpFlows {
    /// Distinct flows (distinct source address and port pairs).
    pub flows: u32,
    /// Frame size in bytes without the FCS (60..=9000; 60 is the 64-byte minimum on the wire).
    pub frame_size: usize,
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
}

impl Default for UdpFlows {
    fn default() -> Self {
        UdpFlows {
            flows: 1024,
            frame_size: 60,
            src_mac: [0x02, 0x00, 0x00, 0x00, 0x0a, 0x01],
            dst_mac: [0x02, 0x00, 0x00, 0x00, 0x0b, 0x01],
        }
    }
}

/// The smallest frame the generator builds: Ethernet + IPv4 + UDP headers padded to 60.
pub const MIN_FRAME: usize = 60;

impl UdpFlows {
    /// Frame number `flow`: IPv4/UDP from 10.<a>.<b>.<c>:<port> to 10.255.0.1:9, where the
    /// source address and port are derived from the flow number (independently enough that
    /// every transmit hash policy spreads the flows).
    pub fn frame(&self, flow: u32) -> Vec<u8> {
        let len = self.frame_size.max(MIN_FRAME);
        let mut f = vec![0u8; len];
        f[0..6].copy_from_slice(&self.dst_mac);
        f[6..12].copy_from_slice(&self.src_mac);
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        let ip_len = (len - 14) as u16;
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
        ip[6] = 0x40; // don't fragment
        ip[8] = 64;
        ip[9] = 17;
        let src = [10, (flow >> 16) as u8, (flow >> 8) as u8, flow as u8];
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&[10, 255, 0, 1]);
        let ck = checksum::of(ip);
        ip[10..12].copy_from_slice(&ck.to_be_bytes());
        let udp = &mut f[34..42];
        // Not a function of the address's low byte alone: with sport = f(flow) mod 256 equal
        // to the address byte, layer3+4 hashing (which XORs them) would see a single flow.
        let sport = 1024 + ((u64::from(flow) * 97 + 13) % 60000) as u16;
        udp[0..2].copy_from_slice(&sport.to_be_bytes());
        udp[2..4].copy_from_slice(&9u16.to_be_bytes());
        udp[4..6].copy_from_slice(&(ip_len - 20).to_be_bytes());
        // UDP checksum 0: allowed for IPv4.
        for (i, b) in f[42..].iter_mut().enumerate() {
            *b = (flow as u8).wrapping_add(i as u8);
        }
        f
    }

    /// One frame per flow.
    pub fn frames(&self) -> Vec<Vec<u8>> {
        (0..self.flows).map(|i| self.frame(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_flows_are_distinct() {
        let dir = std::env::temp_dir().join(format!("bondd-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap");
        let g = UdpFlows {
            flows: 2048,
            frame_size: 128,
            ..Default::default()
        };
        let frames = g.frames();
        write_file(&path, frames.iter().map(|f| f.as_slice())).unwrap();
        let back = read_file(&path).unwrap();
        assert_eq!(back, frames);
        let mut keys: Vec<&[u8]> = back.iter().map(|f| &f[26..36]).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 2048, "every flow has its own address/port");
        assert!(back.iter().all(|f| f.len() == 128));
        // IPv4 header checksum verifies to zero.
        assert_eq!(checksum::of(&back[7][14..34]), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_bad_files() {
        let dir = std::env::temp_dir().join(format!("bondd-pcapbad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.pcap");
        std::fs::write(&p, b"this is not a pcap file at all").unwrap();
        let e = read_file(&p).unwrap_err().to_string();
        assert!(e.contains("bad.pcap") && e.contains("not a pcap"), "{e}");
        let e = read_file(&dir.join("missing.pcap"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.pcap"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
