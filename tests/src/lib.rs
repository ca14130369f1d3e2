//! Test support for DataFlow's cross-crate tests: one isolated database per test on SQLite,
//! PostgreSQL or MySQL/MariaDB.
//!
//! Servers are configured with `DATAFLOW_TEST_POSTGRES_URL` and `DATAFLOW_TEST_MYSQL_URL`
//! (never a bare `DATABASE_URL`, which sqlx reads at compile time). Each [`TestDb`] creates its
//! own database (`df_t_<random>`) on the server and drops it when dropped, so tests run in
//! parallel and leave nothing behind. When a server is unreachable the test is skipped with a
//! message, except under `CI=true`, where it fails: a backend that silently skips is a failure.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

/// Default admin URL of the local PostgreSQL server.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Default admin URL of the local MySQL/MariaDB server.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// A database backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, a temporary file.
    Sqlite,
    /// PostgreSQL, a fresh database on the test server.
    Postgres,
    /// MySQL/MariaDB, a fresh database on the test server.
    MySql,
}

impl Backend {
    /// Whether this backend is selected by `DATAFLOW_TEST_BACKENDS` (a comma list such as
    /// `sqlite,postgres`; unset means all). `cargo xtask test --backend ...` sets it.
    pub fn selected(self) -> bool {
        let name = match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        };
        std::env::var("DATAFLOW_TEST_BACKENDS")
            .map_or(true, |v| v.split(',').any(|b| b.trim() == name || b.trim() == "all"))
    }

    /// The server's admin URL from the environment (or the local default).
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

/// Whether the suite runs under CI, where an unreachable server is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// One isolated database; dropped (on the server, or its file removed) when this value drops.
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    url: String,
    name: String,
    admin_url: Option<String>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let r = uuid::Uuid::new_v4().simple().to_string();
    format!("df_t_{}_{}_{}", std::process::id(), n, &r[..8])
}

fn with_database(admin_url: &str, db: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    // scheme://authority/olddb -> scheme://authority/db
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{db}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

impl TestDb {
    /// A fresh database on `backend`, or `None` (with a message) when its server cannot be
    /// reached outside CI. Under `CI=true` an unreachable server panics.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        if !backend.selected() {
            eprintln!("SKIPPED: {backend:?} not in DATAFLOW_TEST_BACKENDS");
            return None;
        }
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                Some(TestDb { backend, url: format!("sqlite://{}", path.display()), name, admin_url: None })
            }
            Backend::Postgres | Backend::MySql => {
                let admin = backend.admin_url()?;
                let created = match backend {
                    Backend::Postgres => match sqlx::PgConnection::connect(&admin).await {
                        Ok(mut c) => sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                            .execute(&mut c)
                            .await
                            .map(drop),
                        Err(e) => Err(e),
                    },
                    _ => match sqlx::MySqlConnection::connect(&admin).await {
                        Ok(mut c) => {
                            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4")))
                                .execute(&mut c)
                                .await
                                .map(drop)
                        }
                        Err(e) => Err(e),
                    },
                };
                match created {
                    Ok(()) => Some(TestDb { backend, url: with_database(&admin, &name), name, admin_url: Some(admin) }),
                    Err(e) if !in_ci() => {
                        eprintln!("SKIPPED: {backend:?} test server unreachable at {admin}: {e}");
                        None
                    }
                    Err(e) => panic!("CI=true and the {backend:?} test server is unreachable at {admin}: {e}"),
                }
            }
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
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (backend, name, admin) = (self.backend, self.name.clone(), self.admin_url.clone());
        if backend == Backend::Sqlite {
            let base = std::env::temp_dir().join(format!("{name}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", base.display()));
            }
            return;
        }
        let Some(admin) = admin else { return };
        let label = name.clone();
        // Drop runs inside a tokio runtime; do the async cleanup on a thread with its own runtime.
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("cleanup runtime");
            rt.block_on(async move {
                let res = match backend {
                    Backend::Postgres => match sqlx::PgConnection::connect(&admin).await {
                        Ok(mut c) => {
                            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                                .execute(&mut c)
                                .await
                                .map(drop)
                        }
                        Err(e) => Err(e),
                    },
                    _ => match sqlx::MySqlConnection::connect(&admin).await {
                        Ok(mut c) => sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                            .execute(&mut c)
                            .await
                            .map(drop),
                        Err(e) => Err(e),
                    },
                };
                if let Err(e) = res {
                    eprintln!("warning: could not drop test database {name}: {e}");
                }
            });
        })
        .join();
        if joined.is_err() {
            eprintln!("warning: cleanup of test database {label} panicked");
        }
    }
}

/// Instantiates async scenario functions `async fn name(db: &TestDb)` once per backend, as
/// `sqlite::name`, `postgres::name` and `mysql::name` tests. Skips (outside CI) when a server is
/// unreachable.
///
/// ```ignore
/// async fn round_trip(db: &TestDb) { /* ... */ }
/// dataflow_tests::backend_tests!(round_trip);
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Sqlite).await { super::$name(&db).await; }
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::Postgres).await { super::$name(&db).await; }
            })*
        }
        mod mysql {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::TestDb::new($crate::Backend::MySql).await { super::$name(&db).await; }
            })*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_swapped_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("mysql://root@h:3306/test?ssl-mode=disabled", "x"),
            "mysql://root@h:3306/x?ssl-mode=disabled"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
