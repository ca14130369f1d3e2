//! Test support for your own suites (feature `testing`): one isolated database per test on
//! SQLite, PostgreSQL or MySQL/MariaDB, dropped afterwards even when the test panics, and a
//! rollback fixture that runs a test body in a transaction that is never committed.
//!
//! ```no_run
//! use dataflow_core::testing::{Backend, TestDb};
//! # #[derive(Debug)] struct User;
//! #[tokio::test]
//! async fn creates_users() {
//!     // A fresh database (a temporary SQLite file here); `None` = backend skipped (see below).
//!     let Some(t) = TestDb::new(Backend::Sqlite).await else { return };
//!     let db = t.connect().await.unwrap();
//!     // db.register::<User>().await.unwrap();   or: t.connect_with::<(User, Post)>()
//!     // ... the test; the database is dropped when `t` goes out of scope, panic or not.
//! }
//! ```
//!
//! Servers: `DATAFLOW_TEST_POSTGRES_URL` and `DATAFLOW_TEST_MYSQL_URL` (admin URLs; defaults
//! [`DEFAULT_POSTGRES_URL`], [`DEFAULT_MYSQL_URL`]). Each [`TestDb`] creates its own database
//! `df_t_<pid>_<n>_<random>` there (a file in the temp directory for SQLite), so parallel tests
//! never see each other's data.
//!
//! Skipping: `DATAFLOW_TEST_BACKENDS=sqlite,postgres` selects backends; an unreachable server
//! skips. The first skip of a backend prints one line on stderr (not captured by the test
//! harness), and when the test binary ends a summary line per skipped backend says how many test
//! databases it did not create, so a run that skipped a backend says so at its end. Under `CI=true` nothing skips: an unreachable
//! server fails the test, and `DATAFLOW_TEST_BACKENDS` is ignored (all three backends run).

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dataflow_sql::{Error, ErrorCode, Model, Result};
use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::Connection;

use crate::{DataFlow, Tx};

/// Default admin URL of a local PostgreSQL server.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Default admin URL of a local MySQL/MariaDB server.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// A database backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite, a temporary file.
    Sqlite,
    /// PostgreSQL, a fresh database on the test server.
    Postgres,
    /// MySQL/MariaDB, a fresh database on the test server.
    MySql,
}

impl Backend {
    /// The three backends.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

    /// `sqlite`, `postgres` or `mysql` (the names `DATAFLOW_TEST_BACKENDS` uses).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }

    /// The SQL dialect of this backend.
    pub fn dialect(self) -> dataflow_sql::Dialect {
        match self {
            Backend::Sqlite => dataflow_sql::Dialect::Sqlite,
            Backend::Postgres => dataflow_sql::Dialect::Postgres,
            Backend::MySql => dataflow_sql::Dialect::MySql,
        }
    }

    /// Whether this backend runs: always under CI; otherwise when `DATAFLOW_TEST_BACKENDS` (a
    /// comma list such as `sqlite,postgres`, or `all`) is unset or names it.
    pub fn selected(self) -> bool {
        Self::selected_by(std::env::var("DATAFLOW_TEST_BACKENDS").ok().as_deref(), in_ci(), self)
    }

    /// [`Backend::selected`] on given values (testable without the process environment).
    pub fn selected_by(list: Option<&str>, ci: bool, backend: Backend) -> bool {
        ci || list.is_none_or(|v| v.split(',').any(|b| b.trim() == backend.name() || b.trim() == "all"))
    }

    /// The server's admin URL from the environment (or the local default); `None` for SQLite.
    pub fn admin_url(self) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => {
                Some(std::env::var("DATAFLOW_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into()))
            }
            Backend::MySql => {
                Some(std::env::var("DATAFLOW_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_MYSQL_URL.into()))
            }
        }
    }
}

/// Whether the suite runs under CI (`CI=true` or `CI=1`), where nothing may skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skipped backends: why (the first reason seen) and how many databases were not created.
static SKIPPED: Mutex<Option<HashMap<Backend, (String, usize)>>> = Mutex::new(None);

/// Reports a skipped backend: one line on stderr at the first skip (the test harness captures
/// `eprintln!` of passing tests; this line is always shown), and a summary with the count when
/// the test binary ends.
fn report_skip(backend: Backend, why: &str) {
    let mut s = SKIPPED.lock().unwrap_or_else(|p| p.into_inner());
    let map = s.get_or_insert_with(HashMap::new);
    let first = map.is_empty();
    let entry = map.entry(backend).or_insert_with(|| {
        let _ = writeln!(
            std::io::stderr(),
            "dataflow::testing: SKIPPED backend {}: {why} (tests on it pass without running; CI=true makes this a failure)",
            backend.name()
        );
        (why.to_owned(), 0)
    });
    entry.1 += 1;
    drop(s);
    if first {
        register_summary();
    }
}

/// Prints the skipped backends when the process exits (registered with the first skip).
extern "C" fn print_skip_summary() {
    let mut lines = Vec::new();
    {
        let s = SKIPPED.lock().unwrap_or_else(|p| p.into_inner());
        for (backend, (why, n)) in s.iter().flatten() {
            lines.push(format!(
                "dataflow::testing: summary: backend {} SKIPPED for {n} test database(s): {why}",
                backend.name()
            ));
        }
    }
    lines.sort();
    let mut err = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(err, "{l}");
    }
}

fn register_summary() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `atexit` only records the function pointer. `print_skip_summary` is an
        // `extern "C" fn` without arguments that takes a poison-tolerant lock and writes to
        // stderr, ignoring errors; it does not unwind.
        #[allow(unsafe_code)]
        let _ = unsafe { libc::atexit(print_skip_summary) };
    });
}

/// The backends skipped so far in this process.
pub fn skipped_backends() -> Vec<Backend> {
    let s = SKIPPED.lock().unwrap_or_else(|p| p.into_inner());
    let mut v: Vec<Backend> = s.iter().flat_map(|m| m.keys()).copied().collect();
    v.sort_by_key(|b| b.name());
    v
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let r = uuid::Uuid::new_v4().simple().to_string();
    format!("df_t_{}_{}_{}", std::process::id(), n, &r[..8])
}

/// `scheme://authority/olddb?q` → `scheme://authority/db?q`.
pub fn with_database(admin_url: &str, db: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Models to register on a test database: a tuple of up to eight model types (`(User,)`).
pub trait Models {
    /// Registers every model on `db`.
    fn register_on(db: &DataFlow) -> BoxFuture<'_, Result<()>>;
}

macro_rules! models_tuple {
    ($($m:ident),+) => {
        impl<$($m: Model),+> Models for ($($m,)+) {
            fn register_on(db: &DataFlow) -> BoxFuture<'_, Result<()>> {
                async move {
                    $(db.register::<$m>().await?;)+
                    Ok(())
                }
                .boxed()
            }
        }
    };
}
models_tuple!(A);
models_tuple!(A, B);
models_tuple!(A, B, C);
models_tuple!(A, B, C, D);
models_tuple!(A, B, C, D, E);
models_tuple!(A, B, C, D, E, F);
models_tuple!(A, B, C, D, E, F, G);
models_tuple!(A, B, C, D, E, F, G, H);

/// One isolated database; dropped on the server (or its SQLite file removed) when this value
/// drops, also while a panicking test unwinds.
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    url: String,
    name: String,
    admin_url: Option<String>,
}

async fn admin_exec(backend: Backend, admin: &str, sql: String) -> std::result::Result<(), sqlx::Error> {
    // `sql` is CREATE/DROP DATABASE of a name this module generated (letters, digits, `_`).
    match backend {
        Backend::Postgres => sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut sqlx::PgConnection::connect(admin).await?)
            .await
            .map(drop),
        _ => sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut sqlx::MySqlConnection::connect(admin).await?)
            .await
            .map(drop),
    }
}

impl TestDb {
    /// A fresh database on `backend`, or `None` when the backend is skipped (not selected, or
    /// its server unreachable outside CI). Under CI an unreachable server panics.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        if !backend.selected() {
            report_skip(backend, "not in DATAFLOW_TEST_BACKENDS");
            return None;
        }
        let name = unique_name();
        let Some(admin) = backend.admin_url() else {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            return Some(TestDb { backend, url: format!("sqlite://{}", path.display()), name, admin_url: None });
        };
        let create = dataflow_sql::stmt::database::create(backend.dialect(), &name)
            .unwrap_or_else(|e| panic!("generated test database name {name}: {e}"));
        match admin_exec(backend, &admin, create).await {
            Ok(()) => Some(TestDb { backend, url: with_database(&admin, &name), name, admin_url: Some(admin) }),
            Err(e) if !in_ci() => {
                report_skip(backend, &format!("test server unreachable at {admin}: {e}"));
                None
            }
            Err(e) => panic!("CI=true and the {backend:?} test server is unreachable at {admin}: {e}"),
        }
    }

    /// A fresh SQLite database file.
    pub async fn sqlite() -> Option<TestDb> {
        Self::new(Backend::Sqlite).await
    }

    /// A fresh PostgreSQL database (see [`TestDb::new`]).
    pub async fn postgres() -> Option<TestDb> {
        Self::new(Backend::Postgres).await
    }

    /// A fresh MySQL/MariaDB database (see [`TestDb::new`]).
    pub async fn mysql() -> Option<TestDb> {
        Self::new(Backend::MySql).await
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database (or file stem) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A [`DataFlow`] instance on this database (default settings).
    pub async fn connect(&self) -> Result<DataFlow> {
        DataFlow::connect(&self.url).await
    }

    /// A [`DataFlow`] instance on this database with the models `M` registered (a model type
    /// as a tuple: `t.connect_with::<(User,)>()`, `t.connect_with::<(User, Post)>()`).
    pub async fn connect_with<M: Models>(&self) -> Result<DataFlow> {
        let db = self.connect().await?;
        M::register_on(&db).await?;
        Ok(db)
    }

    /// Drops the database now (what `Drop` does), synchronously, on a helper thread with its
    /// own runtime so it works inside and outside a tokio runtime.
    fn cleanup(&self) {
        let (backend, name) = (self.backend, self.name.clone());
        let Some(admin) = self.admin_url.clone() else {
            let base = std::env::temp_dir().join(format!("{name}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", base.display()));
            }
            return;
        };
        let label = name.clone();
        let joined = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                eprintln!("warning: no runtime to drop test database {name}");
                return;
            };
            let Ok(sql) = dataflow_sql::stmt::database::drop(backend.dialect(), &name) else {
                eprintln!("warning: test database name {name} is not a valid identifier");
                return;
            };
            if let Err(e) = rt.block_on(admin_exec(backend, &admin, sql)) {
                eprintln!("warning: could not drop test database {name}: {e}");
            }
        })
        .join();
        if joined.is_err() {
            eprintln!("warning: cleanup of test database {label} panicked");
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// Runs `body` inside a transaction that is never committed: whatever it writes is rolled back
/// when it returns (or panics), so the database is left as it was. Returns the body's value.
///
/// ```no_run
/// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
/// use futures::FutureExt;
/// let n = dataflow_core::testing::rollback(&db, |tx| {
///     async move {
///         tx.express().create_json("User", &serde_json::json!({"id": "u1", "name": "Ann"})).await.unwrap();
///         tx.express().count_json("User", &serde_json::json!({})).await.unwrap()
///     }
///     .boxed()
/// })
/// .await?;
/// assert_eq!(n, 1); // visible inside; the table is empty again afterwards
/// # Ok(()) }
/// ```
pub async fn rollback<T, F>(db: &DataFlow, body: F) -> Result<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut Tx) -> BoxFuture<'c, T> + Send + 'static,
{
    let out: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
    let slot = out.clone();
    let r: Result<()> = db
        .transaction(move |tx| {
            async move {
                let v = body(tx).await;
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
                // Never commit: an error makes `transaction` roll back.
                Err(Error::new(ErrorCode::DATABASE, "rollback fixture: rolled back"))
            }
            .boxed()
        })
        .await;
    let v = out.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (v, r) {
        (Some(v), _) => Ok(v),
        (None, Err(e)) => Err(e),
        (None, Ok(())) => Err(Error::new(ErrorCode::DATABASE, "rollback fixture: the body did not run")),
    }
}
