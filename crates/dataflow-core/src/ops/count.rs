//! Count: `SELECT COUNT(*)` with filter and scope.

use dataflow_sql::filter::Filter;
use dataflow_sql::{FieldDef, FieldType, Result, Value, stmt};

use super::Ctx;
use crate::db::pool::Conn;

/// Counts records matching `filter` (all when `None`).
pub(crate) async fn count(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    filter: Option<&Filter>,
    include_deleted: bool,
) -> Result<u64> {
    cx.check()?;
    let s = cx.schema();
    let cond = filter.map(|f| cx.condition(f)).transpose()?;
    let st = stmt::count(s, cx.dialect, cond, cx.scope(include_deleted));
    let col = [FieldDef::new("count", FieldType::I64)];
    let row = conn.fetch_optional(st.into(), &col, s).await?;
    Ok(match row.as_deref() {
        Some([Value::I64(n)]) => u64::try_from(*n).unwrap_or_default(),
        _ => 0,
    })
}
