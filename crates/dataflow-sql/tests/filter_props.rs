//! Property tests: random filter trees over the test schema, with hostile strings.
//!
//! - parsing and rendering never panic;
//! - the SQL text does not depend on any string operand: the same tree with every string replaced
//!   by `"x"` renders the same SQL with the same number of bound values, so user strings can only
//!   be among the bound values (and the hostile ones never appear in the SQL text);
//! - placeholder count equals bound-value count on every dialect;
//! - unknown fields (DF-103) and unknown operators (DF-104) always error;
//! - the shape cache (`Filter::condition_cached`) serves a filter of a cached shape with exactly
//!   the text and values a fresh render gives.

mod support {
    pub mod reference;
    pub mod schema;
}

use dataflow_sql::filter::{Filter, ShapeCache};
use dataflow_sql::mysql_server::MySqlServer;
use dataflow_sql::{Dialect, ErrorCode, ModelSchema};
use proptest::prelude::*;
use sea_query::{Alias, Asterisk, MysqlQueryBuilder, PostgresQueryBuilder, Query, SqliteQueryBuilder, Values};
use serde_json::{Value, json};

/// A string slot in a generated tree: filled with a hostile string or with `"x"`.
const SLOT: &str = "\u{1}slot";

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("'; DROP TABLE users; --".to_owned()),
        Just("\\".to_owned()),
        Just("\\\\'".to_owned()),
        Just("%".to_owned()),
        Just("_".to_owned()),
        Just("\0".to_owned()),
        Just("O'Brien \"quoted\" `tick`".to_owned()),
        Just("中文 ünïcödé 🦀".to_owned()),
        Just("$1 ? :name @> ->>".to_owned()),
        Just("".to_owned()),
        "[a-z0-9'\"\\\\%_;$?\u{0}é中 -]{0,12}",
    ]
}

fn int() -> impl Strategy<Value = Value> {
    (-1000i64..1000).prop_map(Value::from)
}

/// Floats, integral and fractional, within and beyond the integer ranges.
fn float() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-1000i32..1000).prop_map(|i| json!(f64::from(i) + 0.5)),
        (-1000i32..1000).prop_map(|i| json!(f64::from(i))),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        Just(json!(2_147_483_647.5)),
    ]
}

fn slot() -> Value {
    Value::String(SLOT.to_owned())
}

/// One field-level condition (a one-key filter object).
fn leaf() -> impl Strategy<Value = Value> {
    let str_op = prop::sample::select(vec![
        "$eq",
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$like",
        "$ilike",
        "$startswith",
        "$endswith",
        "$contains",
        "$regex",
    ]);
    let cmp_op = prop::sample::select(vec!["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]);
    let path = prop::sample::select(vec!["profile.city", "profile.address.city", "profile.age", "profile.a_b.c1"]);
    prop_oneof![
        (str_op.clone(), prop::sample::select(vec!["name", "nick", "email"]))
            .prop_map(|(op, f)| json!({f: {op: slot()}})),
        Just(json!({"name": slot()})),
        (prop::collection::vec(prop_oneof![Just(slot()), Just(Value::Null)], 0..4), any::<bool>())
            .prop_map(|(l, nin)| json!({"nick": {if nin { "$nin" } else { "$in" }: l}})),
        (cmp_op.clone(), int()).prop_map(|(op, v)| json!({"age": {op: v}})),
        (prop::collection::vec(prop_oneof![int(), Just(Value::Null)], 0..4), any::<bool>())
            .prop_map(|(l, nin)| json!({"age": {if nin { "$nin" } else { "$in" }: l}})),
        (cmp_op.clone(), 0u32..100000)
            .prop_map(|(op, c)| json!({"price": {op: format!("{}.{:02}", c / 100, c % 100)}})),
        any::<bool>().prop_map(|b| json!({"score": {"$exists": b}})),
        any::<bool>().prop_map(|b| json!({"deleted_at": {"$null": b}})),
        Just(json!({"age": null})),
        Just(json!({"tags": {"$contains": slot()}})),
        prop::collection::vec(Just(slot()), 1..4).prop_map(|l| json!({"tags": {"$all": l}})),
        prop::collection::vec(Just(slot()), 0..4).prop_map(|l| json!({"tags": {"$overlap": l}})),
        (0i64..5).prop_map(|n| json!({"scores": {"$size": n}})),
        (cmp_op.clone(), int()).prop_map(|(op, v)| json!({"scores": {"$any": {op: v}}})),
        str_op.clone().prop_map(|op| json!({"tags": {"$any": {op: slot()}}})),
        (path.clone(), str_op).prop_map(|(p, op)| json!({p: {op: slot()}})),
        (path.clone(), cmp_op.clone(), int()).prop_map(|(p, op, v)| json!({p: {op: v}})),
        (path.clone(), any::<bool>()).prop_map(|(p, b)| json!({p: b})),
        (path.clone(), any::<bool>()).prop_map(|(p, b)| json!({p: {"$exists": b}})),
        Just(json!({"name": {"$regex": slot(), "$options": "i"}})),
        Just(json!({"age": {"$not": {"$gt": 3}}})),
        // Whole-array equality, float operands on integer fields, `$contains` on JSON paths.
        prop::collection::vec(Just(slot()), 0..4).prop_map(|l| json!({"tags": l})),
        (prop::collection::vec(int(), 0..4), any::<bool>())
            .prop_map(|(l, ne)| json!({"scores": {if ne { "$ne" } else { "$eq" }: l}})),
        (cmp_op.clone(), float()).prop_map(|(op, f)| json!({"age": {op: f}})),
        (prop::collection::vec(float(), 0..4), any::<bool>())
            .prop_map(|(l, nin)| json!({"visits": {if nin { "$nin" } else { "$in" }: l}})),
        (cmp_op, float()).prop_map(|(op, f)| json!({"scores": {"$any": {op: f}}})),
        float().prop_map(|f| json!({"scores": {"$contains": f}})),
        path.clone().prop_map(|p| json!({p: {"$contains": slot()}})),
        (path, prop_oneof![int(), float(), any::<bool>().prop_map(Value::from)])
            .prop_map(|(p, v)| json!({p: {"$contains": v}})),
    ]
}

/// A random filter tree.
fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"$and": v})),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"$or": v})),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"$nor": v})),
            inner.clone().prop_map(|v| json!({"$not": v})),
            (inner.clone(), inner).prop_map(|(a, b)| {
                // Merge two filters into one object when their keys differ (implicit AND).
                let (Value::Object(mut a), Value::Object(b)) = (a, b) else { unreachable!() };
                for (k, v) in b {
                    a.entry(k).or_insert(v);
                }
                Value::Object(a)
            }),
        ]
    })
}

/// Replaces every slot, in order, by the next string of `fill` (cycling).
fn fill(v: &Value, strings: &[String], next: &mut usize) -> Value {
    match v {
        Value::String(s) if s == SLOT => {
            let s = strings.get(*next % strings.len().max(1)).cloned().unwrap_or_default();
            *next += 1;
            Value::String(s)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(x, strings, next)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), fill(x, strings, next))).collect()),
        other => other.clone(),
    }
}

fn build(f: &Filter, schema: &ModelSchema, d: Dialect) -> (String, Values) {
    let q = Query::select()
        .column(Asterisk)
        .from(Alias::new(&schema.table))
        .cond_where(f.to_condition(schema, d))
        .to_owned();
    match d {
        Dialect::Postgres => q.build(PostgresQueryBuilder),
        Dialect::MySql => q.build(MysqlQueryBuilder),
        Dialect::Sqlite => q.build(SqliteQueryBuilder),
    }
}

/// `SELECT * FROM users WHERE age = 7 AND <cond>`: a value before the filter's, so PostgreSQL
/// placeholders of a cached fragment must be renumbered.
fn build_after_value(cond: sea_query::Condition, schema: &ModelSchema, d: Dialect) -> (String, Values) {
    let q = Query::select()
        .column(Asterisk)
        .from(Alias::new(&schema.table))
        .cond_where(
            sea_query::Condition::all()
                .add(sea_query::ExprTrait::eq(sea_query::Expr::col(Alias::new("age")), 7))
                .add(cond),
        )
        .to_owned();
    d.build(&q)
}

/// The cached text is the fresh text, or the fresh text with the filter's part (after the first
/// ` AND `) in one more pair of parentheses (sea-query parenthesizes a custom expression as an
/// operand where it may omit them around its own expressions).
fn same_or_parenthesized(cached: &str, fresh: &str) -> bool {
    let Some(at) = fresh.find(" AND ") else { return cached == fresh };
    let (head, filter) = fresh.split_at(at + 5);
    cached == fresh || cached == format!("{head}({filter})")
}

/// Counts placeholders: `$n` on PostgreSQL (and checks they are exactly 1..=n), `?` elsewhere.
fn placeholders(sql: &str, d: Dialect) -> usize {
    if d == Dialect::Postgres {
        let re = regex::Regex::new(r"\$(\d+)").unwrap();
        let mut nums: Vec<usize> = re.captures_iter(sql).map(|c| c[1].parse().unwrap()).collect();
        let count = nums.len();
        nums.sort_unstable();
        assert_eq!(nums, (1..=count).collect::<Vec<_>>(), "placeholders are not $1..$n: {sql}");
        count
    } else {
        sql.matches('?').count()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn sql_text_never_depends_on_string_values(shape in tree(), strings in prop::collection::vec(hostile(), 1..6), native in any::<bool>()) {
        let schema = support::schema::user_schema(native);
        let hostile_json = fill(&shape, &strings, &mut 0);
        let benign_json = fill(&shape, &["x".to_owned()], &mut 0);
        let benign = Filter::parse(&benign_json, &schema).unwrap_or_else(|e| panic!("{benign_json}: {e}"));
        let parsed = Filter::parse(&hostile_json, &schema);
        let hostile = match parsed {
            Ok(f) => f,
            Err(e) => {
                // Only a LIKE pattern ending in a lone `\` may be rejected.
                prop_assert_eq!(e.code(), ErrorCode::INVALID_FILTER, "{}: {}", hostile_json, e);
                return Ok(());
            }
        };
        prop_assert_eq!(hostile.matches_everything(), benign.matches_everything());
        for d in Dialect::ALL {
            if native && d != Dialect::Postgres {
                continue;
            }
            let (sql, values) = build(&hostile, &schema, d);
            let (benign_sql, benign_values) = build(&benign, &schema, d);
            prop_assert_eq!(&sql, &benign_sql, "SQL text depends on a string value");
            prop_assert_eq!(values.0.len(), benign_values.0.len());
            prop_assert_eq!(placeholders(&sql, d), values.0.len(), "{}", sql);
            for s in &strings {
                if s.contains('\0') || s.contains('中') || s.contains("DROP") || s.contains("O'Brien") {
                    prop_assert!(!sql.contains(s.as_str()), "{:?} appears in {}", s, sql);
                }
            }
            // Shape cache: whichever of the two fills a cache saw first, the other one (same shape,
            // other strings) comes out exactly as a fresh render, text and values in order.
            for (first, second) in [(&hostile, &benign), (&benign, &hostile)] {
                let cache = ShapeCache::new();
                for f in [first, second, second] {
                    let cached = f.condition_cached(&schema, d, MySqlServer::MariaDb, &cache).unwrap();
                    let (sql, values) = build_after_value(cached, &schema, d);
                    let (fresh_sql, fresh_values) = build_after_value(f.to_condition(&schema, d), &schema, d);
                    prop_assert_eq!(values, fresh_values, "{}", hostile_json);
                    prop_assert!(same_or_parenthesized(&sql, &fresh_sql), "{}\n{}\n{}", hostile_json, sql, fresh_sql);
                }
                prop_assert!(cache.len() <= 1);
            }
        }
    }

    #[test]
    fn unknown_fields_always_error(name in "[a-z_][a-z0-9_]{0,12}(\\.[a-z]{1,5})?", value in prop_oneof![int(), hostile().prop_map(Value::String)]) {
        let schema = support::schema::user_schema(false);
        let base = name.split('.').next().unwrap_or_default();
        prop_assume!(schema.any_field(base).is_none());
        let e = Filter::parse(&json!({ name.clone(): value.clone() }), &schema).unwrap_err();
        prop_assert_eq!(e.code(), ErrorCode::UNKNOWN_FIELD);
        let nested = json!({"$or": [{"age": 1}, {"$not": { name: value }}]});
        prop_assert_eq!(Filter::parse(&nested, &schema).unwrap_err().code(), ErrorCode::UNKNOWN_FIELD);
    }

    #[test]
    fn unknown_operators_always_error(op in "\\$[a-z]{1,10}", field in prop::sample::select(vec!["name", "age", "tags", "profile.x", "price", "active"])) {
        const KNOWN: &[&str] = &["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$null", "$like",
            "$ilike", "$startswith", "$endswith", "$contains", "$regex", "$options", "$not", "$all", "$overlap", "$size", "$any"];
        prop_assume!(!KNOWN.contains(&op.as_str()));
        let schema = support::schema::user_schema(false);
        let e = Filter::parse(&json!({ field: { op.clone(): 1 } }), &schema).unwrap_err();
        prop_assert_eq!(e.code(), ErrorCode::UNKNOWN_OPERATOR, "{}", e);
        prop_assume!(!["$and", "$or", "$nor"].contains(&op.as_str()));
        let e = Filter::parse(&json!({ op: [{"age": 1}] }), &schema).unwrap_err();
        prop_assert_eq!(e.code(), ErrorCode::UNKNOWN_OPERATOR, "{}", e);
    }

    /// The pattern the backends receive (printed in the portable subset, case folding expanded)
    /// matches exactly what the user's pattern matches under Rust `regex` semantics — the
    /// semantics of the reference evaluator.
    #[test]
    fn printed_patterns_match_like_the_original(
        p in "[ab.()|*+?^$%_\\[\\]{}0-9,ßσΣéK\\\\-]{0,10}",
        ci in any::<bool>(),
        subjects in prop::collection::vec("[abAB.ßẞσςΣéÉkK\u{212A}\n-]{0,6}", 1..8),
    ) {
        let schema = support::schema::user_schema(false);
        let f = json!({"name": {"$regex": p.clone(), "$options": if ci { "i" } else { "" }}});
        if let Ok(parsed) = Filter::parse(&f, &schema) {
            let original = regex::Regex::new(&format!("{}{p}", if ci { "(?i)" } else { "" })).unwrap();
            let printed = printed_pattern(&parsed, &schema);
            let printed = regex::Regex::new(&printed).unwrap();
            for s in &subjects {
                prop_assert_eq!(original.is_match(s), printed.is_match(s), "pattern {:?} on {:?}", p, s);
            }
        }
        let f = json!({"name": {"$ilike": p.clone()}});
        if let Ok(parsed) = Filter::parse(&f, &schema) {
            let printed = regex::Regex::new(&printed_pattern(&parsed, &schema)).unwrap();
            for s in &subjects {
                prop_assert_eq!(support::reference::like_ci(s, &p), printed.is_match(s), "$ilike {:?} on {:?}", p, s);
            }
        }
    }

    #[test]
    fn arbitrary_json_never_panics(v in arbitrary_json()) {
        let schema = support::schema::user_schema(false);
        if let Ok(f) = Filter::parse(&v, &schema) {
            for d in Dialect::ALL {
                let (sql, values) = build(&f, &schema, d);
                prop_assert_eq!(placeholders(&sql, d), values.0.len());
            }
        }
    }
}

/// The single bound value of a one-leaf `$regex`/`$ilike` filter rendered for SQLite.
fn printed_pattern(f: &Filter, schema: &ModelSchema) -> String {
    let (_, values) = build(f, schema, Dialect::Sqlite);
    match values.0.as_slice() {
        [sea_query::Value::String(Some(s))] => s.to_string(),
        other => panic!("expected one string, got {other:?}"),
    }
}

/// Arbitrary JSON biased towards filter-like keys.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "name",
            "age",
            "tags",
            "scores",
            "profile",
            "profile.a",
            "price",
            "active",
            "$and",
            "$or",
            "$nor",
            "$not",
            "$eq",
            "$in",
            "$gt",
            "$like",
            "$any",
            "$all",
            "$size",
            "$regex",
            "$options",
            "$exists",
            "$contains",
            "$ne",
            "$nin",
            "$ilike",
            "$overlap",
            "$lte",
            "visits",
            "ratios",
            "flags",
            "profile.a.b",
        ])
        .prop_map(str::to_owned),
        "[a-z$.]{0,6}",
    ];
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile().prop_map(Value::String),
        // Regular-expression metacharacters and case-folding characters, for $regex / $ilike.
        "[a-z(\\[\\]{}*+?|^$.\\\\]{0,8}".prop_map(Value::String),
        "[ßẞσςΣéÉЖж東🦀kK]{0,4}".prop_map(Value::String),
        (-100i32..100).prop_map(|i| json!(f64::from(i) / 4.0)),
    ];
    scalar.prop_recursive(5, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
