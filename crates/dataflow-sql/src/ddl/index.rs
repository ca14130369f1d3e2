//! Index names and CREATE INDEX statements.

use crate::schema::{IndexDef, ManagedField};
use crate::stmt::quote;
use crate::{Dialect, ModelSchema};

/// The longest identifier every dialect accepts.
const MAX_NAME: usize = 63;

/// FNV-1a, for a short stable suffix when a derived name is too long.
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The derived index name `idx_<table>_<cols>` / `uq_<table>_<cols>` (column names joined by
/// `_`). Names over 63 bytes are cut to 54 bytes plus `_` and 8 hex digits of a hash of the
/// full name, so distinct indexes keep distinct names on every dialect (PostgreSQL would
/// silently truncate, and `IF NOT EXISTS` would then skip the second index).
pub fn index_name(schema: &ModelSchema, fields: &[String], unique: bool) -> String {
    let cols: Vec<String> =
        fields.iter().map(|f| schema.any_field(f).map_or_else(|| f.clone(), |d| d.column().to_owned())).collect();
    let full = format!("{}_{}_{}", if unique { "uq" } else { "idx" }, schema.table, cols.join("_"));
    if full.len() <= MAX_NAME {
        return full;
    }
    format!("{}_{:08x}", &full[..54], fnv1a(&full))
}

/// Every index the model wants on `dialect`, in a stable order: field `unique` flags, field
/// `index` flags, the managed tenant index (multi-tenant models: `(tenant_id, id)`, or
/// `(tenant_id)` when the primary key is already `(tenant_id, id)`; on MySQL/MariaDB with
/// generated ids the key is `(tenant_id, id)` and the managed index is `UNIQUE (id)`, see
/// [`crate::tenant::tenant_keyed`]), then `schema.indexes`. The primary key is not listed. Each
/// has its final name; duplicates by name are dropped.
///
/// On multi-tenant models every unique index is per tenant: `tenant_id` is prepended to its
/// fields (`UNIQUE (tenant_id, email)`), so one tenant's data never collides with, or reveals,
/// another's; upserts use the same target (see [`crate::stmt::upsert`]).
pub fn wanted_indexes(schema: &ModelSchema, dialect: Dialect) -> Vec<IndexDef> {
    let mut out: Vec<IndexDef> = Vec::new();
    let tenant = schema.options.multi_tenant;
    // `per_tenant`: a unique index of a multi-tenant model gets `tenant_id` prepended.
    let mut push = |mut fields: Vec<String>, unique: bool, name: Option<String>, per_tenant: bool| {
        if unique && tenant && per_tenant && !fields.iter().any(|f| f == "tenant_id") {
            fields.insert(0, "tenant_id".to_owned());
        }
        let name = name.unwrap_or_else(|| index_name(schema, &fields, unique));
        if !out.iter().any(|i| i.name.as_deref() == Some(name.as_str())) {
            out.push(IndexDef { name: Some(name), fields, unique });
        }
    };
    for f in schema.fields.iter().filter(|f| f.name != "id") {
        if f.unique {
            push(vec![f.name.clone()], true, None, true);
        } else if f.index {
            push(vec![f.name.clone()], false, None, true);
        }
    }
    for m in schema.managed_fields() {
        if m == ManagedField::TenantId && crate::tenant::clustered_generated(schema, dialect) {
            // The primary key `(tenant_id, id)` orders the rows by tenant; ids stay table-wide
            // (one AUTO_INCREMENT, which needs an index led by `id`). Not per tenant, so pushed
            // as is (no `tenant_id` prepended).
            push(vec!["id".to_owned()], true, None, false);
        } else if m == ManagedField::TenantId
            && !crate::tenant::tenant_primary_key(schema)
            && schema.id_field().is_some()
        {
            // Ids are table-wide here (the key is `id`): `(tenant_id, id)` serves both the
            // scoped by-id statements (`id = ? AND tenant_id = ?`) and `ORDER BY id` within a
            // tenant, where an index on `tenant_id` alone makes PostgreSQL filter or sort every
            // row of the tenant. With the `(tenant_id, id)` primary key the key itself does it.
            push(vec![m.column().to_owned(), "id".to_owned()], false, None, true);
        } else if m.def().index {
            push(vec![m.column().to_owned()], false, None, true);
        }
    }
    for ix in &schema.indexes {
        push(ix.fields.clone(), ix.unique, ix.name.clone(), true);
    }
    out
}

/// The column list `("a", "b")` of an index.
pub(crate) fn index_columns(schema: &ModelSchema, ix: &IndexDef, dialect: Dialect) -> String {
    let cols: Vec<String> =
        ix.fields.iter().filter_map(|f| schema.any_field(f)).map(|f| quote(dialect, f.column())).collect();
    format!("({})", cols.join(", "))
}

/// `CREATE [UNIQUE] INDEX IF NOT EXISTS "name" ON "table" ("cols")` for every
/// [`wanted_indexes`] entry. (MariaDB supports `IF NOT EXISTS` here; MySQL 8 does not, which is
/// why [`super::create_table`] declares MySQL indexes inside the CREATE TABLE.)
pub fn create_indexes(schema: &ModelSchema, dialect: Dialect) -> Vec<String> {
    wanted_indexes(schema, dialect)
        .iter()
        .map(|ix| {
            format!(
                "CREATE {}INDEX IF NOT EXISTS {} ON {} {}",
                if ix.unique { "UNIQUE " } else { "" },
                quote(dialect, ix.name.as_deref().unwrap_or_default()),
                quote(dialect, &schema.table),
                index_columns(schema, ix, dialect)
            )
        })
        .collect()
}
