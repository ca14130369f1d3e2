//! Diff a model against its live table into ordered plan steps (pure: no I/O). Row counts are
//! filled in afterwards by `probe`.

use dataflow_sql::ddl::alter as sql;
use dataflow_sql::dialect::ColumnChange;
use dataflow_sql::mysql_server::MySqlServer;
use dataflow_sql::{Dialect, FieldDef, ModelSchema, Result, ddl};

use super::introspect::LiveTable;
use super::plan::{Risk, Step, StepKind};

pub(crate) use dataflow_sql::stmt::probe::Probe;

fn step(kind: StepKind, risk: Risk, required: bool, description: String, sql: Vec<String>) -> Step {
    Step { kind, risk, description, sql, affected_rows: None, required }
}

/// [`diff_for`] on MariaDB's rules (the unit tests' entry point).
#[cfg(test)]
pub(crate) fn diff(schema: &ModelSchema, d: Dialect, live: Option<&LiveTable>) -> Result<Vec<(Step, Option<Probe>)>> {
    diff_for(schema, d, MySqlServer::MariaDb, live)
}

/// The steps that turn `live` into the model's table, with their probes. `server` picks
/// MariaDB's or MySQL 8's DDL on [`Dialect::MySql`].
pub(crate) fn diff_for(
    schema: &ModelSchema,
    d: Dialect,
    server: MySqlServer,
    live: Option<&LiveTable>,
) -> Result<Vec<(Step, Option<Probe>)>> {
    let b = d.backend();
    let Some(live) = live else {
        let s = step(
            StepKind::CreateTable,
            Risk::Low,
            true,
            format!("create table `{}` with its indexes", schema.table),
            b.create_table_on(schema, server),
        );
        return Ok(vec![(s, None)]);
    };
    let table = &schema.table;
    let mut out: Vec<(Step, Option<Probe>)> = Vec::new();
    // Changes SQLite cannot make in place, folded into one rebuild.
    let mut rebuild: Vec<(StepKind, Risk, bool, String, Option<Probe>)> = Vec::new();
    let wanted = schema.all_fields();
    let is_wanted = |col: &str| wanted.iter().any(|f| f.column().eq_ignore_ascii_case(col));

    for f in &wanted {
        let col = f.column();
        let Some(lc) = live.column(col) else {
            if let Some(old) = f.renamed_from.as_deref().filter(|o| live.column(o).is_some() && !is_wanted(o)) {
                let s = step(
                    StepKind::RenameColumn { from: old.into(), to: col.into() },
                    Risk::Medium,
                    true,
                    format!("rename column `{old}` of `{table}` to `{col}` (declared with `renamed_from`)"),
                    vec![sql::rename_column(schema, old, col, d)?],
                );
                out.push((s, None));
                continue;
            }
            if f.nullable || f.default.is_some() {
                let what = if f.nullable { "nullable column" } else { "column with a default" };
                let s = step(
                    StepKind::AddColumn { column: col.into() },
                    Risk::Low,
                    true,
                    format!("add {what} `{col}` to `{table}`"),
                    vec![b.add_column_on(schema, f, server)],
                );
                out.push((s, None));
            } else {
                let s = step(
                    StepKind::AddRequiredColumn { column: col.into() },
                    Risk::Medium,
                    true,
                    format!(
                        "add NOT NULL column `{col}` without a default to `{table}`; existing rows are backfilled with {}",
                        sql::zero_value(f.ty)
                    ),
                    vec![sql::add_required_column(schema, f, d)],
                );
                out.push((s, Some(Probe::Rows)));
            }
            continue;
        };
        if f.name == "id" {
            continue;
        }
        if !sql::type_matches(f, schema, d, &lc.data_type) {
            let to = ddl::column_type(f, schema, d);
            let kind = StepKind::ChangeType { column: col.into(), from: lc.data_type.clone(), to: to.clone() };
            let desc = format!("change the type of `{table}.{col}` from {} to {to}", lc.data_type);
            // MySQL: a TEXT column becomes VARCHAR(n) once indexed; safe when no value is longer.
            if let Some(n) = b.text_to_varchar(&lc.data_type, &to) {
                let probe = Some(Probe::LongerThan(col.into(), n));
                let sql = b.alter_column_on(schema, f, ColumnChange::Type, server)?;
                out.push((step(kind, Risk::High, true, desc, sql), probe));
                continue;
            }
            if !b.alters_in_place() {
                rebuild.push((kind, Risk::High, true, desc, Some(Probe::NonNull(col.into()))));
            } else {
                let sql = b.alter_column_on(schema, f, ColumnChange::Type, server)?;
                out.push((step(kind, Risk::High, true, desc, sql), Some(Probe::NonNull(col.into()))));
            }
            continue;
        }
        if lc.nullable != f.nullable {
            let (kind, risk, desc, probe) = if f.nullable {
                (
                    StepKind::DropNotNull { column: col.into() },
                    Risk::Low,
                    format!("allow NULL in `{table}.{col}`"),
                    None,
                )
            } else {
                (
                    StepKind::SetNotNull { column: col.into() },
                    Risk::Medium,
                    format!("make `{table}.{col}` NOT NULL"),
                    Some(Probe::Nulls(col.into())),
                )
            };
            if b.alters_in_place() {
                let sql = b.alter_column_on(schema, f, ColumnChange::Nullability, server)?;
                out.push((step(kind, risk, true, desc, sql), probe));
            } else {
                rebuild.push((kind, risk, true, desc, probe));
            }
        }
    }

    for lc in live.columns.iter().filter(|c| !is_wanted(&c.name)) {
        let renamed = wanted.iter().any(|f| {
            f.renamed_from.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(&lc.name))
                && live.column(f.column()).is_none()
        });
        if renamed {
            continue;
        }
        // The model can still insert when the column is nullable or has a default.
        let required = !lc.nullable && lc.default.is_none();
        let desc = format!("drop column `{table}.{}` (the model no longer declares it)", lc.name);
        let kind = StepKind::DropColumn { column: lc.name.clone() };
        if !b.alters_in_place() {
            rebuild.push((kind, Risk::High, required, desc, Some(Probe::NonNull(lc.name.clone()))));
        } else {
            let s = step(kind, Risk::High, required, desc, vec![sql::drop_column(table, &lc.name, d)?]);
            out.push((s, Some(Probe::NonNull(lc.name.clone()))));
        }
    }

    // Multi-tenant models with chosen ids: the key is `(tenant_id, id)` (dataflow_sql::tenant).
    let pk_is_id = live_key_is_id(live);
    if dataflow_sql::tenant::tenant_primary_key(schema) && pk_is_id {
        let desc = format!("make the primary key of `{table}` (tenant_id, id): ids become per tenant");
        if !b.alters_in_place() {
            rebuild.push((StepKind::TenantPrimaryKey, Risk::Medium, true, desc, None));
        } else {
            let pk =
                live.indexes.iter().find(|i| i.primary).map_or_else(|| format!("{table}_pkey"), |i| i.name.clone());
            let sql = sql::tenant_primary_key(schema, &pk, d)?;
            out.push((step(StepKind::TenantPrimaryKey, Risk::Medium, true, desc, vec![sql]), None));
        }
    }

    if !rebuild.is_empty() {
        let risk = rebuild.iter().map(|r| r.1).max().unwrap_or(Risk::Low);
        let required = rebuild.iter().any(|r| r.2);
        let desc = format!(
            "rebuild table `{table}` (copy, swap, in one transaction) to: {}",
            rebuild.iter().map(|r| r.3.as_str()).collect::<Vec<_>>().join("; ")
        );
        let probe = rebuild.iter().find_map(|r| r.4.clone());
        let kind = StepKind::RebuildTable { changes: rebuild.into_iter().map(|r| r.0).collect() };
        out.push((step(kind, risk, required, desc, sql::sqlite_rebuild(schema, |c| live.column(c).is_some())?), probe));
        // The rebuild recreates every wanted index.
        return Ok(out);
    }

    index_steps(schema, d, server, live, &mut out)?;
    // MySQL/MariaDB, generated ids: the key `(tenant_id, id)` only orders the rows by tenant
    // (`dataflow_sql::tenant::tenant_keyed`). Optional (a table rebuild that changes no
    // result). It adds the managed `UNIQUE (id)` index too (AUTO_INCREMENT needs an index led
    // by `id` once the key `id` goes); until then the key `id` stands for that index.
    if dataflow_sql::tenant::clustered_generated(schema, d) && pk_is_id {
        let desc = format!(
            "make the primary key of `{table}` (tenant_id, id): each tenant's rows stored together, so a scoped list reads one range (ids stay table-wide)"
        );
        let sql = sql::cluster_by_tenant(schema)?;
        out.push((step(StepKind::TenantPrimaryKey, Risk::Medium, false, desc, vec![sql]), None));
    }
    Ok(out)
}

/// Whether the live table's primary key is `id` alone.
fn live_key_is_id(live: &LiveTable) -> bool {
    let mut pk = live.columns.iter().filter(|c| c.primary_key);
    matches!((pk.next(), pk.next()), (Some(c), None) if c.name.eq_ignore_ascii_case("id"))
}

fn index_steps(
    schema: &ModelSchema,
    d: Dialect,
    server: MySqlServer,
    live: &LiveTable,
    out: &mut Vec<(Step, Option<Probe>)>,
) -> Result<()> {
    let table = &schema.table;
    let key_is_id = live_key_is_id(live);
    let col_of =
        |f: &str| schema.any_field(f).map(|fd: FieldDef| fd.column().to_owned()).unwrap_or_else(|| f.to_owned());
    let same =
        |a: &[String], b: &[String]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y));
    let wanted = ddl::wanted_indexes(schema, d);
    // Only indexes introspection does not find are created, so MySQL 8 (no `IF NOT EXISTS` on
    // CREATE INDEX) gets plain statements.
    let create = d.backend().create_indexes_on(schema, server);
    let mut matched: Vec<&str> = Vec::new();
    for (ix, create_sql) in wanted.iter().zip(create) {
        let cols: Vec<String> = ix.fields.iter().map(|f| col_of(f)).collect();
        let found = live.indexes.iter().find(|l| !l.primary && same(&l.columns, &cols) && (l.unique || !ix.unique));
        if let Some(l) = found {
            matched.push(&l.name);
            continue;
        }
        // MySQL, generated ids, table still keyed by `id`: the key is that unique index
        // (the optional step that moves the key adds it).
        if ix.unique && same(&cols, &["id".to_owned()]) && key_is_id {
            continue;
        }
        // A unique single-column index on the primary key is the primary key itself.
        let name = ix.name.clone().unwrap_or_default();
        // Columns added by this plan (`tenant_id` when `multi_tenant` is turned on) hold one
        // value in every row: duplicates are counted on the live columns alone.
        let live_cols: Vec<String> = cols.iter().filter(|c| live.column(c).is_some()).cloned().collect();
        let (risk, probe, what) = if ix.unique {
            (Risk::Medium, (!live_cols.is_empty()).then_some(Probe::Duplicates(live_cols)), "unique index")
        } else {
            (Risk::Low, None, "index")
        };
        let s = step(
            StepKind::AddIndex { name: name.clone(), unique: ix.unique },
            risk,
            true,
            format!("create {what} `{name}` on `{table}` ({})", cols.join(", ")),
            vec![create_sql],
        );
        out.push((s, probe));
    }
    for l in live.indexes.iter().filter(|l| !l.primary && !matched.contains(&l.name.as_str())) {
        // SQLite's automatic indexes back inline UNIQUE constraints and cannot be dropped.
        if l.name.starts_with("sqlite_autoindex_") {
            continue;
        }
        // The managed tenant index used to be `(tenant_id)`; `(tenant_id, id)` replaces it where
        // the primary key is `id` alone.
        let legacy_tenant = schema.options.multi_tenant && l.columns.len() == 1 && l.columns[0] == "tenant_id";
        // MySQL, generated ids: the managed `(tenant_id)` / `(tenant_id, id)` index of earlier
        // versions serves until the key becomes `(tenant_id, id)` (the optional step in
        // `diff_for`); then that key replaces it.
        let replaced_by_key = dataflow_sql::tenant::clustered_generated(schema, d)
            && (legacy_tenant
                || (l.columns.len() == 2
                    && l.columns[0].eq_ignore_ascii_case("tenant_id")
                    && l.columns[1].eq_ignore_ascii_case("id")));
        if replaced_by_key && key_is_id {
            continue;
        }
        let why = if replaced_by_key {
            "replaced by the primary key `(tenant_id, id)`"
        } else if legacy_tenant {
            "replaced by the managed `(tenant_id, id)` index"
        } else {
            "the model no longer declares it"
        };
        let s = step(
            StepKind::DropIndex { name: l.name.clone() },
            Risk::Medium,
            false,
            format!("drop index `{}` on `{table}` ({why})", l.name),
            vec![sql::drop_index(table, &l.name, d)?],
        );
        out.push((s, None));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
