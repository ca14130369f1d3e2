//! The rendered-text cache for repeated filter shapes: the same tree with other operand values
//! reuses the SQL text rendered the first time and only re-binds the values
//! (see `render/shape.rs` for what a shape is and how the values are found without rendering).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sea_query::{Asterisk, Condition, Expr, Query};

use super::Filter;
use crate::Dialect;
use crate::error::Result;
use crate::mysql_server::MySqlServer;
use crate::schema::ModelSchema;

/// Shapes one [`ShapeCache`] keeps; further new shapes are rendered every time (a workload with
/// more distinct shapes than this is not one a cache helps).
pub const SHAPE_CACHE_CAPACITY: usize = 512;

/// Longest WHERE text kept (bytes): a longer one (a long `$in` list) is rendered every time, so
/// [`SHAPE_CACHE_CAPACITY`] entries stay within a few MB per model.
pub const SHAPE_CACHE_MAX_TEXT: usize = 8 * 1024;

/// A cached WHERE text (`None`: the shape is always rendered).
type Fragment = Option<Arc<str>>;

/// Rendered WHERE fragments by filter shape, for one model schema (the runtime keeps one per
/// registered model). Shared between threads; a lookup takes a short lock.
#[derive(Debug, Default)]
pub struct ShapeCache {
    /// Shape key → the fragment (`None`: the shape failed the first-render check, always render).
    map: Mutex<HashMap<Box<[u8]>, Fragment>>,
}

impl ShapeCache {
    /// An empty cache.
    pub fn new() -> Self {
        ShapeCache::default()
    }

    /// Number of shapes held (cached or refused).
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Number of shapes whose text is cached (served without rendering).
    pub fn cached(&self) -> usize {
        self.map.lock().map(|m| m.values().filter(|v| v.is_some()).count()).unwrap_or(0)
    }

    /// True when no shape is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, key: &[u8]) -> Option<Fragment> {
        self.map.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: Vec<u8>, frag: Fragment) {
        if let Ok(mut m) = self.map.lock()
            && m.len() < SHAPE_CACHE_CAPACITY
        {
            m.insert(key.into_boxed_slice(), frag);
        }
    }
}

fn server_byte(server: MySqlServer) -> u8 {
    match server {
        MySqlServer::MariaDb => 0,
        MySqlServer::MySql8 => 1,
    }
}

/// `SELECT * WHERE <cond>` rendered for `dialect`: the probe the fragment is cut from.
fn probe(cond: Condition, dialect: Dialect) -> (String, sea_query::Values) {
    let mut q = Query::select();
    q.column(Asterisk).cond_where(cond);
    dialect.build(&q)
}

const PROBE_HEAD: &str = "SELECT * WHERE ";

/// The cached-text form of a condition: the fragment as one custom expression with its values.
fn embed(frag: &str, values: Vec<sea_query::Value>) -> Condition {
    Condition::all().add(Expr::cust_with_values(frag.to_owned(), values))
}

impl Filter {
    /// [`Filter::condition_for`] through a [`ShapeCache`]: when a filter of the same shape (same
    /// tree and operators, other operand values) was rendered before for this schema, dialect and
    /// server, the condition is the cached SQL text with this filter's values bound — no rendering.
    /// The first filter of a shape is rendered as usual and its text stored. Filters with operators
    /// the cache does not cover (`$size`, `$any`, `$overlap`, whole-array equality, `$contains` on
    /// a JSON path) and empty filters are always rendered. Same errors as [`Filter::condition_for`]
    /// (DF-105 over the bind-parameter limit).
    ///
    /// `schema` must be the schema the cache belongs to (the key holds field names, not types).
    pub fn condition_cached(
        &self,
        schema: &ModelSchema,
        dialect: Dialect,
        server: MySqlServer,
        cache: &ShapeCache,
    ) -> Result<Condition> {
        // Empty filters render to nothing; very long ones (long `$in` lists) exceed the text limit.
        if self.is_empty() || self.root.value_count() > 1024 {
            return self.condition_for(schema, dialect, server);
        }
        let r = Filter::renderer(schema, dialect, server);
        let mut key = Vec::with_capacity(64);
        key.push(dialect as u8);
        key.push(server_byte(server));
        let mut values = Vec::new();
        if !r.shape(&self.root, &mut key, &mut values) || values.len() + 64 > dialect.max_bind_params() {
            return self.condition_for(schema, dialect, server);
        }
        match cache.get(&key) {
            Some(Some(frag)) => return Ok(embed(&frag, values)),
            Some(None) => return self.condition_for(schema, dialect, server),
            None => {}
        }
        let cond = self.condition_for(schema, dialect, server)?;
        cache.put(key, checked_fragment(&cond, dialect, &values).map(Arc::from));
        Ok(cond)
    }
}

/// The WHERE text of `cond`, if re-binding `values` into it reproduces exactly what rendering
/// `cond` gives (same text, same values in the same order); `None` otherwise. No parentheses are
/// added: sea-query parenthesizes a custom expression whenever it is the operand of AND/OR/NOT,
/// and bare it can only be a whole WHERE clause.
fn checked_fragment(cond: &Condition, dialect: Dialect, values: &[sea_query::Value]) -> Option<String> {
    let (sql, bound) = probe(cond.clone(), dialect);
    if bound.0 != values {
        return None;
    }
    let frag = sql.strip_prefix(PROBE_HEAD).filter(|f| f.len() <= SHAPE_CACHE_MAX_TEXT)?.to_owned();
    let (again, rebound) = probe(embed(&frag, values.to_vec()), dialect);
    (again.strip_prefix(PROBE_HEAD) == Some(frag.as_str()) && rebound.0 == values).then_some(frag)
}
