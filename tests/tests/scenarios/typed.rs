//! Typed Express scenarios: `Note` in, `Stored<Note>` out.

use dataflow_core::{ConflictResolution, DataFlow, Query};
use serde_json::json;

use super::models::{Note, code, register_all};

pub async fn typed_crud(db: &DataFlow) {
    register_all(db).await;
    let mut ex = db.express();
    let a = ex.create(&Note { id: 0, title: "first".into(), body: Some("b".into()), stars: 3 }).await.unwrap();
    assert!(a.id > 0);
    assert!(a.created_at.is_some() && a.created_at == a.updated_at);
    assert_eq!(a.body.as_deref(), Some("b"));
    let got = ex.read::<Note>(a.id).await.unwrap().unwrap();
    assert_eq!(got.record, a.record);
    let mut changed = got.clone().into_inner();
    changed.stars = 4;
    changed.body = None;
    let up = ex.update(&changed).await.unwrap().unwrap();
    assert_eq!((up.stars, up.body.clone()), (4, None));
    assert!(up.updated_at >= a.updated_at);
    let missing = Note { id: 987_654, ..changed.clone() };
    assert!(ex.update(&missing).await.unwrap().is_none());
    assert!(ex.delete::<Note>(a.id).await.unwrap());
    assert!(ex.read::<Note>(a.id).await.unwrap().is_none());
    assert_eq!(code(ex.read::<Note>("x").await), 102);
}

pub async fn typed_list_count_find(db: &DataFlow) {
    register_all(db).await;
    let mut ex = db.express();
    ex.bulk_create(&(0..30).map(|i| Note::new(&format!("n{i:02}"), i % 4)).collect::<Vec<_>>()).await.unwrap();
    let l = ex
        .list::<Note>(&Query::new().filter(json!({"stars": {"$gte": 2}})).order_by(["-title"]).limit(3))
        .await
        .unwrap();
    let titles: Vec<&str> = l.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["n27", "n26", "n23"]);
    assert_eq!(ex.count::<Note>(&json!({"stars": 0})).await.unwrap(), 8);
    let f = ex.find_one::<Note>(&json!({"title": "n05"})).await.unwrap().unwrap();
    assert_eq!(f.stars, 1);
    let mut all = Vec::new();
    let mut q = Query::new().order_by(["stars"]).limit(7);
    loop {
        let p = ex.list_page::<Note>(&q).await.unwrap();
        all.extend(p.records.into_iter().map(|n| n.title.clone()));
        match p.next_cursor {
            Some(c) => q = Query::new().order_by(["stars"]).limit(7).after(c),
            None => break,
        }
    }
    assert_eq!(all.len(), 30);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 30, "keyset pages neither skip nor repeat");
}

pub async fn typed_bulk_ops(db: &DataFlow) {
    register_all(db).await;
    let mut ex = db.express();
    ex.bulk_create(&(0..10).map(|i| Note::new(&format!("b{i}"), i)).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(ex.bulk_update::<Note>(&json!({"stars": {"$lt": 5}}), &json!({"body": "low"}), false).await.unwrap(), 5);
    assert_eq!(code(ex.bulk_update::<Note>(&json!({}), &json!({"body": "x"}), false).await), 108);
    assert_eq!(ex.bulk_delete::<Note>(&json!({"stars": {"$gte": 8}}), false).await.unwrap(), 2);
    let up = vec![Note::new("b0", 100), Note::new("new", 1)];
    let c = ex.bulk_upsert(&up, &["title"], ConflictResolution::Update).await.unwrap();
    assert_eq!((c.inserted, c.updated, c.skipped), (1, 1, 0));
    assert_eq!(ex.find_one::<Note>(&json!({"title": "b0"})).await.unwrap().unwrap().stars, 100);
    assert_eq!(ex.count::<Note>(&json!({})).await.unwrap(), 9);
}

pub async fn typed_validation_before_sql(db: &DataFlow) {
    register_all(db).await;
    let mut ex = db.express();
    ex.create(&Note::new("dup", 1)).await.unwrap();
    let e = ex.create(&Note::new("dup", 1)).await.unwrap_err();
    assert_eq!(e.code().number(), 501);
    assert!(e.to_string().contains("title"), "{e}");
    assert_eq!(code(ex.count::<Note>(&json!({"stars": "many"})).await), 102);
}
