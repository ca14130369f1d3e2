//! `Express::bulk_create_rows`: BulkCreate of rows already typed for a dynamic model (the path of
//! `dataflow import` of CSV). The same checks as BulkCreate of JSON records (DF-107 row length,
//! DF-102 value types, nullability and `max_len`, DF-101 required fields), then defaults,
//! generated ids, the tenant, write protection and the audit trail as on every write.

use dataflow::protect::{Level, ModelRules};
use dataflow_core::DataFlow;
use dataflow_sql::{ErrorCode, FieldDef, FieldType, ModelSchema, Value};
use dataflow_tests::{TestDb, backend_tests};
use serde_json::json;

/// `Item {id: i64 (generated), sku: string (unique, max 8), qty: i32 nullable, ok: bool default true}`.
fn item(opts: impl FnOnce(&mut ModelSchema)) -> ModelSchema {
    let mut s = ModelSchema::new(
        "Item",
        vec![
            FieldDef::new("id", FieldType::I64),
            FieldDef::new("sku", FieldType::String).unique().max_len(8),
            FieldDef::new("qty", FieldType::I32).nullable(),
            FieldDef::new("ok", FieldType::Bool).with_default(json!(true)),
        ],
    );
    opts(&mut s);
    s
}

/// One slot per field of `Item`, in order.
type Row = Vec<Option<Value>>;

fn row(sku: &str, qty: Option<Value>, ok: Option<bool>) -> Row {
    vec![None, Some(Value::String(sku.into())), qty, ok.map(Value::Bool)]
}

async fn open(b: dataflow_core::DataFlowBuilder, schema: ModelSchema) -> DataFlow {
    let db = b.connect().await.unwrap();
    db.register_schema(schema).await.unwrap();
    db
}

async fn rows_are_validated_and_completed_like_bulk_create(t: &TestDb) {
    let db = open(DataFlow::builder(t.url()), item(|_| {})).await;
    let rows =
        vec![row("a", Some(Value::I32(1)), Some(false)), row("b", Some(Value::Null), None), row("c", None, Some(true))];
    assert_eq!(db.express().bulk_create_rows("Item", rows).await.unwrap(), 3);
    let page = db.express().list_json("Item", &json!({"order_by": ["sku"]})).await.unwrap();
    let got: Vec<_> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["sku"].clone(), r["qty"].clone(), r["ok"].clone(), r["id"].as_i64().is_some()))
        .collect();
    assert_eq!(
        got,
        [
            (json!("a"), json!(1), json!(false), true),
            (json!("b"), json!(null), json!(true), true),
            (json!("c"), json!(null), json!(true), true),
        ],
        "explicit NULL, default and generated id"
    );

    // Refused with the model and field named; nothing of the call is kept.
    let bad: [(Row, ErrorCode, Option<&str>); 5] = [
        (vec![None, Some(Value::String("d".into()))], ErrorCode::WRONG_SHAPE, None),
        (row("d", Some(Value::I64(1)), None), ErrorCode::WRONG_TYPE, Some("qty")),
        (vec![None, Some(Value::Null), None, None], ErrorCode::WRONG_TYPE, Some("sku")),
        (row("longer than 8", None, None), ErrorCode::WRONG_TYPE, Some("sku")),
        (vec![None, None, None, None], ErrorCode::MISSING_FIELD, Some("sku")),
    ];
    for (r, code, field) in bad {
        let e = db.express().bulk_create_rows("Item", [row("ok1", None, None), r.clone()]).await.unwrap_err();
        assert_eq!(e.code(), code, "{r:?}: {e:#}");
        assert_eq!(e.context().model.as_deref(), Some("Item"), "{e:#}");
        assert_eq!(e.context().field.as_deref(), field, "{e:#}");
    }
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 3);

    // A row the database refuses (duplicate unique key) rolls the whole call back.
    let dup = db.express().bulk_create_rows("Item", [row("e", None, None), row("a", None, None)]).await;
    assert_eq!(dup.unwrap_err().code(), ErrorCode::UNIQUE_VIOLATION);
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 3);
    db.close().await;
}

async fn rows_get_tenant_protection_and_audit(t: &TestDb) {
    // Tenant: required (DF-608), then applied to every row.
    let db = open(DataFlow::builder(t.url()), item(|s| s.options.multi_tenant = true)).await;
    let e = db.express().bulk_create_rows("Item", [row("a", None, None)]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::MISSING_TENANT, "{e:#}");
    assert_eq!(db.express().tenant("acme").bulk_create_rows("Item", [row("a", None, None)]).await.unwrap(), 1);
    assert_eq!(db.tenant("acme").count_json("Item", &json!({})).await.unwrap(), 1);
    assert_eq!(db.tenant("other").count_json("Item", &json!({})).await.unwrap(), 0);
    db.close().await;

    // Write protection: DF-609 before any SQL.
    let dbp = dataflow_tests::TestDb::new(t.backend()).await.unwrap();
    let db =
        open(DataFlow::builder(dbp.url()).protect_model("Item", ModelRules::new().read_only()), item(|_| {})).await;
    let s0 = db.stats().statements_total;
    let e = db.express().bulk_create_rows("Item", [row("a", None, None)]).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::WRITE_PROTECTED, "{e:#}");
    assert_eq!(Level::of(&e), Some(Level::Model), "{e:#}");
    assert_eq!(db.stats().statements_total, s0);
    db.close().await;

    // Audit: one BulkCreate entry per row, with the actor.
    let dba = dataflow_tests::TestDb::new(t.backend()).await.unwrap();
    let db = open(DataFlow::builder(dba.url()), item(|s| s.options.audit = true)).await;
    let rows = (0..10).map(|i| row(&format!("s{i}"), Some(Value::I32(i)), None));
    assert_eq!(db.express().actor("loader").bulk_create_rows("Item", rows).await.unwrap(), 10);
    let filter = json!({"operation": "BulkCreate", "actor": "loader"});
    assert_eq!(db.express().count_json("AuditEntry", &filter).await.unwrap(), 10);
    db.close().await;
}

/// `bulk_create_json` reads the caller's records where they are (no copy into node
/// parameters) with the same checks as the node form: a `data` that is not a list and a record
/// with an unknown field are DF errors that keep nothing; a managed column in a record is ignored.
async fn bulk_create_json_checks_records_like_the_node(t: &TestDb) {
    let db = open(DataFlow::builder(t.url()), item(|_| {})).await;
    let mut ex = db.express();
    let err = ex.bulk_create_json("Item", &json!({"sku": "a"})).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::WRONG_SHAPE, "{err}");
    assert!(err.to_string().contains("list of records"), "{err}");
    let err = ex.bulk_create_json("Item", &json!([{"sku": "a"}, {"sku": "b", "colour": "red"}])).await.unwrap_err();
    assert!(err.to_string().contains("colour"), "names the unknown field: {err}");
    assert_eq!(ex.count_json("Item", &json!({})).await.unwrap(), 0, "nothing of a failed call is kept");
    let out = ex
        .bulk_create_json("Item", &json!([{"sku": "a", "created_at": "1999-01-01T00:00:00Z"}, {"sku": "b", "qty": 2}]))
        .await
        .unwrap();
    assert_eq!((out["processed"].clone(), out["inserted"].clone()), (json!(2), json!(2)));
    let node = ex
        .run("Item", dataflow_sql::Operation::BulkCreate, &json!({"data": [{"sku": "c"}], "return_ids": true}))
        .await
        .unwrap();
    assert_eq!(node["ids"].as_array().map(Vec::len), Some(1), "{node}");
    let page = ex.list_json("Item", &json!({"order_by": ["sku"]})).await.unwrap();
    let recs = page["records"].as_array().unwrap();
    let skus: Vec<_> = recs.iter().map(|r| (r["sku"].clone(), r["qty"].clone())).collect();
    assert_eq!(skus, [(json!("a"), json!(null)), (json!("b"), json!(2)), (json!("c"), json!(null))]);
    assert!(
        !recs[0]["created_at"].as_str().unwrap_or("1999").starts_with("1999"),
        "managed column not taken from data"
    );
}

backend_tests!(
    rows_are_validated_and_completed_like_bulk_create,
    rows_get_tenant_protection_and_audit,
    bulk_create_json_checks_records_like_the_node
);
