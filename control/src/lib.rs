//! bondd's control plane: configuration, the appliance runtime, status, and (in later
//! modules) the slow protocols and the shell.

pub mod appliance;
pub mod bench;
pub mod bond;
pub mod config;
pub mod demo;
pub mod error;
pub mod events;
pub mod import;
pub mod lacp;
pub mod options;
pub mod pcap;
pub mod shell;
pub mod signals;
pub mod status;

pub use error::{Error, Result};
