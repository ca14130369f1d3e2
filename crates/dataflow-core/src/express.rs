//! Express: direct calls of the eleven operations, typed ([`express::typed`](typed)) and
//! dynamic ([`express::dynamic`](dynamic)), on the pool or inside a transaction.
//!
//! Typed (no JSON on the path; `M` in, [`Stored<M>`] out):
//!
//! ```no_run
//! # use dataflow_core::{DataFlow, Stored};
//! # async fn run<User: dataflow_sql::Model>(db: DataFlow, user: User) -> dataflow_sql::Result<()> {
//! db.register::<User>().await?;
//! let stored: Stored<User> = db.express().create(&user).await?;
//! let again = db.express().read::<User>(stored.id_value()).await?;
//! # let _ = again; Ok(()) }
//! ```
//!
//! Dynamic (model name + JSON, results shaped like the node results of docs/guide/operations.md):
//!
//! ```no_run
//! # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
//! use serde_json::json;
//! let user = db.express().create_json("User", &json!({"id": "u1", "name": "Alice"})).await?;
//! let page = db.express().list_json("User", &json!({"filter": {"name": {"$startswith": "A"}}, "limit": 10})).await?;
//! assert_eq!(page["count"], 1);
//! # let _ = user; Ok(()) }
//! ```

pub mod dynamic;
mod json;
mod locking;
pub mod typed;

use std::sync::Arc;

use dataflow_sql::Result;

pub use self::typed::{IntoId, Query, Stored};
use crate::DataFlow;
use crate::db::pool::{Conn, PoolConn, Txn};
use crate::db::replicas::Route;
use crate::tx::Tx;

/// The Express API of one instance (or one transaction). Create with [`DataFlow::express`] or
/// [`Tx::express`].
pub struct Express<'a> {
    db: &'a DataFlow,
    txn: Option<&'a mut Txn<'static>>,
    tenant: crate::tenant::TenantCtx,
    actor: Option<Arc<str>>,
    /// The transaction's written models (their cache generations are bumped when it ends).
    touched: Option<&'a mut Vec<String>>,
    /// Reads go to the primary (`.primary()`), never a replica or the query cache.
    primary: bool,
    /// Per-call query-cache choice (`.cached()` / `.uncached()`); `None`: the model's default.
    cached: Option<bool>,
}

impl std::fmt::Debug for Express<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Express")
            .field("in_transaction", &self.txn.is_some())
            .field("tenant", &self.tenant)
            .field("actor", &self.actor)
            .field("primary", &self.primary)
            .field("cached", &self.cached)
            .finish()
    }
}

pub(crate) enum Guard<'a> {
    Pooled(PoolConn),
    Tx(&'a mut Txn<'static>),
}

impl Guard<'_> {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Guard::Pooled(p) => p.conn(),
            Guard::Tx(t) => t.conn(),
        }
    }
}

impl DataFlow {
    /// The Express API on the pool.
    pub fn express(&self) -> Express<'_> {
        Express {
            db: self,
            txn: None,
            touched: None,
            tenant: crate::tenant::TenantCtx::default(),
            actor: self.actor.clone(),
            primary: false,
            cached: None,
        }
    }
}

impl Tx {
    /// The Express API on this transaction.
    pub fn express(&mut self) -> Express<'_> {
        let tenant = crate::tenant::TenantCtx::bound(self.tenant.clone());
        Express {
            db: &self.db,
            txn: Some(&mut self.txn),
            touched: Some(&mut self.touched),
            tenant,
            actor: self.db.actor.clone(),
            primary: false,
            cached: None,
        }
    }
}

/// Builds the operation context for `$e` and binds a connection `$c` (pooled, or the open
/// transaction's) for `$body`, inside the operation's span, metrics and stats
/// (`observe::trace::operation`).
macro_rules! with_conn {
    // The operation context: one place for both arms below.
    (@ctx $self:ident, $db:ident, $e:ident, $tenant:ident, $actor:expr, $op:expr) => {
        Ctx {
            e: &$e,
            dialect: $db.dialect(),
            server: $db.mysql_server(),
            tenant: $tenant.as_ref(),
            all_tenants: $self.tenant.is_all(),
            full_table_guard: $db.config().full_table_guard,
            protection: &$db.config().protection,
            actor: $actor,
            op: $op,
            portable: $db.config().compat.is_some(),
        }
    };
    (@op $op:expr, $self:ident, $e:ident, $cx:ident, $c:ident, $($body:tt)*) => {{
        // The name and stats index, computed at compile time.
        const OP: crate::observe::trace::Op = crate::observe::trace::Op::new($op);
        let db = $self.db;
        let tenant = $self.tenant.resolve(&$e.schema)?;
        // No write through `db.all_tenants()`, and none to the audit trail: DF errors before SQL.
        $self.tenant.refuse_write(&$e.schema, OP.name)?;
        crate::audit::refuse_api_write(&$e.schema, OP.name)?;
        let actor = $self.actor.clone();
        let $cx = with_conn!(@ctx $self, db, $e, tenant, actor.as_deref(), OP.name);
        // Boxed: the operation's future is several KB; moved by pointer, not copied, from here on.
        let r = crate::observe::trace::operation(db, OP, &$e, tenant.as_deref(), Box::pin(async {
            // Write protection (instance, window, model, operation): DF-609 before any SQL.
            if let Err(err) = $cx.protection.check(&$e.schema, OP.name) {
                if crate::audit::records_blocked(&$cx) {
                    let mut g = $self.guard().await?;
                    crate::audit::blocked(&mut g.conn(), &$cx, OP.name, &err).await?;
                }
                return Err(err);
            }
            let mut g = $self.guard().await?;
            let mut $c = g.conn();
            let out = async { Ok::<_, dataflow_sql::Error>($($body)*) }.await;
            // Field-level protection is checked inside the operation (it knows the fields).
            if let Err(err) = &out
                && crate::audit::records_blocked(&$cx)
                && err.code() == dataflow_sql::ErrorCode::WRITE_PROTECTED
            {
                crate::audit::blocked(&mut $c, &$cx, OP.name, err).await?;
            }
            out
        }))
        .await;
        // Whatever the outcome (a failed write may still have committed), bump the model's
        // cache generation now, or at the end of the transaction.
        $self.wrote(&$e.schema.name).await;
        r?
    }};
    // A read (Read, List, Count, FindOne): routed to a replica outside transactions, served from
    // the query cache when enabled, retried once on a lost connection (reads are idempotent).
    // `$fin` turns the statement's result into what the caller hands out (the finished JSON of
    // the dynamic API); that is what the cache keeps, so a hit does none of that work again.
    // The result is an `Arc`: shared with the cache, copied only by callers that need to own it.
    (@read $op:expr, $self:ident, $e:ident, $cx:ident, $c:ident, [$($arg:expr),*], $fin:expr, $($body:tt)*) => {{
        let db = $self.db;
        let tenant = $self.tenant.resolve(&$e.schema)?;
        let actor = $self.actor.clone();
        const OP: crate::observe::trace::Op = crate::observe::trace::Op::new($op);
        let op = OP.name;
        let $cx = with_conn!(@ctx $self, db, $e, tenant, actor.as_deref(), op);
        // Boxed: the operation's future is several KB; moved by pointer, not copied, from here on.
        let r = crate::observe::trace::operation(db, OP, &$e, tenant.as_deref(), Box::pin(async {
            let model = &$e.schema.name;
            let slot = $self.cache_slot(&$e.schema, tenant.as_deref(), op, || format!("{:?}", ($(&$arg,)*))).await;
            if let Some(s) = &slot {
                if let Some(v) = db.inner.query_cache.get(model, s) {
                    return Ok(v);
                }
            }
            // A cache fill always reads the primary: a cached result is never older than the
            // last write that bumped the generation.
            let v = with_conn!(@retry $self, slot.is_some(), $c, $($body)*)?;
            let v = std::sync::Arc::new(crate::express::finish(v, $fin)?);
            if let Some(s) = slot {
                db.inner.query_cache.put(s, std::sync::Arc::clone(&v));
            }
            Ok::<_, dataflow_sql::Error>(v)
        }))
        .await;
        r?
    }};
    // A read on a routed connection (a replica outside transactions unless `$primary`), retried
    // once on another route when the connection was lost (reads are idempotent). The block's
    // value is the body's `Result`.
    (@retry $self:ident, $primary:expr, $c:ident, $($body:tt)*) => {{
        let mut avoid = None;
        let mut retried = false;
        loop {
            let (mut g, route) = $self.read_guard($primary, avoid).await?;
            let r = async {
                let mut $c = g.conn();
                Ok::<_, dataflow_sql::Error>($($body)*)
            }
            .await;
            drop(g);
            match (r, route) {
                (Err(err), Some(route)) if !retried && err.code() == dataflow_sql::ErrorCode::CONNECTION_LOST => {
                    tracing::debug!(target: "dataflow::sql", error = %err, "read lost its connection; retrying once");
                    avoid = $self.read_failed(route, &err);
                    retried = true;
                }
                (other, _) => break other,
            }
        }
    }};
    // A read decoded straight into what the caller hands out (issue 13), for handles whose
    // query cache is off ([`Express::cache_off`]): routed and retried like `@read`, not cached,
    // no `Arc`.
    (@direct $op:expr, $self:ident, $e:ident, $cx:ident, $c:ident, $($body:tt)*) => {{
        let db = $self.db;
        let tenant = $self.tenant.resolve(&$e.schema)?;
        let actor = $self.actor.clone();
        const OP: crate::observe::trace::Op = crate::observe::trace::Op::new($op);
        let op = OP.name;
        let $cx = with_conn!(@ctx $self, db, $e, tenant, actor.as_deref(), op);
        // Boxed: the operation's future is several KB; moved by pointer, not copied, from here on.
        let r = crate::observe::trace::operation(db, OP, &$e, tenant.as_deref(), Box::pin(async {
            with_conn!(@retry $self, false, $c, $($body)*)
        }))
        .await;
        r?
    }};
    // A read whose result is finished by `=> $fin` (a closure `raw -> Result<out>`) before it is
    // cached; the result is an `Arc` of it.
    ($self:ident, $e:ident, $cx:ident, $c:ident, ops::$m:ident::$f:ident (&mut $c2:ident, &$cx2:ident $(, $arg:expr)*) .await? => $fin:expr) => {
        with_conn!(@read crate::observe::trace::op_name(stringify!($m), stringify!($f)), $self, $e, $cx, $c, [$($arg),*], $fin, ops::$m::$f(&mut $c2, &$cx2 $(, $arg)*).await?)
    };
    // A read handed out as the statement returned it (an `Arc` of it).
    ($self:ident, $e:ident, $cx:ident, $c:ident, ops::read::$f:ident (&mut $c2:ident, &$cx2:ident $(, $arg:expr)*) $($rest:tt)*) => {
        with_conn!(@read crate::observe::trace::op_name("read", stringify!($f)), $self, $e, $cx, $c, [$($arg),*], Ok::<_, dataflow_sql::Error>, ops::read::$f(&mut $c2, &$cx2 $(, $arg)*) $($rest)*)
    };
    ($self:ident, $e:ident, $cx:ident, $c:ident, ops::list::$f:ident (&mut $c2:ident, &$cx2:ident $(, $arg:expr)*) $($rest:tt)*) => {
        with_conn!(@read crate::observe::trace::op_name("list", stringify!($f)), $self, $e, $cx, $c, [$($arg),*], Ok::<_, dataflow_sql::Error>, ops::list::$f(&mut $c2, &$cx2 $(, $arg)*) $($rest)*)
    };
    ($self:ident, $e:ident, $cx:ident, $c:ident, ops::count::$f:ident (&mut $c2:ident, &$cx2:ident $(, $arg:expr)*) $($rest:tt)*) => {
        with_conn!(@read crate::observe::trace::op_name("count", stringify!($f)), $self, $e, $cx, $c, [$($arg),*], Ok::<_, dataflow_sql::Error>, ops::count::$f(&mut $c2, &$cx2 $(, $arg)*) $($rest)*)
    };
    // The operation's span and metrics name come from the called `ops::<module>::<function>`.
    ($self:ident, $e:ident, $cx:ident, $c:ident, ops::$m:ident::$f:ident $($rest:tt)*) => {
        with_conn!(@op crate::observe::trace::op_name(stringify!($m), stringify!($f)), $self, $e, $cx, $c, ops::$m::$f $($rest)*)
    };
    // A block: the first `ops::<module>::<function>` at its top level names the operation.
    (@find $self:ident, $e:ident, $cx:ident, $c:ident, ($($all:tt)*) ops::$m:ident::$f:ident $($rest:tt)*) => {
        with_conn!(@op crate::observe::trace::op_name(stringify!($m), stringify!($f)), $self, $e, $cx, $c, $($all)*)
    };
    (@find $self:ident, $e:ident, $cx:ident, $c:ident, ($($all:tt)*) $skip:tt $($rest:tt)*) => {
        with_conn!(@find $self, $e, $cx, $c, ($($all)*) $($rest)*)
    };
    (@find $self:ident, $e:ident, $cx:ident, $c:ident, ($($all:tt)*)) => {
        with_conn!(@op "Other", $self, $e, $cx, $c, $($all)*)
    };
    ($self:ident, $e:ident, $cx:ident, $c:ident, { $($inner:tt)* }) => {
        with_conn!(@find $self, $e, $cx, $c, ({ $($inner)* }) $($inner)*)
    };
}
use with_conn;

/// Applies a read's finishing step (`with_conn!(.. => $fin)`), typed so that the closure's
/// error type is known.
pub(crate) fn finish<R, T>(raw: R, f: impl FnOnce(R) -> Result<T>) -> Result<T> {
    f(raw)
}

/// An owned copy of a read's shared result: free when nothing else holds it (an uncached
/// read), a clone when the query cache does.
pub(crate) fn owned<T: Clone>(v: Arc<T>) -> T {
    Arc::try_unwrap(v).unwrap_or_else(|v| (*v).clone())
}

impl<'a> Express<'a> {
    /// Runs every following call under a tenant. Calls on a model that is not multi-tenant then
    /// fail with DF-614, an invalid name with DF-613, and on a transaction bound to another
    /// tenant with DF-614 — all before any SQL (docs/guide/multi-tenancy.md).
    pub fn tenant(mut self, tenant: impl Into<Arc<str>>) -> Self {
        self.tenant.set_explicit(tenant.into());
        self
    }

    /// The cross-tenant admin handle (`db.all_tenants()`, crate::tenant).
    pub(crate) fn all_tenants(mut self) -> Self {
        self.tenant = crate::tenant::TenantCtx::all();
        self
    }

    /// The tenant applied to multi-tenant models only (workflow runs, bound transactions).
    pub(crate) fn tenant_context(mut self, tenant: Option<Arc<str>>) -> Self {
        self.tenant.set_context(tenant);
        self
    }

    /// Records `actor` as who made every following write in the audit trail of audited models
    /// (`dataflow_audit.actor`, docs/guide/protection-and-audit.md). A transaction opened from
    /// this handle ([`Express::transaction`]) keeps it. For workflow runs and every handle of an
    /// instance, use [`DataFlow::as_actor`].
    pub fn actor(mut self, actor: impl Into<Arc<str>>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Reads of this handle go to the primary: not to a replica, not to the query cache (for a
    /// read that must see the latest committed data).
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// let fresh = db.express().primary().read_json("Order", &serde_json::json!("o1")).await?;
    /// # let _ = fresh; Ok(()) }
    /// ```
    pub fn primary(mut self) -> Self {
        self.primary = true;
        self
    }

    /// Reads of this handle use the query cache, whatever the model's default
    /// (docs/guide/scaling.md, "Query cache"). Ignored inside transactions.
    pub fn cached(mut self) -> Self {
        self.cached = Some(true);
        self
    }

    /// Reads of this handle bypass the query cache, whatever the model's default.
    pub fn uncached(mut self) -> Self {
        self.cached = Some(false);
        self
    }

    /// Where a read's result is cached, when this read uses the cache.
    /// Whether reads of `schema` on this handle skip the query cache (in a transaction, on the
    /// primary, on the all-tenants handle, or with the cache off for the model): then typed and
    /// JSON reads decode rows straight into their result ([`with_conn!`]'s `@direct`).
    pub(crate) fn cache_off(&self, schema: &dataflow_sql::ModelSchema) -> bool {
        self.txn.is_some()
            || self.primary
            || self.tenant.is_all()
            || !self.cached.unwrap_or_else(|| self.db.inner.query_cache.model_enabled(schema))
    }

    pub(crate) async fn cache_slot<T: 'static>(
        &self,
        schema: &dataflow_sql::ModelSchema,
        tenant: Option<&str>,
        op: &str,
        args: impl FnOnce() -> String,
    ) -> Option<crate::query_cache::CacheSlot<T>> {
        // The all-tenants handle reads other rows than an unscoped handle with the same key.
        if self.cache_off(schema) {
            return None;
        }
        self.db.inner.query_cache.slot(schema, tenant, op, args()).await
    }

    /// A connection for a read: the transaction's, a replica's, or the primary's, and where it
    /// came from (`None` inside a transaction).
    pub(crate) async fn read_guard(
        &mut self,
        force_primary: bool,
        avoid: Option<usize>,
    ) -> Result<(Guard<'_>, Option<Route>)> {
        if let Some(t) = self.txn.as_deref_mut() {
            return Ok((Guard::Tx(t), None));
        }
        self.db.check_open()?;
        if let Some(r) = &self.db.inner.replicas
            && let Some((c, i)) = r.acquire_read(self.primary || force_primary, avoid).await
        {
            return Ok((Guard::Pooled(c), Some(Route::Replica(i))));
        }
        Ok((Guard::Pooled(self.db.acquire().await?), Some(Route::Primary)))
    }

    /// A read on `route` lost its connection: a replica is skipped until its next good health
    /// check. Returns the replica to avoid on the retry.
    pub(crate) fn read_failed(&self, route: Route, e: &dataflow_sql::Error) -> Option<usize> {
        match (route, &self.db.inner.replicas) {
            (Route::Replica(i), Some(r)) => {
                r.failed(i, e);
                Some(i)
            }
            _ => None,
        }
    }

    /// A write to `model` finished: inside a transaction, remember it for the commit; on the
    /// pool, invalidate its cached results and open the read-your-writes window now.
    pub(crate) async fn wrote(&mut self, model: &str) {
        match self.touched.as_deref_mut() {
            Some(t) => {
                if !t.iter().any(|m| m == model) {
                    t.push(model.to_owned());
                }
            }
            None => self.db.wrote(model).await,
        }
    }

    /// The pools a stream reads from: a replica's, or the primary's.
    pub(crate) fn stream_pools(&self) -> &crate::db::pool::Pools {
        match &self.db.inner.replicas {
            Some(r) => r.stream_pools(self.primary).unwrap_or(&self.db.inner.pools),
            None => &self.db.inner.pools,
        }
    }

    pub(crate) async fn guard(&mut self) -> Result<Guard<'_>> {
        match self.txn.as_deref_mut() {
            Some(t) => Ok(Guard::Tx(t)),
            None => Ok(Guard::Pooled(self.db.acquire().await?)),
        }
    }

    /// The instance (carrying this handle's actor) and tenant for [`Express::transaction`]
    /// (crate::tenant).
    pub(crate) fn transaction_parts(self) -> Result<(DataFlow, Option<Arc<str>>)> {
        if self.txn.is_some() {
            return Err(dataflow_sql::Error::new(
                dataflow_sql::ErrorCode::INVALID_PARAMETER,
                "`Express::transaction` was called on a transaction's handle",
            )
            .fix("inside a transaction, nest with `tx.transaction(..)` (a savepoint); it keeps the tenant"));
        }
        let t = self.tenant.for_transaction()?;
        let db = match self.actor {
            Some(a) if self.db.actor.as_deref() != Some(&*a) => self.db.as_actor(a),
            _ => self.db.clone(),
        };
        Ok((db, t))
    }

    /// The instance.
    pub fn db(&self) -> &DataFlow {
        self.db
    }
}
