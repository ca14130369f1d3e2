//! Overhead of tracing + metrics: typed read by id and typed insert with instrumentation off
//! (`ObserveConfig::enabled = false`), on with no subscriber/recorder installed, and on with a
//! subscriber that enables every span (a registry with a no-op layer) plus a no-op metrics
//! recorder — the "no-op exporter" case. Ratios are against "off" in the same run.
//!
//! `cargo bench -p dataflow-core --bench observe`. SQLite (temp file) always; PostgreSQL and
//! MariaDB/MySQL at `DATAFLOW_TEST_POSTGRES_URL` / `DATAFLOW_TEST_MYSQL_URL` when reachable.
//! `BENCH_ITERS` (default 1000) operations per round, `BENCH_ROUNDS` (default 5) interleaved
//! rounds; the median round is reported, as wall time and as the process's on-CPU time (the
//! client-side cost, robust to other load on the machine).
//!
//! Instruction counts (deterministic, for overheads smaller than this machine's timing noise):
//! `cargo xtask bench --observe-instructions` runs this binary under valgrind with
//! `BENCH_INSTR=<backend>,<mode>,<op>,<n>` — one backend, one mode (`off`, `on`, `exporter`), one
//! operation (`read`, `insert`) repeated n times after the same set-up — and takes the difference
//! between two n as the instructions of one operation, every thread included.
//! `BENCH_EXPORTER_LEVEL=info` makes the exporter mode build the operation spans only.

use std::sync::OnceLock;
use std::time::Instant;

use dataflow_core::DataFlow;
use dataflow_core::observe::ObserveConfig;
use dataflow_sql::{FieldValue, Model, ModelSchema, Result, Value};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, Clone)]
struct Probe {
    id: i64,
    name: String,
    qty: i32,
}

impl Model for Probe {
    fn schema() -> &'static ModelSchema {
        static S: OnceLock<ModelSchema> = OnceLock::new();
        S.get_or_init(|| {
            let mut s = ModelSchema::from_json(&json!({"name": "Probe", "fields": [
                {"name": "id", "type": "i64"}, {"name": "name", "type": "string"}, {"name": "qty", "type": "i32"}]}))
            .unwrap();
            s.table = format!("observe_bench_{}", std::process::id());
            s
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![Value::I64(self.id), Value::String(self.name.clone()), Value::I32(self.qty)]
    }
    fn from_values(v: Vec<Value>) -> Result<Self> {
        let mut it = v.into_iter();
        let bad = || dataflow_sql::model::decode_error("Probe", "?", "value");
        Ok(Probe {
            id: it.next().and_then(i64::from_value).ok_or_else(bad)?,
            name: it.next().and_then(String::from_value).ok_or_else(bad)?,
            qty: it.next().and_then(i32::from_value).ok_or_else(bad)?,
        })
    }
}

fn env_usize(k: &str, d: usize) -> usize {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Off,
    On,
    OnExporter,
}

async fn connect(url: &str, enabled: bool) -> DataFlow {
    let db = DataFlow::builder(url)
        .max_connections(2)
        .observe(ObserveConfig { enabled, ..ObserveConfig::default() })
        .connect()
        .await
        .unwrap();
    db.register::<Probe>().await.unwrap();
    db
}

/// On-CPU time of this process so far, in ns: the sum of every thread's run time from
/// `/proc/self/task/*/schedstat` (Linux; 0 elsewhere). Unlike wall time it does not count the
/// database server's work nor time other processes take the CPU, so it stays comparable on a
/// busy machine; it is the client-side cost the instrumentation adds to.
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .sum()
}

/// µs per operation of one round: wall (read by id, insert) and on-CPU (read by id, insert).
async fn round(db: &DataFlow, ids: &[i64], n: usize) -> [f64; 4] {
    let (t, c) = (Instant::now(), cpu_ns());
    for i in 0..n {
        let r = db.express().read::<Probe>(ids[i % ids.len()]).await.unwrap();
        assert!(r.is_some());
    }
    let read = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let read_cpu = cpu_ns().saturating_sub(c) as f64 / 1e3 / n as f64;
    let (t, c) = (Instant::now(), cpu_ns());
    for i in 0..n {
        db.express().create(&Probe { id: 0, name: format!("p{i}"), qty: 1 }).await.unwrap();
    }
    let insert = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let insert_cpu = cpu_ns().saturating_sub(c) as f64 / 1e3 / n as f64;
    [read, insert, read_cpu, insert_cpu]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn bench(label: &str, url: &str) {
    let n = env_usize("BENCH_ITERS", 1000);
    let rounds = env_usize("BENCH_ROUNDS", 5);
    let off = connect(url, false).await;
    let on = connect(url, true).await;
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(off.express().create(&Probe { id: 0, name: format!("seed{i}"), qty: 0 }).await.unwrap().id);
    }
    // Warm-up (statement caches, pool).
    round(&off, &ids, 50).await;
    round(&on, &ids, 50).await;
    let modes = [Mode::Off, Mode::On, Mode::OnExporter];
    let mut res: Vec<[Vec<f64>; 4]> = vec![Default::default(); 3];
    for r in 0..rounds {
        // Alternate the order per round so drift (WAL growth, checkpoints) does not favour one mode.
        let order: Vec<usize> = if r % 2 == 0 { vec![0, 1, 2] } else { vec![2, 1, 0] };
        for k in order {
            let m = &modes[k];
            let out = if *m == Mode::OnExporter {
                // Every span enabled and built (registry), every metric handed to a recorder.
                // DataFlow's targets only, as a global filter (how an `EnvFilter` is usually installed):
                // sqlx's own callsites are then disabled once, not filtered per event.
                let only_dataflow =
                    tracing_subscriber::filter::Targets::new().with_target("dataflow", exporter_level());
                let _t = tracing::subscriber::set_default(
                    tracing_subscriber::registry().with(only_dataflow).with(NoopLayer),
                );
                let _m = metrics::set_default_local_recorder(&metrics::NoopRecorder);
                round(&on, &ids, n).await
            } else {
                round(if *m == Mode::Off { &off } else { &on }, &ids, n).await
            };
            for (series, v) in res[k].iter_mut().zip(out) {
                series.push(v);
            }
        }
    }
    let r: Vec<[f64; 4]> = res.into_iter().map(|m| m.map(median)).collect();
    for (j, what) in ["read by id, wall", "insert, wall", "read by id, CPU", "insert, CPU"].into_iter().enumerate() {
        println!(
            "{label:<9} {what:<17} off {:>7.1} µs | on {:>7.1} µs ({:.3}×) | on + no-op exporter {:>7.1} µs ({:.3}×)",
            r[0][j],
            r[1][j],
            r[1][j] / r[0][j],
            r[2][j],
            r[2][j] / r[0][j]
        );
    }
    if let dataflow_core::RawPool::Postgres(_) | dataflow_core::RawPool::MySql(_) = off.raw_pool() {
        drop_table(&off, &Probe::schema().table).await;
    }
    on.close().await;
    off.close().await;
}

async fn drop_table(db: &DataFlow, table: &str) {
    let sql = format!("DROP TABLE IF EXISTS {table}");
    match db.raw_pool() {
        dataflow_core::RawPool::Postgres(p) => drop(sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await),
        dataflow_core::RawPool::MySql(p) => drop(sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await),
        dataflow_core::RawPool::Sqlite(_) => {}
    }
}

/// The level of DataFlow's targets in the exporter mode: `BENCH_EXPORTER_LEVEL` (`trace`, the
/// default, builds every operation and statement span; `info` builds the operation spans only, the
/// statement spans being DEBUG).
fn exporter_level() -> tracing::Level {
    std::env::var("BENCH_EXPORTER_LEVEL").ok().and_then(|l| l.parse().ok()).unwrap_or(tracing::Level::TRACE)
}

/// A layer that does nothing: with it every span and event is enabled and built by the registry.
struct NoopLayer;
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

/// `BENCH_INSTR=<backend>,<mode>,<op>,<n>`: set up as [`bench`] does, then run `op` n times in
/// `mode` and exit (see the module docs). Everything but the n operations is the same for two
/// runs that differ only in n, so their instruction counts differ by n operations.
async fn instr(spec: &str) {
    let parts: Vec<&str> = spec.split(',').collect();
    let [backend, mode, op, n] = parts[..] else { panic!("BENCH_INSTR=<backend>,<mode>,<op>,<n>, got {spec:?}") };
    let n: usize = n.parse().expect("n");
    let path = std::env::temp_dir().join(format!("df_observe_instr_{}.db", std::process::id()));
    let url = match backend {
        "sqlite" => format!("sqlite://{}", path.display()),
        "postgres" => std::env::var("DATAFLOW_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
        "mysql" => {
            std::env::var("DATAFLOW_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
        }
        other => panic!("unknown backend {other}"),
    };
    let db = connect(&url, mode != "off").await;
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(db.express().create(&Probe { id: 0, name: format!("seed{i}"), qty: 0 }).await.unwrap().id);
    }
    let _t = (mode == "exporter").then(|| {
        let only_dataflow = tracing_subscriber::filter::Targets::new().with_target("dataflow", exporter_level());
        tracing::subscriber::set_default(tracing_subscriber::registry().with(only_dataflow).with(NoopLayer))
    });
    let _m = (mode == "exporter").then(|| metrics::set_default_local_recorder(&metrics::NoopRecorder));
    // Warm-up: statement caches, pool, per-model metric keys.
    round(&db, &ids, 50).await;
    for i in 0..n {
        if op == "read" {
            assert!(db.express().read::<Probe>(ids[i % ids.len()]).await.unwrap().is_some());
        } else {
            db.express().create(&Probe { id: 0, name: format!("p{i}"), qty: 1 }).await.unwrap();
        }
    }
    drop((_t, _m));
    if backend != "sqlite" {
        drop_table(&db, &Probe::schema().table).await;
    }
    db.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    if let Ok(spec) = std::env::var("BENCH_INSTR") {
        rt.block_on(instr(&spec));
        return;
    }
    rt.block_on(async {
        let path = std::env::temp_dir().join(format!("df_observe_bench_{}.db", std::process::id()));
        bench("sqlite", &format!("sqlite://{}", path.display())).await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        for (label, var, default) in [
            ("postgres", "DATAFLOW_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
            ("mysql", "DATAFLOW_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
        ] {
            let url = std::env::var(var).unwrap_or_else(|_| default.to_owned());
            match DataFlow::connect(&url).await {
                Ok(probe) => {
                    probe.close().await;
                    bench(label, &url).await;
                }
                Err(e) => println!("{label:<9} skipped: {e}"),
            }
        }
    });
}
