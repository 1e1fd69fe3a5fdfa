//! `bondd bench`: a line-rate harness in-process. A generator and a receiver on their own
//! cores measure throughput, loss, reordering, latency, member shares and failover gaps of
//! bondd's bond engine, DPDK's `net_bonding` PMD, or no bond, side by side.

pub mod account;
pub mod cli;
pub mod dut;
pub mod engine;
pub mod experiment;
pub mod facing;
pub mod plot;
pub mod rate;
pub mod replay;
pub mod report;
pub mod traffic;
pub mod trailer;
pub mod trial;
