//! Worker threads: pinned to a core, registered with EAL, stopped by a shared flag.

use crate::eal::ThreadRegistration;
use crate::error::{Error, Result};
use crossbeam_utils::CachePadded;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// What a worker knows about itself.
#[derive(Debug, Clone)]
pub struct WorkerCtx {
    /// 0-based worker index: worker k owns RX and TX queue k of every port.
    pub index: usize,
    /// The CPU it is pinned to.
    pub core: usize,
    /// The EAL lcore id it registered as (`u32::MAX` if registration failed).
    pub lcore: u32,
    /// Read by the worker on every pass of its loop: on a line of its own, so that no heap
    /// neighbour written by another thread makes those reads miss.
    stop: Arc<CachePadded<AtomicBool>>,
}

impl WorkerCtx {
    /// True once the runtime asked the workers to stop.
    #[inline(always)]
    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A set of running workers.
pub struct Workers {
    stop: Arc<CachePadded<AtomicBool>>,
    handles: Vec<(usize, JoinHandle<()>)>,
}

/// The CPUs this process may run on, as they were at its first call. EAL pins the thread
/// that initialises it to the main lcore's CPU, so call this once before EAL init (the
/// binary does, when it checks its config): later answers would be that one CPU.
pub fn usable_cores() -> Vec<usize> {
    static CORES: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    CORES
        .get_or_init(|| {
            core_affinity::get_core_ids()
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.id)
                .collect()
        })
        .clone()
}

impl Workers {
    /// Starts one worker per entry of `cores`, each running `body` until it returns.
    /// `body` must poll [`WorkerCtx::should_stop`].
    pub fn spawn<F>(cores: &[usize], body: F) -> Result<Workers>
    where
        F: Fn(WorkerCtx) + Send + Sync + 'static,
    {
        let stop = Arc::new(CachePadded::new(AtomicBool::new(false)));
        let body = Arc::new(body);
        let mut handles = Vec::with_capacity(cores.len());
        for (index, &core) in cores.iter().enumerate() {
            let body = Arc::clone(&body);
            let stop2 = Arc::clone(&stop);
            let h = std::thread::Builder::new()
                .name(format!("bondd-wk{index}"))
                .spawn(move || {
                    if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
                        tracing::error!(
                            "worker {index}: could not pin to core {core}; not starting"
                        );
                        return;
                    }
                    let reg = ThreadRegistration::register();
                    let lcore = match &reg {
                        Ok(r) => r.lcore(),
                        Err(e) => {
                            tracing::warn!(
                                "worker {index}: {e}; running without a mempool cache (slower)"
                            );
                            u32::MAX
                        }
                    };
                    tracing::debug!("worker {index} on core {core}, lcore {lcore}");
                    body(WorkerCtx {
                        index,
                        core,
                        lcore,
                        stop: stop2,
                    });
                    drop(reg);
                })
                .map_err(|e| Error::invalid(format!("worker {index}"), e.to_string()))?;
            handles.push((index, h));
        }
        Ok(Workers { stop, handles })
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Asks every worker to stop and waits for them. Reports a worker that panicked.
    pub fn stop_and_join(mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let mut failed = Vec::new();
        for (i, h) in self.handles.drain(..) {
            if h.join().is_err() {
                failed.push(i);
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(
                format!("workers {failed:?}"),
                "panicked; their in-flight mbufs may be lost",
            ))
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for (_, h) in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
