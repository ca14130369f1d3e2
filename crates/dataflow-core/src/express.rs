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
use crate::tx::Tx;

/// The Express API of one instance (or one transaction). Create with [`DataFlow::express`] or
/// [`Tx::express`].
pub struct Express<'a> {
    db: &'a DataFlow,
    txn: Option<&'a mut Txn<'static>>,
    tenant: Option<Arc<str>>,
    actor: Option<Arc<str>>,
}

impl std::fmt::Debug for Express<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Express")
            .field("in_transaction", &self.txn.is_some())
            .field("tenant", &self.tenant)
            .field("actor", &self.actor)
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
        Express { db: self, txn: None, tenant: None, actor: None }
    }
}

impl Tx {
    /// The Express API on this transaction.
    pub fn express(&mut self) -> Express<'_> {
        Express { db: &self.db, txn: Some(&mut self.txn), tenant: None, actor: None }
    }
}

/// Builds the operation context for `$e` and binds a connection `$c` (pooled, or the open
/// transaction's) for `$body`, inside the operation's span, metrics and stats
/// (`observe::trace::operation`).
macro_rules! with_conn {
    (@op $op:expr, $self:ident, $e:ident, $cx:ident, $c:ident, $($body:tt)*) => {{
        let db = $self.db;
        let tenant = $self.tenant.clone();
        let actor = $self.actor.clone();
        let $cx = Ctx {
            e: &$e,
            dialect: db.dialect(),
            server: db.mysql_server(),
            tenant: tenant.as_deref(),
            full_table_guard: db.config().full_table_guard,
            protection: &db.config().protection,
            actor: actor.as_deref(),
            op: $op,
        };
        let r = crate::observe::trace::operation(db, $op, &$e.schema.name, tenant.as_deref(), async {
            // Write protection (instance, window, model, operation): DF-609 before any SQL.
            if let Err(err) = $cx.protection.check(&$e.schema, $op) {
                if crate::audit::records_blocked(&$cx) {
                    let mut g = $self.guard().await?;
                    crate::audit::blocked(&mut g.conn(), &$cx, $op, &err).await?;
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
                crate::audit::blocked(&mut $c, &$cx, $op, err).await?;
            }
            out
        })
        .await;
        r?
    }};
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

impl<'a> Express<'a> {
    /// Runs every following call under a tenant (multi-tenant models).
    pub fn tenant(mut self, tenant: impl Into<Arc<str>>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// Records `actor` as who made every following write in the audit trail of audited models
    /// (`dataflow_audit.actor`, docs/guide/protection-and-audit.md).
    pub fn actor(mut self, actor: impl Into<Arc<str>>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    pub(crate) async fn guard(&mut self) -> Result<Guard<'_>> {
        match self.txn.as_deref_mut() {
            Some(t) => Ok(Guard::Tx(t)),
            None => Ok(Guard::Pooled(self.db.acquire().await?)),
        }
    }

    /// The instance.
    pub fn db(&self) -> &DataFlow {
        self.db
    }
}
