//! The tenant context of a handle: where the tenant came from, and the rules applied before
//! any SQL (user guide: docs/guide/multi-tenancy.md).
//!
//! - `db.tenant("acme")` / `db.express().tenant("acme")`: an **explicit** tenant. Calls on a model
//!   that is not multi-tenant fail with DF-614 (a tenant that silently does nothing is a bug
//!   waiting to happen).
//! - `tx.tenant("acme")`, `db.tenant("acme").transaction(..)`: the transaction is **bound**; every
//!   `tx.express()` carries the tenant, and asking for another one fails with DF-614.
//! - workflow runs (`execute_as`, `execute_in_transaction_as`): a **context** tenant, applied to
//!   the multi-tenant models of the workflow; other models run unscoped.
//! - `db.all_tenants()`: the explicit, read-only cross-tenant admin handle. Reads see every
//!   tenant's rows (and every audit row); every write is DF-614 before SQL.
//!
//! The audit trail (`AuditEntry`) follows the tenant of the handle whatever its kind: a handle
//! with a tenant reads only that tenant's audit rows, one without only the rows of writes made
//! without a tenant (`dataflow_sql::stmt::scope`).
//!
//! The name rule and the model checks are in `dataflow_sql::tenant`; the SQL scoping in
//! `dataflow_sql::stmt::scope`.

use std::sync::Arc;

use futures::future::BoxFuture;

use dataflow_sql::stmt::probe::Probe;
use dataflow_sql::{Dialect, Error, ErrorCode, ManagedField, Model, ModelSchema, Result, tenant};

use crate::DataFlow;
use crate::db::pool::Conn;
use crate::express::Express;
use crate::migrate::introspect::{self, LiveTable};
use crate::migrate::{MigrationReport, Risk};
use crate::tx::Tx;

/// The tenant of one [`Express`] handle.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantCtx {
    tenant: Option<Arc<str>>,
    /// Set with `.tenant(..)`: refused on models that are not multi-tenant.
    explicit: bool,
    /// The tenant of the transaction this handle runs in; cannot be switched.
    bound: Option<Arc<str>>,
    /// A misuse found while building the handle, reported by its first call (before SQL).
    error: Option<Misuse>,
    /// `db.all_tenants()`: reads over every tenant, no writes.
    all: bool,
}

/// A misuse found while building a handle (`Error` is not `Clone`, so it is rebuilt per call).
#[derive(Debug, Clone)]
enum Misuse {
    Switch(Arc<str>, Arc<str>),
    InvalidName(Arc<str>),
    /// `.tenant(t)` on the all-tenants handle.
    AllTenants(Arc<str>),
}

impl Misuse {
    fn error(&self) -> Error {
        match self {
            Misuse::Switch(b, t) => tenant::switch_error(b, t),
            Misuse::InvalidName(t) => tenant::validate_name(t).err().unwrap_or_else(|| tenant::switch_error(t, t)),
            Misuse::AllTenants(t) => Error::new(
                ErrorCode::TENANT_MISUSE,
                format!("`.tenant({t:?})` on the all-tenants handle: `db.all_tenants()` cannot be narrowed"),
            )
            .fix(format!("use `db.tenant({t:?})` for one tenant")),
        }
    }
}

impl TenantCtx {
    /// The context of a transaction's handle: bound to the transaction's tenant, if any.
    pub(crate) fn bound(tenant: Option<Arc<str>>) -> Self {
        TenantCtx { tenant: tenant.clone(), explicit: false, bound: tenant, error: None, all: false }
    }

    /// The context of `db.all_tenants()`.
    pub(crate) fn all() -> Self {
        TenantCtx { all: true, ..TenantCtx::default() }
    }

    /// Whether this is the all-tenants handle (`db.all_tenants()`).
    pub(crate) fn is_all(&self) -> bool {
        self.all
    }

    /// DF-614 for a write (or a locking read) through `db.all_tenants()`, before any SQL.
    pub(crate) fn refuse_write(&self, schema: &ModelSchema, op: &str) -> Result<()> {
        if !self.all {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::TENANT_MISUSE,
            format!("{op} of `{}` through `db.all_tenants()`: the cross-tenant handle is read-only", schema.name),
        )
        .model(&schema.name)
        .operator(op)
        .fix("write through the tenant that owns the rows: `db.tenant(\"acme\")`")
        .fix("for a model that is not multi-tenant, use `db.express()`"))
    }

    /// The handle's tenant as set, unchecked (a hint to share, never a scope: use
    /// [`TenantCtx::resolve`] for that).
    pub(crate) fn current(&self) -> Option<&Arc<str>> {
        self.tenant.as_ref()
    }

    /// `.tenant(t)`.
    pub(crate) fn set_explicit(&mut self, t: Arc<str>) {
        if self.all {
            self.error.get_or_insert(Misuse::AllTenants(t));
            return;
        }
        if let Some(b) = self.bound.as_deref().filter(|b| **b != *t) {
            self.error.get_or_insert(Misuse::Switch(b.into(), t));
            return;
        }
        if tenant::validate_name(&t).is_err() {
            self.error.get_or_insert(Misuse::InvalidName(t.clone()));
        }
        self.tenant = Some(t);
        self.explicit = true;
    }

    /// A workflow run's tenant: applied to multi-tenant models only.
    pub(crate) fn set_context(&mut self, t: Option<Arc<str>>) {
        if self.all {
            if let Some(t) = t {
                self.error.get_or_insert(Misuse::AllTenants(t));
            }
            return;
        }
        if let (Some(b), Some(t)) = (self.bound.as_deref(), t.as_deref())
            && b != t
        {
            self.error.get_or_insert(Misuse::Switch(b.into(), t.into()));
            return;
        }
        if let Some(t) = t {
            if tenant::validate_name(&t).is_err() {
                self.error.get_or_insert(Misuse::InvalidName(t.clone()));
            }
            self.tenant = Some(t);
        }
    }

    /// The tenant a transaction opened from this handle is bound to.
    pub(crate) fn for_transaction(&self) -> Result<Option<Arc<str>>> {
        if self.all {
            return Err(Error::new(
                ErrorCode::TENANT_MISUSE,
                "`transaction` on `db.all_tenants()`: the cross-tenant handle is read-only and has no transactions",
            )
            .fix("open the transaction for one tenant: `db.tenant(\"acme\").transaction(..)`"));
        }
        match &self.error {
            Some(e) => Err(e.error()),
            None => Ok(self.tenant.clone()),
        }
    }

    /// The tenant the statements of an operation on `schema` are scoped to, or the DF error
    /// (DF-608 missing, DF-613 invalid name, DF-614 misuse) — before any SQL. The all-tenants
    /// handle has none ([`TenantCtx::is_all`] lifts the predicate); the audit trail takes the
    /// handle's tenant whatever its kind (its reads are scoped by it).
    pub(crate) fn resolve(&self, schema: &ModelSchema) -> Result<Option<Arc<str>>> {
        if let Some(e) = &self.error {
            return Err(e.error().or_model(&schema.name));
        }
        if self.all {
            return Ok(None);
        }
        if dataflow_sql::audit::is_audit_log(schema) {
            return Ok(self.tenant.clone());
        }
        if !schema.options.multi_tenant && !self.explicit {
            return Ok(None);
        }
        tenant::check_context(schema, self.tenant.as_deref())?;
        Ok(self.tenant.clone())
    }
}

impl DataFlow {
    /// The Express API scoped to `tenant`: every statement of every operation on a multi-tenant
    /// model reads and writes only this tenant's rows; inserts stamp it. An invalid name
    /// (DF-613) or a model that is not multi-tenant (DF-614) fails on the first call, before any
    /// SQL.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// use serde_json::json;
    /// let mut acme = db.tenant("acme");
    /// acme.create_json("Order", &json!({"id": "o1", "total": 10})).await?;
    /// # Ok(()) }
    /// ```
    pub fn tenant(&self, tenant: impl Into<Arc<str>>) -> Express<'_> {
        self.express().tenant(tenant)
    }

    /// The explicit cross-tenant admin handle: the Express API with **no** tenant predicate.
    /// Read, List, Count, `find_one`, `list_stream` and keyset pages see every tenant's rows of
    /// multi-tenant models (each record carries its `tenant_id`), and every row of the audit
    /// trail. It is read-only: every write (and `read_for_update`, `transaction`) is DF-614
    /// before any SQL — write through `db.tenant(..)`. Reading a model whose ids are per tenant
    /// (`String`/`Uuid` ids) by id is DF-614 too (the id may exist in several tenants): list with
    /// a filter on `id` instead. Its reads bypass the query cache. See
    /// docs/guide/multi-tenancy.md.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// use serde_json::json;
    /// let per_tenant = db.all_tenants().list_json("Order", &json!({"filter": {"total": {"$gt": 100}}})).await?;
    /// let everything = db.all_tenants().count_json("AuditEntry", &json!({})).await?;
    /// # let _ = (per_tenant, everything); Ok(()) }
    /// ```
    pub fn all_tenants(&self) -> Express<'_> {
        self.express().all_tenants()
    }
}

impl Tx {
    /// Binds this transaction to `tenant` (on first use) and returns its Express API. From then
    /// on every `tx.express()` carries the tenant, savepoints included; a different tenant fails
    /// with DF-614 before any SQL.
    pub fn tenant(&mut self, tenant: impl Into<Arc<str>>) -> Express<'_> {
        let t: Arc<str> = tenant.into();
        if self.tenant.is_none() && tenant::validate_name(&t).is_ok() {
            self.tenant = Some(t.clone());
        }
        self.express().tenant(t)
    }

    /// The tenant this transaction is bound to, if any.
    pub fn bound_tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }
}

impl Express<'_> {
    /// Runs `f` in a transaction bound to this handle's tenant (see [`Tx::tenant`]): commit on
    /// `Ok`, roll back on `Err`. On a handle that has no tenant this is
    /// [`DataFlow::transaction`]. Inside a transaction, use [`Tx::transaction`] (a savepoint).
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// use futures::FutureExt;
    /// use serde_json::json;
    /// db.tenant("acme")
    ///     .transaction(|tx| {
    ///         async move { tx.express().create_json("Order", &json!({"id": "o1", "total": 10})).await }.boxed()
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction<T, F>(self, f: F) -> Result<T>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut Tx) -> BoxFuture<'c, Result<T>>,
    {
        let (db, t) = self.transaction_parts()?;
        db.transaction_bound(t, f).await
    }
}

/// Refuses `tenant_id` in the write data of an operation's parameters (DF-614), before the
/// parameter contract would call it an unknown field: Create's record, Update/BulkUpdate
/// `fields`, Upsert `where`/`create`/`update`, the records of BulkCreate/BulkUpdate/BulkUpsert.
pub(crate) fn reject_in_params(
    schema: &ModelSchema,
    op: dataflow_sql::Operation,
    params: &serde_json::Value,
) -> Result<()> {
    use dataflow_sql::Operation as O;
    if !schema.options.multi_tenant {
        return Ok(());
    }
    let one = |k: &str| tenant::reject_in_data(schema, &params[k]);
    let each = |k: &str| match params[k].as_array() {
        Some(items) => items.iter().try_for_each(|r| tenant::reject_in_data(schema, r)),
        None => Ok(()),
    };
    match op {
        O::Create => tenant::reject_in_data(schema, params),
        O::Update => one("fields"),
        O::BulkUpdate => one("fields").and_then(|()| each("data")),
        O::Upsert => one("where").and_then(|()| one("create")).and_then(|()| one("update")),
        O::BulkCreate | O::BulkUpsert => each("data"),
        _ => Ok(()),
    }
}

/// Planning hook: a multi-tenant model whose live table has rows but no `tenant_id` column
/// cannot be migrated without knowing who owns those rows — DF-615 before any DDL, naming
/// [`DataFlow::enable_tenancy`]. (Never `''`, never a database error.)
pub(crate) async fn require_owner(conn: &mut Conn<'_>, schema: &ModelSchema, live: Option<&LiveTable>) -> Result<()> {
    let Some(live) = live else { return Ok(()) };
    if !schema.options.multi_tenant || live.column(ManagedField::TenantId.column()).is_some() {
        return Ok(());
    }
    let rows = crate::migrate::probe_count(conn, &schema.table, &Probe::Rows).await?;
    if rows == 0 {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::TENANT_OWNER_REQUIRED,
        format!(
            "model `{}` is now multi-tenant, but table `{}` holds {rows} row(s) without a tenant",
            schema.name, schema.table
        ),
    )
    .model(&schema.name)
    .fix(format!(
        "say which tenant owns them, once, before `register`: `db.enable_tenancy_for::<{}>(\"acme\").await?` \
         (dynamic models: `db.enable_tenancy(&schema, \"acme\")`)",
        schema.name
    ))
    .fix("or move the rows elsewhere and empty the table"))
}

impl DataFlow {
    /// Turns `multi_tenant` on for a table that already has rows: adds the `tenant_id` column,
    /// gives every existing row to `owner` (a bound value), then applies the model's plan up to
    /// MEDIUM risk — `tenant_id` NOT NULL and indexed, unique indexes per tenant (the old
    /// table-wide ones dropped), primary key `(tenant_id, id)` for String/Uuid ids. Run it once,
    /// before `register`; on a table that already has `tenant_id` only the plan is applied.
    /// Higher-risk steps are left in the report's `remaining` (docs/guide/multi-tenancy.md).
    pub async fn enable_tenancy(&self, schema: &ModelSchema, owner: &str) -> Result<MigrationReport> {
        self.check_open()?;
        schema.validate()?;
        schema.validate_for(self.dialect())?;
        tenant::validate_name(owner)?;
        if !schema.options.multi_tenant {
            return Err(Error::new(
                ErrorCode::TENANT_MISUSE,
                format!("`enable_tenancy` on model `{}`, which is not multi-tenant", schema.name),
            )
            .model(&schema.name)
            .fix("declare the model `#[dataflow::model(multi_tenant)]` (dynamic: `\"options\": {\"multi_tenant\": true}`)"));
        }
        {
            let mut pc = self.acquire().await?;
            let mut conn = pc.conn();
            let live = introspect::table(&mut conn, &schema.table).await?;
            if live.as_ref().is_some_and(|l| l.column(ManagedField::TenantId.column()).is_none()) {
                let col = ManagedField::TenantId.def().nullable();
                let add = if self.dialect() == Dialect::MySql {
                    conn.mysql_server().await?.add_column(schema, &col)
                } else {
                    dataflow_sql::ddl::add_column(schema, &col, self.dialect())
                };
                conn.execute_raw(&add, Some(schema)).await?;
                conn.execute_sql(tenant::stamp_owner(schema, self.dialect(), owner)).await?;
            }
        }
        self.schema_cache().invalidate(&schema.table);
        let plan = self.plan_migration(schema).await?;
        self.apply_plan(&plan, Risk::Medium).await
    }

    /// [`DataFlow::enable_tenancy`] for a typed model.
    pub async fn enable_tenancy_for<M: Model>(&self, owner: &str) -> Result<MigrationReport> {
        self.enable_tenancy(M::schema(), owner).await
    }
}
