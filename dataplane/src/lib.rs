//! bondd's data plane: safe wrappers over DPDK, the worker runtime, forwarding engines,
//! counters. Everything on the per-packet path here is allocation-free, lock-free and
//! syscall-free.

pub mod bond;
pub mod burst;
pub mod counters;
pub mod eal;
pub mod error;
pub mod fwd;
pub mod hash;
pub mod mbuf;
pub mod mempool;
pub mod port;
pub mod rcu;
pub mod reta;
pub mod ring;
pub mod testing;
pub mod wire;
pub mod worker;

pub use error::{Error, Result};
