//! The migration API on [`DataFlow`]: plan (dry run), apply up to an accepted risk, ensure a
//! schema through the cache, history, discovery.

use std::time::Duration;

use dataflow_sql::{ErrorCode, ModelSchema, Result};

use super::apply::{self, Accept};
use super::discover::{self, Discovery};
use super::history::{self, HistoryEntry};
use super::plan::{Plan, Risk, Step, StepKind};
use crate::DataFlow;
use crate::cache::{Lookup, SchemaCache, fingerprint};

/// What an explicit [`DataFlow::apply_plan`] did.
#[derive(Debug, Clone)]
pub struct MigrationReport {
    /// The steps applied (empty when the table already matched, e.g. a second run).
    pub applied: Vec<Step>,
    /// What is still different: steps above the accepted risk.
    pub remaining: Plan,
    /// Time spent under the migration lock.
    pub duration: Duration,
}

impl DataFlow {
    /// The migration lock settings of this instance (`Config::migration_lock`, `compat`).
    pub(crate) fn lock_env(&self, timeout: Duration) -> super::lock::LockEnv {
        let cfg = &self.inner.config;
        super::lock::LockEnv {
            pools: self.inner.pools.clone(),
            mode: if cfg.compat.is_some_and(|c| c.lease_lock()) {
                super::MigrationLock::Lease
            } else {
                cfg.migration_lock
            },
            lease: cfg.lease_duration,
            timeout,
            transactional_ddl: cfg.transactional_ddl(),
        }
    }

    /// The instance's schema cache (metrics, invalidation).
    pub fn schema_cache(&self) -> &SchemaCache {
        &self.inner.schema_cache
    }

    /// Dry run: the plan that would bring the model's table in line with `schema`, with each
    /// step's SQL, risk and row counts. Nothing is applied; print it with `{plan}`.
    pub async fn plan_migration(&self, schema: &ModelSchema) -> Result<Plan> {
        schema.validate()?;
        schema.validate_for(self.dialect())?;
        let mut pc = self.acquire().await?;
        super::plan_for(&mut pc.conn(), schema).await
    }

    /// Applies `plan` (made by [`DataFlow::plan_migration`] or reported by a DF-301) up to the
    /// accepted risk, under the migration lock, recorded in the history. The table is
    /// re-introspected under the lock, so applying the same plan twice changes nothing the
    /// second time; steps above LOW that were not in `plan` are never applied.
    pub async fn apply_plan(&self, plan: &Plan, accept: Risk) -> Result<MigrationReport> {
        self.apply_plan_within(plan, accept, super::DEFAULT_LOCK_TIMEOUT).await
    }

    /// [`DataFlow::apply_plan`] waiting at most `lock_timeout` for another process's migration
    /// (DF-303 after that).
    pub async fn apply_plan_within(
        &self,
        plan: &Plan,
        accept: Risk,
        lock_timeout: Duration,
    ) -> Result<MigrationReport> {
        let approved: Vec<StepKind> = plan.steps.iter().filter(|s| s.risk <= accept).map(|s| s.kind.clone()).collect();
        let mut pc = self.acquire().await?;
        let env = self.lock_env(lock_timeout);
        let res = apply::run(&mut pc, &plan.schema, Accept { risk: accept, approved: Some(&approved) }, &env).await;
        self.schema_cache().invalidate(&plan.table);
        let a = res?;
        Ok(MigrationReport { applied: a.steps, remaining: a.remaining, duration: a.duration })
    }

    /// Makes sure the model's table matches `schema`, as `register` does: a cache hit returns at
    /// once (no query); otherwise, per the instance's settings, verify only
    /// (`existing_schema_mode`, DF-304), or create/auto-migrate LOW steps (DF-301 for the rest).
    /// A migration failure (DF-302) is remembered: later calls fail fast with it.
    pub async fn ensure_schema(&self, schema: &ModelSchema) -> Result<()> {
        let cfg = &self.inner.config;
        if !cfg.auto_migrate && !cfg.existing_schema_mode {
            return Ok(());
        }
        let cache = self.schema_cache();
        let fp = fingerprint(schema, self.dialect());
        match cache.lookup(&schema.table, fp) {
            Lookup::Hit => return Ok(()),
            Lookup::Failed(e) => return Err(e),
            Lookup::Miss => {}
        }
        let lock_timeout = cfg.migration_lock_timeout.unwrap_or(super::DEFAULT_LOCK_TIMEOUT);
        let mut pc = self.acquire().await?;
        if cfg.existing_schema_mode {
            super::verify_table(&mut pc.conn(), schema).await?;
        } else if let Err(e) = super::ensure_table(&mut pc, schema, self.dialect(), &self.lock_env(lock_timeout)).await
        {
            if e.code() == ErrorCode::MIGRATION_FAILED {
                cache.insert_failure(&schema.table, fp, &e);
            }
            return Err(e);
        }
        cache.insert_verified(&schema.table, fp);
        Ok(())
    }

    /// Lists the database's tables as dynamic models (and the tables that cannot be models).
    pub async fn discover_schema(&self) -> Result<Discovery> {
        let mut pc = self.acquire().await?;
        discover::discover(&mut pc.conn()).await
    }

    /// Discovers the database's tables and registers each usable one as a dynamic model on this
    /// instance (no DDL: the tables are taken as they are). Returns the model names.
    pub async fn register_schema_as_models(&self) -> Result<Vec<String>> {
        let found = self.discover_schema().await?;
        let mut names = Vec::new();
        for s in found.models {
            if self.registry().contains(&s.name) {
                continue;
            }
            let fp = fingerprint(&s, self.dialect());
            // The table is the source of truth: mark it verified so register issues no DDL.
            self.schema_cache().insert_verified(&s.table, fp);
            names.push(s.name.clone());
            self.register_schema(s).await?;
        }
        Ok(names)
    }

    /// Every recorded migration run, oldest first.
    pub async fn migration_history(&self) -> Result<Vec<HistoryEntry>> {
        let mut pc = self.acquire().await?;
        history::entries(&mut pc.conn()).await
    }
}
