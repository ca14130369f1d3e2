//! Update one record identified by a filter (id or unique field).

use dataflow_sql::filter::Filter;
use dataflow_sql::stmt::{self, SelectSpec};
use dataflow_sql::{Error, ErrorCode, Operation, Result, Value};

use super::Ctx;
use crate::db::pool::Conn;

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
pub(crate) async fn update_one(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    filter: &Filter,
    set: &[(String, Value)],
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
    check_set(cx, set)?;
    let mut tx = conn.begin().await?;
    let out = {
        let mut c = tx.conn();
        update_one_in(&mut c, cx, filter, set).await?
    };
    tx.commit().await?;
    Ok(out)
}

async fn update_one_in(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    filter: &Filter,
    set: &[(String, Value)],
) -> Result<Option<Vec<Value>>> {
    let s = cx.schema();
    let id_only = [String::from("id")];
    let spec = SelectSpec {
        condition: Some(filter.condition_for(s, cx.dialect, cx.server)?),
        scope: cx.scope(false),
        limit: Some(1),
        fields: Some(&id_only),
        ..Default::default()
    };
    let cols = stmt::select_columns(s, Some(&id_only));
    let Some(mut row) = c.fetch_optional(stmt::select(s, cx.dialect, &spec).into(), &cols, s).await? else {
        return Ok(None);
    };
    let id = row.pop().unwrap_or(Value::Null);
    update_by_id(c, cx, &id, set).await
}

/// `UPDATE ... WHERE id = ?` then re-read. `None` when the id does not exist (in scope).
pub(crate) async fn update_by_id(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    id: &Value,
    set: &[(String, Value)],
) -> Result<Option<Vec<Value>>> {
    let s = cx.schema();
    let pairs: Vec<(&str, Value)> = set.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let st = stmt::update(s, cx.dialect, Some(cx.id_cond(id)), cx.scope(false), &pairs, super::now());
    let done = c.execute(st.into(), s).await?;
    if done.rows == 0 {
        return Ok(None);
    }
    super::read::by_id(c, cx, id, false).await
}
