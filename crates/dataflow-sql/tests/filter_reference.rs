//! Unit tests of the reference evaluator (`tests/support/reference.rs`), on hand-checked rows.

mod support {
    pub mod reference;
    pub mod schema;
}

use serde_json::{Map, Value, json};
use support::reference::{like, matches};

fn rows() -> Vec<Map<String, Value>> {
    let rows = json!([
        {"id": "a", "name": "Alice", "email": "a@x.io", "age": 30, "visits": 5, "score": 1.5, "active": true,
         "price": "12.50", "born": "1990-05-01", "seen_at": "2024-01-31T12:00:00Z",
         "uid": "67e55044-10b1-426f-9247-bb680e5fe0c8",
         "tags": ["rust", "sql"], "scores": [90, 70], "ratios": [0.25], "flags": [true],
         "profile": {"address": {"city": "Oslo"}, "age": 30, "vip": true, "code": "a"},
         "created_at": "2024-01-01T00:00:00Z", "deleted_at": null},
        {"id": "b", "name": "bob", "email": "b@x.io", "age": null, "visits": 7, "score": null, "active": false,
         "price": "9.9", "born": null, "seen_at": "2024-01-31T13:30:00+01:00",
         "tags": [], "scores": [100], "ratios": null, "flags": [false, true],
         "profile": {"address": {"city": "oslo"}, "age": "30", "code": 1},
         "created_at": "2023-06-01T00:00:00Z", "deleted_at": "2024-02-01T00:00:00Z"},
        {"id": "c", "name": "50%_off\\", "email": "c@x.io", "age": 5, "visits": 0, "score": 0.0, "active": true,
         "price": "100", "tags": ["SQL"], "scores": [], "flags": [],
         "profile": null,
         "created_at": "2025-01-01T00:00:00Z"}
    ]);
    rows.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect()
}

/// The ids of the rows a filter matches.
fn ids(filter: Value) -> Vec<String> {
    let schema = support::schema::user_schema(false);
    // Every filter used here must also be accepted by the parser.
    dataflow_sql::filter::Filter::parse(&filter, &schema).unwrap_or_else(|e| panic!("{filter}: {e}"));
    rows().iter().filter(|r| matches(&filter, r, &schema)).map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn equality_and_null_semantics() {
    assert_eq!(ids(json!({})), ["a", "b", "c"]);
    assert_eq!(ids(json!({"name": "alice"})), Vec::<String>::new(), "equality is case-sensitive");
    assert_eq!(ids(json!({"age": null})), ["b"]);
    assert_eq!(ids(json!({"age": {"$ne": 30}})), ["b", "c"], "$ne includes NULL");
    assert_eq!(ids(json!({"age": {"$gt": 1}})), ["a", "c"], "comparisons never match NULL");
    assert_eq!(ids(json!({"age": {"$not": {"$gt": 10}}})), ["b", "c"]);
    assert_eq!(ids(json!({"age": {"$in": []}})), Vec::<String>::new());
    assert_eq!(ids(json!({"age": {"$nin": []}})), ["a", "b", "c"]);
    assert_eq!(ids(json!({"age": {"$in": [5, null]}})), ["b", "c"]);
    assert_eq!(ids(json!({"age": {"$nin": [5]}})), ["a", "b"]);
    assert_eq!(ids(json!({"age": {"$nin": [5, null]}})), ["a"]);
    assert_eq!(ids(json!({"age": {"$exists": false}})), ["b"]);
    assert_eq!(ids(json!({"score": {"$null": false}})), ["a", "c"]);
    assert_eq!(ids(json!({"deleted_at": null})), ["a", "c"], "missing key is NULL");
}

#[test]
fn typed_comparisons() {
    assert_eq!(ids(json!({"name": {"$lt": "a"}})), ["a", "c"], "code-point order: uppercase and digits first");
    assert_eq!(ids(json!({"price": {"$gte": "12.5"}})), ["a", "c"], "decimals compare numerically");
    assert_eq!(ids(json!({"seen_at": "2024-01-31T13:00:00+01:00"})), ["a"], "date-times compare as instants");
    assert_eq!(ids(json!({"seen_at": {"$gt": "2024-01-31T12:00:00Z"}})), ["b"]);
    assert_eq!(ids(json!({"born": {"$lt": "2000-01-01"}})), ["a"]);
    assert_eq!(ids(json!({"uid": "67E55044-10B1-426F-9247-BB680E5FE0C8"})), ["a"]);
    assert_eq!(ids(json!({"active": false})), ["b"]);
    assert_eq!(ids(json!({"created_at": {"$gte": "2024-01-01T00:00:00Z"}})), ["a", "c"]);
}

#[test]
fn string_operators_are_literal_or_patterns() {
    assert_eq!(ids(json!({"name": {"$like": "A%"}})), ["a"]);
    assert_eq!(ids(json!({"name": {"$ilike": "a%"}})), ["a"]);
    assert_eq!(ids(json!({"name": {"$ilike": "%O%"}})), ["b", "c"]);
    assert_eq!(ids(json!({"name": {"$startswith": "50%_"}})), ["c"]);
    assert_eq!(ids(json!({"name": {"$startswith": "5_"}})), Vec::<String>::new(), "_ is literal");
    assert_eq!(ids(json!({"name": {"$endswith": "\\"}})), ["c"]);
    assert_eq!(ids(json!({"name": {"$contains": "li"}})), ["a"]);
    assert_eq!(ids(json!({"name": {"$regex": "^[ab]"}})), ["b"]);
    assert_eq!(ids(json!({"name": {"$regex": "^[ab]", "$options": "i"}})), ["a", "b"]);
    assert!(like("a\nb", "a%b") && like("x_y", r"x\_y") && !like("xzy", r"x\_y") && like("ÄX", "_X"));
}

#[test]
fn logical_operators() {
    assert_eq!(ids(json!({"$or": [{"age": 5}, {"name": "bob"}]})), ["b", "c"]);
    assert_eq!(ids(json!({"$and": [{"active": true}, {"age": {"$gt": 10}}]})), ["a"]);
    assert_eq!(ids(json!({"$nor": [{"age": 5}, {"active": false}]})), ["a"]);
    assert_eq!(ids(json!({"$not": {"age": {"$gte": 10}}})), ["b", "c"]);
}

#[test]
fn array_operators() {
    assert_eq!(ids(json!({"tags": {"$contains": "sql"}})), ["a"], "element equality is case-sensitive");
    assert_eq!(ids(json!({"tags": {"$all": ["sql", "rust"]}})), ["a"]);
    assert_eq!(ids(json!({"scores": {"$overlap": [100, 70]}})), ["a", "b"]);
    assert_eq!(ids(json!({"scores": {"$overlap": []}})), Vec::<String>::new());
    assert_eq!(ids(json!({"tags": {"$size": 0}})), ["b"]);
    assert_eq!(ids(json!({"scores": {"$any": {"$gte": 95}}})), ["b"]);
    assert_eq!(ids(json!({"scores": {"$any": {"$lt": 80}}})), ["a"]);
    assert_eq!(ids(json!({"ratios": {"$any": {"$lt": 0.5}}})), ["a"]);
    assert_eq!(ids(json!({"flags": {"$any": false}})), ["b"]);
    assert_eq!(ids(json!({"tags": {"$any": {"$ilike": "s%"}}})), ["a", "c"]);
    assert_eq!(ids(json!({"ratios": null})), ["b", "c"]);
    assert_eq!(ids(json!({"tags": {"$not": {"$contains": "rust"}}})), ["b", "c"]);
}

#[test]
fn json_paths_compare_by_json_type() {
    assert_eq!(ids(json!({"profile.address.city": "Oslo"})), ["a"]);
    assert_eq!(ids(json!({"profile.age": 30})), ["a"], "the string \"30\" is not the number 30");
    assert_eq!(ids(json!({"profile.age": "30"})), ["b"]);
    assert_eq!(ids(json!({"profile.age": {"$gte": 18}})), ["a"]);
    assert_eq!(ids(json!({"profile.vip": true})), ["a"]);
    assert_eq!(ids(json!({"profile.vip": {"$ne": true}})), ["b", "c"]);
    assert_eq!(ids(json!({"profile.vip": null})), ["b", "c"]);
    assert_eq!(ids(json!({"profile.address": {"$exists": true}})), ["a", "b"]);
    assert_eq!(ids(json!({"profile.code": {"$in": ["a", 1]}})), ["a", "b"]);
    assert_eq!(ids(json!({"profile.code": {"$nin": ["a"]}})), ["b", "c"]);
    assert_eq!(ids(json!({"profile.address.city": {"$ilike": "OS%"}})), ["a", "b"]);
    assert_eq!(ids(json!({"profile": null})), ["c"]);
}
