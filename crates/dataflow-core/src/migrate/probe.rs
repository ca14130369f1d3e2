//! Runs the data-aware counts of a migration plan (statements from `dataflow_sql::stmt::probe`).

use dataflow_sql::Result;
use dataflow_sql::stmt::probe::{self, Probe};

use crate::db::pool::Conn;

/// Runs the probe's count on `table`.
pub(crate) async fn count(conn: &mut Conn<'_>, table: &str, probe: &Probe) -> Result<u64> {
    let d = conn.dialect();
    let n = conn.fetch_i64(probe::count(table, probe, d)).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}
