//! Load test (`cargo xtask soak --secs N`): 64 tasks of mixed operations for N seconds on each
//! selected backend (SQLite, PostgreSQL, MariaDB/MySQL; `DATAFLOW_TEST_BACKENDS`), then checks:
//!
//! - zero lost increments: a hot row bumped with `$inc` and another bumped by read-then-write in
//!   SERIALIZABLE transactions with retry end exactly at the number of acknowledged bumps;
//! - zero unclassified errors: every error carries a specific DF code (no DF-509 "database
//!   error", no panic);
//! - every acknowledged write is present at the end: each acknowledged create reads back (with
//!   every acknowledged `$push` to it), and no acknowledged delete left its row behind.
//!
//! Not part of the default test run; CI runs it briefly. Exits non-zero on any violation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dataflow::{ErrorCode, Isolation, ModelSchema, RetryPolicy, TxOptions};
use dataflow_core::DataFlow;
use dataflow_tests::{Backend, TestDb};
use serde_json::json;

const TASKS: usize = 64;

fn schema() -> ModelSchema {
    ModelSchema::from_json(&json!({
        "name": "Soak",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "owner", "type": "i64"},
            {"name": "n", "type": "i64", "default": 0},
            {"name": "tags", "type": {"array": "string"}, "default": []}
        ],
        "indexes": [{"fields": ["owner"]}]
    }))
    .expect("schema")
}

#[derive(Default)]
struct Tally {
    ops: AtomicU64,
    inc_acked: AtomicU64,
    tx_acked: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    unclassified: Mutex<Vec<String>>,
    /// Acknowledged records per task: id -> pushed tags.
    created: Mutex<BTreeMap<String, Vec<String>>>,
    deleted: Mutex<Vec<String>>,
}

impl Tally {
    fn error(&self, e: &dataflow::Error, op: &str) {
        *self.errors.lock().unwrap().entry(format!("{} {op}", e.code())).or_default() += 1;
        if e.code() == ErrorCode::DATABASE || e.code() == ErrorCode::DECODE {
            self.unclassified.lock().unwrap().push(e.to_string());
        }
    }
}

async fn worker(db: DataFlow, task: usize, until: Instant, t: Arc<Tally>) {
    let mut seq = 0u64;
    while Instant::now() < until {
        seq += 1;
        let r: dataflow::Result<()> = match (task % 4, seq % 5) {
            // Hot row, atomic increment.
            (0, _) => {
                db.express().update_json("Soak", &json!({"id": "hot-inc"}), &json!({"$inc": {"n": 1}})).await.map(|r| {
                    assert!(r.is_some(), "hot-inc exists");
                    t.inc_acked.fetch_add(1, Ordering::Relaxed);
                })
            }
            // Hot row, read-then-write in a serializable transaction with retry.
            (1, _) => db
                .transaction_with(
                    TxOptions::new()
                        .isolation(Isolation::Serializable)
                        .retry(RetryPolicy::default().max_attempts(1000)),
                    |tx| {
                        Box::pin(async move {
                            let v =
                                tx.express().read_json("Soak", &json!("hot-tx")).await?.expect("hot-tx exists")["n"]
                                    .as_i64()
                                    .unwrap_or_default();
                            tx.express().update_json("Soak", &json!({"id": "hot-tx"}), &json!({"n": v + 1})).await?;
                            Ok(())
                        })
                    },
                )
                .await
                .map(|()| {
                    t.tx_acked.fetch_add(1, Ordering::Relaxed);
                }),
            // Own records: create, push to them, sometimes delete.
            (2, 0..=2) => {
                let id = format!("r{task}-{seq}");
                db.express().create_json("Soak", &json!({"id": id, "owner": task})).await.map(|_| {
                    t.created.lock().unwrap().insert(id, Vec::new());
                })
            }
            (2, 3) => {
                let target =
                    t.created.lock().unwrap().keys().rev().find(|k| k.starts_with(&format!("r{task}-"))).cloned();
                match target {
                    Some(id) => {
                        let tag = format!("t{seq}");
                        db.express()
                            .update_json("Soak", &json!({"id": id}), &json!({"$push": {"tags": tag}}))
                            .await
                            .map(|r| {
                                if r.is_some() {
                                    t.created.lock().unwrap().entry(id).or_default().push(tag);
                                }
                            })
                    }
                    None => Ok(()),
                }
            }
            (2, _) => {
                let target = t.created.lock().unwrap().keys().find(|k| k.starts_with(&format!("r{task}-"))).cloned();
                match target {
                    Some(id) => db.express().delete_json("Soak", &json!(id)).await.map(|d| {
                        if d {
                            t.created.lock().unwrap().remove(&id);
                            t.deleted.lock().unwrap().push(id);
                        }
                    }),
                    None => Ok(()),
                }
            }
            // Readers and set-based writers.
            (_, 0) => db.express().count_json("Soak", &json!({"owner": {"$gte": 0}})).await.map(drop),
            (_, 1) => {
                db.express().list_json("Soak", &json!({"filter": {"owner": task - 1}, "limit": 20})).await.map(drop)
            }
            (_, 2) => db
                .express()
                .bulk_update_json("Soak", &json!({"filter": {"owner": task - 1}, "fields": {"$inc": {"n": 1}}}))
                .await
                .map(drop),
            // Row lock on the serializable hot row: MariaDB may pick this transaction as the
            // deadlock victim against the shared locks of SERIALIZABLE readers, so it retries too.
            (_, 3) => {
                db.transaction_with(RetryPolicy::default().max_attempts(1000), |tx| {
                    Box::pin(async move {
                        tx.express().read_for_update_json("Soak", &json!("hot-tx")).await?;
                        Ok(())
                    })
                })
                .await
            }
            _ => db.express().read_json("Soak", &json!("hot-inc")).await.map(drop),
        };
        t.ops.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = r {
            let op = match (task % 4, seq % 5) {
                (0, _) => "$inc",
                (1, _) => "serializable",
                (2, 0..=2) => "create",
                (2, 3) => "$push",
                (2, _) => "delete",
                (_, 0) => "count",
                (_, 1) => "list",
                (_, 2) => "bulk $inc",
                (_, 3) => "read_for_update",
                _ => "read",
            };
            t.error(&e, op);
        }
    }
}

async fn soak(backend: Backend, secs: u64) -> Result<String, String> {
    let Some(tdb) = TestDb::new(backend).await else {
        return Ok(format!("{backend:?}: skipped (server unreachable)"));
    };
    let db = DataFlow::builder(tdb.url())
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(60))
        .busy_timeout(Duration::from_secs(60))
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    db.register_schema(schema()).await.map_err(|e| e.to_string())?;
    for id in ["hot-inc", "hot-tx"] {
        db.express().create_json("Soak", &json!({"id": id, "owner": -1})).await.map_err(|e| e.to_string())?;
    }
    let t = Arc::new(Tally::default());
    let until = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..TASKS).map(|i| tokio::spawn(worker(db.clone(), i, until, t.clone()))).collect();
    let mut problems = Vec::new();
    for h in handles {
        if let Err(e) = h.await {
            problems.push(format!("task panicked: {e}"));
        }
    }
    let n = |id: &str| {
        let db = db.clone();
        let id = id.to_owned();
        async move { db.express().read_json("Soak", &json!(id)).await.ok().flatten().map(|r| r["n"].as_i64().unwrap_or(-1)) }
    };
    let (inc, tx) = (n("hot-inc").await, n("hot-tx").await);
    let (inc_acked, tx_acked) = (t.inc_acked.load(Ordering::Relaxed), t.tx_acked.load(Ordering::Relaxed));
    if inc != Some(inc_acked as i64) {
        problems.push(format!("$inc hot row is {inc:?}, {inc_acked} increments were acknowledged"));
    }
    if tx != Some(tx_acked as i64) {
        problems.push(format!("serializable hot row is {tx:?}, {tx_acked} increments were acknowledged"));
    }
    let created = t.created.lock().unwrap().clone();
    for (id, tags) in &created {
        match db.express().read_json("Soak", &json!(id)).await {
            Ok(Some(r)) if r["tags"] == json!(tags) => {}
            other => problems.push(format!("acknowledged record {id} (tags {tags:?}) reads back as {other:?}")),
        }
    }
    let deleted = t.deleted.lock().unwrap().clone();
    for id in &deleted {
        if !matches!(db.express().read_json("Soak", &json!(id)).await, Ok(None)) {
            problems.push(format!("acknowledged delete of {id} left the row"));
        }
    }
    let unclassified = t.unclassified.lock().unwrap().clone();
    for u in unclassified.iter().take(5) {
        problems.push(format!("unclassified error: {u}"));
    }
    if unclassified.len() > 5 {
        problems.push(format!("... {} unclassified errors in all", unclassified.len()));
    }
    db.close().await;
    let errors = t.errors.lock().unwrap().clone();
    let line = format!(
        "{backend:?}: {} ops in {secs}s by {TASKS} tasks; $inc {inc_acked}, serializable {tx_acked}, {} records kept, {} deleted; errors {errors:?}",
        t.ops.load(Ordering::Relaxed),
        created.len(),
        deleted.len(),
    );
    if problems.is_empty() { Ok(line) } else { Err(format!("{line}\n  {}", problems.join("\n  "))) }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let secs = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(10u64);
    let mut ok = true;
    for b in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        match soak(b, secs).await {
            Ok(line) => println!("soak ok   {line}"),
            Err(msg) => {
                ok = false;
                println!("soak FAIL {msg}");
            }
        }
    }
    if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE }
}
