//! Update one record identified by a filter (id or unique field), with plain values and atomic
//! operators ([`Changes`]).

use dataflow_sql::changes::Changes;
use dataflow_sql::filter::Filter;
use dataflow_sql::stmt::{self, SelectSpec};
use dataflow_sql::{Dialect, Error, ErrorCode, Operation, Result, Value};
use sea_query::Condition;

use super::Ctx;
use crate::db::pool::{Conn, SqlText, Stmt};
use crate::db::registry::{push_tenant, scope_slot};
use crate::decode::{Decode, Values};

/// Validates a `set` list: known user fields, not `id`, values checked. No SQL.
pub(crate) fn check_set(cx: &Ctx<'_>, set: &[(String, Value)]) -> Result<()> {
    let s = cx.schema();
    for (name, v) in set {
        let f = s.field_or_err(name)?;
        if name == "id" {
            return Err(Error::new(
                ErrorCode::INVALID_PARAMETER,
                "the primary key `id` cannot be changed by an update",
            )
            .model(&s.name)
            .field("id")
            .fix("create a new record with the new id and delete the old one"));
        }
        super::check_value(s, f, v)?;
    }
    Ok(())
}

/// Updates the one record the filter identifies; `None` when nothing matches.
///
/// One round trip on PostgreSQL and SQLite (`UPDATE .. WHERE <filter> RETURNING ..`; the filter
/// identifies at most one row, so no SELECT is needed to find it). On MySQL/MariaDB, which has
/// no `UPDATE .. RETURNING`, see [`write_one`].
pub(crate) async fn update_one(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    filter: &Filter,
    mut changes: Changes,
) -> Result<Option<Vec<Value>>> {
    cx.refuse_append_only(Operation::Update)?;
    cx.check()?;
    let s = cx.schema();
    if !filter.identifies_one(s) {
        return Err(Error::new(
            ErrorCode::WRONG_SHAPE,
            format!("Update of `{}` needs a filter that identifies one record (`id` or a unique field)", s.name),
        )
        .model(&s.name)
        .operator("Update")
        .fix("{\"filter\": {\"id\": \"u1\"}, \"fields\": {\"name\": \"New\"}}")
        .fix("to change many records use BulkUpdate with `filter` and `fields`"));
    }
    check_changes(cx, &mut changes)?;
    let id = filter.pinned_value("id").map(|v| super::read::coerce_id(cx, v)).transpose()?;
    write_one(conn, cx, cx.condition(filter)?, id.as_ref(), &changes).await
}

/// Validates changes against the model and the backend (DF-102/103/104/109/402). No SQL.
pub(crate) fn check_changes(cx: &Ctx<'_>, changes: &mut Changes) -> Result<()> {
    let s = cx.schema();
    cx.protect_fields(changes.items().iter().map(|c| c.field.as_str()))?;
    changes.validate(s)?;
    changes.check_dialect(s, cx.dialect)?;
    // Plain values written as they are must be in the portable range (docs/guide/values.md).
    for c in changes.items() {
        if let dataflow_sql::changes::ChangeOp::Set(v) = &c.op {
            dataflow_sql::portable::check(s, s.field_or_err(&c.field)?, v)?;
        }
    }
    Ok(())
}

/// `UPDATE ... WHERE id = ?` returning the updated row. `None` when the id does not exist (in
/// scope). `set` is validated here.
pub(crate) async fn update_by_id(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    id: &Value,
    set: &[(String, Value)],
) -> Result<Option<Vec<Value>>> {
    update_by_id_changes(c, cx, id, Changes::from(set.to_vec())).await
}

/// [`update_by_id`] with operators.
pub(crate) async fn update_by_id_changes(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    id: &Value,
    changes: Changes,
) -> Result<Option<Vec<Value>>> {
    update_by_id_as(c, cx, id, changes, &Values, &Values, Ok).await
}

/// [`update_by_id_changes`] with the updated row decoded by `reread` where that leaves
/// `tenant_id` out ([`Decode::omits_tenant`]: the `RETURNING` row of PostgreSQL and SQLite then
/// leaves it out too; MySQL/MariaDB read the row back by id), otherwise by `full` (a `RETURNING`
/// row of every column, `e.cols`). The general path (audit, all tenants, other shapes) yields the
/// row as values, finished by `from_values`.
pub(crate) async fn update_by_id_as<D: Decode>(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    id: &Value,
    mut changes: Changes,
    full: &D,
    reread: &D,
    from_values: impl FnOnce(Vec<Value>) -> Result<D::Out>,
) -> Result<Option<D::Out>> {
    check_changes(cx, &mut changes)?;
    let id = super::read::coerce_id(cx, id)?;
    let returning = cx.dialect.backend().update_returning();
    // A scoped typed update's RETURNING row leaves `tenant_id` out, as its reads do.
    let omit_tenant = returning && cx.omits_tenant(reread);
    if !cx.audited()
        && !cx.all_tenants
        && let Some(st) = cached_update_all(cx, &id, &changes, omit_tenant)
    {
        // What `write_one_unaudited` runs for plain changes of a known id, with the cached text.
        let s = cx.schema();
        if returning {
            let d = if omit_tenant { reread } else { full };
            return c.fetch_optional_as(st, cx.full_cols(omit_tenant), s, d).await;
        }
        if c.execute(st, s).await?.rows == 0 {
            return Ok(None);
        }
        return super::read::by_id_as(c, cx, &id, false, reread).await;
    }
    write_one(c, cx, cx.id_cond(&id), Some(&id), &changes).await?.map(from_values).transpose()
}

/// The update of every user field but `id` (in schema order, plain values: the typed
/// `update(&record)`) with its text from the model's statement cache (one text without a tenant,
/// one with: the tenant is bound after the id, never part of the text; one more with a tenant and
/// `RETURNING` without `tenant_id` when `omit_tenant`). Rendered once per scope shape; on that
/// first render the re-bound values are checked against the full render's and the cache stays
/// off for that shape if they differ. `None` for any other shape.
fn cached_update_all(cx: &Ctx<'_>, id: &Value, changes: &Changes, omit_tenant: bool) -> Option<Stmt> {
    let s = cx.schema();
    let items = changes.items();
    let mut names = s.fields.iter().filter(|f| f.name != "id").map(|f| f.name.as_str());
    let shape = items.len() + 1 == s.fields.len()
        && items.iter().all(|c| names.next() == Some(c.field.as_str()))
        && changes.is_plain();
    if !shape {
        return None;
    }
    let now = super::now();
    let mut values = stmt::update_by_id_values(s, cx.dialect, changes, id, now)?;
    push_tenant(&mut values.0, cx.tenant());
    let omit_tenant = omit_tenant && cx.tenant.is_some();
    let sql = cx.e.update_all_by_id[scope_slot(cx.tenant()) + usize::from(omit_tenant)]
        .get_or_init(|| {
            let (cond, scope) = (Some(cx.id_cond(id)), cx.scope(false));
            let full = if omit_tenant {
                stmt::update_changes_returning_without_tenant(s, cx.dialect, cond, scope, changes, now)
            } else {
                stmt::update_changes(s, cx.dialect, cond, scope, changes, now, true)
            };
            (full.values == values).then(|| std::sync::Arc::from(full.sql.as_str()))
        })
        .clone()?;
    Some(Stmt { sql: SqlText::Shared(sql), values })
}

/// Updates the at most one row `cond` matches and returns it.
///
/// - PostgreSQL, SQLite: one `UPDATE .. RETURNING`.
/// - MySQL/MariaDB, key known and plain values only: one autocommit `UPDATE`, then the re-read by
///   id on the same connection. Plain values do not depend on the row, so no lock is needed
///   between the two; the re-read shows the committed row (a concurrent writer in between can
///   only make it newer, as with any read).
/// - MySQL/MariaDB with operators (`$inc`, ..): `UPDATE` and re-read in one transaction, so the
///   returned values are exactly the ones this update produced (the row lock is held).
/// - MySQL/MariaDB, key unknown (unique-field filter): `SELECT id .. FOR UPDATE`, update by id,
///   re-read, in one transaction (the filter may name a field the update changes).
async fn write_one(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    cond: Condition,
    id: Option<&Value>,
    changes: &Changes,
) -> Result<Option<Vec<Value>>> {
    if cx.audited() {
        return crate::audit::in_tx!(c, |t| {
            let before = crate::audit::snapshot(&mut t, cx, cond.clone(), false).await?;
            let out = write_one_unaudited(&mut t, cx, cond, id, changes).await?;
            if let Some(row) = &out {
                crate::audit::changed(&mut t, cx, &before, std::slice::from_ref(row)).await?;
            }
            out
        });
    }
    write_one_unaudited(c, cx, cond, id, changes).await
}

async fn write_one_unaudited(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    cond: Condition,
    id: Option<&Value>,
    changes: &Changes,
) -> Result<Option<Vec<Value>>> {
    let s = cx.schema();
    let d = cx.dialect;
    let now = super::now();
    if d != Dialect::MySql {
        let st = stmt::update_changes(s, d, Some(cond), cx.scope(false), changes, now, true);
        return c.fetch_optional(st.into(), &cx.e.cols, s).await;
    }
    if let Some(id) = id
        && changes.is_plain()
    {
        let st = stmt::update_changes(s, d, Some(cond), cx.scope(false), changes, now, false);
        if c.execute(st.into(), s).await?.rows == 0 {
            return Ok(None);
        }
        return super::read::by_id(c, cx, id, false).await;
    }
    let mut tx = c.begin().await?;
    let out = {
        let mut t = tx.conn();
        mysql_locked(&mut t, cx, cond, id, changes, now).await?
    };
    tx.commit().await?;
    Ok(out)
}

async fn mysql_locked(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    cond: Condition,
    id: Option<&Value>,
    changes: &Changes,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Vec<Value>>> {
    let s = cx.schema();
    let d = cx.dialect;
    let (cond, id) = match id {
        Some(id) => (cond, id.clone()),
        None => {
            let id_only = [String::from("id")];
            let spec = SelectSpec {
                condition: Some(cond),
                scope: cx.scope(false),
                limit: Some(1),
                fields: Some(&id_only),
                ..Default::default()
            };
            let cols = stmt::select_columns(s, Some(&id_only));
            let st = stmt::for_update(stmt::select(s, d, &spec), d);
            let Some(mut row) = c.fetch_optional(st.into(), &cols, s).await? else {
                return Ok(None);
            };
            let id = row.pop().unwrap_or(Value::Null);
            (cx.id_cond(&id), id)
        }
    };
    let st = stmt::update_changes(s, d, Some(cond), cx.scope(false), changes, now, false);
    if c.execute(st.into(), s).await?.rows == 0 {
        return Ok(None);
    }
    super::read::by_id(c, cx, &id, false).await
}
