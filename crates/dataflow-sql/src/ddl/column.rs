//! Column types and column definitions.

use sea_query::{MysqlQueryBuilder, PostgresQueryBuilder, QueryBuilder, SqliteQueryBuilder};

use crate::schema::ArrayElem;
use crate::stmt::quote;
use crate::value::Value;
use crate::{Dialect, FieldDef, FieldType, ModelSchema};

/// Whether a string field is indexed (its own `unique`/`index` flag, a model index or the
/// primary key): MySQL must then use VARCHAR, which can be indexed without a prefix.
fn is_indexed(field: &FieldDef, schema: &ModelSchema) -> bool {
    field.unique || field.index || field.name == "id" || schema.indexes.iter().any(|ix| ix.fields.contains(&field.name))
}

/// The SQL type of a column on a dialect (docs/guide/models.md), without nullability, key or collation:
/// e.g. `TEXT`, `VARCHAR(255)`, `TIMESTAMPTZ`, `DATETIME(6)`.
pub fn column_type(field: &FieldDef, schema: &ModelSchema, dialect: Dialect) -> String {
    use Dialect::*;
    let native = schema.options.native_arrays && dialect == Postgres;
    let s = match (field.ty, dialect) {
        (FieldType::String, Postgres) => return field.max_len.map_or("TEXT".into(), |n| format!("VARCHAR({n})")),
        (FieldType::String, MySql) => {
            return match field.max_len {
                Some(n) => format!("VARCHAR({n})"),
                None if is_indexed(field, schema) => "VARCHAR(255)".into(),
                None => "TEXT".into(),
            };
        }
        (FieldType::String, Sqlite) => "TEXT",
        (FieldType::I32, Postgres | Sqlite) => "INTEGER",
        (FieldType::I32, MySql) => "INT",
        (FieldType::I64, Postgres | MySql) => "BIGINT",
        (FieldType::I64, Sqlite) => "INTEGER",
        (FieldType::F64, Postgres) => "DOUBLE PRECISION",
        (FieldType::F64, MySql) => "DOUBLE",
        (FieldType::F64, Sqlite) => "REAL",
        (FieldType::Bool, Postgres) => "BOOLEAN",
        (FieldType::Bool, MySql) => "TINYINT(1)",
        (FieldType::Bool, Sqlite) => "INTEGER",
        (FieldType::DateTime, Postgres) => "TIMESTAMPTZ",
        (FieldType::DateTime, MySql) => "DATETIME(6)",
        (FieldType::DateTime, Sqlite) => "TEXT",
        (FieldType::Date, Postgres | MySql) => "DATE",
        (FieldType::Date, Sqlite) => "TEXT",
        (FieldType::Uuid, Postgres) => "UUID",
        (FieldType::Uuid, MySql) => "CHAR(36)",
        (FieldType::Uuid, Sqlite) => "TEXT",
        (FieldType::Decimal, Postgres) => "NUMERIC",
        (FieldType::Decimal, MySql) => "DECIMAL(38,10)",
        (FieldType::Decimal, Sqlite) => "TEXT",
        (FieldType::Json, Postgres) => "JSONB",
        (FieldType::Json, MySql) => "JSON",
        (FieldType::Json, Sqlite) => "TEXT",
        (FieldType::Array(e), Postgres) if native => match e {
            ArrayElem::String => "TEXT[]",
            ArrayElem::I64 => "BIGINT[]",
            ArrayElem::F64 => "DOUBLE PRECISION[]",
            ArrayElem::Bool => "BOOLEAN[]",
        },
        (FieldType::Array(_), Postgres) => "JSONB",
        (FieldType::Array(_), MySql) => "JSON",
        (FieldType::Array(_), Sqlite) => "TEXT",
        (FieldType::Bytes, Postgres) => "BYTEA",
        (FieldType::Bytes, MySql) => "LONGBLOB",
        (FieldType::Bytes, Sqlite) => "BLOB",
    };
    s.to_owned()
}

/// Whether the column holds text compared by collation (strings, and UUIDs on MySQL).
fn is_text(field: &FieldDef, dialect: Dialect) -> bool {
    match field.ty {
        FieldType::String => true,
        FieldType::Uuid => dialect == Dialect::MySql,
        _ => false,
    }
}

/// The `DEFAULT` literal of a field's validated default, or `None` when it has none (or the
/// default does not fit the field, which `ModelSchema::validate` rejects). Numbers and booleans
/// are literals, everything else is quoted by sea-query's escaping; MySQL TEXT/JSON/BLOB
/// defaults are parenthesised expressions (required by MySQL 8, accepted by MariaDB).
pub fn default_literal(field: &FieldDef, schema: &ModelSchema, dialect: Dialect) -> Option<String> {
    let json = field.default.as_ref()?;
    let v = Value::from_json(json, field).ok()?;
    let native = schema.options.native_arrays && dialect == Dialect::Postgres;
    let lit = match (&v, dialect) {
        (Value::Null, _) => "NULL".to_owned(),
        (Value::Bool(b), Dialect::Sqlite) => i32::from(*b).to_string(),
        (Value::Bool(b), _) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        (Value::I32(i), _) => i.to_string(),
        (Value::I64(i), _) => i.to_string(),
        (Value::F64(f), _) => format!("{f:?}"),
        (Value::Array(_), Dialect::Postgres) if native => {
            let text = format!(
                "{}::{}",
                render(&v.to_sea(field.ty, dialect, true), dialect),
                column_type(field, schema, dialect)
            );
            return Some(text);
        }
        _ => render(&v.to_sea(field.ty, dialect, native), dialect),
    };
    let blob_like = matches!(column_type(field, schema, dialect).as_str(), "TEXT" | "JSON" | "LONGBLOB");
    Some(if dialect == Dialect::MySql && blob_like { format!("({lit})") } else { lit })
}

fn render(v: &sea_query::Value, dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => PostgresQueryBuilder.value_to_string(v),
        Dialect::MySql => MysqlQueryBuilder.value_to_string(v),
        Dialect::Sqlite => SqliteQueryBuilder.value_to_string(v),
    }
}

/// Whether `id` is generated by the database (integer keys).
pub(crate) fn generated_id(field: &FieldDef) -> bool {
    field.name == "id" && matches!(field.ty, FieldType::I32 | FieldType::I64)
}

/// One column definition as in CREATE TABLE / ADD COLUMN: name, type, collation, key,
/// NOT NULL and DEFAULT. `collation` is the MySQL text collation.
pub fn column_definition(field: &FieldDef, schema: &ModelSchema, dialect: Dialect) -> String {
    definition(field, schema, dialect, super::MYSQL_COLLATION)
}

pub(crate) fn definition(field: &FieldDef, schema: &ModelSchema, dialect: Dialect, collation: &str) -> String {
    let name = quote(dialect, field.column());
    let ty = column_type(field, schema, dialect);
    let is_id = field.name == "id";
    if is_id && generated_id(field) {
        return match dialect {
            Dialect::Postgres => format!("{name} {ty} GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
            Dialect::MySql => format!("{name} {ty} NOT NULL AUTO_INCREMENT PRIMARY KEY"),
            Dialect::Sqlite => format!("{name} INTEGER PRIMARY KEY AUTOINCREMENT"),
        };
    }
    let mut out = format!("{name} {ty}");
    if is_text(field, dialect) {
        match dialect {
            Dialect::Postgres => out.push_str(" COLLATE \"C\""),
            Dialect::MySql => {
                out.push_str(" CHARACTER SET utf8mb4 COLLATE ");
                out.push_str(collation);
            }
            Dialect::Sqlite => {}
        }
    }
    if is_id {
        out.push_str(" NOT NULL PRIMARY KEY");
        return out;
    }
    if !field.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(d) = default_literal(field, schema, dialect) {
        out.push_str(" DEFAULT ");
        out.push_str(&d);
    }
    out
}
