//! A redirection table: hash bucket -> member index.
//!
//! The transmit path maps a frame's [`xmit_hash`](crate::hash::xmit_hash)
//! to a bucket (`hash & (RETA_SIZE - 1)`) and the bucket to a member with
//! one table load ([`RedirectionTable::lookup`]). A fresh table for `n`
//! members sends bucket `b` to member `b % n`, so for any `n` dividing
//! [`RETA_SIZE`] (1, 2, 4, 8, ...) the choice is exactly Linux's
//! `hash % n`. Unlike `hash % n`, the table can follow membership changes
//! while keeping most flows where they are: [`RedirectionTable::set_members`]
//! moves only the buckets it must (those of departed members, and the fair
//! share a new member takes over), and keeps every active member within
//! one bucket of every other.

/// Number of buckets (a power of two).
pub const RETA_SIZE: usize = 256;

/// Largest member count a table can address (member indices are `u8`).
pub const MAX_MEMBERS: usize = 256;

const _: () = assert!(RETA_SIZE.is_power_of_two());

/// Why a membership could not be applied to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RetaError {
    /// The table would have no member to send traffic to.
    #[error("a redirection table needs at least one active member")]
    NoMembers,
    /// More member slots than `u8` indices.
    #[error("a redirection table addresses at most 256 members, got {0}")]
    TooManyMembers(usize),
}

/// Bucket-to-member map; 256 bytes, `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RedirectionTable {
    buckets: [u8; RETA_SIZE],
}

impl RedirectionTable {
    /// A table spreading the buckets over members `0..members`: bucket `b`
    /// goes to `b % members`.
    ///
    /// # Panics
    /// If `members` is 0 or more than [`MAX_MEMBERS`]; see [`Self::try_new`].
    pub fn new(members: usize) -> Self {
        match Self::try_new(members) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Self::new`], reporting a bad member count as an error.
    pub fn try_new(members: usize) -> Result<Self, RetaError> {
        if members == 0 {
            return Err(RetaError::NoMembers);
        }
        if members > MAX_MEMBERS {
            return Err(RetaError::TooManyMembers(members));
        }
        let mut buckets = [0u8; RETA_SIZE];
        for (b, slot) in buckets.iter_mut().enumerate() {
            // b % members < members <= 256, so it fits in a u8.
            *slot = (b % members) as u8;
        }
        Ok(RedirectionTable { buckets })
    }

    /// A table with the given contents.
    pub const fn from_buckets(buckets: [u8; RETA_SIZE]) -> Self {
        RedirectionTable { buckets }
    }

    /// The bucket `hash` falls into.
    #[inline]
    pub const fn bucket(hash: u32) -> usize {
        hash as usize & (RETA_SIZE - 1)
    }

    /// The member for `hash`: one masked load, no branch.
    #[inline]
    pub fn lookup(&self, hash: u32) -> u8 {
        self.buckets[Self::bucket(hash)]
    }

    /// The whole table.
    pub const fn buckets(&self) -> &[u8; RETA_SIZE] {
        &self.buckets
    }

    /// Number of buckets per member index.
    pub fn loads(&self) -> [u16; MAX_MEMBERS] {
        let mut loads = [0u16; MAX_MEMBERS];
        for &m in &self.buckets {
            loads[usize::from(m)] += 1;
        }
        loads
    }

    /// Number of buckets member `m` owns.
    pub fn load(&self, m: u8) -> usize {
        self.buckets.iter().filter(|&&x| x == m).count()
    }

    /// Rebalances the table for a new membership: member `i` is active when
    /// `active[i]` is true (indices past the end are inactive). Returns the
    /// number of buckets that changed member.
    ///
    /// Afterwards every bucket belongs to an active member and active
    /// members' bucket counts differ by at most one. Within those
    /// constraints as few buckets as possible move:
    ///
    /// * buckets of inactive members always move, dealt round-robin to the
    ///   active members that are below their share (when one member leaves a
    ///   balanced table, its buckets go evenly to the survivors and nothing
    ///   else moves);
    /// * an active member above its share gives up only the excess (when a
    ///   member joins, it takes an even share from the others and nothing
    ///   else moves);
    /// * where the shares cannot all be equal, the larger shares go to the
    ///   members that already hold the most buckets.
    ///
    /// On error the table is left unchanged.
    pub fn set_members(&mut self, active: &[bool]) -> Result<usize, RetaError> {
        if active.len() > MAX_MEMBERS {
            return Err(RetaError::TooManyMembers(active.len()));
        }
        let is_active = |m: u8| active.get(usize::from(m)).copied().unwrap_or(false);

        // Active members, largest current load first (ties: lower index),
        // so the `extra` members allowed one more bucket are those that
        // would otherwise have to give one up.
        let loads = self.loads();
        let mut order = [0u8; MAX_MEMBERS];
        let mut k = 0;
        for (i, _) in active.iter().enumerate().filter(|(_, a)| **a) {
            order[k] = i as u8;
            k += 1;
        }
        if k == 0 {
            return Err(RetaError::NoMembers);
        }
        let order = &mut order[..k];
        order.sort_by_key(|&m| (core::cmp::Reverse(loads[usize::from(m)]), m));
        let (base, extra) = (RETA_SIZE / k, RETA_SIZE % k);
        let mut quota = [0u16; MAX_MEMBERS];
        for (rank, &m) in order.iter().enumerate() {
            quota[usize::from(m)] = (base + usize::from(rank < extra)) as u16;
        }

        // Keep each active member's buckets up to its quota; everything else
        // is free. Buckets are considered in bit-reversed order, so what a
        // member keeps (and what it gives up) is spread over the whole bucket
        // space rather than being a contiguous block: flows that differ only
        // in a few hash bits then still spread (growing 1 -> 2 members gives
        // exactly b % 2, as a fresh table has).
        let mut kept = [0u16; MAX_MEMBERS];
        let mut free = [false; RETA_SIZE];
        const _: () = assert!(RETA_SIZE == 256, "bit reversal below assumes 8-bit buckets");
        for r in 0..RETA_SIZE {
            let b = usize::from((r as u8).reverse_bits());
            let m = self.buckets[b];
            let mi = usize::from(m);
            if is_active(m) && kept[mi] < quota[mi] {
                kept[mi] += 1;
            } else {
                free[b] = true;
            }
        }

        // Hand the free buckets round-robin (in index order) to the members
        // still below their quota, so each receiver gets an interleaved,
        // even share.
        let mut needy = [0u8; MAX_MEMBERS];
        let mut n_needy = 0;
        for (i, _) in active.iter().enumerate().filter(|(_, a)| **a) {
            if kept[i] < quota[i] {
                needy[n_needy] = i as u8;
                n_needy += 1;
            }
        }
        let needy = &needy[..n_needy];
        let mut cursor = 0;
        let mut moved = 0;
        for (b, _) in free.iter().enumerate().filter(|(_, f)| **f) {
            // Quotas sum to RETA_SIZE, so a member below quota remains
            // while free buckets do; the scan is bounded all the same.
            let mut m = needy[cursor % needy.len()];
            for _ in 0..needy.len() {
                m = needy[cursor % needy.len()];
                cursor += 1;
                if kept[usize::from(m)] < quota[usize::from(m)] {
                    break;
                }
            }
            kept[usize::from(m)] += 1;
            if self.buckets[b] != m {
                moved += 1;
            }
            self.buckets[b] = m;
        }
        Ok(moved)
    }
}

impl Default for RedirectionTable {
    /// Everything to member 0.
    fn default() -> Self {
        RedirectionTable {
            buckets: [0; RETA_SIZE],
        }
    }
}

impl core::fmt::Debug for RedirectionTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedirectionTable")
            .field("buckets", &&self.buckets[..])
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::member_for;

    fn active_loads(t: &RedirectionTable, active: &[bool]) -> Vec<usize> {
        (0..active.len())
            .filter(|&i| active[i])
            .map(|i| t.load(i as u8))
            .collect()
    }

    fn assert_balanced(t: &RedirectionTable, active: &[bool]) {
        for &m in t.buckets() {
            assert!(
                active.get(usize::from(m)).copied().unwrap_or(false),
                "bucket on inactive member {m}"
            );
        }
        let loads = active_loads(t, active);
        let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
        assert!(max - min <= 1, "unbalanced: {loads:?}");
        assert_eq!(loads.iter().sum::<usize>(), RETA_SIZE);
    }

    #[test]
    fn fresh_tables_equal_linux_modulo() {
        for n in [1usize, 2, 4, 8, 16] {
            let t = RedirectionTable::new(n);
            for h in
                (0..5000u32)
                    .map(|i| i.wrapping_mul(0x9e37_79b9))
                    .chain([0, u32::MAX, 255, 256])
            {
                assert_eq!(usize::from(t.lookup(h)), member_for(h, n), "n={n} h={h:#x}");
            }
        }
        // For a non-divisor the table is still b % n per bucket.
        let t = RedirectionTable::new(3);
        assert_eq!(t.lookup(0x1_02), 2); // bucket 2
        assert_eq!(t.lookup(255), 0); // 255 % 3 = 0
        assert_eq!(&t.loads()[..4], &[86, 85, 85, 0]);
    }

    #[test]
    fn bad_member_counts() {
        assert_eq!(RedirectionTable::try_new(0), Err(RetaError::NoMembers));
        assert_eq!(
            RedirectionTable::try_new(257),
            Err(RetaError::TooManyMembers(257))
        );
        let t = RedirectionTable::new(256);
        assert!((0..=255u8).all(|m| t.load(m) == 1));
        let mut t = RedirectionTable::new(2);
        let before = t;
        assert_eq!(t.set_members(&[false, false]), Err(RetaError::NoMembers));
        assert_eq!(
            t.set_members(&[true; 257]),
            Err(RetaError::TooManyMembers(257))
        );
        assert_eq!(t, before);
    }

    #[test]
    fn unchanged_membership_moves_nothing() {
        for n in 1..=10 {
            let mut t = RedirectionTable::new(n);
            let before = t;
            assert_eq!(t.set_members(&vec![true; n]), Ok(0), "n={n}");
            assert_eq!(t, before);
        }
    }

    #[test]
    fn leaving_member_moves_only_its_buckets_evenly() {
        let mut t = RedirectionTable::new(4);
        let before = t;
        let active = [true, true, false, true];
        // Member 2 held 64 buckets; they go 22/21/21 to 0, 1, 3.
        assert_eq!(t.set_members(&active), Ok(64));
        for b in 0..RETA_SIZE {
            if before.buckets()[b] == 2 {
                assert_ne!(t.buckets()[b], 2);
            } else {
                assert_eq!(
                    t.buckets()[b],
                    before.buckets()[b],
                    "bucket {b} moved needlessly"
                );
            }
        }
        assert_balanced(&t, &active);
        let mut loads = active_loads(&t, &active);
        loads.sort();
        assert_eq!(loads, [85, 85, 86]);
        // Interleaved: among the departed member's first three buckets
        // (2, 6, 10) each survivor receives one.
        let mut first: Vec<u8> = [2, 6, 10].iter().map(|&b| t.buckets()[b]).collect();
        first.sort();
        assert_eq!(first, [0, 1, 3]);
    }

    #[test]
    fn rejoining_member_takes_an_even_share() {
        let mut t = RedirectionTable::new(4);
        t.set_members(&[true, true, false, true]).unwrap();
        let before = t;
        // Member 2 comes back: it needs 64; the others drop from 85/86 to 64.
        assert_eq!(t.set_members(&[true; 4]), Ok(64));
        assert_balanced(&t, &[true; 4]);
        assert_eq!(t.load(2), 64);
        for b in 0..RETA_SIZE {
            if t.buckets()[b] != before.buckets()[b] {
                assert_eq!(t.buckets()[b], 2, "bucket {b} moved to a non-joiner");
            }
        }
        // Each of the others gave up 21 or 22.
        for m in [0u8, 1, 3] {
            let given = (0..RETA_SIZE)
                .filter(|&b| before.buckets()[b] == m && t.buckets()[b] != m)
                .count();
            assert!((21..=22).contains(&given), "member {m} gave {given}");
        }
    }

    #[test]
    fn growing_from_one_to_two() {
        let mut t = RedirectionTable::new(1);
        assert_eq!(t.set_members(&[true, true]), Ok(128));
        assert_eq!((t.load(0), t.load(1)), (128, 128));
        // A new member beyond the old range.
        assert_eq!(t.set_members(&[true, true, true]), Ok(85));
        assert_balanced(&t, &[true; 3]);
    }

    #[test]
    fn random_membership_changes_stay_balanced_and_minimal() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut t = RedirectionTable::new(5);
        for _ in 0..500 {
            let n = 1 + (rnd() % 12) as usize;
            let mut active: Vec<bool> = (0..n).map(|_| rnd() % 3 != 0).collect();
            if !active.contains(&true) {
                active[(rnd() % n as u64) as usize] = true;
            }
            let before = t;
            let old = before.loads();
            let moved = t.set_members(&active).unwrap();
            assert_balanced(&t, &active);
            let changed = (0..RETA_SIZE)
                .filter(|&b| t.buckets()[b] != before.buckets()[b])
                .count();
            assert_eq!(moved, changed);
            let new = t.loads();
            for m in 0..n {
                let gained = (0..RETA_SIZE)
                    .any(|b| t.buckets()[b] == m as u8 && before.buckets()[b] != m as u8);
                let lost = (0..RETA_SIZE)
                    .any(|b| before.buckets()[b] == m as u8 && t.buckets()[b] != m as u8);
                assert!(!(gained && lost), "member {m} both gained and lost");
            }
            // The larger shares went to members that held at least as much.
            for i in (0..n).filter(|&i| active[i]) {
                for j in (0..n).filter(|&j| active[j]) {
                    if new[i] > new[j] {
                        assert!(
                            old[i] >= old[j],
                            "share {i}>{j} but old {} < {}",
                            old[i],
                            old[j]
                        );
                    }
                }
            }
            // Hence the minimum: buckets of inactive members plus each
            // active member's excess over its final share.
            let floor: usize = (0..MAX_MEMBERS)
                .map(|m| {
                    if active.get(m).copied().unwrap_or(false) {
                        usize::from(old[m].saturating_sub(new[m]))
                    } else {
                        usize::from(old[m])
                    }
                })
                .sum();
            assert_eq!(moved, floor);
        }
    }

    #[test]
    fn lookup_masks_the_hash() {
        let t = RedirectionTable::new(4);
        assert_eq!(RedirectionTable::bucket(0xdead_beef), 0xef);
        assert_eq!(t.lookup(0xdead_beef), (0xef % 4) as u8);
        let copy = t; // Copy
        assert_eq!(copy.lookup(7), t.lookup(7));
        assert_eq!(core::mem::size_of::<RedirectionTable>(), RETA_SIZE);
    }
}

#[cfg(test)]
mod growth_tests {
    use super::*;

    #[test]
    fn a_one_member_table_grows_to_two_interleaved() {
        let mut t = RedirectionTable::new(1);
        let moved = t.set_members(&[true, true]).unwrap();
        assert_eq!(moved, 128);
        assert_eq!(
            t,
            RedirectionTable::new(2),
            "the same table as a fresh two-member one"
        );
    }

    #[test]
    fn given_up_buckets_are_spread_over_the_space() {
        // 2 -> 3 members: the newcomer's buckets must cover every quarter of the space.
        let mut t = RedirectionTable::new(2);
        t.set_members(&[true, true, true]).unwrap();
        for q in 0..4 {
            let got = t.buckets()[q * 64..(q + 1) * 64]
                .iter()
                .filter(|&&m| m == 2)
                .count();
            assert!(
                (15..=28).contains(&got),
                "quarter {q} has {got} of the newcomer's buckets"
            );
        }
    }
}
