//! The cross-process migration lock: a PostgreSQL advisory lock, a MySQL/MariaDB `GET_LOCK`,
//! or SQLite's write lock taken with `BEGIN IMMEDIATE` (the migration then runs inside that
//! transaction). Waiting longer than the timeout is DF-303.

use std::time::{Duration, Instant};

use dataflow_sql::{Error, ErrorCode, Result};

use super::introspect::db_err;
use crate::db::pool::Conn;

/// How long `register` waits for another process's migration (default).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// The advisory lock key on PostgreSQL (`"dataflow"` in ASCII); advisory locks are per database.
const PG_KEY: i64 = 0x6461_7461_666c_6f77;

/// The lock name on MySQL/MariaDB, one per database (GET_LOCK names are server-wide).
const MY_NAME: &str = "LEFT(CONCAT('dataflow_migrate:', DATABASE()), 64)";

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
    match conn {
        Conn::Postgres(c) => loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(PG_KEY)
                .fetch_one(&mut **c)
                .await
                .map_err(db_err)?;
            if got {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(timeout_err(start.elapsed(), " (pg_advisory_lock)"));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        },
        Conn::MySql(c) => {
            let secs = i64::try_from(timeout.as_secs().max(1)).unwrap_or(i64::MAX);
            let sql = format!("SELECT GET_LOCK({MY_NAME}, ?)");
            let got: Option<i64> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(secs).fetch_one(&mut **c).await.map_err(db_err)?;
            if got == Some(1) { Ok(()) } else { Err(timeout_err(start.elapsed(), " (GET_LOCK)")) }
        }
        Conn::Sqlite(c) => {
            use sqlx::Executor;
            // Poll with a short busy timeout so `timeout` (not the pool's busy timeout) bounds the wait.
            let orig: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut **c).await.map_err(db_err)?;
            c.execute("PRAGMA busy_timeout = 20").await.map_err(db_err)?;
            let res = loop {
                match c.execute("BEGIN IMMEDIATE").await {
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
            let restore = format!("PRAGMA busy_timeout = {}", orig.max(0));
            // Best effort: a failure here leaves only a shorter busy timeout on this connection.
            let _ = c.execute(sqlx::AssertSqlSafe(restore)).await;
            res
        }
    }
}

/// Releases the lock. On SQLite this ends the migration transaction: COMMIT when `commit`,
/// otherwise ROLLBACK.
pub(crate) async fn release(conn: &mut Conn<'_>, commit: bool) -> Result<()> {
    use sqlx::Executor;
    match conn {
        Conn::Postgres(c) => {
            sqlx::query("SELECT pg_advisory_unlock($1)").bind(PG_KEY).execute(&mut **c).await.map_err(db_err)?;
        }
        Conn::MySql(c) => {
            let sql = format!("SELECT RELEASE_LOCK({MY_NAME})");
            c.execute(sqlx::AssertSqlSafe(sql)).await.map_err(db_err)?;
        }
        Conn::Sqlite(c) => {
            c.execute(if commit { "COMMIT" } else { "ROLLBACK" }).await.map_err(db_err)?;
        }
    }
    Ok(())
}
