//! Row locks for reads inside a transaction (`read_for_update`, `list(..).for_update()`).

use dataflow_sql::stmt::{self, Sql};
use dataflow_sql::{Dialect, Result, Value};

use super::Ctx;
use crate::db::pool::{Conn, SqlText, Stmt};

/// The statement with `FOR UPDATE` appended (PostgreSQL, MySQL); unchanged on SQLite, where the
/// DataFlow write transaction (`BEGIN IMMEDIATE`) already holds the database's write lock.
pub(crate) fn locked(st: Stmt, dialect: Dialect) -> Stmt {
    let sql = match st.sql {
        SqlText::Owned(s) => s,
        SqlText::Shared(s) => s.to_string(),
    };
    stmt::for_update(Sql { sql, values: st.values }, dialect).into()
}

/// Reads one record by id and locks it until the transaction ends.
pub(crate) async fn read_for_update(conn: &mut Conn<'_>, cx: &Ctx<'_>, id: &Value) -> Result<Option<Vec<Value>>> {
    cx.check()?;
    let s = cx.schema();
    let id = super::read::coerce_id(cx, id)?;
    let st: Stmt = stmt::select_by_id(s, cx.dialect, &id, cx.scope(false)).into();
    conn.fetch_optional(locked(st, cx.dialect), &cx.e.cols, s).await
}
