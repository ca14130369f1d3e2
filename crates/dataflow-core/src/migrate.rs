//! Safe auto-migrations (docs/guide/migrations.md): introspect the live table, diff it against the model
//! into a [`Plan`] of steps with risk levels and SQL, apply only LOW steps automatically (under
//! a cross-process lock, recorded in `dataflow_migrations`), report everything else as DF-301,
//! verify without DDL in `existing_schema_mode` (DF-304), and discover existing tables as
//! dynamic models.
//!
//! `ensure_table` stays the entry point the registry calls; `DataFlow::ensure_schema` adds the
//! schema cache and the instance's modes around it.

mod api;
pub mod apply;
mod diff;
pub mod discover;
pub mod history;
pub mod introspect;
mod lock;
pub mod plan;
mod probe;
mod verify;

use dataflow_sql::{Dialect, ModelSchema, Result};

use self::apply::Accept;
use crate::db::pool::{Conn, PoolConn};
use dataflow_sql::stmt::probe::Probe;

pub use self::api::MigrationReport;
pub use self::apply::Applied;
pub use self::discover::{Discovery, render_rust};
pub use self::history::HistoryEntry;
pub use self::lock::{DEFAULT_LOCK_TIMEOUT, MigrationLock};
pub use self::plan::{Plan, Risk, Step, StepKind};

/// Introspects the model's table and diffs it into a plan (with row counts where cheap).
pub(crate) async fn plan_for(conn: &mut Conn<'_>, schema: &ModelSchema) -> Result<Plan> {
    let live = introspect::table(conn, &schema.table).await?;
    plan_against(conn, schema, live.as_ref()).await
}

pub(crate) async fn plan_against(
    conn: &mut Conn<'_>,
    schema: &ModelSchema,
    live: Option<&introspect::LiveTable>,
) -> Result<Plan> {
    let d = conn.dialect();
    let server = conn.mysql_server().await?;
    crate::tenant::require_owner(conn, schema, live).await?;
    let mut steps = Vec::new();
    for (mut s, probe) in diff::diff_for(schema, d, server, live)? {
        if let Some(p) = probe {
            let n = probe::count(conn, &schema.table, &p).await?;
            s.affected_rows = Some(n);
            let detail = match (&p, &s.kind) {
                (Probe::Nulls(_), _) => format!("{n} row(s) hold NULL there and would make it fail"),
                (Probe::Duplicates(_), _) if n == 0 => {
                    // No duplicates: the unique index cannot fail and loses nothing.
                    s.risk = plan::Risk::Low;
                    "no duplicate values".to_owned()
                }
                (Probe::Duplicates(_), _) => format!("{n} duplicated value(s) would make it fail"),
                (Probe::NonNull(c), k) if drops(k, c) => format!("{n} row(s) hold a value that would be lost"),
                (Probe::NonNull(_), _) => format!("{n} non-NULL value(s) would be converted or lost"),
                (Probe::Rows, _) => format!("{n} existing row(s)"),
                (Probe::LongerThan(_, max), _) if n == 0 => {
                    // Every value fits: the narrower type loses nothing.
                    s.risk = plan::Risk::Low;
                    format!("no value is longer than {max} characters")
                }
                (Probe::LongerThan(_, max), _) => format!("{n} value(s) are longer than {max} characters"),
            };
            s.description = format!("{} [{detail}]", s.description);
        }
        steps.push(s);
    }
    Ok(Plan { model: schema.name.clone(), table: schema.table.clone(), dialect: d, steps, schema: schema.clone() })
}

/// Runs one probe count (for `crate::tenant`).
pub(crate) async fn probe_count(conn: &mut Conn<'_>, table: &str, p: &Probe) -> Result<u64> {
    probe::count(conn, table, p).await
}

/// Whether the step drops column `c` (directly, or inside a SQLite rebuild).
fn drops(kind: &StepKind, c: &str) -> bool {
    match kind {
        StepKind::DropColumn { column } => column == c,
        StepKind::RebuildTable { changes } => changes.iter().any(|k| drops(k, c)),
        _ => false,
    }
}

/// Brings the model's table up to date on `register`: creates it when missing, applies LOW
/// steps under the migration lock (recorded in the history), and fails with DF-301 — showing
/// the SQL and how to apply it — when a required step needs approval. Steps that are not
/// required (dropping a column or index the model no longer declares) are logged, not applied.
pub(crate) async fn ensure_table(
    pc: &mut PoolConn,
    schema: &ModelSchema,
    dialect: Dialect,
    env: &lock::LockEnv,
) -> Result<()> {
    let plan = plan_for(&mut pc.conn(), schema).await?;
    debug_assert_eq!(plan.dialect, dialect);
    let accept = Accept { risk: Risk::Low, approved: None };
    let remaining =
        if apply::has_work(&plan, &accept) { apply::run(pc, schema, accept, env).await?.remaining } else { plan };
    if remaining.blocking().next().is_some() {
        return Err(remaining.approval_error());
    }
    for s in &remaining.steps {
        tracing::warn!(target: "dataflow::migrate", model = %schema.name, risk = %s.risk, sql = ?s.sql,
            "not applied automatically: {}", s.description);
    }
    Ok(())
}

/// Verifies the model against its live table without DDL (`existing_schema_mode`): one DF-304
/// error listing every mismatch.
pub(crate) async fn verify_table(conn: &mut Conn<'_>, schema: &ModelSchema) -> Result<()> {
    verify::verify(conn, schema).await
}
