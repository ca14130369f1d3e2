//! Single-record upsert: the single statement (`upsert_json`) against the previous path
//! (ignored by default; numbers go to docs/benchmarks.md):
//!
//! ```text
//! BENCH_ITERS=300 cargo test --release -p dataflow-tests --test upsert_bench -- --ignored --nocapture
//! ```
//!
//! The previous path is reproduced with the public API in one transaction, with the statements
//! the old `ops::upsert` ran: BEGIN, `SELECT` of the key, `UPDATE` (or `INSERT`), COMMIT. Both
//! sides run through DataFlow on the same pool, interleaved; update path (existing key) and
//! insert path (new keys) separately.

use std::time::{Duration, Instant};

use dataflow_core::DataFlow;
use dataflow_sql::ModelSchema;
use dataflow_tests::{Backend, TestDb};
use futures::FutureExt;
use serde_json::{Value as J, json};

fn iters() -> u32 {
    std::env::var("BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

async fn old_path(db: &DataFlow, email: String, name: String) -> J {
    db.transaction(move |tx| {
        async move {
            let found = tx.express().find_one_json("Acct", &json!({"email": email})).await?;
            match found {
                Some(_) => Ok(tx
                    .express()
                    .update_json("Acct", &json!({"email": email}), &json!({"name": name}))
                    .await?
                    .unwrap_or_default()),
                None => tx.express().create_json("Acct", &json!({"id": email, "email": email, "name": name})).await,
            }
        }
        .boxed()
    })
    .await
    .unwrap()
}

async fn new_path(db: &DataFlow, email: &str, name: &str) -> J {
    let p = json!({"where": {"email": email}, "create": {"id": email, "name": name}, "update": {"name": name}});
    db.express().upsert_json("Acct", &p).await.unwrap()
}

fn us(d: Duration, n: u32) -> f64 {
    d.as_secs_f64() * 1e6 / f64::from(n)
}

async fn measure(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let db = DataFlow::connect(t.url()).await.unwrap();
    let s = ModelSchema::from_json(&json!({"name": "Acct", "fields": [
        {"name": "id", "type": "string"}, {"name": "email", "type": "string", "unique": true},
        {"name": "name", "type": "string"}]}))
    .unwrap();
    db.register_schema(s).await.unwrap();
    new_path(&db, "hot@x", "w").await;
    for i in 0..50 {
        old_path(&db, "hot@x".into(), format!("w{i}")).await;
        new_path(&db, "hot@x", &format!("w{i}")).await;
    }
    let n = iters();
    let (mut old_u, mut new_u, mut old_i, mut new_i) = (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for i in 0..n {
        let t0 = Instant::now();
        old_path(&db, "hot@x".into(), format!("o{i}")).await;
        old_u += t0.elapsed();
        let t0 = Instant::now();
        assert_eq!(new_path(&db, "hot@x", &format!("n{i}")).await["created"], false);
        new_u += t0.elapsed();
        let t0 = Instant::now();
        old_path(&db, format!("old{i}@x"), "x".into()).await;
        old_i += t0.elapsed();
        let t0 = Instant::now();
        assert_eq!(new_path(&db, &format!("new{i}@x"), "x").await["created"], true);
        new_i += t0.elapsed();
    }
    println!(
        "{backend:?}: update path old {:.1} µs, single statement {:.1} µs, ratio new/old {:.2}; \
         insert path old {:.1} µs, single statement {:.1} µs, ratio {:.2} ({n} iterations)",
        us(old_u, n),
        us(new_u, n),
        new_u.as_secs_f64() / old_u.as_secs_f64(),
        us(old_i, n),
        us(new_i, n),
        new_i.as_secs_f64() / old_i.as_secs_f64(),
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn upsert_single_statement_vs_previous_path() {
    for b in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        measure(b).await;
    }
}
