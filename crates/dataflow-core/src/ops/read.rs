//! Read by id and find-one.

use dataflow_sql::filter::Filter;
use dataflow_sql::stmt::{self, SelectSpec};
use dataflow_sql::{Error, ErrorCode, Result, Value};

use super::Ctx;
use crate::db::pool::{Conn, SqlText, Stmt};
use crate::db::registry::by_id_values;
use crate::decode::{Decode, Values};

/// Reads one record by id; `None` when missing (or soft-deleted without `include_deleted`).
pub(crate) async fn by_id(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    id: &Value,
    include_deleted: bool,
) -> Result<Option<Vec<Value>>> {
    by_id_as(conn, cx, id, include_deleted, &Values).await
}

/// [`by_id`], the row decoded by `d`.
pub(crate) async fn by_id_as<D: Decode>(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    id: &Value,
    include_deleted: bool,
    d: &D,
) -> Result<Option<D::Out>> {
    cx.check()?;
    let s = cx.schema();
    let f = cx.id_field();
    let id = coerce_id(cx, id)?;
    if cx.all_tenants && dataflow_sql::tenant::tenant_primary_key(s) {
        return Err(dataflow_sql::tenant::ambiguous_id(s, "Read"));
    }
    // The cached text (rendered once per scope shape; the tenant, if any, is a bound value),
    // except on the all-tenants handle, which has no tenant predicate.
    // A decoder that knows the tenant of a scoped read does not need its column.
    let omit_tenant = cx.omits_tenant(d);
    let cached =
        (!cx.all_tenants).then(|| cx.e.read_by_id_sql(cx.dialect, include_deleted, cx.tenant(), omit_tenant)).flatten();
    let st: Stmt = match cached {
        Some(sql) => Stmt { sql: SqlText::Shared(sql), values: by_id_values(cx.sea(f, &id), cx.tenant()) },
        None if omit_tenant => stmt::select_by_id_without_tenant(s, cx.dialect, &id, cx.scope(include_deleted)).into(),
        None => stmt::select_by_id(s, cx.dialect, &id, cx.scope(include_deleted)).into(),
    };
    conn.fetch_optional_as(st, cx.full_cols(omit_tenant), s, d).await
}

/// Converts an id given as another integer width or a UUID string into the id field's type (DF-102).
pub(crate) fn coerce_id(cx: &Ctx<'_>, id: &Value) -> Result<Value> {
    use dataflow_sql::FieldType as T;
    let f = cx.id_field();
    let ok = match (f.ty, id) {
        (T::I32, Value::I32(_))
        | (T::I64, Value::I64(_))
        | (T::String, Value::String(_))
        | (T::Uuid, Value::Uuid(_)) => {
            return Ok(id.clone());
        }
        (T::I32, Value::I64(x)) => i32::try_from(*x).ok().map(Value::I32),
        (T::I64, Value::I32(x)) => Some(Value::I64(i64::from(*x))),
        (T::Uuid, Value::String(s)) => uuid::Uuid::parse_str(s).ok().map(Value::Uuid),
        _ => None,
    };
    ok.ok_or_else(|| {
        Error::new(
            ErrorCode::WRONG_TYPE,
            format!("`id` of model `{}` expects {}, got {id:?}", cx.schema().name, f.ty.expected()),
        )
        .model(&cx.schema().name)
        .field("id")
        .fix(format!("pass the id as {}", f.ty.rust_name()))
    })
}

/// The first record matching a non-empty filter (ordered by id).
pub(crate) async fn find_one(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    filter: &Filter,
    include_deleted: bool,
) -> Result<Option<Vec<Value>>> {
    find_one_as(conn, cx, filter, include_deleted, &Values).await
}

/// [`find_one`], the row decoded by `d`.
pub(crate) async fn find_one_as<D: Decode>(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    filter: &Filter,
    include_deleted: bool,
    d: &D,
) -> Result<Option<D::Out>> {
    cx.check()?;
    let s = cx.schema();
    if filter.matches_everything() {
        return Err(Error::new(ErrorCode::INVALID_FILTER, "find_one needs a non-empty filter")
            .model(&s.name)
            .operator("find_one")
            .fix("pass a filter such as {\"email\": \"a@example.com\"}, or use `list` with `limit: 1`"));
    }
    let omit_tenant = cx.omits_tenant(d);
    let spec = SelectSpec {
        condition: Some(cx.condition(filter)?),
        scope: cx.scope(include_deleted),
        limit: Some(1),
        omit_tenant,
        ..Default::default()
    };
    conn.fetch_optional_as(stmt::select(s, cx.dialect, &spec).into(), cx.full_cols(omit_tenant), s, d).await
}
