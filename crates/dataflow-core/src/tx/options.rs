//! Transaction options: isolation level per transaction and the retry policy for transactions
//! the database aborts (serialization failure, deadlock, lock-wait timeout).

use std::time::Duration;

use dataflow_sql::{Error, ErrorCode, Result};
use futures::future::BoxFuture;

use super::Tx;
use crate::DataFlow;
use crate::db::pool::{Pools, Txn};
use crate::error::classify;

pub use dataflow_sql::stmt::Isolation;

/// When and how often [`DataFlow::transaction_with`] re-runs a transaction the database
/// aborted: serialization failure (SQLSTATE 40001, DF-505), deadlock (40P01 / MariaDB 1213,
/// DF-506) and lock-wait timeout (MariaDB 1205, SQLite busy; reported as DF-505). The whole
/// closure runs again after a rollback, so retrying is safe whatever the closure did in the
/// database; effects outside it (HTTP calls, channels) happen once per attempt.
///
/// Connection loss and errors during `COMMIT` are never retried: the outcome is unknown.
///
/// ```
/// use std::time::Duration;
/// use dataflow_core::RetryPolicy;
/// let p = RetryPolicy::default().max_attempts(10).backoff(Duration::from_millis(5), Duration::from_millis(500));
/// # let _ = p;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    max: Duration,
}

impl Default for RetryPolicy {
    /// Up to 8 attempts, full-jitter exponential backoff from 5 ms, capped at 1 s.
    fn default() -> Self {
        RetryPolicy { max_attempts: 8, base: Duration::from_millis(5), max: Duration::from_secs(1) }
    }
}

impl RetryPolicy {
    /// No retry: the first abort surfaces as DF-505 / DF-506.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// The total number of attempts (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Backoff before attempt `k + 1`: a random duration in `[0, min(max, base * 2^k))`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base = base;
        self.max = max.max(base);
        self
    }

    /// The number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether an error of attempt `attempt` (1-based) is retried.
    pub fn retries(&self, err: &Error, attempt: u32) -> bool {
        attempt < self.max_attempts && is_retryable(err)
    }

    fn delay(&self, attempt: u32) -> Duration {
        let cap = self.base.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 { Duration::ZERO } else { Duration::from_nanos(random_u64() % nanos) }
    }
}

/// True for the errors a database raises when it aborts a transaction it could re-run:
/// DF-505 (serialization failure, lock-wait timeout, busy) and DF-506 (deadlock).
pub fn is_retryable(err: &Error) -> bool {
    err.code() == ErrorCode::SERIALIZATION_FAILURE || err.code() == ErrorCode::DEADLOCK
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}

/// Options of [`DataFlow::transaction_with`]: isolation level and retry policy. Build from an
/// [`Isolation`], a [`RetryPolicy`], or both:
///
/// ```
/// use dataflow_core::{Isolation, RetryPolicy, TxOptions};
/// let o = TxOptions::new().isolation(Isolation::Serializable).retry(RetryPolicy::default());
/// let same: TxOptions = Isolation::Serializable.into(); // retries with the default policy
/// # let _ = (o, same);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxOptions {
    isolation: Option<Isolation>,
    /// `None`: the instance's default ([`crate::Config::retry`]; no retry unless set or in
    /// [`crate::Config::compat`] mode).
    retry: Option<RetryPolicy>,
}

impl Default for TxOptions {
    /// The database's default isolation level, the instance's retry policy
    /// ([`crate::Config::retry`]: none unless configured or in `Compat` mode).
    fn default() -> Self {
        TxOptions { isolation: None, retry: None }
    }
}

impl TxOptions {
    /// The database's default isolation level, the instance's retry policy (see
    /// [`TxOptions::default`]).
    pub fn new() -> Self {
        TxOptions::default()
    }

    /// Sets the isolation level.
    pub fn isolation(mut self, i: Isolation) -> Self {
        self.isolation = Some(i);
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, p: RetryPolicy) -> Self {
        self.retry = Some(p);
        self
    }

    /// `Serializable` with the default retry policy: the safe choice for read-then-write.
    pub fn serializable() -> Self {
        TxOptions { isolation: Some(Isolation::Serializable), retry: Some(RetryPolicy::default()) }
    }
}

impl From<Isolation> for TxOptions {
    /// That isolation level with the default retry policy.
    fn from(i: Isolation) -> Self {
        TxOptions { isolation: Some(i), retry: Some(RetryPolicy::default()) }
    }
}

impl From<RetryPolicy> for TxOptions {
    /// The database's default isolation level with that retry policy.
    fn from(p: RetryPolicy) -> Self {
        TxOptions { isolation: None, retry: Some(p) }
    }
}

impl Pools {
    /// Begins a transaction at an isolation level (see [`Isolation`] per backend).
    pub(crate) async fn begin_isolated(&self, iso: Option<Isolation>) -> Result<Txn<'static>> {
        let Some(iso) = iso else { return self.begin().await };
        Ok(match self {
            Pools::Postgres(p) => Txn::Postgres(
                p.begin_with(sqlx::AssertSqlSafe(iso.begin_postgres())).await.map_err(|e| classify(e, None))?,
            ),
            Pools::MySql(p) => {
                use sqlx::Executor;
                let mut conn = p.acquire().await.map_err(|e| classify(e, None))?;
                // Applies to the next transaction of this session only.
                conn.execute(sqlx::AssertSqlSafe(iso.set_next_mysql())).await.map_err(|e| classify(e, None))?;
                Txn::MySql(sqlx::Transaction::begin(conn, None).await.map_err(|e| classify(e, None))?)
            }
            Pools::Sqlite(_) => return self.begin().await,
        })
    }
}

impl DataFlow {
    /// Runs `f` in a transaction with options: an [`Isolation`] level and a [`RetryPolicy`].
    /// Commits on `Ok`, rolls back on `Err`; when the database aborts the transaction
    /// (serialization failure DF-505, deadlock DF-506, lock-wait timeout) the whole closure runs
    /// again in a new transaction, with jittered backoff, up to the policy's bound — so `f` is
    /// `Fn` and must be re-runnable: build everything it writes inside it, and keep side effects
    /// outside the database out of it. When retries are exhausted (or disabled) the last
    /// DF-505 / DF-506 is returned.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// use dataflow_core::Isolation;
    /// use futures::FutureExt;
    /// use serde_json::json;
    /// db.transaction_with(Isolation::Serializable, |tx| {
    ///     async move {
    ///         let a = tx.express().read_json("Account", &json!("a")).await?.unwrap_or_default();
    ///         let balance = a["balance"].as_i64().unwrap_or(0);
    ///         tx.express().update_json("Account", &json!({"id": "a"}), &json!({"balance": balance - 10})).await?;
    ///         Ok(())
    ///     }
    ///     .boxed()
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn transaction_with<T, F>(&self, options: impl Into<TxOptions>, f: F) -> Result<T>
    where
        T: Send,
        F: for<'c> Fn(&'c mut Tx) -> BoxFuture<'c, Result<T>>,
    {
        let o: TxOptions = options.into();
        let retry = o.retry.or(self.config().retry).unwrap_or_else(RetryPolicy::none);
        let mut attempt = 1;
        loop {
            match self.transaction_once(o.isolation, &f).await {
                Err(e) if retry.retries(&e, attempt) => {
                    let wait = retry.delay(attempt);
                    tracing::debug!(target: "dataflow::sql", code = %e.code(), attempt, ?wait, "transaction aborted by the database, retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn transaction_once<T, F>(&self, iso: Option<Isolation>, f: &F) -> Result<T>
    where
        T: Send,
        F: for<'c> Fn(&'c mut Tx) -> BoxFuture<'c, Result<T>>,
    {
        self.check_open()?;
        let txn = self.inner.pools.begin_isolated(iso).await?;
        let mut tx = Tx::new(self.clone(), txn);
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
