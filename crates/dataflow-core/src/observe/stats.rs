//! The in-process statistics behind [`DataFlow::stats`](crate::DataFlow::stats): operation
//! totals and latency percentiles per operation (a lock-free log-linear histogram), statement
//! totals and the slowest statements.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Operation names tracked by the stats (the eleven operations plus the extra entry points).
pub(crate) const OPERATIONS: [&str; 14] = [
    "Create",
    "Read",
    "Update",
    "Delete",
    "List",
    "Count",
    "Upsert",
    "BulkCreate",
    "BulkUpdate",
    "BulkDelete",
    "BulkUpsert",
    "FindOne",
    "Restore",
    "HardDelete",
];

/// Whether the operation at `idx` in [`OPERATIONS`] is a read (Read, List, Count, FindOne).
pub(crate) fn reads(idx: usize) -> bool {
    matches!(idx, 1 | 4 | 5 | 11)
}

/// The index of `op` in [`OPERATIONS`] (`None` for an operation outside the list). A `const
/// fn`: operations get their index at compile time ([`Op::new`](super::trace::Op::new)).
pub(crate) const fn operation_index(op: &str) -> Option<usize> {
    let mut i = 0;
    while i < OPERATIONS.len() {
        if super::trace::str_eq(OPERATIONS[i], op) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Sub-buckets per power of two: 8 gives at most 12.5% relative error on a percentile.
const SUB: u32 = 8;
/// Microseconds: exact below 16, then 8 buckets per power of two up to 2^40 µs (~12 days).
const BUCKETS: usize = 16 + (40 - 4) * SUB as usize;
/// How many slowest statements are kept.
const SLOWEST: usize = 10;

fn bucket(us: u64) -> usize {
    if us < 16 {
        return us as usize;
    }
    let e = 63 - us.leading_zeros(); // floor(log2), >= 4
    let sub = (us >> (e - 3)) & u64::from(SUB - 1);
    (16 + (e as usize - 4) * SUB as usize + sub as usize).min(BUCKETS - 1)
}

/// The lower bound (µs) of a bucket.
fn bucket_floor(i: usize) -> u64 {
    if i < 16 {
        return i as u64;
    }
    let e = (i - 16) / SUB as usize + 4;
    let sub = ((i - 16) % SUB as usize) as u64;
    (1u64 << e) + (sub << (e - 3))
}

/// One operation kind's latencies. The call count is the sum of the buckets (one per call).
struct Hist {
    buckets: Vec<AtomicU64>,
    errors: AtomicU64,
    sum_us: AtomicU64,
    max_us: AtomicU64,
}

impl Default for Hist {
    fn default() -> Self {
        Hist {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            errors: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }
}

impl Hist {
    fn record(&self, us: u64, ok: bool) {
        self.buckets[bucket(us)].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
        // A read-modify-write only for a new maximum (rare once warmed up).
        if us > self.max_us.load(Ordering::Relaxed) {
            self.max_us.fetch_max(us, Ordering::Relaxed);
        }
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn percentile(&self, counts: &[u64], total: u64, p: f64) -> Duration {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "a rank within u64"
        )]
        let rank = ((total as f64) * p).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_micros(bucket_floor(i).min(self.max_us.load(Ordering::Relaxed)));
            }
        }
        Duration::from_micros(self.max_us.load(Ordering::Relaxed))
    }
}

/// The collector of one instance.
pub(crate) struct Stats {
    ops: Vec<Hist>,
    statements: AtomicU64,
    statement_errors: AtomicU64,
    slow_floor_us: AtomicU64,
    slowest: Mutex<Vec<SlowStatement>>,
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stats").field("statements", &self.statements).finish_non_exhaustive()
    }
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            ops: (0..OPERATIONS.len()).map(|_| Hist::default()).collect(),
            statements: AtomicU64::new(0),
            statement_errors: AtomicU64::new(0),
            slow_floor_us: AtomicU64::new(0),
            slowest: Mutex::new(Vec::new()),
        }
    }
}

fn micros(d: Duration) -> u64 {
    d.as_secs().saturating_mul(1_000_000).saturating_add(u64::from(d.subsec_micros()))
}

impl Stats {
    /// Records an operation; `op` is its index in [`OPERATIONS`] (`None`: not tracked).
    pub(crate) fn operation(&self, op: Option<usize>, elapsed: Duration, ok: bool) {
        if let Some(h) = op.and_then(|i| self.ops.get(i)) {
            h.record(micros(elapsed), ok);
        }
    }

    pub(crate) fn statement(&self, sql: &str, model: Option<&str>, elapsed: Duration, ok: bool) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.statement_errors.fetch_add(1, Ordering::Relaxed);
        }
        let us = micros(elapsed);
        // Cheap reject: only statements slower than the fastest of the kept ones take the lock.
        if us <= self.slow_floor_us.load(Ordering::Relaxed) {
            return;
        }
        let mut v = self.slowest.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() == SLOWEST && v.last().is_some_and(|s| s.elapsed >= elapsed) {
            return;
        }
        v.push(SlowStatement { sql: sql.to_owned(), model: model.map(str::to_owned), elapsed });
        v.sort_by_key(|s| std::cmp::Reverse(s.elapsed));
        v.truncate(SLOWEST);
        if v.len() == SLOWEST {
            self.slow_floor_us.store(v.last().map_or(0, |s| micros(s.elapsed)), Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        let mut operations = Vec::new();
        for (name, h) in OPERATIONS.iter().zip(&self.ops) {
            let counts: Vec<u64> = h.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            operations.push(OperationStats {
                operation: (*name).to_owned(),
                count: total,
                errors: h.errors.load(Ordering::Relaxed),
                mean: Duration::from_micros(h.sum_us.load(Ordering::Relaxed) / total),
                p50: h.percentile(&counts, total, 0.50),
                p95: h.percentile(&counts, total, 0.95),
                p99: h.percentile(&counts, total, 0.99),
                max: Duration::from_micros(h.max_us.load(Ordering::Relaxed)),
            });
        }
        StatsSnapshot {
            operations_total: operations.iter().map(|o| o.count).sum(),
            errors_total: operations.iter().map(|o| o.errors).sum(),
            operations,
            statements_total: self.statements.load(Ordering::Relaxed),
            statement_errors: self.statement_errors.load(Ordering::Relaxed),
            slowest: self.slowest.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            ..StatsSnapshot::default()
        }
    }
}

/// Latency and counts of one operation kind (all models).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationStats {
    /// `Create`, `Read`, ..., `FindOne`, `Restore`, `HardDelete`.
    pub operation: String,
    /// Calls.
    pub count: u64,
    /// Calls that returned an error.
    pub errors: u64,
    /// Mean latency.
    pub mean: Duration,
    /// Median latency (bucketed: within 12.5%).
    pub p50: Duration,
    /// 95th percentile latency.
    pub p95: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest call.
    pub max: Duration,
}

/// One of the slowest statements seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowStatement {
    /// The SQL text (placeholders, never values).
    pub sql: String,
    /// The model, when the statement ran for one.
    pub model: Option<String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// A snapshot of an instance's statistics: see [`DataFlow::stats`](crate::DataFlow::stats).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Operations run.
    pub operations_total: u64,
    /// Operations that failed.
    pub errors_total: u64,
    /// Per operation kind, in the order of the eleven operations; kinds never run are omitted.
    pub operations: Vec<OperationStats>,
    /// Statements run.
    pub statements_total: u64,
    /// Statements that failed.
    pub statement_errors: u64,
    /// The slowest statements, slowest first (at most 10).
    pub slowest: Vec<SlowStatement>,
    /// Read replicas (`Config::read_urls`): health, replication lag, reads routed.
    pub replicas: Vec<crate::db::replicas::ReplicaStats>,
    /// Reads sent to the primary although replicas are configured (`.primary()`,
    /// read-your-writes, cache misses, fallback).
    pub primary_reads: u64,
    /// Of those, reads that fell back because no replica was usable.
    pub replica_fallbacks: u64,
    /// Query-cache hits, misses and invalidations.
    pub query_cache: crate::query_cache::QueryCacheStats,
}

impl StatsSnapshot {
    /// The stats of one operation kind, if it ran.
    pub fn operation(&self, op: &str) -> Option<&OperationStats> {
        self.operations.iter().find(|o| o.operation == op)
    }
}

impl fmt::Display for StatsSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "operations: {} ({} failed), statements: {} ({} failed)",
            self.operations_total, self.errors_total, self.statements_total, self.statement_errors
        )?;
        if !self.operations.is_empty() {
            writeln!(
                f,
                "{:<12} {:>8} {:>7} {:>10} {:>10} {:>10} {:>10}",
                "operation", "count", "errors", "p50", "p95", "p99", "max"
            )?;
            for o in &self.operations {
                writeln!(
                    f,
                    "{:<12} {:>8} {:>7} {:>10} {:>10} {:>10} {:>10}",
                    o.operation,
                    o.count,
                    o.errors,
                    fmt_d(o.p50),
                    fmt_d(o.p95),
                    fmt_d(o.p99),
                    fmt_d(o.max)
                )?;
            }
        }
        if !self.slowest.is_empty() {
            writeln!(f, "slowest statements:")?;
            for s in &self.slowest {
                writeln!(f, "  {:>10}  {}", fmt_d(s.elapsed), s.sql)?;
            }
        }
        for r in &self.replicas {
            let lag = r.lag.map_or_else(|| "unknown".to_owned(), fmt_d);
            let state = if r.healthy { "up" } else { "DOWN" };
            writeln!(f, "replica {} {state}: lag {lag}, {} reads, {} failures", r.url, r.reads, r.failures)?;
        }
        if !self.replicas.is_empty() {
            writeln!(f, "primary reads: {} ({} fallbacks)", self.primary_reads, self.replica_fallbacks)?;
        }
        let c = &self.query_cache;
        if c.hits + c.misses > 0 {
            writeln!(
                f,
                "query cache: {} hits, {} misses ({:.1}% hits), {} invalidations, {} entries",
                c.hits,
                c.misses,
                c.hit_ratio() * 100.0,
                c.invalidations,
                c.entries
            )?;
        }
        Ok(())
    }
}

fn fmt_d(d: Duration) -> String {
    if d >= Duration::from_millis(10) { format!("{}ms", d.as_millis()) } else { format!("{}µs", d.as_micros()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_floors_round_trip() {
        let mut last = 0;
        for us in [0u64, 1, 15, 16, 17, 31, 32, 100, 1000, 12_345, 1 << 30] {
            let b = bucket(us);
            assert!(b >= last, "{us}");
            last = b;
            assert!(bucket_floor(b) <= us, "{us}: floor {}", bucket_floor(b));
            assert!(us - bucket_floor(b) <= us / 8, "{us}: floor {} too far", bucket_floor(b));
        }
    }

    #[test]
    fn operation_index_matches_the_list() {
        for (i, op) in OPERATIONS.iter().enumerate() {
            assert_eq!(operation_index(op), Some(i), "{op}");
        }
        assert_eq!(operation_index("Other"), None);
    }

    #[test]
    fn percentiles_and_slowest() {
        let s = Stats::default();
        let idx = |op: &str| OPERATIONS.iter().position(|o| *o == op);
        for i in 1..=100u64 {
            s.operation(idx("Read"), Duration::from_micros(i * 100), true);
        }
        s.operation(idx("Create"), Duration::from_micros(50), false);
        s.operation(None, Duration::from_micros(50), false);
        for i in 0..15u64 {
            s.statement(&format!("S{i}"), Some("M"), Duration::from_micros(i), true);
        }
        let snap = s.snapshot();
        let r = snap.operation("Read").unwrap();
        assert_eq!((r.count, r.errors), (100, 0));
        // Bucketed: within 12.5% below the exact value.
        assert!(r.p50 <= Duration::from_micros(5000) && r.p50 >= Duration::from_micros(4375), "{:?}", r.p50);
        assert!(r.p99 <= Duration::from_micros(9900) && r.p99 >= Duration::from_micros(8662), "{:?}", r.p99);
        assert_eq!(r.max, Duration::from_micros(10_000));
        assert_eq!(snap.operation("Create").unwrap().errors, 1);
        assert_eq!((snap.operations_total, snap.errors_total, snap.statements_total), (101, 1, 15));
        let sql: Vec<&str> = snap.slowest.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(sql, ["S14", "S13", "S12", "S11", "S10", "S9", "S8", "S7", "S6", "S5"]);
        assert!(snap.to_string().contains("Read"));
    }
}
