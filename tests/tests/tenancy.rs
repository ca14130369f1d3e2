//! Multi-tenancy on SQLite, PostgreSQL and MariaDB (docs/guide/multi-tenancy.md): two tenants
//! holding the same ids and the same unique keys; for every operation and path, tenant `a`
//! can neither see, count nor change tenant `b`'s rows — `b`'s full snapshot is compared before
//! and after each step. Then the tenant rules (names, misuse, transactions, workflows), and a
//! property test of random operation sequences against an in-memory model.
//!
//! The audit trail follows the same rule (`AuditEntry` rows of tenant `a` are visible only to
//! `a`, rows without a tenant only to unscoped handles), and `db.all_tenants()` is the one,
//! read-only, way to see every tenant.

use std::collections::BTreeMap;

use dataflow::Model;
use dataflow_core::workflow::WorkflowBuilder;
use dataflow_core::{ConflictResolution, DataFlow, Query};
use dataflow_tests::TestDb;
use futures::{FutureExt, StreamExt};
use serde_json::json;

#[dataflow::model(multi_tenant, soft_delete)]
#[derive(Debug, Clone, PartialEq)]
struct TDoc {
    id: String,
    #[dataflow(unique)]
    slug: String,
    n: i64,
}

#[dataflow::model(multi_tenant)]
#[derive(Debug, Clone, PartialEq)]
struct TSeq {
    id: i64,
    #[dataflow(unique)]
    code: String,
    n: i64,
}

#[dataflow::model(multi_tenant)]
#[derive(Debug, Clone, PartialEq)]
struct TKv {
    id: String,
    n: i64,
}

#[dataflow::model]
#[derive(Debug, Clone, PartialEq)]
struct TPlain {
    id: String,
    n: i64,
}

#[dataflow::model(multi_tenant, audit)]
#[derive(Debug, Clone, PartialEq)]
struct TAud {
    id: String,
    secret: String,
}

#[dataflow::model(audit)]
#[derive(Debug, Clone, PartialEq)]
struct TAudPlain {
    id: String,
    secret: String,
}

fn doc(id: &str, slug: &str, n: i64) -> TDoc {
    TDoc { id: id.into(), slug: slug.into(), n }
}

fn code<T: std::fmt::Debug>(r: dataflow::Result<T>) -> u16 {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code().number(),
    }
}

async fn connect(t: &TestDb) -> DataFlow {
    let db = DataFlow::connect(t.url()).await.expect("connect");
    db.register::<TDoc>().await.unwrap();
    db.register::<TSeq>().await.unwrap();
    db.register::<TKv>().await.unwrap();
    db.register::<TPlain>().await.unwrap();
    db
}

/// Everything tenant `t` holds in `TDoc`, soft-deleted rows included, as (id, slug, n, deleted).
async fn snapshot(db: &DataFlow, t: &str) -> Vec<(String, String, i64, bool)> {
    let rows =
        db.tenant(t).list::<TDoc>(&Query::new().order_by(["id"]).include_deleted(true).limit(1000)).await.unwrap();
    rows.iter().map(|r| (r.id.clone(), r.slug.clone(), r.n, r.deleted_at.is_some())).collect()
}

/// Seeds both tenants with the same ids and slugs (`a`: n = i, `b`: n = 100 + i).
async fn seed(db: &DataFlow) {
    for (t, base) in [("a", 0), ("b", 100)] {
        let docs: Vec<TDoc> = (1..=5).map(|i| doc(&format!("d{i}"), &format!("s{i}"), base + i)).collect();
        assert_eq!(db.tenant(t).bulk_create(&docs).await.unwrap(), 5);
    }
}

async fn ids_are_per_tenant(t: &TestDb) {
    let db = connect(t).await;
    let a = db.tenant("a").create(&doc("x", "same", 1)).await.unwrap();
    let b = db.tenant("b").create(&doc("x", "same", 2)).await.unwrap();
    assert_eq!((a.n, b.n), (1, 2));
    assert_eq!(db.tenant("a").read::<TDoc>("x").await.unwrap().unwrap().n, 1);
    assert_eq!(db.tenant("b").read::<TDoc>("x").await.unwrap().unwrap().n, 2);
    // A duplicate inside one tenant is still a unique violation.
    assert_eq!(code(db.tenant("a").create(&doc("x", "other", 3)).await), 501);
    assert_eq!(code(db.tenant("a").create(&doc("y", "same", 3)).await), 501);
    // Upsert on `id` and on the unique key: per tenant, `b`'s row is never the conflict.
    let (created, r) = db.tenant("c").upsert(&doc("x", "same", 7), &["id"]).await.unwrap();
    assert!(created && r.n == 7);
    let (created, r) = db.tenant("d").upsert(&doc("x", "same", 8), &["slug"]).await.unwrap();
    assert!(created && r.n == 8);
    assert_eq!(snapshot(&db, "b").await, vec![("x".into(), "same".into(), 2, false)]);
    db.close().await;
}

async fn typed_paths_do_not_leak(t: &TestDb) {
    let db = connect(t).await;
    seed(&db).await;
    let b0 = snapshot(&db, "b").await;
    let mut a = db.tenant("a");
    // Reads, lists, counts, streams, keyset pages.
    assert_eq!(a.read::<TDoc>("d1").await.unwrap().unwrap().n, 1);
    assert_eq!(a.count::<TDoc>(&json!({})).await.unwrap(), 5);
    assert_eq!(a.count::<TDoc>(&json!({"n": {"$gte": 100}})).await.unwrap(), 0);
    assert_eq!(a.count::<TDoc>(&json!({"tenant_id": "b"})).await.unwrap(), 0, "a filter naming tenant_id is ANDed");
    let all = a.list::<TDoc>(&Query::new().limit(100)).await.unwrap();
    assert!(all.len() == 5 && all.iter().all(|d| d.n < 100 && d.tenant_id.as_deref() == Some("a")));
    let streamed: Vec<_> = a.list_stream::<TDoc>(&Query::new()).collect().await;
    assert_eq!(streamed.len(), 5);
    assert!(streamed.iter().all(|r| r.as_ref().is_ok_and(|d| d.n < 100 && d.tenant_id.as_deref() == Some("a"))));
    // A scoped read takes `tenant_id` from its scope rather than decoding the column: every
    // other column must come back exactly as the all-tenants handle (which decodes it) reads it.
    let mine = a.read::<TDoc>("d1").await.unwrap().unwrap();
    let listed = db.all_tenants().list::<TDoc>(&Query::new().limit(100)).await.unwrap();
    assert_eq!(listed.iter().find(|d| d.id == "d1" && d.tenant_id.as_deref() == Some("a")), Some(&mine));
    assert!(all.iter().all(|d| listed.contains(d)), "scoped list rows equal the all-tenants rows");
    let found = a.find_one::<TDoc>(&json!({"id": "d1"})).await.unwrap().unwrap();
    assert_eq!(found, mine);
    let mut q = Query::new().order_by(["n"]).limit(2);
    let mut paged = Vec::new();
    loop {
        let p = a.list_page::<TDoc>(&q).await.unwrap();
        paged.extend(p.records.iter().map(|r| r.n));
        match p.next_cursor {
            Some(c) => q = Query::new().order_by(["n"]).limit(2).after(c),
            None => break,
        }
    }
    assert_eq!(paged, [1, 2, 3, 4, 5]);
    // Writes by id: update, soft delete, restore, hard delete, upsert (both paths).
    let up = a.update(&doc("d1", "s1", 11)).await.unwrap().unwrap();
    assert_eq!(up.n, 11);
    // The updated row comes back without `tenant_id` (RETURNING or read-back without the column):
    // it must equal what the all-tenants handle, which decodes the column, reads afterwards.
    let after = db.all_tenants().list::<TDoc>(&Query::new().limit(100)).await.unwrap();
    assert_eq!(after.iter().find(|d| d.id == "d1" && d.tenant_id.as_deref() == Some("a")), Some(&up));
    assert!(a.update(&doc("nope", "zz", 1)).await.unwrap().is_none());
    assert!(a.delete::<TDoc>("d2").await.unwrap());
    assert!(a.read::<TDoc>("d2").await.unwrap().is_none());
    assert_eq!(snapshot(&db, "b").await, b0, "b untouched by update/delete");
    assert!(a.restore::<TDoc>("d2").await.unwrap());
    assert!(a.read::<TDoc>("d2").await.unwrap().is_some());
    let (created, r) = a.upsert(&doc("d3", "s3", 33), &["id"]).await.unwrap();
    assert!(!created && r.n == 33);
    let (created, r) = a.upsert(&doc("d9", "s4", 44), &["slug"]).await.unwrap();
    assert!(!created && r.n == 44 && r.id == "d4");
    // Bulk operations.
    let dup = a.bulk_update::<TDoc>(&json!({"n": {"$lt": 1000}}), &json!({"slug": "z"}), true).await;
    assert_eq!(code(dup), 501, "duplicate slugs within a");
    assert_eq!(a.bulk_update::<TDoc>(&json!({"id": {"$in": ["d1", "d5"]}}), &json!({"n": 7}), false).await.unwrap(), 2);
    let counts = a
        .bulk_upsert(&[doc("d5", "s5", 55), doc("b-only", "s6", 66)], &["id"], ConflictResolution::Update)
        .await
        .unwrap();
    assert_eq!((counts.inserted, counts.updated, counts.skipped), (1, 1, 0));
    assert_eq!(a.bulk_delete::<TDoc>(&json!({"id": "b-only"}), false).await.unwrap(), 1);
    assert!(a.hard_delete::<TDoc>("d3").await.unwrap());
    assert_eq!(a.count::<TDoc>(&json!({})).await.unwrap(), 4);
    assert_eq!(snapshot(&db, "b").await, b0, "b untouched by every write of a");
    // A full-table bulk change of a touches only a.
    assert_eq!(a.bulk_update::<TDoc>(&json!({}), &json!({"n": 0}), true).await.unwrap(), 4);
    assert_eq!(a.bulk_delete::<TDoc>(&json!({}), true).await.unwrap(), 4);
    assert_eq!(snapshot(&db, "b").await, b0);
    db.close().await;
}

/// Tenant `t`'s `TKv` rows as (id, n).
async fn kv_rows(db: &DataFlow, t: &str) -> Vec<(String, i64)> {
    let rows = db.tenant(t).list::<TKv>(&Query::new().order_by(["id"]).limit(100)).await.unwrap();
    rows.iter().map(|r| (r.id.clone(), r.n)).collect()
}

/// The by-id statements (read, `update(&record)`, delete, hard delete) are cached per model with
/// the tenant as a bound value. Once tenant `a` has rendered them, the same texts run for `b`
/// (which holds the same ids) and for `c` (which holds none) read and change only that tenant's
/// row with that id.
async fn cached_by_id_statements_stay_in_their_tenant(t: &TestDb) {
    let db = connect(t).await;
    seed(&db).await;
    for (tn, n) in [("a", 1), ("b", 2)] {
        db.tenant(tn).create(&TKv { id: "k".into(), n }).await.unwrap();
        db.tenant(tn).create(&TKv { id: "k2".into(), n: 10 * n }).await.unwrap();
    }
    let (mut a, mut b, mut c) = (db.tenant("a"), db.tenant("b"), db.tenant("c"));
    // Reads: `a` renders the cached texts, `b` and `c` reuse them.
    assert_eq!(a.read::<TKv>("k").await.unwrap().unwrap().n, 1);
    assert_eq!(a.read::<TDoc>("d1").await.unwrap().unwrap().n, 1);
    assert_eq!(a.read_opt::<TDoc>("d1", true).await.unwrap().unwrap().n, 1);
    let bk = b.read::<TKv>("k").await.unwrap().unwrap();
    assert_eq!((bk.n, bk.tenant_id.as_deref()), (2, Some("b")));
    assert_eq!(b.read::<TDoc>("d1").await.unwrap().unwrap().n, 101);
    assert_eq!(b.read_opt::<TDoc>("d1", true).await.unwrap().unwrap().n, 101);
    assert!(c.read::<TKv>("k").await.unwrap().is_none());
    assert!(c.read::<TDoc>("d1").await.unwrap().is_none());
    assert!(c.read_opt::<TDoc>("d1", true).await.unwrap().is_none());
    // Update of every field by id.
    assert_eq!(a.update(&TKv { id: "k".into(), n: 11 }).await.unwrap().unwrap().n, 11);
    assert!(c.update(&TKv { id: "k".into(), n: 99 }).await.unwrap().is_none());
    assert_eq!(b.update(&TKv { id: "k".into(), n: 22 }).await.unwrap().unwrap().n, 22);
    assert_eq!(kv_rows(&db, "a").await, [("k".into(), 11), ("k2".into(), 10)]);
    assert_eq!(kv_rows(&db, "b").await, [("k".into(), 22), ("k2".into(), 20)]);
    assert!(kv_rows(&db, "c").await.is_empty());
    let b0 = snapshot(&db, "b").await;
    assert_eq!(a.update(&doc("d1", "s1", 12)).await.unwrap().unwrap().n, 12);
    assert!(c.update(&doc("d1", "s1", 99)).await.unwrap().is_none());
    assert_eq!(snapshot(&db, "b").await, b0, "b untouched by a's and c's updates");
    // Delete (no soft delete: the cached DELETE) and hard delete.
    assert!(!c.delete::<TKv>("k").await.unwrap());
    assert!(a.delete::<TKv>("k").await.unwrap());
    assert!(!a.delete::<TKv>("k").await.unwrap(), "already gone in a");
    assert!(a.read::<TKv>("k").await.unwrap().is_none());
    assert_eq!(kv_rows(&db, "b").await, [("k".into(), 22), ("k2".into(), 20)]);
    assert!(b.hard_delete::<TKv>("k2").await.unwrap());
    assert_eq!(kv_rows(&db, "a").await, [("k2".into(), 10)]);
    assert_eq!(kv_rows(&db, "b").await, [("k".into(), 22)]);
    assert!(!c.hard_delete::<TDoc>("d2").await.unwrap());
    assert!(a.hard_delete::<TDoc>("d2").await.unwrap());
    assert!(a.read_opt::<TDoc>("d2", true).await.unwrap().is_none());
    assert_eq!(snapshot(&db, "b").await, b0, "b untouched by a's and c's deletes");
    // Integer ids are table-wide: another tenant cannot reach a's row by its id.
    let s = a.create(&TSeq { id: 0, code: "x".into(), n: 1 }).await.unwrap();
    assert!(b.read::<TSeq>(s.id).await.unwrap().is_none());
    assert!(b.update(&TSeq { id: s.id, code: "y".into(), n: 9 }).await.unwrap().is_none());
    assert!(!b.delete::<TSeq>(s.id).await.unwrap());
    assert!(!b.hard_delete::<TSeq>(s.id).await.unwrap());
    let kept = a.read::<TSeq>(s.id).await.unwrap().unwrap();
    assert_eq!((kept.code.as_str(), kept.n), ("x", 1));
    // The all-tenants handle still refuses ambiguous ids and reads table-wide ones.
    assert_eq!(code(db.all_tenants().read::<TKv>("k").await), 614);
    assert_eq!(db.all_tenants().read::<TSeq>(s.id).await.unwrap().unwrap().tenant_id.as_deref(), Some("a"));
    db.close().await;
}

async fn dynamic_paths_do_not_leak(t: &TestDb) {
    let db = connect(t).await;
    seed(&db).await;
    let b0 = snapshot(&db, "b").await;
    let mut a = db.tenant("a");
    assert_eq!(a.read_json("TDoc", &json!("d1")).await.unwrap().unwrap()["n"], 1);
    assert_eq!(a.count_json("TDoc", &json!({"tenant_id": "b"})).await.unwrap(), 0);
    let page = a.list_json("TDoc", &json!({"order_by": ["n"], "limit": 10})).await.unwrap();
    assert_eq!(page["count"], 5);
    let streamed: Vec<_> = a.list_stream_json("TDoc", &json!({})).collect().await;
    assert!(streamed.iter().all(|r| r.as_ref().unwrap()["tenant_id"] == "a"));
    assert!(a.update_json("TDoc", &json!({"id": "d1"}), &json!({"n": 21})).await.unwrap().is_some());
    assert!(a.delete_json("TDoc", &json!("d2")).await.unwrap());
    assert!(a.restore_json("TDoc", &json!("d2")).await.unwrap());
    let r = a
        .upsert_json("TDoc", &json!({"where": {"slug": "s3"}, "create": {"id": "q", "n": 1}, "update": {"n": 31}}))
        .await
        .unwrap();
    assert_eq!(r["created"], false);
    let r = a.bulk_upsert_json("TDoc", &json!({"data": [{"id": "d4", "slug": "s4", "n": 41}, {"id": "d6", "slug": "s6", "n": 6}], "conflict_on": ["id"]})).await.unwrap();
    assert_eq!((r["inserted"].as_u64(), r["updated"].as_u64(), r["total"].as_u64()), (Some(1), Some(1), Some(2)));
    let r = a
        .bulk_update_json("TDoc", &json!({"filter": {"n": {"$lt": 100}}, "fields": {"$inc": {"n": 1}}}))
        .await
        .unwrap();
    assert_eq!(r["updated"], 6);
    let r = a.bulk_delete_json("TDoc", &json!({"filter": {"id": "d6"}})).await.unwrap();
    assert_eq!(r["deleted"], 1);
    // `tenant_id` in data is refused, never trusted.
    assert_eq!(code(a.create_json("TDoc", &json!({"id": "e", "slug": "e", "n": 1, "tenant_id": "b"})).await), 614);
    assert_eq!(code(a.update_json("TDoc", &json!({"id": "d1"}), &json!({"tenant_id": "b"})).await), 614);
    assert_eq!(code(a.update_json("TDoc", &json!({"id": "d1"}), &json!({"$set": {"tenant_id": "b"}})).await), 614);
    assert_eq!(
        code(a.bulk_create_json("TDoc", &json!([{"id": "e", "slug": "e", "n": 1, "tenant_id": "b"}])).await),
        614
    );
    let up = json!({"where": {"id": "d1"}, "create": {"slug": "q", "n": 1, "tenant_id": "b"}});
    assert_eq!(code(a.upsert_json("TDoc", &up).await), 614);
    let bu = json!({"data": [{"id": "d1", "slug": "s1", "n": 1, "tenant_id": "b"}]});
    assert_eq!(code(a.bulk_upsert_json("TDoc", &bu).await), 614);
    assert_eq!(snapshot(&db, "b").await, b0);
    db.close().await;
}

async fn transactions_carry_their_tenant(t: &TestDb) {
    let db = connect(t).await;
    seed(&db).await;
    let b0 = snapshot(&db, "b").await;
    // Bound by the handle: every tx.express() is scoped, savepoints too.
    let n = db
        .tenant("a")
        .transaction(|tx| {
            async move {
                tx.express().create(&doc("t1", "ts1", 1)).await?;
                let inner =
                    tx.transaction(|tx| async move { tx.express().count::<TDoc>(&json!({})).await }.boxed()).await?;
                let failed = tx
                    .transaction(|tx| {
                        async move {
                            tx.express().update(&doc("d1", "s1", 99)).await?;
                            Err::<(), _>(dataflow::Error::new(dataflow::ErrorCode::VALIDATION, "roll back"))
                        }
                        .boxed()
                    })
                    .await;
                assert!(failed.is_err());
                // Switching tenant inside the transaction is refused.
                assert_eq!(code(tx.express().tenant("b").count::<TDoc>(&json!({})).await), 614);
                assert_eq!(code(tx.tenant("b").count::<TDoc>(&json!({})).await), 614);
                assert_eq!(tx.tenant("a").count::<TDoc>(&json!({})).await?, inner);
                // Models that are not multi-tenant still work in a bound transaction.
                tx.express().create(&TPlain { id: "p".into(), n: 1 }).await?;
                Ok(inner)
            }
            .boxed()
        })
        .await
        .unwrap();
    assert_eq!(n, 6);
    assert_eq!(db.tenant("a").read::<TDoc>("d1").await.unwrap().unwrap().n, 1, "savepoint rolled back");
    // Bound by tx.tenant(..) on first use.
    db.transaction(|tx| {
        async move {
            tx.tenant("b").count::<TDoc>(&json!({})).await?;
            assert_eq!(tx.bound_tenant(), Some("b"));
            assert_eq!(code(tx.tenant("a").count::<TDoc>(&json!({})).await), 614);
            Ok(())
        }
        .boxed()
    })
    .await
    .unwrap();
    // An unbound transaction has no tenant: DF-608 before SQL.
    let e = db.transaction(|tx| async move { tx.express().count::<TDoc>(&json!({})).await }.boxed()).await;
    assert_eq!(code(e), 608);
    assert_eq!(snapshot(&db, "b").await, b0);
    db.close().await;
}

async fn workflows_run_under_their_tenant(t: &TestDb) {
    let db = connect(t).await;
    seed(&db).await;
    let b0 = snapshot(&db, "b").await;
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("TDocCountNode", "count", json!({"filter": {}}))
        .add_node("TDocBulkUpdateNode", "bump", json!({"filter": {"n": {"$lt": 50}}, "fields": {"n": 50}}))
        .add_node("TPlainCountNode", "plain", json!({"filter": {}}));
    let wf = b.build().unwrap();
    let out = wf.execute_as(&db, Some("a")).await.unwrap();
    assert_eq!(out["count"]["count"], 5);
    assert_eq!(out["bump"]["updated"], 5);
    let out = wf.execute_in_transaction_as(&db, "a").await.unwrap();
    assert_eq!(out["bump"]["updated"], 0);
    assert_eq!(wf.execute(&db).await.unwrap_err().cause.code().number(), 608);
    assert_eq!(snapshot(&db, "b").await, b0);
    db.close().await;
}

async fn tenant_rules_before_sql(t: &TestDb) {
    let db = connect(t).await;
    for bad in ["", "acme ", " acme", "acme\t", "a\u{7}b"] {
        assert_eq!(code(db.tenant(bad).count::<TDoc>(&json!({})).await), 613, "{bad:?}");
    }
    assert_eq!(code(db.tenant("x".repeat(129)).count::<TDoc>(&json!({})).await), 613);
    assert_eq!(db.tenant("x".repeat(128)).count::<TDoc>(&json!({})).await.unwrap(), 0);
    assert_eq!(code(db.tenant("acme").count::<TPlain>(&json!({})).await), 614);
    assert_eq!(code(db.tenant("acme").create_json("TPlain", &json!({"id": "p", "n": 1})).await), 614);
    assert_eq!(code(db.express().count::<TDoc>(&json!({})).await), 608);
    let e = db.express().count::<TDoc>(&json!({})).await.unwrap_err();
    assert!(format!("{e:#}").contains("db.tenant(\"acme\")"), "{e:#}");
    // Generated integer ids are table-wide, so a client may not choose them.
    let s = db.tenant("a").create(&TSeq { id: 0, code: "c".into(), n: 1 }).await.unwrap();
    let s2 = db.tenant("b").create(&TSeq { id: 0, code: "c".into(), n: 2 }).await.unwrap();
    assert_ne!(s.id, s2.id);
    assert_eq!(code(db.tenant("a").create(&TSeq { id: s2.id, code: "d".into(), n: 1 }).await), 614);
    assert_eq!(code(db.tenant("a").upsert(&TSeq { id: s2.id, code: "d".into(), n: 1 }, &["id"]).await), 614);
    let (created, _) = db.tenant("a").upsert(&TSeq { id: 0, code: "c".into(), n: 5 }, &["code"]).await.unwrap();
    assert!(!created);
    assert!(db.tenant("a").read::<TSeq>(s2.id).await.unwrap().is_none());
    assert_eq!(db.tenant("b").read::<TSeq>(s2.id).await.unwrap().unwrap().n, 2);
    db.close().await;
}

fn legacy(multi_tenant: bool) -> dataflow::ModelSchema {
    dataflow::ModelSchema::from_json(&json!({
        "name": "Legacy",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "code", "type": "string", "unique": true},
            {"name": "n", "type": "i64"}
        ],
        "options": {"multi_tenant": multi_tenant}
    }))
    .unwrap()
}

async fn enabling_tenancy_asks_for_the_owner(t: &TestDb) {
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register_schema(legacy(false)).await.unwrap();
    let rows = json!([{"id": "r1", "code": "c1", "n": 1}, {"id": "r2", "code": "c2", "n": 2}]);
    db.express().bulk_create_json("Legacy", &rows).await.unwrap();
    db.close().await;

    let db = DataFlow::connect(t.url()).await.unwrap();
    let e = db.register_schema(legacy(true)).await.unwrap_err();
    assert_eq!(e.code().number(), 615, "{e:#}");
    assert!(format!("{e:#}").contains("enable_tenancy"), "{e:#}");
    let report = db.enable_tenancy(&legacy(true), "acme").await.unwrap();
    assert!(report.remaining.blocking().next().is_none(), "{}", report.remaining);
    db.register_schema(legacy(true)).await.unwrap();
    assert_eq!(db.tenant("acme").count_json("Legacy", &json!({})).await.unwrap(), 2);
    // Ids and unique keys are per tenant after the migration too.
    db.tenant("other").create_json("Legacy", &json!({"id": "r1", "code": "c1", "n": 9})).await.unwrap();
    assert_eq!(db.tenant("acme").read_json("Legacy", &json!("r1")).await.unwrap().unwrap()["n"], 1);
    assert_eq!(code(db.tenant("acme").create_json("Legacy", &json!({"id": "r1", "code": "x", "n": 0})).await), 501);
    // A second run changes nothing.
    assert!(db.enable_tenancy(&legacy(true), "acme").await.unwrap().applied.is_empty());
    db.close().await;
}

#[derive(Debug, Clone)]
enum Op {
    Create(usize, u8, i64),
    Update(usize, u8, i64),
    Delete(usize, u8),
    Upsert(usize, u8, i64),
    BulkUpsert(usize, Vec<(u8, i64)>),
    BulkUpdate(usize, i64, i64),
    BulkDelete(usize, i64),
}

fn op_strategy() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    let t = 0usize..2;
    let id = 0u8..6;
    let n = -5i64..5;
    prop_oneof![
        (t.clone(), id.clone(), n.clone()).prop_map(|(t, i, n)| Op::Create(t, i, n)),
        (t.clone(), id.clone(), n.clone()).prop_map(|(t, i, n)| Op::Update(t, i, n)),
        (t.clone(), id.clone()).prop_map(|(t, i)| Op::Delete(t, i)),
        (t.clone(), id.clone(), n.clone()).prop_map(|(t, i, n)| Op::Upsert(t, i, n)),
        (t.clone(), proptest::collection::vec((id, n.clone()), 1..4)).prop_map(|(t, v)| Op::BulkUpsert(t, v)),
        (t.clone(), n.clone(), n.clone()).prop_map(|(t, lt, v)| Op::BulkUpdate(t, lt, v)),
        (t, n).prop_map(|(t, lt)| Op::BulkDelete(t, lt)),
    ]
}

/// Applies one op to the database and to the model; panics on any difference.
async fn apply(db: &DataFlow, tenants: &[String; 2], model: &mut [BTreeMap<String, i64>; 2], op: &Op) {
    let kv = |i: &u8, n: i64| TKv { id: format!("k{i}"), n };
    match op {
        Op::Create(t, i, n) => {
            let r = db.tenant(tenants[*t].as_str()).create(&kv(i, *n)).await;
            match model[*t].entry(format!("k{i}")) {
                std::collections::btree_map::Entry::Occupied(_) => assert_eq!(code(r), 501),
                std::collections::btree_map::Entry::Vacant(v) => {
                    r.unwrap();
                    v.insert(*n);
                }
            }
        }
        Op::Update(t, i, n) => {
            let r = db.tenant(tenants[*t].as_str()).update(&kv(i, *n)).await.unwrap();
            let m = &mut model[*t];
            assert_eq!(r.is_some(), m.contains_key(&format!("k{i}")));
            if let Some(v) = m.get_mut(&format!("k{i}")) {
                *v = *n;
            }
        }
        Op::Delete(t, i) => {
            let r = db.tenant(tenants[*t].as_str()).delete::<TKv>(format!("k{i}")).await.unwrap();
            assert_eq!(r, model[*t].remove(&format!("k{i}")).is_some());
        }
        Op::Upsert(t, i, n) => {
            let (created, _) = db.tenant(tenants[*t].as_str()).upsert(&kv(i, *n), &["id"]).await.unwrap();
            assert_eq!(created, model[*t].insert(format!("k{i}"), *n).is_none());
        }
        Op::BulkUpsert(t, rows) => {
            let recs: Vec<TKv> = rows.iter().map(|(i, n)| kv(i, *n)).collect();
            let c =
                db.tenant(tenants[*t].as_str()).bulk_upsert(&recs, &["id"], ConflictResolution::Update).await.unwrap();
            let before = model[*t].clone();
            for (i, n) in rows {
                model[*t].insert(format!("k{i}"), *n);
            }
            let distinct: std::collections::BTreeSet<_> = rows.iter().map(|r| r.0).collect();
            let inserted = model[*t].len() - before.len();
            assert_eq!(c.inserted as usize, inserted, "{op:?}");
            assert_eq!((c.inserted + c.updated) as usize, distinct.len(), "{op:?}");
        }
        Op::BulkUpdate(t, lt, v) => {
            let n = db
                .tenant(tenants[*t].as_str())
                .bulk_update::<TKv>(&json!({"n": {"$lt": lt}}), &json!({"n": v}), false)
                .await
                .unwrap();
            let mut want = 0;
            for x in model[*t].values_mut().filter(|x| **x < *lt) {
                *x = *v;
                want += 1;
            }
            assert_eq!(n, want, "{op:?}");
        }
        Op::BulkDelete(t, lt) => {
            let n =
                db.tenant(tenants[*t].as_str()).bulk_delete::<TKv>(&json!({"n": {"$lt": lt}}), false).await.unwrap();
            let before = model[*t].len();
            model[*t].retain(|_, x| *x >= *lt);
            assert_eq!(n as usize, before - model[*t].len(), "{op:?}");
        }
    }
    for (t, m) in tenants.iter().zip(model.iter()) {
        let rows = db.tenant(t.as_str()).list::<TKv>(&Query::new().limit(100)).await.unwrap();
        let got: BTreeMap<String, i64> = rows.iter().map(|r| (r.id.clone(), r.n)).collect();
        assert_eq!(&got, m, "tenant {t} after {op:?}");
        assert_eq!(db.tenant(t.as_str()).count::<TKv>(&json!({})).await.unwrap(), m.len() as u64);
    }
}

async fn random_sequences_match_a_model(t: &TestDb) {
    use proptest::test_runner::{Config, TestRunner};
    let db = connect(t).await;
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config { cases: 32, max_shrink_iters: 64, ..Config::default() });
    let case = std::sync::atomic::AtomicUsize::new(0);
    let r = runner.run(&proptest::collection::vec(op_strategy(), 1..16), |ops| {
        // Fresh tenants per case: the cases share the table but no rows.
        let k = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tenants = [format!("pa{k}"), format!("pb{k}")];
        let mut model = [BTreeMap::new(), BTreeMap::new()];
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                for op in &ops {
                    apply(&db, &tenants, &mut model, op).await;
                }
            })
        });
        Ok(())
    });
    db.close().await;
    r.unwrap();
}

// ---- the audit trail and the cross-tenant handle ------------------------------------------------

/// Audited writes: tenant `a` and `b` both write record `x` (the same id), with their own
/// secrets; an audited model without tenancy gets two writes without a tenant.
async fn audited(t: &TestDb) -> DataFlow {
    let db = connect(t).await;
    db.register::<TAud>().await.unwrap();
    db.register::<TAudPlain>().await.unwrap();
    for tenant in ["a", "b"] {
        let mut h = db.tenant(tenant).actor(format!("user-{tenant}"));
        h.create(&TAud { id: "x".into(), secret: format!("secret-{tenant}-1") }).await.unwrap();
        h.update(&TAud { id: "x".into(), secret: format!("secret-{tenant}-2") }).await.unwrap();
    }
    db.tenant("b").delete::<TAud>("x").await.unwrap();
    let mut plain = db.express();
    plain.create(&TAudPlain { id: "p".into(), secret: "secret-none-1".into() }).await.unwrap();
    plain.update(&TAudPlain { id: "p".into(), secret: "secret-none-2".into() }).await.unwrap();
    db
}

/// Asserts that every audit row in `rows` belongs to `tenant` and that no other tenant's secret
/// appears anywhere in them.
fn only(rows: &serde_json::Value, tenant: Option<&str>) {
    let recs = rows.as_array().expect("an array of audit rows");
    for r in recs {
        assert_eq!(r["tenant"].as_str(), tenant, "{r:#}");
    }
    let text = rows.to_string();
    for other in ["a", "b", "none"] {
        if Some(other) != tenant && !(other == "none" && tenant.is_none()) {
            assert!(!text.contains(&format!("secret-{other}")), "{tenant:?} sees {other}'s values: {text}");
        }
    }
}

async fn audit_trail_does_not_leak_across_tenants(t: &TestDb) {
    let db = audited(t).await;
    let all = |f: serde_json::Value| json!({"filter": f, "order_by": ["id"], "limit": 1000});
    // Tenant `a`: its own two rows, through every read path.
    let mut a = db.tenant("a");
    let page = a.list_json("AuditEntry", &all(json!({}))).await.unwrap();
    assert_eq!(page["count"], 2, "{page:#}");
    only(&page["records"], Some("a"));
    assert_eq!(page["records"][1]["changes"]["secret"], json!({"old": "secret-a-1", "new": "secret-a-2"}));
    assert_eq!(page["records"][1]["actor"], "user-a");
    assert_eq!(a.count_json("AuditEntry", &json!({})).await.unwrap(), 2);
    // A filter naming another tenant, or no tenant, is ANDed with the scope: nothing.
    assert_eq!(a.count_json("AuditEntry", &json!({"tenant": "b"})).await.unwrap(), 0);
    assert_eq!(a.count_json("AuditEntry", &json!({"tenant": null})).await.unwrap(), 0);
    assert_eq!(
        a.count_json("AuditEntry", &json!({"$or": [{"tenant": "b"}, {"model": "TAudPlain"}]})).await.unwrap(),
        0
    );
    assert!(a.find_one_json("AuditEntry", &json!({"operation": "Delete"})).await.unwrap().is_none());
    let streamed: Vec<_> = db.tenant("a").list_stream_json("AuditEntry", &all(json!({}))).collect().await;
    let streamed: Vec<serde_json::Value> = streamed.into_iter().map(Result::unwrap).collect();
    assert_eq!(streamed.len(), 2);
    only(&json!(streamed), Some("a"));
    // Keyset pages stay inside the scope.
    let mut seen = 0;
    let mut params = json!({"order_by": ["id"], "limit": 1});
    loop {
        let p = a.list_json("AuditEntry", &params).await.unwrap();
        only(&p["records"], Some("a"));
        seen += p["records"].as_array().unwrap().len();
        match p.get("next_cursor").filter(|c| !c.is_null()) {
            Some(c) => params["after"] = c.clone(),
            None => break,
        }
    }
    assert_eq!(seen, 2);
    // `b`'s rows, addressed by their ids, are missing for `a` (ids from the admin handle).
    let b_rows = db.all_tenants().list_json("AuditEntry", &all(json!({"tenant": "b"}))).await.unwrap();
    assert_eq!(b_rows["count"], 3, "{b_rows:#}");
    for r in b_rows["records"].as_array().unwrap() {
        assert!(a.read_json("AuditEntry", &r["id"]).await.unwrap().is_none(), "{r:#}");
        assert!(db.tenant("b").read_json("AuditEntry", &r["id"]).await.unwrap().is_some());
    }
    // Tenant `b` sees its three rows (the delete records the old values).
    let bp = db.tenant("b").list_json("AuditEntry", &all(json!({}))).await.unwrap();
    assert_eq!(bp["count"], 3);
    only(&bp["records"], Some("b"));
    // An unscoped handle sees only the rows of writes made without a tenant.
    let none = db.express().list_json("AuditEntry", &all(json!({}))).await.unwrap();
    assert_eq!(none["count"], 2, "{none:#}");
    only(&none["records"], None);
    assert_eq!(db.express().count_json("AuditEntry", &json!({"tenant": "a"})).await.unwrap(), 0);
    // Transactions: bound to `a` → `a`'s rows; unbound → rows without a tenant.
    let (bound, unbound) = (
        db.tenant("a").transaction(|tx| async move { tx.express().count_json("AuditEntry", &json!({})).await }.boxed()),
        db.transaction(|tx| async move { tx.express().count_json("AuditEntry", &json!({})).await }.boxed()),
    );
    assert_eq!((bound.await.unwrap(), unbound.await.unwrap()), (2, 2));
    // Workflows: the run's tenant scopes the audit trail too.
    let mut wb = WorkflowBuilder::new(&db);
    wb.add_node("AuditEntryListNode", "log", json!({"filter": {}, "limit": 1000})).add_node(
        "AuditEntryCountNode",
        "n",
        json!({"filter": {"model": "TAud"}}),
    );
    let wf = wb.build().unwrap();
    let out = wf.execute_as(&db, Some("a")).await.unwrap();
    only(&out["log"]["records"], Some("a"));
    assert_eq!(out["n"]["count"], 2);
    let out = wf.execute_in_transaction_as(&db, "b").await.unwrap();
    only(&out["log"]["records"], Some("b"));
    let out = wf.execute(&db).await.unwrap();
    only(&out["log"]["records"], None);
    assert_eq!(out["n"]["count"], 0);
    // The admin handle sees everything: 2 + 3 + 2.
    assert_eq!(db.all_tenants().count_json("AuditEntry", &json!({})).await.unwrap(), 7);
    db.close().await;
}

async fn audit_trail_is_append_only(t: &TestDb) {
    let db = audited(t).await;
    let total = db.all_tenants().count_json("AuditEntry", &json!({})).await.unwrap();
    let forged = json!({"at": "2026-01-01T00:00:00Z", "operation": "Delete", "model": "TAud", "record_id": "x",
                        "tenant": "b", "outcome": "ok"});
    for (who, mut h) in [("unscoped", db.express()), ("tenant", db.tenant("a"))] {
        let s0 = db.stats().statements_total;
        let refused = [
            ("create", code(h.create_json("AuditEntry", &forged).await)),
            ("bulk_create", code(h.bulk_create_json("AuditEntry", &json!([forged.clone()])).await)),
            ("update", code(h.update_json("AuditEntry", &json!({"id": 1}), &json!({"actor": "x"})).await)),
            ("delete", code(h.delete_json("AuditEntry", &json!(1)).await)),
            ("hard_delete", code(h.hard_delete_json("AuditEntry", &json!(1)).await)),
            ("bulk_update", code(h.bulk_update_json("AuditEntry", &json!({"filter": {}, "fields": {"actor": "x"}, "confirmed": true})).await)),
            ("bulk_delete", code(h.bulk_delete_json("AuditEntry", &json!({"filter": {}, "confirmed": true})).await)),
            ("upsert", code(h.upsert_json("AuditEntry", &json!({"where": {"id": 1}, "create": forged.clone(), "update": {"actor": "x"}, "conflict_on": ["id"]})).await)),
            ("bulk_upsert", code(h.bulk_upsert_json("AuditEntry", &json!({"data": [forged.clone()], "conflict_on": ["id"]})).await)),
        ];
        for (op, c) in refused {
            assert_eq!(c, 605, "{who} {op} of AuditEntry");
        }
        assert_eq!(db.stats().statements_total, s0, "{who}: refused before any SQL");
    }
    let e = db.express().create_json("AuditEntry", &forged).await.unwrap_err();
    assert!(format!("{e:#}").contains("written only by DataFlow"), "{e:#}");
    // A workflow node cannot append either.
    let mut wb = WorkflowBuilder::new(&db);
    wb.add_node("AuditEntryCreateNode", "forge", forged.clone());
    let wf = wb.build().unwrap();
    let f = wf.execute(&db).await.unwrap_err();
    assert_eq!(f.cause.code().number(), 605, "{:#}", f.cause);
    assert_eq!(db.all_tenants().count_json("AuditEntry", &json!({})).await.unwrap(), total);
    db.close().await;
}

async fn all_tenants_reads_everything_and_writes_nothing(t: &TestDb) {
    let db = connect(t).await;
    seed(&db).await;
    let s1 = db.tenant("a").create(&TSeq { id: 0, code: "c".into(), n: 1 }).await.unwrap();
    let s2 = db.tenant("b").create(&TSeq { id: 0, code: "c".into(), n: 2 }).await.unwrap();
    let (a0, b0) = (snapshot(&db, "a").await, snapshot(&db, "b").await);
    let mut all = db.all_tenants();
    // Reads see both tenants; every record says whose it is.
    assert_eq!(all.count::<TDoc>(&json!({})).await.unwrap(), 10);
    assert_eq!(all.count::<TDoc>(&json!({"tenant_id": "b"})).await.unwrap(), 5);
    assert_eq!(all.count_json("TDoc", &json!({"slug": "s1"})).await.unwrap(), 2);
    let docs = all.list::<TDoc>(&Query::new().order_by(["n"]).limit(100)).await.unwrap();
    let owners: Vec<(Option<&str>, i64)> = docs.iter().map(|d| (d.tenant_id.as_deref(), d.n)).collect();
    let mut want: Vec<(Option<&str>, i64)> = (1..=5).map(|i| (Some("a"), i)).collect();
    want.extend((101..=105).map(|i| (Some("b"), i)));
    assert_eq!(owners, want);
    let page = all.list_json("TDoc", &json!({"filter": {"id": "d1"}, "order_by": ["n"]})).await.unwrap();
    assert_eq!(page["count"], 2, "{page:#}");
    assert_eq!(
        (page["records"][0]["tenant_id"].as_str(), page["records"][1]["tenant_id"].as_str()),
        (Some("a"), Some("b"))
    );
    let found = all.find_one::<TDoc>(&json!({"n": 103})).await.unwrap().unwrap();
    assert_eq!(found.tenant_id.as_deref(), Some("b"));
    let streamed: Vec<_> = db.all_tenants().list_stream::<TDoc>(&Query::new()).collect().await;
    assert_eq!(streamed.len(), 10);
    let mut q = Query::new().order_by(["n"]).limit(3);
    let mut paged = Vec::new();
    loop {
        let p = all.list_page::<TDoc>(&q).await.unwrap();
        paged.extend(p.records.iter().map(|d| d.n));
        match p.next_cursor {
            Some(c) => q = q.after(c),
            None => break,
        }
    }
    assert_eq!(paged, want.iter().map(|w| w.1).collect::<Vec<_>>());
    // Integer ids are table-wide, so reading one by id is unambiguous…
    assert_eq!(all.read::<TSeq>(s2.id).await.unwrap().unwrap().tenant_id.as_deref(), Some("b"));
    assert_eq!(all.read::<TSeq>(s1.id).await.unwrap().unwrap().n, 1);
    // …but String ids are per tenant: DF-614, list with a filter on `id` instead.
    let e = all.read::<TDoc>("d1").await.unwrap_err();
    assert_eq!(e.code().number(), 614);
    assert!(format!("{e:#}").contains("per tenant"), "{e:#}");
    assert_eq!(code(all.read_json("TDoc", &json!("d1")).await), 614);
    // Models that are not multi-tenant read as usual.
    db.express().create(&TPlain { id: "p".into(), n: 1 }).await.unwrap();
    assert_eq!(all.count::<TPlain>(&json!({})).await.unwrap(), 1);
    // Every write is refused before any SQL, whatever the model.
    let s0 = db.stats().statements_total;
    let d = doc("new", "new", 1);
    let refused = [
        ("create", code(all.create(&d).await)),
        ("create_json", code(all.create_json("TDoc", &json!({"id": "n", "slug": "n", "n": 1})).await)),
        ("bulk_create", code(all.bulk_create(std::slice::from_ref(&d)).await)),
        ("update", code(all.update(&doc("d1", "s1", 0)).await)),
        ("update_by_id", code(all.update_by_id::<TDoc>("d1", dataflow::Changes::new().set("n", 0i64)).await)),
        ("update_json", code(all.update_json("TDoc", &json!({"slug": "s1"}), &json!({"n": 0})).await)),
        ("delete", code(all.delete::<TDoc>("d1").await)),
        ("hard_delete", code(all.hard_delete::<TDoc>("d1").await)),
        ("restore", code(all.restore::<TDoc>("d1").await)),
        ("upsert", code(all.upsert(&d, &["slug"]).await)),
        (
            "bulk_update",
            code(all.bulk_update_json("TDoc", &json!({"filter": {}, "fields": {"n": 0}, "confirmed": true})).await),
        ),
        ("bulk_delete", code(all.bulk_delete::<TDoc>(&json!({}), true).await)),
        ("bulk_upsert", code(all.bulk_upsert(std::slice::from_ref(&d), &["slug"], ConflictResolution::Update).await)),
        ("plain create", code(all.create(&TPlain { id: "q".into(), n: 1 }).await)),
    ];
    for (op, c) in refused {
        assert_eq!(c, 614, "all_tenants {op}");
    }
    // Row locks need a transaction, which the handle cannot open (DF-109 before SQL).
    assert_eq!(code(all.read_for_update::<TSeq>(s1.id).await), 109);
    let e = all.bulk_delete::<TDoc>(&json!({}), true).await.unwrap_err();
    assert!(format!("{e:#}").contains("db.tenant(\"acme\")"), "{e:#}");
    // No transaction, no narrowing.
    let tx =
        db.all_tenants().transaction(|tx| async move { tx.express().count::<TPlain>(&json!({})).await }.boxed()).await;
    assert_eq!(code(tx), 614);
    assert_eq!(code(db.all_tenants().tenant("a").count::<TDoc>(&json!({})).await), 614);
    assert_eq!(db.stats().statements_total, s0, "nothing ran");
    assert_eq!((snapshot(&db, "a").await, snapshot(&db, "b").await), (a0, b0));
    assert_eq!(db.express().count::<TPlain>(&json!({})).await.unwrap(), 1);
    db.close().await;
}

async fn workflow_audit_rows_carry_the_actor(t: &TestDb) {
    let db = connect(t).await;
    db.register::<TAud>().await.unwrap();
    db.register::<TAudPlain>().await.unwrap();
    let build = |nodes: &[(&str, &str, serde_json::Value)]| {
        let mut wb = WorkflowBuilder::new(&db);
        for (ty, id, params) in nodes {
            wb.add_node(*ty, *id, params.clone());
        }
        wb.build().unwrap()
    };
    let tenant_wf = build(&[("TAudCreateNode", "c", json!({"id": "w1", "secret": "s"}))]);
    // A pooled run and a transactional run under a tenant: the instance's actor.
    tenant_wf.execute_as(&db.as_actor("alice"), Some("a")).await.unwrap();
    tenant_wf.execute_in_transaction_as(&db.as_actor("bob"), "b").await.unwrap();
    // Without an actor: NULL.
    tenant_wf.execute_as(&db, Some("c")).await.unwrap();
    // Models without tenancy, in the same runs and in plain ones.
    build(&[("TAudPlainCreateNode", "p", json!({"id": "p1", "secret": "s"}))])
        .execute(&db.as_actor("carol"))
        .await
        .unwrap();
    build(&[("TAudPlainCreateNode", "p", json!({"id": "p2", "secret": "s"}))])
        .execute_in_transaction(&db.as_actor("dave"))
        .await
        .unwrap();
    // Express: the instance's actor, overridden per handle; a transaction keeps its handle's.
    let erin = db.as_actor("erin");
    assert_eq!(erin.actor(), Some("erin"));
    erin.tenant("a").create(&TAud { id: "e1".into(), secret: "s".into() }).await.unwrap();
    erin.tenant("a").actor("frank").create(&TAud { id: "f1".into(), secret: "s".into() }).await.unwrap();
    db.express()
        .actor("gina")
        .transaction(|tx| {
            async move { tx.express().create(&TAudPlain { id: "g1".into(), secret: "s".into() }).await.map(|_| ()) }
                .boxed()
        })
        .await
        .unwrap();
    let actors = |rows: serde_json::Value| -> Vec<(String, String)> {
        rows["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["record_id"].as_str().unwrap().to_owned(), r["actor"].as_str().unwrap_or("-").to_owned()))
            .collect()
    };
    let order = json!({"order_by": ["id"]});
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<Vec<_>>();
    assert_eq!(
        actors(db.tenant("a").list_json("AuditEntry", &order).await.unwrap()),
        pairs(&[("w1", "alice"), ("e1", "erin"), ("f1", "frank")])
    );
    assert_eq!(actors(db.tenant("b").list_json("AuditEntry", &order).await.unwrap()), pairs(&[("w1", "bob")]));
    assert_eq!(actors(db.tenant("c").list_json("AuditEntry", &order).await.unwrap()), pairs(&[("w1", "-")]));
    assert_eq!(
        actors(db.express().list_json("AuditEntry", &order).await.unwrap()),
        pairs(&[("p1", "carol"), ("p2", "dave"), ("g1", "gina")])
    );
    db.close().await;
}

dataflow_tests::backend_tests!(
    audit_trail_does_not_leak_across_tenants,
    audit_trail_is_append_only,
    all_tenants_reads_everything_and_writes_nothing,
    workflow_audit_rows_carry_the_actor,
    ids_are_per_tenant,
    typed_paths_do_not_leak,
    cached_by_id_statements_stay_in_their_tenant,
    dynamic_paths_do_not_leak,
    transactions_carry_their_tenant,
    workflows_run_under_their_tenant,
    tenant_rules_before_sql,
    enabling_tenancy_asks_for_the_owner,
    random_sequences_match_a_model,
);

#[test]
fn schemas_are_multi_tenant() {
    assert!(TDoc::schema().options.multi_tenant && !TPlain::schema().options.multi_tenant);
}
