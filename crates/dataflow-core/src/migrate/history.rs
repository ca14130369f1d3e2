//! The `dataflow_migrations` history table: one row per migration run (version per model,
//! model, table, checksum of the LF-normalised SQL, the SQL, highest risk, applied_at,
//! duration_ms, status).

use dataflow_sql::Result;
use dataflow_sql::stmt::{Sql, history};
use sea_query_sqlx::SqlxValues;
use sqlx::AssertSqlSafe;

use super::introspect::db_err;
use crate::db::pool::Conn;

/// The history table's name.
pub const TABLE: &str = history::TABLE;

/// One recorded migration run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// 1, 2, ... per model.
    pub version: i64,
    /// The model's name.
    pub model: String,
    /// The table.
    pub table: String,
    /// FNV-1a 64 of the LF-normalised SQL.
    pub checksum: String,
    /// The statements, separated by `;\n`.
    pub sql: String,
    /// The highest risk applied (`LOW`, ...).
    pub risk: String,
    /// UTC, RFC 3339.
    pub applied_at: String,
    /// Wall time of the run.
    pub duration_ms: i64,
    /// `applied` or `failed`.
    pub status: String,
}

/// Creates the history table if missing.
pub(crate) async fn ensure(conn: &mut Conn<'_>) -> Result<()> {
    let d = conn.dialect();
    conn.execute_raw(history::create(d), None).await
}

/// Appends one run; the version is the model's previous highest + 1.
#[allow(clippy::too_many_arguments, reason = "one column per argument")]
pub(crate) async fn record(
    conn: &mut Conn<'_>,
    model: &str,
    table: &str,
    statements: &[String],
    risk: &str,
    duration_ms: i64,
    status: &str,
) -> Result<()> {
    let d = conn.dialect();
    let prev = conn.fetch_i64(history::last_version(model, d)).await?;
    let run = history::Run {
        version: prev + 1,
        model,
        table,
        checksum: super::plan::checksum(statements),
        statements: statements.join(";\n"),
        risk,
        applied_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        duration_ms,
        status,
    };
    conn.execute_sql(history::insert(run, d)?).await
}

type Row = (i64, String, String, String, String, String, String, i64, String);

/// Every recorded run, oldest first (empty when no migration ever ran).
pub async fn entries(conn: &mut Conn<'_>) -> Result<Vec<HistoryEntry>> {
    if super::introspect::table(conn, TABLE).await?.is_none() {
        return Ok(Vec::new());
    }
    let Sql { sql, values } = history::entries(conn.dialect());
    let v = SqlxValues(values);
    let rows: Vec<Row> = match conn {
        Conn::Postgres(c) => sqlx::query_as_with(AssertSqlSafe(sql), v).fetch_all(&mut **c).await,
        Conn::MySql(c) => sqlx::query_as_with(AssertSqlSafe(sql), v).fetch_all(&mut **c).await,
        Conn::Sqlite(c) => sqlx::query_as_with(AssertSqlSafe(sql), v).fetch_all(&mut **c).await,
    }
    .map_err(db_err)?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryEntry {
            version: r.0,
            model: r.1,
            table: r.2,
            checksum: r.3,
            sql: r.4,
            risk: r.5,
            applied_at: r.6,
            duration_ms: r.7,
            status: r.8,
        })
        .collect())
}
