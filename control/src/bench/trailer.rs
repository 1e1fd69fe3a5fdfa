//! The test trailer: the last 18 bytes of every frame the generator builds.
//!
//! ```text
//! offset  size  field
//!      0     2  magic 0xB0DD (big-endian)
//!      2     4  flow id (little-endian)
//!      6     4  per-flow sequence number (little-endian, wraps)
//!     10     8  TSC at generation (little-endian)
//! ```
//! At the end of the frame rather than after the L4 header, so that the receiver finds it
//! without parsing headers, whatever tags a device under test adds or strips.

/// Trailer length in bytes.
pub const LEN: usize = 18;
/// The marker that tells our frames from anything else on a member.
pub const MAGIC: u16 = 0xB0DD;

/// What a trailer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    pub flow: u32,
    pub seq: u32,
    pub tsc: u64,
}

impl Trailer {
    /// Reads the trailer at the end of `frame`, or None if the frame is too short or the magic
    /// is not ours.
    #[inline]
    pub fn read(frame: &[u8]) -> Option<Trailer> {
        let t: &[u8; LEN] = frame
            .get(frame.len().checked_sub(LEN)?..)?
            .try_into()
            .ok()?;
        if u16::from_be_bytes([t[0], t[1]]) != MAGIC {
            return None;
        }
        Some(Trailer {
            flow: u32::from_le_bytes([t[2], t[3], t[4], t[5]]),
            seq: u32::from_le_bytes([t[6], t[7], t[8], t[9]]),
            tsc: u64::from_le_bytes([t[10], t[11], t[12], t[13], t[14], t[15], t[16], t[17]]),
        })
    }

    /// Writes the trailer into the last [`LEN`] bytes of `frame` (which must be that long).
    #[inline]
    pub fn write(&self, frame: &mut [u8]) {
        let at = frame.len() - LEN;
        let t = &mut frame[at..];
        t[0..2].copy_from_slice(&MAGIC.to_be_bytes());
        t[2..6].copy_from_slice(&self.flow.to_le_bytes());
        t[6..10].copy_from_slice(&self.seq.to_le_bytes());
        t[10..18].copy_from_slice(&self.tsc.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let mut f = vec![0u8; 60];
        let t = Trailer {
            flow: 0x0102_0304,
            seq: u32::MAX,
            tsc: 0x1122_3344_5566_7788,
        };
        t.write(&mut f);
        assert_eq!(&f[42..44], &[0xB0, 0xDD]);
        assert_eq!(&f[44..48], &[4, 3, 2, 1]);
        assert_eq!(Trailer::read(&f), Some(t));
        assert_eq!(Trailer::read(&f[..17]), None, "shorter than a trailer");
        f[42] = 0;
        assert_eq!(Trailer::read(&f), None, "not our magic");
    }
}
