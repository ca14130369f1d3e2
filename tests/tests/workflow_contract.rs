//! The parameter contract: for every operation and every parameter it defines, the dynamic
//! Express API, workflow validation and the Inspector accept and reject exactly the same
//! parameter sets (on SQLite, PostgreSQL and MySQL/MariaDB); and the validation holes that
//! used to let a workflow start and fail half-way are closed at build time.

use std::sync::atomic::{AtomicUsize, Ordering};

use dataflow_core::DataFlow;
use dataflow_core::contract::{self, ParamKind};
use dataflow_core::workflow::{Catalog, InputSpec, InputType, Inspector, WorkflowBuilder};
use dataflow_sql::{ErrorCode, FieldDef, FieldType, ModelSchema, Operation};
use dataflow_tests::{TestDb, backend_tests};
use serde_json::{Map, Value, json};

fn user() -> ModelSchema {
    ModelSchema::new(
        "User",
        vec![
            FieldDef::new("id", FieldType::String),
            FieldDef::new("name", FieldType::String),
            FieldDef::new("email", FieldType::String).unique(),
            FieldDef::new("age", FieldType::I32).nullable(),
        ],
    )
}

static N: AtomicUsize = AtomicUsize::new(0);

fn fresh() -> usize {
    N.fetch_add(1, Ordering::Relaxed)
}

fn record() -> Value {
    let n = fresh();
    json!({"id": format!("r{n}"), "name": "R", "email": format!("r{n}@x.org")})
}

/// Parameters that satisfy the operation's required parameters.
fn base(op: Operation) -> Map<String, Value> {
    let v = match op {
        Operation::Read | Operation::Delete => json!({"id": "u1"}),
        Operation::Update => json!({"filter": {"id": "u1"}, "fields": {"name": "x"}}),
        Operation::Upsert => json!({"where": {"email": "u1@x.org"}, "create": {"id": "u1", "name": "U"}}),
        Operation::BulkCreate | Operation::BulkUpsert => json!({"data": [record()]}),
        Operation::BulkUpdate => json!({"filter": {"id": "u1"}, "fields": {"age": 3}}),
        Operation::BulkDelete => json!({"ids": ["nobody"]}),
        _ => json!({}),
    };
    v.as_object().cloned().unwrap_or_default()
}

/// Values a parameter of this kind must accept, and values it must reject.
fn cases(op: Operation, name: &str, kind: ParamKind) -> (Vec<Value>, Vec<Value>) {
    match kind {
        ParamKind::Id => (vec![json!("u1")], vec![json!({"a": 1}), json!([1])]),
        ParamKind::Bool => (vec![json!(true), json!(false)], vec![json!("yes"), json!(1)]),
        ParamKind::Count => (vec![json!(5), json!(0)], vec![json!(-1), json!("5"), json!(1.5)]),
        ParamKind::Positive => (vec![json!(10)], vec![json!(0), json!(-1), json!("10")]),
        ParamKind::Choice(set) => {
            (set.iter().map(|s| json!(s)).collect(), vec![json!("ignore"), json!("UPDATE"), json!(1)])
        }
        ParamKind::FieldNames if name == "conflict_on" => {
            (vec![json!(["email"]), json!("email"), json!(["id"])], vec![json!(["name"]), json!(["nope"]), json!(5)])
        }
        ParamKind::FieldNames => (vec![json!(["name"]), json!("age")], vec![json!(["nope"]), json!(5), json!([1])]),
        ParamKind::Filter if op == Operation::Update => {
            (vec![json!({"id": "u1"})], vec![json!({"nope": 1}), json!({"id": {"$bogus": 1}}), json!(5)])
        }
        ParamKind::Filter => {
            (vec![json!({"name": "x"}), json!({"age": {"$gte": 3}})], vec![json!({"nope": 1}), json!({"age": "abc"})])
        }
        ParamKind::OrderBy => (vec![json!(["-name"]), json!(["age", "id"])], vec![json!(["nope"]), json!(5)]),
        ParamKind::Fields if name == "where" => (vec![json!({"email": "w@x.org"})], vec![json!({"nope": 1}), json!(5)]),
        ParamKind::Fields => {
            (vec![json!({"name": "y"}), json!({"age": 4})], vec![json!({"nope": 1}), json!({"age": "abc"}), json!(5)])
        }
        ParamKind::Records if op == Operation::BulkUpdate => (
            vec![json!([{"id": "u1", "age": 4}])],
            vec![json!([{"age": 4}]), json!([{"id": "u1", "nope": 1}]), json!("x")],
        ),
        ParamKind::Records => (
            vec![json!([record(), record()])],
            vec![
                json!([{"id": "q"}]),
                json!([{"id": "q", "name": "Q", "email": "q@x", "nope": 1}]),
                json!([5]),
                json!("x"),
            ],
        ),
        ParamKind::Ids => (vec![json!(["u1", "u2"])], vec![json!("u1"), json!([{"x": 1}])]),
        ParamKind::Cursor => (vec![json!(["u1"])], vec![json!("u1"), json!(5)]),
    }
}

/// Whether an error is a rejection of the parameters (before any SQL), not a runtime outcome.
fn is_rejection(code: ErrorCode) -> bool {
    (100..200).contains(&code.number())
        || code == ErrorCode::CONFLICT_TARGET_NOT_UNIQUE
        || code == ErrorCode::UPDATE_SHAPE
}

struct Verdicts {
    dynamic: Result<(), String>,
    validator: Result<(), String>,
    inspector: Result<(), String>,
}

async fn verdicts(db: &DataFlow, catalog: &Catalog, op: Operation, params: &Value) -> Verdicts {
    let dynamic = match db.express().run("User", op, params).await {
        Err(e) if is_rejection(e.code()) => Err(e.to_string()),
        _ => Ok(()),
    };
    let mut b = WorkflowBuilder::with_catalog(catalog.clone());
    b.add_node(op.node_type_name("User"), "n", params.clone());
    let validator = match b.validate().into_iter().next() {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    };
    let inspected = Inspector::of_builder(&b);
    let declared: Vec<&str> = inspected.parameters("n").iter().map(|d| d.name).collect();
    let expected: Vec<&str> = contract::params(op).iter().map(|d| d.name).collect();
    assert_eq!(declared, expected, "the Inspector lists the contract's parameters");
    let inspector = match inspected.errors().first() {
        Some(e) => Err(e.to_string()),
        None => Ok(()),
    };
    Verdicts { dynamic, validator, inspector }
}

async fn every_entry_point_accepts_and_rejects_the_same_parameters(t: &TestDb) {
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register_schema(user()).await.unwrap();
    let catalog = Catalog::from_db(&db);
    let mut checked = 0;
    for op in Operation::ALL {
        if op == Operation::Create {
            continue;
        }
        // Every definition, plus an unknown parameter and (where something is required) none.
        let mut sets: Vec<(String, Value, bool)> = Vec::new();
        for def in contract::params(op) {
            let (good, bad) = cases(op, def.name, def.kind);
            for (v, ok) in good.into_iter().map(|v| (v, true)).chain(bad.into_iter().map(|v| (v, false))) {
                let mut p = base(op);
                p.insert(def.name.to_owned(), v.clone());
                sets.push((format!("{}.{} = {v}", op.name(), def.name), Value::Object(p), ok));
            }
        }
        let mut p = base(op);
        p.insert("bogus".into(), json!(1));
        sets.push((format!("{} with an unknown parameter", op.name()), Value::Object(p), false));
        if !contract::required(op).is_empty() {
            sets.push((format!("{} with no parameters", op.name()), json!({}), false));
        }
        if op == Operation::BulkUpsert {
            let mut p = base(op);
            p.insert("batch_size".into(), json!(100));
            sets.push(("BulkUpsert.batch_size (not a BulkUpsert parameter)".into(), Value::Object(p), false));
        }
        for (what, params, ok) in sets {
            // A fresh record to read, update or delete.
            let _ = db.express().run("User", Operation::Delete, &json!({"id": "u1"})).await;
            let _ = db.express().hard_delete_json("User", &json!("u1")).await;
            db.express().create_json("User", &json!({"id": "u1", "name": "U", "email": "u1@x.org"})).await.unwrap();
            let v = verdicts(&db, &catalog, op, &params).await;
            assert_eq!(
                v.dynamic.is_ok(),
                v.validator.is_ok(),
                "{what}: dynamic {:?} vs validator {:?}",
                v.dynamic,
                v.validator
            );
            assert_eq!(
                v.validator.is_ok(),
                v.inspector.is_ok(),
                "{what}: validator {:?} vs inspector {:?}",
                v.validator,
                v.inspector
            );
            assert_eq!(
                v.dynamic.is_ok(),
                ok,
                "{what}: expected {}, dynamic {:?}",
                if ok { "accepted" } else { "rejected" },
                v.dynamic
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
    db.close().await;
}

backend_tests!(every_entry_point_accepts_and_rejects_the_same_parameters);

fn builder() -> WorkflowBuilder {
    let mut log =
        ModelSchema::new("Log", vec![FieldDef::new("id", FieldType::I64), FieldDef::new("line", FieldType::String)]);
    log.options.append_only = true;
    WorkflowBuilder::with_catalog(Catalog::from_schemas([user(), log]).unwrap())
}

fn first_error(b: &WorkflowBuilder) -> dataflow_sql::Error {
    b.build().expect_err("must be rejected at build time")
}

#[test]
fn template_or_connection_into_a_field_the_target_lacks() {
    let mut b = builder();
    b.add_node("UserCreateNode", "c", json!({"id": "u1", "name": "A", "email": "a@x"})).add_node(
        "UserCountNode",
        "n",
        json!({"filter": {"nmae": "${c.name}"}}),
    );
    let e = first_error(&b);
    assert_eq!(e.code(), ErrorCode::UNKNOWN_FIELD, "{e}");
    assert!(e.to_string().contains("nmae"), "{e}");
    let mut b = builder();
    b.add_node("UserReadNode", "r", json!({"id": "u1"}))
        .add_node("UserUpdateNode", "u", json!({"filter": {"id": "u1"}}))
        .add_connection("r", "", "u", "fields");
    let e = first_error(&b);
    assert_eq!(e.code(), ErrorCode::CONNECTION_TYPE_MISMATCH, "{e}");
    assert!(e.fixes().iter().any(|f| f.contains("`found`")), "{e}");
    let mut b = builder();
    b.add_node("UserCreateNode", "c", json!({"id": "u1", "name": "A", "email": "a@x"})).add_node(
        "UserBulkCreateNode",
        "bc",
        json!({"data": [{"id": "u2", "name": "B", "email": "b@x", "nope": "${c.id}"}]}),
    );
    assert_eq!(first_error(&b).code(), ErrorCode::UNKNOWN_FIELD);
}

#[test]
fn write_node_on_append_only_model() {
    for (ty, params) in [
        ("LogUpdateNode", json!({"filter": {"id": 1}, "fields": {"line": "x"}})),
        ("LogDeleteNode", json!({"id": 1})),
        ("LogBulkDeleteNode", json!({"ids": [1]})),
        ("LogUpsertNode", json!({"where": {"id": 1}})),
    ] {
        let mut b = builder();
        b.add_node(ty, "w", params);
        let e = first_error(&b);
        assert_eq!(e.code(), ErrorCode::APPEND_ONLY, "{ty}: {e}");
    }
    let mut b = builder();
    b.add_node("LogCreateNode", "w", json!({"id": 1, "line": "ok"})).add_node("LogListNode", "l", json!({}));
    b.build().unwrap();
}

#[test]
fn destructive_bulk_node_with_a_run_time_filter_needs_confirmed() {
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({})).add_node(
        "UserBulkDeleteNode",
        "d",
        json!({"filter": {"name": {"$like": "${l.records.0.name}"}}}),
    );
    let e = first_error(&b);
    assert_eq!(e.code(), ErrorCode::UNCONFIRMED_DESTRUCTIVE, "{e}");
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({}))
        .add_node("UserBulkUpdateNode", "d", json!({"fields": {"age": 1}}))
        .add_connection("l", "records.0", "d", "filter");
    assert_eq!(first_error(&b).code(), ErrorCode::UNCONFIRMED_DESTRUCTIVE);
    // Equality and `$in` values from another node are safe; `confirmed` allows anything.
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({}))
        .add_node(
            "UserBulkDeleteNode",
            "d",
            json!({"filter": {"id": {"$in": ["${l.records.0.id}"]}, "name": "${l.records.0.name}"}}),
        )
        .add_node(
            "UserBulkDeleteNode",
            "d2",
            json!({"filter": {"name": {"$like": "${l.records.0.name}"}}, "confirmed": true}),
        );
    b.build().unwrap();
}

#[test]
fn inputs_are_declared_and_typed_at_build_time() {
    let mut b = builder();
    b.add_input(InputSpec::new("who", InputType::String)).add_node(
        "UserReadNode",
        "r",
        json!({"id": "${inputs.whom}"}),
    );
    let e = first_error(&b);
    assert_eq!(e.code(), ErrorCode::WORKFLOW_INPUT, "{e}");
    assert!(e.fixes().iter().any(|f| f.contains("did you mean `who`?")), "{e}");
    let mut b = builder();
    b.add_input(InputSpec::new("age", InputType::String)).add_node(
        "UserCreateNode",
        "c",
        json!({"id": "u1", "name": "A", "email": "a@x", "age": "${inputs.age}"}),
    );
    let e = first_error(&b);
    assert_eq!(e.code(), ErrorCode::CONNECTION_TYPE_MISMATCH, "{e}");
    assert!(e.message().contains("input `age` is string"), "{e}");
    let mut b = builder();
    b.add_input(InputSpec::new("n", InputType::Integer).with_default(json!("ten")));
    assert_eq!(first_error(&b).code(), ErrorCode::WORKFLOW_INPUT);
}

#[test]
fn control_nodes_and_after_are_checked() {
    let mut b = builder();
    b.add_node("SwitchNode", "s", json!({"value": "x", "cases": ["a"]}))
        .add_node("UserCountNode", "n", json!({}))
        .add_after("n", "s.b");
    assert_eq!(first_error(&b).code(), ErrorCode::CONNECTION_BAD_OUTPUT);
    let mut b = builder();
    b.add_node("UserCountNode", "n", json!({})).add_node("UserCountNode", "m", json!({})).add_after("m", "nn");
    let e = first_error(&b);
    assert_eq!(e.code(), ErrorCode::CONNECTION_UNKNOWN_NODE);
    assert!(e.fixes().iter().any(|f| f.contains("`n`")), "{e}");
    let mut b = builder();
    b.add_after("not_added", "n");
    assert_eq!(first_error(&b).code(), ErrorCode::CONNECTION_UNKNOWN_NODE);
    let mut b = builder();
    b.add_node("SwitchNode", "s", json!({"cases": ["a"]}));
    assert_eq!(first_error(&b).code(), ErrorCode::INVALID_NODE_PARAMS);
    let mut b = builder();
    b.add_node("MergeNode", "m", json!({"from": ["nowhere"]}));
    assert_eq!(first_error(&b).code(), ErrorCode::CONNECTION_UNKNOWN_NODE);
    // A cycle through `after` is a cycle.
    let mut b = builder();
    b.add_node("UserCountNode", "a", json!({}))
        .add_node("UserCountNode", "b", json!({}))
        .add_after("a", "b")
        .add_after("b", "a");
    assert_eq!(first_error(&b).code(), ErrorCode::WORKFLOW_CYCLE);
}

#[test]
fn trait_code_node_ports_are_type_checked() {
    use dataflow_core::workflow::{BoxError, CodeNode, Port, Shape};
    use futures::future::BoxFuture;
    struct Double;
    impl CodeNode for Double {
        fn inputs(&self) -> Vec<Port> {
            vec![Port::new("n", Shape::Int)]
        }
        fn outputs(&self) -> Vec<Port> {
            vec![Port::new("twice", Shape::Int)]
        }
        fn run(&self, i: Value) -> BoxFuture<'static, Result<Value, BoxError>> {
            Box::pin(async move { Ok(json!({"twice": i["n"].as_i64().unwrap_or(0) * 2})) })
        }
    }
    let mut c = Catalog::from_schemas([user()]).unwrap();
    c.register("double", Double).unwrap();
    assert!(c.register("double", Double).is_err(), "names are unique");
    assert!(c.register_fn("UserCreateNode", |v: Value| async move { Ok::<_, BoxError>(v) }).is_err());
    let ok = |b: &mut WorkflowBuilder| b.build().map(|_| ()).map_err(|e| e.to_string());
    let mut b = WorkflowBuilder::with_catalog(c.clone());
    b.add_node("UserReadNode", "r", json!({"id": "u1"}))
        .add_node("double", "d", json!({}))
        .add_connection("r", "name", "d", "n");
    assert!(ok(&mut b).unwrap_err().contains("DF-203"));
    let mut b = WorkflowBuilder::with_catalog(c.clone());
    b.add_node("double", "d", json!({"n": 2})).add_node("UserReadNode", "r", json!({"id": "${d.thrice}"}));
    assert!(ok(&mut b).unwrap_err().contains("DF-806"));
    let mut b = WorkflowBuilder::with_catalog(c.clone());
    b.add_node("double", "d", json!({}));
    assert!(ok(&mut b).unwrap_err().contains("DF-101"));
    let mut b = WorkflowBuilder::with_catalog(c);
    b.add_node("double", "d", json!({"n": 2})).add_node(
        "UserUpdateNode",
        "u",
        json!({"filter": {"id": "u1"}, "fields": {"age": "${d.twice}"}}),
    );
    ok(&mut b).unwrap();
}
