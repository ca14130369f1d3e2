//! UPDATE and DELETE statements: update by filter, hard delete, soft delete and restore.

use chrono::{DateTime, Utc};
use sea_query::{Alias, Condition, Expr, ExprTrait, Query, UpdateStatement};

use super::scope::{col, where_clause};
use super::{Scope, Sql};
use crate::schema::ManagedField;
use crate::value::Value;
use crate::{Dialect, FieldType, ModelSchema};

fn now_value(now: DateTime<Utc>, dialect: Dialect) -> sea_query::Value {
    Value::DateTime(now).to_sea(FieldType::DateTime, dialect, false)
}

fn base(schema: &ModelSchema) -> UpdateStatement {
    let mut q = Query::update();
    q.table(Alias::new(schema.table.as_str()));
    q
}

fn finish(mut q: UpdateStatement, cond: Condition, dialect: Dialect) -> Sql {
    if !cond.is_empty() {
        q.cond_where(cond);
    }
    Sql::build(&q, dialect)
}

/// `UPDATE t SET <fields>, updated_at = now WHERE <condition> AND <scope>`.
///
/// `set` holds user field names (validated by the caller; unknown and managed names are
/// skipped, so managed columns can never be written through it). With nothing to set and no
/// timestamps, `id = id` keeps the statement valid (it still reports matched rows).
pub fn update(
    schema: &ModelSchema,
    dialect: Dialect,
    condition: Option<Condition>,
    scope: Scope,
    set: &[(&str, Value)],
    now: DateTime<Utc>,
) -> Sql {
    let mut q = base(schema);
    let na = schema.options.native_arrays;
    let mut any = false;
    for (name, v) in set {
        if let Some(f) = schema.field(name) {
            q.value(Alias::new(f.column()), Expr::val(v.to_sea(f.ty, dialect, na)));
            any = true;
        }
    }
    if schema.options.timestamps {
        q.value(Alias::new(ManagedField::UpdatedAt.column()), Expr::val(now_value(now, dialect)));
        any = true;
    }
    if !any {
        q.value(Alias::new("id"), col("id"));
    }
    finish(q, where_clause(schema, condition, scope), dialect)
}

/// `DELETE FROM t WHERE <condition> AND <scope>` (a hard delete; on soft-delete models the
/// scope hides already soft-deleted rows unless `include_deleted`).
pub fn delete(schema: &ModelSchema, dialect: Dialect, condition: Option<Condition>, scope: Scope) -> Sql {
    let mut q = Query::delete();
    q.from_table(Alias::new(schema.table.as_str()));
    let cond = where_clause(schema, condition, scope);
    if !cond.is_empty() {
        q.cond_where(cond);
    }
    Sql::build(&q, dialect)
}

/// `UPDATE t SET deleted_at = now, updated_at = now WHERE <condition> AND deleted_at IS NULL
/// AND <tenant>`. Already deleted rows are not touched (a second delete affects 0 rows).
pub fn soft_delete(
    schema: &ModelSchema,
    dialect: Dialect,
    condition: Option<Condition>,
    scope: Scope,
    now: DateTime<Utc>,
) -> Sql {
    let mut q = base(schema);
    q.value(Alias::new(ManagedField::DeletedAt.column()), Expr::val(now_value(now, dialect)));
    if schema.options.timestamps {
        q.value(Alias::new(ManagedField::UpdatedAt.column()), Expr::val(now_value(now, dialect)));
    }
    // The scope without include_deleted adds `deleted_at IS NULL` exactly once.
    let scope = Scope { include_deleted: false, ..scope };
    finish(q, where_clause(schema, condition, scope), dialect)
}

/// `UPDATE t SET deleted_at = NULL, updated_at = now WHERE <condition> AND deleted_at IS NOT
/// NULL AND <tenant>`.
pub fn restore(
    schema: &ModelSchema,
    dialect: Dialect,
    condition: Option<Condition>,
    scope: Scope,
    now: DateTime<Utc>,
) -> Sql {
    let mut q = base(schema);
    q.value(Alias::new(ManagedField::DeletedAt.column()), Expr::val(now_value(now, dialect).as_null()));
    if schema.options.timestamps {
        q.value(Alias::new(ManagedField::UpdatedAt.column()), Expr::val(now_value(now, dialect)));
    }
    let scope = Scope { include_deleted: true, ..scope };
    let mut cond = where_clause(schema, condition, scope);
    cond = cond.add(col(ManagedField::DeletedAt.column()).is_not_null());
    finish(q, cond, dialect)
}
