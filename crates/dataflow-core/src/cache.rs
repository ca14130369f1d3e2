//! The schema cache (FEATURES §6): per [`DataFlow`](crate::DataFlow) instance and thread-safe,
//! it remembers which model schemas were verified against which tables, so a repeated
//! register/ensure issues no introspection query. TTL (default none), a size bound (default
//! 10,000, least-recently-used eviction), metrics, invalidation by migrations, and failed DDL
//! remembered so later calls fail fast with the original error.

mod metrics;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dataflow_sql::{Dialect, Error, ErrorCode, ModelSchema};

pub use self::metrics::CacheMetrics;
use self::metrics::Counters;

/// Schema cache settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Whether the cache is used at all (default true).
    pub enabled: bool,
    /// Entries older than this are re-verified (default `None`: never expire).
    pub ttl: Option<Duration>,
    /// Maximum number of entries (default 10,000); the least recently used is evicted.
    pub max_size: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { enabled: true, ttl: None, max_size: 10_000 }
    }
}

/// What the cache knows about a (table, schema) pair.
#[derive(Debug)]
pub enum Lookup {
    /// Verified: the table matches this schema.
    Hit,
    /// Not known (or expired): introspect.
    Miss,
    /// A migration for this schema failed; the original error, rebuilt.
    Failed(Error),
}

#[derive(Debug, Clone)]
enum State {
    Verified,
    Failed { code: ErrorCode, message: String, fixes: Vec<String>, model: Option<String> },
}

#[derive(Debug, Clone)]
struct Entry {
    fingerprint: u64,
    state: State,
    stored: Instant,
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, Entry>,
    tick: u64,
}

/// The per-instance schema cache.
#[derive(Debug)]
pub struct SchemaCache {
    config: CacheConfig,
    inner: Mutex<Inner>,
    counters: Counters,
}

/// A stable fingerprint of a schema on a dialect (FNV-1a 64 of its JSON form).
pub fn fingerprint(schema: &ModelSchema, dialect: Dialect) -> u64 {
    let json = serde_json::to_string(schema).unwrap_or_default();
    json.bytes()
        .chain(dialect.name().bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl SchemaCache {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Self {
        SchemaCache { config, inner: Mutex::new(Inner::default()), counters: Counters::default() }
    }

    /// The settings.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Looks `table` up for the schema with `fingerprint`; counts a hit or a miss.
    pub fn lookup(&self, table: &str, fingerprint: u64) -> Lookup {
        if !self.config.enabled {
            self.counters.miss();
            return Lookup::Miss;
        }
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        let ttl = self.config.ttl;
        let found = match g.map.get_mut(table) {
            Some(e) if e.fingerprint == fingerprint && ttl.is_none_or(|t| e.stored.elapsed() < t) => {
                e.used = tick;
                Some(e.state.clone())
            }
            Some(e) if e.fingerprint == fingerprint => {
                // Expired: forget it.
                g.map.remove(table);
                None
            }
            _ => None,
        };
        drop(g);
        match found {
            Some(State::Verified) => {
                self.counters.hit();
                Lookup::Hit
            }
            Some(State::Failed { code, message, fixes, model }) => {
                self.counters.hit();
                let mut e = Error::new(code, message);
                if let Some(m) = model {
                    e = e.model(m);
                }
                for f in fixes {
                    e = e.fix(f);
                }
                Lookup::Failed(e)
            }
            None => {
                self.counters.miss();
                Lookup::Miss
            }
        }
    }

    fn put(&self, table: &str, fingerprint: u64, state: State) {
        if !self.config.enabled || self.config.max_size == 0 {
            return;
        }
        let mut g = self.lock();
        g.tick += 1;
        let used = g.tick;
        let full = !g.map.contains_key(table) && g.map.len() >= self.config.max_size;
        if let Some(oldest) = full.then(|| g.map.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())).flatten() {
            g.map.remove(&oldest);
            self.counters.evicted();
        }
        g.map.insert(table.to_owned(), Entry { fingerprint, state, stored: Instant::now(), used });
    }

    /// Records that `table` matches the schema with `fingerprint`.
    pub fn insert_verified(&self, table: &str, fingerprint: u64) {
        self.put(table, fingerprint, State::Verified);
    }

    /// Records a failed migration: later lookups for the same schema fail fast with `error`.
    pub fn insert_failure(&self, table: &str, fingerprint: u64, error: &Error) {
        self.counters.failed();
        let state = State::Failed {
            code: error.code(),
            message: error.message().to_owned(),
            fixes: error.fixes().to_vec(),
            model: error.context().model.clone(),
        };
        self.put(table, fingerprint, state);
    }

    /// Forgets `table` (after a migration, or to retry a failed one).
    pub fn invalidate(&self, table: &str) {
        self.lock().map.remove(table);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.lock().map.clear();
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hits, misses, hit rate, size, evictions and failures so far.
    pub fn metrics(&self) -> CacheMetrics {
        self.counters.snapshot(self.len())
    }
}

impl Default for SchemaCache {
    fn default() -> Self {
        SchemaCache::new(CacheConfig::default())
    }
}

#[cfg(test)]
mod tests;
