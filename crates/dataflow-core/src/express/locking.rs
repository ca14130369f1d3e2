//! Reads that lock rows until the transaction ends: `read_for_update`, `list(..).for_update()`.
//!
//! PostgreSQL and MySQL/MariaDB: `SELECT .. FOR UPDATE` — another transaction that wants to
//! change (or lock) the row waits until this one commits or rolls back, so read-then-write
//! inside the transaction cannot lose a concurrent update. SQLite has no row locks and needs
//! none: a DataFlow write transaction begins `IMMEDIATE` and holds the database's write lock
//! from its first statement, so other writers already wait.

use dataflow_sql::{Error, ErrorCode, Model, Result};
use serde_json::Value as J;

use super::json::row_json;
use super::typed::{IntoId, Stored};
use super::{Express, with_conn};
use crate::ops::{self, Ctx};

impl Express<'_> {
    /// DF-109 unless this Express runs inside a transaction.
    pub(crate) fn require_tx(&self, what: &str, model: &str) -> Result<()> {
        if self.txn.is_some() {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::INVALID_PARAMETER,
            format!("`{what}` on `{model}` locks rows until the transaction ends and needs a transaction"),
        )
        .model(model)
        .operator(what)
        .fix("call it on `tx.express()` inside `db.transaction(|tx| ..)`")
        .fix("for a single atomic change use an update operator instead, e.g. {\"$inc\": {\"n\": 1}}"))
    }

    /// Reads a record by id and locks it until the transaction ends; `None` when missing.
    /// Only inside a transaction (DF-109 otherwise).
    ///
    /// ```no_run
    /// # use dataflow_core::Stored;
    /// # async fn run<Account: dataflow_sql::Model + Clone + Send + Sync>(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// use futures::FutureExt;
    /// db.transaction(|tx| {
    ///     async move {
    ///         let a: Option<Stored<Account>> = tx.express().read_for_update::<Account>("a").await?;
    ///         // ... compute and write; no other transaction changes `a` meanwhile
    ///         # let _ = a;
    ///         Ok(())
    ///     }
    ///     .boxed()
    /// })
    /// .await
    /// # }
    /// ```
    pub async fn read_for_update<M: Model>(&mut self, id: impl IntoId) -> Result<Option<Stored<M>>> {
        let e = self.db.typed_entry::<M>()?;
        self.require_tx("read_for_update", &e.schema.name)?;
        let id = id.into_id();
        let row = with_conn!(self, e, cx, c, ops::lock::read_for_update(&mut c, &cx, &id).await?);
        row.map(|r| Stored::from_row(&e, r, self.tenant.current())).transpose()
    }

    /// [`Express::read_for_update`] by model name; the record as JSON.
    pub async fn read_for_update_json(&mut self, model: &str, id: &J) -> Result<Option<J>> {
        let e = self.db.model(model)?;
        self.require_tx("read_for_update", &e.schema.name)?;
        let f = e.schema.id_field().ok_or_else(|| e.schema.unknown_field("id"))?;
        let id = dataflow_sql::Value::from_json(id, f).map_err(|x| x.or_model(model))?;
        let cols = e.cols.clone();
        let row = with_conn!(self, e, cx, c, ops::lock::read_for_update(&mut c, &cx, &id).await?);
        Ok(row.map(|r| J::Object(row_json(&cols, r))))
    }
}
