//! `dataflow migrate plan|apply|status`. `plan` and `status` never write: SQLite files are opened
//! read-only and a missing file is never created.

use dataflow_core::migrate::Risk;
use serde_json::json;

use crate::args::{Format, MigrateApplyArgs, MigratePlanArgs, MigrateStatusArgs, RiskArg};
use crate::output::{CliError, pretty};
use crate::{database, models_file};

/// `dataflow migrate plan`: the steps, their SQL and risk, per model.
pub async fn plan(a: MigratePlanArgs) -> Result<String, CliError> {
    let url = database::require(&a.db)?;
    let schemas = models_file::load(&a.models)?;
    dataflow_core::db::url::parse(&url)?;
    // A SQLite file that does not exist yet: plan against an empty database (what `apply` would
    // find), without creating the file.
    let (target, note) = match database::sqlite_missing(&url) {
        Some(p) => (
            String::from("sqlite::memory:"),
            Some(format!("-- `{}` does not exist yet: planned against an empty database", p.display())),
        ),
        None => (database::read_only_url(&url), None),
    };
    let db = database::connect(&target).await?;
    let mut plans = Vec::new();
    for s in &schemas {
        match db.plan_migration(s).await {
            Ok(p) => plans.push(p),
            Err(e) => {
                db.close().await;
                return Err(e.into());
            }
        }
    }
    db.close().await;
    match a.format {
        Format::Text => {
            let mut out = note.map(|n| n + "\n").unwrap_or_default();
            for p in &plans {
                out.push_str(&format!("{p}\n"));
            }
            Ok(out)
        }
        Format::Json => {
            let items: Vec<_> = plans
                .iter()
                .map(|p| {
                    json!({
                        "model": p.model, "table": p.table, "dialect": p.dialect.to_string(),
                        "max_risk": p.max_risk().map(|r| r.name()),
                        "steps": p.steps.iter().map(|s| json!({
                            "risk": s.risk.name(), "description": s.description, "sql": s.sql,
                            "affected_rows": s.affected_rows, "required": s.required,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            Ok(pretty(&json!({"database_exists": note.is_none(), "plans": items})))
        }
    }
}

fn risk(r: RiskArg) -> Risk {
    match r {
        RiskArg::Low => Risk::Low,
        RiskArg::Medium => Risk::Medium,
        RiskArg::High => Risk::High,
        RiskArg::Critical => Risk::Critical,
    }
}

/// `dataflow migrate apply`: applies each model's plan up to `--accept`; steps above it are
/// listed as remaining and make the command exit 1.
pub async fn apply(a: MigrateApplyArgs) -> Result<String, CliError> {
    let url = database::require(&a.db)?;
    let schemas = models_file::load(&a.models)?;
    let db = database::connect(&url).await?;
    let accept = risk(a.accept);
    let mut out = String::new();
    let mut blocked = false;
    for s in &schemas {
        let res = async {
            let plan = db.plan_migration(s).await?;
            db.apply_plan(&plan, accept).await
        }
        .await;
        let report = match res {
            Ok(r) => r,
            Err(e) => {
                db.close().await;
                return Err(CliError { text: out, ..CliError::from(e) });
            }
        };
        out.push_str(&format!(
            "{}: applied {} step(s) in {} ms\n",
            s.name,
            report.applied.len(),
            report.duration.as_millis()
        ));
        if !report.remaining.is_empty() {
            blocked = true;
            out.push_str(&format!("{}\n", report.remaining));
        }
    }
    db.close().await;
    if blocked {
        return Err(CliError::failure_msg(format!(
            "{out}some steps need a higher --accept (medium, high or critical); review them above"
        )));
    }
    Ok(out)
}

/// `dataflow migrate status`: every recorded run with status and duration.
pub async fn status(a: MigrateStatusArgs) -> Result<String, CliError> {
    let url = database::require(&a.db)?;
    let db = database::connect_existing(&database::read_only_url(&url)).await?;
    let history = db.migration_history().await;
    db.close().await;
    let history = history?;
    let failed = history.iter().filter(|h| h.status != "applied").count();
    match a.format {
        Format::Json => {
            let items: Vec<_> = history
                .iter()
                .map(|h| {
                    json!({
                        "version": h.version, "model": h.model, "table": h.table, "status": h.status,
                        "risk": h.risk, "applied_at": h.applied_at, "duration_ms": h.duration_ms,
                        "checksum": h.checksum,
                    })
                })
                .collect();
            Ok(pretty(&json!({"migrations": items, "failed": failed})))
        }
        Format::Text => {
            if history.is_empty() {
                return Ok("no migrations recorded".into());
            }
            let mut s = format!(
                "{:<8} {:<20} {:<20} {:<8} {:<8} {:>10}  {}\n",
                "version", "model", "table", "status", "risk", "duration", "at"
            );
            for h in &history {
                let status = if h.status == "applied" { h.status.clone() } else { h.status.to_uppercase() };
                s.push_str(&format!(
                    "{:<8} {:<20} {:<20} {:<8} {:<8} {:>7} ms  {}\n",
                    format!("v{}", h.version),
                    h.model,
                    h.table,
                    status,
                    h.risk,
                    h.duration_ms,
                    h.applied_at
                ));
            }
            s.push_str(&format!("{} run(s), {} failed", history.len(), failed));
            Ok(s)
        }
    }
}
