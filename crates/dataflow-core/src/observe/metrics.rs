//! Metric names and the recording calls, through the [`metrics`] facade: install any
//! recorder (a Prometheus or OpenTelemetry exporter) and DataFlow's metrics appear there. With
//! no recorder installed every call is a no-op.
//!
//! Labels: `model`, `operation`, `outcome` (`ok` / `error`), `db_system`.

use std::time::Duration;

use ::metrics::{Key, Label, Level, Metadata, counter, histogram};

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

/// Metadata of every DataFlow metric (what the `counter!`/`histogram!` macros would pass).
static META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The keys of one (model, operation, outcome): built once, so recording an operation
/// allocates nothing and hashes nothing (a key carries its precomputed hash).
#[derive(Debug)]
struct OpKeys {
    total: Key,
    duration: Key,
    written: Key,
}

/// The operation metric keys of one model, one entry per (operation of
/// [`OPERATIONS`](super::stats::OPERATIONS), outcome). Built on the model's first operation
/// and kept with its registry entry. The keys are handed to whatever recorder is current at
/// each call ([`::metrics::with_recorder`]), so a recorder installed later (or a test's local
/// recorder) sees every operation. Handles (`Counter`, `Histogram`) are deliberately not
/// cached: `metrics` 0.24 offers no way to tell that the current recorder changed (a local
/// recorder can be dropped and another installed at the same address), and a cached handle of
/// a replaced recorder would lose every later sample without a trace.
#[derive(Debug)]
pub(crate) struct ModelKeys {
    ops: Box<[OpKeys]>,
}

impl ModelKeys {
    pub(crate) fn new(model: &str) -> Self {
        let mut ops = Vec::with_capacity(super::stats::OPERATIONS.len() * 2);
        for op in super::stats::OPERATIONS {
            for outcome in ["ok", "error"] {
                let labels = || {
                    vec![
                        Label::new("model", model.to_owned()),
                        Label::from_static_parts("operation", op),
                        Label::from_static_parts("outcome", outcome),
                    ]
                };
                ops.push(OpKeys {
                    total: Key::from_parts(OPERATIONS_TOTAL, labels()),
                    duration: Key::from_parts(OPERATION_DURATION, labels()),
                    written: Key::from_parts(
                        ROWS_WRITTEN_TOTAL,
                        vec![Label::new("model", model.to_owned()), Label::from_static_parts("operation", op)],
                    ),
                });
            }
        }
        ModelKeys { ops: ops.into() }
    }
}

/// Records one finished operation. `op` is the index of its name in
/// [`OPERATIONS`](super::stats::OPERATIONS), `None` for an operation outside the list (which
/// takes the slower path that builds its labels).
pub(crate) fn operation(
    keys: &ModelKeys,
    model: &str,
    op: (&'static str, Option<usize>),
    ok: bool,
    elapsed: Duration,
    written: Option<u64>,
) {
    let written = written.filter(|n| *n > 0);
    let Some(k) = op.1.and_then(|i| keys.ops.get(i * 2 + usize::from(!ok))) else {
        let outcome = if ok { "ok" } else { "error" };
        let labels = [("model", model.to_owned()), ("operation", op.0.to_owned()), ("outcome", outcome.to_owned())];
        counter!(OPERATIONS_TOTAL, &labels).increment(1);
        histogram!(OPERATION_DURATION, &labels).record(elapsed.as_secs_f64());
        if let Some(n) = written {
            counter!(ROWS_WRITTEN_TOTAL, "model" => model.to_owned(), "operation" => op.0).increment(n);
        }
        return;
    };
    ::metrics::with_recorder(|r| {
        r.register_counter(&k.total, &META).increment(1);
        r.register_histogram(&k.duration, &META).record(elapsed.as_secs_f64());
        if let Some(n) = written {
            r.register_counter(&k.written, &META).increment(n);
        }
    });
}

/// The statement and pool metric keys of one instance (labels: its `db_system`), built once.
#[derive(Debug)]
pub(crate) struct InstanceKeys {
    statements: [Key; 2],
    statement_duration: Key,
    slow: Key,
    pool: [Key; 3],
}

impl InstanceKeys {
    pub(crate) fn new(db_system: &'static str) -> Self {
        let sys = || Label::from_static_parts("db_system", db_system);
        let with = |name: &'static str| Key::from_parts(name, vec![sys()]);
        let stmt = |outcome: &'static str| {
            Key::from_parts(STATEMENTS_TOTAL, vec![sys(), Label::from_static_parts("outcome", outcome)])
        };
        InstanceKeys {
            statements: [stmt("ok"), stmt("error")],
            statement_duration: with(STATEMENT_DURATION),
            slow: with(SLOW_STATEMENTS_TOTAL),
            pool: [with(POOL_SIZE), with(POOL_IDLE), with(POOL_WAITERS)],
        }
    }
}

pub(crate) fn statement(keys: &InstanceKeys, ok: bool, elapsed: Duration, slow: bool) {
    ::metrics::with_recorder(|r| {
        r.register_counter(&keys.statements[usize::from(!ok)], &META).increment(1);
        r.register_histogram(&keys.statement_duration, &META).record(elapsed.as_secs_f64());
        if slow {
            r.register_counter(&keys.slow, &META).increment(1);
        }
    });
}

#[allow(clippy::cast_precision_loss, reason = "gauges are f64")]
pub(crate) fn pool(keys: &InstanceKeys, size: u32, idle: usize, waiters: i64) {
    ::metrics::with_recorder(|r| {
        r.register_gauge(&keys.pool[0], &META).set(f64::from(size));
        r.register_gauge(&keys.pool[1], &META).set(idle as f64);
        r.register_gauge(&keys.pool[2], &META).set(waiters as f64);
    });
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
    static HITS: Key = Key::from_static_name(SCHEMA_CACHE_HITS);
    static MISSES: Key = Key::from_static_name(SCHEMA_CACHE_MISSES);
    ::metrics::with_recorder(|r| r.register_counter(if hit { &HITS } else { &MISSES }, &META).increment(1));
}
