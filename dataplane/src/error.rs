//! Errors of the data plane. Every variant names the thing that failed and why.

use std::ffi::CStr;

/// An error from the data plane or from DPDK underneath it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `rte_eal_init` refused its arguments (EAL prints its own reason to stderr as well).
    #[error("EAL initialisation failed with arguments [{args}]: {reason}")]
    EalInit { args: String, reason: String },
    /// Something needs EAL but it was never initialised.
    #[error("EAL is not initialised; call dataplane::eal::init first")]
    EalNotReady,
    /// A DPDK call failed.
    #[error("{what}: {reason} (DPDK error {code})")]
    Dpdk {
        what: String,
        code: i32,
        reason: String,
    },
    /// A caller passed something that cannot work.
    #[error("{what}: {why}")]
    Invalid { what: String, why: String },
}

impl Error {
    /// Wraps a DPDK return code (negative errno or positive rte_errno) with what was attempted.
    pub fn dpdk(what: impl Into<String>, code: i32) -> Self {
        let code = code.abs();
        Error::Dpdk {
            what: what.into(),
            code,
            reason: strerror(code),
        }
    }

    /// Wraps the current `rte_errno` with what was attempted.
    pub fn last(what: impl Into<String>) -> Self {
        // SAFETY: reads the calling thread's rte_errno through the C helper.
        let code = unsafe { dpdk_sys::shim_errno() };
        Self::dpdk(what, code)
    }

    /// An invalid-argument error.
    pub fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            why: why.into(),
        }
    }
}

/// DPDK's text for an error number (covers both errno and rte_errno values).
pub fn strerror(code: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local NUL-terminated string.
    unsafe {
        let p = dpdk_sys::rte_strerror(code);
        if p.is_null() {
            format!("error {code}")
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// Result alias for the data plane.
pub type Result<T> = std::result::Result<T, Error>;
