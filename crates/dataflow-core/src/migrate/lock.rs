//! The cross-process migration lock: a PostgreSQL advisory lock, a MySQL/MariaDB `GET_LOCK`,
//! or SQLite's write lock taken with `BEGIN IMMEDIATE` (the migration then runs inside that
//! transaction) — or, where advisory locks are unavailable, a lease row
//! ([`dataflow_sql::stmt::lease`]) renewed by a heartbeat task. Waiting longer than the timeout
//! is DF-303.
//!
//! Cancellation: a [`Held`] lease releases itself when dropped (a task deletes the row), and
//! the migration's connection is closed when its future is dropped (`PoolConn::close_on_drop`),
//! which ends session locks and rolls back an open migration transaction.

use std::time::{Duration, Instant};

use dataflow_sql::dialect::LockStatements;
use dataflow_sql::stmt::{Sql, lease, tx};
use dataflow_sql::{Dialect, Error, ErrorCode, Result};
use sea_query_sqlx::SqlxValues;
use sqlx::AssertSqlSafe;

use super::introspect::db_err;
use crate::db::pool::{Conn, Pools};

/// Which cross-process lock migrations take (docs/guide/scaling.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MigrationLock {
    /// The backend's own lock (PostgreSQL advisory lock, MySQL/MariaDB `GET_LOCK`, SQLite's
    /// write lock); when the database rejects the advisory lock function, the lease row.
    #[default]
    Auto,
    /// The lease row in `dataflow_migration_lock` (owner, expiry, heartbeat), for databases
    /// without advisory locks. SQLite keeps its write lock (it has no other processes' sessions
    /// to lose).
    Lease,
}

/// What a migration run's lock needs besides its connection.
#[derive(Clone)]
pub(crate) struct LockEnv {
    /// The pool the heartbeat and a cancelled run's release use (never the migration's
    /// connection, which is busy or gone).
    pub pools: Pools,
    /// The configured lock.
    pub mode: MigrationLock,
    /// Lease duration.
    pub lease: Duration,
    /// Longest wait for another holder.
    pub timeout: Duration,
    /// Whether migration steps run inside one transaction (PostgreSQL outside `Compat`).
    pub transactional_ddl: bool,
}

/// A taken lock.
pub(crate) enum Held {
    /// A session or transaction lock, ended by [`release`] or by closing the connection.
    Session,
    /// A lease row.
    Lease(LeaseHold),
}

/// A held lease: renewed by a heartbeat task until released; dropping it unreleased (a
/// cancelled migration) releases it from a spawned task.
pub(crate) struct LeaseHold {
    owner: String,
    dialect: Dialect,
    pools: Pools,
    heartbeat: tokio::task::JoinHandle<()>,
    released: bool,
}

impl Drop for LeaseHold {
    fn drop(&mut self) {
        self.heartbeat.abort();
        if self.released {
            return;
        }
        let (pools, owner, d) = (self.pools.clone(), self.owner.clone(), self.dialect);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = release_lease(&pools, d, &owner).await {
                    tracing::warn!(target: "dataflow::migrate", error = %e, "could not release the migration lease; it expires by itself");
                }
            });
        }
    }
}

async fn release_lease(pools: &Pools, d: Dialect, owner: &str) -> Result<()> {
    let mut pc = pools.acquire().await?;
    exec_rows(&mut pc.conn(), lease::release(d, owner)).await.map_err(db_err).map(drop)
}

/// Runs a lock statement with bound values; the affected rows.
async fn exec_rows(conn: &mut Conn<'_>, st: Sql) -> std::result::Result<u64, sqlx::Error> {
    let q = AssertSqlSafe(st.sql);
    let v = SqlxValues(st.values);
    Ok(match conn {
        Conn::Postgres(c) => sqlx::query_with(q, v).execute(&mut **c).await?.rows_affected(),
        Conn::MySql(c) => sqlx::query_with(q, v).execute(&mut **c).await?.rows_affected(),
        Conn::Sqlite(c) => sqlx::query_with(q, v).execute(&mut **c).await?.rows_affected(),
    })
}

/// The lease's holder and its remaining milliseconds, for DF-303.
async fn lease_holder(conn: &mut Conn<'_>) -> Option<(String, i64)> {
    let st = lease::holder(conn.dialect());
    let q = AssertSqlSafe(st.sql);
    let v = SqlxValues(st.values);
    match conn {
        Conn::Postgres(c) => sqlx::query_as_with(q, v).fetch_optional(&mut **c).await.ok().flatten(),
        Conn::MySql(c) => sqlx::query_as_with(q, v).fetch_optional(&mut **c).await.ok().flatten(),
        Conn::Sqlite(c) => sqlx::query_as_with(q, v).fetch_optional(&mut **c).await.ok().flatten(),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// A deadlock or serialization failure (SQLSTATE `40001` on MySQL/MariaDB, `40P01`/`40001` on
/// PostgreSQL): processes racing for the lease row can hit one on InnoDB's unique-index locks.
/// Nothing was taken; the loop tries again.
fn is_contention(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "40001" || c == "40P01")
}

/// Takes the lease row, waiting up to `env.timeout` for another holder (or its expiry).
async fn acquire_lease(conn: &mut Conn<'_>, env: &LockEnv) -> Result<LeaseHold> {
    let start = Instant::now();
    let d = conn.dialect();
    let ddl = lease::create_table(d);
    if let Err(e) = conn.execute_raw(&ddl, None).await {
        // Concurrent CREATE TABLE IF NOT EXISTS can collide on PostgreSQL: once more.
        tracing::debug!(target: "dataflow::migrate", error = %e, "creating the lease table, retrying once");
        tokio::time::sleep(Duration::from_millis(50)).await;
        conn.execute_raw(&ddl, None).await?;
    }
    let owner = uuid::Uuid::new_v4().simple().to_string();
    let lease_ms = i64::try_from(env.lease.as_millis()).unwrap_or(i64::MAX / 4);
    let poll = (env.lease / 8).clamp(Duration::from_millis(20), Duration::from_millis(250));
    loop {
        let taken = match exec_rows(conn, lease::take(d, &owner, lease_ms)).await {
            Ok(n) => n == 1,
            Err(e) if is_contention(&e) => false,
            Err(e) => return Err(db_err(e)),
        } || {
            match exec_rows(conn, lease::insert(d, &owner, lease_ms)).await {
                Ok(_) => true,
                Err(e) if is_unique_violation(&e) || is_contention(&e) => false,
                Err(e) => return Err(db_err(e)),
            }
        };
        if taken {
            break;
        }
        if start.elapsed() >= env.timeout {
            let detail = match lease_holder(conn).await {
                Some((h, left)) => format!(" (lease held by `{h}`, {left} ms left; it is taken over once expired)"),
                None => " (lease row)".to_owned(),
            };
            return Err(timeout_err(start.elapsed(), &detail));
        }
        tokio::time::sleep(poll).await;
    }
    let (pools, hb_owner, every) = (env.pools.clone(), owner.clone(), env.lease / 3);
    let heartbeat = tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let renewed = async {
                let mut pc = pools.acquire().await?;
                exec_rows(&mut pc.conn(), lease::renew(d, &hb_owner, lease_ms)).await.map_err(db_err)
            }
            .await;
            match renewed {
                Ok(1) => {}
                Ok(_) => {
                    tracing::error!(target: "dataflow::migrate", owner = %hb_owner, "the migration lease was lost (expired and taken over)");
                    return;
                }
                Err(e) => {
                    tracing::warn!(target: "dataflow::migrate", error = %e, "could not renew the migration lease")
                }
            }
        }
    });
    tracing::debug!(target: "dataflow::migrate", %owner, "migration lease taken");
    Ok(LeaseHold { owner, dialect: d, pools: env.pools.clone(), heartbeat, released: false })
}

/// How long `register` waits for another process's migration (default).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

fn timeout_err(waited: Duration, detail: &str) -> Error {
    Error::new(
        ErrorCode::MIGRATION_LOCK_TIMEOUT,
        format!("could not take the migration lock within {} ms: another process is migrating this database{detail}", waited.as_millis()),
    )
    .fix("wait for the other process's migration to finish and retry")
    .fix("if no migration is running, a crashed session may still hold the lock: on PostgreSQL it is released when that session ends; on MySQL/MariaDB when its connection closes; on SQLite when the writing transaction ends; a lease row (MigrationLock::Lease, Compat mode) when its lease expires")
}

/// Takes the lock, waiting up to `env.timeout`: the lease row when configured (not on SQLite)
/// or when the database rejects its advisory lock function, otherwise the backend's lock.
pub(crate) async fn acquire(conn: &mut Conn<'_>, env: &LockEnv) -> Result<Held> {
    // SQLite's lock is its write transaction: no other process holds a session to lease from.
    let sqlite = matches!(conn.dialect().backend().lock(), LockStatements::WriteTransaction { .. });
    if env.mode == MigrationLock::Lease && !sqlite {
        return acquire_lease(conn, env).await.map(Held::Lease);
    }
    match acquire_session(conn, env.timeout).await {
        Ok(()) => Ok(Held::Session),
        Err(Rejected(e)) if !sqlite => {
            tracing::warn!(target: "dataflow::migrate", error = %e,
                "the database rejected its advisory lock; using the lease-row migration lock (docs/guide/scaling.md)");
            acquire_lease(conn, env).await.map(Held::Lease)
        }
        Err(Rejected(e) | Failed(e)) => Err(e),
    }
}

/// Why the backend's own lock was not taken.
enum SessionLockError {
    /// The lock function itself failed (unknown / unimplemented function).
    Rejected(Error),
    /// Timeout or another failure.
    Failed(Error),
}
use SessionLockError::{Failed, Rejected};

async fn acquire_session(conn: &mut Conn<'_>, timeout: Duration) -> std::result::Result<(), SessionLockError> {
    let start = Instant::now();
    let lock = conn.dialect().backend().lock();
    let rejected = |e: sqlx::Error| match e {
        sqlx::Error::Database(_) => Rejected(db_err(e)),
        e => Failed(db_err(e)),
    };
    match (conn, lock) {
        (Conn::Postgres(c), LockStatements::Advisory { try_acquire, key, .. }) => loop {
            let got: bool = sqlx::query_scalar(try_acquire).bind(key).fetch_one(&mut **c).await.map_err(rejected)?;
            if got {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(Failed(timeout_err(start.elapsed(), " (pg_advisory_lock)")));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        },
        (Conn::MySql(c), LockStatements::Named { acquire, .. }) => {
            let secs = i64::try_from(timeout.as_secs().max(1)).unwrap_or(i64::MAX);
            let got: Option<i64> =
                sqlx::query_scalar(acquire).bind(secs).fetch_one(&mut **c).await.map_err(rejected)?;
            if got == Some(1) { Ok(()) } else { Err(Failed(timeout_err(start.elapsed(), " (GET_LOCK)"))) }
        }
        (Conn::Sqlite(c), LockStatements::WriteTransaction { begin, busy_timeout }) => {
            use sqlx::Executor;
            // Poll with a short busy timeout so `timeout` (not the pool's busy timeout) bounds the wait.
            let orig: i64 =
                sqlx::query_scalar(busy_timeout).fetch_one(&mut **c).await.map_err(|e| Failed(db_err(e)))?;
            c.execute(AssertSqlSafe(tx::set_busy_timeout(20))).await.map_err(|e| Failed(db_err(e)))?;
            let res = loop {
                match c.execute(begin).await {
                    Ok(_) => break Ok(()),
                    Err(e) => {
                        let busy = e.as_database_error().is_some_and(|d| {
                            let m = d.message().to_ascii_lowercase();
                            m.contains("locked") || m.contains("busy")
                        });
                        if !busy {
                            break Err(db_err(e));
                        }
                        if start.elapsed() >= timeout {
                            break Err(timeout_err(start.elapsed(), " (BEGIN IMMEDIATE)"));
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            };
            // Best effort: a failure here leaves only a shorter busy timeout on this connection.
            if let Err(e) = c.execute(AssertSqlSafe(tx::set_busy_timeout(orig.max(0).unsigned_abs()))).await {
                tracing::debug!(target: "dataflow::migrate", error = %e, "could not restore busy_timeout");
            }
            res.map_err(Failed)
        }
        (conn, lock) => Err(Failed(mismatch(conn.dialect(), lock))),
    }
}

fn mismatch(d: dataflow_sql::Dialect, lock: LockStatements) -> Error {
    Error::new(ErrorCode::MIGRATION_FAILED, format!("the {d} connection cannot take a lock of kind {lock:?}"))
        .fix("report this as a bug: the dialect's lock statements do not fit its connection")
}

/// Releases the lock. On SQLite this ends the migration transaction: COMMIT when `commit`,
/// otherwise ROLLBACK.
pub(crate) async fn release(conn: &mut Conn<'_>, held: &mut Held, commit: bool) -> Result<()> {
    use sqlx::Executor;
    if let Held::Lease(l) = held {
        l.heartbeat.abort();
        exec_rows(conn, lease::release(l.dialect, &l.owner)).await.map_err(db_err)?;
        l.released = true;
        return Ok(());
    }
    let lock = conn.dialect().backend().lock();
    match (conn, lock) {
        (Conn::Postgres(c), LockStatements::Advisory { release, key, .. }) => {
            sqlx::query(release).bind(key).execute(&mut **c).await.map_err(db_err)?;
        }
        (Conn::MySql(c), LockStatements::Named { release, .. }) => {
            c.execute(release).await.map_err(db_err)?;
        }
        (Conn::Sqlite(c), LockStatements::WriteTransaction { .. }) => {
            c.execute(if commit { tx::COMMIT } else { tx::ROLLBACK }).await.map_err(db_err)?;
        }
        (conn, lock) => return Err(mismatch(conn.dialect(), lock)),
    }
    Ok(())
}
