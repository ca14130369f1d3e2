//! Transactions: a closure API that commits on `Ok` and rolls back on `Err`; nested calls are
//! savepoints. Every Express operation runs inside through [`Tx::express`].

mod options;

use futures::future::BoxFuture;

use dataflow_sql::Result;
use dataflow_sql::stmt::tx;

use crate::DataFlow;
use crate::db::pool::Txn;

pub use options::{Isolation, RetryPolicy, TxOptions, is_retryable};

/// An open transaction. Obtained inside [`DataFlow::transaction`].
pub struct Tx {
    pub(crate) db: DataFlow,
    pub(crate) txn: Txn<'static>,
    depth: u32,
    /// The tenant this transaction is bound to (`tx.tenant(..)`, `db.tenant(..).transaction(..)`);
    /// every `tx.express()` carries it and it cannot be switched (crate::tenant).
    pub(crate) tenant: Option<std::sync::Arc<str>>,
    /// Models written in the transaction: their query-cache generations are bumped when it ends.
    pub(crate) touched: Vec<String>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").field("depth", &self.depth).field("tenant", &self.tenant).finish()
    }
}

impl DataFlow {
    /// Runs `f` in a transaction: commit when it returns `Ok`, roll back on `Err`.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// use futures::FutureExt;
    /// use serde_json::json;
    /// let n = db
    ///     .transaction(|tx| {
    ///         async move {
    ///             tx.express().create_json("User", &json!({"id": "u1", "name": "Ann"})).await?;
    ///             tx.express().count_json("User", &json!({})).await
    ///         }
    ///         .boxed()
    ///     })
    ///     .await?;
    /// # let _ = n; Ok(()) }
    /// ```
    pub async fn transaction<T, F>(&self, f: F) -> Result<T>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut Tx) -> BoxFuture<'c, Result<T>>,
    {
        self.transaction_bound(None, f).await
    }

    /// [`DataFlow::transaction`] with the transaction bound to `tenant` (see `crate::tenant`).
    pub(crate) async fn transaction_bound<T, F>(&self, tenant: Option<std::sync::Arc<str>>, f: F) -> Result<T>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut Tx) -> BoxFuture<'c, Result<T>>,
    {
        self.check_open()?;
        let txn = self.inner.pools.begin().await?;
        let mut tx = Tx { db: self.clone(), txn, depth: 0, tenant, touched: Vec::new() };
        match f(&mut tx).await {
            Ok(v) => {
                let done = tx.txn.commit().await;
                // Even a failed COMMIT may have applied (DF-511): invalidate either way.
                for m in &tx.touched {
                    self.wrote(m).await;
                }
                done?;
                Ok(v)
            }
            Err(e) => {
                if let Err(re) = tx.txn.rollback().await {
                    tracing::warn!(target: "dataflow::sql", error = %re, "rollback failed");
                }
                Err(e)
            }
        }
    }
}

impl Tx {
    pub(crate) fn new(db: DataFlow, txn: Txn<'static>) -> Tx {
        Tx { db, txn, depth: 0, tenant: None, touched: Vec::new() }
    }

    /// The instance this transaction belongs to.
    pub fn db(&self) -> &DataFlow {
        &self.db
    }

    /// A nested transaction: a savepoint, released on `Ok`, rolled back to on `Err` (the outer
    /// transaction goes on).
    pub async fn transaction<T, F>(&mut self, f: F) -> Result<T>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut Tx) -> BoxFuture<'c, Result<T>>,
    {
        self.depth += 1;
        self.txn.conn().execute_raw(&tx::savepoint(self.depth), None).await?;
        let r = f(self).await;
        let end = match &r {
            Ok(_) => tx::release_savepoint(self.depth),
            Err(_) => tx::rollback_to_savepoint(self.depth),
        };
        let done = self.txn.conn().execute_raw(&end, None).await;
        self.depth -= 1;
        let v = r?;
        done?;
        Ok(v)
    }
}
