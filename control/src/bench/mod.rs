//! `bondd bench`: measurements that need the appliance in-process.

pub mod failover;
