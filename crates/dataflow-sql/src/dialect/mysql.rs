//! MySQL and MariaDB: backtick quoting, `utf8mb4` text with an explicit binary collation,
//! VARCHAR for indexed strings, a 4 MiB statement budget, `ON DUPLICATE KEY UPDATE`,
//! `GET_LOCK`, `information_schema` introspection.

use sea_query::Value as S;

use super::{
    Backend, ColumnChange, Dialect, DiscoveredType, IntrospectionQueries, LockStatements, common_null, live_base,
    paren_num,
};
use crate::mysql_server::MySqlServer;
use crate::schema::ArrayElem;
use crate::value::Value;
use crate::{FieldDef, FieldType, ModelSchema};

/// MySQL and MariaDB.
#[derive(Debug, Clone, Copy, Default)]
pub struct MySqlBackend;

/// Whether a string field is indexed (its own `unique`/`index` flag, a model index or the
/// primary key): MySQL must then use VARCHAR, which can be indexed without a prefix.
fn is_indexed(field: &FieldDef, schema: &ModelSchema) -> bool {
    field.unique || field.index || field.name == "id" || schema.indexes.iter().any(|ix| ix.fields.contains(&field.name))
}

impl Backend for MySqlBackend {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    fn name(&self) -> &'static str {
        "mysql"
    }

    fn max_bind_params(&self) -> usize {
        65_535
    }

    fn max_identifier_len(&self) -> usize {
        64
    }

    fn create_table_on(&self, schema: &ModelSchema, server: MySqlServer) -> Vec<String> {
        server.create_table(schema)
    }

    fn add_column_on(&self, schema: &ModelSchema, field: &FieldDef, server: MySqlServer) -> String {
        server.add_column(schema, field)
    }

    fn alter_column_on(
        &self,
        schema: &ModelSchema,
        field: &FieldDef,
        _change: ColumnChange,
        server: MySqlServer,
    ) -> crate::Result<Vec<String>> {
        // MODIFY COLUMN restates the whole definition, type and nullability alike.
        Ok(vec![server.modify_column(schema, field)])
    }

    fn create_indexes_on(&self, schema: &ModelSchema, server: MySqlServer) -> Vec<String> {
        server.create_indexes(schema).into_iter().map(|(_, sql)| sql).collect()
    }

    fn text_to_varchar(&self, live: &str, wanted: &str) -> Option<u32> {
        let n = wanted.to_ascii_lowercase().strip_prefix("varchar(")?.trim_end_matches(')').parse().unwrap_or(255);
        live.ends_with("text").then_some(n)
    }

    fn statement_byte_budget(&self) -> Option<usize> {
        Some(crate::stmt::MYSQL_PACKET_BUDGET)
    }

    fn quote_char(&self) -> char {
        '`'
    }

    fn literal(&self, v: &S) -> String {
        sea_query::QueryBuilder::value_to_string(&sea_query::MysqlQueryBuilder, v)
    }

    fn column_type(&self, field: &FieldDef, schema: &ModelSchema) -> String {
        let s = match field.ty {
            FieldType::String => {
                return match field.max_len {
                    Some(n) => format!("VARCHAR({n})"),
                    None if is_indexed(field, schema) => "VARCHAR(255)".into(),
                    // MEDIUMTEXT (16 MiB) holds the portable string length (`portable::MAX_TEXT_BYTES`);
                    // TEXT ends at 64 KiB. Existing TEXT columns still match (see `type_matches`).
                    None => "MEDIUMTEXT".into(),
                };
            }
            FieldType::I32 => "INT",
            FieldType::I64 => "BIGINT",
            FieldType::F64 => "DOUBLE",
            FieldType::Bool => "TINYINT(1)",
            FieldType::DateTime => "DATETIME(6)",
            FieldType::Date => "DATE",
            FieldType::Uuid => "CHAR(36)",
            FieldType::Decimal => "DECIMAL(38,10)",
            FieldType::Json | FieldType::Array(_) => "JSON",
            FieldType::Bytes => "LONGBLOB",
        };
        s.to_owned()
    }

    fn text_collation(&self, field: &FieldDef, mysql_collation: &str) -> Option<String> {
        matches!(field.ty, FieldType::String | FieldType::Uuid)
            .then(|| format!(" CHARACTER SET utf8mb4 COLLATE {mysql_collation}"))
    }

    fn generated_id(&self, name: &str, ty: &str) -> String {
        format!("{name} {ty} NOT NULL AUTO_INCREMENT PRIMARY KEY")
    }

    fn default_expression(&self, literal: String, column_type: &str) -> String {
        // TEXT/JSON/BLOB defaults are expressions (required by MySQL 8, accepted by MariaDB).
        if matches!(column_type, "TEXT" | "MEDIUMTEXT" | "JSON" | "LONGBLOB") {
            format!("({literal})")
        } else {
            literal
        }
    }

    fn datetime(&self, d: &chrono::DateTime<chrono::Utc>) -> S {
        S::ChronoDateTime(Some(d.naive_utc()))
    }

    fn typed_null(&self, ty: FieldType, _native_arrays: bool) -> S {
        common_null(ty).unwrap_or(match ty {
            FieldType::DateTime => S::ChronoDateTime(None),
            FieldType::Date => S::ChronoDate(None),
            FieldType::Decimal => S::Decimal(None),
            FieldType::Json | FieldType::Array(_) => S::Json(None),
            _ => S::String(None),
        })
    }

    fn upsert_new_value(&self, column: &str) -> String {
        format!("VALUES({})", Dialect::MySql.quote(column))
    }

    fn upsert_existing_column(&self, _table: &str, column: &str) -> String {
        Dialect::MySql.quote(column)
    }

    fn upsert_returning(&self, _asked: bool) -> bool {
        false
    }

    fn change_type(&self, t: &str, _c: &str, field: &FieldDef, schema: &ModelSchema) -> Vec<String> {
        vec![format!("ALTER TABLE {t} MODIFY COLUMN {}", crate::ddl::column_definition(field, schema, Dialect::MySql))]
    }

    fn set_nullability(&self, t: &str, _c: &str, field: &FieldDef, schema: &ModelSchema) -> String {
        format!("ALTER TABLE {t} MODIFY COLUMN {}", crate::ddl::column_definition(field, schema, Dialect::MySql))
    }

    fn drop_index(&self, t: &str, name: &str) -> String {
        format!("DROP INDEX {name} ON {t}")
    }

    fn replace_primary_key(&self, t: &str, _pk: &str, cols: &str) -> String {
        format!("ALTER TABLE {t} DROP PRIMARY KEY, ADD PRIMARY KEY ({cols})")
    }

    fn type_matches(&self, field: &FieldDef, wanted: &str, live: &str) -> bool {
        let (w, l) = (canonical(wanted), canonical(live));
        // A String without max_len is TEXT, or VARCHAR(255) once indexed. Any VARCHAR holds
        // it; a TEXT column must become VARCHAR before it can be indexed.
        let texty = live.trim().to_ascii_lowercase().ends_with("text");
        w == l
            || (field.ty == FieldType::String
                && field.max_len.is_none()
                && (((w == "text" || w == "mediumtext") && (texty || l.starts_with("varchar")))
                    || (w.starts_with("varchar") && l.starts_with("varchar"))))
    }

    fn replica_lag_query(&self) -> &'static str {
        // MariaDB/MySQL report lag only through SHOW REPLICA STATUS (not a SELECT): unknown here.
        "SELECT CAST(NULL AS SIGNED)"
    }

    fn history_table(&self) -> &'static str {
        "CREATE TABLE IF NOT EXISTS dataflow_migrations (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
         version BIGINT NOT NULL, model VARCHAR(255) NOT NULL, table_name VARCHAR(255) NOT NULL, \
         checksum VARCHAR(32) NOT NULL, statements LONGTEXT NOT NULL, risk VARCHAR(16) NOT NULL, \
         applied_at VARCHAR(40) NOT NULL, duration_ms BIGINT NOT NULL, status VARCHAR(16) NOT NULL) \
         ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    }

    fn lock(&self) -> LockStatements {
        // GET_LOCK names are server-wide: one per database.
        LockStatements::Named {
            acquire: "SELECT GET_LOCK(LEFT(CONCAT('dataflow_migrate:', DATABASE()), 64), ?)",
            release: "SELECT RELEASE_LOCK(LEFT(CONCAT('dataflow_migrate:', DATABASE()), 64))",
        }
    }

    fn update_returning(&self) -> bool {
        false
    }

    fn array_push(&self, c: &str, _field: &FieldDef, _schema: &ModelSchema, items: &[Value]) -> (String, Vec<S>) {
        let arr = Value::Array(items.to_vec()).to_json().to_string();
        (format!("JSON_MERGE_PRESERVE(COALESCE({c}, JSON_ARRAY()), ?)"), vec![S::String(Some(arr))])
    }

    fn array_pull(&self, c: &str, field: &FieldDef, _schema: &ModelSchema, items: &[Value]) -> (String, Vec<S>) {
        let elem = match field.ty {
            FieldType::Array(e) => e,
            _ => ArrayElem::String,
        };
        let marks = vec!["?"; items.len()].join(", ");
        let coll = crate::ddl::MYSQL_COLLATION;
        const AGG: &str = "COALESCE(JSON_ARRAYAGG(j.e ORDER BY j.i), JSON_ARRAY())";
        let (ty, lhs, agg) = match elem {
            ArrayElem::String => ("TEXT", format!("j.e COLLATE {coll}"), AGG),
            ArrayElem::I64 => ("BIGINT", "j.e".to_owned(), AGG),
            ArrayElem::F64 => ("DOUBLE", "j.e".to_owned(), AGG),
            // MariaDB has no JSON boolean from SQL: build the array text.
            ArrayElem::Bool => (
                "BOOLEAN",
                "j.e".to_owned(),
                "CONCAT('[', COALESCE(GROUP_CONCAT(IF(j.e, 'true', 'false') ORDER BY j.i SEPARATOR ','), ''), ']')",
            ),
        };
        (
            format!(
                "(SELECT {agg} FROM JSON_TABLE({c}, '$[*]' COLUMNS(i FOR ORDINALITY, e {ty} PATH '$')) j WHERE {lhs} NOT IN ({marks}))"
            ),
            items.iter().map(|v| v.to_sea(FieldType::Array(elem), Dialect::MySql, false)).collect(),
        )
    }

    fn discover_type(&self, live: &str) -> Option<DiscoveredType> {
        let (t, base) = live_base(live);
        match base.as_str() {
            "char" if paren_num(&t) == Some(36) => DiscoveredType::of(FieldType::Uuid),
            "varchar" | "char" => {
                Some(DiscoveredType { ty: FieldType::String, max_len: paren_num(&t), native_array: false })
            }
            "text" | "tinytext" | "mediumtext" | "longtext" => DiscoveredType::of(FieldType::String),
            "tinyint" if paren_num(&t) == Some(1) => DiscoveredType::of(FieldType::Bool),
            "tinyint" | "smallint" | "mediumint" | "int" => DiscoveredType::of(FieldType::I32),
            "bigint" => DiscoveredType::of(FieldType::I64),
            "double" | "float" => DiscoveredType::of(FieldType::F64),
            "datetime" | "timestamp" => DiscoveredType::of(FieldType::DateTime),
            "date" => DiscoveredType::of(FieldType::Date),
            "decimal" => DiscoveredType::of(FieldType::Decimal),
            "json" => DiscoveredType::of(FieldType::Json),
            "blob" | "longblob" | "mediumblob" | "varbinary" | "binary" => DiscoveredType::of(FieldType::Bytes),
            _ => None,
        }
    }

    fn create_database(&self, quoted: &str) -> String {
        format!("CREATE DATABASE {quoted} CHARACTER SET utf8mb4")
    }

    fn otel_system(&self) -> &'static str {
        "mysql"
    }

    fn now_millis(&self) -> &'static str {
        "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"
    }

    fn bigint_cast(&self) -> &'static str {
        "SIGNED"
    }

    fn introspection(&self) -> IntrospectionQueries {
        IntrospectionQueries { tables: TABLES, columns: COLUMNS, indexes: INDEXES }
    }
}

const TABLES: &str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME";

const COLUMNS: &str = "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), \
       CAST(COLUMN_DEFAULT AS CHAR), CAST(COLUMN_KEY AS CHAR) \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
     ORDER BY ORDINAL_POSITION";

const INDEXES: &str = "SELECT CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), CAST(COLUMN_NAME AS CHAR) \
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
     ORDER BY INDEX_NAME, SEQ_IN_INDEX";

/// Strips the display width MySQL 5.7 / MariaDB print on integer types (`int(11)` -> `int`),
/// keeping `tinyint(1)` (the boolean type).
fn canonical(ty: &str) -> String {
    let t = ty.trim().to_ascii_lowercase();
    if t.starts_with("tinyint(1)") {
        return t;
    }
    for base in ["tinyint", "smallint", "mediumint", "bigint", "int"] {
        let rest = t.strip_prefix(base).and_then(|r| r.strip_prefix('('));
        if let Some(end) = rest.and_then(|r| r.find(')').map(|e| &r[e + 1..])) {
            return format!("{base}{end}");
        }
    }
    match t.as_str() {
        // MariaDB's JSON is an alias of LONGTEXT (with a json_valid CHECK).
        "longtext" => "json".into(),
        "boolean" | "bool" => "tinyint(1)".into(),
        _ => t,
    }
}
