//! The ALTER statements migrations need beyond CREATE TABLE / ADD COLUMN / CREATE INDEX:
//! rename, drop, change type, nullability, and the SQLite table rebuild. Identifiers may come
//! from a live database, so each is validated before it is quoted: an unusual live name is
//! refused (DF-601), never escaped.

use crate::naming;
use crate::{Dialect, Error, ErrorCode, FieldDef, FieldType, ModelSchema, Result};

/// A validated identifier, quoted for `d` ([`Dialect::quote`]).
pub fn ident(d: Dialect, name: &str) -> Result<String> {
    naming::validate_identifier(name, "identifier").map_err(|e| {
        Error::new(
            ErrorCode::INVALID_IDENTIFIER,
            format!("the live name `{name}` cannot be used in generated DDL: {}", e.message()),
        )
        .fix("rename it by hand, or leave it out of the model")
    })?;
    Ok(d.quote(name))
}

/// The JSON zero value used to backfill a new NOT NULL column without a default.
pub fn zero_value(ty: FieldType) -> serde_json::Value {
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
pub fn add_required_column(schema: &ModelSchema, field: &FieldDef, d: Dialect) -> String {
    let f = field.clone().with_default(zero_value(field.ty));
    super::add_column(schema, &f, d)
}

/// `ALTER TABLE t RENAME COLUMN from TO to`.
pub fn rename_column(schema: &ModelSchema, from: &str, to: &str, d: Dialect) -> Result<String> {
    Ok(format!("ALTER TABLE {} RENAME COLUMN {} TO {}", ident(d, &schema.table)?, ident(d, from)?, ident(d, to)?))
}

/// `ALTER TABLE t DROP COLUMN c`.
pub fn drop_column(table: &str, column: &str, d: Dialect) -> Result<String> {
    Ok(format!("ALTER TABLE {} DROP COLUMN {}", ident(d, table)?, ident(d, column)?))
}

/// `DROP INDEX` (MySQL: `.. ON t`).
pub fn drop_index(table: &str, name: &str, d: Dialect) -> Result<String> {
    Ok(d.backend().drop_index(&ident(d, table)?, &ident(d, name)?))
}

/// Moves the primary key of a multi-tenant model's table from `id` to `(tenant_id, id)`
/// (PostgreSQL, MySQL; SQLite rebuilds the table). `live_pk` is the live key's constraint name.
pub fn tenant_primary_key(schema: &ModelSchema, live_pk: &str, d: Dialect) -> Result<String> {
    let cols = format!("{}, {}", ident(d, crate::ManagedField::TenantId.column())?, ident(d, "id")?);
    Ok(d.backend().replace_primary_key(&ident(d, &schema.table)?, &ident(d, live_pk)?, &cols))
}

/// MySQL/MariaDB, multi-tenant model with generated integer ids on a table keyed by `id`: one
/// `ALTER TABLE` that adds the managed `UNIQUE (id)` index (AUTO_INCREMENT needs an index led by
/// `id`) and makes the primary key `(tenant_id, id)` (see [`crate::tenant::tenant_keyed`]).
pub fn cluster_by_tenant(schema: &ModelSchema) -> Result<String> {
    let d = Dialect::MySql;
    let uq = super::index_name(schema, &["id".to_owned()], true);
    Ok(format!(
        "ALTER TABLE {} ADD UNIQUE KEY {} ({}), DROP PRIMARY KEY, ADD PRIMARY KEY ({}, {})",
        ident(d, &schema.table)?,
        ident(d, &uq)?,
        ident(d, "id")?,
        ident(d, crate::ManagedField::TenantId.column())?,
        ident(d, "id")?
    ))
}

/// Changes a column's type to the model's (PostgreSQL `ALTER COLUMN .. TYPE .. USING`, MySQL
/// `MODIFY COLUMN <definition>`).
pub fn change_type(schema: &ModelSchema, field: &FieldDef, d: Dialect) -> Result<Vec<String>> {
    Ok(d.backend().change_type(&ident(d, &schema.table)?, &ident(d, field.column())?, field, schema))
}

/// Makes a column's nullability the model's (PostgreSQL `SET/DROP NOT NULL`, MySQL `MODIFY COLUMN`).
pub fn set_nullability(schema: &ModelSchema, field: &FieldDef, d: Dialect) -> Result<String> {
    Ok(d.backend().set_nullability(&ident(d, &schema.table)?, &ident(d, field.column())?, field, schema))
}

/// SQLite table rebuild: create the model's table under a temporary name, copy the rows, drop
/// the old table, rename, recreate the indexes. Run inside one transaction. `live_has` says
/// whether the live table has a column (the copy takes a renamed field from its old column).
pub fn sqlite_rebuild(schema: &ModelSchema, live_has: impl Fn(&str) -> bool) -> Result<Vec<String>> {
    let d = Dialect::Sqlite;
    let tmp_name = format!("_df_rebuild_{}", schema.table);
    let mut tmp = schema.clone();
    tmp.table = tmp_name.clone();
    let create = super::create_table(&tmp, d)
        .into_iter()
        .find(|s| s.starts_with("CREATE TABLE"))
        .ok_or_else(|| Error::new(ErrorCode::MIGRATION_FAILED, "no CREATE TABLE statement for the rebuild"))?;
    let mut into = Vec::new();
    let mut from = Vec::new();
    for f in schema.all_fields() {
        let source = if live_has(f.column()) {
            Some(f.column().to_owned())
        } else {
            f.renamed_from.as_deref().filter(|old| live_has(old)).map(str::to_owned)
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
    out.extend(super::create_indexes(schema, d));
    Ok(out)
}

/// Whether the live type `live` satisfies the type the model wants for `field`.
pub fn type_matches(field: &FieldDef, schema: &ModelSchema, d: Dialect, live: &str) -> bool {
    d.backend().type_matches(field, &super::column_type(field, schema, d), live)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::sqlite_affinity;

    #[test]
    fn live_types_are_normalised() {
        let s = ModelSchema::new("T", vec![FieldDef::new("id", FieldType::I64)]);
        let n = FieldDef::new("n", FieldType::I32);
        assert!(type_matches(&n, &s, Dialect::MySql, "int(11)"));
        assert!(type_matches(&n, &s, Dialect::Postgres, "integer"));
        assert!(type_matches(&n, &s, Dialect::Sqlite, "int"));
        assert!(!type_matches(&n, &s, Dialect::Postgres, "text"));
        let b = FieldDef::new("b", FieldType::Bool);
        assert!(type_matches(&b, &s, Dialect::MySql, "tinyint(1)"));
        assert!(!type_matches(&b, &s, Dialect::MySql, "tinyint(4)"));
        let t = FieldDef::new("t", FieldType::DateTime);
        assert!(type_matches(&t, &s, Dialect::Postgres, "timestamp with time zone"));
        let j = FieldDef::new("j", FieldType::Json);
        assert!(type_matches(&j, &s, Dialect::MySql, "longtext"));
        let v = FieldDef::new("v", FieldType::String).max_len(50);
        assert!(type_matches(&v, &s, Dialect::Postgres, "character varying(50)"));
        assert!(type_matches(&v, &s, Dialect::Sqlite, "varchar(50)"));
        assert_eq!(sqlite_affinity("DOUBLE PRECISION"), "real");
    }

    #[test]
    fn live_names_are_validated_then_quoted() {
        assert_eq!(ident(Dialect::MySql, "users").unwrap(), "`users`");
        assert_eq!(ident(Dialect::Postgres, "users").unwrap(), "\"users\"");
        assert_eq!(ident(Dialect::Sqlite, "a\"b").unwrap_err().code(), ErrorCode::INVALID_IDENTIFIER);
    }
}
