//! `existing_schema_mode`: no DDL; check the live table against the model and report every
//! mismatch in one DF-304 error.

use dataflow_sql::{Error, ErrorCode, ModelSchema, Result};

use super::plan::StepKind;
use super::{diff, introspect};
use crate::db::pool::Conn;

fn mismatch(kind: &StepKind, table: &str) -> Option<String> {
    Some(match kind {
        StepKind::CreateTable => format!("table `{table}` does not exist"),
        StepKind::AddColumn { column } | StepKind::AddRequiredColumn { column } => {
            format!("column `{column}` is missing")
        }
        StepKind::RenameColumn { from, to } => format!("column `{to}` is missing (`{from}` exists: not renamed yet)"),
        StepKind::AddIndex { name, unique } => {
            format!("{} `{name}` is missing", if *unique { "unique index" } else { "index" })
        }
        StepKind::SetNotNull { column } => format!("column `{column}` is nullable; the model requires a value"),
        StepKind::DropNotNull { column } => format!("column `{column}` is NOT NULL; the model allows NULL"),
        StepKind::ChangeType { column, from, to } => format!("column `{column}` has type {from}; the model wants {to}"),
        StepKind::DropColumn { column } => {
            format!("column `{column}` is NOT NULL without a default and not in the model (inserts would fail)")
        }
        StepKind::DropIndex { .. } => return None,
        StepKind::TenantPrimaryKey => {
            "the primary key is `id`; the multi-tenant model wants (tenant_id, id)".to_owned()
        }
        StepKind::RebuildTable { changes } => {
            return Some(changes.iter().filter_map(|c| mismatch(c, table)).collect::<Vec<_>>().join("; "));
        }
    })
}

pub(crate) async fn verify(conn: &mut Conn<'_>, schema: &ModelSchema) -> Result<()> {
    let d = conn.dialect();
    let live = introspect::table(conn, &schema.table).await?;
    let mut problems: Vec<String> = Vec::new();
    let server = conn.mysql_server().await?;
    for (s, _) in diff::diff_for(schema, d, server, live.as_ref())? {
        // Extra nullable columns and extra indexes do not stop the model from working.
        if !s.required {
            continue;
        }
        match &s.kind {
            StepKind::RebuildTable { changes } => {
                problems.extend(changes.iter().filter_map(|c| mismatch(c, &schema.table)));
            }
            k => problems.extend(mismatch(k, &schema.table)),
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "existing_schema_mode: table `{}` does not match model `{}` ({} mismatch(es)):",
        schema.table,
        schema.name,
        problems.len()
    );
    for (i, p) in problems.iter().enumerate() {
        msg.push_str(&format!("\n  {}. {p}", i + 1));
    }
    Err(Error::new(ErrorCode::SCHEMA_MISMATCH, msg)
        .model(&schema.name)
        .fix("change the model to match the table (`dataflow generate` prints a model for an existing table)")
        .fix("or migrate the table: connect without `existing_schema_mode` and use `db.plan_migration(&schema)` / `db.apply_plan(..)`"))
}
