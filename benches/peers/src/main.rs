//! Side-by-side benchmark (issue 13): raw sqlx (the baseline), DataFlow typed, DataFlow dynamic,
//! SeaORM 2 and Diesel 2.3 on SQLite, PostgreSQL and MariaDB, same schema and same data.
//!
//! Run it with `cargo xtask bench --peers [--quick]` (or `cargo run --release` in `benches/peers`).
//! Environment:
//! - `PEERS_MODE=quick|full` (default full): sizes; `quick` is for a smoke run;
//! - `PEERS_ROUNDS` (default 7), `PEERS_ITERS` (reads per round), `PEERS_WRITE_ITERS` (inserts and
//!   updates per round), `PEERS_LIST_ITERS` (lists and counts per round), `PEERS_BULK` (rows per
//!   bulk insert), `PEERS_STREAM` (rows streamed), `PEERS_ITEMS` (rows in the point table);
//! - `PEERS_BACKENDS=sqlite,postgres,mysql` (default all three), `PEERS_OUT=path` (also write the
//!   markdown there);
//! - `DATAFLOW_TEST_POSTGRES_URL` / `DATAFLOW_TEST_MYSQL_URL`: servers (the test defaults); the
//!   bench creates and drops its own database `dataflow_peers` on each.
//!
//! Every round runs every operation for every contender, the contenders' order rotating from
//! round to round (so no contender always goes first after another's writes); one warm-up round
//! is not recorded. The table gives the median per operation (µs; ms for bulk and stream), the
//! min–max over the rounds and the median's ratio to raw sqlx on the same backend.

mod df;
mod dsl;
mod raw;
mod sea;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use dataflow::DataFlow;
use diesel::Connection as _;
use sea_orm::DatabaseConnection;

/// Rows per multi-row INSERT for the contenders that chunk themselves (raw sqlx, SeaORM, Diesel):
/// 5 bound values a row, under SQLite's 32,766 and the servers' 65,535 parameter limits.
pub const CHUNK: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::MySql => "MariaDB",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Insert,
    Read,
    Update,
    /// DataFlow typed `update_where({"id": ..})` against raw sqlx's update by id (the others skip it).
    UpdateWhere,
    List,
    Count,
    Bulk,
    Stream,
}

const OPS: [Op; 8] = [Op::Insert, Op::Read, Op::Update, Op::UpdateWhere, Op::List, Op::Count, Op::Bulk, Op::Stream];

impl Op {
    fn label(self, cfg: &Cfg) -> String {
        match self {
            Op::Insert => "insert one (returning the row)".into(),
            Op::Read => "read by id".into(),
            Op::Update => "update by id (returning the row); DataFlow typed `update(&record)`".into(),
            Op::UpdateWhere => "update by id; DataFlow typed `update_where({\"id\": ..})`".into(),
            Op::List => "list 100 filtered".into(),
            Op::Count => "count filtered".into(),
            Op::Bulk => format!("bulk insert {}", cfg.bulk),
            Op::Stream => format!("stream {} rows into structs", cfg.stream),
        }
    }

    /// Bulk and stream are one call per round, reported in ms; the rest per call in µs.
    fn whole(self) -> bool {
        matches!(self, Op::Bulk | Op::Stream)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Raw,
    Typed,
    Dynamic,
    Sea,
    Diesel,
}

const WHO: [Who; 5] = [Who::Raw, Who::Typed, Who::Dynamic, Who::Sea, Who::Diesel];

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Raw => "raw sqlx",
            Who::Typed => "DataFlow typed",
            Who::Dynamic => "DataFlow dynamic",
            Who::Sea => "SeaORM 2",
            Who::Diesel => "Diesel 2.3",
        }
    }
}

/// One bulk row (each contender turns these into its own input inside the timed call).
#[derive(Debug, Clone)]
pub struct NewRow {
    pub name: String,
    pub qty: i32,
    pub score: f64,
}

/// What one timed call works on.
pub struct Work {
    /// Iterations of the operation in this call.
    pub n: usize,
    /// Offset into `items` so rounds touch different rows.
    pub start: usize,
    /// `(id, qty)` of every row of `peer_items`.
    pub items: Vec<(i64, i32)>,
    pub lo: i32,
    pub hi: i32,
    pub bulk: Vec<NewRow>,
}

impl Work {
    pub fn item(&self, i: usize) -> (i64, i32) {
        self.items[(self.start + i * 7) % self.items.len()]
    }
    pub fn id(&self, i: usize) -> i64 {
        self.item(i).0
    }
}

/// Raw SQL texts (see `raw::sql`).
pub struct Sql {
    pub insert: &'static str,
    pub read: &'static str,
    pub read_scratch: &'static str,
    pub update: &'static str,
    pub list: &'static str,
    pub count: &'static str,
    pub stream: &'static str,
}

#[derive(Debug, Clone)]
struct Cfg {
    mode: String,
    rounds: usize,
    iters: usize,
    write_iters: usize,
    list_iters: usize,
    bulk: usize,
    stream: usize,
    items: usize,
}

impl Cfg {
    fn from_env() -> Cfg {
        let mode = std::env::var("PEERS_MODE").unwrap_or_else(|_| "full".into());
        let quick = mode == "quick";
        let get = |k: &str, full: usize, q: usize| {
            std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(if quick { q } else { full })
        };
        Cfg {
            rounds: get("PEERS_ROUNDS", 7, 7).max(1),
            iters: get("PEERS_ITERS", 400, 60).max(1),
            write_iters: get("PEERS_WRITE_ITERS", 100, 20).max(1),
            list_iters: get("PEERS_LIST_ITERS", 100, 20).max(1),
            bulk: get("PEERS_BULK", 10_000, 1_000).max(1),
            stream: get("PEERS_STREAM", 100_000, 10_000).max(1),
            items: get("PEERS_ITEMS", 10_000, 2_000).max(100),
            mode,
        }
    }

    fn iters(&self, op: Op) -> usize {
        match op {
            Op::Read => self.iters,
            Op::Insert | Op::Update | Op::UpdateWhere => self.write_iters,
            Op::List | Op::Count => self.list_iters,
            Op::Bulk | Op::Stream => 1,
        }
    }
}

enum DieselConn {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
    My(diesel::MysqlConnection),
}

enum RawPool {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
    My(sqlx::MySqlPool),
}

struct Env {
    backend: Backend,
    db: DataFlow,
    raw: RawPool,
    sql: Sql,
    sea: DatabaseConnection,
    diesel: Option<DieselConn>,
}

/// The same pool settings DataFlow uses (crates/dataflow-core/src/db/pool.rs): no ping on acquire,
/// statement cache 256, WAL + synchronous=NORMAL + busy_timeout 5 s on SQLite, utf8mb4 + UTC on MySQL.
async fn raw_pool(b: Backend, url: &str) -> Result<RawPool, String> {
    use std::str::FromStr;
    fn opts<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
        sqlx::pool::PoolOptions::new().max_connections(4).test_before_acquire(false)
    }
    let e = |x: sqlx::Error| x.to_string();
    Ok(match b {
        Backend::Sqlite => {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            let o = SqliteConnectOptions::from_str(url)
                .map_err(e)?
                .statement_cache_capacity(256)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            RawPool::Sqlite(opts().connect_with(o).await.map_err(e)?)
        }
        Backend::Postgres => {
            let o = sqlx::postgres::PgConnectOptions::from_str(url).map_err(e)?.statement_cache_capacity(256);
            RawPool::Pg(opts().connect_with(o).await.map_err(e)?)
        }
        Backend::MySql => {
            let o = sqlx::mysql::MySqlConnectOptions::from_str(url)
                .map_err(e)?
                .statement_cache_capacity(256)
                .charset("utf8mb4")
                .timezone(Some("+00:00".into()));
            RawPool::My(opts().connect_with(o).await.map_err(e)?)
        }
    })
}

/// Replaces the database name of a server URL.
fn with_db(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |k| k + 2) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

const DB_NAME: &str = "dataflow_peers";

/// Creates (fresh) the bench database and returns its URL.
async fn create_db(b: Backend, sqlite_path: &std::path::Path) -> Result<String, String> {
    let e = |x: sqlx::Error| x.to_string();
    match b {
        Backend::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", sqlite_path.display()));
            }
            Ok(format!("sqlite://{}", sqlite_path.display()))
        }
        Backend::Postgres => {
            let url = std::env::var("DATAFLOW_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let p = sqlx::PgPool::connect(&url).await.map_err(e)?;
            sqlx::query("DROP DATABASE IF EXISTS dataflow_peers WITH (FORCE)").execute(&p).await.map_err(e)?;
            sqlx::query("CREATE DATABASE dataflow_peers").execute(&p).await.map_err(e)?;
            p.close().await;
            Ok(with_db(&url, DB_NAME))
        }
        Backend::MySql => {
            let url =
                std::env::var("DATAFLOW_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
            let p = sqlx::MySqlPool::connect(&url).await.map_err(e)?;
            sqlx::query("DROP DATABASE IF EXISTS dataflow_peers").execute(&p).await.map_err(e)?;
            sqlx::query("CREATE DATABASE dataflow_peers CHARACTER SET utf8mb4").execute(&p).await.map_err(e)?;
            p.close().await;
            Ok(with_db(&url, DB_NAME))
        }
    }
}

async fn drop_db(b: Backend, sqlite_path: &std::path::Path) {
    match b {
        Backend::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", sqlite_path.display()));
            }
        }
        Backend::Postgres => {
            let url = std::env::var("DATAFLOW_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            if let Ok(p) = sqlx::PgPool::connect(&url).await {
                let _ = sqlx::query("DROP DATABASE IF EXISTS dataflow_peers WITH (FORCE)").execute(&p).await;
                p.close().await;
            }
        }
        Backend::MySql => {
            let url =
                std::env::var("DATAFLOW_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
            if let Ok(p) = sqlx::MySqlPool::connect(&url).await {
                let _ = sqlx::query("DROP DATABASE IF EXISTS dataflow_peers").execute(&p).await;
                p.close().await;
            }
        }
    }
}

async fn setup(b: Backend, url: &str, cfg: &Cfg) -> Result<(Env, Vec<(i64, i32)>), String> {
    let e = |x: dataflow::Error| x.to_string();
    let db = DataFlow::builder(url).max_connections(4).connect().await.map_err(e)?;
    db.register::<df::PeerItem>().await.map_err(e)?;
    db.register::<df::PeerScratch>().await.map_err(e)?;
    db.register::<df::PeerStream>().await.map_err(e)?;
    let mut ex = db.express();
    let item = |k: usize| (format!("item {k}"), (k % 100) as i32, k as f64 * 0.5);
    ex.bulk_create_iter((0..cfg.items).map(|k| {
        let (name, qty, score) = item(k);
        df::PeerItem { id: 0, name, qty, score }
    }))
    .await
    .map_err(e)?;
    ex.bulk_create_iter((0..cfg.stream).map(|k| {
        let (name, qty, score) = item(k);
        df::PeerStream { id: 0, name, qty, score }
    }))
    .await
    .map_err(e)?;
    let raw = raw_pool(b, url).await?;
    let se = |x: sqlx::Error| x.to_string();
    const IDS: &str = "SELECT id, qty FROM peer_items ORDER BY id";
    let items: Vec<(i64, i32)> = match &raw {
        RawPool::Sqlite(p) => sqlx::query_as(IDS).fetch_all(p).await.map_err(se)?,
        RawPool::Pg(p) => sqlx::query_as(IDS).fetch_all(p).await.map_err(se)?,
        RawPool::My(p) => sqlx::query_as(IDS).fetch_all(p).await.map_err(se)?,
    };
    // SeaORM on its own pool with the same settings as the raw one.
    let sea = match raw_pool(b, url).await? {
        RawPool::Sqlite(p) => sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(p),
        RawPool::Pg(p) => sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(p),
        RawPool::My(p) => sea_orm::SqlxMySqlConnector::from_sqlx_mysql_pool(p),
    };
    let diesel = match diesel_conn(b, url) {
        Ok(c) => Some(c),
        Err(err) => {
            eprintln!("peers: Diesel on {} skipped: {err}", b.label());
            None
        }
    };
    Ok((Env { backend: b, db, raw, sql: raw::sql(b), sea, diesel }, items))
}

fn diesel_conn(b: Backend, url: &str) -> Result<DieselConn, String> {
    use diesel::connection::SimpleConnection;
    let e = |x: diesel::ConnectionError| x.to_string();
    Ok(match b {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://").split('?').next().unwrap_or_default();
            let mut c = diesel::SqliteConnection::establish(path).map_err(e)?;
            // The pragmas DataFlow's and the raw pool's connections run (WAL is a property of the file).
            c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                .map_err(|x| x.to_string())?;
            DieselConn::Sqlite(c)
        }
        Backend::Postgres => DieselConn::Pg(diesel::PgConnection::establish(url).map_err(e)?),
        Backend::MySql => DieselConn::My(diesel::MysqlConnection::establish(url).map_err(e)?),
    })
}

async fn clear_scratch(env: &Env) -> Result<(), String> {
    let e = |x: sqlx::Error| x.to_string();
    const SQL: &str = "DELETE FROM peer_scratch";
    match &env.raw {
        RawPool::Sqlite(p) => sqlx::query(SQL).execute(p).await.map_err(e)?.rows_affected(),
        RawPool::Pg(p) => sqlx::query(SQL).execute(p).await.map_err(e)?.rows_affected(),
        RawPool::My(p) => sqlx::query(SQL).execute(p).await.map_err(e)?.rows_affected(),
    };
    Ok(())
}

async fn run_one(env: &mut Env, who: Who, op: Op, w: &Work) -> Result<u64, String> {
    match who {
        Who::Raw => match &env.raw {
            RawPool::Sqlite(p) => raw::sqlite::run(p, &env.sql, op, w).await,
            RawPool::Pg(p) => raw::postgres::run(p, &env.sql, op, w).await,
            RawPool::My(p) => raw::mysql::run(p, &env.sql, op, w).await,
        },
        Who::Typed => df::typed(&env.db, op, w).await,
        Who::Dynamic => df::dynamic(&env.db, op, w).await,
        Who::Sea => match env.backend {
            Backend::Sqlite => sea::sqlite::run(&env.sea, op, w).await,
            Backend::Postgres => sea::postgres::run(&env.sea, op, w).await,
            Backend::MySql => sea::mysql::run(&env.sea, op, w).await,
        },
        Who::Diesel => match env.diesel.as_mut() {
            Some(DieselConn::Sqlite(c)) => dsl::sqlite::run(c, op, w),
            Some(DieselConn::Pg(c)) => dsl::postgres::run(c, op, w),
            Some(DieselConn::My(c)) => dsl::mysql::run(c, op, w),
            None => Err("no Diesel connection".into()),
        },
    }
}

/// What a correct call returns (the sum the contenders' loops count), or `None` when it varies.
fn expected(op: Op, w: &Work, count: u64) -> Option<u64> {
    match op {
        Op::Insert | Op::Read | Op::Update | Op::UpdateWhere => Some(w.n as u64),
        Op::List => Some(w.n as u64 * 100),
        Op::Count => Some(w.n as u64 * count),
        Op::Bulk => Some(w.bulk.len() as u64),
        Op::Stream => None,
    }
}

/// Samples per (op, contender): seconds per operation, one per measured round.
type Samples = Vec<Vec<Vec<f64>>>;

/// On-CPU time of this process so far (every thread: tokio workers, sqlx's SQLite worker threads,
/// Diesel in the calling thread), in seconds (`CLOCK_PROCESS_CPUTIME_ID`). On a shared machine this
/// is the client-side cost of a call without the time spent waiting for a core or for the server.
fn cpu_now() -> Option<f64> {
    cpu_time::ProcessTime::try_now().ok().map(|t| t.as_duration().as_secs_f64())
}

async fn bench_backend(b: Backend, cfg: &Cfg, out: &mut String) {
    let sqlite_path = std::env::temp_dir().join(format!("dataflow_peers_{}.db", std::process::id()));
    let url = match create_db(b, &sqlite_path).await {
        Ok(u) => u,
        Err(err) => {
            let _ = writeln!(out, "\n### {}\n\nskipped: could not create the bench database: {err}\n", b.label());
            eprintln!("peers: {} skipped: {err}", b.label());
            return;
        }
    };
    let (mut env, items) = match setup(b, &url, cfg).await {
        Ok(x) => x,
        Err(err) => {
            let _ = writeln!(out, "\n### {}\n\nskipped: setup failed: {err}\n", b.label());
            eprintln!("peers: {} skipped: {err}", b.label());
            drop_db(b, &sqlite_path).await;
            return;
        }
    };
    let count = items.iter().filter(|(_, q)| (10..40).contains(q)).count() as u64;
    let bulk: Vec<NewRow> =
        (0..cfg.bulk).map(|k| NewRow { name: format!("bulk {k}"), qty: (k % 100) as i32, score: k as f64 }).collect();
    let mut w = Work { n: 0, start: 0, items, lo: 10, hi: 40, bulk };
    let mut samples: Samples = vec![vec![Vec::new(); WHO.len()]; OPS.len()];
    let mut cpu: Samples = vec![vec![Vec::new(); WHO.len()]; OPS.len()];
    let mut errors: Vec<Vec<Option<String>>> = vec![vec![None; WHO.len()]; OPS.len()];
    for (i, who) in WHO.iter().enumerate() {
        if *who == Who::Diesel && env.diesel.is_none() {
            for row in errors.iter_mut() {
                row[i] = Some("Diesel connection failed".into());
            }
        }
    }
    let started = Instant::now();
    for round in 0..=cfg.rounds {
        for (oi, &op) in OPS.iter().enumerate() {
            w.n = cfg.iters(op);
            for k in 0..WHO.len() {
                let wi = (k + round) % WHO.len();
                let who = WHO[wi];
                if errors[oi][wi].is_some() || (op == Op::UpdateWhere && !matches!(who, Who::Raw | Who::Typed)) {
                    continue;
                }
                if op == Op::Bulk
                    && let Err(err) = clear_scratch(&env).await
                {
                    eprintln!("peers: clearing peer_scratch failed: {err}");
                }
                w.start = round * 7919 + wi * 104_729;
                let c0 = cpu_now();
                let t = Instant::now();
                let res = run_one(&mut env, who, op, &w).await;
                let dt = t.elapsed();
                let c1 = cpu_now();
                match res {
                    Ok(got) => {
                        let want = expected(op, &w, count).unwrap_or(cfg.stream as u64);
                        if got != want {
                            let msg = format!("wrong result: counted {got}, expected {want}");
                            eprintln!("peers: {} / {} / {:?}: {msg}", b.label(), who.label(), op);
                            errors[oi][wi] = Some(msg);
                        } else if round > 0 {
                            samples[oi][wi].push(dt.as_secs_f64() / w.n as f64);
                            if let (Some(a), Some(b)) = (c0, c1) {
                                cpu[oi][wi].push((b - a).max(0.0) / w.n as f64);
                            }
                        }
                    }
                    Err(err) => {
                        eprintln!("peers: {} / {} / {:?}: {err}", b.label(), who.label(), op);
                        errors[oi][wi] = Some(err);
                    }
                }
            }
        }
        eprintln!("peers: {} round {round}/{} done ({:.0} s)", b.label(), cfg.rounds, started.elapsed().as_secs_f64());
    }
    let _ = writeln!(out, "\n### {}\n\nWall time:\n", b.label());
    report(cfg, &samples, &errors, out);
    if cpu.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
        let _ = writeln!(out, "\nClient on-CPU time (this process, all threads) per call:\n");
        report(cfg, &cpu, &errors, out);
    }
    env.db.close().await;
    match &env.raw {
        RawPool::Sqlite(p) => p.close().await,
        RawPool::Pg(p) => p.close().await,
        RawPool::My(p) => p.close().await,
    }
    let _ = env.sea.close().await;
    drop(env.diesel.take());
    drop_db(b, &sqlite_path).await;
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

fn fmt_t(secs: f64, whole: bool) -> String {
    if whole { format!("{:.1} ms", secs * 1e3) } else { format!("{:.1} µs", secs * 1e6) }
}

fn report(cfg: &Cfg, samples: &Samples, errors: &[Vec<Option<String>>], out: &mut String) {
    let _ = write!(out, "| operation |");
    for who in WHO {
        let _ = write!(out, " {} |", who.label());
    }
    let _ = write!(out, "\n|---|");
    for _ in WHO {
        let _ = write!(out, "---|");
    }
    let _ = writeln!(out);
    for (oi, &op) in OPS.iter().enumerate() {
        let raw = (!samples[oi][0].is_empty()).then(|| median(&samples[oi][0]));
        let _ = write!(out, "| {} |", op.label(cfg));
        for (wi, who) in WHO.iter().enumerate() {
            let s = &samples[oi][wi];
            if op == Op::UpdateWhere && !matches!(who, Who::Raw | Who::Typed) {
                let _ = write!(out, " (as above) |");
                continue;
            }
            if let Some(err) = &errors[oi][wi] {
                let short: String = err.chars().take(80).collect();
                let _ = write!(out, " failed: {} |", short.replace('|', "/").replace('\n', " "));
                continue;
            }
            if s.is_empty() {
                let _ = write!(out, " — |");
                continue;
            }
            let m = median(s);
            let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = s.iter().copied().fold(0.0, f64::max);
            let ratio = raw.map_or_else(|| "—".to_owned(), |r| format!("{:.2}×", m / r));
            let _ = write!(
                out,
                " **{ratio}** {} ({}–{}) |",
                fmt_t(m, op.whole()),
                fmt_t(lo, op.whole()).trim_end_matches(" µs").trim_end_matches(" ms"),
                fmt_t(hi, op.whole())
            );
        }
        let _ = writeln!(out);
    }
    targets(samples, out);
}

/// The issue-13 targets, checked on this run's medians.
fn targets(samples: &Samples, out: &mut String) {
    let med = |oi: usize, wi: usize| (!samples[oi][wi].is_empty()).then(|| median(&samples[oi][wi]));
    let idx = |w: Who| WHO.iter().position(|x| *x == w).unwrap_or(0);
    let (raw, typed, dynamic) = (idx(Who::Raw), idx(Who::Typed), idx(Who::Dynamic));
    let _ = writeln!(out);
    let mut check = |title: &str, ops: &[Op], num: usize, den: usize, limit: f64| {
        let mut met = Vec::new();
        let mut missed = Vec::new();
        for &op in ops {
            let oi = OPS.iter().position(|o| *o == op).unwrap_or(0);
            match (med(oi, num), med(oi, den)) {
                (Some(a), Some(b)) => {
                    let r = a / b;
                    let item = format!("{} {r:.2}×", short(op));
                    if r <= limit { met.push(item) } else { missed.push(item) }
                }
                _ => missed.push(format!("{} (no result)", short(op))),
            }
        }
        let _ = writeln!(
            out,
            "- {title} (≤ {limit}×): met: {}; **missed: {}**",
            if met.is_empty() { "none".into() } else { met.join(", ") },
            if missed.is_empty() { "none".into() } else { missed.join(", ") }
        );
    };
    check(
        "typed ÷ raw sqlx, point operations, list, count and stream",
        &[Op::Insert, Op::Read, Op::Update, Op::UpdateWhere, Op::List, Op::Count, Op::Stream],
        typed,
        raw,
        1.05,
    );
    check(
        "dynamic ÷ typed",
        &[Op::Insert, Op::Read, Op::Update, Op::List, Op::Count, Op::Bulk, Op::Stream],
        dynamic,
        typed,
        1.2,
    );
    check("typed bulk insert time ÷ raw sqlx (UNNEST on PostgreSQL)", &[Op::Bulk], typed, raw, 1.0);
}

fn short(op: Op) -> &'static str {
    match op {
        Op::Insert => "insert",
        Op::Read => "read",
        Op::Update => "update(&record)",
        Op::UpdateWhere => "update_where",
        Op::List => "list",
        Op::Count => "count",
        Op::Bulk => "bulk",
        Op::Stream => "stream",
    }
}

fn main() {
    let cfg = Cfg::from_env();
    let backends: Vec<Backend> = std::env::var("PEERS_BACKENDS")
        .unwrap_or_else(|_| "sqlite,postgres,mysql".into())
        .split(',')
        .filter_map(|s| match s.trim() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Mode `{}`: {} measured rounds (+1 warm-up), per round {} reads, {} inserts/updates, {} lists/counts, \
         one bulk insert of {} rows and one stream of {} rows; {} rows in the point table.\n\
         Cells: **median ÷ raw sqlx median** median (min–max over the rounds); µs per call, ms per bulk/stream call. \
         Two tables per backend: wall time, and the client process's on-CPU time (all its threads) per call, which \
         leaves out time spent waiting for a core or for the server.",
        cfg.mode, cfg.rounds, cfg.iters, cfg.write_iters, cfg.list_iters, cfg.bulk, cfg.stream, cfg.items
    );
    let started = Instant::now();
    for b in backends {
        rt.block_on(bench_backend(b, &cfg, &mut out));
    }
    let _ = writeln!(out, "\nTotal bench time {:.0} s.", started.elapsed().as_secs_f64());
    println!("{out}");
    if let Ok(path) = std::env::var("PEERS_OUT")
        && let Err(err) = std::fs::write(&path, &out)
    {
        eprintln!("peers: could not write {path}: {err}");
    }
}
