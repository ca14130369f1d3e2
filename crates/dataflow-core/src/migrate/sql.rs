//! The ALTER statements the `ddl` module of dataflow-sql does not cover (rename, drop, change
//! type, nullability, SQLite rebuild). Identifiers are validated before they are quoted, so a
//! live column with an unusual name is refused rather than escaped.

use dataflow_sql::{Dialect, Error, ErrorCode, FieldDef, FieldType, ModelSchema, Result, ddl, naming};

use super::introspect::LiveTable;

/// A validated, quoted identifier.
pub(crate) fn ident(d: Dialect, name: &str) -> Result<String> {
    naming::validate_identifier(name, "identifier").map_err(|e| {
        Error::new(
            ErrorCode::INVALID_IDENTIFIER,
            format!("the live name `{name}` cannot be used in generated DDL: {}", e.message()),
        )
        .fix("rename it by hand, or leave it out of the model")
    })?;
    Ok(match d {
        Dialect::MySql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    })
}

/// The JSON zero value used to backfill a new NOT NULL column without a default.
pub(crate) fn zero_value(ty: FieldType) -> serde_json::Value {
    use serde_json::json;
    match ty {
        FieldType::String => json!(""),
        FieldType::I32 | FieldType::I64 => json!(0),
        FieldType::F64 => json!(0.0),
        FieldType::Bool => json!(false),
        FieldType::DateTime => json!("1970-01-01T00:00:00Z"),
        FieldType::Date => json!("1970-01-01"),
        FieldType::Uuid => json!("00000000-0000-0000-0000-000000000000"),
        FieldType::Decimal => json!("0"),
        FieldType::Json => json!({}),
        FieldType::Array(_) | FieldType::Bytes => json!([]),
    }
}

/// `ALTER TABLE t ADD COLUMN c ... NOT NULL DEFAULT <zero>`.
pub(crate) fn add_required_column(schema: &ModelSchema, field: &FieldDef, d: Dialect) -> String {
    let f = field.clone().with_default(zero_value(field.ty));
    ddl::add_column(schema, &f, d)
}

pub(crate) fn rename_column(schema: &ModelSchema, from: &str, to: &str, d: Dialect) -> Result<String> {
    Ok(format!("ALTER TABLE {} RENAME COLUMN {} TO {}", ident(d, &schema.table)?, ident(d, from)?, ident(d, to)?))
}

pub(crate) fn drop_column(table: &str, column: &str, d: Dialect) -> Result<String> {
    Ok(format!("ALTER TABLE {} DROP COLUMN {}", ident(d, table)?, ident(d, column)?))
}

pub(crate) fn drop_index(table: &str, name: &str, d: Dialect) -> Result<String> {
    Ok(match d {
        Dialect::MySql => format!("DROP INDEX {} ON {}", ident(d, name)?, ident(d, table)?),
        _ => format!("DROP INDEX {}", ident(d, name)?),
    })
}

/// PostgreSQL `ALTER COLUMN .. TYPE .. USING`, MySQL `MODIFY COLUMN <definition>`.
pub(crate) fn change_type(schema: &ModelSchema, field: &FieldDef, d: Dialect) -> Result<Vec<String>> {
    let t = ident(d, &schema.table)?;
    let c = ident(d, field.column())?;
    Ok(match d {
        Dialect::Postgres => {
            let ty = ddl::column_type(field, schema, d);
            let collate = if field.ty == FieldType::String { " COLLATE \"C\"" } else { "" };
            vec![format!("ALTER TABLE {t} ALTER COLUMN {c} TYPE {ty}{collate} USING {c}::{ty}")]
        }
        _ => vec![format!("ALTER TABLE {t} MODIFY COLUMN {}", ddl::column_definition(field, schema, d))],
    })
}

/// PostgreSQL `SET NOT NULL` / `DROP NOT NULL`, MySQL `MODIFY COLUMN <definition>`.
pub(crate) fn set_nullability(schema: &ModelSchema, field: &FieldDef, d: Dialect) -> Result<String> {
    let t = ident(d, &schema.table)?;
    let c = ident(d, field.column())?;
    Ok(match d {
        Dialect::Postgres if field.nullable => format!("ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL"),
        Dialect::Postgres => format!("ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL"),
        _ => format!("ALTER TABLE {t} MODIFY COLUMN {}", ddl::column_definition(field, schema, d)),
    })
}

/// SQLite table rebuild: create the model's table under a temporary name, copy the rows,
/// drop the old table, rename, recreate the indexes. Run inside one transaction.
pub(crate) fn sqlite_rebuild(schema: &ModelSchema, live: &LiveTable) -> Result<Vec<String>> {
    let d = Dialect::Sqlite;
    let tmp_name = format!("_df_rebuild_{}", schema.table);
    let mut tmp = schema.clone();
    tmp.table = tmp_name.clone();
    let create = ddl::create_table(&tmp, d)
        .into_iter()
        .find(|s| s.starts_with("CREATE TABLE"))
        .ok_or_else(|| Error::new(ErrorCode::MIGRATION_FAILED, "no CREATE TABLE statement for the rebuild"))?;
    let mut into = Vec::new();
    let mut from = Vec::new();
    for f in schema.all_fields() {
        let source = if live.column(f.column()).is_some() {
            Some(f.column().to_owned())
        } else {
            f.renamed_from.as_deref().filter(|old| live.column(old).is_some()).map(str::to_owned)
        };
        if let Some(src) = source {
            into.push(ident(d, f.column())?);
            from.push(ident(d, &src)?);
        }
    }
    let table = ident(d, &schema.table)?;
    let tmp_q = ident(d, &tmp_name)?;
    let mut out = vec![
        format!("DROP TABLE IF EXISTS {tmp_q}"),
        create,
        format!("INSERT INTO {tmp_q} ({}) SELECT {} FROM {table}", into.join(", "), from.join(", ")),
        format!("DROP TABLE {table}"),
        format!("ALTER TABLE {tmp_q} RENAME TO {table}"),
    ];
    out.extend(ddl::create_indexes(schema, d));
    Ok(out)
}
