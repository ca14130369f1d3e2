//! SELECT statements: list (projection, order, limit/offset, keyset cursor), read by id, count.

use sea_query::{Alias, Condition, Expr, ExprTrait, Func, NullOrdering, Order, Query, SelectStatement};

use super::scope::{col, where_clause};
use std::borrow::Cow;

use super::{Direction, OrderBy, SelectSpec, Sql};
use crate::error::{Error, ErrorCode, Result};
use crate::value::Value;
use crate::{Dialect, FieldDef, ManagedField, ModelSchema};

/// The columns every `select*` returns, in order: user fields (schema order) then managed
/// columns ([`ModelSchema::managed_fields`] order). With a projection: the projected fields in
/// the given order (user or managed; names not in the schema are skipped — validate them first
/// with [`validate_fields`]).
pub fn select_columns(schema: &ModelSchema, fields: Option<&[String]>) -> Vec<FieldDef> {
    match fields {
        None => schema.all_fields(),
        Some(names) => names.iter().filter_map(|n| schema.any_field(n)).collect(),
    }
}

/// [`select_columns`] without a projection and without the managed `tenant_id` column: the
/// columns of a full select with [`SelectSpec::omit_tenant`] (or [`select_by_id_without_tenant`]).
pub fn select_columns_without_tenant(schema: &ModelSchema) -> Vec<FieldDef> {
    let tenant = ManagedField::TenantId.column();
    let mut cols = schema.all_fields();
    cols.retain(|f| !(f.name == tenant && schema.field(tenant).is_none()));
    cols
}

/// The columns of a full select: user fields, then managed columns (`tenant_id` left out when
/// `omit_tenant`).
fn full_columns(schema: &ModelSchema, omit_tenant: bool) -> impl Iterator<Item = Alias> + '_ {
    let managed = schema.managed_fields().into_iter().filter(move |m| !(omit_tenant && *m == ManagedField::TenantId));
    schema.fields.iter().map(|f| Alias::new(f.column())).chain(managed.map(|m| Alias::new(m.column())))
}

/// Validates a projection: every name must be a user or managed field (DF-103 with the closest
/// name), no duplicates and not empty (DF-109).
pub fn validate_fields(schema: &ModelSchema, fields: &[String]) -> Result<()> {
    if fields.is_empty() {
        return Err(Error::new(ErrorCode::INVALID_PARAMETER, "`fields` (projection) is empty")
            .model(&schema.name)
            .fix("omit `fields` to select every column, or list at least one field"));
    }
    for (i, f) in fields.iter().enumerate() {
        if schema.any_field(f).is_none() {
            return Err(schema.unknown_field(f).operator("fields"));
        }
        if fields[..i].contains(f) {
            return Err(Error::new(ErrorCode::INVALID_PARAMETER, format!("`fields` names `{f}` twice"))
                .model(&schema.name)
                .field(f)
                .fix("list each field once"));
        }
    }
    Ok(())
}

/// The effective sort keys of a select: `order_by` (or `id ASC` when empty) with `id ASC`
/// appended as a tie-breaker unless `id` is already a key. A keyset cursor (`after`) carries one
/// value per key, in this order. Unknown names are skipped (validate with `parse_order_by`).
pub fn cursor_keys(schema: &ModelSchema, order_by: &[OrderBy]) -> Vec<(FieldDef, Direction)> {
    keys(schema, order_by).into_iter().map(|(f, d)| (f.into_owned(), d)).collect()
}

/// [`cursor_keys`] borrowing the user fields from the schema (only managed keys are built).
fn keys<'s>(schema: &'s ModelSchema, order_by: &[OrderBy]) -> Vec<(Cow<'s, FieldDef>, Direction)> {
    let mut keys: Vec<(Cow<'s, FieldDef>, Direction)> = order_by
        .iter()
        .filter_map(|o| {
            let f = match schema.field(&o.field) {
                Some(f) => Cow::Borrowed(f),
                None => Cow::Owned(schema.any_field(&o.field)?),
            };
            Some((f, o.direction))
        })
        .collect();
    if let Some(id) = schema.id_field().filter(|_| !keys.iter().any(|(f, _)| f.name == "id")) {
        keys.push((Cow::Borrowed(id), Direction::Asc));
    }
    keys
}

/// The column of a user or managed field.
fn column_of<'s>(schema: &'s ModelSchema, name: &str) -> Option<&'s str> {
    match schema.field(name) {
        Some(f) => Some(f.column()),
        None => schema.managed_fields().into_iter().map(ManagedField::column).find(|c| *c == name),
    }
}

/// Checks that a keyset cursor has one value per [`cursor_keys`] entry (DF-106).
pub fn validate_cursor(schema: &ModelSchema, order_by: &[OrderBy], after: &[Value]) -> Result<()> {
    let keys = cursor_keys(schema, order_by);
    if keys.len() != after.len() {
        let names: Vec<&str> = keys.iter().map(|(f, _)| f.name.as_str()).collect();
        return Err(Error::new(
            ErrorCode::INVALID_PAGINATION,
            format!(
                "the cursor has {} values but the sort keys are {} ({})",
                after.len(),
                keys.len(),
                names.join(", ")
            ),
        )
        .model(&schema.name)
        .fix("pass the `next_cursor` of the previous page unchanged, with the same `order_by`"));
    }
    Ok(())
}

fn from_table(schema: &ModelSchema) -> SelectStatement {
    let mut q = Query::select();
    q.from(Alias::new(schema.table.as_str()));
    q
}

fn sea(v: &Value, f: &FieldDef, schema: &ModelSchema, dialect: Dialect) -> sea_query::Value {
    v.to_sea(f.ty, dialect, schema.options.native_arrays)
}

/// `key` strictly after `v` in the sort order. NULL sorts as the largest value on every
/// backend (NULLS LAST ascending, NULLS FIRST descending), matching the ORDER BY we emit.
fn after_key(f: &FieldDef, dir: Direction, v: &Value, schema: &ModelSchema, dialect: Dialect) -> Condition {
    let c = col(f.column());
    match (v.is_null(), dir) {
        (true, Direction::Asc) => Condition::all().add(Expr::cust("1 = 0")),
        (true, Direction::Desc) => Condition::all().add(c.is_not_null()),
        (false, Direction::Asc) => {
            let gt = c.clone().gt(sea(v, f, schema, dialect));
            if f.nullable { Condition::any().add(gt).add(c.is_null()) } else { Condition::all().add(gt) }
        }
        (false, Direction::Desc) => Condition::all().add(c.lt(sea(v, f, schema, dialect))),
    }
}

fn equal_key(f: &FieldDef, v: &Value, schema: &ModelSchema, dialect: Dialect) -> Expr {
    if v.is_null() { col(f.column()).is_null() } else { col(f.column()).eq(sea(v, f, schema, dialect)) }
}

/// The row-value comparison `(k1, k2, ..) > (v1, v2, ..)` expanded to OR/AND form so that it
/// works on every backend and respects each key's direction:
/// `k1 > v1 OR (k1 = v1 AND k2 > v2) OR ...`.
pub(crate) fn keyset<F: std::borrow::Borrow<FieldDef>>(
    schema: &ModelSchema,
    dialect: Dialect,
    keys: &[(F, Direction)],
    after: &[Value],
) -> Condition {
    let mut any = Condition::any();
    for i in 0..keys.len().min(after.len()) {
        let mut branch = Condition::all();
        for j in 0..i {
            branch = branch.add(equal_key(keys[j].0.borrow(), &after[j], schema, dialect));
        }
        branch = branch.add(after_key(keys[i].0.borrow(), keys[i].1, &after[i], schema, dialect));
        any = any.add(branch);
    }
    any
}

/// `SELECT <columns> FROM t WHERE <condition> AND <scope> [AND <keyset>] ORDER BY .. LIMIT .. OFFSET ..`.
pub fn select(schema: &ModelSchema, dialect: Dialect, spec: &SelectSpec) -> Sql {
    let mut q = from_table(schema);
    // The columns of `select_columns`, without copying field definitions.
    match spec.fields {
        None => q.columns(full_columns(schema, spec.omit_tenant)),
        Some(names) => q.columns(names.iter().filter_map(|n| column_of(schema, n)).map(Alias::new)),
    };
    let mut cond = where_clause(schema, spec.condition.clone(), spec.scope);
    let keys = keys(schema, spec.order_by);
    if let Some(after) = spec.after.filter(|a| !a.is_empty()) {
        cond = cond.add(keyset(schema, dialect, &keys, after));
    }
    if !cond.is_empty() {
        q.cond_where(cond);
    }
    for (f, dir) in &keys {
        let order = match dir {
            Direction::Asc => Order::Asc,
            Direction::Desc => Order::Desc,
        };
        if f.nullable {
            let nulls = match dir {
                Direction::Asc => NullOrdering::Last,
                Direction::Desc => NullOrdering::First,
            };
            q.order_by_with_nulls(Alias::new(f.column()), order, nulls);
        } else {
            q.order_by(Alias::new(f.column()), order);
        }
    }
    match (spec.limit, spec.offset) {
        (Some(l), o) => {
            q.limit(l);
            if let Some(o) = o.filter(|o| *o > 0) {
                q.offset(o);
            }
        }
        (None, Some(o)) if o > 0 => {
            // MySQL and SQLite need a LIMIT before OFFSET; use the largest value each accepts.
            if dialect != Dialect::Postgres {
                q.limit(i64::MAX as u64);
            }
            q.offset(o);
        }
        _ => {}
    }
    Sql::build(&q, dialect)
}

/// `SELECT <all columns> FROM t WHERE id = ? AND <scope>`.
pub fn select_by_id(schema: &ModelSchema, dialect: Dialect, id: &Value, scope: super::Scope) -> Sql {
    by_id(schema, dialect, id, scope, false)
}

/// [`select_by_id`] without the managed `tenant_id` column
/// ([`select_columns_without_tenant`]), for a reader scoped to one tenant.
pub fn select_by_id_without_tenant(schema: &ModelSchema, dialect: Dialect, id: &Value, scope: super::Scope) -> Sql {
    by_id(schema, dialect, id, scope, true)
}

fn by_id(schema: &ModelSchema, dialect: Dialect, id: &Value, scope: super::Scope, omit_tenant: bool) -> Sql {
    let mut q = from_table(schema);
    q.columns(full_columns(schema, omit_tenant));
    let id_cond = id_condition(schema, dialect, id);
    q.cond_where(where_clause(schema, Some(id_cond), scope));
    Sql::build(&q, dialect)
}

/// `id = ?`, bound with the id field's type.
pub(crate) fn id_condition(schema: &ModelSchema, dialect: Dialect, id: &Value) -> Condition {
    let ty = schema.id_field().map_or(crate::FieldType::String, |f| f.ty);
    Condition::all().add(col("id").eq(id.to_sea(ty, dialect, false)))
}

/// `SELECT COUNT(*) FROM t WHERE <condition> AND <scope>`.
pub fn count(schema: &ModelSchema, dialect: Dialect, condition: Option<Condition>, scope: super::Scope) -> Sql {
    let mut q = from_table(schema);
    q.expr(Func::count(Expr::col(sea_query::Asterisk)));
    let cond = where_clause(schema, condition, scope);
    if !cond.is_empty() {
        q.cond_where(cond);
    }
    Sql::build(&q, dialect)
}
