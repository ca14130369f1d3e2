//! Create, Read, Update, Delete, find-one, registration and instance scenarios.

use dataflow::Operation;
use dataflow_core::DataFlow;
use serde_json::json;

use super::models::{code, register_all, u};

pub async fn create_returns_stored_record(db: &DataFlow) {
    register_all(db).await;
    let r = db.express().create_json("User", &u("u1", "Alice", Some(30))).await.unwrap();
    assert_eq!(r["id"], "u1");
    assert_eq!(r["name"], "Alice");
    assert_eq!(r["age"], 30);
    assert_eq!(r["active"], true, "default applied: {r}");
    assert_eq!(r["tags"], json!([]));
    assert!(r["created_at"].is_string() && r["created_at"] == r["updated_at"], "{r}");
    assert!(r["deleted_at"].is_null());
}

pub async fn create_generates_integer_ids(db: &DataFlow) {
    register_all(db).await;
    let a = db.express().create_json("Item", &json!({"sku": "a"})).await.unwrap();
    let b = db.express().create_json("Item", &json!({"id": 0, "sku": "b"})).await.unwrap();
    let (ia, ib) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    assert!(ia > 0 && ib > ia, "{a} {b}");
    assert_eq!(a["qty"], 0);
    assert_eq!(a["org"], "acme");
    let c = db.express().create_json("Item", &json!({"id": 1000, "sku": "c"})).await.unwrap();
    assert_eq!(c["id"], 1000);
}

pub async fn create_generates_uuid_v7(db: &DataFlow) {
    register_all(db).await;
    let e = db.express().create_json("Event", &json!({"kind": "login"})).await.unwrap();
    let id = uuid::Uuid::parse_str(e["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 7);
    let read = db.express().read_json("Event", &e["id"]).await.unwrap().unwrap();
    assert_eq!(read["kind"], "login");
}

pub async fn create_requires_string_id(db: &DataFlow) {
    register_all(db).await;
    let r = db.express().create_json("User", &json!({"name": "A", "email": "a@x"})).await;
    let e = r.unwrap_err();
    assert_eq!(e.code().number(), 101);
    assert_eq!(e.context().field.as_deref(), Some("id"));
    assert_eq!(db.express().count_json("User", &json!({})).await.unwrap(), 0);
}

pub async fn create_unknown_field_suggests(db: &DataFlow) {
    register_all(db).await;
    let e = db.express().create_json("User", &json!({"id": "u1", "name": "A", "emial": "a@x"})).await.unwrap_err();
    assert_eq!(e.code().number(), 103);
    assert!(e.fixes()[0].contains("email"), "{e:#}");
}

pub async fn create_wrong_type_writes_nothing(db: &DataFlow) {
    register_all(db).await;
    let e = db.express().create_json("User", &json!({"id": "u1", "name": "A", "email": "a@x", "age": "abc"})).await;
    assert_eq!(code(e), 102);
    let e = db.express().create_json("User", &json!({"id": "u1", "name": null, "email": "a@x"})).await;
    assert_eq!(code(e), 102);
    assert_eq!(db.express().count_json("User", &json!({})).await.unwrap(), 0);
}

pub async fn create_strips_managed_fields(db: &DataFlow) {
    register_all(db).await;
    let mut rec = u("u1", "A", None);
    rec["created_at"] = json!("2000-01-01T00:00:00Z");
    rec["deleted_at"] = json!("2000-01-01T00:00:00Z");
    let r = db.express().create_json("User", &rec).await.unwrap();
    assert_ne!(r["created_at"], "2000-01-01T00:00:00Z");
    assert!(r["deleted_at"].is_null());
    assert!(db.express().read_json("User", &json!("u1")).await.unwrap().is_some());
}

pub async fn read_found_and_not_found(db: &DataFlow) {
    register_all(db).await;
    db.express().create_json("User", &u("u1", "A", None)).await.unwrap();
    let r = db.express().run("User", Operation::Read, &json!({"id": "u1"})).await.unwrap();
    assert_eq!((r["found"].clone(), r["name"].clone()), (json!(true), json!("A")));
    let e = db.express().run("User", Operation::Read, &json!({"id": "nope"})).await;
    assert_eq!(code(e), 703);
    let r =
        db.express().run("User", Operation::Read, &json!({"id": "nope", "raise_on_not_found": false})).await.unwrap();
    assert_eq!(r, json!({"id": "nope", "found": false}));
    assert!(db.express().read_json("User", &json!("nope")).await.unwrap().is_none());
    let e = db.express().run("Item", Operation::Read, &json!({"id": "x"})).await;
    assert_eq!(code(e), 102);
}

pub async fn update_bumps_updated_at(db: &DataFlow) {
    register_all(db).await;
    let c = db.express().create_json("User", &u("u1", "A", Some(1))).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let r = db
        .express()
        .run("User", Operation::Update, &json!({"filter": {"id": "u1"}, "fields": {"name": "B", "age": null}}))
        .await
        .unwrap();
    assert_eq!(r["updated"], true);
    assert_eq!(r["name"], "B");
    assert!(r["age"].is_null());
    assert_eq!(r["created_at"], c["created_at"]);
    let (t0, t1) = (c["updated_at"].as_str().unwrap(), r["updated_at"].as_str().unwrap());
    assert!(chrono::DateTime::parse_from_rfc3339(t1).unwrap() > chrono::DateTime::parse_from_rfc3339(t0).unwrap());
}

pub async fn update_flat_fields_is_shape_error(db: &DataFlow) {
    register_all(db).await;
    db.express().create_json("User", &u("u1", "A", None)).await.unwrap();
    let e = db.express().run("User", Operation::Update, &json!({"id": "u1", "name": "B"})).await.unwrap_err();
    assert_eq!(e.code().number(), 902);
    assert!(e.fixes()[0].contains("\"filter\""), "{e:#}");
    assert_eq!(db.express().read_json("User", &json!("u1")).await.unwrap().unwrap()["name"], "A");
}

pub async fn update_without_match(db: &DataFlow) {
    register_all(db).await;
    let r = db
        .express()
        .run("User", Operation::Update, &json!({"filter": {"id": "zz"}, "fields": {"name": "B"}}))
        .await
        .unwrap();
    assert_eq!(r, json!({"updated": false}));
}

pub async fn update_by_unique_field(db: &DataFlow) {
    register_all(db).await;
    db.express().create_json("User", &u("u1", "A", None)).await.unwrap();
    let r = db
        .express()
        .update_json("User", &json!({"email": "u1@example.com"}), &json!({"email": "new@example.com"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r["email"], "new@example.com");
    assert_eq!(r["id"], "u1");
}

pub async fn update_needs_identifying_filter(db: &DataFlow) {
    register_all(db).await;
    db.express().create_json("User", &u("u1", "A", Some(3))).await.unwrap();
    let e = db.express().update_json("User", &json!({"age": 3}), &json!({"name": "B"})).await;
    assert_eq!(code(e), 107);
    let e = db.express().update_json("User", &json!({"id": "u1"}), &json!({"nme": "B"})).await;
    assert_eq!(code(e), 103);
    let e = db.express().update_json("User", &json!({"id": "u1"}), &json!({"age": "x"})).await;
    assert_eq!(code(e), 102);
    assert_eq!(db.express().read_json("User", &json!("u1")).await.unwrap().unwrap()["name"], "A");
}

pub async fn delete_hard_model(db: &DataFlow) {
    register_all(db).await;
    let a = db.express().create_json("Item", &json!({"sku": "a"})).await.unwrap();
    let r = db.express().run("Item", Operation::Delete, &json!({"id": a["id"]})).await.unwrap();
    assert_eq!(r, json!({"id": a["id"], "deleted": true}));
    let r = db.express().run("Item", Operation::Delete, &json!({"id": a["id"]})).await.unwrap();
    assert_eq!(r["deleted"], false);
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
}

pub async fn soft_delete_lifecycle(db: &DataFlow) {
    register_all(db).await;
    db.express().create_json("User", &u("u1", "A", None)).await.unwrap();
    db.express().create_json("User", &u("u2", "B", None)).await.unwrap();
    assert!(db.express().delete_json("User", &json!("u1")).await.unwrap());
    assert!(!db.express().delete_json("User", &json!("u1")).await.unwrap(), "second delete is false");
    assert!(db.express().read_json("User", &json!("u1")).await.unwrap().is_none());
    let r = db.express().run("User", Operation::Read, &json!({"id": "u1", "include_deleted": true})).await.unwrap();
    assert!(r["deleted_at"].is_string(), "{r}");
    assert_eq!(db.express().count_json("User", &json!({})).await.unwrap(), 1);
    let c = db.express().run("User", Operation::Count, &json!({"include_deleted": true})).await.unwrap();
    assert_eq!(c, json!({"count": 2}));
    let l = db.express().list_json("User", &json!({})).await.unwrap();
    assert_eq!(l["count"], 1);
    assert!(db.express().find_one_json("User", &json!({"id": "u1"})).await.unwrap().is_none());
    assert!(db.express().restore_json("User", &json!("u1")).await.unwrap());
    assert!(!db.express().restore_json("User", &json!("u1")).await.unwrap());
    assert!(db.express().read_json("User", &json!("u1")).await.unwrap().unwrap()["deleted_at"].is_null());
    assert!(db.express().hard_delete_json("User", &json!("u1")).await.unwrap());
    let c = db.express().run("User", Operation::Count, &json!({"include_deleted": true})).await.unwrap();
    assert_eq!(c["count"], 1);
    assert_eq!(code(db.express().restore_json("Item", &json!(1)).await), 109);
}

pub async fn unicode_round_trip(db: &DataFlow) {
    register_all(db).await;
    let name = "Zoë 🦀 — 日本語 Ω 𝄞";
    db.express()
        .create_json("User", &json!({"id": "ü-1", "name": name, "email": "ü@example.com", "tags": ["ç", "🚀"]}))
        .await
        .unwrap();
    let r = db.express().read_json("User", &json!("ü-1")).await.unwrap().unwrap();
    assert_eq!(r["name"], name);
    assert_eq!(r["tags"], json!(["ç", "🚀"]));
    let f = db.express().find_one_json("User", &json!({"name": name})).await.unwrap().unwrap();
    assert_eq!(f["id"], "ü-1");
}

pub async fn quotes_and_backslashes_verbatim(db: &DataFlow) {
    register_all(db).await;
    let s = r#"O'Brien "q" \ \\ \n %_ ; DROP TABLE users; --"#;
    db.express().create_json("User", &json!({"id": "q", "name": s, "email": "q@x"})).await.unwrap();
    let r = db.express().read_json("User", &json!("q")).await.unwrap().unwrap();
    assert_eq!(r["name"], s);
    assert_eq!(db.express().count_json("User", &json!({"name": s})).await.unwrap(), 1);
    assert_eq!(db.express().count_json("User", &json!({"name": {"$contains": "\\ \\\\"}})).await.unwrap(), 1);
}

pub async fn decimal_date_json_round_trip(db: &DataFlow) {
    register_all(db).await;
    let r =
        db.express().create_json("Item", &json!({"sku": "d", "price": "12.50", "day": "2024-02-29"})).await.unwrap();
    assert_eq!(r["day"], "2024-02-29");
    let p: rust_decimal::Decimal = r["price"].as_str().unwrap().parse().unwrap();
    assert_eq!(p, rust_decimal::Decimal::new(1250, 2));
    let prof = json!({"address": {"city": "Oslo", "zip": "0150"}, "n": [1, 2.5, null], "ok": true});
    db.express()
        .create_json("User", &json!({"id": "j", "name": "J", "email": "j@x", "profile": prof, "score": 0.1}))
        .await
        .unwrap();
    let u = db.express().read_json("User", &json!("j")).await.unwrap().unwrap();
    assert_eq!(u["profile"], prof);
    assert_eq!(u["score"], 0.1);
}

pub async fn unique_violation_is_df501(db: &DataFlow) {
    register_all(db).await;
    db.express().create_json("User", &u("u1", "A", None)).await.unwrap();
    let e = db
        .express()
        .create_json("User", &json!({"id": "u2", "name": "B", "email": "u1@example.com"}))
        .await
        .unwrap_err();
    assert_eq!(e.code().number(), 501, "{e}");
    assert!(e.to_string().contains("email"), "names the column: {e}");
    assert!(std::error::Error::source(&e).is_some());
    let e = db.express().create_json("User", &u("u1", "A", None)).await.unwrap_err();
    assert_eq!(e.code().number(), 501);
}

pub async fn append_only_refuses_before_sql(db: &DataFlow) {
    register_all(db).await;
    let e = db.express().create_json("Event", &json!({"kind": "a"})).await.unwrap();
    let id = e["id"].clone();
    let mut ex = db.express();
    assert_eq!(code(ex.update_json("Event", &json!({"id": id}), &json!({"kind": "b"})).await), 605);
    assert_eq!(code(ex.delete_json("Event", &id).await), 605);
    assert_eq!(code(ex.upsert_json("Event", &json!({"where": {"id": id}, "create": {"kind": "c"}})).await), 605);
    assert_eq!(
        code(ex.bulk_update_json("Event", &json!({"filter": {}, "fields": {"kind": "x"}, "confirmed": true})).await),
        605
    );
    assert_eq!(code(ex.bulk_delete_json("Event", &json!({"filter": {}, "confirmed": true})).await), 605);
    assert_eq!(code(ex.bulk_upsert_json("Event", &json!({"data": [{"kind": "z"}]})).await), 605);
    assert_eq!(ex.read_json("Event", &id).await.unwrap().unwrap()["kind"], "a");
    assert_eq!(ex.bulk_create_json("Event", &json!([{"kind": "b"}])).await.unwrap()["inserted"], 1);
}

pub async fn registry_duplicates_and_isolation(db: &DataFlow) {
    register_all(db).await;
    assert_eq!(code(db.register_schema(super::models::user()).await), 603);
    let mut other = super::models::user();
    other.table = "users_other".into();
    other.fields.retain(|f| f.name != "profile");
    // A second instance on the same database: its own registry, a different `User` schema.
    let url = db.config().url.clone();
    let db2 = DataFlow::connect(&url).await.unwrap();
    db2.register_schema(other).await.unwrap();
    assert!(db2.schema("User").unwrap().field("profile").is_none());
    assert!(db.schema("User").unwrap().field("profile").is_some());
    assert_eq!(code(db2.schema("Item")), 604);
    db2.express().create_json("User", &json!({"id": "x", "name": "X", "email": "x@x"})).await.unwrap();
    assert_eq!(db.express().count_json("User", &json!({})).await.unwrap(), 0);
    db2.close().await;
}

pub async fn unknown_model_suggests(db: &DataFlow) {
    register_all(db).await;
    let e = db.express().create_json("Usr", &json!({})).await.unwrap_err();
    assert_eq!(e.code().number(), 604);
    assert!(e.fixes()[0].contains("User"), "{e:#}");
}

pub async fn node_types_registered(db: &DataFlow) {
    register_all(db).await;
    let types = db.node_types();
    for op in Operation::ALL {
        assert!(types.contains(&op.node_type_name("User")), "{op:?}");
    }
    assert_eq!(types.len(), 44);
    assert_eq!(db.node_type("ItemBulkUpsertNode"), Some(("Item".into(), Operation::BulkUpsert)));
    let r = db.express().run_node("ItemCreateNode", &json!({"sku": "n"})).await.unwrap();
    assert_eq!(r["sku"], "n");
    assert_eq!(code(db.express().run_node("ItemCreatNode", &json!({})).await), 701);
}

pub async fn close_is_idempotent(db: &DataFlow) {
    register_all(db).await;
    let url = db.config().url.clone();
    let db2 = DataFlow::connect(&url).await.unwrap();
    db2.register_schema(super::models::user()).await.unwrap();
    db2.close().await;
    db2.close().await;
    assert!(db2.is_closed());
    assert_eq!(code(db2.express().count_json("User", &json!({})).await), 404);
}

pub async fn no_ddl_without_auto_migrate(db: &DataFlow) {
    let url = db.config().url.clone();
    let db2 = DataFlow::builder(&url).auto_migrate(false).connect().await.unwrap();
    db2.register_schema(super::models::item()).await.unwrap();
    let e = db2.express().create_json("Item", &json!({"sku": "a"})).await.unwrap_err();
    assert!(e.code().number() >= 500 && e.code().number() < 600, "table was not created: {e}");
    db2.close().await;
}

pub async fn find_one_needs_filter(db: &DataFlow) {
    register_all(db).await;
    db.express().create_json("User", &u("u1", "A", Some(5))).await.unwrap();
    db.express().create_json("User", &u("u2", "B", Some(5))).await.unwrap();
    assert_eq!(code(db.express().find_one_json("User", &json!({})).await), 105);
    let r = db.express().find_one_json("User", &json!({"age": 5})).await.unwrap().unwrap();
    assert_eq!(r["id"], "u1");
    assert!(db.express().find_one_json("User", &json!({"age": 6})).await.unwrap().is_none());
}
