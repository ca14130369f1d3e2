//! BulkDelete: by filter (confirmed when empty) or by ids; soft on soft-delete models.

use dataflow_sql::filter::Filter;
use dataflow_sql::{Operation, Result, Value, stmt};
use sea_query::Condition;

use super::Ctx;
use crate::db::pool::Conn;

/// Ids per `IN (...)` list.
const IDS_PER_STATEMENT: usize = 1_000;

fn delete_stmt(cx: &Ctx<'_>, cond: Condition) -> stmt::Sql {
    let s = cx.schema();
    if s.options.soft_delete {
        stmt::soft_delete(s, cx.dialect, Some(cond), cx.scope(false), super::now())
    } else {
        stmt::delete(s, cx.dialect, Some(cond), cx.scope(false))
    }
}

/// Deletes every record matching the filter; returns how many.
pub(crate) async fn by_filter(conn: &mut Conn<'_>, cx: &Ctx<'_>, filter: &Filter, confirmed: bool) -> Result<u64> {
    cx.refuse_append_only(Operation::BulkDelete)?;
    cx.check()?;
    super::bulk_update::check_confirmed(cx, filter, confirmed, Operation::BulkDelete)?;
    let s = cx.schema();
    let cond = filter.condition_for(s, cx.dialect, cx.server)?;
    let st = delete_stmt(cx, cond.clone());
    if cx.audited() {
        return crate::audit::in_tx!(conn, |c| {
            let before = crate::audit::snapshot(&mut c, cx, cond, false).await?;
            let n = super::full_table_guard::execute(&mut c, cx, Operation::BulkDelete, st.into(), confirmed).await?;
            crate::audit::removed(&mut c, cx, &before).await?;
            n
        });
    }
    super::full_table_guard::execute(conn, cx, Operation::BulkDelete, st.into(), confirmed).await
}

/// Deletes the records with these ids, atomically; returns how many.
pub(crate) async fn by_ids(conn: &mut Conn<'_>, cx: &Ctx<'_>, ids: &[Value]) -> Result<u64> {
    cx.refuse_append_only(Operation::BulkDelete)?;
    cx.check()?;
    let ids = ids.iter().map(|i| super::read::coerce_id(cx, i)).collect::<Result<Vec<_>>>()?;
    if ids.is_empty() {
        return Ok(0);
    }
    let s = cx.schema();
    let mut tx = conn.begin().await?;
    let mut n = 0;
    {
        let mut c = tx.conn();
        for part in ids.chunks(IDS_PER_STATEMENT) {
            let before = if cx.audited() {
                crate::audit::snapshot(&mut c, cx, cx.ids_cond(part), false).await?
            } else {
                Vec::new()
            };
            n += c.execute(delete_stmt(cx, cx.ids_cond(part)).into(), s).await?.rows;
            if cx.audited() {
                crate::audit::removed(&mut c, cx, &before).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(n)
}
