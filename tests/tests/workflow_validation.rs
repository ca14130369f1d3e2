//! Workflow validation without a database: every rule with a failing example and its message,
//! fail-fast vs collect-all, the Inspector on a fixed workflow (snapshots), JSON/YAML round trip.

use dataflow_core::workflow::{
    Catalog, Format, Inspector, TraceStep, ValidationMode, Workflow, WorkflowBuilder, WorkflowSpec,
};
use dataflow_sql::{ErrorCode, FieldDef, FieldType, ModelSchema};
use serde_json::json;

fn catalog() -> Catalog {
    let user = ModelSchema::new(
        "User",
        vec![
            FieldDef::new("id", FieldType::String),
            FieldDef::new("name", FieldType::String),
            FieldDef::new("email", FieldType::String).unique(),
            FieldDef::new("age", FieldType::I32).nullable(),
            FieldDef::new("active", FieldType::Bool).with_default(json!(true)),
        ],
    );
    let order = ModelSchema::new(
        "Order",
        vec![
            FieldDef::new("id", FieldType::I64),
            FieldDef::new("user_id", FieldType::String),
            FieldDef::new("total", FieldType::F64),
        ],
    );
    Catalog::from_schemas([user, order]).unwrap()
}

fn builder() -> WorkflowBuilder {
    WorkflowBuilder::with_catalog(catalog())
}

/// Builds fail-fast and returns the error's code and full text.
fn fails(b: &WorkflowBuilder) -> (ErrorCode, String) {
    let e = b.build().expect_err("the workflow should not validate");
    (e.code(), format!("{e:#}"))
}

#[test]
fn a_valid_workflow_builds_with_levels() {
    let mut b = builder();
    b.add_node("UserCreateNode", "create", json!({"id": "u1", "name": "Al", "email": "a@x"}))
        .add_node("UserReadNode", "read", json!({}))
        .add_node("OrderCreateNode", "order", json!({"total": 5.0, "user_id": "${create.id}"}))
        .add_node("UserCountNode", "count", json!({"filter": {"active": true}}))
        .add_connection("create", "id", "read", "id");
    let wf = b.build().unwrap();
    assert_eq!(wf.levels(), vec![vec!["create", "count"], vec!["read", "order"]]);
    assert_eq!(wf.execution_order(), ["create", "count", "read", "order"]);
}

#[test]
fn unknown_node_type_suggests_closest_registered_names() {
    let mut b = builder();
    b.add_node("UserCreatNode", "c", json!({}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::UNKNOWN_NODE_TYPE);
    assert!(
        msg.contains("node type `UserCreatNode` is not registered") && msg.contains("did you mean `UserCreateNode`"),
        "{msg}"
    );
    let mut b = builder();
    b.add_node("UsrListNode", "c", json!({}));
    let (_, msg) = fails(&b);
    assert!(msg.contains("`UserListNode`"), "{msg}");
}

#[test]
fn node_ids_must_be_unique_and_valid() {
    let mut b = builder();
    b.add_node("UserCountNode", "a", json!({})).add_node("UserCountNode", "a", json!({}));
    assert_eq!(fails(&b).0, ErrorCode::DUPLICATE_NODE_ID);
    let mut b = builder();
    b.add_node("UserCountNode", "a.b", json!({}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::INVALID_NODE_PARAMS);
    assert!(msg.contains("not a valid node id"), "{msg}");
}

#[test]
fn parameters_required_fields() {
    let mut b = builder();
    b.add_node("UserCreateNode", "c", json!({"id": "u1", "name": "Al"}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::MISSING_FIELD);
    assert!(msg.contains("parameter `email` of node `c` (UserCreateNode) is required"), "{msg}");
    // Nullable, defaulted and generated-id fields are not required.
    let mut b = builder();
    b.add_node("OrderCreateNode", "o", json!({"user_id": "u1", "total": 1}));
    b.build().unwrap();
    let mut b = builder();
    b.add_node("UserReadNode", "r", json!({"include_deleted": false}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::MISSING_FIELD);
    assert!(msg.contains("parameter `id`"), "{msg}");
}

#[test]
fn parameters_types_are_checked_against_fields() {
    let mut b = builder();
    b.add_node("UserCreateNode", "c", json!({"id": "u1", "name": "Al", "email": "a@x", "age": "old"}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::WRONG_TYPE);
    assert!(msg.contains("field `age` expects an integer between"), "{msg}");
    assert!(msg.contains("node `c`") && msg.contains("model `User`"), "{msg}");
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({"limit": -1}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::INVALID_PARAMETER);
    assert!(msg.contains("parameter `limit` expects a non-negative integer, got -1"), "{msg}");
    let mut b = builder();
    b.add_node("UserBulkUpsertNode", "u", json!({"data": [], "conflict_resolution": "ignore"}));
    let (_, msg) = fails(&b);
    assert!(msg.contains("one of \"update\", \"skip\""), "{msg}");
    let mut b = builder();
    b.add_node("OrderReadNode", "r", json!({"id": "seven"}));
    assert_eq!(fails(&b).0, ErrorCode::WRONG_TYPE);
}

#[test]
fn parameters_unknown_keys_say_did_you_mean() {
    let mut b = builder();
    b.add_node("UserCreateNode", "c", json!({"id": "u1", "name": "Al", "emial": "a@x", "email": "b@x"}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::UNKNOWN_FIELD);
    assert!(msg.contains("has no field `emial`") && msg.contains("did you mean `email`?"), "{msg}");
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({"filters": {}}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::UNKNOWN_FIELD);
    assert!(msg.contains("UserListNode has no parameter `filters`") && msg.contains("did you mean `filter`?"), "{msg}");
}

#[test]
fn update_with_flat_fields_shows_the_correct_shape() {
    let mut b = builder();
    b.add_node("UserUpdateNode", "u", json!({"id": "u1", "name": "Bob"}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::UPDATE_SHAPE);
    assert!(msg.contains(r#"write {"filter":{"id":"u1"},"fields":{"name":"Bob"}}"#), "{msg}");
    // A Create given the Update shape is DF-107 with the flat form.
    let mut b = builder();
    b.add_node("UserCreateNode", "c", json!({"fields": {"name": "x"}}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::WRONG_SHAPE);
    assert!(msg.contains("UserCreateNode takes the record's fields flat, not `fields`"), "{msg}");
}

#[test]
fn filters_and_orderings_are_parsed_against_the_schema() {
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({"filter": {"age": {"$gt": "x"}}}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::WRONG_TYPE, "{msg}");
    assert!(msg.contains("age"), "{msg}");
    let mut b = builder();
    b.add_node("UserCountNode", "n", json!({"filter": {"nmae": "x"}}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::UNKNOWN_FIELD);
    assert!(msg.contains("did you mean `name`?"), "{msg}");
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({"order_by": ["-nmae"]}));
    assert_eq!(fails(&b).0, ErrorCode::UNKNOWN_FIELD);
    let mut b = builder();
    b.add_node("UserUpdateNode", "u", json!({"filter": {"name": "x"}, "fields": {"age": 3}}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::INVALID_FILTER);
    assert!(msg.contains("must identify one record"), "{msg}");
    let mut b = builder();
    b.add_node("UserBulkDeleteNode", "d", json!({"filter": {}}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::UNCONFIRMED_DESTRUCTIVE);
    assert!(msg.contains("\"confirmed\": true"), "{msg}");
    let mut b = builder();
    b.add_node("UserBulkDeleteNode", "d", json!({"filter": {}, "confirmed": true}));
    b.build().unwrap();
    let mut b = builder();
    b.add_node("UserUpsertNode", "u", json!({"where": {"name": "x"}, "conflict_on": ["name"]}));
    assert_eq!(fails(&b).0, ErrorCode::CONFLICT_TARGET_NOT_UNIQUE);
}

#[test]
fn connections_endpoints_must_exist() {
    let mut b = builder();
    b.add_node("UserCountNode", "count", json!({})).add_connection("cuont", "count", "count", "filter");
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::CONNECTION_UNKNOWN_NODE);
    assert!(msg.contains("connection `cuont.count -> count.filter` (source) references node `cuont`"), "{msg}");
    assert!(msg.contains("did you mean `count`?"), "{msg}");
}

#[test]
fn connections_output_path_must_exist_in_the_result_shape() {
    let mut b = builder();
    b.add_node("UserListNode", "list", json!({})).add_node("UserReadNode", "read", json!({})).add_connection(
        "list",
        "records.id",
        "read",
        "id",
    );
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::CONNECTION_BAD_OUTPUT);
    assert!(msg.contains("`records` is a list; use an index such as `records.0.id`"), "{msg}");
    let mut b = builder();
    b.add_node("UserCreateNode", "c", json!({"id": "u1", "name": "a", "email": "e"}))
        .add_node("UserReadNode", "read", json!({}))
        .add_connection("c", "record.id", "read", "id");
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::CONNECTION_BAD_OUTPUT);
    assert!(msg.contains("the result has no key `record`"), "{msg}");
    // The correct paths build.
    let mut b = builder();
    b.add_node("UserListNode", "list", json!({})).add_node("UserReadNode", "read", json!({})).add_connection(
        "list",
        "records.0.id",
        "read",
        "id",
    );
    b.build().unwrap();
}

#[test]
fn connections_types_must_fit() {
    let mut b = builder();
    b.add_node("UserListNode", "list", json!({}))
        .add_node("UserReadNode", "read", json!({}))
        .add_connection("list", "records", "read", "id");
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::CONNECTION_TYPE_MISMATCH);
    assert!(msg.contains("is list of object {id, name, email, age, active, created_at, ...} but parameter `id` of `read` expects String"), "{msg}");
    let mut b = builder();
    b.add_node("UserCreateNode", "c", json!({"id": "u1", "name": "a", "email": "e"}))
        .add_node("OrderCreateNode", "o", json!({"user_id": "u1"}))
        .add_connection("c", "name", "o", "total");
    assert_eq!(fails(&b).0, ErrorCode::CONNECTION_TYPE_MISMATCH);
}

#[test]
fn connections_no_self_no_duplicate_input_no_unknown_param() {
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({})).add_connection("l", "count", "l", "limit");
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::CONNECTION_SELF);
    assert!(msg.contains("connects node `l` to itself"), "{msg}");
    let mut b = builder();
    b.add_node("UserCreateNode", "a", json!({"id": "u1", "name": "a", "email": "e"}))
        .add_node("UserCreateNode", "b", json!({"id": "u2", "name": "b", "email": "f"}))
        .add_node("UserReadNode", "r", json!({}))
        .add_connection("a", "id", "r", "id")
        .add_connection("b", "id", "r", "id");
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::CONNECTION_DUPLICATE_INPUT);
    assert!(msg.contains("parameter `id` of node `r` is supplied twice"), "{msg}");
    let mut b = builder();
    b.add_node("UserCreateNode", "a", json!({"id": "u1", "name": "a", "email": "e"}))
        .add_node("UserReadNode", "r", json!({"id": "u1"}))
        .add_connection("a", "id", "r", "id");
    assert_eq!(fails(&b).0, ErrorCode::CONNECTION_DUPLICATE_INPUT);
    let mut b = builder();
    b.add_node("UserCreateNode", "a", json!({"id": "u1", "name": "a", "email": "e"}))
        .add_node("UserReadNode", "r", json!({"id": "u1"}))
        .add_connection("a", "id", "r", "idd");
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::UNKNOWN_FIELD);
    assert!(msg.contains("has no parameter `idd`") && msg.contains("did you mean `id`?"), "{msg}");
}

#[test]
fn templates_are_validated_like_connections() {
    let mut b = builder();
    b.add_node("UserCountNode", "n", json!({})).add_node("UserListNode", "l", json!({"limit": "${nn.count}"}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::TEMPLATE);
    assert!(msg.contains("references node `nn`") && msg.contains("did you mean `n`?"), "{msg}");
    let mut b = builder();
    b.add_node("UserCountNode", "n", json!({})).add_node("UserListNode", "l", json!({"limit": "${n.total}"}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::TEMPLATE);
    assert!(msg.contains("has no key `total`"), "{msg}");
    let mut b = builder();
    b.add_node("UserListNode", "l", json!({"limit": "${l.count"}));
    assert_eq!(fails(&b).0, ErrorCode::TEMPLATE);
    let mut b = builder();
    b.add_node("UserCountNode", "n", json!({})).add_node("UserReadNode", "r", json!({"id": "${n.count}"}));
    let (code, msg) = fails(&b);
    assert_eq!(code, ErrorCode::CONNECTION_TYPE_MISMATCH, "{msg}");
}

#[test]
fn cycles_are_named_node_by_node_and_dependents_are_unreachable() {
    let mut b = builder();
    b.add_node("UserReadNode", "a", json!({}))
        .add_node("UserReadNode", "b", json!({}))
        .add_node("UserReadNode", "c", json!({}))
        .add_node("UserReadNode", "d", json!({}))
        .add_connection("a", "id", "b", "id")
        .add_connection("b", "id", "c", "id")
        .add_connection("c", "id", "a", "id")
        .add_connection("c", "id", "d", "id")
        .collect_all();
    let e = b.build().unwrap_err();
    let codes: Vec<ErrorCode> = e.related().iter().map(|e| e.code()).collect();
    assert_eq!(codes, vec![ErrorCode::WORKFLOW_CYCLE, ErrorCode::WORKFLOW_UNREACHABLE], "{e}");
    assert!(e.related()[0].message().contains("the workflow contains a cycle: a -> b -> c -> a"), "{e}");
    assert!(e.related()[1].message().contains("node `d` can never run: it depends on the cycle through `c`"), "{e}");
    assert_eq!(Inspector::of_builder(&b).detect_cycles(), vec![vec!["a", "b", "c"]]);
}

#[test]
fn collect_all_returns_every_error_at_once() {
    let mut b = builder();
    b.add_node("UserCreatNode", "x", json!({}))
        .add_node("UserCreateNode", "c", json!({"id": "u1", "name": 5, "emial": "e"}))
        .add_node("UserUpdateNode", "u", json!({"id": "u1", "name": "b"}))
        .add_node("UserReadNode", "r", json!({}))
        .add_connection("c", "record.id", "r", "id")
        .add_connection("zz", "id", "r", "id");
    let first = b.build().unwrap_err();
    assert_eq!(first.code(), ErrorCode::UNKNOWN_NODE_TYPE);
    assert!(first.related().is_empty());
    b.validation(ValidationMode::CollectAll);
    let all = b.build().unwrap_err();
    assert_eq!(all.code(), ErrorCode::VALIDATION);
    let codes: Vec<String> = all.related().iter().map(|e| e.code().to_string()).collect();
    assert_eq!(codes, ["DF-701", "DF-102", "DF-103", "DF-101", "DF-902", "DF-201", "DF-202"], "{all}");
    assert!(all.to_string().starts_with("[DF-901] 7 validation error(s)"), "{all}");
    assert_eq!(b.validate().len(), 7);
}

fn fixed() -> WorkflowBuilder {
    let mut b = builder();
    b.name("onboarding")
        .add_node("UserCreateNode", "create_user", json!({"id": "u1", "name": "Alice", "email": "a@x.org"}))
        .add_node("UserReadNode", "read_user", json!({}))
        .add_node("OrderCreateNode", "first_order", json!({"total": 9.5}))
        .add_node(
            "UserUpdateNode",
            "rename",
            json!({"filter": {"id": "${read_user.id}"}, "fields": {"name": "${create_user.name} B."}}),
        )
        .add_node("OrderCountNode", "orders", json!({"filter": {}}))
        .add_connection("create_user", "id", "read_user", "id")
        .add_connection("read_user", "id", "first_order", "user_id");
    b
}

#[test]
fn inspector_on_a_fixed_workflow() {
    let wf = fixed().build().unwrap();
    let ins = wf.inspect();
    insta::assert_snapshot!("inspector_show", ins.show());
    let edges: Vec<String> = ins
        .connections()
        .iter()
        .map(|e| format!("{}.{} -> {}.{} ({:?})", e.from, e.output, e.to, e.param, e.via))
        .collect();
    insta::assert_debug_snapshot!("inspector_connections", edges);
    assert_eq!(ins.levels(), vec![vec!["create_user", "orders"], vec!["read_user"], vec!["first_order", "rename"]]);
    assert!(ins.detect_cycles().is_empty() && ins.validate_connections().is_empty());
    // first_order.user_id <- read_user.id <- create_user.id (static "u1")
    let trace = ins.trace_parameter("first_order", "user_id");
    insta::assert_debug_snapshot!("inspector_trace_user_id", trace);
    assert!(
        matches!(trace.last(), Some(TraceStep::Static { node, value, .. }) if node == "create_user" && value == "u1")
    );
    let t = ins.trace_parameter("rename", "filter.id");
    assert_eq!(t.len(), 3, "{t:?}");
    assert_eq!(
        ins.trace_parameter("orders", "include_deleted"),
        vec![TraceStep::Unset { node: "orders".into(), param: "include_deleted".into() }]
    );
}

#[test]
fn inspector_on_a_broken_builder() {
    let mut b = fixed();
    b.add_connection("orders", "cnt", "read_user", "include_deleted").add_connection(
        "ghost",
        "id",
        "rename",
        "fields.age",
    );
    let ins = Inspector::of_builder(&b);
    let broken: Vec<String> = ins.find_broken_connections().iter().map(|(c, e)| format!("{c}: {}", e.code())).collect();
    assert_eq!(broken, ["orders.cnt -> read_user.include_deleted: DF-202", "ghost.id -> rename.fields.age: DF-201"]);
    assert_eq!(ins.validate_connections().len(), 2);
    insta::assert_snapshot!("inspector_show_broken", ins.show());
}

#[test]
fn json_and_yaml_round_trip_with_the_same_validation() {
    let wf = fixed().build().unwrap();
    let json_text = wf.to_json().unwrap();
    let yaml_text = wf.to_yaml().unwrap();
    insta::assert_snapshot!("workflow_yaml", yaml_text);
    let cat = std::sync::Arc::new(catalog());
    let from_json = Workflow::parse(&json_text, Format::Json, cat.clone()).unwrap();
    let from_yaml = Workflow::parse(&yaml_text, Format::Yaml, cat.clone()).unwrap();
    assert_eq!(from_json.spec(), wf.spec());
    assert_eq!(from_yaml.spec(), wf.spec());
    assert_eq!(from_yaml.levels(), wf.levels());
    // Files, by extension.
    let dir = std::env::temp_dir().join(format!("df_wf_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["w.json", "w.yaml", "w.yml"] {
        let p = dir.join(name);
        wf.save(&p).unwrap();
        assert_eq!(Workflow::load(&p, cat.clone()).unwrap().spec(), wf.spec(), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    // Loading validates: an invalid file fails like the builder does.
    let bad = yaml_text.replace("UserReadNode", "UserReedNode");
    let e = Workflow::parse(&bad, Format::Yaml, cat.clone()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::UNKNOWN_NODE_TYPE);
    // Unknown keys and syntax errors are DF-804.
    let e = WorkflowSpec::parse("nodes:\n  - id: a\n    node_type: UserCountNode\n", Format::Yaml).unwrap_err();
    assert_eq!(e.code(), ErrorCode::WORKFLOW_FILE);
    assert!(e.to_string().contains("unknown field `node_type`"), "{e}");
    assert_eq!(WorkflowSpec::parse("{", Format::Json).unwrap_err().code(), ErrorCode::WORKFLOW_FILE);
    assert_eq!(Workflow::load(dir.join("w.txt"), cat).unwrap_err().code(), ErrorCode::WORKFLOW_FILE);
}
