//! The questions the runtime asks of a parsed filter: `matches_everything` (destructive bulk
//! operations need `confirmed: true`), `matches_nothing`, `identifies_one` (Update needs it),
//! and errors carrying code, field and operator.

mod support {
    pub mod reference;
    pub mod schema;
}

use dataflow_sql::ErrorCode;
use dataflow_sql::filter::Filter;
use serde_json::{Value, json};

fn parse(v: Value) -> Filter {
    Filter::parse(&v, &support::schema::user_schema(false)).unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[test]
fn matches_everything_detects_empty_and_degenerate_filters() {
    for v in [
        json!({}),
        json!({"$and": [{}]}),
        json!({"$and": [{}, {"$and": [{}]}]}),
        json!({"$or": [{}, {"age": 1}]}),
        json!({"age": {"$nin": []}}),
        json!({"id": {"$exists": true}}),
        json!({"name": {"$ne": null}}),
        json!({"$nor": [{"age": {"$in": []}}]}),
        json!({"$not": {"age": {"$in": []}}}),
    ] {
        assert!(parse(v.clone()).matches_everything(), "{v}");
    }
    for v in [
        json!({"age": 1}),
        json!({"age": {"$exists": true}}),
        json!({"$or": [{"age": 1}, {"name": "x"}]}),
        json!({"$not": {}}),
        json!({"age": {"$ne": 5}}),
    ] {
        assert!(!parse(v.clone()).matches_everything(), "{v}");
    }
    assert!(Filter::all().matches_everything() && Filter::all().is_empty());
    assert!(!parse(json!({"$and": [{}]})).is_empty());
}

#[test]
fn matches_nothing_detects_contradictions_by_construction() {
    for v in [
        json!({"age": {"$in": []}}),
        json!({"tags": {"$overlap": []}}),
        json!({"$not": {}}),
        json!({"id": null}),
        json!({"$and": [{"name": "a"}, {"age": {"$in": []}}]}),
    ] {
        assert!(parse(v.clone()).matches_nothing(), "{v}");
    }
    assert!(!parse(json!({"age": null})).matches_nothing());
}

#[test]
fn identifies_one_needs_equality_on_a_unique_key() {
    for v in [
        json!({"id": "u1"}),
        json!({"id": {"$eq": "u1"}, "active": true}),
        json!({"email": "a@b.c"}),
        json!({"id": {"$in": ["u1"]}}),
        json!({"org_id": "o1", "slug": "s1"}),
        json!({"$and": [{"org_id": "o1"}, {"slug": "s1"}]}),
    ] {
        assert!(parse(v.clone()).identifies_one(&support::schema::user_schema(false)), "{v}");
    }
    for v in [
        json!({}),
        json!({"name": "Alice"}),
        json!({"org_id": "o1"}),
        json!({"id": {"$ne": "u1"}}),
        json!({"id": {"$in": ["u1", "u2"]}}),
        json!({"$or": [{"id": "u1"}, {"id": "u2"}]}),
        json!({"$not": {"id": "u1"}}),
        json!({"email": null}),
    ] {
        assert!(!parse(v.clone()).identifies_one(&support::schema::user_schema(false)), "{v}");
    }
}

#[test]
fn errors_name_code_field_and_operator() {
    let schema = support::schema::user_schema(false);
    let e = Filter::parse(&json!({"age": {"$in": [1, "x"]}}), &schema).unwrap_err();
    assert_eq!(e.code(), ErrorCode::WRONG_TYPE);
    assert_eq!(e.context().field.as_deref(), Some("age"));
    assert_eq!(e.context().operator.as_deref(), Some("$in"));
    assert_eq!(e.context().model.as_deref(), Some("User"));
    assert!(e.message().contains("integer"), "{e}");

    let e = Filter::parse(&json!({"emial": 1}), &schema).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UNKNOWN_FIELD);
    assert!(e.fixes()[0].contains("`email`"), "{e}");

    let e = Filter::parse(&json!({"name": {"$startwith": "a"}}), &schema).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UNKNOWN_OPERATOR);
    assert!(e.fixes()[0].contains("`$startswith`"), "{e}");

    let e = Filter::parse(&json!({"tags": {"$like": "a%"}}), &schema).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UNKNOWN_OPERATOR);
    assert!(e.to_string().contains("does not apply"), "{e}");

    for bad in [json!({"$and": []}), json!({"$or": {}}), json!({"age": {"$in": 1}}), json!("x"), json!({"age": {}})] {
        assert_eq!(Filter::parse(&bad, &schema).unwrap_err().code(), ErrorCode::INVALID_FILTER, "{bad}");
    }
}

#[test]
fn managed_fields_are_filterable_and_not_interpolated() {
    let schema = support::schema::user_schema(false);
    let f = parse(json!({"created_at": {"$gte": "2024-01-01T00:00:00Z"}, "deleted_at": null}));
    let c = f.to_condition(&schema, dataflow_sql::Dialect::Postgres);
    let (sql, values) = sea_query::Query::select()
        .column(sea_query::Asterisk)
        .from(sea_query::Alias::new("users"))
        .cond_where(c)
        .build(sea_query::PostgresQueryBuilder);
    assert_eq!(sql, r#"SELECT * FROM "users" WHERE "created_at" >= $1 AND "deleted_at" IS NULL"#);
    assert_eq!(values.0.len(), 1);
    // `tenant_id` exists only on multi-tenant models.
    assert_eq!(Filter::parse(&json!({"tenant_id": "t"}), &schema).unwrap_err().code(), ErrorCode::UNKNOWN_FIELD);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn rows() -> Vec<serde_json::Map<String, Value>> {
        let v = json!([
            {"id": "a", "name": "A", "age": 1, "nick": null, "tags": ["x"], "scores": [1], "profile": {"k": 1}},
            {"id": "b", "name": "b", "age": null, "nick": "n", "tags": [], "scores": [], "profile": null},
            {"id": "c", "name": "", "age": 30, "tags": ["x", "y"], "scores": [5, 9], "profile": {"k": "1"}}
        ]);
        v.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect()
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(json!({})),
            (0i64..40).prop_map(|n| json!({"age": {"$gt": n}})),
            Just(json!({"age": null})),
            Just(json!({"age": {"$in": []}})),
            Just(json!({"age": {"$nin": []}})),
            Just(json!({"id": {"$exists": true}})),
            Just(json!({"nick": {"$ne": "n"}})),
            Just(json!({"tags": {"$contains": "x"}})),
            Just(json!({"tags": {"$overlap": []}})),
            Just(json!({"scores": {"$any": {"$gte": 5}}})),
            Just(json!({"profile.k": 1})),
            Just(json!({"name": {"$ilike": "a%"}})),
        ]
    }

    fn tree() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"$and": v})),
                prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"$or": v})),
                prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"$nor": v})),
                inner.prop_map(|v| json!({"$not": v})),
            ]
        })
    }

    proptest! {
        /// What the parser claims by construction holds on the reference evaluator, and `$not`
        /// is an exact complement there.
        #[test]
        fn structural_claims_agree_with_the_reference(f in tree()) {
            let schema = support::schema::user_schema(false);
            let parsed = Filter::parse(&f, &schema).unwrap();
            let rows = rows();
            let hits: Vec<bool> = rows.iter().map(|r| support::reference::matches(&f, r, &schema)).collect();
            if parsed.matches_everything() {
                prop_assert!(hits.iter().all(|h| *h), "{}", f);
            }
            if parsed.matches_nothing() {
                prop_assert!(hits.iter().all(|h| !*h), "{}", f);
            }
            let negated = json!({"$not": f});
            for (r, h) in rows.iter().zip(&hits) {
                prop_assert_eq!(support::reference::matches(&negated, r, &schema), !h);
            }
        }
    }
}

#[test]
fn hostile_shapes_fail_closed_without_overflowing() {
    let schema = support::schema::user_schema(false);
    let mut deep = json!({"age": 1});
    for _ in 0..200 {
        deep = json!({"$not": deep});
    }
    assert_eq!(Filter::parse(&deep, &schema).unwrap_err().code(), ErrorCode::INVALID_FILTER);
    let mut deep_op = json!({"$gt": 1});
    for _ in 0..200 {
        deep_op = json!({"$not": deep_op});
    }
    assert_eq!(Filter::parse(&json!({"age": deep_op}), &schema).unwrap_err().code(), ErrorCode::INVALID_FILTER);
    let path = format!("profile.{}", vec!["a"; 40].join("."));
    assert_eq!(Filter::parse(&json!({ path: 1 }), &schema).unwrap_err().code(), ErrorCode::INVALID_FILTER);
    // A long `$in` list stays one condition with one placeholder per value.
    let many: Vec<i32> = (0..5000).collect();
    let f = parse(json!({"age": {"$in": many}}));
    let (sql, values) = sea_query::Query::select()
        .column(sea_query::Asterisk)
        .from(sea_query::Alias::new("users"))
        .cond_where(f.to_condition(&schema, dataflow_sql::Dialect::Sqlite))
        .build(sea_query::SqliteQueryBuilder);
    assert_eq!(values.0.len(), 5000);
    assert_eq!(sql.matches('?').count(), 5000);
}
