//! The lease-row migration lock (docs/guide/scaling.md): for databases without advisory locks
//! (CockroachDB, YugabyteDB, TiDB — `Compat` mode — or when `pg_try_advisory_lock` /
//! `GET_LOCK` is rejected, or by configuration).
//!
//! One row per database in `dataflow_migration_lock`: the holder (`owner`, a random id per
//! migration run), when the lease ends (`expires_at`) and the last renewal (`heartbeat_at`),
//! both in milliseconds of the **database server's** clock ([`Backend::now_millis`]), so clock
//! skew between application hosts does not matter. A holder renews its lease while it works; a
//! crashed holder stops renewing and its lease is taken over once expired.
//!
//! Taking the lock: [`take`] (`UPDATE .. WHERE expired OR mine`, one affected row = taken);
//! when the row does not exist yet, [`insert`] (a unique violation = someone else took it).
//!
//! [`Backend::now_millis`]: crate::dialect::Backend::now_millis

use sea_query::{Alias, Expr, ExprTrait, Query};

use super::Sql;
use crate::Dialect;

/// The lock table.
pub const LEASE_TABLE: &str = "dataflow_migration_lock";
/// The name of the migration lock's row.
pub const MIGRATION_LOCK: &str = "migrate";

/// `CREATE TABLE IF NOT EXISTS dataflow_migration_lock (...)` (the same text on every backend).
pub fn create_table(dialect: Dialect) -> String {
    let q = |s: &str| dialect.quote(s);
    format!(
        "CREATE TABLE IF NOT EXISTS {} ({} VARCHAR(64) NOT NULL PRIMARY KEY, {} VARCHAR(64) NOT NULL, \
         {} BIGINT NOT NULL, {} BIGINT NOT NULL)",
        q(LEASE_TABLE),
        q("name"),
        q("owner"),
        q("expires_at"),
        q("heartbeat_at")
    )
}

fn now(dialect: Dialect) -> Expr {
    Expr::cust(dialect.backend().now_millis())
}

fn until(dialect: Dialect, lease_ms: i64) -> Expr {
    now(dialect).add(Expr::val(lease_ms))
}

/// Takes the lease when it expired or is already `owner`'s: one affected row = taken.
pub fn take(dialect: Dialect, owner: &str, lease_ms: i64) -> Sql {
    let mut q = Query::update();
    q.table(Alias::new(LEASE_TABLE))
        .value(Alias::new("owner"), owner)
        .value(Alias::new("expires_at"), until(dialect, lease_ms))
        .value(Alias::new("heartbeat_at"), now(dialect))
        .and_where(Expr::col(Alias::new("name")).eq(MIGRATION_LOCK))
        .and_where(Expr::col(Alias::new("expires_at")).lt(now(dialect)).or(Expr::col(Alias::new("owner")).eq(owner)));
    Sql::build(&q, dialect)
}

/// Creates the lock row held by `owner` (fails with a unique violation when it exists).
pub fn insert(dialect: Dialect, owner: &str, lease_ms: i64) -> Sql {
    let mut q = Query::insert();
    q.into_table(Alias::new(LEASE_TABLE)).columns(["name", "owner", "expires_at", "heartbeat_at"].map(Alias::new));
    // Four values for four columns: cannot fail.
    let _ = q.values([Expr::val(MIGRATION_LOCK), Expr::val(owner), until(dialect, lease_ms), now(dialect)]);
    Sql::build(&q, dialect)
}

/// Extends `owner`'s lease (the heartbeat): one affected row = still held.
pub fn renew(dialect: Dialect, owner: &str, lease_ms: i64) -> Sql {
    let mut q = Query::update();
    q.table(Alias::new(LEASE_TABLE))
        .value(Alias::new("expires_at"), until(dialect, lease_ms))
        .value(Alias::new("heartbeat_at"), now(dialect))
        .and_where(Expr::col(Alias::new("name")).eq(MIGRATION_LOCK))
        .and_where(Expr::col(Alias::new("owner")).eq(owner));
    Sql::build(&q, dialect)
}

/// Releases `owner`'s lease (deletes the row only while `owner` holds it).
pub fn release(dialect: Dialect, owner: &str) -> Sql {
    let mut q = Query::delete();
    q.from_table(Alias::new(LEASE_TABLE))
        .and_where(Expr::col(Alias::new("name")).eq(MIGRATION_LOCK))
        .and_where(Expr::col(Alias::new("owner")).eq(owner));
    Sql::build(&q, dialect)
}

/// The holder and the milliseconds left on its lease (negative: expired): `owner`, BIGINT.
pub fn holder(dialect: Dialect) -> Sql {
    let mut q = Query::select();
    q.column(Alias::new("owner"))
        .expr(Expr::cust(format!(
            "CAST({} - {} AS {})",
            dialect.quote("expires_at"),
            dialect.backend().now_millis(),
            dialect.backend().bigint_cast()
        )))
        .from(Alias::new(LEASE_TABLE))
        .and_where(Expr::col(Alias::new("name")).eq(MIGRATION_LOCK));
    Sql::build(&q, dialect)
}
