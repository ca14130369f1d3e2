//! Statements on the `dataflow_migrations` history table: one row per migration run (version
//! per model, model, table, checksum, the SQL, highest risk, applied_at, duration_ms, status).

use sea_query::{Alias, Expr, ExprTrait, Func, Order, Query};

use super::Sql;
use crate::{Dialect, Error, ErrorCode, Result};

/// The history table's name.
pub const TABLE: &str = "dataflow_migrations";

/// The columns read and written, in row order.
pub const COLUMNS: [&str; 9] =
    ["version", "model", "table_name", "checksum", "statements", "risk", "applied_at", "duration_ms", "status"];

/// `CREATE TABLE IF NOT EXISTS dataflow_migrations (...)`.
pub fn create(d: Dialect) -> &'static str {
    d.backend().history_table()
}

/// The model's highest recorded version, 0 when none: one BIGINT.
pub fn last_version(model: &str, d: Dialect) -> Sql {
    let mut q = Query::select();
    q.expr(Func::coalesce([Func::max(Expr::col(Alias::new("version"))).into(), Expr::val(0_i64)]))
        .from(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("model")).eq(model));
    Sql::build(&q, d)
}

/// One run to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run<'a> {
    /// 1, 2, ... per model.
    pub version: i64,
    /// The model's name.
    pub model: &'a str,
    /// The table.
    pub table: &'a str,
    /// The checksum of the statements.
    pub checksum: String,
    /// The statements, separated by `;\n`.
    pub statements: String,
    /// The highest risk applied.
    pub risk: &'a str,
    /// UTC, RFC 3339.
    pub applied_at: String,
    /// Wall time of the run.
    pub duration_ms: i64,
    /// `applied` or `failed`.
    pub status: &'a str,
}

/// `INSERT INTO dataflow_migrations (...) VALUES (...)`.
pub fn insert(run: Run<'_>, d: Dialect) -> Result<Sql> {
    let mut ins = Query::insert();
    ins.into_table(Alias::new(TABLE))
        .columns(COLUMNS.map(Alias::new))
        .values([
            Expr::val(run.version),
            Expr::val(run.model),
            Expr::val(run.table),
            Expr::val(run.checksum),
            Expr::val(run.statements),
            Expr::val(run.risk),
            Expr::val(run.applied_at),
            Expr::val(run.duration_ms),
            Expr::val(run.status),
        ])
        .map_err(|e| Error::new(ErrorCode::MIGRATION_FAILED, e.to_string()))?;
    Ok(Sql::build(&ins, d))
}

/// Every recorded run ([`COLUMNS`]), oldest first.
pub fn entries(d: Dialect) -> Sql {
    let mut q = Query::select();
    q.columns(COLUMNS.map(Alias::new)).from(Alias::new(TABLE)).order_by(Alias::new("id"), Order::Asc);
    Sql::build(&q, d)
}
