//! Typed Express vs raw sqlx on the same pool, and dynamic vs typed Express.
//!
//! `cargo bench -p dataflow-core --bench express` (plain `Instant` loops, `harness = false`).
//! Backends: SQLite (temp file) always; PostgreSQL and MariaDB/MySQL at
//! `DATAFLOW_TEST_POSTGRES_URL` / `DATAFLOW_TEST_MYSQL_URL` (local defaults) when reachable.
//! `BENCH_ITERS` (default 2000) sets the loop length; `BENCH_BULK` (default "10000,100000") the bulk sizes.
//! `BENCH_ONLY=tenant` runs only the tenant-scoped vs unscoped section (docs/guide/multi-tenancy.md);
//! `BENCH_ONLY=bulk` only the bulk-create section (`BENCH_BULK_ROUNDS` rounds, default 1).
//! `BENCH_INSTR=<backend>,<op>,<n>` (backend `sqlite|postgres|mariadb`; op `read`, `list`, `stream`,
//! `list_json`, `stream_json`, `read_json`, `update`, `raw_read`, `raw_list`, `raw_stream`, and the
//! tenant-scoped `t_read`, `t_list`, `t_update` of issue 14) seeds 1000 rows,
//! warms up, then runs only that operation `n` times: run it under
//! `valgrind --tool=cachegrind --cache-sim=no` with two `n` and divide the difference of the
//! instruction counts by the difference of the `n` (instructions per operation; issue 13).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dataflow_core::{DataFlow, Query, RawPool};
use dataflow_sql::stmt::{self, Rows, Scope, SelectSpec};
use dataflow_sql::{Columns, Dialect, FieldValue, Model, ModelSchema, Result, Value};
use sea_query_sqlx::SqlxValues;
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};

#[derive(Debug, Clone)]
struct Bench {
    id: i64,
    name: String,
    qty: i32,
    score: f64,
}

impl Model for Bench {
    fn schema() -> &'static ModelSchema {
        static S: OnceLock<ModelSchema> = OnceLock::new();
        S.get_or_init(|| {
            let mut s = ModelSchema::from_json(&json!({"name": "Bench", "fields": [
                {"name": "id", "type": "i64"}, {"name": "name", "type": "string"},
                {"name": "qty", "type": "i32"}, {"name": "score", "type": "f64"}]}))
            .unwrap();
            s.table = format!("bench_rows_{}", std::process::id());
            s
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![Value::I64(self.id), Value::String(self.name.clone()), Value::I32(self.qty), Value::F64(self.score)]
    }
    fn from_values(v: Vec<Value>) -> Result<Self> {
        let mut it = v.into_iter();
        let bad = || dataflow_sql::model::decode_error("Bench", "?", "value");
        Ok(Bench {
            id: it.next().and_then(i64::from_value).ok_or_else(bad)?,
            name: it.next().and_then(String::from_value).ok_or_else(bad)?,
            qty: it.next().and_then(i32::from_value).ok_or_else(bad)?,
            score: it.next().and_then(f64::from_value).ok_or_else(bad)?,
        })
    }
    // What `#[dataflow::model]` generates in effect: each field from its column, no `Vec<Value>`.
    fn from_columns(c: &mut dyn Columns) -> Result<Self> {
        let bad = || dataflow_sql::model::decode_error("Bench", "?", "value");
        Ok(Bench {
            id: i64::next_column(c)?.ok_or_else(bad)?,
            name: String::next_column(c)?.ok_or_else(bad)?,
            qty: i32::next_column(c)?.ok_or_else(bad)?,
            score: f64::next_column(c)?.ok_or_else(bad)?,
        })
    }
}

/// `Bench` as a multi-tenant model (same fields, own table): tenant-scoped vs unscoped.
#[derive(Debug, Clone)]
struct TenantBench(Bench);

impl Model for TenantBench {
    fn schema() -> &'static ModelSchema {
        static S: OnceLock<ModelSchema> = OnceLock::new();
        S.get_or_init(|| {
            let mut s = Bench::schema().clone();
            s.name = "TenantBench".into();
            s.table = format!("bench_tenant_rows_{}", std::process::id());
            s.options.multi_tenant = true;
            s
        })
    }
    fn to_values(&self) -> Vec<Value> {
        self.0.to_values()
    }
    fn from_values(v: Vec<Value>) -> Result<Self> {
        Bench::from_values(v).map(TenantBench)
    }
    // As `Bench` (and as the macro generates): without it every scoped row would be decoded
    // through `Vec<Value>`, the default's fallback, and the comparison would measure that.
    fn from_columns(c: &mut dyn Columns) -> Result<Self> {
        Bench::from_columns(c).map(TenantBench)
    }
}

/// Tenant-scoped typed read / list / update against the same calls on the unscoped `Bench`,
/// interleaved in one run (two tenants of 1000 rows each; `Bench` holds 1000 rows): 20 chunks
/// per round, the side that runs first alternating per chunk. Each row gives the ratio of the
/// totals and the median of the 20 per-chunk ratios (steadier on a shared machine).
async fn bench_tenant(name: &str, url: &str, iters: usize, rep: &mut Report) {
    let db = match DataFlow::builder(url).max_connections(4).connect().await {
        Ok(db) => db,
        Err(e) => {
            println!("| {name} | skipped: {e} |");
            return;
        }
    };
    db.register::<Bench>().await.unwrap();
    db.register::<TenantBench>().await.unwrap();
    let seed: Vec<Bench> = (0..1000).map(row).collect();
    let mut plain = db.express();
    plain.bulk_create(&seed).await.unwrap();
    let ids: Vec<i64> = plain.list::<Bench>(&Query::new().limit(1000)).await.unwrap().iter().map(|r| r.id).collect();
    let tseed: Vec<TenantBench> = seed.iter().cloned().map(TenantBench).collect();
    db.tenant("other").bulk_create(&tseed).await.unwrap();
    let mut scoped = db.tenant("t1");
    scoped.bulk_create(&tseed).await.unwrap();
    let tids: Vec<i64> =
        scoped.list::<TenantBench>(&Query::new().limit(1000)).await.unwrap().iter().map(|r| r.0.id).collect();
    let n = iters / 2;
    let q = Query::new().limit(100);
    // CHUNKS short chunks per round, the two sides of each operation back to back in an order
    // that alternates per chunk (so drift and order effects on a shared machine hit both sides
    // alike). Reported: the ratio of the totals and the median of the per-chunk ratios.
    const CHUNKS: usize = 20;
    const LABELS: [&str; 3] = ["read by id", "list 100", "update by id"];
    for round in 0..2 {
        let mut total = [[Duration::ZERO; 2]; 3];
        let mut ratios: [Vec<f64>; 3] = Default::default();
        for chunk in 0..CHUNKS {
            let range = (chunk * n / CHUNKS)..((chunk + 1) * n / CHUNKS);
            for (op, ratios) in ratios.iter_mut().enumerate() {
                let mut d = [Duration::ZERO; 2];
                for side in if chunk % 2 == 0 { [0, 1] } else { [1, 0] } {
                    let t = Instant::now();
                    match (op, side) {
                        (0, 0) => {
                            for i in range.clone() {
                                assert!(scoped.read::<TenantBench>(tids[i % tids.len()]).await.unwrap().is_some());
                            }
                        }
                        (0, _) => {
                            for i in range.clone() {
                                assert!(plain.read::<Bench>(ids[i % ids.len()]).await.unwrap().is_some());
                            }
                        }
                        (1, 0) => {
                            for _ in range.clone().step_by(4) {
                                assert_eq!(scoped.list::<TenantBench>(&q).await.unwrap().len(), 100);
                            }
                        }
                        (1, _) => {
                            for _ in range.clone().step_by(4) {
                                assert_eq!(plain.list::<Bench>(&q).await.unwrap().len(), 100);
                            }
                        }
                        (_, 0) => {
                            for i in range.clone().step_by(4) {
                                let r = Bench { id: tids[i % tids.len()], name: "u".into(), qty: 1, score: 2.0 };
                                scoped.update(&TenantBench(r)).await.unwrap().unwrap();
                            }
                        }
                        (_, _) => {
                            for i in range.clone().step_by(4) {
                                let r = Bench { id: ids[i % ids.len()], name: "u".into(), qty: 1, score: 2.0 };
                                plain.update(&r).await.unwrap().unwrap();
                            }
                        }
                    }
                    d[side] = t.elapsed();
                }
                total[op][0] += d[0];
                total[op][1] += d[1];
                ratios.push(d[0].as_secs_f64() / d[1].as_secs_f64());
            }
        }
        if round == 1 {
            let m = n.div_ceil(4).max(1);
            for (op, label) in LABELS.iter().enumerate() {
                let count = if op == 0 { n } else { m };
                let mut r = std::mem::take(&mut ratios[op]);
                r.sort_by(f64::total_cmp);
                let what = format!(
                    "tenant-scoped/unscoped {label} (raw col = unscoped; median chunk ratio {:.3})",
                    r[r.len() / 2]
                );
                rep.ratio(name, &what, total[op][0], total[op][1], count);
            }
        }
    }
    let pool = db.raw_pool();
    for table in [&Bench::schema().table, &TenantBench::schema().table] {
        let cleanup = format!("DROP TABLE {table}");
        match pool {
            RawPool::Sqlite(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
            RawPool::Postgres(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
            RawPool::MySql(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
        }
    }
    db.close().await;
}

fn row(i: usize) -> Bench {
    Bench { id: 0, name: format!("name {i}"), qty: (i % 100) as i32, score: i as f64 * 0.5 }
}

/// Distinct bound values the filtered list cycles through.
const FILTER_VARIANTS: usize = 10;

/// `qty >= k AND name LIKE 'seed%'` with `k` cycling (every variant matches well over 100 rows).
fn filtered_filter(i: usize) -> serde_json::Value {
    json!({"qty": {"$gte": i % FILTER_VARIANTS}, "name": {"$startswith": "seed"}})
}

fn filtered_query(i: usize) -> Query {
    Query::new().filter(filtered_filter(i)).limit(100)
}

fn per_op(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

/// Raw sqlx: run `$sql` with `$values` on the pool and decode user fields + timestamps.
macro_rules! raw_fetch {
    ($pool:expr, $db:ty, $ts:ty, $sql:expr, $vals:expr) => {{
        let rows =
            sqlx::query_with::<$db, _>(AssertSqlSafe($sql.clone()), SqlxValues($vals)).fetch_all($pool).await.unwrap();
        rows.iter()
            .map(|r| {
                (
                    Bench {
                        id: r.get::<i64, _>(0),
                        name: r.get::<String, _>(1),
                        qty: r.get::<i32, _>(2),
                        score: r.get::<f64, _>(3),
                    },
                    r.get::<$ts, _>(4),
                    r.get::<$ts, _>(5),
                )
            })
            .count()
    }};
}

macro_rules! raw_exec {
    ($pool:expr, $db:ty, $sql:expr, $vals:expr) => {{
        sqlx::query_with::<$db, _>(AssertSqlSafe($sql.clone()), SqlxValues($vals))
            .execute($pool)
            .await
            .unwrap()
            .rows_affected()
    }};
}

struct Report {
    lines: Vec<String>,
}

impl Report {
    fn ratio(&mut self, backend: &str, what: &str, ours: Duration, raw: Duration, n: usize) {
        let line = format!(
            "| {backend} | {what} | {:.1} µs | {:.1} µs | {:.3} |",
            per_op(ours, n),
            per_op(raw, n),
            ours.as_secs_f64() / raw.as_secs_f64()
        );
        println!("{line}");
        self.lines.push(line);
    }
}

async fn bench_backend(name: &str, url: &str, iters: usize, bulk: &[usize], rep: &mut Report) {
    let db = match DataFlow::builder(url).max_connections(4).connect().await {
        Ok(db) => db,
        Err(e) => {
            println!("| {name} | skipped: {e} |");
            return;
        }
    };
    let s = Bench::schema();
    let d = db.dialect();
    db.register::<Bench>().await.unwrap();
    let ids: Vec<i64> = {
        let r = db.express().run("Bench", dataflow_sql::Operation::BulkCreate, &json!({
            "data": (0..1000).map(|i| json!({"name": format!("seed {i}"), "qty": i % 100, "score": 1.5})).collect::<Vec<_>>(),
            "return_ids": true})).await.unwrap();
        r["ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect()
    };
    let read_sql: Arc<str> = stmt::select_by_id(s, d, &Value::I64(1), Scope::default()).sql.into();
    let list = stmt::select(s, d, &SelectSpec { limit: Some(100), ..Default::default() });
    let list_sql: Arc<str> = list.sql.clone().into();
    let now = chrono::Utc::now();
    let fields = ["name", "qty", "score"];
    let ins_rows = vec![vec![Value::String("raw".into()), Value::I32(1), Value::F64(2.0)]];
    let ins =
        stmt::insert(s, d, &Rows { fields: &fields, rows: &ins_rows, now }, Scope::default(), d != Dialect::MySql);
    let ins_sql: Arc<str> = ins.sql.clone().into();
    let upd = stmt::update(
        s,
        d,
        Some(
            sea_query::Condition::all()
                .add(sea_query::ExprTrait::eq(sea_query::Expr::col(sea_query::Alias::new("id")), ids[0])),
        ),
        Scope::default(),
        &[("name", Value::String("upd".into())), ("qty", Value::I32(7)), ("score", Value::F64(1.0))],
        now,
    );
    let upd_sql: Arc<str> = upd.sql.clone().into();
    // The one-statement form an update by id is on PostgreSQL/SQLite (`UPDATE .. RETURNING`).
    let upd_ret = stmt::update_changes(
        s,
        d,
        Some(
            sea_query::Condition::all()
                .add(sea_query::ExprTrait::eq(sea_query::Expr::col(sea_query::Alias::new("id")), ids[0])),
        ),
        Scope::default(),
        &dataflow_sql::changes::Changes::new().set("name", "upd").set("qty", 7).set("score", 1.0),
        now,
        true,
    );
    let upd_ret_sql: Arc<str> = upd_ret.sql.clone().into();
    let filtered_raw: Vec<(Arc<str>, sea_query::Values)> = (0..FILTER_VARIANTS)
        .map(|i| {
            let f = dataflow_sql::filter::Filter::parse(&filtered_filter(i), s).unwrap();
            let st = stmt::select(
                s,
                d,
                &SelectSpec { condition: Some(f.to_condition(s, d)), limit: Some(100), ..Default::default() },
            );
            (Arc::from(st.sql.as_str()), st.values)
        })
        .collect();
    let pool = db.raw_pool();
    let mut ex = db.express();
    for round in 0..2 {
        // round 0 warms caches; round 1 is measured
        let t = Instant::now();
        for i in 0..iters {
            let r = ex.read::<Bench>(ids[i % ids.len()]).await.unwrap();
            assert!(r.is_some());
        }
        let ours = t.elapsed();
        let t = Instant::now();
        for i in 0..iters {
            let v = sea_query::Values(vec![sea_query::Value::BigInt(Some(ids[i % ids.len()]))]);
            let n = match pool {
                RawPool::Sqlite(p) => raw_fetch!(p, sqlx::Sqlite, String, read_sql, v),
                RawPool::Postgres(p) => raw_fetch!(p, sqlx::Postgres, chrono::DateTime<chrono::Utc>, read_sql, v),
                RawPool::MySql(p) => raw_fetch!(p, sqlx::MySql, chrono::NaiveDateTime, read_sql, v),
            };
            assert_eq!(n, 1);
        }
        let raw = t.elapsed();
        if round == 1 {
            rep.ratio(name, "read by id", ours, raw, iters);
        }

        let n = iters / 4;
        let t = Instant::now();
        for i in 0..n {
            ex.create(&row(i)).await.unwrap();
        }
        let ours = t.elapsed();
        let t = Instant::now();
        for _ in 0..n {
            match pool {
                RawPool::Sqlite(p) => assert_eq!(raw_fetch!(p, sqlx::Sqlite, String, ins_sql, ins.values.clone()), 1),
                RawPool::Postgres(p) => {
                    assert_eq!(
                        raw_fetch!(p, sqlx::Postgres, chrono::DateTime<chrono::Utc>, ins_sql, ins.values.clone()),
                        1
                    )
                }
                RawPool::MySql(p) => {
                    let r = sqlx::query_with::<sqlx::MySql, _>(
                        AssertSqlSafe(ins_sql.clone()),
                        SqlxValues(ins.values.clone()),
                    )
                    .execute(p)
                    .await
                    .unwrap();
                    let v = sea_query::Values(vec![sea_query::Value::BigInt(Some(r.last_insert_id() as i64))]);
                    assert_eq!(raw_fetch!(p, sqlx::MySql, chrono::NaiveDateTime, read_sql, v), 1);
                }
            }
        }
        let raw = t.elapsed();
        if round == 1 {
            rep.ratio(name, "insert one", ours, raw, n);
        }

        let target = Bench { id: ids[0], name: "upd".into(), qty: 7, score: 1.0 };
        let t = Instant::now();
        for _ in 0..n {
            ex.update(&target).await.unwrap().unwrap();
        }
        let ours = t.elapsed();
        let t = Instant::now();
        for _ in 0..n {
            // Same work as Express: UPDATE, then read the row back.
            let v = sea_query::Values(vec![sea_query::Value::BigInt(Some(ids[0]))]);
            match pool {
                RawPool::Sqlite(p) => {
                    raw_exec!(p, sqlx::Sqlite, upd_sql, upd.values.clone());
                    raw_fetch!(p, sqlx::Sqlite, String, read_sql, v)
                }
                RawPool::Postgres(p) => {
                    raw_exec!(p, sqlx::Postgres, upd_sql, upd.values.clone());
                    raw_fetch!(p, sqlx::Postgres, chrono::DateTime<chrono::Utc>, read_sql, v)
                }
                RawPool::MySql(p) => {
                    raw_exec!(p, sqlx::MySql, upd_sql, upd.values.clone());
                    raw_fetch!(p, sqlx::MySql, chrono::NaiveDateTime, read_sql, v)
                }
            };
        }
        let raw = t.elapsed();
        if round == 1 {
            rep.ratio(name, "update one (+ read back)", ours, raw, n);
        }
        if d != Dialect::MySql {
            // Against the raw one-statement `UPDATE .. RETURNING` (the issue-13 target).
            let t = Instant::now();
            for _ in 0..n {
                match pool {
                    RawPool::Sqlite(p) => raw_fetch!(p, sqlx::Sqlite, String, upd_ret_sql, upd_ret.values.clone()),
                    RawPool::Postgres(p) => raw_fetch!(
                        p,
                        sqlx::Postgres,
                        chrono::DateTime<chrono::Utc>,
                        upd_ret_sql,
                        upd_ret.values.clone()
                    ),
                    RawPool::MySql(_) => 0,
                };
            }
            let raw_ret = t.elapsed();
            if round == 1 {
                rep.ratio(name, "update by id vs raw UPDATE .. RETURNING", ours, raw_ret, n);
            }
        }

        let q = Query::new().limit(100);
        let t = Instant::now();
        for _ in 0..n {
            assert_eq!(ex.list::<Bench>(&q).await.unwrap().len(), 100);
        }
        let ours = t.elapsed();
        let t = Instant::now();
        for _ in 0..n {
            let c = match pool {
                RawPool::Sqlite(p) => raw_fetch!(p, sqlx::Sqlite, String, list_sql, list.values.clone()),
                RawPool::Postgres(p) => {
                    raw_fetch!(p, sqlx::Postgres, chrono::DateTime<chrono::Utc>, list_sql, list.values.clone())
                }
                RawPool::MySql(p) => raw_fetch!(p, sqlx::MySql, chrono::NaiveDateTime, list_sql, list.values.clone()),
            };
            assert_eq!(c, 100);
        }
        let raw = t.elapsed();
        if round == 1 {
            rep.ratio(name, "list 100", ours, raw, n);
        }

        // Filtered list: the same filter shape with another bound value each call (the shape
        // cache's case); raw sqlx runs the same SQL text with the same values, pre-rendered.
        let t = Instant::now();
        for i in 0..n {
            assert_eq!(ex.list::<Bench>(&filtered_query(i)).await.unwrap().len(), 100);
        }
        let ours = t.elapsed();
        let t = Instant::now();
        for i in 0..n {
            let (sql, vals) = &filtered_raw[i % filtered_raw.len()];
            let c = match pool {
                RawPool::Sqlite(p) => raw_fetch!(p, sqlx::Sqlite, String, sql, vals.clone()),
                RawPool::Postgres(p) => raw_fetch!(p, sqlx::Postgres, chrono::DateTime<chrono::Utc>, sql, vals.clone()),
                RawPool::MySql(p) => raw_fetch!(p, sqlx::MySql, chrono::NaiveDateTime, sql, vals.clone()),
            };
            assert_eq!(c, 100);
        }
        let raw = t.elapsed();
        if round == 1 {
            rep.ratio(name, "list 100 filtered", ours, raw, n);
        }
    }

    // Dynamic vs typed list and stream (interleaved per call pair would mix caches; per block here).
    let n = iters / 4;
    let t = Instant::now();
    for i in 0..n {
        assert_eq!(ex.list::<Bench>(&filtered_query(i)).await.unwrap().len(), 100);
    }
    let typed = t.elapsed();
    let t = Instant::now();
    for i in 0..n {
        let r = ex.list_json("Bench", &json!({"filter": filtered_filter(i), "limit": 100})).await.unwrap();
        assert_eq!(r["records"].as_array().unwrap().len(), 100);
    }
    let dynamic = t.elapsed();
    rep.ratio(name, "dynamic/typed list 100 filtered (ratio col = dynamic÷typed)", dynamic, typed, n);
    {
        use futures::StreamExt;
        let streams = (n / 20).max(3);
        let t = Instant::now();
        for _ in 0..streams {
            let c = ex.list_stream::<Bench>(&Query::new()).filter(|r| std::future::ready(r.is_ok())).count().await;
            assert!(c >= 1000);
        }
        let typed = t.elapsed();
        let t = Instant::now();
        for _ in 0..streams {
            let c = ex.list_stream_json("Bench", &json!({})).filter(|r| std::future::ready(r.is_ok())).count().await;
            assert!(c >= 1000);
        }
        let dynamic = t.elapsed();
        rep.ratio(name, "dynamic/typed stream all rows (ratio col = dynamic÷typed)", dynamic, typed, streams);
    }

    // Dynamic vs typed.
    let n = iters / 4;
    let t = Instant::now();
    for i in 0..n {
        ex.read::<Bench>(ids[i % ids.len()]).await.unwrap();
    }
    let typed = t.elapsed();
    let t = Instant::now();
    for i in 0..n {
        ex.read_json("Bench", &json!(ids[i % ids.len()])).await.unwrap();
    }
    let dynamic = t.elapsed();
    rep.ratio(name, "dynamic/typed read (ratio col = dynamic÷typed)", dynamic, typed, n);
    let t = Instant::now();
    for i in 0..n {
        ex.create(&row(i)).await.unwrap();
    }
    let typed = t.elapsed();
    let t = Instant::now();
    for i in 0..n {
        ex.create_json("Bench", &json!({"name": format!("name {i}"), "qty": i % 100, "score": 0.5})).await.unwrap();
    }
    let dynamic = t.elapsed();
    rep.ratio(name, "dynamic/typed create (ratio col = dynamic÷typed)", dynamic, typed, n);

    bench_bulk(name, &db, bulk, rep).await;
    let cleanup = format!("DROP TABLE {}", s.table);
    match pool {
        RawPool::Sqlite(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
        RawPool::Postgres(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
        RawPool::MySql(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
    }
    db.close().await;
}

/// Bulk create (`bulk_create_iter`, one transaction) vs raw sqlx doing the same inserts in one
/// transaction: multi-row INSERTs chunked below the bind limit, and on PostgreSQL also one
/// `INSERT .. SELECT * FROM UNNEST(..)` (five array binds); and the dynamic `bulk_create_json` and
/// node-form `run(BulkCreate)` on the same rows ÷ typed. `BENCH_BULK_ROUNDS` (default 1)
/// interleaved rounds; the medians are reported.
async fn bench_bulk(name: &str, db: &DataFlow, bulk: &[usize], rep: &mut Report) {
    let rounds: usize = std::env::var("BENCH_BULK_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    let s = Bench::schema();
    let d = db.dialect();
    let pool = db.raw_pool();
    let mut ex = db.express();
    let now = chrono::Utc::now();
    fn median(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }
    for &size in bulk {
        let (mut ours, mut raw, mut unnest) = (Vec::new(), Vec::new(), Vec::new());
        let (mut dynamic, mut wrapped) = (Vec::new(), Vec::new());
        // The dynamic contender builds its JSON records inside the timed call, as a caller would.
        let json_data = || {
            serde_json::Value::Array(
                (0..size)
                    .map(|k| {
                        let r = row(k);
                        json!({"name": r.name, "qty": r.qty, "score": r.score})
                    })
                    .collect(),
            )
        };
        for _ in 0..rounds {
            let t = Instant::now();
            assert_eq!(ex.bulk_create_iter((0..size).map(row)).await.unwrap(), size as u64);
            ours.push(t.elapsed());
            let t = Instant::now();
            let r = ex.bulk_create_json(&s.name, &json_data()).await.unwrap();
            assert_eq!(r["inserted"], size);
            dynamic.push(t.elapsed());
            // The node form with the records inside its parameters (`run`), as workflows call it.
            let t = Instant::now();
            let r = ex.run(&s.name, dataflow_sql::Operation::BulkCreate, &json!({"data": json_data()})).await.unwrap();
            assert_eq!(r["inserted"], size);
            wrapped.push(t.elapsed());
            let per = stmt::rows_per_chunk(d, 5);
            let t = Instant::now();
            macro_rules! raw_bulk {
                ($p:expr, $db:ty, $ts:expr) => {{
                    let mut tx = $p.begin().await.unwrap();
                    let mut i = 0;
                    while i < size {
                        let end = (i + per).min(size);
                        let mut qb = sqlx::QueryBuilder::<$db>::new(format!(
                            "INSERT INTO {} (name, qty, score, created_at, updated_at) ",
                            s.table
                        ));
                        qb.push_values(i..end, |mut b, k| {
                            let r = row(k);
                            b.push_bind(r.name).push_bind(r.qty).push_bind(r.score).push_bind($ts).push_bind($ts);
                        });
                        qb.build().execute(&mut *tx).await.unwrap();
                        i = end;
                    }
                    tx.commit().await.unwrap();
                }};
            }
            match pool {
                RawPool::Sqlite(p) => raw_bulk!(p, sqlx::Sqlite, dataflow_sql::value::canonical_datetime(&now)),
                RawPool::Postgres(p) => raw_bulk!(p, sqlx::Postgres, now),
                RawPool::MySql(p) => raw_bulk!(p, sqlx::MySql, now.naive_utc()),
            }
            raw.push(t.elapsed());
            if let RawPool::Postgres(p) = pool {
                let t = Instant::now();
                let (mut names, mut qtys, mut scores, mut ats) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                for k in 0..size {
                    let r = row(k);
                    names.push(r.name);
                    qtys.push(r.qty);
                    scores.push(r.score);
                    ats.push(now);
                }
                let sql = format!(
                    "INSERT INTO {} (name, qty, score, created_at, updated_at) SELECT * FROM \
                     UNNEST($1::text[], $2::int4[], $3::float8[], $4::timestamptz[], $5::timestamptz[])",
                    s.table
                );
                let mut tx = p.begin().await.unwrap();
                sqlx::query(AssertSqlSafe(sql))
                    .bind(names)
                    .bind(qtys)
                    .bind(scores)
                    .bind(ats.clone())
                    .bind(ats)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                unnest.push(t.elapsed());
            }
        }
        let (ours, raw) = (median(ours), median(raw));
        for (what, d) in [("bulk_create_json", median(dynamic)), ("run(BulkCreate)", median(wrapped))] {
            let line = format!(
                "| {name} | dynamic {what} {size} ({rounds} rounds, medians) | {:.0} rows/s | {:.0} rows/s | {:.3} (time dynamic÷typed) |",
                size as f64 / d.as_secs_f64(),
                size as f64 / ours.as_secs_f64(),
                d.as_secs_f64() / ours.as_secs_f64()
            );
            println!("{line}");
            rep.lines.push(line);
        }
        let line = format!(
            "| {name} | bulk create {size} ({rounds} rounds, medians) | {:.0} rows/s | {:.0} rows/s | {:.3} (throughput ours÷raw multi-row VALUES) |",
            size as f64 / ours.as_secs_f64(),
            size as f64 / raw.as_secs_f64(),
            raw.as_secs_f64() / ours.as_secs_f64()
        );
        println!("{line}");
        rep.lines.push(line);
        if !unnest.is_empty() {
            let unnest = median(unnest);
            let line = format!(
                "| {name} | bulk create {size} vs raw UNNEST ({rounds} rounds, medians) | {:.0} rows/s | {:.0} rows/s | {:.3} (throughput ours÷raw UNNEST) |",
                size as f64 / ours.as_secs_f64(),
                size as f64 / unnest.as_secs_f64(),
                unnest.as_secs_f64() / ours.as_secs_f64()
            );
            println!("{line}");
            rep.lines.push(line);
        }
    }
}

/// `BENCH_ONLY=bulk`: only [`bench_bulk`] on a fresh `Bench` table.
async fn bench_bulk_only(name: &str, url: &str, bulk: &[usize], rep: &mut Report) {
    let db = match DataFlow::builder(url).max_connections(4).connect().await {
        Ok(db) => db,
        Err(e) => {
            println!("| {name} | skipped: {e} |");
            return;
        }
    };
    db.register::<Bench>().await.unwrap();
    bench_bulk(name, &db, bulk, rep).await;
    let cleanup = format!("DROP TABLE {}", Bench::schema().table);
    match db.raw_pool() {
        RawPool::Sqlite(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
        RawPool::Postgres(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
        RawPool::MySql(p) => drop(sqlx::query(AssertSqlSafe(cleanup)).execute(p).await),
    }
    db.close().await;
}

/// Raw sqlx streaming `$sql`: user fields + timestamps per row, counted.
macro_rules! raw_stream {
    ($pool:expr, $db:ty, $ts:ty, $sql:expr, $vals:expr) => {{
        use futures::StreamExt;
        sqlx::query_with::<$db, _>(AssertSqlSafe($sql.to_string()), SqlxValues($vals))
            .fetch($pool)
            .map(|r| {
                let r = r.unwrap();
                (
                    Bench {
                        id: r.get::<i64, _>(0),
                        name: r.get::<String, _>(1),
                        qty: r.get::<i32, _>(2),
                        score: r.get::<f64, _>(3),
                    },
                    r.get::<$ts, _>(4),
                    r.get::<$ts, _>(5),
                )
            })
            .count()
            .await
    }};
}

/// `BENCH_INSTR=<backend>,<op>,<n>`: one operation `n` times after seeding and warming up
/// (see the module docs). Prints nothing but one line with the checksum of the results.
async fn bench_instr(spec: &str, sqlite: &str, pg: &str, my: &str) {
    use futures::StreamExt;
    let parts: Vec<&str> = spec.split(',').collect();
    let [backend, op, n] = parts[..] else { panic!("BENCH_INSTR=<backend>,<op>,<n>") };
    let n: usize = n.parse().expect("n");
    let url = match backend {
        "sqlite" => sqlite,
        "postgres" => pg,
        "mariadb" | "mysql" => my,
        other => panic!("unknown backend {other}"),
    };
    let db = DataFlow::builder(url).max_connections(4).connect().await.unwrap();
    db.register::<Bench>().await.unwrap();
    let mut ex = db.express();
    let seed: Vec<Bench> = (0..1000).map(row).collect();
    ex.bulk_create(&seed).await.unwrap();
    let ids: Vec<i64> = ex.list::<Bench>(&Query::new().limit(1000)).await.unwrap().iter().map(|r| r.id).collect();
    // The tenant ops (`t_read`, `t_list`, `t_update`) run on `TenantBench`, two tenants of 1000
    // rows, through `db.tenant("t1")` (as `bench_tenant`); `update` is their unscoped twin.
    let mut scoped = db.tenant("t1");
    let mut tids = Vec::new();
    if op.starts_with("t_") {
        db.register::<TenantBench>().await.unwrap();
        let tseed: Vec<TenantBench> = seed.iter().cloned().map(TenantBench).collect();
        db.tenant("other").bulk_create(&tseed).await.unwrap();
        scoped.bulk_create(&tseed).await.unwrap();
        tids = scoped.list::<TenantBench>(&Query::new().limit(1000)).await.unwrap().iter().map(|r| r.0.id).collect();
    }
    let s = Bench::schema();
    let d = db.dialect();
    let read_sql: Arc<str> = stmt::select_by_id(s, d, &Value::I64(1), Scope::default()).sql.into();
    let list = stmt::select(s, d, &SelectSpec { limit: Some(100), ..Default::default() });
    let list_sql: Arc<str> = list.sql.clone().into();
    let pool = db.raw_pool();
    let q = Query::new().limit(100);
    let params = json!({"limit": 100});
    let mut sum = 0usize;
    // 20 warm-up rounds (statement caches, pool), then n measured ones.
    for i in 0..(20 + n) {
        let id = ids[i % ids.len()];
        sum += match op {
            "read" => usize::from(ex.read::<Bench>(id).await.unwrap().is_some()),
            "update" => {
                let r = Bench { id, name: "u".into(), qty: 1, score: 2.0 };
                usize::from(ex.update(&r).await.unwrap().is_some())
            }
            "t_read" => usize::from(scoped.read::<TenantBench>(tids[i % tids.len()]).await.unwrap().is_some()),
            "t_list" => scoped.list::<TenantBench>(&q).await.unwrap().len(),
            "t_update" => {
                let r = Bench { id: tids[i % tids.len()], name: "u".into(), qty: 1, score: 2.0 };
                usize::from(scoped.update(&TenantBench(r)).await.unwrap().is_some())
            }
            "read_json" => usize::from(ex.read_json("Bench", &json!(id)).await.unwrap().is_some()),
            "list" => ex.list::<Bench>(&q).await.unwrap().len(),
            "list_json" => ex.list_json("Bench", &params).await.unwrap()["records"].as_array().unwrap().len(),
            "stream" => ex.list_stream::<Bench>(&q).filter(|r| std::future::ready(r.is_ok())).count().await,
            "stream_json" => {
                ex.list_stream_json("Bench", &params).filter(|r| std::future::ready(r.is_ok())).count().await
            }
            "raw_read" => {
                let v = sea_query::Values(vec![sea_query::Value::BigInt(Some(id))]);
                match pool {
                    RawPool::Sqlite(p) => raw_fetch!(p, sqlx::Sqlite, String, read_sql, v),
                    RawPool::Postgres(p) => raw_fetch!(p, sqlx::Postgres, chrono::DateTime<chrono::Utc>, read_sql, v),
                    RawPool::MySql(p) => raw_fetch!(p, sqlx::MySql, chrono::NaiveDateTime, read_sql, v),
                }
            }
            "raw_list" => {
                let v = list.values.clone();
                match pool {
                    RawPool::Sqlite(p) => raw_fetch!(p, sqlx::Sqlite, String, list_sql, v),
                    RawPool::Postgres(p) => raw_fetch!(p, sqlx::Postgres, chrono::DateTime<chrono::Utc>, list_sql, v),
                    RawPool::MySql(p) => raw_fetch!(p, sqlx::MySql, chrono::NaiveDateTime, list_sql, v),
                }
            }
            "raw_stream" => match pool {
                RawPool::Sqlite(p) => raw_stream!(p, sqlx::Sqlite, String, list_sql, list.values.clone()),
                RawPool::Postgres(p) => {
                    raw_stream!(p, sqlx::Postgres, chrono::DateTime<chrono::Utc>, list_sql, list.values.clone())
                }
                RawPool::MySql(p) => raw_stream!(p, sqlx::MySql, chrono::NaiveDateTime, list_sql, list.values.clone()),
            },
            other => panic!("unknown op {other}"),
        };
    }
    let per_op = if op.contains("read") || op.contains("update") { 1 } else { 100 };
    assert_eq!(sum, (20 + n) * per_op, "every operation returned its rows");
    println!("{backend} {op} {n}: {sum}");
    let tables = if tids.is_empty() { vec![&s.table] } else { vec![&s.table, &TenantBench::schema().table] };
    for table in tables {
        let drop_sql = format!("DROP TABLE {table}");
        match pool {
            RawPool::Sqlite(p) => raw_exec!(p, sqlx::Sqlite, drop_sql, sea_query::Values(vec![])),
            RawPool::Postgres(p) => raw_exec!(p, sqlx::Postgres, drop_sql, sea_query::Values(vec![])),
            RawPool::MySql(p) => raw_exec!(p, sqlx::MySql, drop_sql, sea_query::Values(vec![])),
        };
    }
    db.close().await;
}

#[tokio::main]
async fn main() {
    let iters: usize = std::env::var("BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let bulk: Vec<usize> = std::env::var("BENCH_BULK")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    let mut rep = Report { lines: Vec::new() };
    let tenant_only = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "tenant");
    let bulk_only = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "bulk");
    println!("| backend | operation | DataFlow | raw sqlx | ratio |\n|---|---|---|---|---|");
    let path = std::env::temp_dir().join(format!("dataflow_bench_{}.db", std::process::id()));
    let sqlite = format!("sqlite://{}", path.display());
    let pg = std::env::var("DATAFLOW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let my = std::env::var("DATAFLOW_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    if let Ok(spec) = std::env::var("BENCH_INSTR") {
        bench_instr(&spec, &sqlite, &pg, &my).await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        return;
    }
    for (name, url) in [("sqlite", &sqlite), ("postgres", &pg), ("mariadb", &my)] {
        if bulk_only {
            bench_bulk_only(name, url, &bulk, &mut rep).await;
            continue;
        }
        if !tenant_only {
            bench_backend(name, url, iters, &bulk, &mut rep).await;
        }
        bench_tenant(name, url, iters, &mut rep).await;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
