//! Quiescent-state-based reclamation (QSBR): how the control thread replaces a bond's
//! `Distribution` while workers read it with no lock and no atomic read-modify-write.
//!
//! Workers load the current pointer (one acquire load) and use it until their next quiescent
//! point, which is the end of a poll-loop iteration. Every [`QS_PERIOD`] iterations a worker
//! announces a quiescent state: a store to its own cache line followed by a full fence. The
//! control thread swaps the pointer, fences, snapshots every worker's counter, and frees the
//! old value once each worker has announced a new quiescent state (or is offline). This is the
//! scheme of liburcu's QSBR flavour and DPDK's `rte_rcu_qsbr`, sized for a handful of workers.

use crossbeam_utils::CachePadded;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering, fence};

/// Loop iterations between two quiescent-state announcements of a worker.
pub const QS_PERIOD: u32 = 64;

/// Per-worker quiescent-state counters. Even values: online; odd: offline (not reading).
#[derive(Debug)]
pub struct Qsbr {
    slots: Box<[CachePadded<AtomicU64>]>,
}

impl Qsbr {
    /// Counters for `workers` workers, all offline until they take a [`Reader`].
    pub fn new(workers: usize) -> Self {
        Qsbr {
            slots: (0..workers)
                .map(|_| CachePadded::new(AtomicU64::new(1)))
                .collect(),
        }
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.slots.len()
    }

    /// Worker `w` goes online and gets the token that lets it read published values.
    pub fn reader(&self, w: usize) -> Reader<'_> {
        let s = &self.slots[w];
        s.store((s.load(Ordering::Relaxed) | 1) + 1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        Reader {
            qsbr: self,
            w,
            countdown: QS_PERIOD,
        }
    }

    fn snapshot(&self) -> Vec<u64> {
        fence(Ordering::SeqCst);
        self.slots
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .collect()
    }

    fn passed(&self, snap: &[u64]) -> bool {
        fence(Ordering::SeqCst);
        self.slots
            .iter()
            .zip(snap)
            .all(|(s, &v)| v & 1 == 1 || s.load(Ordering::Acquire) != v)
    }
}

/// A worker's right to read published values; dropping it takes the worker offline.
pub struct Reader<'q> {
    qsbr: &'q Qsbr,
    w: usize,
    countdown: u32,
}

impl Reader<'_> {
    /// Marks the end of a loop iteration. Every [`QS_PERIOD`] calls it announces a quiescent
    /// state. No value loaded through this reader may be held across the call, which the
    /// borrow checker enforces: loads borrow the reader, this takes it mutably.
    #[inline(always)]
    pub fn quiescent(&mut self) {
        self.countdown -= 1;
        if self.countdown == 0 {
            self.countdown = QS_PERIOD;
            self.announce();
        }
    }

    /// Announces a quiescent state now.
    #[inline]
    pub fn announce(&mut self) {
        let s = &self.qsbr.slots[self.w];
        s.store(s.load(Ordering::Relaxed).wrapping_add(2), Ordering::Release);
        fence(Ordering::SeqCst);
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let s = &self.qsbr.slots[self.w];
        fence(Ordering::SeqCst);
        s.store(s.load(Ordering::Relaxed) | 1, Ordering::Release);
    }
}

/// A value the control thread replaces and workers read, reclaimed through a [`Qsbr`].
///
/// The pointer and each value sit on cache lines of their own: workers read both on every
/// burst, and a heap neighbour that another thread writes (the retire list's lock, or whatever
/// the allocator placed next to them) would make those reads miss. Where the allocator puts
/// them depends on everything allocated before, down to the process's environment, so
/// without the padding throughput changed by several per cent from one launch context to
/// another.
pub struct Published<T> {
    current: CachePadded<AtomicPtr<CachePadded<T>>>,
    retired: Mutex<Vec<(*mut CachePadded<T>, Vec<u64>)>>,
    qsbr: std::sync::Arc<Qsbr>,
    _owns: PhantomData<Box<T>>,
}

// SAFETY: values are shared read-only with workers and freed only after every reader passed a
// quiescent state; the retire list is behind a mutex (control side only).
unsafe impl<T: Send + Sync> Send for Published<T> {}
// SAFETY: see above.
unsafe impl<T: Send + Sync> Sync for Published<T> {}

impl<T> Published<T> {
    /// Publishes `value` as the first value.
    pub fn new(value: T, qsbr: std::sync::Arc<Qsbr>) -> Self {
        Published {
            current: CachePadded::new(AtomicPtr::new(Box::into_raw(Box::new(CachePadded::new(
                value,
            ))))),
            retired: Mutex::new(Vec::new()),
            qsbr,
            _owns: PhantomData,
        }
    }

    /// The current value, for a worker between two quiescent points.
    #[inline(always)]
    pub fn load<'a>(&'a self, _reader: &'a Reader<'_>) -> &'a T {
        // SAFETY: the pointer is never null and the value is not freed while any online reader
        // may still hold it (the reader is borrowed for as long as the reference lives).
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    /// The current value, for the control thread (the only writer).
    pub fn get(&self) -> &T {
        // SAFETY: only `publish` frees values, and it takes the current one out first; the
        // control thread is the only caller of both.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    /// Replaces the value. The old one is freed by a later [`reclaim`](Self::reclaim) once
    /// every worker has passed a quiescent state.
    pub fn publish(&self, value: T) {
        let new = Box::into_raw(Box::new(CachePadded::new(value)));
        let old = self.current.swap(new, Ordering::SeqCst);
        let snap = self.qsbr.snapshot();
        self.retired
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((old, snap));
        self.reclaim();
    }

    /// Frees the retired values no worker can still be reading; returns how many remain.
    pub fn reclaim(&self) -> usize {
        let mut r = self.retired.lock().unwrap_or_else(|e| e.into_inner());
        r.retain(|(p, snap)| {
            if self.qsbr.passed(snap) {
                // SAFETY: every reader has passed a quiescent state since the swap.
                drop(unsafe { Box::from_raw(*p) });
                false
            } else {
                true
            }
        });
        r.len()
    }
}

impl<T> Drop for Published<T> {
    fn drop(&mut self) {
        // Dropping needs &mut self, so no Reader borrows this value any more.
        let r = self.retired.get_mut().unwrap_or_else(|e| e.into_inner());
        for (p, _) in r.drain(..) {
            // SAFETY: exclusively owned now.
            drop(unsafe { Box::from_raw(p) });
        }
        // SAFETY: exclusively owned now.
        drop(unsafe { Box::from_raw(*self.current.get_mut()) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    struct Tracked(u64, Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn old_values_wait_for_every_online_reader() {
        let q = Arc::new(Qsbr::new(2));
        let freed = Arc::new(AtomicUsize::new(0));
        let p = Published::new(Tracked(0, freed.clone()), q.clone());
        let mut r0 = q.reader(0);
        // worker 1 offline: does not hold anything back
        p.publish(Tracked(1, freed.clone()));
        assert_eq!(
            freed.load(Ordering::SeqCst),
            0,
            "reader 0 has not passed a quiescent state"
        );
        assert_eq!(p.load(&r0).0, 1);
        r0.announce();
        assert_eq!(p.reclaim(), 0);
        assert_eq!(freed.load(Ordering::SeqCst), 1);
        let mut r1 = q.reader(1);
        p.publish(Tracked(2, freed.clone()));
        r0.announce();
        assert_eq!(p.reclaim(), 1, "reader 1 still online and silent");
        r1.announce();
        assert_eq!(p.reclaim(), 0);
        drop(r1);
        p.publish(Tracked(3, freed.clone()));
        r0.announce();
        assert_eq!(
            p.reclaim(),
            0,
            "an offline reader does not hold values back"
        );
        drop(r0);
        drop(p);
        assert_eq!(freed.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn values_and_pointer_share_no_cache_line() {
        // A small value and a small neighbour allocated right after it: without the padding
        // they would be a few bytes apart.
        let q = Arc::new(Qsbr::new(1));
        let p = Published::new(7u8, q.clone());
        let neighbour = Box::new(0u8);
        let line = std::mem::align_of::<CachePadded<u8>>();
        assert!(line >= 64);
        let r = q.reader(0);
        let v = p.load(&r) as *const u8 as usize;
        assert_eq!(v % line, 0, "the value starts a line");
        let n = &*neighbour as *const u8 as usize;
        assert!(
            !(v..v + line).contains(&n),
            "the neighbour is at value + {}",
            n - v
        );
        p.publish(8u8);
        assert_eq!(
            p.load(&r) as *const u8 as usize % line,
            0,
            "so does a new one"
        );
        let cur = &p.current as *const _ as usize;
        let lock = &p.retired as *const _ as usize;
        assert_eq!(cur % line, 0);
        assert!(
            !(cur..cur + line).contains(&lock),
            "the retire list's lock is on another line"
        );
    }

    #[test]
    fn quiescent_announces_every_period() {
        let q = Arc::new(Qsbr::new(1));
        let freed = Arc::new(AtomicUsize::new(0));
        let p = Published::new(Tracked(0, freed.clone()), q.clone());
        let mut r = q.reader(0);
        p.publish(Tracked(1, freed.clone()));
        for _ in 0..QS_PERIOD - 1 {
            r.quiescent();
        }
        assert_eq!(p.reclaim(), 1);
        r.quiescent();
        assert_eq!(p.reclaim(), 0);
    }

    #[test]
    fn concurrent_readers_never_see_freed_values() {
        // Values carry a checksum of their generation; a reader that saw freed memory would
        // (with high probability) see a broken checksum or a generation going backwards.
        #[derive(Clone)]
        struct V {
            generation: u64,
            check: [u64; 8],
        }
        let q = Arc::new(Qsbr::new(2));
        let p = Arc::new(Published::new(
            V {
                generation: 0,
                check: [0; 8],
            },
            q.clone(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let reads_by: Arc<[AtomicUsize; 2]> = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let mut hs = Vec::new();
        for w in 0..2 {
            let (q, p, stop, by) = (q.clone(), p.clone(), stop.clone(), reads_by.clone());
            hs.push(std::thread::spawn(move || {
                let mut r = q.reader(w);
                let mut last = 0;
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let v = p.load(&r);
                    assert!(
                        v.check
                            .iter()
                            .all(|&c| c == v.generation.wrapping_mul(0x9e37))
                    );
                    assert!(v.generation >= last);
                    last = v.generation;
                    reads += 1;
                    by[w].fetch_add(1, Ordering::Relaxed);
                    r.quiescent();
                }
                reads
            }));
        }
        // Publish until both readers have read a good deal while values were being replaced.
        let mut g = 0u64;
        while g < 20_000 || reads_by.iter().any(|r| r.load(Ordering::Relaxed) < 50_000) {
            g += 1;
            p.publish(V {
                generation: g,
                check: [g.wrapping_mul(0x9e37); 8],
            });
            assert!(g < 50_000_000, "readers made no progress");
        }
        stop.store(true, Ordering::Relaxed);
        for h in hs {
            assert!(h.join().unwrap() > 0);
        }
        assert_eq!(p.reclaim(), 0);
    }
}
