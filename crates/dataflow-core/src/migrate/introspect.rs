//! Introspection of live tables: columns, types, nullability, defaults, indexes and unique
//! constraints, with one file per backend.
//!
//! The queries are our own (`pg_catalog` on PostgreSQL, `information_schema` on MySQL/MariaDB,
//! `pragma_table_info` / `pragma_index_list` / `pragma_index_info` on SQLite) rather than
//! sea-schema: two small queries per table give exactly the facts the diff compares, with no
//! extra dependency tree (sea-schema pulls its own sqlx feature set and a much larger model of
//! the schema than we use).

mod mysql;
mod postgres;
mod sqlite;

use dataflow_sql::Result;

use crate::db::pool::Conn;

/// One live column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveColumn {
    /// Column name.
    pub name: String,
    /// The type as the database reports it, lowercased (`text`, `character varying(255)`,
    /// `bigint(20)`, `INTEGER` lowercased to `integer`, ...).
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The default expression as the database reports it.
    pub default: Option<String>,
    /// Part of the primary key.
    pub primary_key: bool,
}

/// One live index (or unique constraint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveIndex {
    /// Index name.
    pub name: String,
    /// Column names, in index order.
    pub columns: Vec<String>,
    /// A unique index or unique constraint.
    pub unique: bool,
    /// The primary key's index.
    pub primary: bool,
}

/// A live table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTable {
    /// Table name.
    pub name: String,
    /// Columns in table order.
    pub columns: Vec<LiveColumn>,
    /// Indexes, primary key included (flagged).
    pub indexes: Vec<LiveIndex>,
}

impl LiveTable {
    /// Looks a column up by name (case-insensitively: MySQL and SQLite column names are).
    pub fn column(&self, name: &str) -> Option<&LiveColumn> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

#[cfg(any(test, feature = "test-support"))]
static QUERIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many introspection queries this process has issued (all instances), for tests and
/// benchmarks that prove a warm schema cache introspects nothing. Needs the `test-support`
/// feature.
#[cfg(any(test, feature = "test-support"))]
pub fn introspection_queries() -> u64 {
    QUERIES.load(std::sync::atomic::Ordering::Relaxed)
}

/// Counts one introspection query (with `test-support`; nothing otherwise).
pub(crate) fn count_query() {
    #[cfg(any(test, feature = "test-support"))]
    QUERIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn db_err(e: sqlx::Error) -> dataflow_sql::Error {
    crate::error::classify(e, None)
}

/// The live table `name`, or `None` when it does not exist.
pub async fn table(conn: &mut Conn<'_>, name: &str) -> Result<Option<LiveTable>> {
    match conn {
        Conn::Postgres(c) => postgres::table(c, name).await,
        Conn::MySql(c) => mysql::table(c, name).await,
        Conn::Sqlite(c) => sqlite::table(c, name).await,
    }
}

/// The names of the user tables of the current database/schema, sorted (DataFlow's own
/// `dataflow_migrations` and `dataflow_migration_lock` excluded).
pub async fn tables(conn: &mut Conn<'_>) -> Result<Vec<String>> {
    let mut v = match conn {
        Conn::Postgres(c) => postgres::tables(c).await?,
        Conn::MySql(c) => mysql::tables(c).await?,
        Conn::Sqlite(c) => sqlite::tables(c).await?,
    };
    v.retain(|t| !t.starts_with("dataflow_migration"));
    v.sort();
    Ok(v)
}
