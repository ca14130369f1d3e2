//! The SQL dialects DataFlow speaks. [`Dialect`] names one; its [`Backend`] (one file per
//! dialect: `dialect/{postgres,mysql,sqlite}.rs`) owns everything that differs between them:
//! limits, identifier quoting, column types and collations, how a [`Value`] is bound, upsert
//! syntax, the ALTER forms migrations need, the migration history table, the cross-process lock
//! statements and the introspection queries.
//!
//! Adding a backend means adding one file with a `Backend` impl, a [`Dialect`] variant and its
//! arm in [`Dialect::backend`] and [`Dialect::build`] — the only `match`es on the dialect.

mod mysql;
mod postgres;
mod sqlite;

use serde::{Deserialize, Serialize};

use crate::mysql_server::MySqlServer;
use crate::schema::ArrayElem;
use crate::value::Value;
use crate::{FieldDef, FieldType, ModelSchema};

pub use mysql::MySqlBackend;
pub use postgres::PostgresBackend;
pub use sqlite::{SqliteBackend, sqlite_affinity};

/// A SQL dialect. Every statement builder renders for exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// PostgreSQL (and PostgreSQL-wire databases).
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    /// SQLite (the embedded default).
    Sqlite,
}

impl Dialect {
    /// All dialects, in a stable order (used by snapshot tests).
    pub const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

    /// The dialect's backend: the one place that dispatches on the dialect.
    pub fn backend(self) -> &'static dyn Backend {
        match self {
            Dialect::Postgres => &PostgresBackend,
            Dialect::MySql => &MySqlBackend,
            Dialect::Sqlite => &SqliteBackend,
        }
    }

    /// Renders a sea-query statement with this dialect's query builder (sea-query's builders
    /// are not object safe, so this is the second and last dispatch on the dialect).
    pub fn build<S: sea_query::QueryStatementWriter>(self, stmt: &S) -> (String, sea_query::Values) {
        match self {
            Dialect::Postgres => stmt.build_any(&sea_query::PostgresQueryBuilder),
            Dialect::MySql => stmt.build_any(&sea_query::MysqlQueryBuilder),
            Dialect::Sqlite => stmt.build_any(&sea_query::SqliteQueryBuilder),
        }
    }

    /// The maximum number of bind parameters one statement may carry.
    pub fn max_bind_params(self) -> usize {
        self.backend().max_bind_params()
    }

    /// The maximum length of an identifier (table, column, index name) in bytes.
    pub fn max_identifier_len(self) -> usize {
        self.backend().max_identifier_len()
    }

    /// A short lowercase name (`postgres`, `mysql`, `sqlite`).
    pub fn name(self) -> &'static str {
        self.backend().name()
    }

    /// Quotes a schema identifier. Only for identifiers from a validated schema
    /// (`^[A-Za-z_][A-Za-z0-9_]*$`, so they never contain a quote character); used where
    /// sea-query cannot express a construct and the text is assembled by hand.
    pub fn quote(self, ident: &str) -> String {
        debug_assert!(ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "unvalidated identifier {ident:?}");
        let q = self.backend().quote_char();
        format!("{q}{ident}{q}")
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The cross-process migration lock of a backend (run by dataflow-core's `migrate::lock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockStatements {
    /// A session-level lock polled with a key bound as `$1`/`?` (PostgreSQL advisory lock):
    /// `try_acquire` returns a boolean, `release` frees it.
    Advisory {
        /// Returns true when the lock was taken.
        try_acquire: &'static str,
        /// Frees the lock.
        release: &'static str,
        /// The key to bind.
        key: i64,
    },
    /// A named lock with a server-side wait: `acquire` binds the timeout in whole seconds and
    /// returns 1 when taken (MySQL/MariaDB `GET_LOCK`).
    Named {
        /// Waits up to the bound number of seconds; 1 when taken.
        acquire: &'static str,
        /// Frees the lock.
        release: &'static str,
    },
    /// The database's write lock, taken by beginning a write transaction (SQLite `BEGIN
    /// IMMEDIATE`); the migration runs inside it and it ends with `COMMIT`/`ROLLBACK`.
    /// `busy_timeout` reads the connection's busy timeout and
    /// [`crate::stmt::tx::set_busy_timeout`] sets it.
    WriteTransaction {
        /// Takes the write lock (fails at once with "busy"/"locked" when taken).
        begin: &'static str,
        /// Reads the busy timeout in milliseconds.
        busy_timeout: &'static str,
    },
}

/// The three introspection queries of a backend. `columns` and `indexes` bind the table name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntrospectionQueries {
    /// The base tables of the current database/schema, one name per row.
    pub tables: &'static str,
    /// The columns of one table: name, type, nullable, default, key flag (per backend).
    pub columns: &'static str,
    /// The indexes of one table, one row per indexed column, in index order.
    pub indexes: &'static str,
}

/// What a column change alters ([`Backend::alter_column_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnChange {
    /// The column's type.
    Type,
    /// Whether the column accepts NULL.
    Nullability,
}

/// What differs between SQL backends. One implementation per file in `dialect/`; reach it
/// through [`Dialect::backend`].
pub trait Backend: Sync + std::fmt::Debug {
    /// The dialect this backend renders.
    fn dialect(&self) -> Dialect;
    /// A short lowercase name (`postgres`, `mysql`, `sqlite`).
    fn name(&self) -> &'static str;
    /// The maximum number of bind parameters one statement may carry.
    fn max_bind_params(&self) -> usize;
    /// The maximum length of an identifier in bytes.
    fn max_identifier_len(&self) -> usize;
    /// The byte budget of one multi-row statement, where the server limits packet size.
    fn statement_byte_budget(&self) -> Option<usize> {
        None
    }
    /// The identifier quote character.
    fn quote_char(&self) -> char {
        '"'
    }

    // ---- column types and definitions ----

    /// The SQL type of a column (docs/guide/models.md), without nullability, key or collation.
    fn column_type(&self, field: &FieldDef, schema: &ModelSchema) -> String;
    /// Whether `native_arrays` applies on this backend (PostgreSQL arrays).
    fn native_arrays(&self, _schema: &ModelSchema) -> bool {
        false
    }
    /// The collation clause of a text column (`" COLLATE \"C\""`), given the MySQL collation name.
    fn text_collation(&self, field: &FieldDef, mysql_collation: &str) -> Option<String>;
    /// The definition of a database-generated integer `id` (`name` quoted, `ty` its type).
    fn generated_id(&self, name: &str, ty: &str) -> String;
    /// A boolean `DEFAULT` literal.
    fn bool_literal(&self, b: bool) -> String {
        if b { "TRUE" } else { "FALSE" }.to_owned()
    }
    /// A `DEFAULT` literal as written in the column definition (MySQL parenthesises
    /// TEXT/JSON/BLOB defaults).
    fn default_expression(&self, literal: String, _column_type: &str) -> String {
        literal
    }
    /// The `DEFAULT` literal of a native array (PostgreSQL), if this backend has them.
    fn array_default(&self, _value: &Value, _field: &FieldDef, _schema: &ModelSchema) -> Option<String> {
        None
    }
    /// Renders one value as an SQL literal (sea-query's escaping).
    fn literal(&self, v: &sea_query::Value) -> String;

    // ---- values ----

    /// The bound value of a date-time.
    fn datetime(&self, d: &chrono::DateTime<chrono::Utc>) -> sea_query::Value;
    /// The bound value of a date.
    fn date(&self, d: &chrono::NaiveDate) -> sea_query::Value {
        sea_query::Value::ChronoDate(Some(*d))
    }
    /// The bound value of a UUID.
    fn uuid(&self, u: &uuid::Uuid) -> sea_query::Value {
        sea_query::Value::String(Some(u.to_string()))
    }
    /// The bound value of a decimal.
    fn decimal(&self, d: &rust_decimal::Decimal) -> sea_query::Value {
        sea_query::Value::Decimal(Some(*d))
    }
    /// The bound value of a JSON document (also arrays stored as JSON).
    fn json(&self, j: serde_json::Value) -> sea_query::Value {
        sea_query::Value::Json(Some(Box::new(j)))
    }
    /// The bound value of an array field: a native array where the backend has them and the
    /// model asks for them, otherwise JSON.
    fn array(
        &self,
        _items: &[Value],
        _ty: FieldType,
        _native_arrays: bool,
        as_json: serde_json::Value,
    ) -> sea_query::Value {
        self.json(as_json)
    }
    /// A typed NULL for a column of type `ty`.
    fn typed_null(&self, ty: FieldType, native_arrays: bool) -> sea_query::Value;

    // ---- upsert ----

    /// The expression for "the value this row tried to insert" of column `c` in an upsert's
    /// update clause (`excluded."c"`, MySQL `VALUES(`c`)`).
    fn upsert_new_value(&self, column: &str) -> String {
        let d = self.dialect();
        format!("{}.{}", d.quote("excluded"), d.quote(column))
    }
    /// The expression for "the existing row's value" of `column` in an upsert's update clause
    /// (`"t"."c"`; MySQL: the bare column).
    fn upsert_existing_column(&self, table: &str, column: &str) -> String {
        let d = self.dialect();
        format!("{}.{}", d.quote(table), d.quote(column))
    }
    /// Whether an upsert returns the affected rows (`RETURNING`): always, only when asked, or never.
    fn upsert_returning(&self, asked: bool) -> bool;
    /// The backend-specific inserted flag for bulk upserts of models without timestamps
    /// (PostgreSQL `xmax = 0`; avoided in `Compat` mode, see docs/guide/scaling.md).
    fn upsert_inserted_flag(&self) -> Option<&'static str> {
        None
    }

    // ---- updates ----

    /// Whether `$1, $2, ..` number the bind parameters (PostgreSQL) rather than `?`.
    fn numbered_params(&self) -> bool {
        false
    }
    /// Whether `UPDATE .. RETURNING` exists (PostgreSQL, SQLite; not MariaDB).
    fn update_returning(&self) -> bool {
        true
    }
    /// The row-lock suffix of a read inside a transaction (`" FOR UPDATE"`), where the backend
    /// has row locks.
    fn row_lock(&self) -> Option<&'static str> {
        Some(" FOR UPDATE")
    }
    /// Wraps an integer expression of type `ty` so an overflow fails the statement, where the
    /// database would otherwise store a wrong value (SQLite); `None` when the server checks.
    fn checked_int(&self, _ty: FieldType, _expr: &str) -> Option<String> {
        None
    }
    /// `$push`: an expression appending `items` (not empty) to the array column `c` (quoted),
    /// as a template with `?` marks and the values they bind.
    fn array_push(
        &self,
        c: &str,
        field: &FieldDef,
        schema: &ModelSchema,
        items: &[Value],
    ) -> (String, Vec<sea_query::Value>);
    /// `$pull`: an expression removing every element equal to one of `items` (not empty) from
    /// the array column `c`, keeping order (NULL handled by the caller).
    fn array_pull(
        &self,
        c: &str,
        field: &FieldDef,
        schema: &ModelSchema,
        items: &[Value],
    ) -> (String, Vec<sea_query::Value>);

    // ---- migrations ----

    /// `ALTER TABLE .. ALTER/MODIFY COLUMN` statements changing a column's type to the model's.
    /// `t` and `c` are the quoted table and column.
    fn change_type(&self, t: &str, c: &str, field: &FieldDef, schema: &ModelSchema) -> Vec<String>;
    /// The statement that makes a column's nullability the model's.
    fn set_nullability(&self, t: &str, c: &str, field: &FieldDef, schema: &ModelSchema) -> String;
    /// `DROP INDEX` (`t` and `name` quoted).
    fn drop_index(&self, _t: &str, name: &str) -> String {
        format!("DROP INDEX {name}")
    }
    /// Replaces the primary key `pk` (its constraint name, quoted) of table `t` (quoted) by
    /// `cols` (quoted, comma-separated): multi-tenant models move from `id` to `(tenant_id, id)`.
    /// SQLite cannot and rebuilds the table instead; it never calls this.
    fn replace_primary_key(&self, t: &str, pk: &str, cols: &str) -> String {
        format!("ALTER TABLE {t} DROP CONSTRAINT {pk}, ADD PRIMARY KEY ({cols})")
    }
    /// `CREATE TABLE IF NOT EXISTS` and its indexes for a new table. `server` matters on
    /// [`Dialect::MySql`] only (MariaDB and MySQL 8 use different collations).
    fn create_table_on(&self, schema: &ModelSchema, _server: MySqlServer) -> Vec<String> {
        crate::ddl::create_table(schema, self.dialect())
    }
    /// `ALTER TABLE .. ADD COLUMN <definition>` (`server` as in [`Backend::create_table_on`]).
    fn add_column_on(&self, schema: &ModelSchema, field: &FieldDef, _server: MySqlServer) -> String {
        crate::ddl::add_column(schema, field, self.dialect())
    }
    /// The statements that make a live column's type or nullability the model's (`server` as in
    /// [`Backend::create_table_on`]). Only called where [`Backend::alters_in_place`] holds.
    fn alter_column_on(
        &self,
        schema: &ModelSchema,
        field: &FieldDef,
        change: ColumnChange,
        _server: MySqlServer,
    ) -> crate::Result<Vec<String>> {
        let d = self.dialect();
        match change {
            ColumnChange::Type => crate::ddl::alter::change_type(schema, field, d),
            ColumnChange::Nullability => Ok(vec![crate::ddl::alter::set_nullability(schema, field, d)?]),
        }
    }
    /// `CREATE INDEX` for every index the model wants, in [`crate::ddl::wanted_indexes`] order
    /// (`server` as in [`Backend::create_table_on`]).
    fn create_indexes_on(&self, schema: &ModelSchema, _server: MySqlServer) -> Vec<String> {
        crate::ddl::create_indexes(schema, self.dialect())
    }
    /// Whether columns can be changed or dropped with `ALTER TABLE`; when not (SQLite), a
    /// migration rebuilds the table ([`crate::ddl::alter::sqlite_rebuild`]).
    fn alters_in_place(&self) -> bool {
        true
    }
    /// When a type change from the live type `live` to the wanted type `wanted` narrows text to
    /// `VARCHAR(n)` (MySQL indexes text only as VARCHAR), the `n` every stored value must fit.
    fn text_to_varchar(&self, _live: &str, _wanted: &str) -> Option<u32> {
        None
    }
    /// Whether migration steps can run inside one explicit transaction (PostgreSQL's
    /// transactional DDL, when `Config` asks for it). SQLite migrates inside its write lock's
    /// transaction instead ([`LockStatements::WriteTransaction`]).
    fn ddl_in_transaction(&self) -> bool {
        false
    }
    /// Whether the live type `live` (as introspected) satisfies `wanted`, the type
    /// [`Backend::column_type`] gives `field`.
    fn type_matches(&self, field: &FieldDef, wanted: &str, live: &str) -> bool;
    /// `CREATE TABLE IF NOT EXISTS dataflow_migrations (...)`.
    fn history_table(&self) -> &'static str;
    /// The read-replica health check: one row, one nullable BIGINT, the replica's replay lag in
    /// microseconds (NULL when the backend cannot tell). Also proves the replica answers.
    fn replica_lag_query(&self) -> &'static str;
    /// The cross-process migration lock.
    fn lock(&self) -> LockStatements;
    /// The database server's clock in whole milliseconds since the Unix epoch, as a BIGINT
    /// expression (the lease lock, [`crate::stmt::lease`]).
    fn now_millis(&self) -> &'static str;
    /// The type name of a 64-bit integer in `CAST(.. AS <type>)`.
    fn bigint_cast(&self) -> &'static str {
        "BIGINT"
    }
    /// The introspection queries.
    fn introspection(&self) -> IntrospectionQueries;
    /// The field type a live column of SQL type `live` (as introspected) maps to when a model
    /// is discovered from an existing table, or `None` for types DataFlow does not map.
    fn discover_type(&self, live: &str) -> Option<DiscoveredType>;

    // ---- operations ----

    /// `CREATE DATABASE` of a quoted name (MySQL/MariaDB add the `utf8mb4` character set).
    fn create_database(&self, quoted: &str) -> String {
        format!("CREATE DATABASE {quoted}")
    }
    /// `DROP DATABASE IF EXISTS` of a quoted name (PostgreSQL closes other sessions first).
    fn drop_database(&self, quoted: &str) -> String {
        format!("DROP DATABASE IF EXISTS {quoted}")
    }

    /// The OpenTelemetry `db.system` name (`postgresql`, `mysql`, `sqlite`).
    fn otel_system(&self) -> &'static str;
    /// The default connection pool size on a machine with `cores` cores (`in_memory`: an
    /// in-memory SQLite database).
    fn default_pool_size(&self, cores: u32, _in_memory: bool) -> u32 {
        cores.saturating_mul(4).clamp(10, 64)
    }
}

/// The field a live column maps to when a model is discovered from an existing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveredType {
    /// The field type.
    pub ty: FieldType,
    /// The declared maximum length (`VARCHAR(n)`), if any.
    pub max_len: Option<u32>,
    /// Whether the column is a native array (PostgreSQL), so the model needs `native_arrays`.
    pub native_array: bool,
}

impl DiscoveredType {
    pub(crate) fn of(ty: FieldType) -> Option<Self> {
        Some(DiscoveredType { ty, max_len: None, native_array: false })
    }
}

/// The number in the first parentheses of a type (`varchar(40)` → 40).
pub(crate) fn paren_num(t: &str) -> Option<u32> {
    let inner = t.split_once('(')?.1.split_once(')')?.0;
    inner.split(',').next()?.trim().parse().ok()
}

/// A live type, lowercased, and its base name (before any parenthesis).
pub(crate) fn live_base(t: &str) -> (String, String) {
    let t = t.trim().to_ascii_lowercase();
    let base = t.split('(').next().unwrap_or("").trim().to_owned();
    (t, base)
}

/// The PostgreSQL array element type of an array field.
pub(crate) fn array_type(e: ArrayElem) -> sea_query::ArrayType {
    use sea_query::ArrayType;
    match e {
        ArrayElem::String => ArrayType::String,
        ArrayElem::I64 => ArrayType::BigInt,
        ArrayElem::F64 => ArrayType::Double,
        ArrayElem::Bool => ArrayType::Bool,
    }
}

/// A typed NULL for the types every backend binds alike (`None` for the others).
pub(crate) fn common_null(ty: FieldType) -> Option<sea_query::Value> {
    use sea_query::Value as S;
    Some(match ty {
        FieldType::String => S::String(None),
        FieldType::I32 => S::Int(None),
        FieldType::I64 => S::BigInt(None),
        FieldType::F64 => S::Double(None),
        FieldType::Bool => S::Bool(None),
        FieldType::Bytes => S::Bytes(None),
        _ => return None,
    })
}
