//! Errors of the control plane.

use crate::config::ConfigError;

/// Anything that stops the appliance from starting or shutting down cleanly.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Dataplane(#[from] dataplane::Error),
    #[error("port {port:?} ({device}): {error}")]
    Port {
        port: String,
        device: String,
        error: dataplane::Error,
    },
    #[error("{in_use} mbufs of pool {pool:?} are still in use after shutdown (leak)")]
    Leak { pool: String, in_use: u32 },
    #[error("{0}")]
    Other(String),
}

/// Result alias for the control plane.
pub type Result<T> = std::result::Result<T, Error>;
