//! Cache counters and their snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the schema cache's metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheMetrics {
    /// Lookups answered from the cache (verified or failed-fast).
    pub hits: u64,
    /// Lookups that had to introspect.
    pub misses: u64,
    /// `hits / (hits + misses)`, 0 when nothing was looked up.
    pub hit_rate: f64,
    /// Entries now.
    pub size: usize,
    /// Entries evicted by the size bound.
    pub evictions: u64,
    /// Failed migrations remembered.
    pub failures: u64,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    failures: AtomicU64,
}

impl Counters {
    pub(super) fn hit(&self) {
        crate::observe::metrics::schema_cache(true);
        self.hits.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn miss(&self) {
        crate::observe::metrics::schema_cache(false);
        self.misses.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn evicted(&self) {
        self.evictions.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self, size: usize) -> CacheMetrics {
        let hits = self.hits.load(Ordering::Relaxed);
        let misses = self.misses.load(Ordering::Relaxed);
        let total = hits + misses;
        #[allow(clippy::cast_precision_loss, reason = "a ratio for display")]
        let hit_rate = if total == 0 { 0.0 } else { hits as f64 / total as f64 };
        CacheMetrics {
            hits,
            misses,
            hit_rate,
            size,
            evictions: self.evictions.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }
}
