//! The cross-process migration lock: a PostgreSQL advisory lock, a MySQL/MariaDB `GET_LOCK`,
//! or SQLite's write lock taken with `BEGIN IMMEDIATE` (the migration then runs inside that
//! transaction). Waiting longer than the timeout is DF-303.

use std::time::{Duration, Instant};

use dataflow_sql::dialect::LockStatements;
use dataflow_sql::stmt::tx;
use dataflow_sql::{Error, ErrorCode, Result};
use sqlx::AssertSqlSafe;

use super::introspect::db_err;
use crate::db::pool::Conn;

/// How long `register` waits for another process's migration (default).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

fn timeout_err(waited: Duration, detail: &str) -> Error {
    Error::new(
        ErrorCode::MIGRATION_LOCK_TIMEOUT,
        format!("could not take the migration lock within {} ms: another process is migrating this database{detail}", waited.as_millis()),
    )
    .fix("wait for the other process's migration to finish and retry")
    .fix("if no migration is running, a crashed session may still hold the lock: on PostgreSQL it is released when that session ends; on MySQL/MariaDB when its connection closes; on SQLite when the writing transaction ends")
}

/// Takes the lock, waiting up to `timeout`.
pub(crate) async fn acquire(conn: &mut Conn<'_>, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    let lock = conn.dialect().backend().lock();
    match (conn, lock) {
        (Conn::Postgres(c), LockStatements::Advisory { try_acquire, key, .. }) => loop {
            let got: bool = sqlx::query_scalar(try_acquire).bind(key).fetch_one(&mut **c).await.map_err(db_err)?;
            if got {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(timeout_err(start.elapsed(), " (pg_advisory_lock)"));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        },
        (Conn::MySql(c), LockStatements::Named { acquire, .. }) => {
            let secs = i64::try_from(timeout.as_secs().max(1)).unwrap_or(i64::MAX);
            let got: Option<i64> = sqlx::query_scalar(acquire).bind(secs).fetch_one(&mut **c).await.map_err(db_err)?;
            if got == Some(1) { Ok(()) } else { Err(timeout_err(start.elapsed(), " (GET_LOCK)")) }
        }
        (Conn::Sqlite(c), LockStatements::WriteTransaction { begin, busy_timeout }) => {
            use sqlx::Executor;
            // Poll with a short busy timeout so `timeout` (not the pool's busy timeout) bounds the wait.
            let orig: i64 = sqlx::query_scalar(busy_timeout).fetch_one(&mut **c).await.map_err(db_err)?;
            c.execute(AssertSqlSafe(tx::set_busy_timeout(20))).await.map_err(db_err)?;
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
            res
        }
        (conn, lock) => Err(mismatch(conn.dialect(), lock)),
    }
}

fn mismatch(d: dataflow_sql::Dialect, lock: LockStatements) -> Error {
    Error::new(ErrorCode::MIGRATION_FAILED, format!("the {d} connection cannot take a lock of kind {lock:?}"))
        .fix("report this as a bug: the dialect's lock statements do not fit its connection")
}

/// Releases the lock. On SQLite this ends the migration transaction: COMMIT when `commit`,
/// otherwise ROLLBACK.
pub(crate) async fn release(conn: &mut Conn<'_>, commit: bool) -> Result<()> {
    use sqlx::Executor;
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
