//! Filter semantics on the real backends: errors before SQL (bad `$regex`, bare `$any`, oversized
//! filters), Unicode case folding, numbers whatever their JSON form, whole-array equality and
//! `$contains` on JSON paths holding arrays.

use dataflow_core::DataFlow;
use serde_json::{Value as J, json};

use super::models::{code, register_all};

async fn seed(db: &DataFlow) {
    register_all(db).await;
    let rows = json!([
        {"id": "zoe", "name": "ZOË", "email": "z@x", "age": 18, "tags": ["a", "b"],
         "profile": {"langs": ["rust", 3, true]}},
        {"id": "emile", "name": "Émile", "email": "e@x", "age": 17, "tags": ["b", "a"],
         "profile": {"langs": "rust and go"}},
        {"id": "strasse", "name": "STRASSE", "email": "s@x", "age": 42, "tags": [], "profile": {"langs": ["3"]}},
        {"id": "strasse2", "name": "Straße", "email": "s2@x", "age": null, "tags": ["a", "a"]},
        {"id": "sofos", "name": "ΣΟΦΟΣ", "email": "g@x", "age": 30, "tags": ["a"]},
        {"id": "moskva", "name": "МОСКВА", "email": "m@x", "age": 5, "tags": ["c"]}
    ]);
    assert_eq!(db.express().bulk_create_json("User", &rows).await.unwrap()["inserted"], 6);
}

async fn ids(db: &DataFlow, filter: J) -> Vec<String> {
    let r = db
        .express()
        .list_json("User", &json!({"filter": filter, "order_by": ["id"]}))
        .await
        .unwrap_or_else(|e| panic!("{filter}: {e}"));
    r["records"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_owned()).collect()
}

/// Every row's (id, name, age), to show a refused write changed nothing.
async fn state(db: &DataFlow) -> Vec<J> {
    let r = db.express().list_json("User", &json!({"order_by": ["id"], "fields": ["id", "name", "age"]})).await;
    r.unwrap()["records"].as_array().unwrap().clone()
}

/// A refused filter: DF-105 on List, Count, BulkUpdate and BulkDelete, and no row changed.
async fn refused_everywhere(db: &DataFlow, filter: J) {
    let before = state(db).await;
    assert_eq!(code(db.express().list_json("User", &json!({"filter": filter})).await), 105, "list {filter}");
    assert_eq!(code(db.express().count_json("User", &filter).await), 105, "count {filter}");
    let upd = json!({"filter": filter, "fields": {"name": "changed"}, "confirmed": true});
    assert_eq!(code(db.express().bulk_update_json("User", &upd).await), 105, "bulk update {filter}");
    let del = json!({"filter": filter, "confirmed": true});
    assert_eq!(code(db.express().bulk_delete_json("User", &del).await), 105, "bulk delete {filter}");
    assert_eq!(state(db).await, before, "no SQL ran for {filter}");
}

pub async fn bad_regex_is_df105_before_sql(db: &DataFlow) {
    seed(db).await;
    for pattern in ["ab(c", "[z-a]", "x{2,1}", "\\bword", "(?m)^a", "a{300}"] {
        refused_everywhere(db, json!({"name": {"$regex": pattern}})).await;
    }
    refused_everywhere(db, json!({"name": {"$regex": "a".repeat(dataflow_sql::filter::MAX_REGEX_LEN + 1)}})).await;
    refused_everywhere(db, json!({"profile.langs": {"$regex": "(", "$options": "i"}})).await;
    let e = db.express().list_json("User", &json!({"filter": {"name": {"$regex": "ab(c"}}})).await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("`name`") && text.contains("character 2"), "names the field and the position: {text}");
}

pub async fn bare_any_is_df105_before_sql(db: &DataFlow) {
    seed(db).await;
    for bad in [json!("a"), json!(["a"]), json!({})] {
        refused_everywhere(db, json!({"tags": {"$any": bad}})).await;
    }
    let e = db.express().list_json("User", &json!({"filter": {"tags": {"$any": "a"}}})).await.unwrap_err();
    assert!(format!("{e:#}").contains("{\"$any\": {\"$startswith\""), "shows the right shape: {e:#}");
    assert_eq!(ids(db, json!({"tags": {"$any": {"$eq": "c"}}})).await, ["moskva"]);
}

pub async fn oversized_filters_are_df105_not_a_crash(db: &DataFlow) {
    seed(db).await;
    // 20,000 branches: over the list limit (this used to overflow the stack and abort the process).
    let or = |n: usize| json!({"$or": (0..n).map(|i| json!({"age": i})).collect::<Vec<_>>()});
    refused_everywhere(db, or(20_000)).await;
    // 5,000 branches: rendered as balanced groups, runs on every backend.
    assert_eq!(ids(db, or(5_000)).await, ["emile", "moskva", "sofos", "strasse", "zoe"]);
    // 70,000 `$in` values: over every backend's bind-parameter limit, refused before SQL.
    let many: Vec<i64> = (0..70_000).collect();
    refused_everywhere(db, json!({"age": {"$in": many}})).await;
    let e = db.express().list_json("User", &json!({"filter": {"age": {"$in": many}}})).await.unwrap_err();
    assert!(e.to_string().contains("bound parameters"), "names the limit: {e}");
}

pub async fn case_insensitive_matching_is_unicode_simple_folding(db: &DataFlow) {
    seed(db).await;
    assert_eq!(ids(db, json!({"name": {"$ilike": "zoë"}})).await, ["zoe"]);
    assert_eq!(ids(db, json!({"name": {"$ilike": "émile"}})).await, ["emile"]);
    assert_eq!(ids(db, json!({"name": {"$ilike": "strasse"}})).await, ["strasse"], "ß is not ss");
    assert_eq!(ids(db, json!({"name": {"$ilike": "STRAẞE"}})).await, ["strasse2"], "ẞ folds to ß");
    assert_eq!(ids(db, json!({"name": {"$ilike": "σοφος"}})).await, ["sofos"], "final sigma folds to σ");
    assert_eq!(ids(db, json!({"name": {"$ilike": "%оск%"}})).await, ["moskva"]);
    assert_eq!(ids(db, json!({"name": {"$regex": "^zoë$", "$options": "i"}})).await, ["zoe"]);
    assert_eq!(ids(db, json!({"name": {"$regex": "^stra(ss|ß)e$", "$options": "i"}})).await, ["strasse", "strasse2"]);
    assert_eq!(ids(db, json!({"name": {"$regex": "^zoë$"}})).await, Vec::<String>::new(), "case-sensitive");
    assert_eq!(ids(db, json!({"name": {"$like": "Stra%"}})).await, ["strasse2"], "$like stays case-sensitive");
}

pub async fn numbers_arrays_and_path_membership(db: &DataFlow) {
    seed(db).await;
    assert_eq!(ids(db, json!({"age": 18.0})).await, ["zoe"]);
    assert_eq!(ids(db, json!({"age": 17.5})).await, Vec::<String>::new());
    assert_eq!(ids(db, json!({"age": {"$gt": 17.5}})).await, ["sofos", "strasse", "zoe"]);
    assert_eq!(ids(db, json!({"age": {"$in": [18.0, 20.5]}})).await, ["zoe"]);
    assert_eq!(ids(db, json!({"age": {"$ne": 17.5}})).await.len(), 6, "NULL included");
    assert_eq!(ids(db, json!({"tags": ["a", "b"]})).await, ["zoe"]);
    assert_eq!(ids(db, json!({"tags": {"$eq": ["b", "a"]}})).await, ["emile"]);
    assert_eq!(ids(db, json!({"tags": []})).await, ["strasse"]);
    assert_eq!(ids(db, json!({"tags": ["a", "a"]})).await, ["strasse2"]);
    assert_eq!(ids(db, json!({"tags": {"$ne": ["a"]}})).await, ["emile", "moskva", "strasse", "strasse2", "zoe"]);
    assert_eq!(code(db.express().list_json("User", &json!({"filter": {"tags": "a"}})).await), 104);
    assert_eq!(ids(db, json!({"profile.langs": {"$contains": "rust"}})).await, ["emile", "zoe"]);
    assert_eq!(ids(db, json!({"profile.langs": {"$contains": 3}})).await, ["zoe"]);
    assert_eq!(ids(db, json!({"profile.langs": {"$contains": "3"}})).await, ["strasse"]);
    assert_eq!(ids(db, json!({"profile.langs": {"$contains": 1}})).await, Vec::<String>::new(), "true is not 1");
    assert_eq!(code(db.express().list_json("User", &json!({"filter": {"age": "18"}})).await), 102);
    // Comparisons accept fractions; writing one into an integer field stays DF-102.
    let bad = json!({"id": "frac", "name": "F", "email": "f@x", "age": 17.5});
    assert_eq!(code(db.express().create_json("User", &bad).await), 102);
    assert_eq!(ids(db, json!({"id": "frac"})).await, Vec::<String>::new());
}

pub async fn mysql_server_detected_at_connect(db: &DataFlow) {
    use dataflow_sql::mysql_server::MySqlServer;
    let version: Option<String> = match db.raw_pool() {
        dataflow_core::RawPool::MySql(p) => Some(sqlx::query_scalar("SELECT VERSION()").fetch_one(p).await.unwrap()),
        _ => None,
    };
    match version {
        // CI runs MariaDB; MySQL 8 is covered by the `mysql8` SQL snapshots.
        Some(v) => assert_eq!(db.mysql_server(), MySqlServer::detect(&v), "{v}"),
        None => assert_eq!(db.mysql_server(), MySqlServer::MariaDb),
    }
}
