//! The rendered-text cache for repeated filter shapes: the same tree with other operand values
//! reuses the SQL text rendered the first time and only re-binds the values
//! (see `render/shape.rs` for what a shape is and how the values are found without rendering).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
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

/// Bytes of cached SQL text pieces kept for the whole process: the pieces of cached WHERE texts
/// (schema names and operators, never values) are interned once and shared by every model's cache;
/// past this limit a piece is owned by its cache entry instead (and copied on every use).
pub const SHAPE_TEXT_INTERN_LIMIT: usize = 4 * 1024 * 1024;

/// Interned SQL text pieces and their total size.
static INTERNED: Mutex<(Option<HashSet<&'static str>>, usize)> = Mutex::new((None, 0));

/// `s` as a `'static` text shared by every cache of the process, so that binding a cached piece
/// into a statement (and sea-query's copy of the statement's condition when it builds) copies no
/// text. The pieces are SQL text rendered from schema names and operators — never a value, values
/// are bound — and each distinct piece is kept once; past [`SHAPE_TEXT_INTERN_LIMIT`] bytes in all,
/// pieces are owned by their cache entry instead (and copied on every use).
fn intern(s: &str) -> Cow<'static, str> {
    let Ok(mut guard) = INTERNED.lock() else { return Cow::Owned(s.to_owned()) };
    let (set, bytes) = &mut *guard;
    let set = set.get_or_insert_with(HashSet::new);
    if let Some(&kept) = set.get(s) {
        return Cow::Borrowed(kept);
    }
    if *bytes + s.len() > SHAPE_TEXT_INTERN_LIMIT {
        return Cow::Owned(s.to_owned());
    }
    *bytes += s.len();
    let kept: &'static str = Box::leak(s.into());
    set.insert(kept);
    Cow::Borrowed(kept)
}

/// A cached WHERE text (`None`: the shape is always rendered).
type Fragment = Option<Arc<Cached>>;

/// One part of a cached WHERE text, in order: a piece of SQL text or the next bound value.
#[derive(Debug, PartialEq)]
enum Slot {
    /// SQL text between two bound values, written as is (never tokenized again); interned
    /// ([`intern`]) so that using it copies nothing.
    Text(Cow<'static, str>),
    /// The next value of the filter.
    Value,
}

/// A cached WHERE text, cut at its placeholders so that re-binding it does not make sea-query
/// tokenize the whole text again: `template` is the short text sea-query's tokenizer still reads
/// (one placeholder per slot, separated by single characters taken from the SQL text: space,
/// comma or a parenthesis), and each placeholder stands for a [`Slot`]. When the text cannot be cut
/// that way, `template` is the whole WHERE text and every slot is a value (the text is then
/// tokenized on every use, as before).
#[derive(Debug)]
struct Cached {
    template: Cow<'static, str>,
    slots: Box<[Slot]>,
    /// Number of [`Slot::Value`]s: the values a filter of this shape binds.
    values: usize,
}

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

/// The cached-text form of a condition: the template as one custom expression, its slots bound to
/// the text pieces and `values` in order. `values` must hold one value per [`Slot::Value`]
/// ([`Cached::values`](Cached)).
fn embed(cached: &Cached, values: Vec<sea_query::Value>) -> Condition {
    let mut values = values.into_iter();
    let mut exprs = Vec::with_capacity(cached.slots.len());
    for slot in &cached.slots {
        match slot {
            Slot::Text(t) => exprs.push(Expr::Custom(t.clone())),
            Slot::Value => exprs.extend(values.next().map(Expr::Value)),
        }
    }
    Condition::all().add(Expr::cust_with_exprs(cached.template.clone(), exprs))
}

/// Characters that may separate two placeholders in a template: sea-query's tokenizer writes them
/// back unchanged and they end neither a placeholder nor its number.
fn separator(b: u8) -> bool {
    matches!(b, b' ' | b',' | b'(' | b')')
}

/// The byte ranges of the placeholders of `frag` (`?`, or `$1`, `$2`, .. in order on PostgreSQL),
/// if there are exactly `n`.
fn placeholders(frag: &str, dialect: Dialect, n: usize) -> Option<Vec<(usize, usize)>> {
    let bytes = frag.as_bytes();
    let mut found = Vec::with_capacity(n);
    let mut i = 0;
    while i < bytes.len() {
        match (dialect, bytes[i]) {
            (Dialect::Postgres, b'$') => {
                let end = bytes[i + 1..].iter().position(|b| !b.is_ascii_digit()).map_or(bytes.len(), |p| i + 1 + p);
                if end == i + 1 || frag[i + 1..end].parse::<usize>().ok()? != found.len() + 1 {
                    return None;
                }
                found.push((i, end));
                i = end;
            }
            (Dialect::MySql | Dialect::Sqlite, b'?') => {
                found.push((i, i + 1));
                i += 1;
            }
            _ => i += 1,
        }
    }
    (found.len() == n).then_some(found)
}

/// `frag` (a WHERE text binding `n` values) cut into a short template and text pieces (see
/// [`Cached`]), or `None` when a piece between two placeholders does not start and end with a
/// [`separator`].
fn cut(frag: &str, dialect: Dialect, n: usize) -> Option<Cached> {
    let marks = placeholders(frag, dialect, n)?;
    let mut template = String::with_capacity(4 * n + 8);
    let mut slots = Vec::with_capacity(2 * n + 1);
    let mut push = |template: &mut String, slot: Slot| {
        slots.push(slot);
        if dialect == Dialect::Postgres {
            template.push('$');
            template.push_str(&slots.len().to_string());
        } else {
            template.push('?');
        }
    };
    let mut start = 0;
    for i in 0..=n {
        let end = marks.get(i).map_or(frag.len(), |m| m.0);
        let piece = &frag[start..end];
        let b = piece.as_bytes();
        let (after_value, before_value) = (i > 0, i < n);
        if b.is_empty() {
            // Two adjacent placeholders cannot be told apart from an escaped one.
            if after_value && before_value {
                return None;
            }
        } else {
            if (after_value && !separator(b[0])) || (before_value && !separator(b[b.len() - 1])) {
                return None;
            }
            let (lead, trail) = (usize::from(after_value), usize::from(before_value));
            if b.len() < lead + trail {
                // One separator between two values.
                template.push(char::from(b[0]));
            } else {
                if after_value {
                    template.push(char::from(b[0]));
                }
                if b.len() > lead + trail {
                    push(&mut template, Slot::Text(intern(&piece[lead..piece.len() - trail])));
                }
                if before_value {
                    template.push(char::from(b[b.len() - 1]));
                }
            }
        }
        if before_value {
            push(&mut template, Slot::Value);
            start = marks[i].1;
        }
    }
    Some(Cached { template: intern(&template), slots: slots.into(), values: n })
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
            // The key fixes the number of values; checked anyway, so a mismatch renders fresh.
            Some(Some(cached)) if cached.values == values.len() => return Ok(embed(&cached, values)),
            Some(_) => return self.condition_for(schema, dialect, server),
            None => {}
        }
        let cond = self.condition_for(schema, dialect, server)?;
        cache.put(key, checked_fragment(&cond, dialect, &values).map(Arc::from));
        Ok(cond)
    }
}

/// The WHERE text of `cond` in its cached form ([`Cached`]: cut at the placeholders when it can be,
/// whole otherwise), if re-binding `values` into it reproduces exactly what rendering `cond` gives
/// (same text, same values in the same order); `None` otherwise. No parentheses are added:
/// sea-query parenthesizes a custom expression whenever it is the operand of AND/OR/NOT, and bare
/// it can only be a whole WHERE clause.
fn checked_fragment(cond: &Condition, dialect: Dialect, values: &[sea_query::Value]) -> Option<Cached> {
    let (sql, bound) = probe(cond.clone(), dialect);
    if bound.0 != values {
        return None;
    }
    let frag = sql.strip_prefix(PROBE_HEAD).filter(|f| f.len() <= SHAPE_CACHE_MAX_TEXT)?;
    let whole =
        || Cached { template: intern(frag), slots: values.iter().map(|_| Slot::Value).collect(), values: values.len() };
    let reproduces = |c: &Cached| {
        let (again, rebound) = probe(embed(c, values.to_vec()), dialect);
        again.strip_prefix(PROBE_HEAD) == Some(frag) && rebound.0 == values
    };
    cut(frag, dialect, values.len()).filter(reproduces).or_else(|| Some(whole()).filter(reproduces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FieldDef, FieldType};

    fn text(s: &str) -> Slot {
        Slot::Text(Cow::Owned(s.into()))
    }

    #[test]
    fn cuts_at_placeholders_keeping_one_separator_in_the_template() {
        let c = cut(r#""age" >= ? AND ("name" = ? OR "x" IS NULL)"#, Dialect::Sqlite, 2).unwrap();
        assert_eq!(&*c.template, "? ? ? ? ?");
        assert_eq!(
            &*c.slots,
            &[text(r#""age" >="#), Slot::Value, text(r#"AND ("name" ="#), Slot::Value, text(r#"OR "x" IS NULL)"#)]
        );
        let c = cut(r#""a" IN ($1, $2, $3)"#, Dialect::Postgres, 3).unwrap();
        assert_eq!(&*c.template, "$1($2, $3, $4)");
        assert_eq!(&*c.slots, &[text(r#""a" IN "#), Slot::Value, Slot::Value, Slot::Value]);
        let c = cut("? = ?", Dialect::MySql, 2).unwrap();
        assert_eq!(&*c.template, "? ? ?");
        assert_eq!(&*c.slots, &[Slot::Value, text("="), Slot::Value]);
        let c = cut(r#""x" IS NULL"#, Dialect::Postgres, 0).unwrap();
        assert_eq!((&*c.template, &*c.slots), ("$1", &[text(r#""x" IS NULL"#)][..]));
    }

    #[test]
    fn pieces_are_interned_once() {
        let (a, b) = (intern(r#"AND "a_test_piece" ="#), intern(&String::from(r#"AND "a_test_piece" ="#)));
        let (Cow::Borrowed(a), Cow::Borrowed(b)) = (a, b) else { panic!("not interned") };
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn refuses_texts_it_cannot_cut() {
        // A value followed by a cast, two adjacent placeholders, a wrong count, out-of-order numbers.
        assert!(cut(r#""p" @> $1::jsonb"#, Dialect::Postgres, 1).is_none());
        assert!(cut("??", Dialect::Sqlite, 2).is_none());
        assert!(cut(r#""a" = ?"#, Dialect::Sqlite, 2).is_none());
        assert!(cut(r#""a" = $2 AND "b" = $1"#, Dialect::Postgres, 2).is_none());
        assert!(cut(r#""a" = $ AND "b" = $1"#, Dialect::Postgres, 1).is_none());
    }

    /// The benchmark's filter is served from its cut form on every dialect (not tokenized whole).
    #[test]
    fn the_benchmark_filter_is_cached_cut() {
        let schema = ModelSchema::new(
            "User",
            vec![
                FieldDef::new("id", FieldType::String),
                FieldDef::new("name", FieldType::String),
                FieldDef::new("email", FieldType::String),
                FieldDef::new("age", FieldType::I32).nullable(),
                FieldDef::new("active", FieldType::Bool),
                FieldDef::new("score", FieldType::F64).nullable(),
                FieldDef::new("tags", FieldType::Array(crate::ArrayElem::String)),
                FieldDef::new("profile", FieldType::Json).nullable(),
            ],
        );
        let json = serde_json::json!({"$and": [
            {"age": {"$gte": 18, "$lt": 65}}, {"active": true},
            {"$or": [{"name": {"$ilike": "al%"}}, {"email": {"$endswith": "@example.com"}},
                     {"$and": [{"score": {"$ne": 0.5}}, {"tags": {"$contains": "al"}}]}]},
            {"name": {"$in": ["a", "b", "c"]}}, {"profile.address.city": "x"}
        ]});
        let f = Filter::parse(&json, &schema).unwrap();
        for d in Dialect::ALL {
            let cache = ShapeCache::new();
            f.condition_cached(&schema, d, MySqlServer::MariaDb, &cache).unwrap();
            let map = cache.map.lock().unwrap();
            let cached = map.values().next().cloned().flatten().unwrap();
            assert!(cached.slots.iter().any(|s| matches!(s, Slot::Text(_))), "{}: {:?}", d.name(), cached);
            // No SQL text of its own is left for the tokenizer: only placeholders and separators.
            assert!(
                cached.template.bytes().all(|b| b"?$0123456789 ,()".contains(&b)),
                "{}: {}",
                d.name(),
                cached.template
            );
        }
    }
}
