//! Scaling measurements (ignored by default; numbers go to docs/benchmarks.md, "Read replicas
//! and query cache"):
//!
//! ```text
//! cargo test --release -p dataflow-tests --test scaling_bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - a repeated List of 100 records: query cache (in-process: `list_json`, which copies the
//!   cached result, and `list_json_shared`, which shares it; and `list_json` with Redis
//!   generations) against no cache and against the same SELECT in raw sqlx (target: cached ≥ 10×
//!   uncached);
//! - read throughput of 32 concurrent readers (Read by id): primary only, against the streaming
//!   replica, and against replica + primary both as read targets (PostgreSQL; needs the replica
//!   of `cargo xtask db up`).

use std::time::{Duration, Instant};

use dataflow_core::{DataFlow, QueryCacheConfig, ReplicaConfig};
use dataflow_sql::{FieldDef, FieldType, ModelSchema};
use dataflow_tests::{Backend, TestDb};
use serde_json::json;

const ROUNDS: u32 = 2_000;

fn schema() -> ModelSchema {
    ModelSchema::new(
        "BenchItem",
        vec![
            FieldDef::new("id", FieldType::String),
            FieldDef::new("name", FieldType::String),
            FieldDef::new("n", FieldType::I64),
        ],
    )
}

async fn seed(db: &DataFlow) {
    db.register_schema(schema()).await.unwrap();
    let rows: Vec<_> =
        (0..100).map(|i| json!({"id": format!("i{i:03}"), "name": format!("item {i}"), "n": i})).collect();
    db.express().bulk_create_json("BenchItem", &json!(rows)).await.unwrap();
}

fn us(d: Duration, n: u32) -> f64 {
    d.as_secs_f64() * 1e6 / f64::from(n)
}

async fn raw_list(db: &DataFlow) -> usize {
    use dataflow_core::RawPool;
    let sql = "SELECT id, name, n FROM bench_items WHERE n >= 0 ORDER BY n";
    match db.raw_pool() {
        RawPool::Postgres(p) => sqlx::query(sql).fetch_all(p).await.unwrap().len(),
        RawPool::MySql(p) => sqlx::query(sql).fetch_all(p).await.unwrap().len(),
        RawPool::Sqlite(p) => sqlx::query(sql).fetch_all(p).await.unwrap().len(),
    }
}

async fn cache(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let db = DataFlow::connect(t.url()).await.unwrap();
    seed(&db).await;
    let redis_cfg =
        QueryCacheConfig { redis_url: Some("redis://127.0.0.1:6379".into()), ..QueryCacheConfig::default() };
    let dbr = match DataFlow::builder(t.url()).query_cache(redis_cfg).connect().await {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("no Redis: {e}");
            None
        }
    };
    if let Some(d) = &dbr {
        d.register_schema(schema()).await.unwrap();
    }
    let q = json!({"filter": {"n": {"$gte": 0}}, "order_by": ["n"]});
    for _ in 0..100 {
        db.express().list_json("BenchItem", &q).await.unwrap();
        db.express().cached().list_json("BenchItem", &q).await.unwrap();
        raw_list(&db).await;
    }
    let (mut raw, mut plain, mut cached, mut redis) = (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut shared = Duration::ZERO;
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        assert_eq!(raw_list(&db).await, 100);
        raw += t0.elapsed();
        let t0 = Instant::now();
        let p = db.express().list_json("BenchItem", &q).await.unwrap();
        plain += t0.elapsed();
        assert_eq!(p["count"], 100);
        let t0 = Instant::now();
        let p = db.express().cached().list_json("BenchItem", &q).await.unwrap();
        cached += t0.elapsed();
        assert_eq!(p["count"], 100);
        let t0 = Instant::now();
        let p = db.express().cached().list_json_shared("BenchItem", &q).await.unwrap();
        shared += t0.elapsed();
        assert_eq!(p["count"], 100);
        if let Some(d) = &dbr {
            let t0 = Instant::now();
            let p = d.express().cached().list_json("BenchItem", &q).await.unwrap();
            redis += t0.elapsed();
            assert_eq!(p["count"], 100);
        }
    }
    let s = db.stats().query_cache;
    println!(
        "{backend:?}: List of 100 rows: raw sqlx {:.1} µs, DataFlow uncached {:.1} µs, cached (moka) {:.1} µs \
         ({:.1}x faster than uncached, {:.1}x than raw sqlx), cached shared (list_json_shared) {:.1} µs ({:.1}x), \
         cached with Redis generations {:.1} µs ({:.1}x); hit ratio {:.3}",
        us(raw, ROUNDS),
        us(plain, ROUNDS),
        us(cached, ROUNDS),
        plain.as_secs_f64() / cached.as_secs_f64(),
        raw.as_secs_f64() / cached.as_secs_f64(),
        us(shared, ROUNDS),
        plain.as_secs_f64() / shared.as_secs_f64(),
        us(redis, ROUNDS),
        if redis.is_zero() { 0.0 } else { plain.as_secs_f64() / redis.as_secs_f64() },
        s.hit_ratio()
    );
    db.close().await;
    if let Some(d) = dbr {
        d.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run with --ignored --nocapture (see the module docs)"]
async fn cached_list_vs_uncached() {
    for b in Backend::ALL {
        cache(b).await;
    }
}

const READERS: usize = 32;
const READS_PER_READER: usize = 500;

async fn throughput(db: &DataFlow) -> f64 {
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for r in 0..READERS {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..READS_PER_READER {
                let id = format!("i{:03}", (r * 7 + i) % 100);
                let rec = db.express().read_json("BenchItem", &json!(id)).await.unwrap();
                assert!(rec.is_some());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    #[allow(clippy::cast_precision_loss, reason = "a rate")]
    let n = (READERS * READS_PER_READER) as f64;
    n / t0.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run with --ignored --nocapture (see the module docs)"]
async fn replica_read_throughput() {
    let Some(t) = TestDb::postgres().await else { return };
    let admin = std::env::var("DATAFLOW_TEST_POSTGRES_REPLICA_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5433/test".into());
    let replica = dataflow_core::testing::with_database(&admin, t.name());
    let primary = DataFlow::builder(t.url()).max_connections(16).connect().await.unwrap();
    seed(&primary).await;
    // Let the replica replay the seed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rc = ReplicaConfig { read_your_writes: None, ..ReplicaConfig::default() };
    let with_replica = DataFlow::builder(t.url())
        .max_connections(16)
        .read_replica(&replica)
        .replica_config(rc.clone())
        .connect()
        .await
        .unwrap();
    with_replica.register_schema(schema()).await.unwrap();
    let both = DataFlow::builder(t.url())
        .max_connections(8)
        .read_replica(&replica)
        .read_replica(t.url())
        .replica_config(rc)
        .connect()
        .await
        .unwrap();
    both.register_schema(schema()).await.unwrap();
    // Warm up, then interleave three runs of each.
    throughput(&primary).await;
    throughput(&with_replica).await;
    throughput(&both).await;
    let (mut p, mut r, mut b2) = (0.0, 0.0, 0.0);
    for _ in 0..3 {
        p += throughput(&primary).await;
        r += throughput(&with_replica).await;
        b2 += throughput(&both).await;
    }
    let s = with_replica.stats();
    assert!(s.replicas[0].reads > 0 && s.replica_fallbacks == 0, "{s}");
    println!(
        "Postgres, {READERS} concurrent readers, Read by id: primary only {:.0} reads/s, replica {:.0} reads/s \
         ({:.2}x), replica + primary as read targets {:.0} reads/s ({:.2}x)",
        p / 3.0,
        r / 3.0,
        r / p,
        b2 / 3.0,
        b2 / p
    );
    primary.close().await;
    with_replica.close().await;
    both.close().await;
}
