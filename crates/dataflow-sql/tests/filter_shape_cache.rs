//! The filter shape cache (`Filter::condition_cached`): filters of one shape with different values
//! come out of the cache with exactly the SQL text and values a fresh render gives, on every
//! dialect; shapes whose rendering depends on more than the bound values get separate entries.
//! (Random trees with hostile strings: `filter_props.rs`.)

mod support {
    pub mod schema;
}

use dataflow_sql::filter::{Filter, ShapeCache};
use dataflow_sql::mysql_server::MySqlServer;
use dataflow_sql::{Dialect, ErrorCode, ModelSchema};
use sea_query::{Alias, Asterisk, Condition, Expr, ExprTrait, Query, Values};
use serde_json::{Value, json};

/// `SELECT * FROM users WHERE visits = 7 AND <cond> LIMIT 5`: a value before and after the filter's.
fn build(cond: Condition, schema: &ModelSchema, d: Dialect) -> (String, Values) {
    let mut q = Query::select();
    q.column(Asterisk)
        .from(Alias::new(&schema.table))
        .cond_where(Condition::all().add(Expr::col(Alias::new("visits")).eq(7)).add(cond))
        .limit(5);
    d.build(&q)
}

fn servers(d: Dialect) -> Vec<MySqlServer> {
    if d == Dialect::MySql { vec![MySqlServer::MariaDb, MySqlServer::MySql8] } else { vec![MySqlServer::MariaDb] }
}

/// Renders every filter through one cache, in order, and compares each with a fresh render.
/// Returns the cache's (shapes held, shapes cached) per dialect/server run.
fn check_all(filters: &[Value], native: bool) -> Vec<(usize, usize)> {
    let schema = support::schema::user_schema(native);
    let mut sizes = Vec::new();
    for d in Dialect::ALL {
        if native && d != Dialect::Postgres {
            continue;
        }
        for server in servers(d) {
            let cache = ShapeCache::new();
            for j in filters {
                let f = Filter::parse(j, &schema).unwrap_or_else(|e| panic!("{j}: {e}"));
                let fresh = build(f.condition_for(&schema, d, server).unwrap(), &schema, d);
                let cached = build(f.condition_cached(&schema, d, server, &cache).unwrap(), &schema, d);
                assert_eq!(cached, fresh, "{} {server:?}: {j}", d.name());
            }
            sizes.push((cache.len(), cache.cached()));
        }
    }
    sizes
}

#[test]
fn one_shape_with_many_values_is_one_cached_entry() {
    // The benchmark's 10-condition nested filter with different values each time.
    let filters: Vec<Value> = (0..6)
        .map(|i| {
            let s = format!("v'{i}%_\\\\");
            json!({
                "$and": [
                    {"age": {"$gte": 18 + i, "$lt": 65}},
                    {"active": i % 2 == 0},
                    {"$or": [
                        {"name": {"$ilike": format!("{s}%")}},
                        {"email": {"$endswith": "@example.com"}},
                        {"$and": [{"score": {"$ne": 0.5 + f64::from(i)}}, {"tags": {"$contains": s}}]}
                    ]},
                    {"nick": {"$in": ["a", s, "c"]}},
                    {"profile.address.city": s},
                    {"$nor": [{"deleted_at": {"$null": false}}]}
                ]
            })
        })
        .collect();
    for (held, cached) in check_all(&filters, false) {
        assert_eq!((held, cached), (1, 1));
    }
    for (held, cached) in check_all(&filters, true) {
        assert_eq!((held, cached), (1, 1));
    }
}

#[test]
fn every_value_type_rebinds() {
    let filters: Vec<Value> = (0..4)
        .map(|i| {
            json!({
                "visits": {"$lte": 1_000_000_000_000_i64 + i},
                "price": {"$gt": format!("{i}.25")},
                "born": {"$gte": format!("2020-0{}-01", i + 1)},
                "seen_at": {"$lt": format!("2024-01-0{}T10:00:00Z", i + 1)},
                "uid": {"$ne": format!("00000000-0000-0000-0000-00000000000{i}")},
                "nick": {"$nin": [format!("n{i}"), null]},
                "name": {"$regex": format!("^a{i}+$"), "$options": "i"},
                "email": {"$like": format!("%{i}@x_")},
                "profile.age": {"$in": [i, format!("s{i}"), true]},
                "profile.city": {"$ne": format!("c{i}")},
                "profile.a_b.c1": {"$exists": true},
                "scores": {"$all": [i, i + 1]},
            })
        })
        .collect();
    for (held, cached) in check_all(&filters, false) {
        assert_eq!((held, cached), (1, 1));
    }
}

#[test]
fn text_changing_differences_are_different_shapes() {
    // Each pair differs in something that changes the SQL text, not just a value.
    let filters = [
        json!({"nick": {"$in": ["a", "b"]}}),
        json!({"nick": {"$in": ["a", "b", "c"]}}),
        json!({"nick": {"$in": ["a", null]}}),
        json!({"nick": {"$in": []}}),
        json!({"age": {"$gt": 3}}),
        json!({"age": {"$gt": 3.5}}),
        json!({"age": {"$eq": 3.5}}),
        json!({"profile.x": 1}),
        json!({"profile.x": "1"}),
        json!({"profile.x": true}),
        json!({"profile.y": 1}),
        json!({"profile.x.y": 1}),
        json!({"$or": [{"age": 1}, {"visits": 2}]}),
        json!({"$and": [{"age": 1}, {"visits": 2}]}),
        json!({"$nor": [{"age": 1}, {"visits": 2}]}),
        json!({"tags": {"$all": ["a"]}}),
        json!({"tags": {"$all": ["a", "b"]}}),
    ];
    for (held, cached) in check_all(&filters, false) {
        assert_eq!(held, filters.len());
        assert_eq!(cached, filters.len());
    }
}

#[test]
fn operators_not_mirrored_are_rendered_every_time() {
    let filters = [
        json!({"scores": {"$size": 2}}),
        json!({"scores": {"$size": 3}}),
        json!({"tags": {"$overlap": ["a", "b"]}}),
        json!({"scores": {"$any": {"$gt": 3}}}),
        json!({"tags": ["a", "b"]}),
        json!({"profile.tags": {"$contains": "x"}}),
        json!({}),
    ];
    for (held, cached) in check_all(&filters, false) {
        assert_eq!((held, cached), (0, 0));
    }
}

#[test]
fn bind_limit_error_is_the_same_through_the_cache() {
    let schema = support::schema::user_schema(false);
    let list: Vec<i64> = (0..40_000).collect();
    let f = Filter::parse(&json!({"visits": {"$in": list}}), &schema).unwrap();
    let cache = ShapeCache::new();
    let e = f.condition_cached(&schema, Dialect::Sqlite, MySqlServer::MariaDb, &cache).unwrap_err();
    assert_eq!(e.code(), ErrorCode::INVALID_FILTER);
    assert!(f.condition_cached(&schema, Dialect::Postgres, MySqlServer::MariaDb, &cache).is_ok());
}

/// `template` with every `"@"` string replaced by `v`.
fn subst(template: &Value, v: &Value) -> Value {
    match template {
        Value::String(s) if s == "@" => v.clone(),
        Value::Array(a) => Value::Array(a.iter().map(|x| subst(x, v)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), subst(x, v))).collect()),
        other => other.clone(),
    }
}

/// `SELECT * FROM users WHERE <cond>`: the filter as the whole WHERE clause (the benchmark's form).
fn build_alone(cond: Condition, schema: &ModelSchema, d: Dialect) -> (String, Values) {
    let mut q = Query::select();
    q.column(Asterisk).from(Alias::new(&schema.table)).cond_where(cond);
    d.build(&q)
}

/// True when `cached` is `fresh` (a [`build`] statement) or `fresh` with the filter after
/// `visits = $1 AND ` in parentheses: sea-query always parenthesizes the cached text, a custom
/// expression, as an operand of AND, and a fresh single comparison only when needed.
fn same_or_parenthesized(cached: &str, fresh: &str) -> bool {
    let (Some(at), Some(end)) = (fresh.find(" AND "), fresh.rfind(" LIMIT ")) else { return cached == fresh };
    cached == fresh || cached == format!("{}({}){}", &fresh[..at + 5], &fresh[at + 5..end], &fresh[end..])
}

/// Many shapes, each with values that parse and values that must fail: through a warm cache, every
/// filter gives the fresh result — the same SQL text and values, or the same DF error. As the whole
/// WHERE clause the text is identical byte for byte; after another condition it may only differ by
/// parentheses around the filter (see [`same_or_parenthesized`]).
#[test]
fn table_of_shapes_cached_equals_fresh_including_errors() {
    let hostile = json!("?' OR 1=1 -- $1 \"x\" `y` ??");
    let shapes: Vec<(Value, Vec<Value>, Vec<Value>)> = vec![
        (
            json!({"age": {"$gt": "@"}}),
            vec![json!(1), json!(17.5), json!(-2147483648), json!(2147483647)],
            vec![json!("x"), json!(true), json!([1])],
        ),
        (
            json!({"name": {"$ilike": "@"}}),
            vec![json!("al%"), json!("_b\\%"), json!("ü%"), hostile.clone()],
            vec![json!(5), json!("a\\")],
        ),
        (
            json!({"name": {"$regex": "@", "$options": "i"}}),
            vec![json!("^a+$"), json!("x|y")],
            vec![json!("("), json!("\\bz")],
        ),
        (
            json!({"$or": [{"email": {"$endswith": "@"}}, {"nick": {"$startswith": "@"}}]}),
            vec![json!("@x.com"), hostile.clone()],
            vec![json!(null), json!(3)],
        ),
        (
            json!({"nick": {"$in": ["@", "b", null]}}),
            vec![json!("a"), hostile.clone()],
            vec![json!(1), json!({"a": 1})],
        ),
        (
            json!({"$not": {"visits": {"$nin": ["@", 2]}}}),
            vec![json!(1), json!(2.5), json!(-9_007_199_254_740_993_i64)],
            vec![json!("z")],
        ),
        (json!({"score": {"$ne": "@"}}), vec![json!(0.5), json!(3)], vec![json!("s")]),
        (json!({"price": {"$lte": "@"}}), vec![json!("1.25"), json!(3)], vec![json!("abc")]),
        (json!({"born": "@"}), vec![json!("2020-01-01")], vec![json!("2020-13-01")]),
        (json!({"seen_at": {"$gte": "@"}}), vec![json!("2024-01-01T00:00:00Z")], vec![json!("yesterday")]),
        (json!({"uid": "@"}), vec![json!("00000000-0000-0000-0000-000000000001")], vec![json!("nope")]),
        (json!({"tags": {"$contains": "@"}}), vec![json!("a"), hostile.clone()], vec![json!(1)]),
        (json!({"scores": {"$all": ["@", 5]}}), vec![json!(1), json!(2)], vec![json!("q")]),
        (
            json!({"profile.address.city": "@"}),
            vec![json!("x"), json!(3), json!(true), hostile.clone()],
            vec![json!({"a": 1})],
        ),
        (
            json!({"profile.n": {"$gt": "@"}, "profile.m": {"$in": ["@", 1]}}),
            vec![json!(1), json!("a")],
            vec![json!(null)],
        ),
        (
            json!({"$nor": [{"active": "@"}, {"age": {"$null": true}}]}),
            vec![json!(true), json!(false)],
            vec![json!("yes")],
        ),
        (
            json!({"$and": [{"name": {"$like": "@"}}, {"age": {"$gte": 1, "$lt": 9}}]}),
            vec![json!("a%"), json!("?%")],
            vec![json!(1)],
        ),
        (
            json!({"data": {"$ne": null}, "org_id": "@", "id": {"$in": ["@", "@"]}}),
            vec![json!("o1"), hostile.clone()],
            vec![json!(1)],
        ),
    ];
    let schema = support::schema::user_schema(false);
    let mut errors = 0;
    for d in Dialect::ALL {
        for server in servers(d) {
            let cache = ShapeCache::new();
            for (template, good, bad) in &shapes {
                // Good values, then the bad ones on the now cached shape, then the good ones again.
                for v in good.iter().chain(bad).chain(good) {
                    let j = subst(template, v);
                    let through =
                        Filter::parse(&j, &schema).and_then(|f| f.condition_cached(&schema, d, server, &cache));
                    let fresh = Filter::parse(&j, &schema).and_then(|f| f.condition_for(&schema, d, server));
                    match (through, fresh) {
                        (Ok(a), Ok(b)) => {
                            let at = format!("{} {server:?}: {j}", d.name());
                            assert_eq!(build_alone(a.clone(), &schema, d), build_alone(b.clone(), &schema, d), "{at}");
                            let ((sql_a, values_a), (sql_b, values_b)) = (build(a, &schema, d), build(b, &schema, d));
                            assert_eq!(values_a, values_b, "{at}");
                            assert!(same_or_parenthesized(&sql_a, &sql_b), "{at}\n{sql_a}\n{sql_b}");
                        }
                        (Err(a), Err(b)) => {
                            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{} {server:?}: {j}", d.name());
                            errors += 1;
                        }
                        (a, b) => panic!("{} {server:?}: {j}: cached {a:?}, fresh {b:?}", d.name()),
                    }
                    if bad.contains(v) {
                        assert!(Filter::parse(&j, &schema).is_err(), "{j} should be refused");
                    }
                }
            }
            assert!(cache.cached() >= shapes.len(), "{} {server:?}: {} cached", d.name(), cache.cached());
        }
    }
    assert!(errors > 0);
}
