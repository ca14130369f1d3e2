//! Issue 18 (docs/guide/scaling.md), on the three backends: the single-statement upsert (16
//! concurrent upserts of one new key create it exactly once; exact `created` with and without
//! timestamps; soft-deleted rows restored), bulk upsert counts without a table count, and the
//! distributed-SQL profile (`Compat`) run against PostgreSQL / MariaDB / SQLite with the avoided
//! features (lease lock, no `xmax`, no DDL transaction, retries on).

use std::sync::Arc;

use dataflow::{Compat, ModelSchema, RetryPolicy, TxOptions};
use dataflow_core::DataFlow;
use dataflow_tests::{TestDb, backend_tests};
use futures::FutureExt;
use serde_json::{Value as J, json};
use tokio::sync::Barrier;

/// Upsert targets: with timestamps (`Acct`), without (`Plain`), soft-deleting (`Soft`).
fn models() -> Vec<ModelSchema> {
    [
        json!({"name": "Acct", "fields": [
            {"name": "id", "type": "string"},
            {"name": "email", "type": "string", "unique": true},
            {"name": "name", "type": "string"},
            {"name": "visits", "type": "i64", "default": 0}]}),
        json!({"name": "Plain", "options": {"timestamps": false}, "fields": [
            {"name": "id", "type": "i64"},
            {"name": "code", "type": "string", "unique": true},
            {"name": "label", "type": "string"}]}),
        json!({"name": "Soft", "options": {"soft_delete": true}, "fields": [
            {"name": "id", "type": "string"},
            {"name": "slug", "type": "string", "unique": true},
            {"name": "title", "type": "string"}]}),
    ]
    .iter()
    .map(|j| ModelSchema::from_json(j).unwrap())
    .collect()
}

async fn connect(t: &TestDb, compat: Option<Compat>) -> DataFlow {
    let mut b = DataFlow::builder(t.url()).max_connections(16);
    if let Some(c) = compat {
        b = b.compat(c);
    }
    let db = b.connect().await.expect("connect");
    for m in models() {
        db.register_schema(m).await.unwrap();
    }
    db
}

/// 16 tasks upsert the same new key at once: exactly one `created: true`, no error, one row.
async fn race(db: &DataFlow, model: &str, key: &str, params: impl Fn(usize) -> J) {
    let gate = Arc::new(Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (db, gate, p) = (db.clone(), gate.clone(), params(i));
            let model = model.to_owned();
            tokio::spawn(async move {
                gate.wait().await;
                db.express().upsert_json(&model, &p).await
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap().unwrap_or_else(|e| panic!("{model}: upsert failed: {e}"));
        if r["created"] == json!(true) {
            created += 1;
        }
    }
    assert_eq!(created, 1, "{model}: exactly one task creates the record");
    assert_eq!(db.express().count_json(model, &json!({key: params(0)["where"][key].clone()})).await.unwrap(), 1);
}

async fn upsert_race_creates_once(t: &TestDb) {
    let db = connect(t, None).await;
    for round in 0..3 {
        let email = format!("race{round}@x");
        race(&db, "Acct", "email", |i| {
            json!({"where": {"email": email}, "create": {"id": format!("a{round}-{i}"), "name": format!("n{i}")},
                   "update": {"name": format!("n{i}")}})
        })
        .await;
        let code = format!("c{round}");
        race(&db, "Plain", "code", |i| json!({"where": {"code": code}, "create": {"label": format!("l{i}")}})).await;
        let slug = format!("s{round}");
        race(
            &db,
            "Soft",
            "slug",
            |i| json!({"where": {"slug": slug}, "create": {"id": format!("s{round}-{i}"), "title": "t"}}),
        )
        .await;
    }
    db.close().await;
}

async fn upsert_created_flag_is_exact(t: &TestDb) {
    let db = connect(t, None).await;
    let ex = || db.express();
    // With timestamps: insert, update, and an update that changes nothing but `updated_at`.
    let p = json!({"where": {"email": "a@x"}, "create": {"id": "a1", "name": "Ann"}});
    let r = ex().upsert_json("Acct", &p).await.unwrap();
    assert_eq!(r["created"], true);
    let r2 = ex().upsert_json("Acct", &p).await.unwrap();
    assert_eq!((r2["created"].clone(), r2["record"]["id"].clone()), (json!(false), json!("a1")));
    assert_eq!(r2["record"]["created_at"], r["record"]["created_at"]);
    assert_ne!(r2["record"]["updated_at"], r2["record"]["created_at"], "the update branch moves updated_at");
    // `update` with explicit values, keys untouched.
    let r3 = ex()
        .upsert_json(
            "Acct",
            &json!({"where": {"email": "a@x"}, "create": {"id": "zz", "name": "X"}, "update": {"visits": 7}}),
        )
        .await
        .unwrap();
    assert_eq!(
        (r3["created"].clone(), r3["record"]["visits"].clone(), r3["record"]["name"].clone()),
        (json!(false), json!(7), json!("Ann"))
    );
    // Without timestamps: the MySQL "0 rows changed" case (same values again) is still an update.
    let q = json!({"where": {"code": "k"}, "create": {"label": "same"}});
    assert_eq!(ex().upsert_json("Plain", &q).await.unwrap()["created"], true);
    for _ in 0..3 {
        let r = ex().upsert_json("Plain", &q).await.unwrap();
        assert_eq!((r["created"].clone(), r["record"]["label"].clone()), (json!(false), json!("same")));
    }
    let r = ex().upsert_json("Plain", &json!({"where": {"code": "k"}, "create": {"label": "new"}})).await.unwrap();
    assert_eq!((r["created"].clone(), r["record"]["label"].clone()), (json!(false), json!("new")));
    // Missing required field on an existing record: update only (as before).
    let r = ex().upsert_json("Acct", &json!({"where": {"email": "a@x"}, "update": {"visits": 8}})).await.unwrap();
    assert_eq!((r["created"].clone(), r["record"]["visits"].clone()), (json!(false), json!(8)));
    let e = ex().upsert_json("Acct", &json!({"where": {"email": "new@x"}, "update": {"visits": 8}})).await.unwrap_err();
    assert_eq!(e.code().number(), 101, "{e}");
    db.close().await;
}

async fn upsert_restores_soft_deleted(t: &TestDb) {
    let db = connect(t, None).await;
    let ex = || db.express();
    ex().create_json("Soft", &json!({"id": "s1", "slug": "hello", "title": "old"})).await.unwrap();
    assert!(ex().delete_json("Soft", &json!("s1")).await.unwrap());
    assert_eq!(ex().count_json("Soft", &json!({})).await.unwrap(), 0);
    let r = ex()
        .upsert_json("Soft", &json!({"where": {"slug": "hello"}, "create": {"id": "s2", "title": "new"}}))
        .await
        .unwrap();
    // As BulkUpsert: the existing (deleted) row is updated and restored, not a second row.
    assert_eq!(
        (r["created"].clone(), r["record"]["id"].clone(), r["record"]["title"].clone()),
        (json!(false), json!("s1"), json!("new"))
    );
    assert_eq!(ex().count_json("Soft", &json!({})).await.unwrap(), 1);
    let b = ex()
        .bulk_upsert_json(
            "Soft",
            &json!({"data": [{"id": "s3", "slug": "hello", "title": "bulk"}], "conflict_on": ["slug"]}),
        )
        .await
        .unwrap();
    assert_eq!((b["inserted"].clone(), b["updated"].clone()), (json!(0), json!(1)));
    db.close().await;
}

async fn bulk_counts(db: &DataFlow) {
    let ex = || db.express();
    ex().create_json("Acct", &json!({"id": "b1", "email": "b1@x", "name": "B"})).await.unwrap();
    ex().create_json("Plain", &json!({"code": "p1", "label": "P"})).await.unwrap();
    let recs = json!([{"id": "b1", "email": "b1@x", "name": "B2"}, {"id": "b2", "email": "b2@x", "name": "C"},
        {"id": "b3", "email": "b3@x", "name": "D"}]);
    let r = ex().bulk_upsert_json("Acct", &json!({"data": recs, "conflict_on": ["email"]})).await.unwrap();
    assert_eq!(
        (r["inserted"].clone(), r["updated"].clone(), r["skipped"].clone()),
        (json!(2), json!(1), json!(0)),
        "{r}"
    );
    let r = ex()
        .bulk_upsert_json("Acct", &json!({"data": recs, "conflict_on": ["email"], "conflict_resolution": "skip"}))
        .await
        .unwrap();
    assert_eq!(
        (r["inserted"].clone(), r["updated"].clone(), r["skipped"].clone()),
        (json!(0), json!(0), json!(3)),
        "{r}"
    );
    // No timestamps, values unchanged for p1 (MySQL: 0 changed rows): still one update.
    let recs = json!([{"code": "p1", "label": "P"}, {"code": "p2", "label": "Q"}, {"code": "p2", "label": "R"}]);
    let r = ex().bulk_upsert_json("Plain", &json!({"data": recs, "conflict_on": ["code"]})).await.unwrap();
    assert_eq!(
        (r["inserted"].clone(), r["updated"].clone(), r["skipped"].clone()),
        (json!(1), json!(1), json!(1)),
        "{r}"
    );
    assert_eq!(ex().count_json("Plain", &json!({"code": "p2"})).await.unwrap(), 1);
    assert_eq!(ex().count_json("Plain", &json!({"code": "p2", "label": "R"})).await.unwrap(), 1, "last duplicate wins");
}

async fn bulk_upsert_counts_without_table_count(t: &TestDb) {
    let db = connect(t, None).await;
    bulk_counts(&db).await;
    db.close().await;
}

/// One integer from a query, with plain sqlx.
pub async fn scalar(db: &TestDb, sql: &str) -> i64 {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db.backend() {
        dataflow_tests::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
        dataflow_tests::Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(db.url()).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
        dataflow_tests::Backend::Sqlite => {
            let o: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
            let mut c = sqlx::SqliteConnection::connect_with(&o).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

/// The profile for the server's dialect (SQLite: CockroachDB's, which is refused).
fn profile(t: &TestDb) -> Compat {
    match DataFlowDialect::of(t) {
        dataflow::Dialect::MySql => Compat::TiDb,
        _ => Compat::CockroachDb,
    }
}

struct DataFlowDialect;
impl DataFlowDialect {
    fn of(t: &TestDb) -> dataflow::Dialect {
        match t.backend() {
            dataflow_tests::Backend::Postgres => dataflow::Dialect::Postgres,
            dataflow_tests::Backend::MySql => dataflow::Dialect::MySql,
            dataflow_tests::Backend::Sqlite => dataflow::Dialect::Sqlite,
        }
    }
}

async fn compat_profile_runs_on_real_servers(t: &TestDb) {
    let c = profile(t);
    if t.backend() == dataflow_tests::Backend::Sqlite {
        // The profiles are for PostgreSQL- and MySQL-protocol servers: a SQLite URL is refused.
        let e = DataFlow::builder(t.url()).compat(c).connect().await.unwrap_err();
        assert_eq!(e.code().number(), 405, "{e}");
        assert!(e.to_string().contains("cockroachdb"), "{e}");
        return;
    }
    let db = connect(t, Some(c)).await;
    assert_eq!(db.config().migration_lock, dataflow::MigrationLock::Lease);
    assert!(db.config().retry.is_some());
    // Registration migrated under the lease lock (not SQLite, which keeps its write lock) and
    // released it.
    let history = db.migration_history().await.unwrap();
    assert!(history.iter().any(|h| h.model == "Plain" && h.status == "applied"), "{history:#?}");
    if t.backend() != dataflow_tests::Backend::Sqlite {
        assert_eq!(scalar(t, "SELECT COUNT(*) FROM dataflow_migration_lock").await, 0, "lease released");
    }
    // Upserts and bulk upserts without `xmax` (Plain has no timestamps).
    race(&db, "Plain", "code", |i| json!({"where": {"code": "compat"}, "create": {"label": format!("l{i}")}})).await;
    bulk_counts(&db).await;
    // Retries are on for `transaction_with(TxOptions::new(), ..)`.
    let n = db
        .transaction_with(TxOptions::new(), |tx| {
            async move { tx.express().count_json("Plain", &json!({})).await }.boxed()
        })
        .await
        .unwrap();
    assert_eq!(n, 3);
    let _ = RetryPolicy::default();
    db.close().await;
}

backend_tests!(
    upsert_race_creates_once,
    upsert_created_flag_is_exact,
    upsert_restores_soft_deleted,
    bulk_upsert_counts_without_table_count,
    compat_profile_runs_on_real_servers
);
