//! The operation span (`dataflow.operation`) and what is recorded when an operation ends:
//! rows, outcome, DF code, metrics and stats. Also the workflow and node spans.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;

use dataflow_sql::{Error, Result, Value};
use tracing::field::{Empty, Field};

use super::metrics;
use crate::DataFlow;

/// Byte equality of two strings, usable in constants.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The operation name of an `ops::<module>::<function>` call (what `with_conn!` dispatches).
/// A `const fn`: `with_conn!` evaluates it at compile time ([`Op::new`]).
pub(crate) const fn op_name(module: &str, func: &str) -> &'static str {
    const BY_MODULE: [(&str, &str); 11] = [
        ("create", "Create"),
        ("read", "Read"),
        ("update", "Update"),
        ("delete", "Delete"),
        ("list", "List"),
        ("count", "Count"),
        ("upsert", "Upsert"),
        ("bulk_create", "BulkCreate"),
        ("bulk_update", "BulkUpdate"),
        ("bulk_delete", "BulkDelete"),
        ("bulk_upsert", "BulkUpsert"),
    ];
    if str_eq(module, "read") && str_eq(func, "find_one") {
        return "FindOne";
    }
    if str_eq(module, "delete") && str_eq(func, "restore") {
        return "Restore";
    }
    if str_eq(module, "delete") && str_eq(func, "hard_delete") {
        return "HardDelete";
    }
    let mut i = 0;
    while i < BY_MODULE.len() {
        if str_eq(module, BY_MODULE[i].0) {
            return BY_MODULE[i].1;
        }
        i += 1;
    }
    "Other"
}

/// An operation's name with its index in [`OPERATIONS`](super::stats::OPERATIONS), built at
/// compile time by `with_conn!` (`const`), so no operation matches its name at run time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op {
    pub(crate) name: &'static str,
    pub(crate) idx: Option<usize>,
}

impl Op {
    /// The operation `name` with its stats index (`None` outside the list).
    pub(crate) const fn new(name: &'static str) -> Op {
        Op { name, idx: super::stats::operation_index(name) }
    }
}

fn reads(op: &str) -> bool {
    matches!(op, "Read" | "List" | "Count" | "FindOne")
}

/// What an operation's result says about rows and failure.
pub(crate) trait Observed {
    /// Rows returned (reads) or affected (writes).
    fn rows(&self) -> u64;
    /// The error, when the operation failed.
    fn error(&self) -> Option<&Error> {
        None
    }
}

impl<T: Observed> Observed for Result<T> {
    fn rows(&self) -> u64 {
        self.as_ref().map_or(0, Observed::rows)
    }
    fn error(&self) -> Option<&Error> {
        match self {
            Ok(t) => t.error(),
            Err(e) => Some(e),
        }
    }
}
impl<T: Observed> Observed for Option<T> {
    fn rows(&self) -> u64 {
        self.as_ref().map_or(0, Observed::rows)
    }
}
impl<T: Observed> Observed for std::sync::Arc<T> {
    fn rows(&self) -> u64 {
        T::rows(self)
    }
}
/// A read's finished JSON (what the query cache keeps): a List's node result counts its
/// records, a record counts one.
impl Observed for serde_json::Value {
    fn rows(&self) -> u64 {
        self.get("records").and_then(serde_json::Value::as_array).map_or(1, |r| r.len() as u64)
    }
}
impl Observed for Vec<Value> {
    fn rows(&self) -> u64 {
        1
    }
}
impl Observed for bool {
    fn rows(&self) -> u64 {
        u64::from(*self)
    }
}
impl Observed for u64 {
    fn rows(&self) -> u64 {
        *self
    }
}
impl Observed for (bool, Vec<Value>) {
    fn rows(&self) -> u64 {
        1
    }
}
impl Observed for crate::ops::list::Page {
    fn rows(&self) -> u64 {
        self.rows.len() as u64
    }
}
impl Observed for crate::ops::bulk_create::BulkCreated {
    fn rows(&self) -> u64 {
        self.inserted
    }
}
impl Observed for crate::UpsertCounts {
    fn rows(&self) -> u64 {
        self.inserted + self.updated
    }
}

/// Whether a span or event at `level` can be recorded by anyone: a `tracing` subscriber whose
/// filter lets `level` through (the global max level, one atomic load), or — sqlx turns on
/// `tracing`'s `log` feature — a `log` logger, which the span macros fall back to while no
/// subscriber is set. When neither holds the span is not built at all: even a disabled span
/// costs several hundred instructions through that fallback (metadata, value set, the checks on
/// every `record` and `enter`).
#[inline]
pub(crate) fn wanted(level: tracing::Level) -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    let traced = level <= STATIC_MAX_LEVEL && level <= LevelFilter::current();
    traced || {
        let as_log = match level {
            tracing::Level::ERROR => log::Level::Error,
            tracing::Level::WARN => log::Level::Warn,
            tracing::Level::INFO => log::Level::Info,
            tracing::Level::DEBUG => log::Level::Debug,
            tracing::Level::TRACE => log::Level::Trace,
        };
        as_log <= log::STATIC_MAX_LEVEL && as_log <= log::max_level()
    }
}

/// Runs one operation's future inside its `dataflow.operation` span and records the outcome.
///
/// The span is entered on each poll only when a subscriber may record spans below INFO (the
/// global max level is DEBUG or TRACE): the DEBUG `dataflow.statement` spans then need it as
/// their parent. At INFO the span is created, its fields recorded and closed, but not entered,
/// so events of other crates inside the operation are not nested under it (entering and
/// exiting on every poll was a measurable part of the overhead).
pub(crate) async fn operation<T: Observed>(
    db: &DataFlow,
    op: Op,
    entry: &crate::db::registry::ModelEntry,
    tenant: Option<&str>,
    fut: impl Future<Output = T>,
) -> T {
    let obs = &db.inner.observer;
    if !obs.config.enabled {
        return fut.await;
    }
    let Op { name: op, idx } = op;
    let model = entry.schema.name.as_str();
    let span = operation_span(obs, op, model, tenant);
    let enter = !span.is_disabled() && tracing::level_filters::LevelFilter::current() > tracing::Level::INFO;
    let t0 = Instant::now();
    // Polled in place, with the observer set for the statements (and inside the span when it
    // is entered): the operation's future (several KB) is not moved into wrapper futures
    // (`Instrumented`, `TaskLocalFuture`), each move being a copy of the whole state.
    let mut fut = std::pin::pin!(fut);
    let mut lent = Some(std::sync::Arc::clone(obs));
    let out = std::future::poll_fn(|cx| {
        let _in_span = enter.then(|| span.enter());
        let _current = super::Current::set(&mut lent);
        fut.as_mut().poll(cx)
    })
    .await;
    let elapsed = t0.elapsed();
    let err = out.error();
    let rows = out.rows();
    let read = idx.map_or_else(|| reads(op), super::stats::reads);
    if !span.is_none() {
        record_end(&span, read, rows, err);
    }
    if let Some(e) = err {
        tracing::debug!(target: "dataflow::ops", parent: &span, error = %e, "operation failed");
    }
    let keys = entry.metric_keys.get_or_init(|| metrics::ModelKeys::new(model));
    metrics::operation(keys, model, (op, idx), err.is_none(), elapsed, (!read && err.is_none()).then_some(rows));
    obs.stats.operation(idx, elapsed, err.is_none());
    out
}

/// The `dataflow.operation` span of one call, or `Span::none()` when nobody would record it.
/// Not generic, unlike [`operation`]: one copy of the span's code.
fn operation_span(obs: &super::Observer, op: &'static str, model: &str, tenant: Option<&str>) -> tracing::Span {
    if !wanted(tracing::Level::INFO) {
        return tracing::Span::none();
    }
    tracing::info_span!(
        target: "dataflow::ops",
        "dataflow.operation",
        db.system = obs.dialect,
        db.operation.name = op,
        db.collection.name = model,
        dataflow.tenant = tenant,
        db.response.returned_rows = Empty,
        dataflow.rows_affected = Empty,
        dataflow.outcome = Empty,
        "error.type" = Empty,
    )
}

/// The fields of `dataflow.operation` recorded when the operation ends, looked up once:
/// recording by name scans the span's field set comparing strings on every call.
struct EndFields {
    returned_rows: Field,
    rows_affected: Field,
    outcome: Field,
    error: Field,
}

impl EndFields {
    /// The fields of the span's callsite (there is one: [`operation_span`]'s); `None` for a
    /// span without metadata or, should that ever be, of another callsite.
    fn of(span: &tracing::Span) -> Option<&'static EndFields> {
        static FIELDS: OnceLock<Option<EndFields>> = OnceLock::new();
        let meta = span.metadata()?;
        let f = FIELDS
            .get_or_init(|| {
                let fs = meta.fields();
                Some(EndFields {
                    returned_rows: fs.field("db.response.returned_rows")?,
                    rows_affected: fs.field("dataflow.rows_affected")?,
                    outcome: fs.field("dataflow.outcome")?,
                    error: fs.field("error.type")?,
                })
            })
            .as_ref()?;
        (f.outcome.callsite() == meta.callsite()).then_some(f)
    }
}

/// Records rows, outcome and DF code on an operation span, in one call to the subscriber
/// (`record_all`: one dispatch instead of one per field).
fn record_end(span: &tracing::Span, read: bool, rows: u64, err: Option<&Error>) {
    let outcome = if err.is_none() { "ok" } else { "error" };
    let code = err.map(|e| e.code().to_string());
    if let Some((f, meta)) = EndFields::of(span).zip(span.metadata()) {
        let rows_field = if read { &f.returned_rows } else { &f.rows_affected };
        let code = code.as_ref().map(|c| c as &dyn tracing::Value);
        span.record_all(&meta.fields().value_set(&[
            (rows_field, Some(&rows as &dyn tracing::Value)),
            (&f.outcome, Some(&outcome as &dyn tracing::Value)),
            (&f.error, code),
        ]));
    } else {
        span.record(if read { "db.response.returned_rows" } else { "dataflow.rows_affected" }, rows);
        span.record("dataflow.outcome", outcome);
        if let Some(code) = code {
            span.record("error.type", code);
        }
    }
}

/// The `dataflow.workflow` span of one run.
pub(crate) fn workflow_span(db: &DataFlow, nodes: usize, transactional: bool) -> tracing::Span {
    if !db.inner.observer.config.enabled {
        return tracing::Span::none();
    }
    tracing::info_span!(
        target: "dataflow::workflow",
        "dataflow.workflow",
        db.system = db.inner.observer.dialect,
        dataflow.workflow.nodes = nodes,
        dataflow.workflow.transaction = transactional,
        dataflow.outcome = Empty,
        "error.type" = Empty,
        dataflow.workflow.failed_node = Empty,
    )
}

/// The `dataflow.node` span of one node.
pub(crate) fn node_span(db: &DataFlow, id: &str, node_type: &str, level: usize) -> tracing::Span {
    if !db.inner.observer.config.enabled {
        return tracing::Span::none();
    }
    tracing::info_span!(
        target: "dataflow::workflow",
        "dataflow.node",
        dataflow.node.id = id,
        dataflow.node.r#type = node_type,
        dataflow.node.level = level,
    )
}

/// Records a workflow's outcome on its span.
pub(crate) fn workflow_done<T>(span: &tracing::Span, r: &std::result::Result<T, crate::workflow::WorkflowFailure>) {
    match r {
        Ok(_) => {
            span.record("dataflow.outcome", "ok");
        }
        Err(f) => {
            span.record("dataflow.outcome", "error");
            span.record("error.type", f.cause.code().to_string());
            span.record("dataflow.workflow.failed_node", f.node.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    /// The compile-time operation names and indexes.
    #[test]
    fn op_names_and_indexes() {
        use super::{Op, op_name};
        assert_eq!(op_name("read", "find_one"), "FindOne");
        assert_eq!(op_name("read", "by_id_as"), "Read");
        assert_eq!(op_name("delete", "restore"), "Restore");
        assert_eq!(op_name("delete", "hard_delete"), "HardDelete");
        assert_eq!(op_name("delete", "soft"), "Delete");
        assert_eq!(op_name("bulk_upsert", "run"), "BulkUpsert");
        assert_eq!(op_name("create", "insert_one"), "Create");
        assert_eq!(op_name("migrate", "x"), "Other");
        const READ: Op = Op::new(op_name("read", "by_id"));
        assert_eq!((READ.name, READ.idx), ("Read", Some(1)));
        assert_eq!(Op::new("Other").idx, None);
    }

    /// The read flag taken from the operation's stats index agrees with the one by name.
    #[test]
    fn reads_by_index_matches_reads_by_name() {
        for (i, op) in super::super::stats::OPERATIONS.iter().enumerate() {
            assert_eq!(super::super::stats::reads(i), super::reads(op), "{op}");
        }
    }
}
