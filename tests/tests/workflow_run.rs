//! Workflows executed on SQLite, PostgreSQL and MySQL/MariaDB: connections and templates carry
//! results between nodes, independent branches run concurrently, failures stop dependents and
//! report partial results, and a transactional run is all or nothing.

use dataflow_core::DataFlow;
use dataflow_core::workflow::{Workflow, WorkflowBuilder};
use dataflow_sql::{ErrorCode, FieldDef, FieldType, ModelSchema};
use dataflow_tests::{TestDb, backend_tests};
use serde_json::json;

fn user() -> ModelSchema {
    ModelSchema::new(
        "User",
        vec![
            FieldDef::new("id", FieldType::String),
            FieldDef::new("name", FieldType::String),
            FieldDef::new("email", FieldType::String).unique(),
            FieldDef::new("age", FieldType::I32).nullable(),
            FieldDef::new("active", FieldType::Bool).with_default(json!(true)),
        ],
    )
}

async fn connect(t: &TestDb) -> DataFlow {
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register_schema(user()).await.unwrap();
    db
}

async fn count(db: &DataFlow) -> u64 {
    db.express().count_json("User", &json!({})).await.unwrap()
}

async fn create_then_read_via_connection(t: &TestDb) {
    let db = connect(t).await;
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("UserCreateNode", "create", json!({"id": "u1", "name": "Alice", "email": "a@x.org"}))
        .add_node("UserReadNode", "read", json!({}))
        .add_connection("create", "id", "read", "id");
    let out = b.build().unwrap().execute(&db).await.unwrap();
    assert_eq!(out["create"]["name"], "Alice");
    assert_eq!(out["create"]["active"], true, "default applied");
    assert_eq!(out["read"]["id"], "u1");
    assert_eq!(out["read"]["found"], true);
    assert_eq!(out["read"]["email"], "a@x.org");
    assert!(out["read"]["created_at"].is_string());
    db.close().await;
}

async fn list_then_bulk_update_via_template(t: &TestDb) {
    let db = connect(t).await;
    let rows: Vec<_> =
        (1..=4).map(|i| json!({"id": format!("u{i}"), "name": format!("n{i}"), "email": format!("{i}@x")})).collect();
    db.express().bulk_create_json("User", &json!(rows)).await.unwrap();
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("UserCountNode", "count", json!({"filter": {"active": true}}))
        .add_node("UserListNode", "list", json!({"order_by": ["-name"], "limit": 2}))
        .add_node(
            "UserBulkUpdateNode",
            "bump",
            json!({
                "filter": {"id": {"$in": ["${list.records.0.id}", "${list.records.1.id}"]}},
                "fields": {"age": "${count.count}", "name": "top ${list.records.0.name}"}
            }),
        );
    let wf = b.build().unwrap();
    assert_eq!(wf.levels(), vec![vec!["count", "list"], vec!["bump"]]);
    let out = wf.execute(&db).await.unwrap();
    assert_eq!(out["bump"]["updated"], 2, "{}", out["bump"]);
    let page = db.express().list_json("User", &json!({"filter": {"age": 4}, "order_by": ["id"]})).await.unwrap();
    let ids: Vec<&str> = page["records"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["u3", "u4"]);
    assert_eq!(page["records"][0]["name"], "top n4");
    db.close().await;
}

/// Ten nodes: `total` alone, two branches of four (create → read → update → read), and `join`
/// listing both branch results.
async fn ten_nodes_two_parallel_branches(t: &TestDb) {
    let db = connect(t).await;
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("UserCountNode", "total", json!({}));
    for br in ["a", "b"] {
        b.add_node("UserCreateNode", format!("{br}1"), json!({"id": br, "name": br, "email": format!("{br}@x")}))
            .add_node("UserReadNode", format!("{br}2"), json!({}))
            .add_node(
                "UserUpdateNode",
                format!("{br}3"),
                json!({"filter": {"id": format!("${{{br}2.id}}")}, "fields": {"age": 30}}),
            )
            .add_node("UserReadNode", format!("{br}4"), json!({}))
            .add_connection(format!("{br}1"), "id", format!("{br}2"), "id")
            .add_connection(format!("{br}3"), "id", format!("{br}4"), "id");
    }
    b.add_node(
        "UserListNode",
        "join",
        json!({"filter": {"id": {"$in": ["${a4.id}", "${b4.id}"]}}, "order_by": ["id"]}),
    );
    let wf = b.build().unwrap();
    assert_eq!(
        wf.levels(),
        vec![vec!["total", "a1", "b1"], vec!["a2", "b2"], vec!["a3", "b3"], vec!["a4", "b4"], vec!["join"]]
    );
    let out = wf.execute(&db).await.unwrap();
    assert_eq!(out.results.len(), 10);
    assert_eq!(out["join"]["count"], 2);
    assert_eq!(out["join"]["records"][1]["age"], 30);
    assert_eq!(out["a4"]["age"], 30);
    // Concurrent by construction: the runtime runs each level's nodes in one `join_all`, so both
    // branches' nodes of a level are in the same batch and the next level starts only after both
    // finished. (Overlap in wall time is not asserted: a node whose first poll completes without
    // waiting, as a fast SQLite read can, legitimately finishes before its sibling is polled.)
    for lvl in 1..=4 {
        let (x, y) = (out.timing(&format!("a{lvl}")).unwrap(), out.timing(&format!("b{lvl}")).unwrap());
        assert_eq!(x.level, y.level, "level {lvl}: {x:?} {y:?}");
        if lvl < 4 {
            let (nx, ny) =
                (out.timing(&format!("a{}", lvl + 1)).unwrap(), out.timing(&format!("b{}", lvl + 1)).unwrap());
            let batch_done = x.finished().max(y.finished());
            assert!(
                nx.started >= batch_done && ny.started >= batch_done,
                "level {lvl} -> {}: {x:?} {y:?} {nx:?} {ny:?}",
                lvl + 1
            );
        }
    }
    db.close().await;
}

async fn failing_node_stops_dependents_and_reports_partial_results(t: &TestDb) {
    let db = connect(t).await;
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("UserCreateNode", "first", json!({"id": "u1", "name": "A", "email": "same@x"}))
        .add_node("UserCreateNode", "dup", json!({"id": "u2", "name": "${first.name}", "email": "same@x"}))
        .add_node("UserReadNode", "after_dup", json!({}))
        .add_node("UserCountNode", "independent", json!({}))
        .add_node("UserListNode", "empty", json!({"filter": {"name": "nobody"}}))
        .add_node("UserReadNode", "from_empty", json!({}))
        .add_connection("dup", "id", "after_dup", "id")
        .add_connection("empty", "records.0.id", "from_empty", "id");
    let f = b.build().unwrap().execute(&db).await.unwrap_err();
    assert_eq!(f.node, "dup");
    assert_eq!(f.node_type, "UserCreateNode");
    assert_eq!(f.cause.code(), ErrorCode::UNIQUE_VIOLATION, "{f}");
    assert_eq!(f.also_failed.len(), 1, "{f}");
    assert_eq!(f.also_failed[0].0, "from_empty");
    assert_eq!(f.also_failed[0].1.code(), ErrorCode::CONNECTION_BAD_OUTPUT);
    assert_eq!(f.skipped, ["after_dup"]);
    let done: Vec<&str> = f.partial.results.keys().map(String::as_str).collect();
    assert_eq!(done, ["first", "independent", "empty"]);
    assert!(!f.rolled_back);
    let text = f.to_string();
    assert!(text.starts_with("[DF-803] workflow node `dup` (UserCreateNode) failed: [DF-501]"), "{text}");
    let e: dataflow_sql::Error = f.into();
    assert_eq!(e.code(), ErrorCode::WORKFLOW_NODE_FAILED);
    assert_eq!(count(&db).await, 1, "the first create stays: not transactional");
    db.close().await;
}

async fn transactional_workflow_whose_last_node_fails_leaves_no_rows(t: &TestDb) {
    let db = connect(t).await;
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("UserCreateNode", "u1", json!({"id": "u1", "name": "A", "email": "a@x"}))
        .add_node("UserCreateNode", "u2", json!({"id": "u2", "name": "B", "email": "b@x"}))
        .add_node("UserBulkCreateNode", "more", json!({"data": [{"id": "u3", "name": "C", "email": "c@x"}]}))
        .add_node("UserCreateNode", "last", json!({"id": "u4", "name": "${u2.name}", "email": "${u1.email}"}));
    let wf = b.build().unwrap();
    assert_eq!(wf.execution_order().last().map(String::as_str), Some("last"));
    let f = wf.execute_in_transaction(&db).await.unwrap_err();
    assert_eq!(f.node, "last");
    assert_eq!(f.cause.code(), ErrorCode::UNIQUE_VIOLATION, "{f}");
    assert!(f.rolled_back);
    assert_eq!(f.partial.results.len(), 3);
    assert_eq!(count(&db).await, 0, "everything rolled back");
    // The same workflow without the failing node commits everything.
    let mut ok = WorkflowBuilder::from_spec(wf.catalog().clone(), wf.spec().clone());
    let mut spec = ok.spec().clone();
    spec.nodes.pop();
    ok = WorkflowBuilder::from_spec(wf.catalog().clone(), spec);
    let out = ok.build().unwrap().execute_in_transaction(&db).await.unwrap();
    assert_eq!(out["more"]["inserted"], 1);
    assert_eq!(count(&db).await, 3);
    db.close().await;
}

async fn workflow_file_runs_like_a_built_one(t: &TestDb) {
    let db = connect(t).await;
    let yaml = r#"
name: file-flow
nodes:
  - id: create
    type: UserCreateNode
    params: {id: f1, name: File, email: f@x}
  - id: read
    type: UserReadNode
connections:
  - {from: create, output: id, to: read, param: id}
"#;
    let wf =
        Workflow::parse(yaml, dataflow_core::workflow::Format::Yaml, dataflow_core::workflow::Catalog::from_db(&db))
            .unwrap();
    let out = wf.execute(&db).await.unwrap();
    assert_eq!(out["read"]["name"], "File");
    db.close().await;
}

backend_tests!(
    create_then_read_via_connection,
    list_then_bulk_update_via_template,
    ten_nodes_two_parallel_branches,
    failing_node_stops_dependents_and_reports_partial_results,
    transactional_workflow_whose_last_node_fails_leaves_no_rows,
    workflow_file_runs_like_a_built_one,
);
