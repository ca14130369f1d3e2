//! Applying a plan under the migration lock: re-introspect, re-diff, apply allowed steps one at
//! a time (each step's SQL is rendered against the table as it is now, so a plan can be applied
//! twice and the second run changes nothing), record the run in the history.

use std::time::{Duration, Instant};

use dataflow_sql::dialect::LockStatements;
use dataflow_sql::stmt::tx;
use dataflow_sql::{Error, ErrorCode, ModelSchema, Result};

use super::lock::LockEnv;
use super::plan::{Plan, Risk, Step, StepKind};
use super::{history, lock};
use crate::db::pool::{Conn, PoolConn};

/// What a migration run did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The steps applied, in order (empty: nothing to do, e.g. another process already did it).
    pub steps: Vec<Step>,
    /// What is left: steps above the accepted risk, or not approved.
    pub remaining: Plan,
    /// Wall time under the lock.
    pub duration: Duration,
}

/// Which steps a run may apply.
pub(crate) struct Accept<'a> {
    /// The highest risk accepted.
    pub risk: Risk,
    /// Steps above LOW must be among these (the plan the caller reviewed); `None`: LOW only.
    pub approved: Option<&'a [StepKind]>,
}

impl Accept<'_> {
    fn allows(&self, s: &Step) -> bool {
        if s.risk > self.risk {
            return false;
        }
        s.risk == Risk::Low || self.approved.is_some_and(|a| a.contains(&s.kind))
    }
}

fn failed(schema: &ModelSchema, sql: &str, e: Error) -> Error {
    Error::new(
        ErrorCode::MIGRATION_FAILED,
        format!("migration of table `{}` failed at `{sql}`: {}", schema.table, e.message()),
    )
    .model(&schema.name)
    .fix("nothing after the failing statement was applied; on PostgreSQL and SQLite the whole run was rolled back")
    .fix("fix the data or the model, then retry (a failed migration is remembered by the schema cache until `db.schema_cache().invalidate(table)` or an explicit `apply_plan`)")
    .with_source(e)
}

/// Applies the allowed steps for `schema` under the lock and records the run.
///
/// Cancellation-safe: when the future is dropped mid-run, the connection is closed instead of
/// returning to the pool (the database rolls back an open migration transaction and ends
/// session locks) and a lease lock is released by a spawned task; a step is never left half
/// applied inside a transaction (PostgreSQL, SQLite). Without one (MySQL/MariaDB, `Compat`
/// mode) every DDL statement is atomic by itself and the next run re-plans from the live table.
pub(crate) async fn run(pc: &mut PoolConn, schema: &ModelSchema, accept: Accept<'_>, env: &LockEnv) -> Result<Applied> {
    let mut guard = CloseIfCancelled { pc, finished: false };
    let res = run_locked(&mut guard.pc.conn(), schema, accept, env).await;
    guard.finished = true;
    res
}

/// Marks the migration's connection to be closed instead of pooled when the run's future is
/// dropped before it finished (a finished run keeps it: `sqlite::memory:` lives in it).
struct CloseIfCancelled<'a> {
    pc: &'a mut PoolConn,
    finished: bool,
}

impl Drop for CloseIfCancelled<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.pc.close_on_drop();
        }
    }
}

async fn run_locked(conn: &mut Conn<'_>, schema: &ModelSchema, accept: Accept<'_>, env: &LockEnv) -> Result<Applied> {
    let d = conn.dialect();
    let mut held = lock::acquire(conn, env).await?;
    let start = Instant::now();
    let res = locked(conn, schema, &accept, env.transactional_ddl).await;
    let elapsed = start.elapsed();
    let ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
    crate::observe::metrics::migration(&schema.name, res.as_ref().map(|(steps, _)| steps.len()));
    match res {
        Ok((steps, remaining)) => {
            let mut res = Ok(());
            if !steps.is_empty() {
                let sql: Vec<String> = steps.iter().flat_map(|s| s.sql.iter().cloned()).collect();
                let risk = steps.iter().map(|s| s.risk).max().unwrap_or(Risk::Low);
                res = history::record(conn, &schema.name, &schema.table, &sql, risk.name(), ms, "applied").await;
            }
            if d.backend().ddl_in_transaction() && env.transactional_ddl && !steps.is_empty() {
                res = res.and(conn.execute_raw(tx::COMMIT, None).await);
            }
            let released = lock::release(conn, &mut held, res.is_ok()).await;
            res?;
            released?;
            Ok(Applied { steps, remaining, duration: elapsed })
        }
        Err((e, tried)) => {
            if d.backend().ddl_in_transaction() && env.transactional_ddl {
                let _ = conn.execute_raw(tx::ROLLBACK, None).await;
            }
            let _ = lock::release(conn, &mut held, false).await;
            if !tried.is_empty() {
                // Best effort: the failure itself is the error returned.
                // The history table created inside a rolled-back write-lock transaction is gone.
                if matches!(d.backend().lock(), LockStatements::WriteTransaction { .. }) {
                    let _ = history::ensure(conn).await;
                }
                let _ = history::record(conn, &schema.name, &schema.table, &tried, "-", ms, "failed").await;
            }
            Err(e)
        }
    }
}

type LockedResult = std::result::Result<(Vec<Step>, Plan), (Error, Vec<String>)>;

async fn locked(conn: &mut Conn<'_>, schema: &ModelSchema, accept: &Accept<'_>, ddl_tx: bool) -> LockedResult {
    let d = conn.dialect();
    let mut applied: Vec<Step> = Vec::new();
    let mut tried: Vec<String> = Vec::new();
    let mut began = false;
    // Under the lock (concurrent CREATE TABLE IF NOT EXISTS can race on PostgreSQL); on SQLite
    // inside the locked transaction.
    history::ensure(conn).await.map_err(|e| (e, Vec::new()))?;
    loop {
        let plan = super::plan_for(conn, schema).await.map_err(|e| (e, tried.clone()))?;
        let Some(step) = plan.steps.iter().find(|s| accept.allows(s)).cloned() else {
            return Ok((applied, plan));
        };
        if applied.iter().any(|a| a.kind == step.kind) {
            let msg = format!("step `{}` was applied but the table still differs", step.description);
            return Err((Error::new(ErrorCode::MIGRATION_FAILED, msg).model(&schema.name), tried));
        }
        if d.backend().ddl_in_transaction() && ddl_tx && !began {
            conn.execute_raw(tx::BEGIN, None).await.map_err(|e| (e, Vec::new()))?;
            began = true;
        }
        for sql in &step.sql {
            tracing::info!(target: "dataflow::migrate", model = %schema.name, risk = %step.risk, %sql, "migration step");
            tried.push(sql.clone());
            if let Err(e) = conn.execute_raw(sql, Some(schema)).await {
                return Err((failed(schema, sql, e), tried));
            }
        }
        applied.push(step);
    }
}

/// Whether a run would apply anything to the table `plan` was made for.
pub(crate) fn has_work(plan: &Plan, accept: &Accept<'_>) -> bool {
    plan.steps.iter().any(|s| accept.allows(s))
}
