//! Workflows for real applications, on SQLite, PostgreSQL and MySQL/MariaDB: declared inputs,
//! Rust code nodes (closures and trait nodes with declared ports, multi-output), scripted
//! nodes, switch/merge branching, `after` ordering, and what a failed run reports.

use dataflow_core::DataFlow;
use dataflow_core::workflow::{
    BoxError, Catalog, CodeNode, Format, InputSpec, InputType, Port, Shape, Workflow, WorkflowBuilder,
};
use dataflow_sql::{ErrorCode, FieldDef, FieldType, ModelSchema};
use dataflow_tests::{TestDb, backend_tests};
use futures::future::BoxFuture;
use serde_json::{Value, json};

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

/// A node with declared ports: `age` (integer) in, `score` (integer) and `band` (string) out.
struct Score;

impl CodeNode for Score {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("age", Shape::Int)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("score", Shape::Int), Port::new("band", Shape::Str)]
    }
    fn run(&self, inputs: Value) -> BoxFuture<'static, Result<Value, BoxError>> {
        Box::pin(async move {
            let age = inputs["age"].as_i64().ok_or("age must be an integer")?;
            Ok(json!({"score": age * 2, "band": if age >= 18 { "adult" } else { "minor" }}))
        })
    }
}

fn catalog(db: &DataFlow) -> Catalog {
    let mut c = Catalog::from_db(db);
    c.register_fn("enrich", |inputs: Value| async move {
        let name = inputs["name"].as_str().ok_or("`name` must be a string")?;
        Ok::<_, BoxError>(json!({
            "display": name.to_uppercase(),
            "email": format!("{}@enriched.org", name.to_lowercase()),
            "tags": [name.len()],
        }))
    })
    .unwrap();
    c.register_fn(
        "explode",
        |inputs: Value| async move { Err::<Value, _>(format!("cannot handle {}", inputs["what"])) },
    )
    .unwrap();
    c.register("score", Score).unwrap();
    c
}

fn inputs_flow(db: &DataFlow) -> Workflow {
    let mut b = WorkflowBuilder::new(db);
    b.add_input(InputSpec::new("id", InputType::String))
        .add_input(InputSpec::new("name", InputType::String))
        .add_input(InputSpec::new("age", InputType::Integer).with_default(json!(30)))
        .add_node(
            "UserCreateNode",
            "create",
            json!({"id": "${inputs.id}", "name": "${inputs.name}", "email": "${inputs.name}@x.org", "age": "${inputs.age}"}),
        )
        .add_node(
            "UserBulkUpdateNode",
            "rename",
            json!({"filter": {"id": {"$in": ["${inputs.id}"]}}, "fields": {"name": "Dr. ${create.name} (${inputs.age})"}}),
        );
    b.build().unwrap()
}

async fn inputs_valid_defaults_missing_and_wrong_type(t: &TestDb) {
    let db = connect(t).await;
    let wf = inputs_flow(&db);
    // Missing required input: nothing runs.
    let f = wf.execute_with(&db, json!({"name": "Al"})).await.unwrap_err();
    assert_eq!(f.cause.code(), ErrorCode::WORKFLOW_INPUT, "{f}");
    assert!(f.cause.message().contains("input `id`"), "{f}");
    assert_eq!(f.skipped, ["create", "rename"]);
    assert!(f.to_string().starts_with("[DF-803] workflow did not start: [DF-808]"), "{f}");
    // Wrong type and unknown input.
    let f = wf.execute_with(&db, json!({"id": "u1", "name": "Al", "age": "old"})).await.unwrap_err();
    assert_eq!(f.cause.code(), ErrorCode::WORKFLOW_INPUT);
    assert!(f.cause.message().contains("`age` must be an integer"), "{f}");
    let f = wf.execute_with(&db, json!({"id": "u1", "name": "Al", "nmae": "x"})).await.unwrap_err();
    assert!(f.cause.message().contains("`nmae` is not declared"), "{f}");
    assert!(f.cause.fixes().iter().any(|x| x.contains("did you mean `name`?")), "{f}");
    assert_eq!(count(&db).await, 0, "no node ran");
    // Valid, with the default for `age`; templates inside nested params (filter.$in, text).
    let out = wf.execute_with(&db, json!({"id": "u1", "name": "Al"})).await.unwrap();
    assert_eq!(out["create"]["age"], 30);
    assert_eq!(out["create"]["email"], "Al@x.org");
    assert_eq!(out["rename"]["updated"], 1);
    let u = db.express().read_json("User", &json!("u1")).await.unwrap().unwrap();
    assert_eq!(u["name"], "Dr. Al (30)");
    // An explicit value wins over the default.
    let out = wf.execute_with(&db, json!({"id": "u2", "name": "Bo", "age": 41})).await.unwrap();
    assert_eq!(out["create"]["age"], 41);
    db.close().await;
}

async fn code_nodes_closure_and_trait_multi_output(t: &TestDb) {
    let db = connect(t).await;
    let mut b = WorkflowBuilder::with_catalog(catalog(&db));
    b.add_node("UserCreateNode", "first", json!({"id": "u1", "name": "Ada", "email": "ada@x.org", "age": 17}))
        .add_node("enrich", "enrich", json!({"name": "${first.name}"}))
        .add_node("score", "score", json!({}))
        .add_connection("first", "age", "score", "age")
        // One code node feeds a Create (two outputs) ...
        .add_node("UserCreateNode", "second", json!({"id": "u2", "age": "${enrich.tags.0}"}))
        .add_connection("enrich", "display", "second", "name")
        .add_connection("enrich", "email", "second", "email")
        // ... and the trait node's outputs feed an Update.
        .add_node(
            "UserUpdateNode",
            "update",
            json!({"filter": {"id": "${first.id}"}, "fields": {"age": "${score.score}", "name": "${score.band}"}}),
        );
    let wf = b.build().unwrap();
    let out = wf.execute(&db).await.unwrap();
    assert_eq!(out["enrich"]["display"], "ADA");
    assert_eq!(out["second"]["name"], "ADA");
    assert_eq!(out["second"]["email"], "ada@enriched.org");
    assert_eq!(out["second"]["age"], 3);
    assert_eq!(out["score"], json!({"score": 34, "band": "minor"}));
    assert_eq!(out["update"]["age"], 34);
    assert_eq!(out["update"]["name"], "minor");
    assert!(out.skipped.is_empty());
    assert_eq!(count(&db).await, 2);
    db.close().await;
}

fn failing_flow(db: &DataFlow) -> Workflow {
    let mut b = WorkflowBuilder::with_catalog(catalog(db));
    b.add_node("UserCreateNode", "a", json!({"id": "a", "name": "A", "email": "a@x"}))
        .add_node("explode", "boom", json!({"what": "${a.name}"}))
        .add_node("UserCreateNode", "b", json!({"id": "b", "name": "${boom.name}", "email": "b@x"}))
        .add_node("UserCreateNode", "c", json!({"id": "c", "name": "C", "email": "c@x"}))
        .add_after("c", "a");
    b.build().unwrap()
}

async fn code_node_error_gives_partial_results(t: &TestDb) {
    let db = connect(t).await;
    let f = failing_flow(&db).execute(&db).await.unwrap_err();
    assert_eq!(f.node, "boom");
    assert_eq!(f.node_type, "explode");
    assert_eq!(f.cause.code(), ErrorCode::CODE_NODE_FAILED, "{f}");
    assert!(f.cause.message().contains("cannot handle \"A\""), "{f}");
    let done: Vec<&str> = f.partial.results.keys().map(String::as_str).collect();
    assert_eq!(done, ["a", "c"]);
    assert_eq!(f.skipped, ["b"]);
    assert!(!f.rolled_back);
    let text = f.to_string();
    assert!(text.contains("completed: a, c") && text.contains("skipped: b"), "{text}");
    assert_eq!(text.matches("DF-803").count(), 1, "{text}");
    assert_eq!(count(&db).await, 2);
    db.close().await;
}

async fn code_node_error_in_transaction_rolls_back(t: &TestDb) {
    let db = connect(t).await;
    let f = failing_flow(&db).execute_in_transaction(&db).await.unwrap_err();
    assert_eq!(f.node, "boom");
    assert_eq!(f.cause.code(), ErrorCode::CODE_NODE_FAILED, "{f}");
    assert!(f.rolled_back);
    assert!(f.partial.results.contains_key("a"));
    assert!(f.skipped.contains(&"b".to_owned()), "{f}");
    assert_eq!(count(&db).await, 0, "everything rolled back");
    db.close().await;
}

const CREATE_THEN_LIST: &str = r#"
name: create-then-list
nodes:
  - id: create
    type: UserCreateNode
    params: {id: u1, name: First, email: first@x.org}
  - id: list
    type: UserListNode
    after: [create]
"#;

async fn after_orders_create_before_list(t: &TestDb) {
    let db = connect(t).await;
    let wf = Workflow::parse(CREATE_THEN_LIST, Format::Yaml, Catalog::from_db(&db)).unwrap();
    assert_eq!(wf.levels(), vec![vec!["create"], vec!["list"]]);
    let out = wf.execute(&db).await.unwrap();
    assert_eq!(out["list"]["count"], 1, "{}", out["list"]);
    // Transactional runs follow the same order.
    db.express().delete_json("User", &json!("u1")).await.unwrap();
    let out = wf.execute_in_transaction(&db).await.unwrap();
    assert_eq!(out["list"]["count"], 1);
    db.close().await;
}

const TIERS: &str = r#"
name: tiers
inputs:
  - {name: tier, type: string, default: basic}
  - {name: id, type: string}
nodes:
  - id: route
    type: SwitchNode
    params: {value: "${inputs.tier}", cases: [gold, basic]}
  - id: gold_user
    type: UserCreateNode
    params: {id: "${inputs.id}", name: Gold, email: "${inputs.id}@gold.org", age: 99}
    after: [route.gold]
  - id: basic_user
    type: UserCreateNode
    params: {id: "${inputs.id}", name: "${route.basic}", email: "${inputs.id}@basic.org"}
  - id: gold_check
    type: UserReadNode
    params: {id: "${gold_user.id}"}
  - id: joined
    type: MergeNode
    params: {from: [gold_user, basic_user]}
  - id: reread
    type: UserReadNode
    params: {id: "${joined.value.id}"}
"#;

async fn switch_merge_and_untaken_branches(t: &TestDb) {
    let db = connect(t).await;
    let wf = Workflow::parse(TIERS, Format::Yaml, Catalog::from_db(&db)).unwrap();
    let out = wf.execute_with(&db, json!({"tier": "gold", "id": "g1"})).await.unwrap();
    assert_eq!(out["route"]["branch"], "gold");
    assert_eq!(out["gold_user"]["name"], "Gold");
    assert_eq!(out["gold_check"]["found"], true);
    assert_eq!(out["joined"]["from"], "gold_user");
    assert_eq!(out["reread"]["age"], 99);
    assert_eq!(out.skipped, ["basic_user"]);
    // The default input takes the other branch; the gold branch and its dependent are skipped.
    let out = wf.execute_with(&db, json!({"id": "b1"})).await.unwrap();
    assert_eq!(out["basic_user"]["name"], "basic");
    assert_eq!(out["joined"]["from"], "basic_user");
    assert_eq!(out["reread"]["email"], "b1@basic.org");
    assert_eq!(out.skipped, ["gold_user", "gold_check"]);
    // A value that matches no case takes `default`: both branches, the merge and what follows.
    let out = wf.execute_with(&db, json!({"tier": "platinum", "id": "p1"})).await.unwrap();
    assert_eq!(out["route"]["branch"], "default");
    assert_eq!(out.skipped, ["gold_user", "basic_user", "gold_check", "joined", "reread"]);
    assert_eq!(count(&db).await, 2);
    // A condition switch in a transaction.
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("UserReadNode", "find", json!({"id": "g1", "raise_on_not_found": false}))
        .add_node("SwitchNode", "exists", json!({"condition": "${find.found}"}))
        .add_node("UserUpdateNode", "touch", json!({"filter": {"id": "g1"}, "fields": {"age": 1}}))
        .add_after("touch", "exists.true")
        .add_node("UserCreateNode", "make", json!({"id": "g1", "name": "New", "email": "new@x"}))
        .add_after("make", "exists.false");
    let out = b.build().unwrap().execute_in_transaction(&db).await.unwrap();
    assert_eq!(out["touch"]["age"], 1);
    assert_eq!(out.skipped, ["make"]);
    db.close().await;
}

const SCRIPTED: &str = r#"
name: scripted
inputs:
  - {name: qty, type: integer}
nodes:
  - id: price
    type: ScriptNode
    params:
      qty: "${inputs.qty}"
      unit: 2.5
      script: |
        let total = qty * unit;
        let label = "order of " + qty + " = " + total;
        let big = total > 10.0;
  - id: save
    type: UserCreateNode
    params: {id: o1, name: "${price.label}", email: o1@x.org, age: "${inputs.qty}"}
"#;

async fn scripted_nodes_compute_and_are_limited(t: &TestDb) {
    let db = connect(t).await;
    let wf = Workflow::parse(SCRIPTED, Format::Yaml, Catalog::from_db(&db)).unwrap();
    let out = wf.execute_with(&db, json!({"qty": 6})).await.unwrap();
    assert_eq!(out["price"], json!({"total": 15.0, "label": "order of 6 = 15.0", "big": true}));
    assert_eq!(out["save"]["name"], "order of 6 = 15.0");
    // An endless loop and a memory bomb are stopped by the sandbox, as DF-809 naming the node.
    for (script, why) in [
        ("let n = 0;\nwhile true { n += 1; }", "stopped after"),
        ("let s = \"ab\";\nloop { s += s; }", "too large"),
        ("let a = [0];\nloop { a += a; }", "too large"),
    ] {
        let mut b = WorkflowBuilder::new(&db);
        b.add_node("UserCountNode", "before", json!({}))
            .add_node("ScriptNode", "bomb", json!({"script": script, "n0": "${before.count}"}))
            .add_node("UserCreateNode", "after_bomb", json!({"id": "x", "name": "${bomb.n}", "email": "x@x"}));
        let f = b.build().unwrap().execute(&db).await.unwrap_err();
        assert_eq!(f.node, "bomb");
        assert_eq!(f.cause.code(), ErrorCode::SCRIPT, "{f}");
        assert!(f.cause.message().contains(why) && f.cause.message().contains("node `bomb`"), "{f}");
        assert!(f.partial.results.contains_key("before"));
        assert_eq!(f.skipped, ["after_bomb"]);
    }
    // A syntax error is reported at build time with its position.
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("ScriptNode", "bad", json!({"script": "let x = 1;\nlet y = ;"}));
    let e = b.build().unwrap_err();
    assert_eq!(e.code(), ErrorCode::SCRIPT);
    assert!(e.message().contains("node `bad` does not compile at line 2"), "{e}");
    db.close().await;
}

backend_tests!(
    inputs_valid_defaults_missing_and_wrong_type,
    code_nodes_closure_and_trait_multi_output,
    code_node_error_gives_partial_results,
    code_node_error_in_transaction_rolls_back,
    after_orders_create_before_list,
    switch_merge_and_untaken_branches,
    scripted_nodes_compute_and_are_limited,
);
