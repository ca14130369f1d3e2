//! Test support for DataFlow's cross-crate tests. The per-test databases come from the public
//! `dataflow::testing` module (the same API users get with the `testing` feature); this crate
//! only adds [`backend_tests!`], which instantiates one scenario body per backend.
//!
//! Servers are configured with `DATAFLOW_TEST_POSTGRES_URL` and `DATAFLOW_TEST_MYSQL_URL`
//! (never a bare `DATABASE_URL`, which sqlx reads at compile time). Each [`TestDb`] creates its
//! own database (`df_t_<random>`) on the server and drops it when dropped, so tests run in
//! parallel and leave nothing behind. When a server is unreachable the test is skipped with a
//! line on stderr, except under `CI=true`, where it fails and `DATAFLOW_TEST_BACKENDS` cannot
//! deselect a backend.

pub use dataflow::testing::{Backend, DEFAULT_MYSQL_URL, DEFAULT_POSTGRES_URL, TestDb, in_ci};

/// Whether the database `name` exists on `backend`'s test server (for SQLite: whether its
/// file exists). For tests of the cleanup itself.
pub async fn database_exists(backend: Backend, name: &str) -> dataflow::Result<bool> {
    let err = |e: sqlx::Error| dataflow::Error::new(dataflow::ErrorCode::CONNECTION_FAILED, e.to_string());
    let Some(admin) = backend.admin_url() else {
        return Ok(std::env::temp_dir().join(format!("{name}.db")).exists());
    };
    Ok(match backend {
        Backend::Postgres => {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.map_err(err)?;
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                .bind(name)
                .fetch_one(&mut c)
                .await
                .map_err(err)?;
            n > 0
        }
        _ => {
            let mut c = <sqlx::MySqlConnection as sqlx::Connection>::connect(&admin).await.map_err(err)?;
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
                .bind(name)
                .fetch_one(&mut c)
                .await
                .map_err(err)?;
            n > 0
        }
    })
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
    use dataflow::testing::{Backend, with_database};

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

    #[test]
    fn ci_cannot_deselect_a_backend() {
        for b in Backend::ALL {
            assert!(Backend::selected_by(Some("sqlite"), true, b), "{b:?} deselected under CI");
            assert!(Backend::selected_by(None, false, b));
        }
        assert!(Backend::selected_by(Some("sqlite"), false, Backend::Sqlite));
        assert!(!Backend::selected_by(Some("sqlite"), false, Backend::Postgres));
        assert!(Backend::selected_by(Some("all"), false, Backend::MySql));
    }
}
