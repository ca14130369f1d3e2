//! Peak RSS growth while streaming and bulk-creating a million rows (issue 5, "Memory").
//!
//! `cargo bench -p dataflow-core --bench memory` (`harness = false`).
//!
//! The parent process never touches DataFlow: per backend it creates a fresh database (PostgreSQL and
//! MariaDB: `df_mem_<pid>` next to `DATAFLOW_TEST_POSTGRES_URL` / `DATAFLOW_TEST_MYSQL_URL`, local
//! defaults; SQLite: a temp file), then runs every phase as a separate invocation of this binary
//! (`memory <backend> <phase> <url>`), so each measurement starts from a clean heap. The child connects,
//! registers the model, resets the RSS high-water mark (`5` > `/proc/self/clear_refs`), reads `VmRSS`
//! (baseline), runs the phase, reads `VmHWM` (peak) and prints one result line for the parent.
//!
//! Phases, in order on the same table: `bulk` (typed `bulk_create_iter` from a lazy iterator),
//! `stream` (typed `list_stream`), `stream_json` (dynamic `list_stream_json`), `bulk_json`
//! (dynamic `bulk_create_json_iter`, appending a second batch). Env: `MEM_ROWS` (default 1,000,000),
//! `MEM_BACKENDS` (default `sqlite,postgres,mariadb`), `MEM_PHASES` (default all four),
//! `MEM_LIMIT_MB` (default 100, the target).

use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use dataflow_core::{DataFlow, Query};
use dataflow_sql::{FieldValue, Model, ModelSchema, Result, Value};
use futures::StreamExt;
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection};

#[derive(Debug, Clone)]
struct MemRow {
    id: i64,
    name: String,
    age: i32,
    active: bool,
}

impl Model for MemRow {
    fn schema() -> &'static ModelSchema {
        static S: OnceLock<ModelSchema> = OnceLock::new();
        S.get_or_init(|| {
            ModelSchema::from_json(&json!({"name": "MemRow", "fields": [
                {"name": "id", "type": "i64"}, {"name": "name", "type": "string"},
                {"name": "age", "type": "i32"}, {"name": "active", "type": "bool"}]}))
            .expect("valid schema")
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![Value::I64(self.id), Value::String(self.name.clone()), Value::I32(self.age), Value::Bool(self.active)]
    }
    fn into_values(self) -> Vec<Value> {
        vec![Value::I64(self.id), Value::String(self.name), Value::I32(self.age), Value::Bool(self.active)]
    }
    fn from_values(v: Vec<Value>) -> Result<Self> {
        let mut it = v.into_iter();
        let bad = || dataflow_sql::model::decode_error("MemRow", "?", "value");
        Ok(MemRow {
            id: it.next().and_then(i64::from_value).ok_or_else(bad)?,
            name: it.next().and_then(String::from_value).ok_or_else(bad)?,
            age: it.next().and_then(i32::from_value).ok_or_else(bad)?,
            active: it.next().and_then(bool::from_value).ok_or_else(bad)?,
        })
    }
}

fn row(i: usize) -> MemRow {
    MemRow { id: 0, name: format!("user {i:07}"), age: (i % 90) as i32, active: i.is_multiple_of(3) }
}

/// A field of `/proc/self/status` in kB.
fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// Child: run one phase and print `RESULT <rows> <secs> <baseline_kb> <peak_kb> <hwm_reset>`.
async fn child(phase: &str, url: &str, n: usize) {
    let db = DataFlow::builder(url).max_connections(2).connect().await.expect("connect");
    db.register::<MemRow>().await.expect("register");
    let mut ex = db.express();
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let base = status_kb("VmRSS");
    let t = Instant::now();
    let rows = match phase {
        "bulk" => ex.bulk_create_iter((0..n).map(row)).await.expect("bulk_create_iter"),
        "bulk_json" => ex
            .bulk_create_json_iter(
                "MemRow",
                (0..n).map(|i| json!({"name": format!("json {i:07}"), "age": i % 90, "active": i.is_multiple_of(2)})),
            )
            .await
            .expect("bulk_create_json_iter"),
        "stream" => {
            let q = Query::new();
            let mut s = std::pin::pin!(ex.list_stream::<MemRow>(&q));
            let (mut count, mut sum) = (0u64, 0i64);
            while let Some(r) = s.next().await {
                let r = r.expect("stream row");
                count += 1;
                sum = sum.wrapping_add(r.age as i64 + r.name.len() as i64 + r.active as i64);
            }
            std::hint::black_box(sum);
            count
        }
        "stream_json" => {
            let mut s = std::pin::pin!(ex.list_stream_json("MemRow", &json!({})));
            let mut count = 0u64;
            while let Some(r) = s.next().await {
                let r = r.expect("stream row");
                assert!(r["name"].is_string());
                count += 1;
            }
            count
        }
        other => panic!("unknown phase {other}"),
    };
    let secs = t.elapsed().as_secs_f64();
    let peak = status_kb("VmHWM");
    println!("RESULT {rows} {secs:.2} {base} {peak} {hwm_reset}");
    db.close().await;
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_db(url: &str, name: &str) -> String {
    let (head, query) = url.split_once('?').map_or((url, None), |(h, q)| (h, Some(q)));
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Creates (or, with `drop`, drops) database `name` through the admin URL. Identifier is `df_mem_<pid>`.
async fn admin(backend: &str, admin_url: &str, name: &str, drop: bool) -> std::result::Result<(), String> {
    let sql = if drop { format!("DROP DATABASE IF EXISTS {name}") } else { format!("CREATE DATABASE {name}") };
    match backend {
        "postgres" => {
            let mut c = sqlx::PgConnection::connect(admin_url).await.map_err(|e| e.to_string())?;
            sqlx::query(AssertSqlSafe(sql)).execute(&mut c).await.map_err(|e| e.to_string())?;
            c.close().await.map_err(|e| e.to_string())
        }
        _ => {
            let mut c = sqlx::MySqlConnection::connect(admin_url).await.map_err(|e| e.to_string())?;
            sqlx::query(AssertSqlSafe(sql)).execute(&mut c).await.map_err(|e| e.to_string())?;
            c.close().await.map_err(|e| e.to_string())
        }
    }
}

fn run_child(backend: &str, phase: &str, url: &str, limit_mb: f64) {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe).args(["--child", backend, phase, url]).output().expect("spawn child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err.lines().rev().take(3).collect::<Vec<_>>().join(" / ");
        println!("| {backend} | {phase} | failed: {tail} |");
        return;
    };
    let f: Vec<&str> = line.split_whitespace().collect();
    let (rows, secs, base, peak) = (f[0], f[1], f[2].parse::<f64>().unwrap_or(0.0), f[3].parse::<f64>().unwrap_or(0.0));
    let growth = (peak - base) / 1024.0;
    let ok = if growth < limit_mb { "yes" } else { "NO" };
    let reset = if f.get(4) == Some(&"true") { "" } else { " (HWM not reset)" };
    println!(
        "| {backend} | {phase} | {rows} | {secs} | {:.1} MB | {:.1} MB | {growth:.1} MB{reset} | {ok} |",
        base / 1024.0,
        peak / 1024.0
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let n = env_usize("MEM_ROWS", 1_000_000);
    if args.first().map(String::as_str) == Some("--child") && args.len() == 4 {
        child(&args[2], &args[3], n).await;
        return;
    }
    let limit_mb = env_usize("MEM_LIMIT_MB", 100) as f64;
    let backends = std::env::var("MEM_BACKENDS").unwrap_or_else(|_| "sqlite,postgres,mariadb".into());
    let phases = std::env::var("MEM_PHASES").unwrap_or_else(|_| "bulk,stream,stream_json,bulk_json".into());
    let phases: Vec<&str> = phases.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    let name = format!("df_mem_{}", std::process::id());
    println!(
        "MEM_ROWS={n}; target: peak RSS growth < {limit_mb} MB\n\n\
         | backend | phase | rows | seconds | baseline RSS | peak RSS | growth | < {limit_mb} MB |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for backend in backends.split(',').map(str::trim) {
        match backend {
            "sqlite" => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}", path.display());
                for p in &phases {
                    run_child(backend, p, &url, limit_mb);
                }
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            "postgres" | "mariadb" => {
                let admin_url = if backend == "postgres" {
                    std::env::var("DATAFLOW_TEST_POSTGRES_URL")
                        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
                } else {
                    std::env::var("DATAFLOW_TEST_MYSQL_URL")
                        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
                };
                if let Err(e) = admin(backend, &admin_url, &name, false).await {
                    println!("| {backend} | skipped: {e} |");
                    continue;
                }
                let url = with_db(&admin_url, &name);
                for p in &phases {
                    run_child(backend, p, &url, limit_mb);
                }
                if let Err(e) = admin(backend, &admin_url, &name, true).await {
                    println!("| {backend} | could not drop {name}: {e} |");
                }
            }
            other => println!("| {other} | unknown backend |"),
        }
    }
}
