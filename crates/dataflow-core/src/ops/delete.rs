//! Delete by id (soft on soft-delete models), restore and hard delete.

use dataflow_sql::{Error, ErrorCode, Operation, Result, Value, stmt};

use super::Ctx;
use crate::db::pool::{Conn, SqlText, Stmt};
use crate::db::registry::by_id_values;

/// Deletes one record; soft-delete models get `deleted_at` set. `false` when nothing changed.
pub(crate) async fn delete(conn: &mut Conn<'_>, cx: &Ctx<'_>, id: &Value) -> Result<bool> {
    cx.refuse_append_only(Operation::Delete)?;
    cx.check()?;
    let s = cx.schema();
    let id = super::read::coerce_id(cx, id)?;
    let cond = cx.id_cond(&id);
    if !s.options.soft_delete
        && !cx.audited()
        && let Some(st) = cached_delete(cx, &id)
    {
        return Ok(conn.execute(st, s).await?.rows > 0);
    }
    let st = if s.options.soft_delete {
        stmt::soft_delete(s, cx.dialect, Some(cond.clone()), cx.scope(false), super::now())
    } else {
        stmt::delete(s, cx.dialect, Some(cond.clone()), cx.scope(false))
    };
    if cx.audited() {
        return Ok(crate::audit::removing(conn, cx, cond, false, st.into()).await? > 0);
    }
    Ok(conn.execute(st.into(), s).await?.rows > 0)
}

/// `DELETE .. WHERE id = ? [AND tenant_id = ?]` from the model's statement cache (rendered once
/// per scope shape; the id and the tenant re-bound). `None` on the all-tenants handle (which
/// refuses writes before this point anyway).
fn cached_delete(cx: &Ctx<'_>, id: &Value) -> Option<Stmt> {
    if cx.all_tenants {
        return None;
    }
    let sql = cx.e.delete_by_id_sql(cx.dialect, cx.tenant())?;
    Some(Stmt { sql: SqlText::Shared(sql), values: by_id_values(cx.sea(cx.id_field(), id), cx.tenant()) })
}

fn needs_soft_delete(cx: &Ctx<'_>, what: &str) -> Result<()> {
    let s = cx.schema();
    if !s.options.soft_delete {
        return Err(Error::new(
            ErrorCode::INVALID_PARAMETER,
            format!("`{what}` needs a soft-delete model; `{}` is not", s.name),
        )
        .model(&s.name)
        .operator(what)
        .fix("add `#[dataflow(soft_delete)]` to the model, or use `delete`"));
    }
    Ok(())
}

/// Clears `deleted_at` of a soft-deleted record. `false` when it was not deleted.
pub(crate) async fn restore(conn: &mut Conn<'_>, cx: &Ctx<'_>, id: &Value) -> Result<bool> {
    needs_soft_delete(cx, "restore")?;
    cx.check()?;
    let s = cx.schema();
    let id = super::read::coerce_id(cx, id)?;
    let st = stmt::restore(s, cx.dialect, Some(cx.id_cond(&id)), cx.scope(true), super::now());
    if cx.audited() {
        return Ok(crate::audit::changing(conn, cx, cx.id_cond(&id), true, st.into()).await? > 0);
    }
    Ok(conn.execute(st.into(), s).await?.rows > 0)
}

/// Removes the row for good, soft-deleted or not.
pub(crate) async fn hard_delete(conn: &mut Conn<'_>, cx: &Ctx<'_>, id: &Value) -> Result<bool> {
    cx.refuse_append_only(Operation::Delete)?;
    cx.check()?;
    let s = cx.schema();
    let id = super::read::coerce_id(cx, id)?;
    if !cx.audited()
        && let Some(st) = cached_delete(cx, &id)
    {
        return Ok(conn.execute(st, s).await?.rows > 0);
    }
    let st = stmt::delete(s, cx.dialect, Some(cx.id_cond(&id)), cx.scope(true));
    if cx.audited() {
        return Ok(crate::audit::removing(conn, cx, cx.id_cond(&id), true, st.into()).await? > 0);
    }
    Ok(conn.execute(st.into(), s).await?.rows > 0)
}
