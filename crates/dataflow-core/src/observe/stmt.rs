//! The statement choke point: every statement an operation runs goes through these wrappers
//! around the connection's executors, which open the `dataflow.statement` span (SQL text with
//! placeholders; parameter values only when enabled, redacted for sensitive models), count the
//! statement, keep the slowest ones and warn about slow ones.

use std::sync::Arc;
use std::time::Instant;

use dataflow_sql::{FieldDef, ModelSchema, Result, Value};
use tracing::field::Empty;

use super::{Current, Observer, metrics};
use crate::db::pool::{Conn, Done, SqlText, Stmt};

/// Awaits a statement's future inside `span`, polled in place: unlike `.instrument(span)` the
/// future is not moved into a wrapper (a copy of its whole state).
macro_rules! in_span {
    ($span:expr, $fut:expr) => {{
        let span: &tracing::Span = $span;
        let mut fut = std::pin::pin!($fut);
        // Below DEBUG the span is `Span::none()`: nothing to enter.
        let enter = !span.is_none();
        std::future::poll_fn(|cx| {
            let _in_span = enter.then(|| span.enter());
            fut.as_mut().poll(cx)
        })
        .await
    }};
}

/// The observer of the running operation (set only when its instrumentation is on).
fn current() -> Option<Arc<Observer>> {
    Current::get()
}

/// Makes the SQL text shareable (no copy beyond the one sqlx would make anyway), in place: a
/// statement whose text is already shared (the cached ones) only gains a reference.
fn shared(st: &mut Stmt) -> Arc<str> {
    let sql: Arc<str> = match &mut st.sql {
        SqlText::Shared(a) => return Arc::clone(a),
        SqlText::Owned(s) => std::mem::take(s).into(),
    };
    st.sql = SqlText::Shared(Arc::clone(&sql));
    sql
}

/// One bound value for `db.query.parameters`; text-like values are hidden when `redact`.
fn render(v: &sea_query::Value, redact: bool) -> String {
    use sea_query::Value as V;
    match v {
        V::String(Some(_)) | V::Char(Some(_)) | V::Bytes(Some(_)) | V::Json(Some(_)) | V::Array(..) if redact => {
            "<redacted>".to_owned()
        }
        V::String(Some(s)) => format!("{s:?}"),
        other => format!("{other:?}"),
    }
}

/// Whether a statement on `schema` must hide its text parameters.
fn redact_for(obs: &Observer, schema: Option<&ModelSchema>) -> bool {
    match schema {
        Some(s) => s.fields.iter().any(|f| obs.config.is_sensitive(&s.name, &f.name)),
        // No model: the values cannot be attributed to fields, so hide every text value.
        None => true,
    }
}

/// Renders the parameter list as recorded on the span (public for the docs' sake: crate tests).
pub(crate) fn parameters(obs: &Observer, values: &sea_query::Values, schema: Option<&ModelSchema>) -> String {
    let redact = redact_for(obs, schema);
    let parts: Vec<String> = values.0.iter().map(|v| render(v, redact)).collect();
    format!("[{}]", parts.join(", "))
}

/// The statement's span, `Span::none()` when nobody records DEBUG (a disabled span still costs
/// its `log` fallback). The check is inlined into the wrappers; building the span is not.
#[inline]
fn span(obs: &Observer, sql: &str, values: Option<&sea_query::Values>, schema: Option<&ModelSchema>) -> tracing::Span {
    if super::trace::wanted(tracing::Level::DEBUG) {
        debug_span(obs, sql, values, schema)
    } else {
        tracing::Span::none()
    }
}

#[inline(never)]
fn debug_span(
    obs: &Observer,
    sql: &str,
    values: Option<&sea_query::Values>,
    schema: Option<&ModelSchema>,
) -> tracing::Span {
    let span = tracing::debug_span!(
        target: "dataflow::sql",
        "dataflow.statement",
        db.system = obs.dialect,
        db.collection.name = schema.map(|s| s.name.as_str()),
        db.query.text = sql,
        db.query.parameters = Empty,
        db.response.returned_rows = Empty,
        dataflow.rows_affected = Empty,
        "error.type" = Empty,
    );
    if obs.config.log_values
        && !span.is_disabled()
        && let Some(v) = values
    {
        span.record("db.query.parameters", parameters(obs, v, schema));
    }
    span
}

/// Records the end of one statement: span fields, metrics, stats, slow warning.
fn finish(
    obs: &Observer,
    span: &tracing::Span,
    sql: &str,
    model: Option<&str>,
    t0: Instant,
    rows: Option<(&str, u64)>,
    err: Option<&dataflow_sql::Error>,
) {
    let elapsed = t0.elapsed();
    if let Some((field, n)) = rows {
        span.record(field, n);
    }
    if let Some(e) = err {
        span.record("error.type", e.code().to_string());
    }
    let slow = obs.config.slow_query.is_some_and(|t| elapsed >= t);
    if slow {
        tracing::warn!(
            target: "dataflow::sql",
            parent: span,
            db_system = obs.dialect,
            model,
            sql,
            elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "slow statement"
        );
    }
    metrics::statement(&obs.keys, err.is_none(), elapsed, slow);
    obs.stats.statement(sql, model, elapsed, err.is_none());
}

impl Conn<'_> {
    /// Runs statement text without bound values (DDL, SAVEPOINT).
    pub(crate) async fn execute_raw(&mut self, sql: &str, schema: Option<&ModelSchema>) -> Result<()> {
        let Some(obs) = current() else { return self.execute_raw_unobserved(sql, schema).await };
        let span = span(&obs, sql, None, schema);
        let t0 = Instant::now();
        let r = in_span!(&span, self.execute_raw_unobserved(sql, schema));
        finish(&obs, &span, sql, schema.map(|s| s.name.as_str()), t0, None, r.as_ref().err());
        r
    }

    /// Runs a statement and reports rows affected (and the last generated id where the backend has one).
    pub(crate) async fn execute(&mut self, mut st: Stmt, schema: &ModelSchema) -> Result<Done> {
        let Some(obs) = current() else { return self.execute_unobserved(st, schema).await };
        let sql = shared(&mut st);
        let span = span(&obs, &sql, Some(&st.values), Some(schema));
        let t0 = Instant::now();
        let r = in_span!(&span, self.execute_unobserved(st, schema));
        let rows = r.as_ref().ok().map(|d| ("dataflow.rows_affected", d.rows));
        finish(&obs, &span, &sql, Some(&schema.name), t0, rows, r.as_ref().err());
        r
    }

    /// PostgreSQL `COPY … FROM STDIN` of `rows` (see [`Conn::copy_in_unobserved`]); one statement.
    pub(crate) async fn copy_in(
        &mut self,
        copy: &dataflow_sql::stmt::CopyIn<'_>,
        rows: &[Vec<Value>],
        schema: &ModelSchema,
    ) -> Result<u64> {
        let Some(obs) = current() else { return self.copy_in_unobserved(copy, rows, schema).await };
        let span = span(&obs, &copy.sql, None, Some(schema));
        let t0 = Instant::now();
        let r = in_span!(&span, self.copy_in_unobserved(copy, rows, schema));
        let n = r.as_ref().ok().map(|n| ("dataflow.rows_affected", *n));
        finish(&obs, &span, &copy.sql, Some(&schema.name), t0, n, r.as_ref().err());
        r
    }

    /// Runs a query and decodes every row by `cols`.
    pub(crate) async fn fetch_all(
        &mut self,
        st: Stmt,
        cols: &[FieldDef],
        schema: &ModelSchema,
    ) -> Result<Vec<Vec<Value>>> {
        self.fetch_all_as(st, cols, schema, &crate::decode::Values).await
    }

    /// Runs a query and decodes the first row, if any.
    pub(crate) async fn fetch_optional(
        &mut self,
        st: Stmt,
        cols: &[FieldDef],
        schema: &ModelSchema,
    ) -> Result<Option<Vec<Value>>> {
        self.fetch_optional_as(st, cols, schema, &crate::decode::Values).await
    }
}

/// Statement execution decoding each row with a [`crate::decode::Decode`] (issue 13: typed and
/// JSON reads without a `Vec<Value>` per row); the same span, metrics and stats as
/// [`Conn::fetch_all`] / [`Conn::fetch_optional`].
impl Conn<'_> {
    /// [`Conn::fetch_all`] decoding each row with `d`.
    pub(crate) async fn fetch_all_as<D: crate::decode::Decode>(
        &mut self,
        mut st: Stmt,
        cols: &[FieldDef],
        schema: &ModelSchema,
        d: &D,
    ) -> Result<Vec<D::Out>> {
        let Some(obs) = current() else { return self.fetch_all_unobserved_as(st, cols, schema, d).await };
        let sql = shared(&mut st);
        let span = span(&obs, &sql, Some(&st.values), Some(schema));
        let t0 = Instant::now();
        let r = in_span!(&span, self.fetch_all_unobserved_as(st, cols, schema, d));
        let rows = r.as_ref().ok().map(|v| ("db.response.returned_rows", v.len() as u64));
        finish(&obs, &span, &sql, Some(&schema.name), t0, rows, r.as_ref().err());
        r
    }

    /// [`Conn::fetch_optional`] decoding the row with `d`.
    pub(crate) async fn fetch_optional_as<D: crate::decode::Decode>(
        &mut self,
        mut st: Stmt,
        cols: &[FieldDef],
        schema: &ModelSchema,
        d: &D,
    ) -> Result<Option<D::Out>> {
        let Some(obs) = current() else { return self.fetch_optional_unobserved_as(st, cols, schema, d).await };
        let sql = shared(&mut st);
        let span = span(&obs, &sql, Some(&st.values), Some(schema));
        let t0 = Instant::now();
        let r = in_span!(&span, self.fetch_optional_unobserved_as(st, cols, schema, d));
        let rows = r.as_ref().ok().map(|v| ("db.response.returned_rows", u64::from(v.is_some())));
        finish(&obs, &span, &sql, Some(&schema.name), t0, rows, r.as_ref().err());
        r
    }
}
