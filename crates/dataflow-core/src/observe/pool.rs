//! Pool gauges: size, idle connections and waiters, recorded around every acquire.

use std::sync::atomic::Ordering;

use dataflow_sql::Result;

use super::metrics;
use crate::DataFlow;
use crate::db::pool::{PoolConn, Pools};

impl Pools {
    fn size_idle(&self) -> (u32, usize) {
        match self {
            Pools::Postgres(p) => (p.size(), p.num_idle()),
            Pools::MySql(p) => (p.size(), p.num_idle()),
            Pools::Sqlite(p) => (p.size(), p.num_idle()),
        }
    }
}

/// Acquires a connection, keeping the waiter count and the pool gauges.
pub(crate) async fn acquire(db: &DataFlow) -> Result<PoolConn> {
    let obs = &db.inner.observer;
    if !obs.config.enabled {
        return db.inner.pools.acquire().await;
    }
    obs.waiters.fetch_add(1, Ordering::Relaxed);
    let r = db.inner.pools.acquire().await;
    let waiters = obs.waiters.fetch_sub(1, Ordering::Relaxed) - 1;
    let (size, idle) = db.inner.pools.size_idle();
    metrics::pool(&obs.keys, size, idle, waiters);
    r
}
