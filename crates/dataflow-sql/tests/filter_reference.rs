//! Unit tests of the reference evaluator (`tests/support/reference.rs`), on hand-checked rows.

mod support {
    pub mod reference;
    pub mod schema;
}

use dataflow_sql::ErrorCode;
use serde_json::{Map, Value, json};
use support::reference::{like, like_ci, matches};

fn rows() -> Vec<Map<String, Value>> {
    let rows = json!([
        {"id": "a", "name": "Alice", "email": "a@x.io", "age": 30, "visits": 5, "score": 1.5, "active": true,
         "price": "12.50", "born": "1990-05-01", "seen_at": "2024-01-31T12:00:00Z",
         "uid": "67e55044-10b1-426f-9247-bb680e5fe0c8",
         "tags": ["rust", "sql"], "scores": [90, 70], "ratios": [0.25], "flags": [true],
         "profile": {"address": {"city": "Oslo"}, "age": 30, "vip": true, "code": "a", "langs": ["rust", 3, true, ["go"]]},
         "created_at": "2024-01-01T00:00:00Z", "deleted_at": null},
        {"id": "b", "name": "bob", "email": "b@x.io", "age": null, "visits": 7, "score": null, "active": false,
         "price": "9.9", "born": null, "seen_at": "2024-01-31T13:30:00+01:00",
         "tags": [], "scores": [100], "ratios": null, "flags": [false, true],
         "profile": {"address": {"city": "oslo"}, "age": "30", "code": 1, "langs": "rust and go"},
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
    assert_eq!(ids(json!({"flags": {"$any": {"$eq": false}}})), ["b"]);
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

/// The error code `Filter::parse` gives for a filter.
fn parse_err(filter: Value) -> ErrorCode {
    let schema = support::schema::user_schema(false);
    dataflow_sql::filter::Filter::parse(&filter, &schema).map(|_| ()).expect_err(&filter.to_string()).code()
}

#[test]
fn numbers_compare_as_numbers_whatever_their_json_form() {
    // age: a 30, b NULL, c 5 (i32); visits: a 5, b 7, c 0 (i64); scores: a [90, 70], b [100], c [].
    assert_eq!(ids(json!({"age": 30.0})), ["a"], "an integral float equals the integer");
    assert_eq!(ids(json!({"age": 29.5})), Vec::<String>::new(), "a fractional float equals no integer");
    assert_eq!(ids(json!({"age": {"$ne": 29.5}})), ["a", "b", "c"], "$ne of a fraction: every row, NULL too");
    assert_eq!(ids(json!({"age": {"$gt": 29.5}})), ["a"]);
    assert_eq!(ids(json!({"age": {"$gte": 5.5}})), ["a"]);
    assert_eq!(ids(json!({"age": {"$lt": 5.5}})), ["c"]);
    assert_eq!(ids(json!({"age": {"$lte": 4.99}})), Vec::<String>::new());
    assert_eq!(ids(json!({"age": {"$gt": -1e300}})), ["a", "c"], "never NULL");
    assert_eq!(ids(json!({"age": {"$lt": 1e300}})), ["a", "c"]);
    assert_eq!(ids(json!({"age": {"$gt": 1e300}})), Vec::<String>::new());
    assert_eq!(ids(json!({"age": {"$in": [5.0, 30.5]}})), ["c"]);
    assert_eq!(ids(json!({"age": {"$nin": [30.5]}})), ["a", "b", "c"]);
    assert_eq!(ids(json!({"visits": {"$gte": 6.5}})), ["b"]);
    assert_eq!(ids(json!({"scores": {"$any": {"$gt": 99.5}}})), ["b"]);
    assert_eq!(ids(json!({"scores": {"$contains": 70.0}})), ["a"]);
    assert_eq!(ids(json!({"scores": {"$contains": 70.5}})), Vec::<String>::new());
    assert_eq!(ids(json!({"scores": {"$all": [90.0, 70]}})), ["a"]);
    assert_eq!(ids(json!({"scores": {"$overlap": [100.0, 0.5]}})), ["b"]);
    assert_eq!(parse_err(json!({"age": "30"})), ErrorCode::WRONG_TYPE, "a numeric string stays DF-102");
    assert_eq!(parse_err(json!({"age": 3e9})), ErrorCode::WRONG_TYPE, "an integral float out of i32 range");
}

#[test]
fn array_fields_compare_whole_arrays() {
    // tags: a ["rust", "sql"], b [], c ["SQL"]; scores: a [90, 70], b [100], c []; ratios: a [0.25], b NULL, c missing.
    assert_eq!(ids(json!({"tags": ["rust", "sql"]})), ["a"]);
    assert_eq!(ids(json!({"tags": ["sql", "rust"]})), Vec::<String>::new(), "order is significant");
    assert_eq!(ids(json!({"tags": ["rust", "sql", "sql"]})), Vec::<String>::new(), "duplicates are significant");
    assert_eq!(ids(json!({"tags": ["rust"]})), Vec::<String>::new(), "a prefix is not equal");
    assert_eq!(ids(json!({"tags": []})), ["b"], "[] matches empty arrays only");
    assert_eq!(ids(json!({"tags": {"$eq": ["SQL"]}})), ["c"], "elements compare case-sensitively");
    assert_eq!(ids(json!({"tags": {"$ne": []}})), ["a", "c"]);
    assert_eq!(ids(json!({"scores": [90.0, 70]})), ["a"], "numbers numerically");
    assert_eq!(ids(json!({"scores": [100.5]})), Vec::<String>::new());
    assert_eq!(ids(json!({"scores": {"$ne": [100.5]}})), ["a", "b", "c"]);
    assert_eq!(ids(json!({"ratios": {"$ne": [0.25]}})), ["b", "c"], "$ne matches NULL");
    assert_eq!(ids(json!({"ratios": [0.25]})), ["a"]);
    assert_eq!(parse_err(json!({"tags": "rust"})), ErrorCode::UNKNOWN_OPERATOR, "scalar $eq points at $contains");
}

#[test]
fn contains_on_a_json_path() {
    // profile.langs: a ["rust", 3, true, ["go"]], b "rust and go", c NULL document.
    assert_eq!(ids(json!({"profile.langs": {"$contains": "rust"}})), ["a", "b"], "element of a, substring of b");
    assert_eq!(ids(json!({"profile.langs": {"$contains": "go"}})), ["b"], "nested arrays are not searched");
    assert_eq!(ids(json!({"profile.langs": {"$contains": 3}})), ["a"]);
    assert_eq!(ids(json!({"profile.langs": {"$contains": 3.0}})), ["a"]);
    assert_eq!(ids(json!({"profile.langs": {"$contains": "3"}})), Vec::<String>::new(), "\"3\" is not 3");
    assert_eq!(ids(json!({"profile.langs": {"$contains": 1}})), Vec::<String>::new(), "true is not 1");
    assert_eq!(ids(json!({"profile.langs": {"$contains": true}})), ["a"]);
    assert_eq!(ids(json!({"profile.code": {"$contains": 1}})), Vec::<String>::new(), "a number is not an array");
    assert_eq!(ids(json!({"profile.langs": {"$not": {"$contains": "rust"}}})), ["c"]);
}

#[test]
fn case_insensitive_matching_is_simple_case_folding() {
    assert!(like_ci("ZOË", "zoë") && like_ci("zoë", "ZOË"));
    assert!(like_ci("Émile", "émile") && like_ci("émile", "ÉMILE"));
    assert!(like_ci("STRASSE", "strasse"));
    assert!(!like_ci("STRASSE", "straße") && !like_ci("straße", "STRASSE"), "ß is not folded to ss");
    assert!(like_ci("STRAẞE", "straße"), "capital sharp s folds to ß");
    assert!(like_ci("ΣΟΦΟΣ", "σοφος") && like_ci("σοφος", "ΣΟΦΟΣ") && like_ci("ς", "Σ") && like_ci("ς", "σ"));
    assert!(like_ci("МОСКВА", "москва") && like_ci("ёж", "ЁЖ"));
    assert!(!like_ci("e\u{301}", "é") && !like_ci("é", "e\u{301}"), "no normalization");
    assert!(like_ci("E\u{301}", "e\u{301}"), "decomposed forms fold letter by letter");
    assert!(like_ci("東京", "東%") && like_ci("🦀", "_") && like_ci("a🦀b", "A_B"));
    assert!(like_ci("K", "\u{212A}"), "Kelvin sign folds to k");
    assert_eq!(ids(json!({"name": {"$ilike": "ALICE"}})), ["a"]);
    assert_eq!(ids(json!({"name": {"$regex": "^B", "$options": "i"}})), ["b"]);
}

#[test]
fn any_takes_an_operator_object_only() {
    for bad in [json!({"scores": {"$any": 90}}), json!({"scores": {"$any": [90]}}), json!({"scores": {"$any": {}}})] {
        assert_eq!(parse_err(bad), ErrorCode::INVALID_FILTER);
    }
}

#[test]
fn regex_is_validated_before_sql() {
    let schema = support::schema::user_schema(false);
    let e = dataflow_sql::filter::Filter::parse(&json!({"name": {"$regex": "ab(c"}}), &schema).unwrap_err();
    assert_eq!(e.code(), ErrorCode::INVALID_FILTER);
    let text = e.to_string();
    assert!(text.contains("name") && text.contains("character 2"), "{text}");
    assert_eq!(parse_err(json!({"name": {"$regex": "a".repeat(2000)}})), ErrorCode::INVALID_FILTER);
    assert_eq!(parse_err(json!({"name": {"$regex": "\\bx"}})), ErrorCode::INVALID_FILTER, "not portable");
    assert_eq!(parse_err(json!({"name": {"$regex": "x{1000}"}})), ErrorCode::INVALID_FILTER);
}
