//! Write protection and the audit trail (issue 14), the same bodies on SQLite, PostgreSQL and
//! MariaDB (docs/guide/protection-and-audit.md):
//!
//! - every protection level (instance, write window, model, operation, field) refuses with
//!   DF-609 naming the level, and **no statement runs** (`db.stats().statements_total` does not
//!   move); lifting the level lets the same write through; the window reads an injected clock;
//! - workflows report protected nodes at validation, before running;
//! - audited models get one `dataflow_audit` row per affected record with exact old/new values,
//!   written in the write's transaction (a rolled-back transaction leaves none);
//! - a 10,000-record bulk create, update and delete are audited in a bounded number of statements.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use dataflow::protect::{Level, ManualClock, ModelRules, WriteWindow};
use dataflow::{Changes, Model};
use dataflow_core::DataFlow;
use dataflow_core::workflow::WorkflowBuilder;
use dataflow_sql::{ErrorCode, FieldDef, FieldType, ModelSchema, Operation};
use dataflow_tests::{TestDb, backend_tests};
use futures::FutureExt;
use serde_json::{Value as J, json};

#[dataflow::model(audit, soft_delete)]
#[derive(Debug, Clone, PartialEq)]
struct Invoice {
    id: String,
    #[dataflow(read_only)]
    number: String,
    total: i64,
}

fn invoice(id: &str, total: i64) -> Invoice {
    Invoice { id: id.into(), number: format!("N-{id}"), total }
}

/// A dynamic model: `Item {id: i64, sku (unique), qty}`.
fn item(opts: impl FnOnce(&mut ModelSchema)) -> ModelSchema {
    let mut s = ModelSchema::new(
        "Item",
        vec![
            FieldDef::new("id", FieldType::I64),
            FieldDef::new("sku", FieldType::String).unique().max_len(64),
            FieldDef::new("qty", FieldType::I64),
        ],
    );
    s.options.soft_delete = true;
    opts(&mut s);
    s
}

async fn open(b: dataflow_core::DataFlowBuilder, schema: ModelSchema) -> DataFlow {
    let db = b.connect().await.unwrap();
    db.register_schema(schema).await.unwrap();
    db
}

fn builder(t: &TestDb) -> dataflow_core::DataFlowBuilder {
    DataFlow::builder(t.url())
}

/// Asserts DF-609 at `level`, naming `model` and an operation, with at least one fix.
fn blocked<T: std::fmt::Debug>(r: dataflow::Result<T>, level: Level, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(e.code(), ErrorCode::WRITE_PROTECTED, "{what}: {e:#}");
    assert_eq!(Level::of(&e), Some(level), "{what}: {e:#}");
    assert!(e.context().model.is_some() && e.context().operator.is_some(), "{what}: {e:#}");
    assert!(e.fixes().iter().any(|f| f.contains("lift it") || f.contains("retry")), "{what}: {e:#}");
}

/// Every write entry point of the dynamic API on `Item` (soft-delete, so restore applies), each
/// returning its result.
async fn every_write(db: &DataFlow) -> Vec<(&'static str, dataflow::Result<J>)> {
    let mut ex = db.express();
    vec![
        ("Create", ex.create_json("Item", &json!({"sku": "new", "qty": 1})).await),
        ("Update", ex.update_json("Item", &json!({"id": 1}), &json!({"qty": 9})).await.map(|r| json!(r))),
        ("Delete", ex.delete_json("Item", &json!(1)).await.map(|r| json!(r))),
        ("Restore", ex.restore_json("Item", &json!(1)).await.map(|r| json!(r))),
        ("HardDelete", ex.hard_delete_json("Item", &json!(1)).await.map(|r| json!(r))),
        (
            "Upsert",
            ex.upsert_json("Item", &json!({"where": {"sku": "a"}, "create": {"qty": 1}, "conflict_on": ["sku"]})).await,
        ),
        ("BulkCreate", ex.bulk_create_json("Item", &json!([{"sku": "b1", "qty": 1}])).await),
        ("BulkUpdate", ex.bulk_update_json("Item", &json!({"filter": {"qty": 1}, "fields": {"qty": 2}})).await),
        ("BulkDelete", ex.bulk_delete_json("Item", &json!({"filter": {"qty": 1}})).await),
        (
            "BulkUpsert",
            ex.bulk_upsert_json("Item", &json!({"data": [{"sku": "a", "qty": 5}], "conflict_on": ["sku"]})).await,
        ),
    ]
}

async fn seed(db: &DataFlow) {
    db.express().create_json("Item", &json!({"id": 1, "sku": "a", "qty": 1})).await.unwrap();
}

async fn item_qty(db: &DataFlow, id: i64) -> Option<i64> {
    db.express().read_json("Item", &json!(id)).await.unwrap().map(|r| r["qty"].as_i64().unwrap())
}

// ---- write protection -------------------------------------------------------------------

async fn instance_read_only_blocks_every_write_before_sql(t: &TestDb) {
    let rw = open(builder(t), item(|_| {})).await;
    seed(&rw).await;
    let ro = open(builder(t).read_only(true), item(|_| {})).await;
    let before = ro.stats().statements_total;
    for (op, r) in every_write(&ro).await {
        blocked(r, Level::Instance, op);
    }
    // Typed too.
    ro.register::<Invoice>().await.unwrap();
    let before_typed = ro.stats().statements_total;
    blocked(ro.express().create(&invoice("i1", 1)).await, Level::Instance, "typed create");
    blocked(ro.express().delete::<Invoice>("i1").await, Level::Instance, "typed delete");
    assert_eq!(ro.stats().statements_total, before_typed, "no statement for a blocked typed write");
    assert_eq!(ro.stats().statements_total, before, "no statement for any blocked write");
    // Reads work; nothing changed.
    assert_eq!(item_qty(&ro, 1).await, Some(1));
    assert_eq!(ro.express().count_json("Item", &json!({})).await.unwrap(), 1);
    // Lifted: the writable instance writes.
    rw.express().update_json("Item", &json!({"id": 1}), &json!({"qty": 3})).await.unwrap();
    assert_eq!(item_qty(&ro, 1).await, Some(3));
    ro.close().await;
    rw.close().await;
}

async fn write_window_uses_the_injected_clock(t: &TestDb) {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 18, 0, 0).unwrap()));
    let b = builder(t).write_window(WriteWindow::parse("09:00", "17:00").unwrap()).clock(clock.clone());
    let db = open(b, item(|_| {})).await;
    let before = db.stats().statements_total;
    let e = db.express().create_json("Item", &json!({"id": 1, "sku": "a", "qty": 1})).await;
    let msg = format!("{:#}", e.as_ref().unwrap_err());
    blocked(e, Level::Window, "create at 18:00");
    assert!(msg.contains("09:00:00") && msg.contains("17:00:00") && msg.contains("18:00:00"), "{msg}");
    assert_eq!(db.stats().statements_total, before);
    // Reads outside the window are fine.
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
    // Inside the window (the clock moved, nothing else): the same write goes through.
    clock.set(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
    seed(&db).await;
    assert_eq!(item_qty(&db, 1).await, Some(1));
    // The end is exclusive.
    clock.set(Utc.with_ymd_and_hms(2026, 3, 2, 17, 0, 0).unwrap());
    blocked(db.express().delete_json("Item", &json!(1)).await, Level::Window, "delete at 17:00");
    clock.advance(chrono::TimeDelta::hours(-1));
    assert!(db.express().delete_json("Item", &json!(1)).await.unwrap());
    db.close().await;
}

async fn model_level_option_and_rule(t: &TestDb) {
    // The schema option.
    let rw = open(builder(t), item(|_| {})).await;
    seed(&rw).await;
    let db = open(builder(t), item(|s| s.options.read_only = true)).await;
    let before = db.stats().statements_total;
    for (op, r) in every_write(&db).await {
        blocked(r, Level::Model, op);
    }
    assert_eq!(db.stats().statements_total, before);
    assert_eq!(item_qty(&db, 1).await, Some(1));
    // A builder rule on an instance whose schema is writable.
    let ruled = open(builder(t).protect_model("Item", ModelRules::new().read_only()), item(|_| {})).await;
    let before = ruled.stats().statements_total;
    let e = ruled.express().update_json("Item", &json!({"id": 1}), &json!({"qty": 5})).await;
    assert!(e.as_ref().unwrap_err().fixes().iter().any(|f| f.contains("protect_model")), "{e:?}");
    blocked(e, Level::Model, "update with a model rule");
    assert_eq!(ruled.stats().statements_total, before);
    // Lifted (no option, no rule): the write goes through.
    rw.express().update_json("Item", &json!({"id": 1}), &json!({"qty": 5})).await.unwrap();
    assert_eq!(item_qty(&db, 1).await, Some(5));
    for d in [db, ruled, rw] {
        d.close().await;
    }
}

async fn operation_level_forbids_deletes_only(t: &TestDb) {
    let db = open(builder(t), item(|s| s.options.forbid = vec![Operation::Delete, Operation::BulkDelete])).await;
    seed(&db).await;
    let before = db.stats().statements_total;
    blocked(db.express().delete_json("Item", &json!(1)).await, Level::Operation, "delete");
    blocked(db.express().hard_delete_json("Item", &json!(1)).await, Level::Operation, "hard delete");
    blocked(
        db.express().bulk_delete_json("Item", &json!({"filter": {"qty": 1}})).await,
        Level::Operation,
        "bulk delete",
    );
    assert_eq!(db.stats().statements_total, before);
    // Other writes are not forbidden.
    db.express().update_json("Item", &json!({"id": 1}), &json!({"qty": 2})).await.unwrap();
    assert_eq!(item_qty(&db, 1).await, Some(2));
    // A rule forbids Update on another instance; lifting = the instance without it.
    let ruled =
        open(builder(t).protect_model("Item", ModelRules::new().forbid([Operation::Update])), item(|_| {})).await;
    blocked(ruled.express().update_json("Item", &json!({"id": 1}), &json!({"qty": 3})).await, Level::Operation, "rule");
    blocked(ruled.express().restore_json("Item", &json!(1)).await, Level::Operation, "restore counts as Update");
    assert!(ruled.express().delete_json("Item", &json!(1)).await.unwrap(), "Delete is not forbidden there");
    // Invalid: forbidding a read is a model error at register.
    let bad = DataFlow::connect(t.url()).await.unwrap();
    let mut s = item(|s| s.options.forbid = vec![Operation::List]);
    s.name = "Other".into();
    s.table = "others".into();
    assert_eq!(bad.register_schema(s).await.unwrap_err().code(), ErrorCode::INVALID_MODEL);
    for d in [db, ruled, bad] {
        d.close().await;
    }
}

async fn field_level_read_only_after_create(t: &TestDb) {
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register::<Invoice>().await.unwrap();
    // Set on create (typed and dynamic).
    db.express().create(&invoice("i1", 10)).await.unwrap();
    db.express().create_json("Invoice", &json!({"id": "i2", "number": "N-2", "total": 20})).await.unwrap();
    let before = db.stats().statements_total;
    let e = db.express().update_json("Invoice", &json!({"id": "i1"}), &json!({"number": "X"})).await;
    assert_eq!(e.as_ref().unwrap_err().context().field.as_deref(), Some("number"));
    blocked(e, Level::Field, "dynamic update of a read-only field");
    blocked(
        db.express().update_by_id::<Invoice>("i1", Changes::new().set("number", "X")).await,
        Level::Field,
        "typed update_by_id",
    );
    blocked(db.express().update(&invoice("i1", 11)).await, Level::Field, "typed update writes every field");
    blocked(
        db.express().bulk_update_json("Invoice", &json!({"filter": {"total": 10}, "fields": {"number": "X"}})).await,
        Level::Field,
        "bulk update",
    );
    blocked(
        db.express()
            .upsert_json(
                "Invoice",
                &json!({"where": {"id": "i1"}, "create": {"number": "N", "total": 1}, "conflict_on": ["id"]}),
            )
            .await,
        Level::Field,
        "upsert whose update part writes it",
    );
    assert_eq!(db.stats().statements_total, before);
    // The other fields stay writable.
    let s = db.express().update_by_id::<Invoice>("i1", Changes::new().set("total", 12i64)).await.unwrap().unwrap();
    assert_eq!((s.number.as_str(), s.total), ("N-i1", 12));
    // A builder rule protects a field of a dynamic model; lifted on a plain instance.
    let ruled = open(builder(t).protect_model("Item", ModelRules::new().read_only_field("sku")), item(|_| {})).await;
    seed(&ruled).await;
    blocked(ruled.express().update_json("Item", &json!({"id": 1}), &json!({"sku": "z"})).await, Level::Field, "rule");
    let plain = open(builder(t), item(|_| {})).await;
    plain.express().update_json("Item", &json!({"id": 1}), &json!({"sku": "z"})).await.unwrap();
    for d in [db, ruled, plain] {
        d.close().await;
    }
}

async fn workflows_report_protected_nodes_at_validation(t: &TestDb) {
    let db = open(builder(t).read_only(true), item(|_| {})).await;
    let e = WorkflowBuilder::new(&db)
        .add_node("ItemListNode", "list", json!({"filter": {}}))
        .add_node("ItemCreateNode", "make", json!({"sku": "w", "qty": 1}))
        .build()
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::WRITE_PROTECTED, "{e:#}");
    assert_eq!(e.context().node.as_deref(), Some("make"));
    // A read-only workflow builds and runs.
    let wf = WorkflowBuilder::new(&db).add_node("ItemCountNode", "n", json!({"filter": {}})).build().unwrap();
    let out = wf.execute(&db).await.unwrap();
    assert_eq!(out["n"]["count"], 0);
    // Operation level from the model's options, on a writable instance.
    let forbid = open(builder(t), {
        let mut s = item(|s| s.options.forbid = vec![Operation::BulkDelete]);
        s.name = "Bin".into();
        s.table = "bins".into();
        s
    })
    .await;
    let e = WorkflowBuilder::new(&forbid)
        .add_node("BinBulkDeleteNode", "purge", json!({"filter": {"qty": 0}}))
        .build()
        .unwrap_err();
    assert_eq!((e.code(), e.context().node.as_deref()), (ErrorCode::WRITE_PROTECTED, Some("purge")));
    db.close().await;
    forbid.close().await;
}

async fn blocked_writes_are_audited_when_enabled(t: &TestDb) {
    let b = builder(t).audit_blocked_writes(true).protect_model("Item", ModelRules::new().read_only());
    let db = open(b, item(|s| s.options.audit = true)).await;
    let before = db.stats().statements_total;
    blocked(
        db.express().actor("mallory").create_json("Item", &json!({"sku": "a", "qty": 1})).await,
        Level::Model,
        "create",
    );
    assert_eq!(db.stats().statements_total, before + 1, "exactly the audit INSERT");
    let log = audit_log(&db).await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0]["operation"].as_str(), log[0]["outcome"].as_str(), log[0]["actor"].as_str()),
        (Some("Create"), Some("blocked"), Some("mallory"))
    );
    assert_eq!(log[0]["changes"]["error"], "DF-609");
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
    db.close().await;
}

// ---- audit ------------------------------------------------------------------------------

async fn audit_log(db: &DataFlow) -> Vec<J> {
    let page = db.express().list_json("AuditEntry", &json!({"order_by": ["id"], "limit": 100_000})).await.unwrap();
    page["records"].as_array().unwrap().clone()
}

async fn audit_count(db: &DataFlow, filter: J) -> u64 {
    db.express().count_json("AuditEntry", &filter).await.unwrap()
}

async fn every_write_is_audited_with_exact_values(t: &TestDb) {
    let db = open(builder(t), item(|s| s.options.audit = true)).await;
    let mut ex = db.express().actor("alice");
    ex.create_json("Item", &json!({"id": 1, "sku": "a", "qty": 1})).await.unwrap();
    ex.update_json("Item", &json!({"id": 1}), &json!({"qty": 5})).await.unwrap();
    ex.update_json("Item", &json!({"sku": "a"}), &json!({"$inc": {"qty": 2}})).await.unwrap();
    // Nothing changes: no audit row.
    ex.update_json("Item", &json!({"id": 1}), &json!({"qty": 7})).await.unwrap();
    ex.delete_json("Item", &json!(1)).await.unwrap();
    ex.restore_json("Item", &json!(1)).await.unwrap();
    ex.upsert_json(
        "Item",
        &json!({"where": {"sku": "a"}, "update": {"qty": 8}, "create": {"qty": 0}, "conflict_on": ["sku"]}),
    )
    .await
    .unwrap();
    ex.upsert_json("Item", &json!({"where": {"sku": "b"}, "create": {"id": 2, "qty": 3}, "conflict_on": ["sku"]}))
        .await
        .unwrap();
    ex.hard_delete_json("Item", &json!(2)).await.unwrap();
    let log = audit_log(&db).await;
    let ops: Vec<&str> = log.iter().map(|r| r["operation"].as_str().unwrap()).collect();
    assert_eq!(ops, ["Create", "Update", "Update", "Delete", "Restore", "Upsert", "Upsert", "HardDelete"], "{log:#?}");
    assert!(log.iter().all(|r| r["model"] == "Item" && r["actor"] == "alice" && r["outcome"] == "ok"));
    assert!(log.iter().all(|r| r["tenant"].is_null() && r["at"].is_string()));
    let ids: Vec<&str> = log.iter().map(|r| r["record_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "1", "1", "1", "1", "1", "2", "2"]);
    assert_eq!(log[0]["changes"], json!({"id": {"new": 1}, "sku": {"new": "a"}, "qty": {"new": 1}}));
    assert_eq!(log[1]["changes"], json!({"qty": {"old": 1, "new": 5}}));
    assert_eq!(log[2]["changes"], json!({"qty": {"old": 5, "new": 7}}));
    let deleted = &log[3]["changes"];
    assert_eq!((deleted["qty"]["old"].clone(), deleted["deleted_at"]["old"].clone()), (json!(7), J::Null));
    let restored = &log[4]["changes"]["deleted_at"];
    assert!(restored["old"].is_string() && restored["new"].is_null(), "{restored}");
    assert_eq!(log[5]["changes"], json!({"qty": {"old": 7, "new": 8}}));
    assert_eq!(log[6]["changes"], json!({"id": {"new": 2}, "sku": {"new": "b"}, "qty": {"new": 3}}));
    assert_eq!(log[7]["changes"]["sku"], json!({"old": "b"}));
    // No actor on the handle: NULL.
    db.express().update_json("Item", &json!({"id": 1}), &json!({"qty": 9})).await.unwrap();
    assert!(audit_log(&db).await.last().unwrap()["actor"].is_null());
    // The audit table is append-only through the API.
    let e = db.express().delete_json("AuditEntry", &json!(1)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::APPEND_ONLY);
    // A model without `audit` writes nothing there.
    let mut plain = item(|_| {});
    plain.name = "Plain".into();
    plain.table = "plains".into();
    db.register_schema(plain).await.unwrap();
    db.express().create_json("Plain", &json!({"sku": "p", "qty": 1})).await.unwrap();
    assert_eq!(audit_count(&db, json!({"model": "Plain"})).await, 0);
    db.close().await;
}

async fn typed_writes_are_audited(t: &TestDb) {
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register::<Invoice>().await.unwrap();
    let mut ex = db.express().actor("bob");
    ex.create(&invoice("i1", 10)).await.unwrap();
    ex.update_by_id::<Invoice>("i1", Changes::new().inc("total", 5i64)).await.unwrap();
    ex.bulk_create(&[invoice("i2", 1), invoice("i3", 2)]).await.unwrap();
    ex.bulk_delete::<Invoice>(&json!({"total": {"$lt": 5}}), false).await.unwrap();
    let log = audit_log(&db).await;
    let got: Vec<(&str, &str)> =
        log.iter().map(|r| (r["operation"].as_str().unwrap(), r["record_id"].as_str().unwrap())).collect();
    assert_eq!(
        got,
        [
            ("Create", "i1"),
            ("Update", "i1"),
            ("BulkCreate", "i2"),
            ("BulkCreate", "i3"),
            ("BulkDelete", "i2"),
            ("BulkDelete", "i3")
        ]
    );
    assert_eq!(log[1]["changes"], json!({"total": {"old": 10, "new": 15}}));
    assert_eq!(log[2]["changes"], json!({"id": {"new": "i2"}, "number": {"new": "N-i2"}, "total": {"new": 1}}));
    db.close().await;
}

async fn audit_rows_share_the_transaction(t: &TestDb) {
    let db = open(builder(t), item(|s| s.options.audit = true)).await;
    // Rolled back: neither the record nor its audit rows remain.
    let r: dataflow::Result<()> = db
        .transaction(|tx| {
            async move {
                tx.express().actor("carol").create_json("Item", &json!({"id": 1, "sku": "a", "qty": 1})).await?;
                tx.express().bulk_create_json("Item", &json!([{"sku": "b", "qty": 2}, {"sku": "c", "qty": 3}])).await?;
                assert_eq!(tx.express().count_json("AuditEntry", &json!({})).await?, 3, "visible inside");
                Err(dataflow::Error::new(ErrorCode::INVALID_PARAMETER, "abort"))
            }
            .boxed()
        })
        .await;
    assert!(r.is_err());
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
    assert_eq!(audit_count(&db, json!({})).await, 0, "a rolled-back transaction leaves no audit row");
    // Committed: both remain.
    db.transaction(|tx| {
        async move {
            tx.express().create_json("Item", &json!({"id": 1, "sku": "a", "qty": 1})).await?;
            // A savepoint rolled back takes its audit row with it.
            let inner: dataflow::Result<()> = tx
                .transaction(|tx| {
                    async move {
                        tx.express().update_json("Item", &json!({"id": 1}), &json!({"qty": 50})).await?;
                        Err(dataflow::Error::new(ErrorCode::INVALID_PARAMETER, "undo"))
                    }
                    .boxed()
                })
                .await;
            assert!(inner.is_err());
            Ok(())
        }
        .boxed()
    })
    .await
    .unwrap();
    let log = audit_log(&db).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["operation"], "Create");
    assert_eq!(item_qty(&db, 1).await, Some(1));
    // A write that fails after its audit row would have been written leaves neither.
    let dup = db.express().bulk_create_json("Item", &json!([{"sku": "x", "qty": 1}, {"sku": "a", "qty": 1}])).await;
    assert_eq!(dup.unwrap_err().code(), ErrorCode::UNIQUE_VIOLATION);
    assert_eq!(audit_count(&db, json!({})).await, 1);
    db.close().await;
}

const N: usize = 10_000;

async fn bulk_audit_is_a_bounded_number_of_statements(t: &TestDb) {
    let db = open(builder(t), item(|s| s.options.audit = true)).await;
    let rows: Vec<J> = (0..N).map(|i| json!({"sku": format!("s{i}"), "qty": i % 10})).collect();
    let s0 = db.stats().statements_total;
    let r = db.express().bulk_create_json("Item", &J::Array(rows)).await.unwrap();
    let s1 = db.stats().statements_total;
    assert_eq!(r["inserted"], N);
    assert!(s1 - s0 <= 16, "audited bulk create of {N}: {} statements", s1 - s0);
    assert_eq!(audit_count(&db, json!({"operation": "BulkCreate"})).await, N as u64);
    // Generated ids are recorded: every record id appears once.
    let ids = db.express().list_json("Item", &json!({"filter": {"sku": "s1234"}})).await.unwrap();
    let id = ids["records"][0]["id"].to_string();
    let one = db.express().list_json("AuditEntry", &json!({"filter": {"record_id": id}})).await.unwrap();
    assert_eq!(one["count"], 1);
    assert_eq!(one["records"][0]["changes"]["sku"]["new"], "s1234");
    // Ids follow input order, and the next create gets a new, larger id.
    let first = db.express().list_json("Item", &json!({"filter": {"sku": "s0"}})).await.unwrap();
    let first_id = first["records"][0]["id"].as_i64().unwrap();
    assert_eq!(ids["records"][0]["id"].as_i64().unwrap(), first_id + 1234, "ids in input order");
    let next = db.express().create_json("Item", &json!({"sku": "after-bulk", "qty": 0})).await.unwrap();
    assert!(next["id"].as_i64().unwrap() > first_id + (N as i64) - 1, "{next}");
    db.express().hard_delete_json("Item", &json!(next["id"])).await.unwrap();
    // Bulk update of every record with qty < 5 (5,000): old/new exact, bounded statements.
    let s2 = db.stats().statements_total;
    let u = db
        .express()
        .bulk_update_json("Item", &json!({"filter": {"qty": {"$lt": 5}}, "fields": {"$inc": {"qty": 100}}}))
        .await
        .unwrap();
    let s3 = db.stats().statements_total;
    assert_eq!(u["updated"], N / 2, "{u}");
    assert!(s3 - s2 <= 24, "audited bulk update of {}: {} statements", N / 2, s3 - s2);
    assert_eq!(audit_count(&db, json!({"operation": "BulkUpdate"})).await, (N / 2) as u64);
    let upd = db
        .express()
        .list_json("AuditEntry", &json!({"filter": {"operation": "BulkUpdate", "record_id": id}}))
        .await
        .unwrap();
    assert_eq!(upd["records"][0]["changes"], json!({"qty": {"old": 4, "new": 104}}));
    // Bulk delete of all 10,000.
    let s4 = db.stats().statements_total;
    let d = db.express().bulk_delete_json("Item", &json!({"filter": {}, "confirmed": true})).await.unwrap();
    let s5 = db.stats().statements_total;
    assert_eq!(d["deleted"], N, "{d}");
    println!(
        "{:?}: audited statements for {N} rows: bulk create {}, bulk update ({}) {}, bulk delete {}",
        t.backend(),
        s1 - s0,
        N / 2,
        s3 - s2,
        s5 - s4
    );
    assert!(s5 - s4 <= 16, "audited bulk delete of {N}: {} statements", s5 - s4);
    assert_eq!(audit_count(&db, json!({"operation": "BulkDelete"})).await, N as u64);
    db.close().await;
}

async fn bulk_upsert_audits_inserts_and_changes(t: &TestDb) {
    let db = open(builder(t), item(|s| s.options.audit = true)).await;
    db.express().bulk_create_json("Item", &json!([{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}])).await.unwrap();
    let r = db
        .express()
        .actor("dave")
        .bulk_upsert_json(
            "Item",
            &json!({"data": [{"sku": "a", "qty": 10}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": 3}], "conflict_on": ["sku"]}),
        )
        .await
        .unwrap();
    assert_eq!((r["inserted"].as_u64(), r["updated"].as_u64()), (Some(1), Some(2)), "{r}");
    let log = db
        .express()
        .list_json("AuditEntry", &json!({"filter": {"operation": "BulkUpsert"}, "order_by": ["id"]}))
        .await
        .unwrap();
    let recs = log["records"].as_array().unwrap();
    // `b` did not change: two rows (a changed, c inserted).
    assert_eq!(recs.len(), 2, "{log:#}");
    let by_sku = |sku: &str| {
        recs.iter()
            .find(|r| r["changes"]["sku"]["new"] == sku || r["changes"].get("sku").is_none() && sku == "a")
            .cloned()
            .unwrap()
    };
    assert_eq!(by_sku("a")["changes"], json!({"qty": {"old": 1, "new": 10}}));
    assert_eq!(by_sku("c")["changes"]["qty"], json!({"new": 3}));
    assert!(recs.iter().all(|r| r["actor"] == "dave"));
    db.close().await;
}

async fn audit_model_is_queryable_and_typed_ids_are_text(t: &TestDb) {
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register::<Invoice>().await.unwrap();
    assert!(db.models().contains(&"AuditEntry".to_owned()));
    assert_eq!(db.schema("AuditEntry").unwrap().table, dataflow::audit::TABLE);
    db.express().create(&invoice("i9", 1)).await.unwrap();
    let f =
        db.express().find_one_json("AuditEntry", &json!({"record_id": "i9", "model": Invoice::schema().name})).await;
    assert_eq!(f.unwrap().unwrap()["operation"], "Create");
    db.close().await;
}

backend_tests!(
    instance_read_only_blocks_every_write_before_sql,
    write_window_uses_the_injected_clock,
    model_level_option_and_rule,
    operation_level_forbids_deletes_only,
    field_level_read_only_after_create,
    workflows_report_protected_nodes_at_validation,
    blocked_writes_are_audited_when_enabled,
    every_write_is_audited_with_exact_values,
    typed_writes_are_audited,
    audit_rows_share_the_transaction,
    bulk_audit_is_a_bounded_number_of_statements,
    bulk_upsert_audits_inserts_and_changes,
    audit_model_is_queryable_and_typed_ids_are_text,
);
