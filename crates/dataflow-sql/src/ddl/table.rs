//! CREATE TABLE and ALTER TABLE .. ADD COLUMN.

use super::column::definition;
use super::index::{index_columns, wanted_indexes};
use super::{MysqlCollation, create_indexes};
use crate::stmt::quote;
use crate::{Dialect, FieldDef, ManagedField, ModelSchema};

/// `CREATE TABLE IF NOT EXISTS` with every user and managed column (types per docs/guide/models.md,
/// primary key, NOT NULL, DEFAULT literals, text collations), followed by the
/// `CREATE [UNIQUE] INDEX IF NOT EXISTS` statements of [`create_indexes`]. On MySQL/MariaDB the
/// indexes are declared inside the CREATE TABLE instead (`UNIQUE KEY` / `KEY`), which works on
/// MySQL 8 too, and the table is InnoDB with `utf8mb4`.
pub fn create_table(schema: &ModelSchema, dialect: Dialect) -> Vec<String> {
    create_table_with(schema, dialect, MysqlCollation::default())
}

/// [`create_table`] with an explicit MySQL text collation (ignored on other dialects).
pub fn create_table_with(schema: &ModelSchema, dialect: Dialect, collation: MysqlCollation) -> Vec<String> {
    let mut parts: Vec<String> =
        schema.all_fields().iter().map(|f| definition(f, schema, dialect, collation.name())).collect();
    if crate::tenant::tenant_keyed(schema, dialect) {
        // Ids are per tenant: tenant A may hold the id tenant B holds (docs/guide/multi-tenancy.md);
        // or, on MySQL with generated ids, the rows are kept in tenant order.
        parts.push(format!(
            "PRIMARY KEY ({}, {})",
            quote(dialect, ManagedField::TenantId.column()),
            quote(dialect, schema.id_field().map_or("id", |f| f.column()))
        ));
    }
    let table = quote(dialect, &schema.table);
    if dialect == Dialect::MySql {
        for ix in wanted_indexes(schema, dialect) {
            parts.push(format!(
                "{}KEY {} {}",
                if ix.unique { "UNIQUE " } else { "" },
                quote(dialect, ix.name.as_deref().unwrap_or_default()),
                index_columns(schema, &ix, dialect)
            ));
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {table} ({}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={}",
            parts.join(", "),
            collation.name()
        );
        return vec![sql];
    }
    let mut out = vec![format!("CREATE TABLE IF NOT EXISTS {table} ({})", parts.join(", "))];
    out.extend(create_indexes(schema, dialect));
    out
}

/// `ALTER TABLE t ADD COLUMN <definition>`. A NOT NULL column without a default cannot be added
/// to a table that has rows; the migration planner classifies that (MEDIUM risk, backfill).
pub fn add_column(schema: &ModelSchema, field: &FieldDef, dialect: Dialect) -> String {
    format!(
        "ALTER TABLE {} ADD COLUMN {}",
        quote(dialect, &schema.table),
        definition(field, schema, dialect, MysqlCollation::default().name())
    )
}
