//! Read replicas (issue 18): routing, read-your-writes, failover, retry on a lost connection
//! and replica lag, against the local PostgreSQL streaming replica that `cargo xtask db up`
//! starts on 127.0.0.1:5433 (`DATAFLOW_TEST_POSTGRES_REPLICA_URL`; under `CI=true` an
//! unreachable replica fails the suite). On every backend: `read_urls` pointing at the primary
//! itself still routes reads there and keeps writes working.

use std::time::{Duration, Instant};

use dataflow_core::{DataFlow, ReplicaConfig};
use dataflow_sql::{ErrorCode, FieldDef, FieldType, ModelSchema};
use dataflow_tests::{TestDb, backend_tests, in_ci};
use serde_json::json;
use sqlx::Connection;

const DEFAULT_REPLICA_URL: &str = "postgres://postgres@127.0.0.1:5433/test";

fn replica_admin_url() -> String {
    std::env::var("DATAFLOW_TEST_POSTGRES_REPLICA_URL").unwrap_or_else(|_| DEFAULT_REPLICA_URL.into())
}

fn schema() -> ModelSchema {
    ModelSchema::new("RepItem", vec![FieldDef::new("id", FieldType::String), FieldDef::new("n", FieldType::I64)])
}

/// The PostgreSQL test database `t` as seen through the replica, once the replica has replayed
/// its CREATE DATABASE. `None` (outside CI) when no replica runs; a panic under CI.
async fn replica_of(t: &TestDb) -> Option<String> {
    let admin = replica_admin_url();
    let url = dataflow_core::testing::with_database(&admin, t.name());
    let t0 = Instant::now();
    loop {
        match sqlx::PgConnection::connect(&url).await {
            Ok(c) => {
                let _ = c.close().await;
                return Some(url);
            }
            Err(e) if t0.elapsed() > Duration::from_secs(20) => {
                assert!(
                    !in_ci(),
                    "CI=true and the PostgreSQL replica is unreachable at {admin}: {e} (run `cargo xtask db up`)"
                );
                eprintln!("replicas: SKIPPED: no PostgreSQL replica at {admin}: {e} (run `cargo xtask db up`)");
                return None;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// `(in recovery, backends of database `db` whose last statement mentions `needle`)` on `url`.
async fn activity(url: &str, db: &str, needle: &str) -> (bool, i64) {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let r: (bool, i64) = sqlx::query_as(
        "SELECT pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid() AND query LIKE $2)",
    )
    .bind(db)
    .bind(format!("%{needle}%"))
    .fetch_one(&mut c)
    .await
    .unwrap();
    let _ = c.close().await;
    r
}

/// Polls until the replica has replayed the record `id` (a count through the replica).
async fn wait_replayed(replica_url: &str, id: &str) {
    let mut c = sqlx::PgConnection::connect(replica_url).await.unwrap();
    let t0 = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM rep_items WHERE id = $1")
            .bind(id)
            .fetch_one(&mut c)
            .await
            .unwrap_or(0);
        if n == 1 {
            return;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "the replica did not replay `{id}` within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn pg_db(t: &TestDb, replica: &str, rc: ReplicaConfig) -> DataFlow {
    let db = DataFlow::builder(t.url()).read_replica(replica).replica_config(rc).connect().await.unwrap();
    db.register_schema(schema()).await.unwrap();
    db
}

fn no_ryw() -> ReplicaConfig {
    ReplicaConfig { read_your_writes: None, ..ReplicaConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_hit_the_replica_and_writes_the_primary() {
    let Some(t) = TestDb::postgres().await else { return };
    let Some(replica) = replica_of(&t).await else { return };
    let db = pg_db(&t, &replica, no_ryw()).await;
    // A write: the replica would refuse it (read-only); it lands on the primary.
    db.express().create_json("RepItem", &json!({"id": "a", "n": 1})).await.unwrap();
    let (primary_in_recovery, primary_inserts) = activity(t.url(), t.name(), "INSERT INTO \"rep_items\"").await;
    assert!(!primary_in_recovery);
    assert!(primary_inserts >= 1, "the INSERT ran on the primary");
    wait_replayed(&replica, "a").await;

    let before = db.stats();
    let page = db.express().list_json("RepItem", &json!({"filter": {"n": {"$gte": 1}}})).await.unwrap();
    assert_eq!(page["count"], 1);
    let n = db.express().count_json("RepItem", &json!({"n": 1})).await.unwrap();
    assert_eq!(n, 1);
    let rec = db.express().read_json("RepItem", &json!("a")).await.unwrap().unwrap();
    assert_eq!(rec["n"], 1);
    let one = db.express().find_one_json("RepItem", &json!({"id": "a"})).await.unwrap();
    assert!(one.is_some());

    // The connection that ran the SELECTs belongs to a server in recovery: the replica.
    let (replica_in_recovery, replica_selects) = activity(&replica, t.name(), "FROM \"rep_items\"").await;
    assert!(replica_in_recovery, "the read replica must be in recovery (a hot standby)");
    assert!(replica_selects >= 1, "the reads ran on the replica");
    let (_, replica_inserts) = activity(&replica, t.name(), "INSERT").await;
    assert_eq!(replica_inserts, 0, "no write went to the replica");

    let after = db.stats();
    assert_eq!(after.replicas.len(), 1);
    assert_eq!(after.replicas[0].reads - before.replicas[0].reads, 4, "{after}");
    assert_eq!(after.primary_reads, before.primary_reads, "{after}");
    assert!(after.replicas[0].healthy);
    // Replica lag is measured by the health check: caught up on loopback.
    let lag = after.replicas[0].lag.expect("PostgreSQL reports the replica's lag");
    assert!(lag < Duration::from_secs(60), "lag {lag:?}");
    assert!(after.to_string().contains(" up: lag "), "{after}");

    // A transaction reads on the primary, its own writes included.
    let seen = db
        .transaction(|tx| {
            use futures::FutureExt;
            async move {
                tx.express().create_json("RepItem", &json!({"id": "b", "n": 2})).await?;
                tx.express().count_json("RepItem", &json!({})).await
            }
            .boxed()
        })
        .await
        .unwrap();
    assert_eq!(seen, 2);
    assert_eq!(db.stats().replicas[0].reads, after.replicas[0].reads, "nothing in the transaction went to the replica");

    // Streams read the replica too.
    use futures::StreamExt;
    wait_replayed(&replica, "b").await;
    let rows: Vec<_> = db.express().list_stream_json("RepItem", &json!({})).collect().await;
    assert_eq!(rows.len(), 2);
    assert_eq!(db.stats().replicas[0].reads, after.replicas[0].reads + 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_your_writes_and_primary_per_call() {
    let Some(t) = TestDb::postgres().await else { return };
    let Some(replica) = replica_of(&t).await else { return };
    let window = Duration::from_millis(1500);
    let rc = ReplicaConfig { read_your_writes: Some(window), ..ReplicaConfig::default() };
    let db = pg_db(&t, &replica, rc).await;
    let s0 = db.stats();
    db.express().create_json("RepItem", &json!({"id": "a", "n": 1})).await.unwrap();
    // Right after the write: the read goes to the primary and sees the write, whatever the lag.
    let rec = db.express().read_json("RepItem", &json!("a")).await.unwrap();
    assert_eq!(rec.unwrap()["n"], 1);
    let s1 = db.stats();
    assert_eq!(s1.primary_reads, s0.primary_reads + 1, "{s1}");
    assert_eq!(s1.replicas[0].reads, s0.replicas[0].reads, "{s1}");
    // A clone of the handle shares the window (same instance).
    let db2 = db.clone();
    db2.express().count_json("RepItem", &json!({})).await.unwrap();
    assert_eq!(db.stats().primary_reads, s0.primary_reads + 2);

    // After the window, reads go back to the replica.
    tokio::time::sleep(window + Duration::from_millis(200)).await;
    wait_replayed(&replica, "a").await;
    db.express().count_json("RepItem", &json!({})).await.unwrap();
    let s2 = db.stats();
    assert_eq!(s2.replicas[0].reads, s0.replicas[0].reads + 1, "{s2}");
    // `.primary()` per call.
    db.express().primary().count_json("RepItem", &json!({})).await.unwrap();
    let s3 = db.stats();
    assert_eq!(s3.primary_reads, s2.primary_reads + 1);
    assert_eq!(s3.replicas[0].reads, s2.replicas[0].reads);
    // A committed transaction that wrote opens the window too.
    db.transaction(|tx| {
        use futures::FutureExt;
        async move { tx.express().create_json("RepItem", &json!({"id": "b", "n": 2})).await.map(drop) }.boxed()
    })
    .await
    .unwrap();
    assert_eq!(db.express().count_json("RepItem", &json!({})).await.unwrap(), 2);
    assert_eq!(db.stats().primary_reads, s3.primary_reads + 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_replica_is_skipped_and_all_down_falls_back_to_the_primary() {
    let Some(t) = TestDb::postgres().await else { return };
    let Some(replica) = replica_of(&t).await else { return };
    // Port 9 (discard) on loopback: nothing listens, connections are refused.
    let dead = format!("postgres://postgres@127.0.0.1:9/{}", t.name());
    let rc = ReplicaConfig { acquire_timeout: Duration::from_millis(300), ..no_ryw() };
    let db = DataFlow::builder(t.url())
        .read_replica(&dead)
        .read_replica(&replica)
        .replica_config(rc.clone())
        .connect()
        .await
        .unwrap();
    db.register_schema(schema()).await.unwrap();
    db.express().create_json("RepItem", &json!({"id": "a", "n": 1})).await.unwrap();
    wait_replayed(&replica, "a").await;
    for _ in 0..10 {
        assert_eq!(db.express().count_json("RepItem", &json!({})).await.unwrap(), 1);
    }
    let s = db.stats();
    assert!(!s.replicas[0].healthy, "{s}");
    assert!(s.replicas[0].failures >= 1);
    assert!(s.replicas[0].last_error.is_some());
    assert_eq!(s.replicas[0].reads, 0);
    assert_eq!(s.replicas[1].reads, 10, "{s}");
    assert_eq!(s.replica_fallbacks, 0);
    db.close().await;

    // Every replica down: reads go to the primary.
    let db = DataFlow::builder(t.url()).read_replica(&dead).replica_config(rc).connect().await.unwrap();
    db.register_schema(schema()).await.unwrap();
    for _ in 0..3 {
        assert_eq!(db.express().count_json("RepItem", &json!({})).await.unwrap(), 1);
    }
    let s = db.stats();
    assert_eq!(s.replica_fallbacks, 3, "{s}");
    assert_eq!(s.primary_reads, 3);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_loses_its_replica_connection_is_retried() {
    let Some(t) = TestDb::postgres().await else { return };
    let Some(replica) = replica_of(&t).await else { return };
    // Health checks far apart: only the read itself can notice the lost connections.
    let rc = ReplicaConfig { check_interval: Duration::from_secs(3600), ..no_ryw() };
    let db = DataFlow::builder(t.url())
        .read_replica(&replica)
        .replica_config(rc)
        .max_connections(1)
        .connect()
        .await
        .unwrap();
    db.register_schema(schema()).await.unwrap();
    db.express().create_json("RepItem", &json!({"id": "a", "n": 1})).await.unwrap();
    wait_replayed(&replica, "a").await;
    assert_eq!(db.express().count_json("RepItem", &json!({})).await.unwrap(), 1);
    assert_eq!(db.stats().replicas[0].reads, 1);
    // Kill the replica's server-side sessions of this database (a replica restart, seen by the pool).
    let mut admin = sqlx::PgConnection::connect(&replica).await.unwrap();
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()) k",
    )
    .bind(t.name())
    .fetch_one(&mut admin)
    .await
    .unwrap();
    let _ = admin.close().await;
    assert!(killed >= 1);
    // The pooled replica connection is dead: the read fails on it, is retried once elsewhere
    // (the primary, the only other server) and succeeds.
    assert_eq!(db.express().count_json("RepItem", &json!({})).await.unwrap(), 1);
    let s = db.stats();
    assert!(s.replicas[0].failures >= 1, "{s}");
    assert!(!s.replicas[0].healthy, "marked down until the next good health check: {s}");
    assert!(s.replica_fallbacks >= 1, "the retry went to the primary: {s}");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_of_another_database_kind_is_refused() {
    let err = DataFlow::builder("sqlite::memory:").read_replica("postgres://u@h/db").connect().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::INVALID_CONFIG);
    assert!(err.to_string().contains("read replica"), "{err}");
    let err = DataFlow::builder("sqlite::memory:").read_replica("sqlite::memory:").connect().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::INVALID_CONFIG);
    assert!(err.to_string().contains("in-memory"), "{err}");
}

/// `read_urls` naming the primary's own database: reads are routed to the "replica" pool and
/// see every write at once; writes and transactions work as without replicas.
async fn read_urls_on_the_same_database_route_reads(t: &TestDb) {
    let db = DataFlow::builder(t.url()).read_replica(t.url()).read_your_writes(None).connect().await.unwrap();
    db.register_schema(schema()).await.unwrap();
    for i in 0..5 {
        db.express().create_json("RepItem", &json!({"id": format!("r{i}"), "n": i})).await.unwrap();
    }
    let page = db.express().list_json("RepItem", &json!({"filter": {"n": {"$gte": 2}}})).await.unwrap();
    assert_eq!(page["count"], 3);
    assert_eq!(db.express().count_json("RepItem", &json!({})).await.unwrap(), 5);
    assert_eq!(db.express().read_json("RepItem", &json!("r4")).await.unwrap().unwrap()["n"], 4);
    let s = db.stats();
    assert_eq!(s.replicas.len(), 1);
    assert_eq!(s.replicas[0].reads, 3, "{s}");
    assert!(s.replicas[0].healthy, "{s}");
    assert_eq!(s.primary_reads, 0);
    db.express().primary().count_json("RepItem", &json!({})).await.unwrap();
    assert_eq!(db.stats().primary_reads, 1);
    db.close().await;
}

backend_tests!(read_urls_on_the_same_database_route_reads);
