//! Statements for the eleven operations (docs/guide/operations.md), rendered through sea-query.
//!
//! Every builder returns [`Sql`]: the SQL text with placeholders (`$1` on PostgreSQL, `?` on
//! MySQL/SQLite) and the bound values, built with sea-query's `build(..)`. Values are never
//! inlined; identifiers come only from a validated [`ModelSchema`](crate::ModelSchema).
//!
//! The soft-delete and tenant predicates are added in exactly one place, [`scope`], and every
//! statement that reads or changes existing rows goes through it.

mod chunk;
pub mod cond;
mod copy;
pub mod database;
pub mod history;
mod insert;
mod isolation;
pub mod lease;
mod order;
pub mod probe;
pub mod scope;
mod select;
pub mod tx;
mod unnest;
mod update;
mod update_ops;
mod upsert;

use sea_query::QueryStatementWriter;

use crate::Dialect;
use crate::value::Value;

pub use chunk::{MYSQL_PACKET_BUDGET, rows_per_chunk};
pub use copy::{CopyIn, copy_in};
pub use insert::{insert, insert_many, insert_many_returning, insert_many_returning_id, insert_values};
pub use isolation::Isolation;
pub use order::parse_order_by;
pub use scope::Scope;
pub use select::{
    count, cursor_keys, select, select_by_id, select_by_id_without_tenant, select_columns,
    select_columns_without_tenant, validate_cursor, validate_fields,
};
pub use unnest::{insert_unnest, insert_unnest_returning, insert_unnest_returning_id};
pub use update::{delete, restore, soft_delete, update};
pub use update_ops::{for_update, update_by_id_values, update_changes, update_changes_returning_without_tenant};
pub use upsert::{
    CreatedBy, INSERTED_COLUMN, UPSERT_UPDATED_VARIABLE, UpsertOne, bulk_inserted_flag, count_keys, guarded_updated_at,
    last_wins, upsert, upsert_distinct, upsert_distinct_portable, upsert_one,
};

/// A rendered statement: SQL text with placeholders plus the values to bind, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    /// The SQL text (`$1`.. on PostgreSQL, `?` on MySQL and SQLite).
    pub sql: String,
    /// The bound values, in placeholder order.
    pub values: sea_query::Values,
}

impl Sql {
    /// Renders any sea-query statement for `dialect` with bound values.
    pub fn build<S: QueryStatementWriter>(stmt: &S, dialect: Dialect) -> Sql {
        let (sql, values) = dialect.build(stmt);
        Sql { sql, values }
    }
}

/// Sort direction of one `order_by` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Ascending (`"field"`, `{"field": "asc"}`).
    Asc,
    /// Descending (`"-field"`, `{"field": "desc"}`).
    Desc,
}

/// One `order_by` key: a field name (user or managed) and a direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderBy {
    /// The field name (not the column name).
    pub field: String,
    /// The direction.
    pub direction: Direction,
}

impl OrderBy {
    /// An ascending key.
    pub fn asc(field: impl Into<String>) -> Self {
        OrderBy { field: field.into(), direction: Direction::Asc }
    }

    /// A descending key.
    pub fn desc(field: impl Into<String>) -> Self {
        OrderBy { field: field.into(), direction: Direction::Desc }
    }
}

/// What a `select` returns (List, Read, find-one).
#[derive(Debug, Clone, Default)]
pub struct SelectSpec<'a> {
    /// The filter, already rendered (`Filter::to_condition`); `None` matches every row.
    pub condition: Option<sea_query::Condition>,
    /// Soft-delete and tenant scope.
    pub scope: Scope<'a>,
    /// Sort keys; empty means `ORDER BY id ASC`. `id` is always appended as a tie-breaker.
    pub order_by: &'a [OrderBy],
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// Keyset cursor: the values of [`cursor_keys`] (the order keys, then `id` unless already a
    /// key) of the last row seen. Rows strictly after it in the sort order are returned.
    pub after: Option<&'a [Value]>,
    /// Projection (field names); `None` selects every column (see [`select_columns`]).
    pub fields: Option<&'a [String]>,
    /// Without a projection, leave the managed `tenant_id` column out of the selected columns
    /// ([`select_columns_without_tenant`]): a reader scoped to one tenant knows its value, so
    /// the database need not send it once per row.
    pub omit_tenant: bool,
}

/// Rows to write: user field names and one value per field per row.
///
/// Managed columns are added by the statement builders: `created_at = updated_at = now`,
/// `tenant_id = scope.tenant`.
#[derive(Debug, Clone)]
pub struct Rows<'a> {
    /// User field names (not column names), the same for every row.
    pub fields: &'a [&'a str],
    /// The rows; each has exactly one value per entry of `fields`.
    pub rows: &'a [Vec<Value>],
    /// The timestamp stamped into `created_at` / `updated_at`.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// What an upsert does when the conflict target already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict<'a> {
    /// Update the listed fields (`None`: every written field that is not part of the conflict
    /// target and not `id`) from the new row; `updated_at` is bumped, `created_at` kept.
    Update(Option<&'a [&'a str]>),
    /// Keep the existing row (`DO NOTHING`; MySQL: a no-op `id = id` update).
    Skip,
}

/// Quotes a schema identifier for `dialect` ([`Dialect::quote`]).
pub(crate) fn quote(dialect: Dialect, ident: &str) -> String {
    dialect.quote(ident)
}
