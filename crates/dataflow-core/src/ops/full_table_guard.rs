//! The opt-in full-table guard (`DataFlowBuilder::full_table_guard`): an unconfirmed
//! BulkDelete/BulkUpdate by filter runs in its own transaction (a savepoint inside a user
//! transaction); when it touched every record of a table holding at least the configured number
//! of records, it is rolled back before commit and reported as DF-108.
//!
//! Filters that match every *possible* record are refused before any SQL (`Filter::is_tautology`);
//! this guard catches the ones that only happen to match every *current* record.

use dataflow_sql::{Error, ErrorCode, Operation, Result};

use super::Ctx;
use crate::db::pool::{Conn, Stmt};

/// Runs a filtered bulk change, under the guard when it is on and the change is unconfirmed.
/// Returns the number of records touched.
pub(crate) async fn execute(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    op: Operation,
    st: Stmt,
    confirmed: bool,
) -> Result<u64> {
    let s = cx.schema();
    let Some(min_rows) = cx.full_table_guard.filter(|_| !confirmed) else {
        return Ok(conn.execute(st, s).await?.rows);
    };
    let mut tx = conn.begin().await?;
    let (total, touched) = {
        let mut c = tx.conn();
        let total = super::count::count(&mut c, cx, None, false).await?;
        let touched = c.execute(st, s).await?.rows;
        (total, touched)
    };
    if total >= min_rows.max(1) && touched >= total {
        tx.rollback().await?;
        return Err(Error::new(
            ErrorCode::UNCONFIRMED_DESTRUCTIVE,
            format!(
                "{} on `{}` would have touched all {total} records of the table; rolled back (full-table guard)",
                op.name(),
                s.name
            ),
        )
        .model(&s.name)
        .operator(op.name())
        .fix("narrow the filter so it leaves some records alone")
        .fix("or pass \"confirmed\": true to really change every record"));
    }
    tx.commit().await?;
    Ok(touched)
}
