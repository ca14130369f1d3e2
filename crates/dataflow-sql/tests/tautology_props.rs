//! Destructive-operation safety: which filters match every possible record (DF-108 without
//! `confirmed: true`), decided by meaning (`Filter::is_tautology`).
//!
//! - every filter from the issue that matched every row is a tautology; selective filters are not;
//! - property: a filter the checker lets through has a witness record it excludes, and the reference
//!   evaluator (`support/reference.rs`) agrees that the witness is excluded;
//! - property: a filter judged a tautology matches every record of a small generated set.

mod support {
    pub mod reference;
    pub mod schema;
}

use dataflow_sql::filter::Filter;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn schema() -> dataflow_sql::ModelSchema {
    support::schema::user_schema(false)
}

fn taut(f: Value) -> bool {
    Filter::parse(&f, &schema()).unwrap_or_else(|e| panic!("{f}: {e}")).is_tautology()
}

#[test]
fn filters_that_match_every_possible_record() {
    for f in [
        json!({}),
        json!({"id": {"$nin": [null]}}),
        json!({"name": {"$startswith": ""}}),
        json!({"name": {"$contains": ""}}),
        json!({"name": {"$endswith": ""}}),
        json!({"name": {"$like": "%"}}),
        json!({"name": {"$regex": ""}}),
        json!({"name": {"$regex": ".*"}}),
        json!({"id": {"$gte": ""}}),
        json!({"visits": {"$gte": i64::MIN}}),
        json!({"visits": {"$lte": i64::MAX}}),
        json!({"$or": [{"active": true}, {"active": false}]}),
        json!({"$or": [{"nick": null}, {"nick": {"$ne": null}}]}),
        json!({"$or": [{"visits": {"$gt": 5}}, {"visits": {"$lte": 5}}]}),
        json!({"$not": {"scores": {"$size": 100000}}, "name": {"$like": "%%"}}),
        json!({"$nor": [{"visits": {"$lt": i64::MIN}}, {"id": {"$in": []}}]}),
        json!({"$or": [{"name": {"$gte": "m"}}, {"name": {"$lt": "m"}}]}),
        json!({"$or": [{"age": {"$gte": 0}}, {"age": {"$lt": 0}}, {"age": null}]}),
    ] {
        assert!(taut(f.clone()), "{f} matches every record but was not flagged");
    }
}

#[test]
fn long_lists_are_decided_quickly() {
    let big: Vec<i64> = (0..10_000).collect();
    assert!(!taut(json!({"visits": {"$in": big}})));
    assert!(!taut(json!({"visits": {"$nin": big}})));
    assert!(taut(json!({"$or": [{"visits": {"$nin": big}}, {"visits": {"$in": big}}]})));
}

#[test]
fn selective_filters_are_let_through() {
    for f in [
        json!({"name": "a"}),
        json!({"name": {"$startswith": "a"}}),
        json!({"name": {"$like": "_%"}}),
        json!({"name": {"$regex": "^a"}}),
        json!({"age": {"$gte": i32::MIN}}),
        json!({"visits": {"$gt": i64::MIN}}),
        json!({"nick": {"$nin": ["a"]}, "active": true}),
        json!({"$or": [{"active": true}, {"visits": 3}]}),
        json!({"$or": [{"name": {"$gt": "m"}}, {"name": {"$lt": "m"}}]}),
        json!({"profile.city": {"$ne": "x"}}),
        json!({"tags": {"$size": 0}}),
        json!({"scores": {"$any": {"$gte": i64::MIN}}}),
        json!({"price": {"$gte": "0"}}),
        json!({"seen_at": {"$lt": "2024-01-01T00:00:00Z"}}),
        json!({"id": {"$nin": ["a"]}}),
    ] {
        assert!(!taut(f.clone()), "{f} leaves records out but was flagged");
    }
}

fn int() -> impl Strategy<Value = Value> {
    prop_oneof![Just(json!(i64::MIN)), Just(json!(i64::MAX)), Just(json!(0)), (-3i64..3).prop_map(Value::from)]
}

fn small_int() -> impl Strategy<Value = Value> {
    prop_oneof![Just(json!(i32::MIN)), Just(json!(i32::MAX)), (-3i64..3).prop_map(Value::from)]
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("")),
        Just(json!("%")),
        Just(json!("a")),
        Just(json!("b")),
        Just(json!("_")),
        Just(json!(".*"))
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    let cmp = prop::sample::select(vec!["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]);
    let sop = prop::sample::select(vec![
        "$eq",
        "$ne",
        "$gte",
        "$lt",
        "$like",
        "$startswith",
        "$endswith",
        "$contains",
        "$regex",
    ]);
    prop_oneof![
        (sop.clone(), prop::sample::select(vec!["name", "nick", "id"]), text())
            .prop_map(|(op, f, v)| json!({f: {op: v}})),
        (cmp.clone(), int()).prop_map(|(op, v)| json!({"visits": {op: v}})),
        (cmp.clone(), small_int()).prop_map(|(op, v)| json!({"age": {op: v}})),
        (prop::collection::vec(prop_oneof![small_int(), Just(Value::Null)], 0..3), any::<bool>())
            .prop_map(|(l, nin)| json!({"age": {if nin { "$nin" } else { "$in" }: l}})),
        (prop::collection::vec(prop_oneof![text(), Just(Value::Null)], 0..3), any::<bool>())
            .prop_map(|(l, nin)| json!({"nick": {if nin { "$nin" } else { "$in" }: l}})),
        any::<bool>().prop_map(|b| json!({"active": b})),
        any::<bool>().prop_map(|b| json!({"active": {"$ne": b}})),
        (prop::sample::select(vec!["nick", "age", "profile", "tags"]), any::<bool>())
            .prop_map(|(f, b)| json!({f: {"$null": b}})),
        (0i64..3).prop_map(|n| json!({"tags": {"$size": n}})),
        text().prop_map(|v| json!({"tags": {"$contains": v}})),
        (cmp.clone(), int()).prop_map(|(op, v)| json!({"scores": {"$any": {op: v}}})),
        (cmp, small_int()).prop_map(|(op, v)| json!({"profile.n": {op: v}})),
        (sop, text()).prop_map(|(op, v)| json!({"profile.s": {op: v}})),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"$and": v})),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"$or": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"$nor": v})),
            inner.prop_map(|v| json!({"$not": v})),
        ]
    })
}

/// Records that respect the schema's nullability (NOT NULL fields always set).
fn record() -> impl Strategy<Value = Map<String, Value>> {
    (
        text(),
        prop_oneof![text(), Just(Value::Null)],
        text(),
        prop_oneof![small_int(), Just(Value::Null)],
        int(),
        any::<bool>(),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(int(), 0..3),
        prop_oneof![Just(Value::Null), small_int().prop_map(|n| json!({"n": n})), text().prop_map(|s| json!({"s": s}))],
    )
        .prop_map(|(id, nick, name, age, visits, active, tags, scores, profile)| {
            let mut m = Map::new();
            for (k, v) in [
                ("id", id),
                ("nick", nick),
                ("name", name),
                ("age", age),
                ("visits", visits),
                ("active", json!(active)),
                ("tags", json!(tags)),
                ("scores", json!(scores)),
                ("profile", profile),
            ] {
                m.insert(k.into(), v);
            }
            m
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_filter_let_through_excludes_a_record(f in tree(), rows in prop::collection::vec(record(), 8)) {
        let s = schema();
        let filter = Filter::parse(&f, &s).unwrap();
        match filter.excluded_record() {
            Some(w) => prop_assert!(
                !support::reference::matches(&f, &w, &s),
                "{f}: witness {} is matched by the reference evaluator", Value::Object(w.clone())
            ),
            None => {
                prop_assert!(filter.is_tautology());
                for r in &rows {
                    prop_assert!(support::reference::matches(&f, r, &s), "{f} judged a tautology but excludes {}", Value::Object(r.clone()));
                }
            }
        }
    }
}
