//! Migration edge cases on all three backends: renames only through `renamed_from`, a failed
//! migration remembered by the schema cache (fail fast with the original error), and the
//! migration lock timing out with DF-303 while another session holds it.

use std::time::Duration;

use dataflow_core::DataFlow;
use dataflow_core::migrate::{Risk, StepKind};
use dataflow_sql::{ErrorCode, ModelSchema};
use dataflow_tests::{Backend, TestDb, backend_tests};
use serde_json::json;
use sqlx::Connection;

async fn exec(db: &TestDb, sqls: &[&str]) {
    match db.backend() {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
            for s in sqls {
                sqlx::query(sqlx::AssertSqlSafe(*s)).execute(&mut c).await.unwrap();
            }
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(db.url()).await.unwrap();
            for s in sqls {
                sqlx::query(sqlx::AssertSqlSafe(*s)).execute(&mut c).await.unwrap();
            }
        }
        Backend::Sqlite => {
            let o: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
            let mut c = sqlx::SqliteConnection::connect_with(&o.create_if_missing(true)).await.unwrap();
            for s in sqls {
                sqlx::query(sqlx::AssertSqlSafe(*s)).execute(&mut c).await.unwrap();
            }
        }
    }
}

fn book(fields: serde_json::Value) -> ModelSchema {
    ModelSchema::from_json(&json!({"name": "Book", "fields": fields})).unwrap()
}

async fn renames_only_with_renamed_from(db: &TestDb) {
    let v1 = book(json!([{"name": "id", "type": "i64"}, {"name": "title", "type": "string"}]));
    let df = DataFlow::connect(db.url()).await.unwrap();
    df.register_schema(v1).await.unwrap();
    df.express().create_json("Book", &json!({"title": "Dune"})).await.unwrap();
    // Without `renamed_from` a new name is a new column plus a dropped one: never a rename.
    let plain = book(json!([{"name": "id", "type": "i64"}, {"name": "name", "type": "string"}]));
    let plan = df.plan_migration(&plain).await.unwrap();
    assert!(!plan.steps.iter().any(|s| matches!(s.kind, StepKind::RenameColumn { .. })), "{plan}");
    let v2 = book(json!([{"name": "id", "type": "i64"}, {"name": "name", "type": "string", "renamed_from": "title"}]));
    let df2 = DataFlow::connect(db.url()).await.unwrap();
    let e = df2.register_schema(v2.clone()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::MIGRATION_NEEDS_APPROVAL);
    assert!(e.message().contains("RENAME COLUMN"), "{e}");
    let plan = df2.plan_migration(&v2).await.unwrap();
    assert_eq!(plan.steps.len(), 1, "{plan}");
    assert_eq!(plan.steps[0].risk, Risk::Medium);
    let r = df2.apply_plan(&plan, Risk::Medium).await.unwrap();
    assert_eq!(r.applied.len(), 1);
    df2.register_schema(v2).await.unwrap();
    let got = df2.express().find_one_json("Book", &json!({"name": "Dune"})).await.unwrap();
    assert!(got.is_some(), "the renamed column kept its data");
}

async fn failed_migration_is_remembered(db: &TestDb) {
    // `things` is a view: introspection sees it (or not), but DDL on it fails.
    exec(
        db,
        &[
            "CREATE TABLE base_things (id BIGINT PRIMARY KEY, name TEXT)",
            "CREATE VIEW things AS SELECT id, name FROM base_things",
        ],
    )
    .await;
    let s = ModelSchema::from_json(&json!({"name": "Thing", "options": {"timestamps": false}, "fields": [
        {"name": "id", "type": "i64"}, {"name": "name", "type": "string", "nullable": true},
        {"name": "extra", "type": "string", "nullable": true}]}))
    .unwrap();
    let df = DataFlow::connect(db.url()).await.unwrap();
    let e = df.register_schema(s.clone()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::MIGRATION_FAILED, "{e}");
    let m = df.schema_cache().metrics();
    assert_eq!((m.failures, m.misses, m.hits), (1, 1, 0));
    let again = df.ensure_schema(&s).await.unwrap_err();
    assert_eq!((again.code(), again.message()), (e.code(), e.message()));
    assert_eq!(df.schema_cache().metrics().hits, 1, "answered from the cache, no query");
    let h = df.migration_history().await.unwrap();
    assert!(h.iter().any(|r| r.model == "Thing" && r.status == "failed"), "{h:#?}");
    // Invalidation allows a retry (which fails again, for real).
    df.schema_cache().invalidate("things");
    assert_eq!(df.ensure_schema(&s).await.unwrap_err().code(), ErrorCode::MIGRATION_FAILED);
    assert_eq!(df.schema_cache().metrics().misses, 2);
}

async fn lock_timeout_is_df_303(db: &TestDb) {
    let df = DataFlow::connect(db.url()).await.unwrap();
    let s = book(json!([{"name": "id", "type": "i64"}, {"name": "title", "type": "string"}]));
    let plan = df.plan_migration(&s).await.unwrap();
    // Another session holds the migration lock.
    let t = std::time::Instant::now();
    let e = match db.backend() {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
            sqlx::query("SELECT pg_advisory_lock($1)").bind(0x6461_7461_666c_6f77_i64).execute(&mut c).await.unwrap();
            df.apply_plan_within(&plan, Risk::Low, Duration::from_millis(300)).await.unwrap_err()
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(db.url()).await.unwrap();
            sqlx::query("SELECT GET_LOCK(LEFT(CONCAT('dataflow_migrate:', DATABASE()), 64), 1)")
                .execute(&mut c)
                .await
                .unwrap();
            df.apply_plan_within(&plan, Risk::Low, Duration::from_millis(300)).await.unwrap_err()
        }
        Backend::Sqlite => {
            let o: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
            let mut c = sqlx::SqliteConnection::connect_with(&o).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.unwrap();
            let e = df.apply_plan_within(&plan, Risk::Low, Duration::from_millis(300)).await.unwrap_err();
            sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            e
        }
    };
    assert_eq!(e.code(), ErrorCode::MIGRATION_LOCK_TIMEOUT, "{e}");
    // The timeout bounds the wait (MySQL's GET_LOCK counts whole seconds).
    assert!(t.elapsed() < Duration::from_secs(3), "waited {:?}", t.elapsed());
    assert!(e.message().contains("another process is migrating"), "{e}");
    // Once the other session is gone, the same plan applies.
    let r = df.apply_plan(&plan, Risk::Low).await.unwrap();
    assert_eq!(r.applied.len(), 1);
}

backend_tests!(renames_only_with_renamed_from, failed_migration_is_remembered, lock_timeout_is_df_303);
