//! Metric names and the recording calls, through the [`metrics`] facade: install any
//! recorder (a Prometheus or OpenTelemetry exporter) and DataFlow's metrics appear there. With
//! no recorder installed every call is a no-op.
//!
//! Labels: `model`, `operation`, `outcome` (`ok` / `error`), `db_system`.

use std::time::Duration;

use ::metrics::{counter, gauge, histogram};

/// Counter: operations run, by `model`, `operation`, `outcome`.
pub const OPERATIONS_TOTAL: &str = "dataflow_operations_total";
/// Histogram (seconds): operation latency, by `model`, `operation`, `outcome`.
pub const OPERATION_DURATION: &str = "dataflow_operation_duration_seconds";
/// Counter: statements run, by `db_system`, `outcome`.
pub const STATEMENTS_TOTAL: &str = "dataflow_statements_total";
/// Histogram (seconds): statement latency, by `db_system`.
pub const STATEMENT_DURATION: &str = "dataflow_statement_duration_seconds";
/// Counter: statements slower than the slow-query threshold, by `db_system`.
pub const SLOW_STATEMENTS_TOTAL: &str = "dataflow_slow_statements_total";
/// Counter: rows written (created, updated, deleted, upserted), by `model`, `operation`.
pub const ROWS_WRITTEN_TOTAL: &str = "dataflow_rows_written_total";
/// Gauge: open connections of the pool, by `db_system`.
pub const POOL_SIZE: &str = "dataflow_pool_connections";
/// Gauge: idle connections of the pool, by `db_system`.
pub const POOL_IDLE: &str = "dataflow_pool_idle_connections";
/// Gauge: tasks waiting for a connection, by `db_system`.
pub const POOL_WAITERS: &str = "dataflow_pool_waiters";
/// Counter: migration steps applied (`outcome="ok"`) and failed runs (`outcome="error"`), by `model`.
pub const MIGRATIONS_TOTAL: &str = "dataflow_migrations_total";
/// Counter: schema-cache hits.
pub const SCHEMA_CACHE_HITS: &str = "dataflow_schema_cache_hits_total";
/// Counter: schema-cache misses.
pub const SCHEMA_CACHE_MISSES: &str = "dataflow_schema_cache_misses_total";

pub(crate) fn operation(model: &str, op: &'static str, ok: bool, elapsed: Duration, written: Option<u64>) {
    let outcome = if ok { "ok" } else { "error" };
    let labels = [("model", model.to_owned()), ("operation", op.to_owned()), ("outcome", outcome.to_owned())];
    counter!(OPERATIONS_TOTAL, &labels).increment(1);
    histogram!(OPERATION_DURATION, &labels).record(elapsed.as_secs_f64());
    if let Some(n) = written.filter(|n| *n > 0) {
        counter!(ROWS_WRITTEN_TOTAL, "model" => model.to_owned(), "operation" => op).increment(n);
    }
}

pub(crate) fn statement(db_system: &'static str, ok: bool, elapsed: Duration, slow: bool) {
    counter!(STATEMENTS_TOTAL, "db_system" => db_system, "outcome" => if ok { "ok" } else { "error" }).increment(1);
    histogram!(STATEMENT_DURATION, "db_system" => db_system).record(elapsed.as_secs_f64());
    if slow {
        counter!(SLOW_STATEMENTS_TOTAL, "db_system" => db_system).increment(1);
    }
}

#[allow(clippy::cast_precision_loss, reason = "gauges are f64")]
pub(crate) fn pool(db_system: &'static str, size: u32, idle: usize, waiters: i64) {
    gauge!(POOL_SIZE, "db_system" => db_system).set(f64::from(size));
    gauge!(POOL_IDLE, "db_system" => db_system).set(idle as f64);
    gauge!(POOL_WAITERS, "db_system" => db_system).set(waiters as f64);
}

/// A migration run under the lock: the number of steps applied, or a failure.
pub(crate) fn migration<E>(model: &str, r: std::result::Result<usize, E>) {
    match r {
        Ok(0) => {}
        Ok(n) => counter!(MIGRATIONS_TOTAL, "model" => model.to_owned(), "outcome" => "ok").increment(n as u64),
        Err(_) => counter!(MIGRATIONS_TOTAL, "model" => model.to_owned(), "outcome" => "error").increment(1),
    }
}

/// A schema-cache lookup (also a DEBUG event on `dataflow::cache` for a miss).
pub(crate) fn schema_cache(hit: bool) {
    if !hit {
        tracing::debug!(target: "dataflow::cache", "schema cache miss: the table will be introspected");
    }
    if hit {
        counter!(SCHEMA_CACHE_HITS).increment(1);
    } else {
        counter!(SCHEMA_CACHE_MISSES).increment(1);
    }
}
