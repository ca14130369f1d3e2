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
//! - Inserted or updated, without the PostgreSQL-only `xmax` column (docs/guide/scaling.md):
//!   on models with timestamps the update branch sets `updated_at` to the call's time, nudged by
//!   1 or 2 µs when that would equal the row's `created_at` or old `updated_at` (see
//!   [`guarded_updated_at`]). So `created_at = updated_at` holds exactly for inserted rows
//!   (returned as `"__inserted"` on PostgreSQL and SQLite), and every updated row changes (MySQL
//!   reports 1 affected row per insert and 2 per update even with `CLIENT_FOUND_ROWS`, which
//!   sqlx sets). Models without timestamps: see [`upsert_one`]; bulk upserts fall back to
//!   `xmax` ([`upsert_distinct`]) or to a keyed pre-count ([`upsert_distinct_portable`]).

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

/// What the update branch of an upsert writes.
#[derive(Clone, Copy)]
enum SetFrom<'a> {
    /// Bulk: the columns of [`update_columns`] from the proposed row.
    Rows(OnConflict<'a>),
    /// Single record: explicit values (`update` of an Upsert), bound.
    Values(&'a [(&'a str, Value)]),
}

/// The MySQL user variable a single upsert of a model without timestamps sets in its update
/// branch (see [`upsert_one`]).
pub const UPSERT_UPDATED_VARIABLE: &str = "dataflow_upsert_updated";

/// `updated_at` for the update branch: the call's time `now`, or `now` + 1 µs / + 2 µs when the
/// row's `created_at` or current `updated_at` already holds that value. Afterwards
/// `created_at <> updated_at` (so `created_at = updated_at` marks inserted rows) and the row
/// always changes (so MySQL counts it as updated). The nudge is at most 2 µs.
pub fn guarded_updated_at(schema: &ModelSchema, dialect: Dialect, now: chrono::DateTime<chrono::Utc>) -> Expr {
    let b = dialect.backend();
    let table = schema.table.as_str();
    let c = b.upsert_existing_column(table, ManagedField::CreatedAt.column());
    let u = b.upsert_existing_column(table, ManagedField::UpdatedAt.column());
    let at = |us: i64| {
        Expr::val(Value::DateTime(now + chrono::TimeDelta::microseconds(us)).to_sea(
            crate::FieldType::DateTime,
            dialect,
            false,
        ))
    };
    let free = |us: i64| Expr::cust(c.clone()).ne(at(us)).and(Expr::cust(u.clone()).ne(at(us)));
    sea_query::CaseStatement::new().case(free(0), at(0)).case(free(1), at(1)).finally(at(2)).into()
}

#[allow(clippy::too_many_arguments)]
fn on_conflict_clause(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    conflict_on: &[&str],
    on_conflict: SetFrom,
    session_flag: bool,
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
    let b = dialect.backend();
    let mut sets: Vec<(Alias, Expr)> = Vec::new();
    match on_conflict {
        SetFrom::Rows(OnConflict::Skip) => {
            if dialect == Dialect::MySql {
                oc.do_nothing_on([Alias::new("id")]);
            } else {
                oc.do_nothing();
            }
            return oc;
        }
        SetFrom::Rows(OnConflict::Update(fields)) => {
            for c in update_columns(schema, rows, conflict_on, fields) {
                sets.push((Alias::new(c), Expr::cust(b.upsert_new_value(c))));
            }
        }
        SetFrom::Values(values) => {
            let na = schema.options.native_arrays;
            for (name, v) in values {
                if let Some(f) = schema.field(name).filter(|f| f.name != "id") {
                    sets.push((Alias::new(f.column()), Expr::val(v.to_sea(f.ty, dialect, na))));
                }
            }
        }
    }
    if schema.options.timestamps {
        sets.push((Alias::new(ManagedField::UpdatedAt.column()), guarded_updated_at(schema, dialect, rows.now)));
    }
    let tenant = schema.options.multi_tenant.then_some(scope.tenant).flatten();
    let table = schema.table.as_str();
    if schema.options.soft_delete {
        sets.push((Alias::new(ManagedField::DeletedAt.column()), Expr::cust("NULL")));
    }
    let keep_id = || Expr::cust(b.upsert_existing_column(table, "id"));
    if session_flag {
        // MySQL, single upsert without timestamps: the update branch records itself in a user
        // variable (read back after the statement); `id` keeps its value.
        let id = b.upsert_existing_column(table, "id");
        let flag = Expr::cust(format!("IF((@{UPSERT_UPDATED_VARIABLE} := 1) = 1, {id}, {id})"));
        sets.push((Alias::new("id"), flag));
    } else if sets.is_empty() {
        // Nothing to change: a no-op assignment keeps "update" semantics (the row is returned).
        sets.push((Alias::new("id"), keep_id()));
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

/// The portable inserted marker: `created_at = updated_at` (see [`guarded_updated_at`]), on
/// models with timestamps.
fn portable_flag(schema: &ModelSchema, dialect: Dialect) -> Option<String> {
    schema.options.timestamps.then(|| {
        format!(
            "({} = {})",
            quote(dialect, ManagedField::CreatedAt.column()),
            quote(dialect, ManagedField::UpdatedAt.column())
        )
    })
}

fn returning(schema: &ModelSchema, flag: Option<String>) -> ReturningClause {
    let mut exprs: Vec<Expr> = select_columns(schema, None).iter().map(|f| Expr::col(Alias::new(f.column()))).collect();
    if let Some(flag) = flag {
        exprs.push(Expr::cust(format!("{flag} AS {}", quote_any(INSERTED_COLUMN))));
    }
    Query::returning().exprs(exprs)
}

/// `"__inserted"` (only PostgreSQL and SQLite return rows, both quote with `"`).
fn quote_any(name: &str) -> String {
    format!("\"{name}\"")
}

/// Upserts `rows` (duplicates by `conflict_on`: last wins, see [`last_wins`]), chunked like
/// [`super::insert_many`]. PostgreSQL always appends `RETURNING <select_columns>, <flag> AS
/// "__inserted"` (flag: `created_at = updated_at` with timestamps, else `xmax = 0`); SQLite
/// appends `RETURNING <select_columns>[, <flag>]` when `returning`; MySQL never.
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
    upsert_chunks(schema, dialect, rows, scope, conflict_on, on_conflict, returning_rows, true)
}

/// [`upsert_distinct`] that never reads `xmax` (distributed PostgreSQL-compatible databases,
/// `Compat`): without timestamps the returned rows carry no `"__inserted"` flag and the runtime
/// counts the existing keys first ([`super::count_keys`]).
pub fn upsert_distinct_portable(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    conflict_on: &[&str],
    on_conflict: OnConflict,
    returning_rows: bool,
) -> Vec<Sql> {
    upsert_chunks(schema, dialect, rows, scope, conflict_on, on_conflict, returning_rows, false)
}

/// The inserted flag bulk upserts return: portable with timestamps, else the backend's (`xmax`)
/// when allowed.
pub fn bulk_inserted_flag(schema: &ModelSchema, dialect: Dialect, xmax: bool) -> Option<String> {
    portable_flag(schema, dialect)
        .or_else(|| xmax.then(|| dialect.backend().upsert_inserted_flag()).flatten().map(str::to_owned))
}

#[allow(clippy::too_many_arguments)]
fn upsert_chunks(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    conflict_on: &[&str],
    on_conflict: OnConflict,
    returning_rows: bool,
    xmax: bool,
) -> Vec<Sql> {
    let data = rows.rows;
    let cols = InsertColumns::new(schema, dialect, rows, scope);
    let clause = on_conflict_clause(schema, dialect, rows, scope, conflict_on, SetFrom::Rows(on_conflict), false);
    let ret = dialect
        .backend()
        .upsert_returning(returning_rows)
        .then(|| returning(schema, bulk_inserted_flag(schema, dialect, xmax)));
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

/// How the runtime learns whether [`upsert_one`] inserted or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreatedBy {
    /// The statement returns the row with a boolean `"__inserted"` last (`created_at =
    /// updated_at`, PostgreSQL and SQLite, models with timestamps).
    ReturnedFlag,
    /// MySQL/MariaDB, models with timestamps: 1 affected row = inserted, 2 = updated (the update
    /// branch always changes `updated_at`); the row is re-read by key.
    AffectedRows,
    /// MySQL/MariaDB without timestamps: `before` resets a user variable the update branch sets,
    /// `after` reads it (1 = updated); the row is re-read by key.
    SessionVariable,
    /// PostgreSQL and SQLite without timestamps: `first` is `INSERT .. ON CONFLICT DO NOTHING
    /// RETURNING ..` (a row back = inserted); when it returns nothing, `statement` (the full
    /// upsert, `RETURNING ..`) updates the existing row. Two statements, each atomic.
    InsertThenUpdate,
}

/// The statements of a single-record upsert ([`upsert_one`]).
#[derive(Debug, Clone)]
pub struct UpsertOne {
    /// How inserted is told from updated.
    pub created_by: CreatedBy,
    /// Runs first: [`CreatedBy::SessionVariable`]'s reset, [`CreatedBy::InsertThenUpdate`]'s
    /// insert-if-absent.
    pub first: Option<Sql>,
    /// The upsert (`INSERT .. ON CONFLICT .. DO UPDATE` / `ON DUPLICATE KEY UPDATE`).
    pub statement: Sql,
    /// Runs after `statement`: [`CreatedBy::SessionVariable`]'s read (one BIGINT).
    pub after: Option<Sql>,
}

/// A single-record upsert in one statement: `row` (one entry of `rows.rows`, `where` ∪
/// `create` with defaults filled) is inserted, or the existing row with the same `conflict_on`
/// key — soft-deleted or not — is updated with `update` (explicit values) or, when `None`, with
/// the row's values of `update_fields`; a soft-deleted row is restored, as in [`upsert`].
/// `updated_at` is guarded ([`guarded_updated_at`]); see [`CreatedBy`] for how `created` is known.
pub fn upsert_one(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    conflict_on: &[&str],
    update_fields: &[&str],
    update: Option<&[(&str, Value)]>,
) -> UpsertOne {
    let b = dialect.backend();
    let returns = b.upsert_returning(true);
    let ts = schema.options.timestamps;
    let created_by = match (returns, ts) {
        (true, true) => CreatedBy::ReturnedFlag,
        (true, false) => CreatedBy::InsertThenUpdate,
        (false, true) => CreatedBy::AffectedRows,
        (false, false) => CreatedBy::SessionVariable,
    };
    let set = match update {
        Some(v) => SetFrom::Values(v),
        None => SetFrom::Rows(OnConflict::Update(Some(update_fields))),
    };
    let cols = InsertColumns::new(schema, dialect, rows, scope);
    let session = created_by == CreatedBy::SessionVariable;
    let clause = on_conflict_clause(schema, dialect, rows, scope, conflict_on, set, session);
    let mut q = insert_statement(schema, dialect, &cols, rows.rows);
    q.on_conflict(clause);
    if returns {
        let flag = (created_by == CreatedBy::ReturnedFlag).then(|| portable_flag(schema, dialect)).flatten();
        q.returning(returning(schema, flag));
    }
    let statement = Sql::build(&q, dialect);
    let (first, after) = match created_by {
        CreatedBy::SessionVariable => (
            Some(Sql { sql: format!("SET @{UPSERT_UPDATED_VARIABLE} = 0"), values: sea_query::Values(Vec::new()) }),
            Some(Sql {
                sql: format!("SELECT CAST(@{UPSERT_UPDATED_VARIABLE} AS SIGNED)"),
                values: sea_query::Values(Vec::new()),
            }),
        ),
        CreatedBy::InsertThenUpdate => {
            let clause =
                on_conflict_clause(schema, dialect, rows, scope, conflict_on, SetFrom::Rows(OnConflict::Skip), false);
            let mut q = insert_statement(schema, dialect, &cols, rows.rows);
            q.on_conflict(clause);
            q.returning(returning(schema, None));
            (Some(Sql::build(&q, dialect)), None)
        }
        _ => (None, None),
    };
    UpsertOne { created_by, first, statement, after }
}

/// `SELECT COUNT(*)` of the rows (soft-deleted included, in the scope's tenant) whose
/// `conflict_on` key equals one of `rows`' keys, in chunks of at most 500 keys: how many of an
/// upsert's (distinct) rows already exist, without counting the whole table. Empty when a key
/// field is not among `rows.fields`.
pub fn count_keys(schema: &ModelSchema, dialect: Dialect, rows: &Rows, scope: Scope, conflict_on: &[&str]) -> Vec<Sql> {
    let Some(keys) = conflict_on
        .iter()
        .map(|c| Some((rows.fields.iter().position(|f| f == c)?, schema.any_field(c)?)))
        .collect::<Option<Vec<_>>>()
    else {
        return Vec::new();
    };
    let scope = Scope { include_deleted: true, ..scope };
    rows.rows
        .chunks(500)
        .map(|chunk| {
            let mut any = sea_query::Condition::any();
            for row in chunk {
                let pairs: Vec<(&crate::FieldDef, &Value)> =
                    keys.iter().filter_map(|(i, f)| Some((f, row.get(*i)?))).collect();
                any = any.add(super::cond::eq_all(schema, dialect, &pairs));
            }
            super::count(schema, dialect, Some(any), scope)
        })
        .collect()
}
