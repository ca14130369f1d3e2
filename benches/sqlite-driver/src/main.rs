//! SQLite execution path study (issue 13): where does a point operation's time go with sqlx's
//! `SqlitePool` (one worker thread per connection; every statement is a channel round trip), and
//! how much would a different execution path behind DataFlow's `Conn` boundary save?
//!
//! Contenders, same table, same statements (prepared and cached everywhere), same database file:
//! - `sqlx ct` / `sqlx mt`: raw sqlx 0.9 `SqlitePool` with DataFlow's settings (WAL, synchronous
//!   NORMAL, busy timeout 5 s, foreign keys, statement cache 256, max 5 connections, no ping on
//!   acquire), called from a tokio current_thread / multi_thread (2 workers) runtime;
//! - `rusqlite sync`: rusqlite in the calling thread (what Diesel does; the lower bound);
//! - `thread ct` / `thread mt`: rusqlite on one dedicated connection thread, requests sent over a
//!   std channel with a tokio oneshot reply, called from async code;
//! - `thread+batch mt`: the same, but the thread drains every queued request per wake-up and runs
//!   them in one transaction (replies sent after COMMIT);
//! - `spawn_blocking mt`: rusqlite behind a mutex, one `tokio::task::spawn_blocking` per call.
//!
//! Measures wall µs/op and process on-CPU µs/op (`CLOCK_PROCESS_CPUTIME_ID`: all threads), sequential
//! (one task) and concurrent (8 tasks), over interleaved rounds; prints medians and min–max.
//!
//! Env: `SD_MODE=quick|full`, `SD_OUT=<file>` (markdown copy), `SD_PROFILE=sqlx-read|sqlx-insert|
//! sqlx-update|thread-read|sync-read` (run only that loop for `perf record` / callgrind),
//! `SD_PROFILE_N` (its iterations), `SD_ONLY=<text>` (the baseline plus the contenders whose name
//! contains it).

use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rusqlite::OptionalExtension;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

const ROWS: i64 = 10_000;
const TASKS: usize = 8;
const READ: &str = "SELECT id, name, qty, score, created_at, updated_at FROM items WHERE id = ?";
const INSERT: &str = "INSERT INTO items (name, qty, score, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
                      RETURNING id, name, qty, score, created_at, updated_at";
const UPDATE: &str = "UPDATE items SET qty = ?, updated_at = ? WHERE id = ? \
                      RETURNING id, name, qty, score, created_at, updated_at";
const STAMP: &str = "2026-12-04T00:00:00.000000Z";

/// One row of `items`.
type Item = (i64, String, i64, f64, String, String);

/// A point operation (owned, so it can cross a channel or go into `spawn_blocking`).
#[derive(Clone, Copy)]
enum Op {
    Read(i64),
    Insert(i64),
    Update(i64),
}

fn check(op: Op, r: &Option<Item>) {
    let r = r.as_ref().expect("row");
    match op {
        Op::Read(id) => assert_eq!(r.0, id),
        Op::Insert(i) => assert_eq!(r.2, i),
        Op::Update(id) => assert_eq!(r.0, id),
    }
}

// ---------------------------------------------------------------------------------------------
// rusqlite

fn open_rusqlite(path: &str) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).expect("open");
    let mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).expect("wal");
    assert_eq!(mode.to_lowercase(), "wal");
    c.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;").expect("pragmas");
    c.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    c.set_prepared_statement_cache_capacity(256);
    c
}

fn item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn exec_rusqlite(c: &rusqlite::Connection, op: Op) -> rusqlite::Result<Option<Item>> {
    match op {
        Op::Read(id) => c.prepare_cached(READ)?.query_row([id], item).optional(),
        Op::Insert(i) => c
            .prepare_cached(INSERT)?
            .query_row(rusqlite::params![format!("n{i}"), i, 1.5, STAMP, STAMP], item)
            .optional(),
        Op::Update(id) => c.prepare_cached(UPDATE)?.query_row(rusqlite::params![id % 97, STAMP, id], item).optional(),
    }
}

/// A request to the dedicated connection thread.
struct Req {
    op: Op,
    reply: tokio::sync::oneshot::Sender<rusqlite::Result<Option<Item>>>,
}

/// Design 3: one OS thread owns the connection; async callers send requests over a channel.
struct ConnThread {
    tx: mpsc::Sender<Req>,
}

impl ConnThread {
    fn spawn(path: &str, batch: bool) -> ConnThread {
        let (tx, rx) = mpsc::channel::<Req>();
        let path = path.to_owned();
        std::thread::Builder::new()
            .name(String::from("sqlite-conn"))
            .spawn(move || {
                let c = open_rusqlite(&path);
                let mut queue = Vec::new();
                while let Ok(first) = rx.recv() {
                    if !batch {
                        let _ = first.reply.send(exec_rusqlite(&c, first.op));
                        continue;
                    }
                    queue.push(first);
                    while let Ok(r) = rx.try_recv() {
                        queue.push(r);
                    }
                    if queue.len() == 1 {
                        let r = queue.pop().expect("one");
                        let _ = r.reply.send(exec_rusqlite(&c, r.op));
                        continue;
                    }
                    // One transaction per wake-up; each statement stays atomic on its own (a failing
                    // statement is rolled back alone), replies go out after COMMIT.
                    c.execute_batch("BEGIN IMMEDIATE").expect("begin");
                    let results: Vec<_> = queue.iter().map(|r| exec_rusqlite(&c, r.op)).collect();
                    c.execute_batch("COMMIT").expect("commit");
                    for (r, res) in queue.drain(..).zip(results) {
                        let _ = r.reply.send(res);
                    }
                }
            })
            .expect("spawn");
        ConnThread { tx }
    }

    async fn call(&self, op: Op) -> rusqlite::Result<Option<Item>> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx.send(Req { op, reply }).expect("connection thread alive");
        rx.await.expect("connection thread replied")
    }
}

// ---------------------------------------------------------------------------------------------
// sqlx

async fn sqlx_pool(path: &str) -> SqlitePool {
    // crates/dataflow-core/src/db/pool.rs (file database): same options except `with_regexp()`
    // (registers a function; no per-statement cost) and DataFlow's max of 5 connections.
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .statement_cache_capacity(256)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    SqlitePoolOptions::new()
        .max_connections(5)
        .min_connections(0)
        .test_before_acquire(false)
        .connect_with(opts)
        .await
        .expect("sqlx pool")
}

async fn exec_sqlx(p: &SqlitePool, op: Op) -> Result<Option<Item>, sqlx::Error> {
    match op {
        Op::Read(id) => sqlx::query_as::<_, Item>(READ).bind(id).fetch_optional(p).await,
        Op::Insert(i) => {
            sqlx::query_as::<_, Item>(INSERT)
                .bind(format!("n{i}"))
                .bind(i)
                .bind(1.5)
                .bind(STAMP)
                .bind(STAMP)
                .fetch_optional(p)
                .await
        }
        Op::Update(id) => sqlx::query_as::<_, Item>(UPDATE).bind(id % 97).bind(STAMP).bind(id).fetch_optional(p).await,
    }
}

// ---------------------------------------------------------------------------------------------
// contenders

/// An async execution path.
#[derive(Clone)]
enum Path {
    Sqlx(SqlitePool),
    Thread(Arc<ConnThread>),
    Blocking(Arc<Mutex<rusqlite::Connection>>),
}

impl Path {
    async fn exec(&self, op: Op) -> Option<Item> {
        match self {
            Path::Sqlx(p) => exec_sqlx(p, op).await.expect("sqlx"),
            Path::Thread(t) => t.call(op).await.expect("thread"),
            Path::Blocking(c) => {
                let c = Arc::clone(c);
                tokio::task::spawn_blocking(move || exec_rusqlite(&c.lock().expect("lock"), op))
                    .await
                    .expect("join")
                    .expect("blocking")
            }
        }
    }
}

enum Runner {
    Sync(rusqlite::Connection),
    Async(tokio::runtime::Runtime, Path),
}

struct Contender {
    name: &'static str,
    runner: Runner,
}

/// On-CPU time of this process so far, in ns: `CLOCK_PROCESS_CPUTIME_ID`, the sum of every
/// thread's run time (exited threads included). Same quantity as the sum of
/// `/proc/self/task/*/schedstat` that crates/dataflow-core/benches/observe.rs reads, but exact:
/// schedstat is only brought up to date at a tick or a context switch, so a thread that reads its
/// own schedstat while it runs sees a stale value (the in-thread contender read 0 µs/op).
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

/// Deterministic pseudo-random ids in 1..=ROWS.
fn ids(seed: u64, n: usize) -> Vec<i64> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 33) % ROWS as u64) as i64 + 1
        })
        .collect()
}

fn ops(kind: usize, ids: &[i64], base: i64) -> Vec<Op> {
    ids.iter()
        .enumerate()
        .map(|(i, &id)| match kind {
            0 => Op::Read(id),
            1 => Op::Insert(base + i as i64),
            _ => Op::Update(id),
        })
        .collect()
}

/// (wall µs/op, on-CPU µs/op) of `ops` run by `tasks` tasks (sync: the calling thread).
fn measure(c: &mut Contender, ops: Vec<Op>, tasks: usize) -> Option<(f64, f64)> {
    let n = ops.len();
    let (t, cpu) = (Instant::now(), cpu_ns());
    match &mut c.runner {
        Runner::Sync(conn) => {
            if tasks > 1 {
                return None;
            }
            for op in ops {
                let r = exec_rusqlite(conn, op).expect("rusqlite");
                check(op, &r);
            }
        }
        Runner::Async(rt, path) => {
            let path = path.clone();
            rt.block_on(async move {
                if tasks == 1 {
                    for op in ops {
                        let r = path.exec(op).await;
                        check(op, &r);
                    }
                } else {
                    let mut set = tokio::task::JoinSet::new();
                    let chunk = n.div_ceil(tasks);
                    for part in ops.chunks(chunk) {
                        let (path, part) = (path.clone(), part.to_vec());
                        set.spawn(async move {
                            for op in part {
                                let r = path.exec(op).await;
                                check(op, &r);
                            }
                        });
                    }
                    while let Some(r) = set.join_next().await {
                        r.expect("task");
                    }
                }
            });
        }
    }
    let wall = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let cpu = cpu_ns().saturating_sub(cpu) as f64 / 1e3 / n as f64;
    Some((wall, cpu))
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn contenders(path: &str) -> Vec<Contender> {
    let sqlx = |rt: tokio::runtime::Runtime| {
        let p = rt.block_on(sqlx_pool(path));
        Runner::Async(rt, Path::Sqlx(p))
    };
    let thread = |rt, batch| Runner::Async(rt, Path::Thread(Arc::new(ConnThread::spawn(path, batch))));
    vec![
        Contender { name: "sqlx SqlitePool, current_thread", runner: sqlx(current_thread()) },
        Contender { name: "sqlx SqlitePool, multi_thread", runner: sqlx(multi_thread()) },
        Contender { name: "rusqlite in the calling thread", runner: Runner::Sync(open_rusqlite(path)) },
        Contender { name: "rusqlite dedicated thread, current_thread", runner: thread(current_thread(), false) },
        Contender { name: "rusqlite dedicated thread, multi_thread", runner: thread(multi_thread(), false) },
        Contender { name: "rusqlite dedicated thread + batching, multi_thread", runner: thread(multi_thread(), true) },
        Contender {
            name: "rusqlite spawn_blocking, multi_thread",
            runner: Runner::Async(multi_thread(), Path::Blocking(Arc::new(Mutex::new(open_rusqlite(path))))),
        },
    ]
}

fn setup(path: &str) {
    remove_db(path);
    let c = open_rusqlite(path);
    c.execute_batch(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, \
         score REAL NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    )
    .expect("create");
    c.execute_batch("BEGIN").expect("begin");
    {
        let mut s = c
            .prepare("INSERT INTO items (name, qty, score, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
            .expect("prepare");
        for i in 0..ROWS {
            s.execute(rusqlite::params![format!("n{i}"), i, i as f64 / 3.0, STAMP, STAMP]).expect("seed");
        }
    }
    c.execute_batch("COMMIT").expect("commit");
}

fn stats(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    (s[s.len() / 2], s[0], s[s.len() - 1])
}

fn fmt(v: &[f64], prec: usize) -> String {
    if v.is_empty() {
        return String::from("n/a");
    }
    let (m, lo, hi) = stats(v);
    format!("{m:.prec$} ({lo:.prec$}–{hi:.prec$})")
}

fn profile(path: &str, what: &str) {
    let n: usize = std::env::var("SD_PROFILE_N").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let kind = if what.ends_with("insert") {
        1
    } else if what.ends_with("update") {
        2
    } else {
        0
    };
    let mut c = contenders(path)
        .into_iter()
        .find(|c| match what.split('-').next() {
            Some("sqlx") => c.name == "sqlx SqlitePool, current_thread",
            Some("thread") => c.name == "rusqlite dedicated thread, current_thread",
            _ => c.name == "rusqlite in the calling thread",
        })
        .expect("contender");
    let (w, cpu) = measure(&mut c, ops(kind, &ids(7, n), 10_000_000), 1).expect("sequential");
    println!("profile {what}: {n} ops, wall {w:.2} µs/op, on-CPU {cpu:.2} µs/op");
}

fn main() {
    let quick = std::env::var("SD_MODE").is_ok_and(|m| m == "quick");
    let (rounds, n_seq, n_conc) = if quick { (3, 300, 800) } else { (7, 5000, 8000) };
    let path = std::env::temp_dir().join(format!("dataflow-sqlite-driver-{}.db", std::process::id()));
    let path = path.to_str().expect("utf-8 temp path").to_owned();
    setup(&path);
    if let Ok(what) = std::env::var("SD_PROFILE") {
        profile(&path, &what);
        remove_db(&path);
        return;
    }
    let mut cs = contenders(&path);
    if let Ok(only) = std::env::var("SD_ONLY") {
        // Keep the baseline (first) and the contenders whose name contains `only`.
        let mut first = true;
        cs.retain(|c| std::mem::take(&mut first) || c.name.contains(only.as_str()));
    }
    let k = cs.len();
    // [contender][op kind] -> per-round values
    let mut seq_wall = vec![vec![Vec::new(); 3]; k];
    let mut seq_cpu = vec![vec![Vec::new(); 3]; k];
    let mut conc_wall = vec![vec![Vec::new(); 3]; k];
    let mut conc_cpu = vec![vec![Vec::new(); 3]; k];
    let mut insert_base = 1_000_000i64;
    // Warm-up: statement caches, pool connections, thread start-up.
    for c in cs.iter_mut() {
        for kind in 0..3 {
            measure(c, ops(kind, &ids(1, 50), insert_base), 1);
            insert_base += 50;
        }
    }
    for round in 0..rounds {
        for j in 0..k {
            let i = (j + round) % k; // rotate the order every round
            let c = &mut cs[i];
            for kind in 0..3 {
                let (w, cpu) =
                    measure(c, ops(kind, &ids((round * 31 + kind) as u64, n_seq), insert_base), 1).expect("sequential");
                insert_base += n_seq as i64;
                seq_wall[i][kind].push(w);
                seq_cpu[i][kind].push(cpu);
                if let Some((w, cpu)) =
                    measure(c, ops(kind, &ids((round * 37 + kind) as u64, n_conc), insert_base), TASKS)
                {
                    conc_wall[i][kind].push(1e6 / w); // ops/s
                    conc_cpu[i][kind].push(cpu);
                }
                insert_base += n_conc as i64;
            }
        }
        eprintln!("round {}/{rounds} done", round + 1);
    }
    let mut out = String::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    out += &format!(
        "Mode {}, {rounds} interleaved rounds; sequential {n_seq} ops per op and round, concurrent {n_conc} ops \
         per op and round over {TASKS} tasks. {ROWS}-row table, temp-file database, WAL + synchronous=NORMAL. \
         Load average at the end: {}.\n\n",
        if quick { "quick" } else { "full" },
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    out += "Sequential (one task), µs/op, median (min–max); ratio = sqlx current_thread median / this median\n\n";
    out += "| execution path | read wall | read CPU | insert wall | insert CPU | update wall | update CPU | \
            wall ratio r/i/u | CPU ratio r/i/u |\n|---|---|---|---|---|---|---|---|---|\n";
    let base_w: Vec<f64> = (0..3).map(|o| stats(&seq_wall[0][o]).0).collect();
    let base_c: Vec<f64> = (0..3).map(|o| stats(&seq_cpu[0][o]).0).collect();
    for i in 0..k {
        let rw: Vec<String> = (0..3).map(|o| format!("{:.2}", base_w[o] / stats(&seq_wall[i][o]).0)).collect();
        let rc: Vec<String> = (0..3).map(|o| format!("{:.2}", base_c[o] / stats(&seq_cpu[i][o]).0)).collect();
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            cs[i].name,
            fmt(&seq_wall[i][0], 1),
            fmt(&seq_cpu[i][0], 1),
            fmt(&seq_wall[i][1], 1),
            fmt(&seq_cpu[i][1], 1),
            fmt(&seq_wall[i][2], 1),
            fmt(&seq_cpu[i][2], 1),
            rw.join(" / "),
            rc.join(" / ")
        );
    }
    out += &format!(
        "\nConcurrent ({TASKS} tasks): throughput in ops/s (thousands), median (min–max), and on-CPU µs/op median\n\n"
    );
    out += "| execution path | read kops/s | read CPU | insert kops/s | insert CPU | update kops/s | update CPU |\n\
            |---|---|---|---|---|---|---|\n";
    for i in 0..k {
        let kops = |v: &Vec<f64>| v.iter().map(|x| x / 1e3).collect::<Vec<_>>();
        let med = |v: &Vec<f64>| if v.is_empty() { String::from("n/a") } else { format!("{:.1}", stats(v).0) };
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            cs[i].name,
            fmt(&kops(&conc_wall[i][0]), 1),
            med(&conc_cpu[i][0]),
            fmt(&kops(&conc_wall[i][1]), 1),
            med(&conc_cpu[i][1]),
            fmt(&kops(&conc_wall[i][2]), 1),
            med(&conc_cpu[i][2]),
        );
    }
    println!("{out}");
    if let Ok(file) = std::env::var("SD_OUT") {
        if let Some(dir) = std::path::Path::new(&file).parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&file, &out).expect("write SD_OUT");
    }
    drop(cs);
    remove_db(&path);
}

fn remove_db(path: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}
