//! Audited vs unaudited BulkCreate of 10,000 records, in one run per backend.
//!
//! `cargo bench -p dataflow-core --bench audit` (plain `Instant` loops, `harness = false`).
//! Two dynamic models with the same fields, one with `audit`; the runs alternate (audited,
//! unaudited, ...) `BENCH_REPS` times (default 5) and the medians are compared. Backends:
//! SQLite (temp file) always; PostgreSQL and MariaDB/MySQL at `DATAFLOW_TEST_POSTGRES_URL` /
//! `DATAFLOW_TEST_MYSQL_URL` (local defaults) when reachable, each in a database of its own
//! (`df_bench_audit_<pid>`, dropped at the end) so `dataflow_audit` is not shared.

use std::time::{Duration, Instant};

use dataflow_core::DataFlow;
use dataflow_sql::ModelSchema;
use serde_json::{Value as J, json};
use sqlx::{AssertSqlSafe, Connection};

const ROWS: usize = 10_000;

fn model(name: &str, audit: bool) -> ModelSchema {
    ModelSchema::from_json(&json!({"name": name, "fields": [
        {"name": "id", "type": "i64"}, {"name": "name", "type": "string"},
        {"name": "qty", "type": "i32"}, {"name": "score", "type": "f64"}],
        "options": {"audit": audit}}))
    .unwrap()
}

fn rows(rep: usize) -> J {
    J::Array(
        (0..ROWS)
            .map(|i| json!({"name": format!("name {rep}-{i}"), "qty": (i % 100) as i32, "score": i as f64 * 0.5}))
            .collect(),
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn bench(name: &str, url: &str, reps: usize) {
    let db = match DataFlow::connect(url).await {
        Ok(db) => db,
        Err(e) => {
            println!("| {name} | skipped: {e} |");
            return;
        }
    };
    db.register_schema(model("BenchPlain", false)).await.unwrap();
    db.register_schema(model("BenchAudited", true)).await.unwrap();
    let (mut plain, mut audited) = (Vec::new(), Vec::new());
    // One warm-up round each, not measured.
    for rep in 0..=reps {
        for (m, out) in [("BenchAudited", &mut audited), ("BenchPlain", &mut plain)] {
            let data = rows(rep);
            let t = Instant::now();
            let r = db.express().bulk_create_json(m, &data).await.unwrap();
            let d = t.elapsed();
            assert_eq!(r["inserted"], ROWS);
            if rep > 0 {
                out.push(d);
            }
        }
    }
    let audit_rows = db.express().count_json("AuditEntry", &json!({})).await.unwrap();
    assert_eq!(audit_rows, (ROWS * (reps + 1)) as u64);
    let (p, a) = (median(plain), median(audited));
    println!(
        "| {name} | {ROWS} | {:.1} ms ({:.0} rows/s) | {:.1} ms ({:.0} rows/s) | {:.2} |",
        p.as_secs_f64() * 1e3,
        ROWS as f64 / p.as_secs_f64(),
        a.as_secs_f64() * 1e3,
        ROWS as f64 / a.as_secs_f64(),
        a.as_secs_f64() / p.as_secs_f64()
    );
    db.close().await;
}

/// Creates (or drops) the bench database on a server; `None` when the server is unreachable.
async fn server_db(admin: &str, name: &str, create: bool) -> Option<String> {
    let stmt = if create { format!("CREATE DATABASE {name}") } else { format!("DROP DATABASE IF EXISTS {name}") };
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    if admin.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(admin).await.ok()?;
        sqlx::query(AssertSqlSafe(stmt)).execute(&mut c).await.ok()?;
    } else {
        let mut c = sqlx::MySqlConnection::connect(admin).await.ok()?;
        sqlx::query(AssertSqlSafe(stmt)).execute(&mut c).await.ok()?;
    }
    Some(format!("{base}/{name}"))
}

#[tokio::main]
async fn main() {
    let reps: usize = std::env::var("BENCH_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(5).max(1);
    println!(
        "| backend | rows | unaudited (median of {reps}) | audited (median of {reps}) | ratio audited ÷ unaudited |\n|---|---|---|---|---|"
    );
    let path = std::env::temp_dir().join(format!("dataflow_bench_audit_{}.db", std::process::id()));
    bench("sqlite", &format!("sqlite://{}", path.display()), reps).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let name = format!("df_bench_audit_{}", std::process::id());
    for (label, var, default) in [
        ("postgres", "DATAFLOW_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
        ("mariadb", "DATAFLOW_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    ] {
        let admin = std::env::var(var).unwrap_or_else(|_| default.into());
        match server_db(&admin, &name, true).await {
            Some(url) => {
                bench(label, &url, reps).await;
                server_db(&admin, &name, false).await;
            }
            None => println!("| {label} | skipped: server unreachable |"),
        }
    }
}
