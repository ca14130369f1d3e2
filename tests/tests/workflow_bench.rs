//! Workflow overhead measurements (ignored by default; numbers go to docs/benchmarks.md):
//!
//! ```text
//! cargo test --release -p dataflow-tests --test workflow_bench -- --ignored --nocapture
//! ```
//!
//! - a one-node workflow against the same operation through Express (target ≤ 1.5×);
//! - a ten-node chain against the same ten operations through Express: overhead per node.

use std::time::{Duration, Instant};

use dataflow_core::DataFlow;
use dataflow_core::workflow::WorkflowBuilder;
use dataflow_sql::{FieldDef, FieldType, ModelSchema, Operation};
use dataflow_tests::{Backend, TestDb};
use serde_json::json;

const ROUNDS: u32 = 2_000;

async fn setup(t: &TestDb) -> DataFlow {
    let db = DataFlow::connect(t.url()).await.unwrap();
    let s = ModelSchema::new(
        "User",
        vec![FieldDef::new("id", FieldType::String), FieldDef::new("name", FieldType::String)],
    );
    db.register_schema(s).await.unwrap();
    db.express().create_json("User", &json!({"id": "u1", "name": "Alice"})).await.unwrap();
    db
}

fn per_op(d: Duration, n: u32) -> f64 {
    d.as_secs_f64() * 1e6 / f64::from(n)
}

async fn measure(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let db = setup(&t).await;
    let params = json!({"id": "u1"});
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("UserReadNode", "read", params.clone());
    let one = b.build().unwrap();
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("UserReadNode", "r0", params.clone());
    for i in 1..10 {
        b.add_node("UserReadNode", format!("r{i}"), json!({}));
        b.add_connection(format!("r{}", i - 1), "id", format!("r{i}"), "id");
    }
    let ten = b.build().unwrap();
    // Warm up statement caches and the pool.
    for _ in 0..200 {
        db.express().run("User", Operation::Read, &params).await.unwrap();
        one.execute(&db).await.unwrap();
    }
    let (mut ex, mut wf, mut ex10, mut wf10) = (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    // Interleave so drift affects both sides equally.
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        db.express().run("User", Operation::Read, &params).await.unwrap();
        ex += t0.elapsed();
        let t0 = Instant::now();
        one.execute(&db).await.unwrap();
        wf += t0.elapsed();
    }
    for _ in 0..ROUNDS / 10 {
        let t0 = Instant::now();
        let mut id = json!("u1");
        for _ in 0..10 {
            let r = db.express().run("User", Operation::Read, &json!({"id": id})).await.unwrap();
            id = r["id"].clone();
        }
        ex10 += t0.elapsed();
        let t0 = Instant::now();
        let out = ten.execute(&db).await.unwrap();
        assert_eq!(out["r9"]["id"], "u1");
        wf10 += t0.elapsed();
    }
    let (e, w) = (per_op(ex, ROUNDS), per_op(wf, ROUNDS));
    let (e10, w10) = (per_op(ex10, ROUNDS / 10), per_op(wf10, ROUNDS / 10));
    println!(
        "{backend:?}: read via Express {e:.1} µs, one-node workflow {w:.1} µs (ratio {:.2}x); \
         ten reads via Express {e10:.1} µs, ten-node chain workflow {w10:.1} µs (overhead {:.1} µs/node)",
        w / e,
        (w10 - e10) / 10.0
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
async fn workflow_overhead() {
    for b in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        measure(b).await;
    }
}
