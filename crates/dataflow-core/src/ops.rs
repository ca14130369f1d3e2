//! The eleven operations, written once on internal types (`Vec<Value>` records in schema
//! order) and used by the typed Express API, the dynamic JSON API and the workflow nodes.
//!
//! Every operation validates its input against the schema before any SQL runs; append-only
//! models are refused (DF-605) before any SQL; bulk operations run in one transaction.

pub(crate) mod bulk_create;
pub(crate) mod bulk_delete;
pub(crate) mod bulk_update;
pub(crate) mod bulk_upsert;
pub(crate) mod count;
pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod full_table_guard;
pub(crate) mod list;
pub(crate) mod lock;
pub(crate) mod read;
pub(crate) mod update;
pub(crate) mod upsert;

use dataflow_sql::stmt::Scope;
use dataflow_sql::stmt::cond;
use dataflow_sql::{Dialect, Error, ErrorCode, FieldDef, FieldType, ModelSchema, Operation, Result, Value};
use sea_query::Condition;

use crate::db::registry::ModelEntry;

/// A row to write: one slot per user field (schema order); `None` = not supplied.
pub(crate) type InputRow = Vec<Option<Value>>;

/// What one operation runs against: the model, the dialect and the tenant.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub e: &'a ModelEntry,
    pub dialect: Dialect,
    /// MariaDB or MySQL 8 (statements differ slightly, see `dataflow_sql::mysql_server`).
    pub server: dataflow_sql::mysql_server::MySqlServer,
    /// The tenant the statements are scoped to, as the handle holds it (records that keep it
    /// share it, `crate::decode::Typed`); [`Ctx::tenant`] for the name.
    pub tenant: Option<&'a std::sync::Arc<str>>,
    /// `db.all_tenants()`: no tenant predicate (reads only; writes are refused before).
    pub all_tenants: bool,
    /// The opt-in full-table guard's minimum table size (`Config::full_table_guard`).
    pub full_table_guard: Option<u64>,
    /// The instance's write protection (`Config::protection`).
    pub protection: &'a crate::protect::Protection,
    /// Who writes, for the audit trail (`Express::actor`).
    pub actor: Option<&'a str>,
    /// The entry point's operation name (`Create`, `HardDelete`, `Restore`, ...): named by
    /// DF-609 errors and recorded as the audit row's `operation`.
    pub op: &'static str,
    /// Avoid backend-specific system columns such as PostgreSQL's `xmax` (`Config::compat`).
    pub portable: bool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn schema(&self) -> &'a ModelSchema {
        &self.e.schema
    }

    /// The tenant's name, if the statements are scoped to one.
    pub(crate) fn tenant(&self) -> Option<&'a str> {
        self.tenant.map(|t| &**t)
    }

    /// Whether a full select decoded by `d` leaves the `tenant_id` column out: the decoder
    /// knows the tenant ([`crate::decode::Decode::omits_tenant`]) and the statement is scoped.
    pub(crate) fn omits_tenant(&self, d: &impl crate::decode::Decode) -> bool {
        d.omits_tenant() && self.tenant.is_some()
    }

    pub(crate) fn scope(&self, include_deleted: bool) -> Scope<'a> {
        Scope { include_deleted, tenant: self.tenant(), all_tenants: self.all_tenants }
    }

    /// Checks the tenant context (DF-608) before anything runs.
    pub(crate) fn check(&self) -> Result<()> {
        dataflow_sql::stmt::scope::check(self.schema(), self.scope(false))
    }

    /// Field-level write protection (DF-609) for the fields an update writes. No SQL.
    pub(crate) fn protect_fields<'f>(&self, fields: impl IntoIterator<Item = &'f str>) -> Result<()> {
        self.protection.check_fields(self.schema(), self.op, fields)
    }

    /// Whether writes to this model are audited (`audit` option).
    pub(crate) fn audited(&self) -> bool {
        self.schema().options.audit
    }

    /// DF-605 for an operation that changes existing rows of an append-only model.
    pub(crate) fn refuse_append_only(&self, op: Operation) -> Result<()> {
        let s = self.schema();
        if s.options.append_only && op.mutates_existing() {
            return Err(Error::new(
                ErrorCode::APPEND_ONLY,
                format!("model `{}` is append-only and refuses {}", s.name, op.name()),
            )
            .model(&s.name)
            .operator(op.name())
            .fix("append-only models only support Create, Read, List, Count and BulkCreate")
            .fix("remove `append_only` from the model if records must change"));
        }
        Ok(())
    }

    pub(crate) fn sea(&self, f: &FieldDef, v: &Value) -> sea_query::Value {
        v.to_sea(f.ty, self.dialect, self.schema().options.native_arrays)
    }

    pub(crate) fn id_field(&self) -> &'a FieldDef {
        // validate() guarantees an `id` field on every registered schema.
        &self.schema().fields[self.id_index()]
    }

    pub(crate) fn id_index(&self) -> usize {
        self.schema().fields.iter().position(|f| f.name == "id").unwrap_or(0)
    }

    /// A filter rendered for this context through the model's shape cache (a repeated filter shape
    /// re-binds the cached SQL text; see `dataflow_sql::filter::ShapeCache`). DF-105 over the
    /// bind-parameter limit.
    pub(crate) fn condition(&self, filter: &dataflow_sql::filter::Filter) -> Result<Condition> {
        filter.condition_cached(self.schema(), self.dialect, self.server, &self.e.filter_shapes)
    }

    /// The columns of a full select: `e.cols`, or `e.cols_without_tenant` when the statement
    /// leaves `tenant_id` out (`omit_tenant`, decided by the caller with the scope).
    pub(crate) fn full_cols(&self, omit_tenant: bool) -> &'a std::sync::Arc<[FieldDef]> {
        if omit_tenant { &self.e.cols_without_tenant } else { &self.e.cols }
    }

    /// `id = ?`
    pub(crate) fn id_cond(&self, id: &Value) -> Condition {
        cond::eq(self.schema(), self.dialect, self.id_field(), id)
    }

    /// `id IN (...)`
    pub(crate) fn ids_cond(&self, ids: &[Value]) -> Condition {
        cond::is_in(self.schema(), self.dialect, self.id_field(), ids)
    }

    /// Conjunction of `field = value` for the given pairs (conflict keys).
    pub(crate) fn eq_cond(&self, pairs: &[(&FieldDef, &Value)]) -> Condition {
        cond::eq_all(self.schema(), self.dialect, pairs)
    }

    /// Index of a user field.
    pub(crate) fn field_index(&self, name: &str) -> Result<usize> {
        let s = self.schema();
        s.fields.iter().position(|f| f.name == name).ok_or_else(|| s.unknown_field(name))
    }
}

/// Validates a value already typed (typed API): `max_len` and nullability ([`Value::check`]).
pub(crate) fn check_value(schema: &ModelSchema, f: &FieldDef, v: &Value) -> Result<()> {
    v.check(f).map_err(|e| e.model(&schema.name))?;
    dataflow_sql::portable::check(schema, f, v)
}

/// Checks a row of already-typed values from a dynamic caller ([`Express::bulk_create_rows`]):
/// one slot per user field (DF-107 otherwise) and every supplied non-NULL value of its field's
/// type (DF-102). The rest (nullability, `max_len`, required fields, defaults, ids) is
/// [`prepare_insert`]'s, as for every other write.
///
/// [`Express::bulk_create_rows`]: crate::Express::bulk_create_rows
pub(crate) fn check_row_types(schema: &ModelSchema, row: InputRow) -> Result<InputRow> {
    if row.len() != schema.fields.len() {
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        return Err(Error::new(
            ErrorCode::WRONG_SHAPE,
            format!("a row of model `{}` needs {} values, got {}", schema.name, schema.fields.len(), row.len()),
        )
        .model(&schema.name)
        .fix(format!("pass one slot per field, in this order: {}", names.join(", "))));
    }
    for (f, v) in schema.fields.iter().zip(&row) {
        if let Some(v) = v
            && !of_type(v, f.ty)
        {
            return Err(Error::new(
                ErrorCode::WRONG_TYPE,
                format!("field `{}` expects {}, got {v:?}", f.name, f.ty.rust_name()),
            )
            .model(&schema.name)
            .field(&f.name)
            .fix(format!("pass a `Value` of the field's type ({})", f.ty.rust_name())));
        }
    }
    Ok(row)
}

/// Whether `v` is NULL or the `Value` variant of `ty` (array elements of the element type).
fn of_type(v: &Value, ty: FieldType) -> bool {
    use dataflow_sql::ArrayElem;
    match (ty, v) {
        (_, Value::Null)
        | (FieldType::String, Value::String(_))
        | (FieldType::I32, Value::I32(_))
        | (FieldType::I64, Value::I64(_))
        | (FieldType::F64, Value::F64(_))
        | (FieldType::Bool, Value::Bool(_))
        | (FieldType::DateTime, Value::DateTime(_))
        | (FieldType::Date, Value::Date(_))
        | (FieldType::Uuid, Value::Uuid(_))
        | (FieldType::Decimal, Value::Decimal(_))
        | (FieldType::Json, Value::Json(_))
        | (FieldType::Bytes, Value::Bytes(_)) => true,
        (FieldType::Array(elem), Value::Array(items)) => items.iter().all(|x| {
            matches!(
                (elem, x),
                (ArrayElem::String, Value::String(_))
                    | (ArrayElem::I64, Value::I64(_))
                    | (ArrayElem::F64, Value::F64(_))
                    | (ArrayElem::Bool, Value::Bool(_))
            )
        }),
        _ => false,
    }
}

/// A row ready for INSERT: whether `id` is written, and the values of the written fields.
pub(crate) struct Prepared {
    pub with_id: bool,
    pub values: Vec<Value>,
}

/// Fills defaults and NULLs, generates ids, checks required fields (DF-101) — no SQL.
pub(crate) fn prepare_insert(cx: &Ctx<'_>, row: InputRow) -> Result<Prepared> {
    let s = cx.schema();
    let mut values = Vec::with_capacity(row.len());
    let mut with_id = true;
    for (f, v) in s.fields.iter().zip(row) {
        let is_id = f.name == "id";
        let v = match v {
            Some(Value::I32(0) | Value::I64(0)) if is_id => None,
            Some(Value::Uuid(u)) if is_id && u.is_nil() => None,
            Some(Value::Null) if is_id => None,
            other => other,
        };
        if is_id && v.is_some() && s.options.multi_tenant && dataflow_sql::tenant::db_generated(f) {
            // Generated ids are table-wide: a chosen one could collide with another tenant's.
            return Err(dataflow_sql::tenant::chosen_generated_id(s, "a write"));
        }
        let v = match v {
            Some(v) => {
                check_value(s, f, &v)?;
                v
            }
            None if is_id => match f.ty {
                FieldType::I32 | FieldType::I64 => {
                    with_id = false;
                    Value::Null
                }
                FieldType::Uuid => Value::Uuid(uuid::Uuid::now_v7()),
                _ => return Err(missing(s, f)),
            },
            None => match &f.default {
                Some(d) => Value::from_json(d, f).map_err(|e| e.or_model(&s.name))?,
                None if f.nullable => Value::Null,
                None => return Err(missing(s, f)),
            },
        };
        values.push(v);
    }
    if !with_id {
        values.remove(cx.id_index());
    }
    Ok(Prepared { with_id, values })
}

fn missing(s: &ModelSchema, f: &FieldDef) -> Error {
    Error::new(ErrorCode::MISSING_FIELD, format!("field `{}` of model `{}` is required", f.name, s.name))
        .model(&s.name)
        .field(&f.name)
        .fix(format!(
            "pass `{}` ({}), or give the field a default or make it Option<{}>",
            f.name,
            f.ty.expected(),
            f.ty.rust_name()
        ))
}

/// The written field names for a prepared row (`id` omitted when generated).
pub(crate) fn insert_fields(schema: &ModelSchema, with_id: bool) -> Vec<&str> {
    schema.fields.iter().map(|f| f.name.as_str()).filter(|n| with_id || *n != "id").collect()
}

/// DF-607 unless `fields` form the primary key, a unique field or a unique index.
pub(crate) fn check_conflict_target(schema: &ModelSchema, fields: &[&str]) -> Result<()> {
    for f in fields {
        schema.field_or_err(f)?;
    }
    if fields == ["id"]
        && schema.options.multi_tenant
        && schema.id_field().is_some_and(dataflow_sql::tenant::db_generated)
    {
        return Err(dataflow_sql::tenant::chosen_generated_id(schema, "an upsert on `id`"));
    }
    if !schema.is_unique_key(fields) {
        let uniques: Vec<String> = std::iter::once("id".to_owned())
            .chain(schema.fields.iter().filter(|f| f.unique).map(|f| f.name.clone()))
            .chain(schema.indexes.iter().filter(|i| i.unique).map(|i| i.fields.join(", ")))
            .map(|k| format!("[{k}]"))
            .collect();
        return Err(Error::new(
            ErrorCode::CONFLICT_TARGET_NOT_UNIQUE,
            format!("conflict target ({}) of model `{}` is not a unique key", fields.join(", "), schema.name),
        )
        .model(&schema.name)
        .field(fields.join(", "))
        .fix(format!("use a unique key as `conflict_on`: {}", uniques.join(" or ")))
        .fix("or declare the field `#[dataflow(unique)]` / add `unique([...])` to the model's indexes"));
    }
    Ok(())
}

/// Current time, truncated to microseconds (every backend stores microseconds).
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let n = chrono::Utc::now();
    n.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(n)
}
