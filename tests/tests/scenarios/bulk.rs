//! BulkCreate, BulkUpdate, BulkDelete, BulkUpsert and streaming scenarios.

use dataflow_core::{DataFlow, Query};
use futures::StreamExt;
use serde_json::{Value as J, json};

use super::models::{Note, code, register_all, u};

fn items(n: usize, prefix: &str) -> J {
    J::Array(
        (0..n).map(|i| json!({"sku": format!("{prefix}{i}"), "qty": i % 7, "label": format!("label {i}")})).collect(),
    )
}

pub async fn bulk_create_with_generated_ids(db: &DataFlow) {
    register_all(db).await;
    let r = db
        .express()
        .run("Item", dataflow::Operation::BulkCreate, &json!({"data": items(5, "s"), "return_ids": true}))
        .await
        .unwrap();
    assert_eq!(r["processed"], 5);
    assert_eq!(r["inserted"], 5);
    assert_eq!(r["operation"], "bulk_create");
    assert_eq!(r["success"], true);
    let ids: Vec<i64> = r["ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 5);
    for (i, id) in ids.iter().enumerate() {
        let rec = db.express().read_json("Item", &json!(id)).await.unwrap().unwrap();
        assert_eq!(rec["sku"], format!("s{i}"));
    }
}

pub async fn bulk_create_beyond_one_chunk(db: &DataFlow) {
    register_all(db).await;
    // 9,000 rows × (7 fields + 2 timestamps) = 81,000 bound values: above every backend's limit.
    let r = db.express().bulk_create_json("Item", &items(9_000, "big")).await.unwrap();
    assert_eq!(r["inserted"], 9_000);
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 9_000);
    assert_eq!(
        db.express().count_json("Item", &json!({"qty": 3})).await.unwrap(),
        (0..9_000).filter(|i| i % 7 == 3).count() as u64
    );
    let r = db
        .express()
        .run("Item", dataflow::Operation::BulkCreate, &json!({"data": items(300, "small"), "batch_size": 7}))
        .await
        .unwrap();
    assert_eq!((r["inserted"].clone(), r["batch_size"].clone()), (json!(300), json!(7)));
}

pub async fn bulk_create_failure_leaves_zero_rows(db: &DataFlow) {
    register_all(db).await;
    let mut data = items(3_000, "f");
    data[2_500]["sku"] = json!("f7"); // duplicate of row 7: fails inside the database, late chunk
    let e = db.express().bulk_create_json("Item", &data).await.unwrap_err();
    assert_eq!(e.code().number(), 501, "{e}");
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
    let mut data = items(10, "g");
    data[6]["qty"] = json!("many"); // fails validation before any SQL
    let e = db.express().bulk_create_json("Item", &data).await.unwrap_err();
    assert_eq!(e.code().number(), 102);
    assert!(e.to_string().contains("record 6"), "{e}");
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
}

pub async fn bulk_create_differing_field_sets(db: &DataFlow) {
    register_all(db).await;
    let data = json!([
        {"sku": "a"},
        {"sku": "b", "qty": 5, "price": "1.25"},
        {"sku": "c", "label": "only label", "day": "2024-01-02"},
        {"id": 500, "sku": "d", "qty": 9}
    ]);
    assert_eq!(db.express().bulk_create_json("Item", &data).await.unwrap()["inserted"], 4);
    let l = db.express().list_json("Item", &json!({"order_by": ["sku"]})).await.unwrap();
    let recs = l["records"].as_array().unwrap();
    assert_eq!((recs[0]["qty"].clone(), recs[0]["label"].clone()), (json!(0), J::Null));
    assert_eq!(recs[1]["qty"], 5);
    assert_eq!(
        recs[1]["price"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap(),
        rust_decimal::Decimal::new(125, 2)
    );
    assert_eq!((recs[2]["label"].clone(), recs[2]["day"].clone()), (json!("only label"), json!("2024-01-02")));
    assert_eq!((recs[3]["id"].clone(), recs[3]["qty"].clone()), (json!(500), json!(9)));
}

pub async fn bulk_update_by_filter(db: &DataFlow) {
    register_all(db).await;
    db.express().bulk_create_json("Item", &items(20, "u")).await.unwrap();
    let r = db
        .express()
        .bulk_update_json("Item", &json!({"filter": {"qty": {"$lt": 3}}, "fields": {"label": "low"}}))
        .await
        .unwrap();
    let low = (0..20).filter(|i| i % 7 < 3).count();
    assert_eq!(r, json!({"processed": low, "updated": low, "operation": "bulk_update", "success": true}));
    assert_eq!(db.express().count_json("Item", &json!({"label": "low"})).await.unwrap(), low as u64);
    let e = db.express().bulk_update_json("Item", &json!({"filter": {}, "fields": {"label": "all"}})).await;
    assert_eq!(code(e), 108);
    let e = db.express().bulk_update_json("Item", &json!({"filter": {"$and": [{}]}, "fields": {"label": "all"}})).await;
    assert_eq!(code(e), 108);
    assert_eq!(db.express().count_json("Item", &json!({"label": "all"})).await.unwrap(), 0);
    let r = db
        .express()
        .bulk_update_json("Item", &json!({"filter": {}, "fields": {"label": "all"}, "confirmed": true}))
        .await
        .unwrap();
    assert_eq!(r["updated"], 20);
}

pub async fn bulk_update_by_records(db: &DataFlow) {
    register_all(db).await;
    let r = db
        .express()
        .run("Item", dataflow::Operation::BulkCreate, &json!({"data": items(3, "r"), "return_ids": true}))
        .await
        .unwrap();
    let ids = r["ids"].as_array().unwrap().clone();
    let data = json!([{"id": ids[0], "qty": 100}, {"id": ids[2], "label": "third"}, {"id": 999_999, "qty": 1}]);
    let r = db.express().bulk_update_json("Item", &json!({"data": data})).await.unwrap();
    assert_eq!((r["processed"].clone(), r["updated"].clone()), (json!(3), json!(2)));
    assert_eq!(db.express().read_json("Item", &ids[0]).await.unwrap().unwrap()["qty"], 100);
    assert_eq!(db.express().read_json("Item", &ids[2]).await.unwrap().unwrap()["label"], "third");
}

pub async fn bulk_delete_variants(db: &DataFlow) {
    register_all(db).await;
    let r = db
        .express()
        .run("Item", dataflow::Operation::BulkCreate, &json!({"data": items(10, "d"), "return_ids": true}))
        .await
        .unwrap();
    let ids = r["ids"].as_array().unwrap().clone();
    assert_eq!(code(db.express().bulk_delete_json("Item", &json!({"filter": {}})).await), 108);
    let r = db.express().bulk_delete_json("Item", &json!({"ids": [ids[0], ids[1], 123_456]})).await.unwrap();
    assert_eq!(r, json!({"processed": 3, "deleted": 2, "operation": "bulk_delete", "success": true}));
    let r = db.express().bulk_delete_json("Item", &json!({"filter": {"qty": {"$gte": 5}}})).await.unwrap();
    assert_eq!(r["deleted"], 2); // qty = i % 7 >= 5 only for i = 5, 6
    let left = db.express().count_json("Item", &json!({})).await.unwrap();
    assert_eq!(left, 10 - 2 - r["deleted"].as_u64().unwrap());
    let r = db.express().bulk_delete_json("Item", &json!({"filter": {}, "confirmed": true})).await.unwrap();
    assert_eq!(r["deleted"].as_u64().unwrap(), left);
}

pub async fn bulk_delete_soft(db: &DataFlow) {
    register_all(db).await;
    for i in 0..4 {
        db.express().create_json("User", &u(&format!("s{i}"), "S", Some(i))).await.unwrap();
    }
    let r = db.express().bulk_delete_json("User", &json!({"filter": {"age": {"$lt": 2}}})).await.unwrap();
    assert_eq!(r["deleted"], 2);
    assert_eq!(db.express().count_json("User", &json!({})).await.unwrap(), 2);
    let c = db.express().run("User", dataflow::Operation::Count, &json!({"include_deleted": true})).await.unwrap();
    assert_eq!(c["count"], 4);
    let r = db.express().bulk_delete_json("User", &json!({"filter": {"age": {"$lt": 2}}})).await.unwrap();
    assert_eq!(r["deleted"], 0, "already deleted rows are not deleted again");
}

pub async fn bulk_upsert_counts(db: &DataFlow) {
    register_all(db).await;
    db.express()
        .bulk_create_json("Item", &json!([{"id": 1, "sku": "a", "qty": 1}, {"id": 2, "sku": "b", "qty": 2}]))
        .await
        .unwrap();
    let data = json!([{"id": 1, "sku": "a", "qty": 10}, {"id": 2, "sku": "b", "qty": 20}, {"id": 3, "sku": "c"}, {"id": 4, "sku": "d"}, {"id": 5, "sku": "e"}]);
    let r = db.express().bulk_upsert_json("Item", &json!({"data": data})).await.unwrap();
    assert_eq!(
        r,
        json!({"processed": 5, "inserted": 3, "updated": 2, "skipped": 0, "total": 5, "operation": "bulk_upsert", "success": true})
    );
    assert_eq!(db.express().read_json("Item", &json!(2)).await.unwrap().unwrap()["qty"], 20);
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 5);
}

pub async fn bulk_upsert_skip_and_update_fields(db: &DataFlow) {
    register_all(db).await;
    db.express().bulk_create_json("Item", &json!([{"sku": "a", "qty": 1, "label": "old"}])).await.unwrap();
    let r = db.express().bulk_upsert_json("Item", &json!({"data": [{"sku": "a", "qty": 9}, {"sku": "n", "qty": 2}], "conflict_on": ["sku"], "conflict_resolution": "skip"})).await.unwrap();
    assert_eq!((r["inserted"].clone(), r["skipped"].clone(), r["updated"].clone()), (json!(1), json!(1), json!(0)));
    assert_eq!(db.express().find_one_json("Item", &json!({"sku": "a"})).await.unwrap().unwrap()["qty"], 1);
    let r = db.express().bulk_upsert_json("Item", &json!({"data": [{"sku": "a", "qty": 7, "label": "new"}], "conflict_on": ["sku"], "update_fields": ["label"]})).await.unwrap();
    assert_eq!(r["updated"], 1);
    let a = db.express().find_one_json("Item", &json!({"sku": "a"})).await.unwrap().unwrap();
    assert_eq!((a["qty"].clone(), a["label"].clone()), (json!(1), json!("new")));
}

pub async fn bulk_upsert_duplicates_last_wins(db: &DataFlow) {
    register_all(db).await;
    let data = json!([{"sku": "k", "qty": 1}, {"sku": "k", "qty": 2}, {"sku": "k", "qty": 3}]);
    let r = db.express().bulk_upsert_json("Item", &json!({"data": data, "conflict_on": ["sku"]})).await.unwrap();
    assert_eq!((r["processed"].clone(), r["inserted"].clone()), (json!(3), json!(1)));
    assert_eq!(db.express().find_one_json("Item", &json!({"sku": "k"})).await.unwrap().unwrap()["qty"], 3);
}

pub async fn bulk_upsert_non_unique_target(db: &DataFlow) {
    register_all(db).await;
    let e = db
        .express()
        .bulk_upsert_json("Item", &json!({"data": [{"sku": "a"}], "conflict_on": ["qty"]}))
        .await
        .unwrap_err();
    assert_eq!(e.code().number(), 607);
    assert!(e.to_string().contains("qty"), "{e}");
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
}

pub async fn bulk_create_from_iterator(db: &DataFlow) {
    register_all(db).await;
    let n = db.express().bulk_create_iter((0..12_000).map(|i| Note::new(&format!("t{i}"), i % 5))).await.unwrap();
    assert_eq!(n, 12_000);
    assert_eq!(db.express().count::<Note>(&json!({"stars": 4})).await.unwrap(), 2_400);
    // A failure late in the iterator rolls back the chunks already written.
    let bad =
        (0..7_000).map(|i| Note::new(if i == 6_500 { "t1" } else { "fresh" }, 1)).enumerate().map(|(i, mut n)| {
            if n.title == "fresh" {
                n.title = format!("fresh{i}");
            }
            n
        });
    assert_eq!(code(db.express().bulk_create_iter(bad).await), 501);
    assert_eq!(db.express().count::<Note>(&json!({})).await.unwrap(), 12_000);
    let json_rows = (0..50).map(|i| json!({"sku": format!("it{i}")}));
    assert_eq!(db.express().bulk_create_json_iter("Item", json_rows).await.unwrap(), 50);
}

pub async fn list_streams(db: &DataFlow) {
    register_all(db).await;
    db.express().bulk_create_iter((0..3_000).map(|i| Note::new(&format!("n{i:05}"), i % 3))).await.unwrap();
    let ex = db.express();
    let mut s = std::pin::pin!(ex.list_stream::<Note>(&Query::new().filter(json!({"stars": 2})).order_by(["title"])));
    let mut n = 0;
    let mut last = String::new();
    while let Some(r) = s.next().await {
        let note = r.unwrap();
        assert!(note.title > last);
        last = note.title.clone();
        n += 1;
    }
    assert_eq!(n, 1_000);
    let ex = db.express();
    let total = ex.list_stream_json("Item", &json!({})).count().await;
    assert_eq!(total, 0);
    let rows: Vec<_> = ex.list_stream_json("Note", &json!({"filter": {"stars": 0}, "limit": 5})).collect().await;
    assert_eq!(rows.len(), 5);
    assert!(rows[0].as_ref().unwrap()["created_at"].is_string());
}
