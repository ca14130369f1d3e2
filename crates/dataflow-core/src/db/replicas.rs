//! Read replicas: one pool per replica URL, round-robin routing of reads outside transactions,
//! a background health check (which also measures replication lag), fallback to the primary.
//!
//! Routing rules (docs/guide/scaling.md, "Read replicas"): Read, List, Count, FindOne and
//! streams outside a transaction go to the next healthy replica; writes, transactions and
//! everything inside them go to the primary. A read goes to the primary instead when the call
//! asked for it (`express().primary()`), when the handle wrote within the read-your-writes
//! window, when every replica is down (or lags more than `max_lag`), and on its one retry after a
//! replica connection failed.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use dataflow_sql::{Dialect, Error, ErrorCode, Result};

use super::config::Config;
use super::pool::{PoolConn, Pools};
use super::url;

/// Read-replica settings (part of [`Config`]); the replica URLs are [`Config::read_urls`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// After a write through a handle (or a committed transaction that wrote), that handle's
    /// reads go to the primary for this long, so a caller reads its own writes despite
    /// replication lag (default 1 s; `None`: off).
    pub read_your_writes: Option<Duration>,
    /// How often each replica is checked (a lag query); a replica that fails the check is skipped
    /// until a later check succeeds (default 1 s).
    pub check_interval: Duration,
    /// How long a read waits for a replica connection before trying the next replica (and how
    /// long a health check waits); default 2 s.
    pub acquire_timeout: Duration,
    /// Skip a replica whose measured lag exceeds this (default `None`: any lag is served).
    pub max_lag: Option<Duration>,
}

impl Default for ReplicaConfig {
    fn default() -> Self {
        ReplicaConfig {
            read_your_writes: Some(Duration::from_secs(1)),
            check_interval: Duration::from_secs(1),
            acquire_timeout: Duration::from_secs(2),
            max_lag: None,
        }
    }
}

/// One replica: its pool and its last health-check result.
pub(crate) struct Replica {
    /// The URL without password (stats, logs).
    url: String,
    pools: Pools,
    healthy: AtomicBool,
    /// Last measured lag in µs; -1 = unknown.
    lag_us: AtomicI64,
    reads: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// The replicas of one instance.
pub(crate) struct Replicas {
    list: Vec<Replica>,
    dialect: Dialect,
    next: AtomicUsize,
    config: ReplicaConfig,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last write through this handle, plus one (0 = never).
    last_write_ms: AtomicU64,
    /// Reads sent to the primary although replicas are configured (asked, read-your-writes, fallback).
    primary_reads: AtomicU64,
    /// Of those, reads that fell back because no replica was usable.
    fallbacks: AtomicU64,
}

/// Where a read was routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Primary,
    Replica(usize),
}

impl Replicas {
    /// Builds the replica pools (lazily: a replica that is down does not fail `connect`), runs
    /// one health check so the first reads route right, and starts the background checker.
    pub(crate) async fn connect(cfg: &Config, primary: &url::DbUrl) -> Result<Option<Arc<Replicas>>> {
        if cfg.read_urls.is_empty() {
            return Ok(None);
        }
        let mut list = Vec::with_capacity(cfg.read_urls.len());
        for u in &cfg.read_urls {
            let parsed = url::parse(u)?;
            if parsed.dialect != primary.dialect || parsed.in_memory {
                return Err(Error::new(
                    ErrorCode::INVALID_CONFIG,
                    format!(
                        "read replica `{}` cannot serve reads of a {} primary{}",
                        url::redact(u),
                        primary.dialect.name(),
                        if parsed.in_memory {
                            ": an in-memory SQLite database is private to its connection"
                        } else {
                            ""
                        }
                    ),
                )
                .fix("give every read replica URL the primary's database kind (postgres://, mysql://, sqlite://file)")
                .fix("see docs/guide/scaling.md, \"Read replicas\""));
            }
            let mut rc = cfg.clone();
            rc.url.clone_from(u);
            rc.acquire_timeout = cfg.replicas.acquire_timeout;
            rc.min_connections = 0;
            list.push(Replica {
                url: url::redact(u),
                pools: Pools::connect_lazy(&rc, &parsed).await?,
                healthy: AtomicBool::new(false),
                lag_us: AtomicI64::new(-1),
                reads: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                last_error: Mutex::new(None),
            });
        }
        let r = Arc::new(Replicas {
            list,
            dialect: primary.dialect,
            next: AtomicUsize::new(0),
            config: cfg.replicas.clone(),
            epoch: Instant::now(),
            last_write_ms: AtomicU64::new(0),
            primary_reads: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
        });
        r.check_all().await;
        let weak = Arc::downgrade(&r);
        tokio::spawn(health_loop(weak, cfg.replicas.check_interval));
        Ok(Some(r))
    }

    /// Checks every replica once (concurrently).
    async fn check_all(&self) {
        futures::future::join_all(self.list.iter().map(|r| self.check(r))).await;
    }

    async fn check(&self, r: &Replica) {
        let q = self.dialect.backend().replica_lag_query();
        let res = tokio::time::timeout(self.config.acquire_timeout + Duration::from_secs(1), async {
            let mut c = r.pools.acquire().await?;
            c.conn().fetch_optional_i64(q).await
        })
        .await
        .unwrap_or_else(|_| Err(Error::new(ErrorCode::CONNECTION_LOST, "the replica health check timed out")));
        match res {
            Ok(lag) => {
                r.lag_us.store(lag.unwrap_or(-1), Ordering::Relaxed);
                if !r.healthy.swap(true, Ordering::Relaxed) {
                    tracing::info!(target: "dataflow::sql", replica = %r.url, "read replica is up: reads go to it");
                }
            }
            Err(e) => self.mark_down(r, &e),
        }
    }

    fn mark_down(&self, r: &Replica, e: &Error) {
        r.failures.fetch_add(1, Ordering::Relaxed);
        *r.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
        if r.healthy.swap(false, Ordering::Relaxed) {
            tracing::warn!(target: "dataflow::sql", replica = %r.url, error = %e, "read replica is down: its reads go to the other replicas or the primary");
        }
    }

    /// Records a write through this handle (read-your-writes).
    pub(crate) fn note_write(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
        self.last_write_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// Whether a write happened within the read-your-writes window.
    fn recent_write(&self) -> bool {
        let Some(w) = self.config.read_your_writes else { return false };
        let last = self.last_write_ms.load(Ordering::Relaxed);
        if last == 0 {
            return false;
        }
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
        now.saturating_sub(last) < u64::try_from(w.as_millis()).unwrap_or(u64::MAX)
    }

    fn usable(&self, r: &Replica) -> bool {
        r.healthy.load(Ordering::Relaxed)
            && match (self.config.max_lag, r.lag_us.load(Ordering::Relaxed)) {
                (Some(max), lag) if lag >= 0 => u128::from(lag.unsigned_abs()) <= max.as_micros(),
                _ => true,
            }
    }

    /// The replicas to try for a read, in round-robin order, skipping unusable ones and `avoid`.
    fn candidates(&self, avoid: Option<usize>) -> impl Iterator<Item = usize> + '_ {
        let n = self.list.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).map(move |k| (start + k) % n).filter(move |&i| Some(i) != avoid && self.usable(&self.list[i]))
    }

    /// Where a read goes when nothing forces the primary: the first replica that hands out a
    /// connection. `None`: route to the primary (counted).
    pub(crate) async fn acquire_read(&self, force_primary: bool, avoid: Option<usize>) -> Option<(PoolConn, usize)> {
        if force_primary || self.recent_write() {
            self.primary_reads.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        for i in self.candidates(avoid).collect::<Vec<_>>() {
            let r = &self.list[i];
            match r.pools.acquire().await {
                Ok(c) => {
                    r.reads.fetch_add(1, Ordering::Relaxed);
                    return Some((c, i));
                }
                Err(e) => self.mark_down(r, &e),
            }
        }
        self.primary_reads.fetch_add(1, Ordering::Relaxed);
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// The pool a stream reads from (no per-connection fallback: a stream's errors surface).
    pub(crate) fn stream_pools(&self, force_primary: bool) -> Option<&Pools> {
        if force_primary || self.recent_write() {
            self.primary_reads.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let i = self.candidates(None).next();
        match i {
            Some(i) => {
                self.list[i].reads.fetch_add(1, Ordering::Relaxed);
                Some(&self.list[i].pools)
            }
            None => {
                self.primary_reads.fetch_add(1, Ordering::Relaxed);
                self.fallbacks.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// A read on replica `i` lost its connection: skip the replica until the next good check.
    pub(crate) fn failed(&self, i: usize, e: &Error) {
        if let Some(r) = self.list.get(i) {
            self.mark_down(r, e);
        }
    }

    pub(crate) async fn close(&self) {
        for r in &self.list {
            r.pools.close().await;
        }
    }

    pub(crate) fn stats(&self) -> (Vec<ReplicaStats>, u64, u64) {
        let list = self
            .list
            .iter()
            .map(|r| ReplicaStats {
                url: r.url.clone(),
                healthy: r.healthy.load(Ordering::Relaxed),
                lag: u64::try_from(r.lag_us.load(Ordering::Relaxed)).ok().map(Duration::from_micros),
                reads: r.reads.load(Ordering::Relaxed),
                failures: r.failures.load(Ordering::Relaxed),
                last_error: r.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            })
            .collect();
        (list, self.primary_reads.load(Ordering::Relaxed), self.fallbacks.load(Ordering::Relaxed))
    }
}

/// Checks the replicas every `every` until the instance is dropped or closed.
async fn health_loop(r: Weak<Replicas>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(r) = r.upgrade() else { return };
        if r.list.iter().all(|x| x.pools.is_closed()) {
            return;
        }
        r.check_all().await;
    }
}

/// The state of one read replica in [`StatsSnapshot::replicas`](crate::observe::stats::StatsSnapshot::replicas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStats {
    /// The replica's URL (password removed).
    pub url: String,
    /// Whether the last health check (or read) succeeded: reads are routed to it.
    pub healthy: bool,
    /// Replication lag at the last check (PostgreSQL: time since the last replayed transaction
    /// while WAL is still being replayed, 0 when caught up); `None` when unknown.
    pub lag: Option<Duration>,
    /// Reads routed to it.
    pub reads: u64,
    /// Failed health checks and failed reads.
    pub failures: u64,
    /// The last failure's message.
    pub last_error: Option<String>,
}
