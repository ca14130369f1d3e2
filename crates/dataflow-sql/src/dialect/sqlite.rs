//! SQLite: text for date-times, UUIDs, decimals and JSON, 0/1 booleans, a 32766 bind limit,
//! `INTEGER PRIMARY KEY AUTOINCREMENT`, table rebuilds instead of ALTER COLUMN, the write lock
//! as the migration lock, `pragma_*` introspection.

use sea_query::Value as S;

use super::{
    Backend, Dialect, DiscoveredType, IntrospectionQueries, LockStatements, common_null, live_base, paren_num,
};
use crate::value::Value;
use crate::value::canonical_datetime;
use crate::{FieldDef, FieldType, ModelSchema};

/// SQLite (the embedded default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteBackend;

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn alters_in_place(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn max_bind_params(&self) -> usize {
        32_766
    }

    fn max_identifier_len(&self) -> usize {
        // SQLite has no limit; we keep PostgreSQL's so a model stays portable.
        63
    }

    fn literal(&self, v: &S) -> String {
        sea_query::QueryBuilder::value_to_string(&sea_query::SqliteQueryBuilder, v)
    }

    fn column_type(&self, field: &FieldDef, _schema: &ModelSchema) -> String {
        let s = match field.ty {
            FieldType::I32 | FieldType::I64 | FieldType::Bool => "INTEGER",
            FieldType::F64 => "REAL",
            FieldType::Bytes => "BLOB",
            FieldType::String
            | FieldType::DateTime
            | FieldType::Date
            | FieldType::Uuid
            | FieldType::Decimal
            | FieldType::Json
            | FieldType::Array(_) => "TEXT",
        };
        s.to_owned()
    }

    fn text_collation(&self, _field: &FieldDef, _mysql_collation: &str) -> Option<String> {
        // The default BINARY collation already compares bytes.
        None
    }

    fn generated_id(&self, name: &str, _ty: &str) -> String {
        format!("{name} INTEGER PRIMARY KEY AUTOINCREMENT")
    }

    fn bool_literal(&self, b: bool) -> String {
        i32::from(b).to_string()
    }

    fn datetime(&self, d: &chrono::DateTime<chrono::Utc>) -> S {
        S::String(Some(canonical_datetime(d)))
    }

    fn date(&self, d: &chrono::NaiveDate) -> S {
        S::String(Some(d.format("%Y-%m-%d").to_string()))
    }

    fn decimal(&self, d: &rust_decimal::Decimal) -> S {
        S::String(Some(d.to_string()))
    }

    fn json(&self, j: serde_json::Value) -> S {
        S::String(Some(j.to_string()))
    }

    fn typed_null(&self, ty: FieldType, _native_arrays: bool) -> S {
        common_null(ty).unwrap_or(S::String(None))
    }

    fn upsert_returning(&self, asked: bool) -> bool {
        asked
    }

    fn change_type(&self, t: &str, c: &str, field: &FieldDef, schema: &ModelSchema) -> Vec<String> {
        // SQLite cannot alter a column: the diff folds such changes into a table rebuild
        // (`ddl::alter::sqlite_rebuild`); this form only names the change.
        vec![self.set_nullability(t, c, field, schema)]
    }

    fn set_nullability(&self, t: &str, _c: &str, field: &FieldDef, schema: &ModelSchema) -> String {
        // Folded into a rebuild like `change_type`.
        format!("ALTER TABLE {t} MODIFY COLUMN {}", crate::ddl::column_definition(field, schema, Dialect::Sqlite))
    }

    fn type_matches(&self, _field: &FieldDef, wanted: &str, live: &str) -> bool {
        sqlite_affinity(wanted) == sqlite_affinity(live)
    }

    fn replica_lag_query(&self) -> &'static str {
        // A "replica" of a SQLite file is the same file (or a copy): no replication lag to tell.
        "SELECT CAST(NULL AS INTEGER)"
    }

    fn history_table(&self) -> &'static str {
        "CREATE TABLE IF NOT EXISTS dataflow_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, \
         version INTEGER NOT NULL, model TEXT NOT NULL, table_name TEXT NOT NULL, checksum TEXT NOT NULL, \
         statements TEXT NOT NULL, risk TEXT NOT NULL, applied_at TEXT NOT NULL, duration_ms INTEGER NOT NULL, \
         status TEXT NOT NULL)"
    }

    fn lock(&self) -> LockStatements {
        LockStatements::WriteTransaction { begin: "BEGIN IMMEDIATE", busy_timeout: "PRAGMA busy_timeout" }
    }

    fn row_lock(&self) -> Option<&'static str> {
        // No row locks: a DataFlow write transaction (`BEGIN IMMEDIATE`) already holds the
        // database's write lock.
        None
    }

    fn checked_int(&self, ty: FieldType, expr: &str) -> Option<String> {
        // SQLite would store an out-of-range `i32` or turn an `i64` into a float: make the
        // statement fail instead (`abs(i64::MIN)` raises "integer overflow").
        const RAISE: &str = "abs(-9223372036854775807 - 1)";
        match ty {
            FieldType::I32 => {
                Some(format!("CASE WHEN ({expr}) BETWEEN -2147483648 AND 2147483647 THEN ({expr}) ELSE {RAISE} END"))
            }
            FieldType::I64 => Some(format!("CASE WHEN typeof({expr}) = 'integer' THEN ({expr}) ELSE {RAISE} END")),
            _ => None,
        }
    }

    fn array_push(&self, c: &str, _field: &FieldDef, _schema: &ModelSchema, items: &[Value]) -> (String, Vec<S>) {
        // `$[#]` appends; each element goes in as JSON so booleans stay booleans.
        let marks = vec!["'$[#]', json(?)"; items.len()].join(", ");
        let args = items.iter().map(|v| S::String(Some(v.to_json().to_string()))).collect();
        (format!("json_insert(COALESCE({c}, '[]'), {marks})"), args)
    }

    fn array_pull(&self, c: &str, _field: &FieldDef, _schema: &ModelSchema, items: &[Value]) -> (String, Vec<S>) {
        let arr = Value::Array(items.to_vec()).to_json().to_string();
        (
            format!(
                "(SELECT json_group_array(CASE e.type WHEN 'true' THEN json('true') WHEN 'false' THEN json('false') ELSE e.value END) FROM (SELECT * FROM json_each({c}) ORDER BY key) e WHERE e.value NOT IN (SELECT value FROM json_each(?)))"
            ),
            vec![S::String(Some(arr))],
        )
    }

    fn discover_type(&self, live: &str) -> Option<DiscoveredType> {
        let (t, base) = live_base(live);
        match base.as_str() {
            "boolean" | "bool" => DiscoveredType::of(FieldType::Bool),
            "date" => DiscoveredType::of(FieldType::Date),
            "datetime" | "timestamp" => DiscoveredType::of(FieldType::DateTime),
            _ => match sqlite_affinity(&t) {
                "integer" => DiscoveredType::of(FieldType::I64),
                "text" => Some(DiscoveredType {
                    ty: FieldType::String,
                    max_len: paren_num(&t).filter(|_| t.contains("char")),
                    native_array: false,
                }),
                "real" => DiscoveredType::of(FieldType::F64),
                "blob" => DiscoveredType::of(FieldType::Bytes),
                _ => DiscoveredType::of(FieldType::Decimal),
            },
        }
    }

    fn otel_system(&self) -> &'static str {
        "sqlite"
    }

    fn default_pool_size(&self, _cores: u32, in_memory: bool) -> u32 {
        if in_memory { 4 } else { 5 }
    }

    fn now_millis(&self) -> &'static str {
        "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    }

    fn bigint_cast(&self) -> &'static str {
        "INTEGER"
    }

    fn introspection(&self) -> IntrospectionQueries {
        IntrospectionQueries { tables: TABLES, columns: COLUMNS, indexes: INDEXES }
    }
}

/// SQLite type affinity of a declared type (SQLite docs §3.1).
pub fn sqlite_affinity(ty: &str) -> &'static str {
    let t = ty.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("clob") || t.contains("text") {
        "text"
    } else if t.is_empty() || t.contains("blob") {
        "blob"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
        "real"
    } else {
        "numeric"
    }
}

const TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";

const COLUMNS: &str = "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid";

const INDEXES: &str = "SELECT il.name, il.\"unique\", il.origin, ii.name \
     FROM pragma_index_list(?) AS il JOIN pragma_index_info(il.name) AS ii \
     ORDER BY il.name, ii.seqno";
