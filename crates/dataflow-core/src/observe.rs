//! Observability: `tracing` spans per operation and per statement, metrics through the `metrics`
//! facade, the in-process [`Stats`](stats::StatsSnapshot) snapshot and slow-statement warnings.
//!
//! Everything is instrumented in two choke points: the operation wrapper around every Express
//! call (`trace::operation`, used by the `with_conn!` macro of `express`) and the statement
//! wrappers on the connection (`stmt`). Targets by category: `dataflow::ops` (operation spans),
//! `dataflow::sql` (statement spans, slow statements), `dataflow::migrate`, `dataflow::workflow`,
//! `dataflow::cache`.
//!
//! Cost by level (issue 15; instruction counts in docs/benchmarks.md, "Seventh run" and
//! "Observability overhead, session 9"): a span is
//! built only when a subscriber's max level (or, with no subscriber, a `log` logger's) lets it
//! through, so with nobody listening an operation costs two thread-local swaps per poll (its
//! observer moved in and out, no reference counting), two clock reads, the stats histogram and
//! the metric calls (plus, per statement, two clock reads and the statement's metrics and
//! stats). At INFO the `dataflow.operation` span is
//! built, recorded and closed but **not entered** while the operation runs: nothing of
//! DataFlow's below it is recorded at INFO, and entering and exiting on every poll was a large
//! part of the overhead. As a consequence, at INFO events of other crates emitted inside an
//! operation (sqlx's slow-statement WARN, say) are not nested under `dataflow.operation`. When
//! the max level is DEBUG or TRACE the span is entered on every poll and the
//! `dataflow.statement` spans are its children.
//!
//! | span / metric | fields / labels |
//! |---|---|
//! | `dataflow.operation` (INFO, `dataflow::ops`) | `db.system`, `db.operation.name`, `db.collection.name`, `dataflow.tenant`, `db.response.returned_rows`, `dataflow.rows_affected`, `dataflow.outcome`, `error.type` (DF code) |
//! | `dataflow.statement` (DEBUG, `dataflow::sql`) | `db.system`, `db.collection.name`, `db.query.text` (placeholders only), `db.query.parameters` (only with [`ObserveConfig::log_values`]), rows |
//! | `dataflow.workflow` / `dataflow.node` (INFO, `dataflow::workflow`) | `dataflow.workflow.nodes`, `dataflow.node.id`, `dataflow.node.type`, outcome |
//!
//! Metric names are listed in [`metrics`].

pub mod metrics;
pub(crate) mod pool;
pub mod stats;
pub(crate) mod stmt;
pub(crate) mod trace;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

/// Observability settings of one instance (part of [`Config`](crate::Config)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObserveConfig {
    /// Spans, metrics and [`DataFlow::stats`](crate::DataFlow::stats) (default true). With
    /// `false` the operation and statement paths skip every instrumentation call.
    pub enabled: bool,
    /// Statements slower than this are logged at WARN on `dataflow::sql` with their SQL
    /// (default 1 s; `DATAFLOW_SLOW_QUERY_MS`; `None` turns the warning off).
    pub slow_query: Option<Duration>,
    /// Record bound parameter values on statement spans (`db.query.parameters`). Default false:
    /// spans carry the SQL text with placeholders only.
    pub log_values: bool,
    /// Field names whose values are never recorded, as `field` (any model) or `Model.field`.
    /// With [`ObserveConfig::log_values`] on, a statement on a model with a sensitive field
    /// records its numbers, booleans and timestamps but shows every text, bytes and JSON
    /// parameter as `<redacted>` (the statement's bound values carry no field names, so text
    /// parameters are redacted as a class rather than risk leaking one).
    /// Default: `password`, `password_hash`, `secret`, `token`, `api_key`.
    pub sensitive_fields: Vec<String>,
    /// An `EnvFilter` for the default subscriber [`DataFlow::from_env`](crate::DataFlow::from_env)
    /// installs (`DATAFLOW_LOG`); `None` (default): DataFlow installs no subscriber.
    pub log: Option<String>,
}

impl Default for ObserveConfig {
    fn default() -> Self {
        ObserveConfig {
            enabled: true,
            slow_query: Some(Duration::from_secs(1)),
            log_values: false,
            sensitive_fields: ["password", "password_hash", "secret", "token", "api_key"]
                .into_iter()
                .map(String::from)
                .collect(),
            log: None,
        }
    }
}

impl ObserveConfig {
    /// Whether `model.field` is marked sensitive.
    pub fn is_sensitive(&self, model: &str, field: &str) -> bool {
        self.sensitive_fields.iter().any(|s| match s.split_once('.') {
            Some((m, f)) => m == model && f == field,
            None => s == field,
        })
    }
}

/// Per-instance observability state: the settings, the stats collector and the pool-waiter count.
#[derive(Debug)]
pub(crate) struct Observer {
    pub(crate) config: ObserveConfig,
    pub(crate) stats: stats::Stats,
    pub(crate) waiters: AtomicI64,
    pub(crate) dialect: &'static str,
    /// Statement and pool metric keys (labelled with `dialect`), built once.
    pub(crate) keys: metrics::InstanceKeys,
}

impl Observer {
    pub(crate) fn new(config: ObserveConfig, dialect: dataflow_sql::Dialect) -> Arc<Observer> {
        let dialect = db_system(dialect);
        Arc::new(Observer {
            config,
            stats: stats::Stats::default(),
            waiters: AtomicI64::new(0),
            dialect,
            keys: metrics::InstanceKeys::new(dialect),
        })
    }
}

/// The OpenTelemetry `db.system` value of a dialect.
pub(crate) fn db_system(d: dataflow_sql::Dialect) -> &'static str {
    d.backend().otel_system()
}

thread_local! {
    /// The observer of the operation being polled on this thread: set by `trace::operation`
    /// around each poll of the operation's future (see [`Current`]), read by the statement
    /// wrappers. A plain cell rather than a tokio `task_local!`: setting it costs a swap, not a
    /// scope with its own bookkeeping, on every poll.
    static CURRENT: std::cell::Cell<Option<Arc<Observer>>> = const { std::cell::Cell::new(None) };
}

/// Sets this thread's current observer for one poll and puts the previous one back when
/// dropped (also on unwind), so nested operations restore their caller's observer.
///
/// The operation owns one `Arc` of its observer (`slot`) and lends it to the thread-local for
/// the poll: moved in and moved back, so a poll costs two swaps and no reference counting.
pub(crate) struct Current<'a> {
    slot: &'a mut Option<Arc<Observer>>,
    prev: Option<Arc<Observer>>,
}

impl<'a> Current<'a> {
    /// Makes `slot`'s observer current until the guard drops (`slot` is empty meanwhile).
    #[inline]
    pub(crate) fn set(slot: &'a mut Option<Arc<Observer>>) -> Current<'a> {
        let prev = CURRENT.with(|c| c.replace(slot.take()));
        Current { slot, prev }
    }

    /// The observer of the operation being polled on this thread, if any.
    pub(crate) fn get() -> Option<Arc<Observer>> {
        CURRENT.with(|c| {
            let o = c.take();
            let r = o.clone();
            c.set(o);
            r
        })
    }
}

impl Drop for Current<'_> {
    #[inline]
    fn drop(&mut self) {
        let prev = self.prev.take();
        // Nested guards restore in order, so what comes back is the `Arc` lent in `set`.
        *self.slot = CURRENT.with(|c| c.replace(prev));
    }
}

/// Installs a default `tracing` subscriber: human-readable lines on stderr, filtered by `filter`
/// (an `EnvFilter` such as `info` or `warn,dataflow::sql=debug`). Does nothing when the program
/// already installed a global subscriber. DF-405 when the filter does not parse.
pub fn init_logging(filter: &str) -> dataflow_sql::Result<()> {
    let f = tracing_subscriber::EnvFilter::try_new(filter).map_err(|e| {
        dataflow_sql::Error::new(dataflow_sql::ErrorCode::INVALID_CONFIG, format!("invalid log filter `{filter}`: {e}"))
            .fix("use a level (`info`) or per-target levels: `warn,dataflow::sql=debug`")
    })?;
    let _already_installed = tracing_subscriber::fmt().with_env_filter(f).with_writer(std::io::stderr).try_init();
    Ok(())
}

impl crate::DataFlow {
    /// An in-process snapshot of this instance's statistics: operation totals and p50/p95/p99
    /// latency per operation kind, statement totals and the slowest statements (SQL text only).
    /// For programs without a metrics exporter; empty when
    /// [`ObserveConfig::enabled`] is false.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) {
    /// let s = db.stats();
    /// if let Some(r) = s.operation("Read") {
    ///     println!("reads: {} (p99 {:?})", r.count, r.p99);
    /// }
    /// print!("{s}");
    /// # }
    /// ```
    pub fn stats(&self) -> stats::StatsSnapshot {
        let mut s = self.inner.observer.stats.snapshot();
        if let Some(r) = &self.inner.replicas {
            (s.replicas, s.primary_reads, s.replica_fallbacks) = r.stats();
        }
        s.query_cache = self.inner.query_cache.stats();
        s
    }
}
