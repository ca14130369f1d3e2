//! `UPDATE` with [`Changes`]: plain values and atomic operators, each rendered as one SQL
//! expression of the current row, optionally with `RETURNING` (PostgreSQL, SQLite) so an
//! update by key is one round trip. Row locks for reads (`FOR UPDATE`) live here too.

use chrono::{DateTime, Utc};
use sea_query::{Alias, Condition, Expr, Query};

use super::scope::where_clause;
use super::{Scope, Sql, quote};
use crate::changes::{ChangeOp, Changes};
use crate::schema::{FieldDef, ManagedField};
use crate::value::{Value, null_of};
use crate::{Dialect, FieldType, ModelSchema};

/// Custom SQL with `?` marks for `args` (numbered `$n` where the backend numbers them).
fn cust(d: Dialect, template: &str, args: Vec<Expr>) -> Expr {
    if !d.backend().numbered_params() {
        return Expr::cust_with_exprs(template.to_owned(), args);
    }
    let mut out = String::with_capacity(template.len() + 8);
    let mut n = 0;
    for c in template.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    Expr::cust_with_exprs(out, args)
}

/// `UPDATE t SET <changes>, updated_at = now WHERE <condition> AND <scope>`, with
/// `RETURNING <every column>` (the columns of `select_columns(schema, None)`, in that order)
/// when `returning` is set and the backend has `UPDATE .. RETURNING` (PostgreSQL, SQLite;
/// ignored on MariaDB).
///
/// Changes must be validated ([`Changes::validate`], [`Changes::check_dialect`]); names not in
/// the schema are skipped so managed columns can never be written through them.
pub fn update_changes(
    schema: &ModelSchema,
    dialect: Dialect,
    condition: Option<Condition>,
    scope: Scope,
    changes: &Changes,
    now: DateTime<Utc>,
    returning: bool,
) -> Sql {
    render(schema, dialect, condition, scope, changes, now, returning.then_some(false))
}

/// [`update_changes`] with `RETURNING` every column but the managed `tenant_id`
/// ([`super::select_columns_without_tenant`]): for an updater scoped to one tenant, which knows
/// the value (PostgreSQL, SQLite; no `RETURNING` on MariaDB).
pub fn update_changes_returning_without_tenant(
    schema: &ModelSchema,
    dialect: Dialect,
    condition: Option<Condition>,
    scope: Scope,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Sql {
    render(schema, dialect, condition, scope, changes, now, Some(true))
}

/// `returning`: `None` without, `Some(omit_tenant)` with a `RETURNING` clause.
fn render(
    schema: &ModelSchema,
    dialect: Dialect,
    condition: Option<Condition>,
    scope: Scope,
    changes: &Changes,
    now: DateTime<Utc>,
    returning: Option<bool>,
) -> Sql {
    let mut q = Query::update();
    q.table(Alias::new(schema.table.as_str()));
    let mut any = false;
    for c in changes.items() {
        if let Some(f) = schema.field(&c.field) {
            q.value(Alias::new(f.column()), change_expr(schema, dialect, f, &c.op));
            any = true;
        }
    }
    if schema.options.timestamps {
        let now = Value::DateTime(now).to_sea(FieldType::DateTime, dialect, false);
        q.value(Alias::new(ManagedField::UpdatedAt.column()), Expr::val(now));
        any = true;
    }
    if !any {
        q.value(Alias::new("id"), Expr::col(Alias::new("id")));
    }
    let cond = where_clause(schema, condition, scope);
    if !cond.is_empty() {
        q.cond_where(cond);
    }
    if let Some(omit_tenant) = returning
        && dialect.backend().update_returning()
    {
        let fields = if omit_tenant { super::select_columns_without_tenant(schema) } else { schema.all_fields() };
        q.returning(Query::returning().columns(fields.iter().map(|f| Alias::new(f.column()))));
    }
    Sql::build(&q, dialect)
}

/// The values [`update_changes`] binds for plain changes (`Set`/`Unset` only; `None` otherwise)
/// under the condition `id = <id>` without a tenant scope (with one, the tenant is bound after the
/// id: the runtime appends it): the changed values in order, `now`
/// (with timestamps), then the id. A caller that renders [`update_changes`] once per model may
/// re-bind these instead — after checking, on its first render, that they equal what the full
/// render bound (the runtime's per-model statement cache does).
pub fn update_by_id_values(
    schema: &ModelSchema,
    dialect: Dialect,
    changes: &Changes,
    id: &Value,
    now: DateTime<Utc>,
) -> Option<sea_query::Values> {
    let na = schema.options.native_arrays;
    let mut out = Vec::with_capacity(changes.items().len() + 2);
    for c in changes.items() {
        let Some(f) = schema.field(&c.field) else { continue };
        out.push(match &c.op {
            ChangeOp::Set(v) => v.to_sea(f.ty, dialect, na),
            ChangeOp::Unset => null_of(f.ty, dialect, na),
            _ => return None,
        });
    }
    if schema.options.timestamps {
        out.push(Value::DateTime(now).to_sea(FieldType::DateTime, dialect, false));
    }
    let id_field = schema.id_field()?;
    out.push(id.to_sea(id_field.ty, dialect, na));
    Some(sea_query::Values(out))
}

/// Appends the row lock of a read inside a transaction: `FOR UPDATE` on PostgreSQL and
/// MySQL/MariaDB. SQLite has no row locks: a DataFlow write transaction (`BEGIN IMMEDIATE`)
/// already holds the database's write lock, so the statement is returned unchanged.
pub fn for_update(mut sql: Sql, dialect: Dialect) -> Sql {
    if let Some(lock) = dialect.backend().row_lock() {
        sql.sql.push_str(lock);
    }
    sql
}

fn val(schema: &ModelSchema, dialect: Dialect, f: &FieldDef, v: &Value) -> Expr {
    Expr::val(v.to_sea(f.ty, dialect, schema.options.native_arrays))
}

fn change_expr(schema: &ModelSchema, d: Dialect, f: &FieldDef, op: &ChangeOp) -> Expr {
    let c = quote(d, f.column());
    match op {
        ChangeOp::Set(v) => val(schema, d, f, v),
        ChangeOp::Unset => Expr::val(null_of(f.ty, d, schema.options.native_arrays)),
        ChangeOp::Inc(v) | ChangeOp::Mul(v) => {
            let sign = if matches!(op, ChangeOp::Inc(_)) { "+" } else { "*" };
            let e = format!("COALESCE({c}, 0) {sign} ?");
            match d.backend().checked_int(f.ty, &e) {
                Some(g) => {
                    let n = g.matches('?').count();
                    cust(d, &g, vec![val(schema, d, f, v); n])
                }
                None => cust(d, &e, vec![val(schema, d, f, v)]),
            }
        }
        ChangeOp::Min(v) | ChangeOp::Max(v) => {
            let cmp = if matches!(op, ChangeOp::Min(_)) { ">" } else { "<" };
            cust(
                d,
                &format!("CASE WHEN {c} IS NULL OR {c} {cmp} ? THEN ? ELSE {c} END"),
                vec![val(schema, d, f, v), val(schema, d, f, v)],
            )
        }
        ChangeOp::Push(items) if items.is_empty() => Expr::cust(c),
        ChangeOp::Pull(items) if items.is_empty() => Expr::cust(c),
        ChangeOp::Push(items) => push(schema, d, f, &c, items),
        ChangeOp::Pull(items) => pull(schema, d, f, &c, items),
    }
}

fn push(schema: &ModelSchema, d: Dialect, f: &FieldDef, c: &str, items: &[Value]) -> Expr {
    let (tpl, args) = d.backend().array_push(c, f, schema, items);
    cust(d, &tpl, args.into_iter().map(Expr::val).collect())
}

fn pull(schema: &ModelSchema, d: Dialect, f: &FieldDef, c: &str, items: &[Value]) -> Expr {
    let (tpl, args) = d.backend().array_pull(c, f, schema, items);
    // A NULL array stays NULL.
    cust(d, &format!("CASE WHEN {c} IS NULL THEN NULL ELSE {tpl} END"), args.into_iter().map(Expr::val).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ArrayElem;
    use crate::{FieldDef, FieldType};
    use serde_json::json;

    fn schema() -> ModelSchema {
        ModelSchema::new(
            "Post",
            vec![
                FieldDef::new("id", FieldType::String),
                FieldDef::new("views", FieldType::I64),
                FieldDef::new("tags", FieldType::Array(ArrayElem::String)).nullable(),
            ],
        )
    }

    #[test]
    fn operators_render_one_expression_per_field_with_bound_values() {
        let s = schema();
        let c = Changes::parse(&json!({"$inc": {"views": 2}, "$push": {"tags": "a"}}), &s).unwrap();
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let pg = update_changes(&s, Dialect::Postgres, None, Scope::default(), &c, now, true);
        assert_eq!(
            pg.sql,
            r#"UPDATE "posts" SET "views" = COALESCE("views", 0) + $1, "tags" = COALESCE("tags", '[]'::jsonb) || CAST($2 AS jsonb), "updated_at" = $3 RETURNING "id", "views", "tags", "created_at", "updated_at""#
        );
        assert_eq!(pg.values.0.len(), 3);
        let lite = update_changes(&s, Dialect::Sqlite, None, Scope::default(), &c, now, false);
        assert!(lite.sql.contains("typeof(COALESCE(\"views\", 0) + ?) = 'integer'"), "{}", lite.sql);
        assert!(lite.sql.contains("json_insert(COALESCE(\"tags\", '[]'), '$[#]', json(?))"), "{}", lite.sql);
        let my = update_changes(&s, Dialect::MySql, None, Scope::default(), &c, now, true);
        assert!(!my.sql.contains("RETURNING"), "{}", my.sql);
        assert!(my.sql.contains("JSON_MERGE_PRESERVE(COALESCE(`tags`, JSON_ARRAY()), ?)"), "{}", my.sql);
    }

    #[test]
    fn update_by_id_values_are_what_the_full_render_binds() {
        let mut s = schema();
        s.options.soft_delete = true;
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let id = Value::String("p1".into());
        let plain = Changes::parse(&json!({"views": 3, "tags": null}), &s).unwrap();
        let ops = Changes::parse(&json!({"$inc": {"views": 2}}), &s).unwrap();
        for d in Dialect::ALL {
            let cond = crate::stmt::cond::eq(&s, d, s.field("id").unwrap(), &id);
            let full = update_changes(&s, d, Some(cond), Scope::default(), &plain, now, true);
            assert_eq!(update_by_id_values(&s, d, &plain, &id, now), Some(full.values), "{d}");
            assert_eq!(update_by_id_values(&s, d, &ops, &id, now), None, "{d}");
        }
    }
}
