//! Registering 100 models on an empty database (SQLite, PostgreSQL), then again with a warm
//! schema cache: the warm run must issue no introspection query. Times are printed
//! (`cargo test -p dataflow-tests --test migrate_perf -- --nocapture`). One test in this binary,
//! so the process-wide introspection counter only sees it.

use std::time::Instant;

use dataflow_core::DataFlow;
use dataflow_core::migrate::introspect::introspection_queries;
use dataflow_sql::ModelSchema;
use dataflow_tests::{Backend, TestDb};
use serde_json::json;

fn models() -> Vec<ModelSchema> {
    (0..100)
        .map(|i| {
            ModelSchema::from_json(&json!({"name": format!("Perf{i}"), "fields": [
                {"name": "id", "type": "i64"},
                {"name": "name", "type": "string", "index": true},
                {"name": "email", "type": "string", "unique": true},
                {"name": "age", "type": "i32", "nullable": true},
                {"name": "active", "type": "bool", "default": true},
                {"name": "created", "type": "date_time", "nullable": true},
            ]}))
            .unwrap()
        })
        .collect()
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else { return };
    let ms = models();
    let df = DataFlow::connect(db.url()).await.unwrap();
    let q0 = introspection_queries();
    let t = Instant::now();
    for m in &ms {
        df.register_schema(m.clone()).await.unwrap();
    }
    let cold = t.elapsed();
    let q1 = introspection_queries();

    let t = Instant::now();
    for m in &ms {
        df.ensure_schema(m).await.unwrap();
    }
    let warm = t.elapsed();
    let q2 = introspection_queries();

    // A restarted application: tables exist, cache empty — introspect, no DDL.
    let df2 = DataFlow::connect(db.url()).await.unwrap();
    let t = Instant::now();
    for m in &ms {
        df2.register_schema(m.clone()).await.unwrap();
    }
    let restart = t.elapsed();
    let q3 = introspection_queries();

    println!(
        "{backend:?}: 100 models cold (create) {cold:?} [{} introspection queries], warm cache {warm:?} [{} queries], \
         new instance on existing tables {restart:?} [{} queries]",
        q1 - q0,
        q2 - q1,
        q3 - q2
    );
    assert_eq!(q2, q1, "the warm run must issue no introspection query");
    assert!(q1 - q0 >= 100 && q3 - q2 >= 100);
    let m = df.schema_cache().metrics();
    assert_eq!((m.hits, m.misses, m.size), (100, 100, 100));
    let runs = df2.migration_history().await.unwrap();
    assert_eq!(runs.len(), 100, "one create per model, none on the second instance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_100_models_cold_and_warm() {
    run(Backend::Sqlite).await;
    run(Backend::Postgres).await;
}
