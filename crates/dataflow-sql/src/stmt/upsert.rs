//! Upsert: `INSERT .. ON CONFLICT (..) DO UPDATE SET .. / DO NOTHING` (PostgreSQL, SQLite) and
//! `INSERT .. ON DUPLICATE KEY UPDATE ..` (MySQL/MariaDB).
//!
//! - Duplicate conflict keys inside one call: the last row wins (earlier duplicates are dropped
//!   before rendering; PostgreSQL would otherwise refuse to touch a row twice). See
//!   [`last_wins`].
//! - `updated_at` is bumped on update, `created_at` and `tenant_id` are never overwritten, and a
//!   soft-deleted row that is upserted is restored (`deleted_at = NULL`): after an upsert the
//!   record exists.
//! - Multi-tenant models: unique keys are per tenant, so the conflict target is
//!   `(tenant_id, <conflict_on>)` (`id` included: the key is `(tenant_id, id)`), and only rows of the scope's tenant are
//!   updated: `DO UPDATE .. WHERE t.tenant_id = ?` on PostgreSQL/SQLite,
//!   `col = IF(tenant_id = ?, VALUES(col), col)` on MySQL (this guards the `id` target too).
//! - MySQL's ON DUPLICATE KEY UPDATE fires on ANY unique key of the table, not only
//!   `conflict_on`; the runtime validates that `conflict_on` is a unique key.
//! - Inserted or updated: PostgreSQL returns `(xmax = 0) AS "__inserted"` per row; MySQL reports
//!   1 affected row per insert and 2 per update (0 when nothing changed); SQLite reports neither
//!   (the runtime checks which keys existed first, inside the transaction).

use std::collections::HashMap;

use sea_query::{Alias, Expr, ExprTrait, OnConflict as SeaOnConflict, Query, ReturningClause};

use super::chunk::chunk_ranges;
use super::insert::{InsertColumns, insert_statement};
use super::{OnConflict, Rows, Scope, Sql, quote, select_columns};
use crate::schema::ManagedField;
use crate::value::Value;
use crate::{Dialect, ModelSchema};

/// The name of the extra boolean column PostgreSQL upserts return: true when the row was
/// inserted, false when it was updated.
pub const INSERTED_COLUMN: &str = "__inserted";

/// Indices (ascending) of the rows an upsert writes: for rows that share the same values of
/// `conflict_on`, only the last one. When a conflict field is not among `rows.fields`, every row
/// is kept (no key to compare).
pub fn last_wins(rows: &Rows, conflict_on: &[&str]) -> Vec<usize> {
    let Some(key_idx) =
        conflict_on.iter().map(|c| rows.fields.iter().position(|f| f == c)).collect::<Option<Vec<usize>>>()
    else {
        return (0..rows.rows.len()).collect();
    };
    let mut last: HashMap<String, usize> = HashMap::with_capacity(rows.rows.len());
    for (i, row) in rows.rows.iter().enumerate() {
        let key: Vec<&Value> = key_idx.iter().filter_map(|k| row.get(*k)).collect();
        last.insert(format!("{key:?}"), i);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_unstable();
    keep
}

fn update_columns<'s>(
    schema: &'s ModelSchema,
    rows: &Rows,
    conflict_on: &[&str],
    fields: Option<&[&str]>,
) -> Vec<&'s str> {
    let written = |n: &str| rows.fields.contains(&n);
    let names: Vec<&str> = match fields {
        Some(list) => list.iter().copied().filter(|n| written(n)).collect(),
        None => rows.fields.iter().copied().filter(|n| *n != "id" && !conflict_on.contains(n)).collect(),
    };
    names.into_iter().filter_map(|n| schema.field(n)).filter(|f| f.name != "id").map(|f| f.column()).collect()
}

fn on_conflict_clause(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    conflict_on: &[&str],
    on_conflict: OnConflict,
) -> SeaOnConflict {
    // Multi-tenant unique keys are per tenant (see `ddl::wanted_indexes`): the target is
    // `(tenant_id, ..)`, the primary key included when it is `(tenant_id, id)`
    // (`crate::tenant::tenant_primary_key`; generated integer ids cannot be a client's target).
    let per_tenant = schema.options.multi_tenant
        && (conflict_on != ["id"] || crate::tenant::tenant_primary_key(schema))
        && !conflict_on.contains(&"tenant_id");
    let target: Vec<Alias> = per_tenant
        .then(|| Alias::new(ManagedField::TenantId.column()))
        .into_iter()
        .chain(
            conflict_on
                .iter()
                .map(|n| Alias::new(schema.any_field(n).map_or_else(|| (*n).to_owned(), |f| f.column().to_owned()))),
        )
        .collect();
    let mut oc = SeaOnConflict::columns(target);
    let fields = match on_conflict {
        OnConflict::Skip => {
            if dialect == Dialect::MySql {
                oc.do_nothing_on([Alias::new("id")]);
            } else {
                oc.do_nothing();
            }
            return oc;
        }
        OnConflict::Update(f) => f,
    };
    let mut cols = update_columns(schema, rows, conflict_on, fields);
    if schema.options.timestamps {
        cols.push(ManagedField::UpdatedAt.column());
    }
    let tenant = schema.options.multi_tenant.then_some(scope.tenant).flatten();
    let table = schema.table.as_str();
    let mut sets: Vec<(Alias, Expr)> = Vec::new();
    for c in &cols {
        let new = Expr::cust(dialect.backend().upsert_new_value(c));
        sets.push((Alias::new(*c), new));
    }
    if schema.options.soft_delete {
        sets.push((Alias::new(ManagedField::DeletedAt.column()), Expr::cust("NULL")));
    }
    if sets.is_empty() {
        // Nothing to change: a no-op assignment keeps "update" semantics (the row is returned).
        let keep = match dialect {
            Dialect::MySql => Expr::cust(quote(dialect, "id")),
            _ => Expr::cust(format!("{}.{}", quote(dialect, table), quote(dialect, "id"))),
        };
        sets.push((Alias::new("id"), keep));
    }
    match (dialect, tenant) {
        (Dialect::MySql, Some(t)) => {
            let tcol = quote(dialect, ManagedField::TenantId.column());
            let guarded = sets.into_iter().map(|(c, new)| {
                let cq = quote(dialect, &c.0);
                let e = Expr::cust_with_exprs(format!("IF({tcol} = ?, ?, {cq})"), [Expr::val(t), new]);
                (c, e)
            });
            oc.values(guarded.collect::<Vec<_>>());
        }
        (_, Some(t)) => {
            oc.values(sets);
            oc.action_and_where(Expr::col((Alias::new(table), Alias::new(ManagedField::TenantId.column()))).eq(t));
        }
        (_, None) => {
            oc.values(sets);
        }
    }
    oc
}

fn returning(schema: &ModelSchema, dialect: Dialect) -> ReturningClause {
    let mut exprs: Vec<Expr> = select_columns(schema, None).iter().map(|f| Expr::col(Alias::new(f.column()))).collect();
    if let Some(flag) = dialect.backend().upsert_inserted_flag() {
        exprs.push(Expr::cust(format!("{flag} AS {}", quote(dialect, INSERTED_COLUMN))));
    }
    Query::returning().exprs(exprs)
}

/// Upserts `rows` (duplicates by `conflict_on`: last wins, see [`last_wins`]), chunked like
/// [`super::insert_many`]. PostgreSQL always appends `RETURNING <select_columns>, (xmax = 0) AS
/// "__inserted"`; SQLite appends `RETURNING <select_columns>` when `returning`; MySQL never.
pub fn upsert(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    conflict_on: &[&str],
    on_conflict: OnConflict,
    returning_rows: bool,
) -> Vec<Sql> {
    let keep = last_wins(rows, conflict_on);
    if keep.len() == rows.rows.len() {
        return upsert_distinct(schema, dialect, rows, scope, conflict_on, on_conflict, returning_rows);
    }
    let deduped: Vec<Vec<Value>> = keep.iter().map(|i| rows.rows[*i].clone()).collect();
    let rows = Rows { rows: &deduped, ..rows.clone() };
    upsert_distinct(schema, dialect, &rows, scope, conflict_on, on_conflict, returning_rows)
}

/// [`upsert`] for rows already distinct by `conflict_on` (the caller ran [`last_wins`]).
pub fn upsert_distinct(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    conflict_on: &[&str],
    on_conflict: OnConflict,
    returning_rows: bool,
) -> Vec<Sql> {
    let data = rows.rows;
    let cols = InsertColumns::new(schema, dialect, rows, scope);
    let clause = on_conflict_clause(schema, dialect, rows, scope, conflict_on, on_conflict);
    let ret = dialect.backend().upsert_returning(returning_rows).then(|| returning(schema, dialect));
    chunk_ranges(dialect, data, cols.managed.len(), None)
        .into_iter()
        .map(|r| {
            let mut q = insert_statement(schema, dialect, &cols, &data[r]);
            q.on_conflict(clause.clone());
            if let Some(ret) = &ret {
                q.returning(ret.clone());
            }
            Sql::build(&q, dialect)
        })
        .collect()
}
