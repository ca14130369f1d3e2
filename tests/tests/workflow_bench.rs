//! Workflow overhead measurements (ignored by default; numbers go to docs/benchmarks.md):
//!
//! ```text
//! cargo test --release -p dataflow-tests --test workflow_bench -- --ignored --nocapture
//! ```
//!
//! - a one-node workflow against the same operation through Express (target ≤ 1.5×);
//! - a ten-node chain against the same ten operations through Express: overhead per node;
//! - a ten-node workflow with two Rust code nodes against the same work written directly with
//!   Express and plain function calls (target ≤ 1.3×);
//! - the cost of one `ScriptNode` call (a one-node workflow), next to a one-node code node.

use std::time::{Duration, Instant};

use dataflow_core::DataFlow;
use dataflow_core::workflow::{BoxError, Catalog, WorkflowBuilder};
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

fn shout(v: &serde_json::Value) -> serde_json::Value {
    json!({"id": v["id"], "name": v["name"].as_str().unwrap_or("").to_uppercase()})
}

/// Ten nodes: eight reads in a chain with two code nodes among them, against the same reads
/// through Express with the two functions called inline.
async fn measure_code_nodes(backend: Backend, rounds: u32) {
    let Some(t) = TestDb::new(backend).await else { return };
    let db = setup(&t).await;
    let mut c = Catalog::from_db(&db);
    c.register_fn("shout", |v: serde_json::Value| async move { Ok::<_, BoxError>(shout(&v)) }).unwrap();
    let mut b = WorkflowBuilder::with_catalog(c);
    b.add_node("UserReadNode", "n0", json!({"id": "u1"}));
    for i in 1..10 {
        let ty = if i == 3 || i == 7 { "shout" } else { "UserReadNode" };
        let params = if ty == "shout" {
            json!({"id": format!("${{n{}.id}}", i - 1), "name": format!("${{n{}.name}}", i - 1)})
        } else {
            json!({"id": format!("${{n{}.id}}", i - 1)})
        };
        b.add_node(ty, format!("n{i}"), params);
    }
    let wf = b.build().unwrap();
    let (mut ex, mut w) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds + 50 {
        let t0 = Instant::now();
        let mut v = db.express().run("User", Operation::Read, &json!({"id": "u1"})).await.unwrap();
        for i in 1..10 {
            v = if i == 3 || i == 7 {
                shout(&v)
            } else {
                db.express().run("User", Operation::Read, &json!({"id": v["id"]})).await.unwrap()
            };
        }
        let e = t0.elapsed();
        let t0 = Instant::now();
        let out = wf.execute(&db).await.unwrap();
        let x = t0.elapsed();
        assert_eq!(out["n7"]["name"], "ALICE");
        if round >= 50 {
            ex += e;
            w += x;
        }
    }
    let (e, x) = (per_op(ex, rounds), per_op(w, rounds));
    println!(
        "{backend:?}: ten nodes (8 reads + 2 code nodes): Express + inline calls {e:.1} µs, workflow {x:.1} µs (ratio {:.2}x)",
        x / e
    );
    db.close().await;
}

/// A one-node workflow with a `ScriptNode` against one with a code node doing the same.
async fn measure_script(rounds: u32) {
    let Some(t) = TestDb::new(Backend::Sqlite).await else { return };
    let db = setup(&t).await;
    let mut c = Catalog::from_db(&db);
    c.register_fn("plus", |v: serde_json::Value| async move {
        Ok::<_, BoxError>(json!({"y": v["x"].as_i64().unwrap_or(0) * 2 + 1}))
    })
    .unwrap();
    let mut b = WorkflowBuilder::with_catalog(c.clone());
    b.add_node("ScriptNode", "s", json!({"x": 20, "script": "let y = x * 2 + 1;"}));
    let script = b.build().unwrap();
    let mut b = WorkflowBuilder::with_catalog(c);
    b.add_node("plus", "p", json!({"x": 20}));
    let code = b.build().unwrap();
    let (mut s, mut k) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds + 200 {
        let t0 = Instant::now();
        let out = script.execute(&db).await.unwrap();
        let a = t0.elapsed();
        assert_eq!(out["s"]["y"], 41);
        let t0 = Instant::now();
        code.execute(&db).await.unwrap();
        let b = t0.elapsed();
        if round >= 200 {
            s += a;
            k += b;
        }
    }
    let (s, k) = (per_op(s, rounds), per_op(k, rounds));
    println!(
        "ScriptNode one-node workflow {s:.1} µs, code-node one-node workflow {k:.1} µs: script call overhead {:.1} µs",
        s - k
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
async fn code_node_and_script_overhead() {
    let rounds: u32 = std::env::var("BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    for b in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        measure_code_nodes(b, rounds).await;
    }
    measure_script(rounds * 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
async fn workflow_overhead() {
    for b in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        measure(b).await;
    }
}
