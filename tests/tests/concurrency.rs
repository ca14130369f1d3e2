//! Concurrency primitives on the three backends: atomic update operators, row locks on reads,
//! isolation levels with retry, real serialization failures and deadlocks, update by key in one
//! statement.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use dataflow::{Changes, Dialect, ErrorCode, Isolation, ModelSchema, RetryPolicy, TxOptions};
use dataflow_core::DataFlow;
use dataflow_tests::TestDb;
use futures::FutureExt;
use serde_json::{Value as J, json};
use tokio::sync::Barrier;

#[dataflow::model]
#[derive(Debug, Clone)]
struct Counter {
    pub id: String,
    pub n: i64,
    pub small: i32,
    pub score: Option<f64>,
    pub tags: Vec<String>,
    pub note: Option<String>,
}

fn doc() -> ModelSchema {
    ModelSchema::from_json(&json!({
        "name": "Doc",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "title", "type": "string"},
            {"name": "views", "type": "i64", "default": 0},
            {"name": "small", "type": "i32", "default": 0},
            {"name": "rating", "type": "f64", "nullable": true},
            {"name": "price", "type": "decimal", "nullable": true},
            {"name": "seen", "type": "date_time", "nullable": true},
            {"name": "note", "type": "string", "nullable": true},
            {"name": "flag", "type": "bool", "default": false},
            {"name": "tags", "type": {"array": "string"}, "nullable": true},
            {"name": "nums", "type": {"array": "i64"}, "default": []},
            {"name": "bits", "type": {"array": "bool"}, "default": []},
            {"name": "slug", "type": "string", "unique": true, "nullable": true}
        ]
    }))
    .unwrap()
}

async fn connect(t: &TestDb) -> DataFlow {
    let db = DataFlow::builder(t.url()).max_connections(16).connect().await.expect("connect");
    db.register_schema(doc()).await.unwrap();
    db.register::<Counter>().await.unwrap();
    db
}

fn code(e: &dataflow::Error) -> u16 {
    e.code().number()
}

async fn doc_views(db: &DataFlow, id: &str) -> i64 {
    db.express().read_json("Doc", &json!(id)).await.unwrap().unwrap()["views"].as_i64().unwrap()
}

async fn every_operator_on_every_type(t: &TestDb) {
    let db = connect(t).await;
    db.express()
        .create_json(
            "Doc",
            &json!({"id": "d1", "title": "A", "views": 5, "small": 7, "rating": 2.5, "price": "10.25", "note": "n", "tags": ["a", "b", "a", "c"], "nums": [1, 2, 3, 2], "bits": [true, false, true], "slug": "s1"}),
        )
        .await
        .unwrap();
    let before = db.express().read_json("Doc", &json!("d1")).await.unwrap().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = db
        .express()
        .update_json(
            "Doc",
            &json!({"id": "d1"}),
            &json!({
                "title": "B",
                "$inc": {"views": -2, "rating": 0.5},
                "$mul": {"small": 3},
                "$unset": {"note": ""},
                "$max": {"seen": "2024-05-01T00:00:00Z"},
                "$push": {"tags": {"$each": ["d", "e"]}, "bits": false},
                "$pull": {"nums": 2}
            }),
        )
        .await
        .unwrap()
        .expect("updated");
    assert_eq!(r["title"], "B");
    assert_eq!(r["views"], 3);
    assert_eq!(r["small"], 21);
    assert_eq!(r["rating"], 3.0);
    assert_eq!(r["note"], J::Null);
    assert_eq!(r["seen"], "2024-05-01T00:00:00Z");
    assert_eq!(r["tags"], json!(["a", "b", "a", "c", "d", "e"]));
    assert_eq!(r["bits"], json!([true, false, true, false]));
    assert_eq!(r["nums"], json!([1, 3]));
    assert!(r["updated_at"].as_str().unwrap() > before["updated_at"].as_str().unwrap(), "updated_at is managed");
    assert_eq!(r["created_at"], before["created_at"]);
    // The returned record is what is stored.
    let again = db.express().read_json("Doc", &json!("d1")).await.unwrap().unwrap();
    assert_eq!(again, r);

    // $min/$max keep the smaller/larger; NULL takes the operand.
    let r = db
        .express()
        .update_json(
            "Doc",
            &json!({"slug": "s1"}),
            &json!({"$min": {"seen": "2025-01-01T00:00:00Z", "views": 1, "rating": 10.0}, "$pull": {"tags": {"$in": ["a", "zz"]}, "bits": true}}),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r["seen"], "2024-05-01T00:00:00Z");
    assert_eq!(r["views"], 1);
    assert_eq!(r["rating"], 3.0);
    assert_eq!(r["tags"], json!(["b", "c", "d", "e"]));
    assert_eq!(r["bits"], json!([false, false]));
    // Decimal arithmetic: exact on PostgreSQL/MySQL, refused on SQLite (text storage).
    let dec = db.express().update_json("Doc", &json!({"id": "d1"}), &json!({"$inc": {"price": "0.10"}})).await;
    if db.dialect() == Dialect::Sqlite {
        assert_eq!(code(&dec.unwrap_err()), 402);
    } else {
        let p: rust_decimal::Decimal = dec.unwrap().unwrap()["price"].as_str().unwrap().parse().unwrap();
        assert_eq!(p, "10.35".parse::<rust_decimal::Decimal>().unwrap());
    }
    // A NULL array stays NULL under $pull; $push starts it.
    db.express().create_json("Doc", &json!({"id": "d2", "title": "x"})).await.unwrap();
    let r =
        db.express().update_json("Doc", &json!({"id": "d2"}), &json!({"$pull": {"tags": "a"}})).await.unwrap().unwrap();
    assert_eq!(r["tags"], J::Null);
    let r = db
        .express()
        .update_json("Doc", &json!({"id": "d2"}), &json!({"$push": {"tags": "q"}, "$max": {"rating": 1.5}}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r["tags"], json!(["q"]));
    assert_eq!(r["rating"], 1.5);

    // BulkUpdate: one statement over every matching row.
    db.express().create_json("Doc", &json!({"id": "d3", "title": "x", "views": 10})).await.unwrap();
    let r = db
        .express()
        .bulk_update_json(
            "Doc",
            &json!({"filter": {"title": "x"}, "fields": {"$inc": {"views": 5}, "$push": {"nums": 9}}}),
        )
        .await
        .unwrap();
    assert_eq!(r["updated"], 2);
    assert_eq!(doc_views(&db, "d2").await, 5);
    assert_eq!(doc_views(&db, "d3").await, 15);
    assert_eq!(db.express().read_json("Doc", &json!("d3")).await.unwrap().unwrap()["nums"], json!([9]));

    // Overflow fails the statement and writes nothing, on every backend.
    db.express().update_json("Doc", &json!({"id": "d3"}), &json!({"small": 2147483000})).await.unwrap();
    let e = db.express().update_json("Doc", &json!({"id": "d3"}), &json!({"$inc": {"small": 1000}})).await.unwrap_err();
    assert!(e.code().number() >= 500, "{e}");
    assert_eq!(db.express().read_json("Doc", &json!("d3")).await.unwrap().unwrap()["small"], 2147483000);
    db.express().update_json("Doc", &json!({"id": "d3"}), &json!({"views": i64::MAX})).await.unwrap();
    let e = db.express().update_json("Doc", &json!({"id": "d3"}), &json!({"$inc": {"views": 1}})).await.unwrap_err();
    assert!(e.code().number() >= 500, "{e}");
    assert_eq!(doc_views(&db, "d3").await, i64::MAX);

    // Typed API: Changes builder and update(&record).
    db.express()
        .create(&Counter { id: "c1".into(), n: 1, small: 1, score: None, tags: vec![], note: Some("x".into()) })
        .await
        .unwrap();
    let c = db
        .express()
        .update_by_id::<Counter>("c1", Changes::new().inc("n", 41).max("score", 1.5).push("tags", "t").unset("note"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.n, c.score, c.tags.clone(), c.note.clone()), (42, Some(1.5), vec!["t".to_owned()], None));
    let mut rec = c.into_inner();
    rec.small = 9;
    let c = db.express().update(&rec).await.unwrap().unwrap();
    assert_eq!((c.n, c.small), (42, 9));
    assert!(db.express().update_by_id::<Counter>("nope", Changes::new().inc("n", 1)).await.unwrap().is_none());
    assert_eq!(
        db.express().bulk_update_changes::<Counter>(&json!({}), Changes::new().mul("n", 2), true).await.unwrap(),
        1
    );
    assert_eq!(db.express().read::<Counter>("c1").await.unwrap().unwrap().n, 84);

    if db.dialect() == Dialect::Postgres {
        native_arrays(&db).await;
    }
    db.close().await;
}

/// PostgreSQL native arrays (`native_arrays`): $push / $pull on `TEXT[]` / `BIGINT[]`.
async fn native_arrays(db: &DataFlow) {
    let mut s = ModelSchema::from_json(&json!({
        "name": "Native",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "tags", "type": {"array": "string"}, "nullable": true},
            {"name": "nums", "type": {"array": "i64"}}
        ]
    }))
    .unwrap();
    s.options.native_arrays = true;
    db.register_schema(s).await.unwrap();
    db.express().create_json("Native", &json!({"id": "n1", "tags": ["a", "b", "a"], "nums": [1, 2]})).await.unwrap();
    let r = db
        .express()
        .update_json(
            "Native",
            &json!({"id": "n1"}),
            &json!({"$pull": {"tags": "a"}, "$push": {"nums": {"$each": [3, 4]}}}),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r["tags"], json!(["b"]));
    assert_eq!(r["nums"], json!([1, 2, 3, 4]));
}

async fn invalid_operators_are_rejected_before_sql(t: &TestDb) {
    let db = connect(t).await;
    db.express().create_json("Doc", &json!({"id": "d1", "title": "A", "views": 1})).await.unwrap();
    let cases = [
        (json!({"$inc": {"title": 1}}), 104, "title"),
        (json!({"$inc": {"flag": 1}}), 104, "flag"),
        (json!({"$mul": {"seen": 2}}), 104, "seen"),
        (json!({"$min": {"title": "a"}}), 104, "title"),
        (json!({"$push": {"title": "a"}}), 104, "title"),
        (json!({"$pull": {"views": 1}}), 104, "views"),
        (json!({"$inc": {"views": "1"}}), 102, "views"),
        (json!({"$inc": {"small": 3_000_000_000i64}}), 102, "small"),
        (json!({"$inc": {"views": null}}), 102, "views"),
        (json!({"$max": {"seen": "yesterday"}}), 102, "seen"),
        (json!({"$push": {"tags": 5}}), 102, "tags"),
        (json!({"$push": {"nums": {"$each": [1, "x"]}}}), 102, "nums"),
        (json!({"$unset": {"title": ""}}), 102, "title"),
        (json!({"$inc": {"nope": 1}}), 103, "nope"),
        (json!({"$incr": {"views": 1}}), 104, "views"),
        (json!({"$set": {"id": "x"}}), 109, "id"),
        (json!({"views": 2, "$inc": {"views": 1}}), 109, "views"),
    ];
    for (fields, want, field) in cases {
        let e = db.express().update_json("Doc", &json!({"id": "d1"}), &fields).await.unwrap_err();
        assert_eq!(code(&e), want, "{fields}: {e}");
        assert!(e.to_string().contains(field), "{fields}: {e}");
        let e =
            db.express().bulk_update_json("Doc", &json!({"filter": {"id": "d1"}, "fields": fields})).await.unwrap_err();
        assert_eq!(code(&e), want, "bulk {fields}: {e}");
    }
    assert_eq!(doc_views(&db, "d1").await, 1, "nothing was written");
    // Update by a filter that could match several rows stays DF-107, with no SQL.
    let e = db.express().update_json("Doc", &json!({"title": "A"}), &json!({"$inc": {"views": 1}})).await.unwrap_err();
    assert_eq!(code(&e), 107);
    // Workflow validation uses the same rules, before anything runs.
    let mut b = dataflow::workflow::WorkflowBuilder::new(&db);
    b.add_node(
        "DocUpdateNode",
        "u",
        json!({"filter": {"id": "d1"}, "fields": {"$inc": {"title": 1}, "$push": {"nums": "x"}}}),
    );
    let errors = b.validate();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{text:?}");
    assert_eq!((code(&errors[0]), code(&errors[1])), (104, 102), "{text:?}");
    assert!(text[0].contains("title") && text[1].contains("nums"), "{text:?}");
    assert!(b.build().is_err());
    db.close().await;
}

async fn workflow_update_nodes_take_operators(t: &TestDb) {
    let db = connect(t).await;
    db.express().create_json("Doc", &json!({"id": "d1", "title": "A", "views": 1})).await.unwrap();
    let mut b = dataflow::workflow::WorkflowBuilder::new(&db);
    b.add_node(
        "DocUpdateNode",
        "bump",
        json!({"filter": {"id": "d1"}, "fields": {"$inc": {"views": 2}, "$push": {"nums": 7}}}),
    )
    .add_node("DocBulkUpdateNode", "all", json!({"filter": {"id": "${bump.id}"}, "fields": {"$mul": {"views": 10}}}))
    // A connection into an operator's operand.
    .add_node("DocUpdateNode", "again", json!({"filter": {"id": "d1"}, "fields": {}}))
    .add_connection("all", "updated", "again", "fields.$inc.views");
    let out = b.build().unwrap().execute(&db).await.unwrap();
    assert_eq!(out["bump"]["views"], 3);
    assert_eq!(out["bump"]["nums"], json!([7]));
    assert_eq!(out["all"]["updated"], 1);
    assert_eq!(out["again"]["views"], 31);
    assert_eq!(doc_views(&db, "d1").await, 31);
    db.close().await;
}

/// 16 tasks × 25 `$inc` on one row: no increment is lost.
async fn concurrent_inc_loses_nothing(t: &TestDb) {
    let db = connect(t).await;
    db.express().create_json("Doc", &json!({"id": "hot", "title": "h"})).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                db.express().update_json("Doc", &json!({"id": "hot"}), &json!({"$inc": {"views": 1}})).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(doc_views(&db, "hot").await, 400);
    db.close().await;
}

/// Read-then-write in transactions: with `read_for_update` no increment is lost.
async fn read_for_update_prevents_lost_updates(t: &TestDb) {
    let db = connect(t).await;
    db.express().create_json("Doc", &json!({"id": "hot", "title": "h"})).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                db.transaction(|tx| {
                    async move {
                        let d = tx.express().read_for_update_json("Doc", &json!("hot")).await?.unwrap();
                        let v = d["views"].as_i64().unwrap();
                        tokio::task::yield_now().await;
                        tx.express().update_json("Doc", &json!({"id": "hot"}), &json!({"views": v + 1})).await?;
                        Ok(())
                    }
                    .boxed()
                })
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(doc_views(&db, "hot").await, 80);
    // Typed read and list with row locks.
    db.express()
        .create(&Counter { id: "c".into(), n: 0, small: 0, score: None, tags: vec![], note: None })
        .await
        .unwrap();
    let n = db
        .transaction(|tx| {
            async move {
                let c = tx.express().read_for_update::<Counter>("c").await?.unwrap();
                let all =
                    tx.express().list::<Counter>(&dataflow::Query::new().filter(json!({"n": 0})).for_update()).await?;
                Ok(c.n + all.len() as i64)
            }
            .boxed()
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Outside a transaction: a clear error, no SQL.
    let e = db.express().read_for_update::<Counter>("c").await.unwrap_err();
    assert_eq!(code(&e), 109);
    assert!(e.to_string().contains("transaction"), "{e}");
    let e = db.express().list::<Counter>(&dataflow::Query::new().for_update()).await.unwrap_err();
    assert_eq!(code(&e), 109);
    db.close().await;
}

/// Serializable read-then-write under contention: with retry every increment lands.
async fn serializable_with_retry_is_exact(t: &TestDb) {
    let db = connect(t).await;
    db.express().create_json("Doc", &json!({"id": "hot", "title": "h"})).await.unwrap();
    let attempts = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        let attempts = attempts.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                let policy = RetryPolicy::default().max_attempts(100);
                db.transaction_with(TxOptions::new().isolation(Isolation::Serializable).retry(policy), |tx| {
                    let attempts = attempts.clone();
                    async move {
                        attempts.fetch_add(1, Ordering::Relaxed);
                        let d = tx.express().read_json("Doc", &json!("hot")).await?.unwrap();
                        let v = d["views"].as_i64().unwrap();
                        tokio::task::yield_now().await;
                        tx.express().update_json("Doc", &json!({"id": "hot"}), &json!({"views": v + 1})).await?;
                        Ok(())
                    }
                    .boxed()
                })
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(doc_views(&db, "hot").await, 40);
    assert!(attempts.load(Ordering::Relaxed) >= 40);
    db.close().await;
}

/// Two transactions read the same row, then both write it. PostgreSQL SERIALIZABLE aborts one
/// with 40001 (DF-505), MariaDB SERIALIZABLE ends in a deadlock (DF-506). Without retry the
/// classified error surfaces; with retry both commit and the count is exact. SQLite runs write
/// transactions one at a time (BEGIN IMMEDIATE), so both commit either way.
async fn conflicting_serializable_transactions(t: &TestDb) {
    let db = connect(t).await;
    let lite = db.dialect() == Dialect::Sqlite;
    for retry in [false, true] {
        let id = if retry { "r" } else { "n" };
        db.express().create_json("Doc", &json!({"id": id, "title": "h"})).await.unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (db, barrier) = (db.clone(), barrier.clone());
            let first = Arc::new(AtomicU32::new(0));
            tasks.push(tokio::spawn(async move {
                let policy = if retry { RetryPolicy::default() } else { RetryPolicy::none() };
                db.transaction_with(TxOptions::new().isolation(Isolation::Serializable).retry(policy), |tx| {
                    let (barrier, first) = (barrier.clone(), first.clone());
                    async move {
                        let v = tx.express().read_json("Doc", &json!(id)).await?.unwrap()["views"].as_i64().unwrap();
                        // Both have read before either writes (first attempt only; SQLite
                        // serializes whole transactions, so there is nothing to interleave).
                        if !lite && first.fetch_add(1, Ordering::SeqCst) == 0 {
                            barrier.wait().await;
                        }
                        tx.express().update_json("Doc", &json!({"id": id}), &json!({"views": v + 1})).await?;
                        Ok(())
                    }
                    .boxed()
                })
                .await
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let failed: Vec<u16> = results.iter().filter_map(|r| r.as_ref().err().map(code)).collect();
        if retry || lite {
            assert!(failed.is_empty(), "{results:?}");
            assert_eq!(doc_views(&db, id).await, 2);
        } else {
            assert_eq!(failed.len(), 1, "{results:?}");
            assert!(failed[0] == 505 || failed[0] == 506, "{results:?}");
            if db.dialect() == Dialect::Postgres {
                assert_eq!(failed[0], ErrorCode::SERIALIZATION_FAILURE.number());
            }
            assert_eq!(doc_views(&db, id).await, 1);
        }
    }
    db.close().await;
}

/// A real deadlock: T1 locks A then B, T2 locks B then A. The database kills one (40P01 /
/// MariaDB 1213 → DF-506); with retry both commit and every row is incremented twice.
async fn real_deadlock_is_df506_and_retried(t: &TestDb) {
    let db = connect(t).await;
    let lite = db.dialect() == Dialect::Sqlite;
    for retry in [false, true] {
        let (a, b) = if retry { ("ra", "rb") } else { ("na", "nb") };
        for id in [a, b] {
            db.express().create_json("Doc", &json!({"id": id, "title": "d"})).await.unwrap();
        }
        let barrier = Arc::new(Barrier::new(2));
        let mut tasks = Vec::new();
        for (x, y) in [(a, b), (b, a)] {
            let (db, barrier) = (db.clone(), barrier.clone());
            let first = Arc::new(AtomicU32::new(0));
            tasks.push(tokio::spawn(async move {
                let policy = if retry { RetryPolicy::default() } else { RetryPolicy::none() };
                db.transaction_with(policy, |tx| {
                    let (barrier, first) = (barrier.clone(), first.clone());
                    async move {
                        tx.express().update_json("Doc", &json!({"id": x}), &json!({"$inc": {"views": 1}})).await?;
                        if !lite && first.fetch_add(1, Ordering::SeqCst) == 0 {
                            barrier.wait().await;
                        }
                        tx.express().update_json("Doc", &json!({"id": y}), &json!({"$inc": {"views": 1}})).await?;
                        Ok(())
                    }
                    .boxed()
                })
                .await
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let failed: Vec<u16> = results.iter().filter_map(|r| r.as_ref().err().map(code)).collect();
        if retry || lite {
            assert!(failed.is_empty(), "{results:?}");
            assert_eq!((doc_views(&db, a).await, doc_views(&db, b).await), (2, 2));
        } else {
            assert_eq!(failed, vec![ErrorCode::DEADLOCK.number()], "{results:?}");
            assert_eq!((doc_views(&db, a).await, doc_views(&db, b).await), (1, 1));
        }
    }
    db.close().await;
}

/// Update by key is one statement: the record comes back from the UPDATE itself.
async fn update_by_key_returns_the_written_row(t: &TestDb) {
    let db = connect(t).await;
    db.express().create_json("Doc", &json!({"id": "d1", "title": "A", "slug": "s"})).await.unwrap();
    // By unique field, changing that very field: the returned row is the updated one.
    let r = db
        .express()
        .update_json("Doc", &json!({"slug": "s"}), &json!({"slug": "t", "title": "B"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r["id"].as_str(), r["slug"].as_str(), r["title"].as_str()), (Some("d1"), Some("t"), Some("B")));
    assert!(db.express().update_json("Doc", &json!({"slug": "s"}), &json!({"title": "C"})).await.unwrap().is_none());
    // By id with another condition that does not hold: nothing changes.
    assert!(
        db.express()
            .update_json("Doc", &json!({"id": "d1", "title": "zzz"}), &json!({"title": "C"}))
            .await
            .unwrap()
            .is_none()
    );
    let r = db
        .express()
        .update_json("Doc", &json!({"id": "d1", "title": "B"}), &json!({"title": "C"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r["title"], "C");
    db.close().await;
}

dataflow_tests::backend_tests!(
    every_operator_on_every_type,
    invalid_operators_are_rejected_before_sql,
    workflow_update_nodes_take_operators,
    concurrent_inc_loses_nothing,
    read_for_update_prevents_lost_updates,
    serializable_with_retry_is_exact,
    conflicting_serializable_transactions,
    real_deadlock_is_df506_and_retried,
    update_by_key_returns_the_written_row,
);
