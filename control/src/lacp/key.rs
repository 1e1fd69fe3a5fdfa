//! The operational key of a port, built the way Linux builds it (`ad_update_actor_keys`):
//!
//! ```text
//!  15                          6 5                1   0
//! +-----------------------------+------------------+---+
//! |   ad_user_port_key (10 bits) | speed code (5)   | D |
//! +-----------------------------+------------------+---+
//! ```
//!
//! D is 1 for full duplex. Ports aggregate only with ports of the same key (6.3.5), so the key
//! keeps links of different speeds apart. The speed code is Linux's `enum ad_link_speed_type`
//! in current Linux (which renumbered it when 5G, 14G, 25G and 50G were added; the numbers
//! are local to this system, the partner only compares them for equality). Linux's table ends
//! at 800 Gb/s, DPDK's own bonding PMD's at 40 Gb/s; this table covers every speed DPDK
//! reports (`RTE_ETH_SPEED_NUM_*`, up to 400G) and Linux's 800G. Five bits leave room for
//! codes up to 31.
//!
//! A down port, or one whose speed the table does not know, has speed code 0, and a down port
//! duplex 0, as in Linux (`__get_link_speed`, `__get_duplex`).

/// Mask of the duplex bit.
pub const DUPLEX_MASK: u16 = 0x0001;
/// Mask of the speed code.
pub const SPEED_MASK: u16 = 0x003e;
/// Mask of the user key.
pub const USER_KEY_MASK: u16 = 0xffc0;
/// Largest `ad_user_port_key`.
pub const MAX_USER_KEY: u16 = 1023;

/// (speed in Mb/s, code): Linux's `AD_LINK_SPEED_*MBPS`.
pub const SPEED_CODES: [(u32, u16); 17] = [
    (1, 1),
    (10, 2),
    (100, 3),
    (1_000, 4),
    (2_500, 5),
    (5_000, 6),
    (10_000, 7),
    (14_000, 8),
    (20_000, 9),
    (25_000, 10),
    (40_000, 11),
    (50_000, 12),
    (56_000, 13),
    (100_000, 14),
    (200_000, 15),
    (400_000, 16),
    (800_000, 17),
];

/// The 5-bit speed code of `speed_mbps`, 0 for a speed Linux does not know.
pub fn speed_code(speed_mbps: u32) -> u16 {
    SPEED_CODES
        .iter()
        .find(|(s, _)| *s == speed_mbps)
        .map_or(0, |(_, c)| *c)
}

/// The speed (Mb/s) a code stands for, 0 if none.
pub fn code_speed(code: u16) -> u32 {
    SPEED_CODES
        .iter()
        .find(|(_, c)| *c == code)
        .map_or(0, |(s, _)| *s)
}

/// The administrative key: the user key in the upper ten bits (Linux: `ad_user_port_key << 6`).
pub fn admin_key(user_port_key: u16) -> u16 {
    (user_port_key & MAX_USER_KEY) << 6
}

/// The operational key of a port (Linux `ad_update_actor_keys`; `link_up == false` is its
/// `reset` case, which clears speed and duplex).
pub fn oper_key(user_port_key: u16, link_up: bool, speed_mbps: u32, full_duplex: bool) -> u16 {
    let mut key = admin_key(user_port_key);
    if link_up {
        key |= speed_code(speed_mbps) << 1;
        if full_duplex {
            key |= DUPLEX_MASK;
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_keys_for_common_speeds() {
        // 1G full duplex, user key 0: code 4 -> 0b1001 = 9.
        assert_eq!(oper_key(0, true, 1_000, true), 9);
        assert_eq!(oper_key(0, true, 10_000, true), 15);
        assert_eq!(oper_key(0, true, 25_000, true), 21);
        assert_eq!(oper_key(0, true, 100_000, true), 29);
        assert_eq!(oper_key(0, true, 200_000, true), 31);
        assert_eq!(oper_key(0, true, 400_000, true), 33);
        assert_eq!(oper_key(0, true, 800_000, true), 35);
        assert_eq!(oper_key(0, true, 100, false), 6, "half duplex: no D bit");
    }

    #[test]
    fn every_dpdk_speed_has_a_distinct_code() {
        let dpdk = [
            10, 100, 1_000, 2_500, 5_000, 10_000, 20_000, 25_000, 40_000, 50_000, 56_000, 100_000,
            200_000, 400_000,
        ];
        let mut codes: Vec<u16> = dpdk.iter().map(|&s| speed_code(s)).collect();
        assert!(codes.iter().all(|&c| c > 0 && c <= 31));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), dpdk.len());
        for &s in &dpdk {
            assert_eq!(code_speed(speed_code(s)), s);
        }
    }

    #[test]
    fn user_key_down_and_unknown_speed() {
        assert_eq!(oper_key(5, true, 10_000, true), (5 << 6) | 15);
        assert_eq!(
            oper_key(1023, true, 10_000, true) & USER_KEY_MASK,
            1023 << 6
        );
        assert_eq!(admin_key(2047), 1023 << 6, "the user key is 10 bits");
        assert_eq!(
            oper_key(5, false, 10_000, true),
            5 << 6,
            "down: speed/duplex reset"
        );
        assert_eq!(oper_key(0, true, 12_345, true), 1, "unknown speed: code 0");
        assert_eq!(speed_code(0), 0);
    }
}
