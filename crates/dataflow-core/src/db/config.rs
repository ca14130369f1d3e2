//! Instance configuration and the [`DataFlowBuilder`].

use std::time::Duration;

use dataflow_sql::{Compat, Result};

use crate::DataFlow;
use crate::RetryPolicy;
pub use crate::migrate::MigrationLock;

/// Settings of one [`DataFlow`] instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// The connection URL.
    pub url: String,
    /// Maximum pool size (default: [`default_pool_size`](crate::db::env::default_pool_size), from the cores).
    pub max_connections: Option<u32>,
    /// Minimum idle connections kept open.
    pub min_connections: u32,
    /// How long an operation waits for a free connection (default 30 s).
    pub acquire_timeout: Duration,
    /// Idle connections are closed (and so re-checked) after this long (default 10 min).
    pub idle_timeout: Option<Duration>,
    /// SQLite busy timeout (default 5 s).
    pub busy_timeout: Duration,
    /// Prepared-statement cache capacity per connection (default 256).
    pub statement_cache_capacity: usize,
    /// Create missing tables and indexes on `register` (default true).
    pub auto_migrate: bool,
    /// Never issue DDL; the tables must exist (default false).
    pub existing_schema_mode: bool,
    /// Schema cache settings (TTL none, 10,000 entries).
    pub schema_cache: crate::cache::CacheConfig,
    /// Opt-in full-table guard (default off): an unconfirmed BulkDelete/BulkUpdate by filter that
    /// touches every record of a table holding at least this many records is rolled back, inside
    /// its own transaction and before commit, with DF-108.
    pub full_table_guard: Option<u64>,
    /// Tracing, metrics, stats and slow-statement settings.
    pub observe: crate::observe::ObserveConfig,
    /// Write protection: read-only instance, write window, per-model rules, and whether blocked
    /// writes are audited (docs/guide/protection-and-audit.md).
    pub protection: crate::protect::Protection,
    /// Distributed-SQL profile (default none): see [`Config::compat`] and docs/guide/scaling.md.
    pub compat: Option<Compat>,
    /// The cross-process migration lock (default [`MigrationLock::Auto`]).
    pub migration_lock: MigrationLock,
    /// How long a lease-row migration lock lasts without a heartbeat (default 30 s; the holder
    /// renews it every third of this). A crashed holder's lease is taken over after it.
    pub lease_duration: Duration,
    /// How long `register` waits for another process's migration lock (default `None`:
    /// [`DEFAULT_LOCK_TIMEOUT`](crate::migrate::DEFAULT_LOCK_TIMEOUT), 60 s); DF-303 after it.
    pub migration_lock_timeout: Option<Duration>,
    /// The retry policy of [`DataFlow::transaction_with`](crate::DataFlow::transaction_with)
    /// calls whose options set none (default none; [`Config::compat`] sets the default policy).
    pub retry: Option<RetryPolicy>,
    /// Read replicas (same database kind as `url`): reads outside transactions go to them
    /// round-robin, everything else to `url` (docs/guide/scaling.md, "Read replicas").
    pub read_urls: Vec<String>,
    /// Read-replica routing: read-your-writes window, health checks, lag bound.
    pub replicas: super::replicas::ReplicaConfig,
    /// The query cache: which models are cached, size, TTL, Redis (docs/guide/scaling.md, "Query cache").
    pub query_cache: crate::query_cache::QueryCacheConfig,
}

impl Config {
    /// Defaults for a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Config {
            url: url.into(),
            max_connections: None,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            busy_timeout: Duration::from_secs(5),
            statement_cache_capacity: 256,
            auto_migrate: true,
            existing_schema_mode: false,
            schema_cache: crate::cache::CacheConfig::default(),
            full_table_guard: None,
            observe: crate::observe::ObserveConfig::default(),
            protection: crate::protect::Protection::default(),
            compat: None,
            migration_lock: MigrationLock::Auto,
            lease_duration: Duration::from_secs(30),
            migration_lock_timeout: None,
            retry: None,
            read_urls: Vec::new(),
            replicas: super::replicas::ReplicaConfig::default(),
            query_cache: crate::query_cache::QueryCacheConfig::default(),
        }
    }

    /// The distributed-SQL profile for CockroachDB, YugabyteDB or TiDB (docs/guide/scaling.md):
    /// the lease-row migration lock instead of advisory locks, no `xmax`, migration steps
    /// without a surrounding transaction, and transaction retries on by default (the default
    /// [`RetryPolicy`] unless [`Config::retry`] is already set).
    ///
    /// ```
    /// use dataflow_core::{Compat, Config};
    /// let c = Config::new("postgres://root@localhost:26257/app").compat(Compat::CockroachDb);
    /// assert!(c.retry.is_some());
    /// ```
    pub fn compat(mut self, c: Compat) -> Self {
        self.compat = Some(c);
        self.migration_lock = MigrationLock::Lease;
        self.retry = Some(self.retry.unwrap_or_default());
        self
    }

    /// Whether migration steps run inside one transaction (PostgreSQL, outside `Compat` mode).
    pub(crate) fn transactional_ddl(&self) -> bool {
        self.compat.is_none_or(Compat::transactional_ddl)
    }

    /// Whether `register` may issue DDL.
    pub fn ddl_allowed(&self) -> bool {
        self.auto_migrate && !self.existing_schema_mode
    }
}

/// Builds a [`DataFlow`] with non-default settings.
///
/// ```no_run
/// # async fn run() -> dataflow_sql::Result<()> {
/// use std::time::Duration;
/// let db = dataflow_core::DataFlow::builder("postgres://app@localhost/app")
///     .max_connections(20)
///     .acquire_timeout(Duration::from_secs(5))
///     .auto_migrate(true)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DataFlowBuilder {
    config: Config,
}

impl DataFlowBuilder {
    /// A builder with defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        DataFlowBuilder { config: Config::new(url) }
    }

    /// Maximum pool size.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.config.max_connections = Some(n.max(1));
        self
    }

    /// Minimum idle connections.
    pub fn min_connections(mut self, n: u32) -> Self {
        self.config.min_connections = n;
        self
    }

    /// How long to wait for a free connection before failing with DF-508.
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.config.acquire_timeout = d;
        self
    }

    /// Close idle connections after `d` (`None`: never). Connections are not pinged on every
    /// acquire; idle expiry replaces the ping.
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.config.idle_timeout = d;
        self
    }

    /// SQLite busy timeout.
    pub fn busy_timeout(mut self, d: Duration) -> Self {
        self.config.busy_timeout = d;
        self
    }

    /// Prepared-statement cache capacity per connection.
    pub fn statement_cache_capacity(mut self, n: usize) -> Self {
        self.config.statement_cache_capacity = n;
        self
    }

    /// Create missing tables and indexes on `register` (default true).
    pub fn auto_migrate(mut self, on: bool) -> Self {
        self.config.auto_migrate = on;
        self
    }

    /// Never issue DDL (default false).
    pub fn existing_schema_mode(mut self, on: bool) -> Self {
        self.config.existing_schema_mode = on;
        self
    }

    /// Opt-in guard against whole-table changes: an unconfirmed BulkDelete/BulkUpdate by filter
    /// that would touch **every** record of a table holding at least `min_rows` records is rolled
    /// back before commit (same transaction) and reported as DF-108. Filters that match every
    /// possible record are refused without this option; the guard also catches filters that only
    /// happen to match every current record. `confirmed: true` bypasses it.
    pub fn full_table_guard(mut self, min_rows: u64) -> Self {
        self.config.full_table_guard = Some(min_rows);
        self
    }

    /// Schema cache settings (TTL, size bound, on/off).
    pub fn schema_cache(mut self, c: crate::cache::CacheConfig) -> Self {
        self.config.schema_cache = c;
        self
    }

    /// Tracing, metrics and stats settings (see [`crate::observe`]).
    pub fn observe(mut self, o: crate::observe::ObserveConfig) -> Self {
        self.config.observe = o;
        self
    }

    /// Instance-level write protection: with `true` every write (Express typed and dynamic,
    /// workflows, CLI) fails with DF-609 before any SQL; reads work.
    pub fn read_only(mut self, on: bool) -> Self {
        self.config.protection.read_only = on;
        self
    }

    /// Writes are allowed only inside this daily UTC range; outside it they fail with DF-609
    /// before any SQL. The time is read from [`DataFlowBuilder::clock`].
    pub fn write_window(mut self, window: crate::protect::WriteWindow) -> Self {
        self.config.protection.window = Some(window);
        self
    }

    /// Protection rules for one model (read-only, forbidden operations, read-only fields),
    /// beside the model's own options. Calling it again for the same model replaces its rules.
    pub fn protect_model(mut self, model: impl Into<String>, rules: crate::protect::ModelRules) -> Self {
        self.config.protection.models.insert(model.into(), rules);
        self
    }

    /// Record writes refused by protection on audited models in `dataflow_audit`
    /// (`outcome = "blocked"`); off by default.
    pub fn audit_blocked_writes(mut self, on: bool) -> Self {
        self.config.protection.audit_blocked = on;
        self
    }

    /// The clock the write window reads (default: the system clock). Tests inject a
    /// [`ManualClock`](crate::protect::ManualClock).
    pub fn clock(mut self, clock: std::sync::Arc<dyn crate::protect::Clock>) -> Self {
        self.config.protection.clock = clock;
        self
    }

    /// The distributed-SQL profile ([`Config::compat`]).
    pub fn compat(mut self, c: Compat) -> Self {
        self.config = self.config.compat(c);
        self
    }

    /// The cross-process migration lock: [`MigrationLock::Lease`] where advisory locks are
    /// unavailable (see docs/guide/scaling.md).
    pub fn migration_lock(mut self, l: MigrationLock) -> Self {
        self.config.migration_lock = l;
        self
    }

    /// How long a lease-row migration lock lasts without a heartbeat (default 30 s, at least
    /// 100 ms).
    pub fn lease_duration(mut self, d: Duration) -> Self {
        self.config.lease_duration = d.max(Duration::from_millis(100));
        self
    }

    /// How long `register` waits for another process's migration lock (DF-303 after it).
    pub fn migration_lock_timeout(mut self, d: Duration) -> Self {
        self.config.migration_lock_timeout = Some(d);
        self
    }

    /// The retry policy of `transaction_with` calls whose options set none.
    pub fn retry(mut self, p: RetryPolicy) -> Self {
        self.config.retry = Some(p);
        self
    }

    /// Adds a read replica: reads outside transactions (Read, List, Count, FindOne, streams) go
    /// to the replicas round-robin; writes and transactions to the primary. A replica that is
    /// down is skipped; with every replica down reads go to the primary.
    ///
    /// ```no_run
    /// # async fn run() -> dataflow_sql::Result<()> {
    /// let db = dataflow_core::DataFlow::builder("postgres://app@db-primary/app")
    ///     .read_replica("postgres://app@db-replica-1/app")
    ///     .read_replica("postgres://app@db-replica-2/app")
    ///     .connect()
    ///     .await?;
    /// # let _ = db; Ok(()) }
    /// ```
    pub fn read_replica(mut self, url: impl Into<String>) -> Self {
        self.config.read_urls.push(url.into());
        self
    }

    /// After a write through the handle, its reads go to the primary for `window` (default
    /// 1 s; `None`: never), so callers read their own writes despite replication lag.
    pub fn read_your_writes(mut self, window: Option<Duration>) -> Self {
        self.config.replicas.read_your_writes = window;
        self
    }

    /// Every read-replica setting at once (health-check interval, acquire timeout, lag bound).
    pub fn replica_config(mut self, c: super::replicas::ReplicaConfig) -> Self {
        self.config.replicas = c;
        self
    }

    /// Query-cache settings (models cached by default, size, TTL, Redis).
    pub fn query_cache(mut self, c: crate::query_cache::QueryCacheConfig) -> Self {
        self.config.query_cache = c;
        self
    }

    /// Caches `model`'s Read/List/Count/FindOne results by default (see [`crate::query_cache`]).
    pub fn cache_model(mut self, model: impl Into<String>) -> Self {
        self.config.query_cache.models.push(model.into());
        self
    }

    /// The configuration built so far.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Connects.
    pub async fn connect(self) -> Result<DataFlow> {
        DataFlow::connect_with(self.config).await
    }
}
