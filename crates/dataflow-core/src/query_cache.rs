//! The query cache: results of Read, List, Count and FindOne kept in memory (`moka`), opt-in
//! per model (the model's `cache` option, `#[dataflow(cache)]` / `"cache": true`;
//! [`QueryCacheConfig::models`]; [`DataFlow::set_query_cache`]) or per call
//! ([`Express::cached`](crate::Express::cached)), invalidated by every write to the model.
//!
//! A result is cached as it is handed out (the finished JSON of the dynamic API, the decoded
//! rows of the typed one) behind an `Arc`: a hit copies nothing inside the cache, and
//! [`Express::list_json_shared`](crate::Express::list_json_shared) hands the shared result out as
//! it is.
//!
//! Not to be confused with [`crate::cache`], the schema cache of `register`.
//!
//! Invalidation is by generation: every model has a generation number, and every cache key
//! carries the generation current when the result was read. A write to the model (a single
//! operation on the pool, or a committed transaction that wrote it, through any Express handle
//! of the instance: typed, dynamic, workflow) bumps the generation after it completes, so no
//! later read can find a result stored under an older one. With [`QueryCacheConfig::redis_url`]
//! the generations live in Redis (`INCR` on write, `GET` on read), so a write in one process
//! invalidates every other process's entries before the write call returns; the results
//! themselves stay in each process's memory.
//!
//! A cache miss is always read from the primary (never a replica), so a cached result is never
//! older than the last write that bumped the generation. Reads inside transactions and reads
//! with `.primary()` bypass the cache. Writes made with raw SQL beside DataFlow are not seen:
//! call [`DataFlow::invalidate_query_cache`] after them. See docs/guide/scaling.md, "Query cache".

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use dataflow_sql::{Error, ErrorCode, ModelSchema, Result};

use crate::DataFlow;

/// Counter: query-cache hits, by `model`.
pub const QUERY_CACHE_HITS: &str = "dataflow_query_cache_hits_total";
/// Counter: query-cache misses, by `model`.
pub const QUERY_CACHE_MISSES: &str = "dataflow_query_cache_misses_total";
/// Counter: model generations bumped by writes, by `model`.
pub const QUERY_CACHE_INVALIDATIONS: &str = "dataflow_query_cache_invalidations_total";

/// Query-cache settings (part of [`Config`](crate::Config)). The cache exists on every instance;
/// nothing is cached unless a model opts in (its schema's `cache` option, here, or with
/// [`DataFlow::set_query_cache`]), or a call
/// asks with [`Express::cached`](crate::Express::cached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryCacheConfig {
    /// Models whose Read/List/Count/FindOne results are cached by default (besides models whose
    /// schema has the `cache` option).
    pub models: Vec<String>,
    /// Maximum cached results (default 10,000; least recently used go first).
    pub max_entries: u64,
    /// A result is dropped this long after it was stored even without a write (default 60 s;
    /// bounds staleness after writes DataFlow cannot see, such as raw SQL; `None`: no expiry).
    pub ttl: Option<Duration>,
    /// A Redis server holding the per-model generations, to invalidate across processes
    /// (`redis://127.0.0.1:6379`); `None` (default): in-process generations only.
    pub redis_url: Option<String>,
    /// The prefix of the Redis keys: processes with the same namespace share invalidations.
    /// Default: derived from the database URL (without password).
    pub namespace: Option<String>,
}

impl Default for QueryCacheConfig {
    fn default() -> Self {
        QueryCacheConfig {
            models: Vec::new(),
            max_entries: 10_000,
            ttl: Some(Duration::from_secs(60)),
            redis_url: None,
            namespace: None,
        }
    }
}

/// Hit/miss counters of the query cache in [`StatsSnapshot::query_cache`](crate::observe::stats::StatsSnapshot::query_cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryCacheStats {
    /// Results served from the cache.
    pub hits: u64,
    /// Cacheable reads that went to the database.
    pub misses: u64,
    /// Generation bumps (writes to cached-or-not models).
    pub invalidations: u64,
    /// Redis failures (the read bypassed the cache; a failed bump cleared this process's cache).
    pub errors: u64,
    /// Results held now (approximate).
    pub entries: u64,
}

impl QueryCacheStats {
    /// `hits / (hits + misses)`, 0 before any cacheable read.
    #[allow(clippy::cast_precision_loss, reason = "a ratio")]
    pub fn hit_ratio(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 { 0.0 } else { self.hits as f64 / n as f64 }
    }
}

/// A cached result: shared, never copied by the cache (a hit hands out another `Arc`), with
/// its model's TTL when the model sets one.
#[derive(Clone)]
struct Slot {
    value: Arc<dyn Any + Send + Sync>,
    ttl: Option<Duration>,
}

/// Each result expires after its model's TTL (`#[dataflow(cache(ttl = ".."))]`), or else the
/// instance's (`QueryCacheConfig::ttl`).
struct SlotTtl(Option<Duration>);

/// A cache key: the result's type (the typed and the dynamic API cache different shapes of
/// the same read) and the read (model, generation, tenant, operation, normalized arguments).
type Key = (TypeId, String);

impl moka::Expiry<Key, Slot> for SlotTtl {
    fn expire_after_create(&self, _: &Key, v: &Slot, _: std::time::Instant) -> Option<Duration> {
        v.ttl.or(self.0)
    }
}

/// Where a cacheable read's result of type `T` is stored: its key and its TTL.
pub(crate) struct CacheSlot<T> {
    key: Key,
    ttl: Option<Duration>,
    ty: PhantomData<fn() -> T>,
}

struct RedisGens {
    conn: redis::aio::ConnectionManager,
    prefix: String,
}

/// The query cache of one instance.
pub(crate) struct QueryCache {
    local: moka::sync::Cache<Key, Slot>,
    gens: Mutex<HashMap<String, u64>>,
    /// Run-time and configured choices per model ([`DataFlow::set_query_cache`],
    /// [`QueryCacheConfig::models`]); a model not listed follows its schema's `cache` option.
    models: RwLock<HashMap<String, bool>>,
    redis: Option<RedisGens>,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    errors: AtomicU64,
}

impl std::fmt::Debug for QueryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryCache").field("redis", &self.redis.is_some()).finish_non_exhaustive()
    }
}

impl QueryCache {
    /// Builds the cache; connects to Redis when configured (DF-403 when it cannot).
    pub(crate) async fn new(c: &QueryCacheConfig, db_url: &str) -> Result<QueryCache> {
        let b = moka::sync::Cache::builder().max_capacity(c.max_entries).expire_after(SlotTtl(c.ttl));
        let redis = match &c.redis_url {
            None => None,
            Some(url) => {
                let fail = |e: redis::RedisError| {
                    Error::new(
                        ErrorCode::CONNECTION_FAILED,
                        format!("could not connect to the query cache's Redis `{}`: {e}", crate::db::url::redact(url)),
                    )
                    .fix("check that Redis is running and the URL is right (redis://host:6379)")
                    .fix("or remove `redis_url` to keep the query cache in-process (docs/guide/scaling.md)")
                };
                let client = redis::Client::open(url.as_str()).map_err(fail)?;
                let conn = redis::aio::ConnectionManager::new(client).await.map_err(fail)?;
                let ns = c.namespace.clone().unwrap_or_else(|| crate::db::url::redact(db_url));
                Some(RedisGens { conn, prefix: format!("dataflow:qc:{ns}:") })
            }
        };
        Ok(QueryCache {
            local: b.build(),
            gens: Mutex::new(HashMap::new()),
            models: RwLock::new(c.models.iter().map(|m| (m.clone(), true)).collect()),
            redis,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        })
    }

    /// Whether the model is cached by default: the run-time or configured choice, or else its
    /// schema's `cache` option.
    pub(crate) fn model_enabled(&self, schema: &ModelSchema) -> bool {
        let m = self.models.read().unwrap_or_else(|p| p.into_inner());
        m.get(&schema.name).copied().unwrap_or(schema.options.cache.is_some())
    }

    /// The model's current generation; `None` when Redis failed (the read bypasses the cache).
    async fn generation(&self, model: &str) -> Option<u64> {
        match &self.redis {
            None => Some(self.gens.lock().unwrap_or_else(|p| p.into_inner()).get(model).copied().unwrap_or(0)),
            Some(r) => {
                let mut conn = r.conn.clone();
                let key = format!("{}gen:{model}", r.prefix);
                match redis::cmd("GET").arg(&key).query_async::<Option<u64>>(&mut conn).await {
                    Ok(g) => Some(g.unwrap_or(0)),
                    Err(e) => {
                        self.errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(target: "dataflow::cache", error = %e, "query cache: Redis GET failed; reading from the database");
                        None
                    }
                }
            }
        }
    }

    /// Where a read's result of type `T` is cached, or `None` when the model's generation cannot
    /// be had.
    pub(crate) async fn slot<T: 'static>(
        &self,
        schema: &ModelSchema,
        tenant: Option<&str>,
        op: &str,
        args: String,
    ) -> Option<CacheSlot<T>> {
        let model = &schema.name;
        let g = self.generation(model).await?;
        let key = format!("{model}\u{1f}{g}\u{1f}{}\u{1f}{op}\u{1f}{args}", tenant.unwrap_or(""));
        Some(CacheSlot {
            key: (TypeId::of::<T>(), key),
            ttl: schema.options.cache.and_then(|c| c.ttl),
            ty: PhantomData,
        })
    }

    /// A cached result, shared (no copy).
    pub(crate) fn get<T: Send + Sync + 'static>(&self, model: &str, slot: &CacheSlot<T>) -> Option<Arc<T>> {
        let v = self.local.get(&slot.key).and_then(|e| e.value.downcast::<T>().ok());
        if v.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
            ::metrics::counter!(QUERY_CACHE_HITS, "model" => model.to_owned()).increment(1);
        } else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            ::metrics::counter!(QUERY_CACHE_MISSES, "model" => model.to_owned()).increment(1);
        }
        v
    }

    /// Stores a result (shared with the caller, not copied).
    pub(crate) fn put<T: Send + Sync + 'static>(&self, slot: CacheSlot<T>, v: Arc<T>) {
        self.local.insert(slot.key, Slot { value: v, ttl: slot.ttl });
    }

    /// Bumps the model's generation: every result cached before is unreachable from now on.
    pub(crate) async fn invalidate(&self, model: &str) {
        self.invalidations.fetch_add(1, Ordering::Relaxed);
        ::metrics::counter!(QUERY_CACHE_INVALIDATIONS, "model" => model.to_owned()).increment(1);
        *self.gens.lock().unwrap_or_else(|p| p.into_inner()).entry(model.to_owned()).or_insert(0) += 1;
        if let Some(r) = &self.redis {
            let mut conn = r.conn.clone();
            let key = format!("{}gen:{model}", r.prefix);
            if let Err(e) = redis::cmd("INCR").arg(&key).query_async::<u64>(&mut conn).await {
                self.errors.fetch_add(1, Ordering::Relaxed);
                // This process must not serve what it cached: drop everything local.
                self.local.invalidate_all();
                tracing::warn!(target: "dataflow::cache", model, error = %e, "query cache: Redis INCR failed; other processes may serve cached results until their TTL");
            }
        }
    }

    pub(crate) fn stats(&self) -> QueryCacheStats {
        QueryCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            entries: self.local.entry_count(),
        }
    }
}

impl DataFlow {
    /// Turns default caching of `model`'s Read/List/Count/FindOne results on or off at run time
    /// (the dynamic counterpart of [`QueryCacheConfig::models`]; overrides the schema's `cache`
    /// option either way). DF-604 for an unknown model.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// db.set_query_cache("Product", true)?;
    /// let page = db.express().list_json("Product", &serde_json::json!({"limit": 20})).await?; // cached
    /// # let _ = page; Ok(()) }
    /// ```
    pub fn set_query_cache(&self, model: &str, on: bool) -> Result<()> {
        self.model(model)?;
        let mut m = self.inner.query_cache.models.write().unwrap_or_else(|p| p.into_inner());
        m.insert(model.to_owned(), on);
        Ok(())
    }

    /// Drops every cached result of `model` (in every process sharing the Redis namespace): for
    /// writes DataFlow did not make, such as raw SQL on [`DataFlow::raw_pool`].
    pub async fn invalidate_query_cache(&self, model: &str) {
        self.inner.query_cache.invalidate(model).await;
    }

    /// A write to `model` completed outside a transaction, or a transaction that wrote it ended:
    /// bump the cache generation and open the read-your-writes window.
    pub(crate) async fn wrote(&self, model: &str) {
        if let Some(r) = &self.inner.replicas {
            r.note_write();
        }
        self.inner.query_cache.invalidate(model).await;
    }
}
