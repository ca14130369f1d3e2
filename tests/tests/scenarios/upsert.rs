//! Upsert scenarios.

use dataflow_core::DataFlow;
use serde_json::json;

use super::models::{Note, code, register_all};

pub async fn upsert_created_then_updated(db: &DataFlow) {
    register_all(db).await;
    let p = json!({"where": {"email": "a@x"}, "create": {"id": "u1", "name": "Ann"}, "update": {"name": "Ann 2"}});
    let r = db.express().upsert_json("User", &p).await.unwrap();
    assert_eq!((r["created"].clone(), r["action"].clone()), (json!(true), json!("created")));
    assert_eq!(r["record"]["name"], "Ann");
    let r2 = db.express().upsert_json("User", &p).await.unwrap();
    assert_eq!((r2["created"].clone(), r2["action"].clone()), (json!(false), json!("updated")));
    assert_eq!(r2["record"]["name"], "Ann 2");
    assert_eq!(r2["record"]["id"], "u1");
    assert_eq!(r2["record"]["created_at"], r["record"]["created_at"]);
    assert_eq!(db.express().count_json("User", &json!({})).await.unwrap(), 1);
}

pub async fn upsert_without_update_uses_create(db: &DataFlow) {
    register_all(db).await;
    let p = |q: i32| json!({"where": {"sku": "s"}, "create": {"qty": q, "label": "x"}});
    assert_eq!(db.express().upsert_json("Item", &p(1)).await.unwrap()["created"], true);
    let r = db.express().upsert_json("Item", &p(2)).await.unwrap();
    assert_eq!((r["created"].clone(), r["record"]["qty"].clone()), (json!(false), json!(2)));
}

pub async fn upsert_non_unique_target_writes_nothing(db: &DataFlow) {
    register_all(db).await;
    let e = db
        .express()
        .upsert_json("User", &json!({"where": {"name": "Ann"}, "create": {"id": "u1", "email": "a@x"}}))
        .await
        .unwrap_err();
    assert_eq!(e.code().number(), 607);
    assert!(e.to_string().contains("name"), "{e}");
    let e = db
        .express()
        .upsert_json("Item", &json!({"where": {"sku": "a"}, "create": {}, "conflict_on": ["sku", "qty"]}))
        .await;
    assert_eq!(code(e), 607);
    assert_eq!(db.express().count_json("User", &json!({})).await.unwrap(), 0);
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
    assert_eq!(code(db.express().upsert_json("Item", &json!({"create": {"sku": "a"}})).await), 107);
}

pub async fn upsert_composite_unique_key(db: &DataFlow) {
    register_all(db).await;
    let p = |label: &str| json!({"where": {"org": "o1", "slug": "hello"}, "create": {"sku": "s1", "label": label}, "update": {"label": label}});
    assert_eq!(db.express().upsert_json("Item", &p("one")).await.unwrap()["created"], true);
    let r = db.express().upsert_json("Item", &p("two")).await.unwrap();
    assert_eq!((r["created"].clone(), r["record"]["label"].clone()), (json!(false), json!("two")));
    let other = json!({"where": {"org": "o2", "slug": "hello"}, "create": {"sku": "s2"}});
    assert_eq!(db.express().upsert_json("Item", &other).await.unwrap()["created"], true);
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 2);
}

pub async fn upsert_typed(db: &DataFlow) {
    register_all(db).await;
    let (created, a) = db.express().upsert(&Note::new("t", 1), &["title"]).await.unwrap();
    assert!(created);
    let (created, b) = db.express().upsert(&Note::new("t", 5), &["title"]).await.unwrap();
    assert!(!created);
    assert_eq!((b.id, b.stars), (a.id, 5));
    assert_eq!(code(db.express().upsert(&Note::new("t", 5), &["stars"]).await), 607);
}
