//! The lease-row migration lock (docs/guide/scaling.md) with advisory locks disabled:
//! eight OS processes migrate once; a holder process killed mid-migration is taken over after
//! its lease expires (while alive, its heartbeat keeps the lease); dropping a registration
//! future mid-migration releases the lock and leaves no half-applied step. And the automatic
//! fallback: a real PostgreSQL database that refuses `pg_try_advisory_lock` to the connecting
//! role makes the default lock (`MigrationLock::Auto`) use the lease, and eight processes
//! still migrate exactly once.
//!
//! The blocking tests hold a table lock from a plain sqlx connection so that the migration's
//! `ALTER TABLE` waits (PostgreSQL: `LOCK TABLE .. IN ACCESS SHARE MODE`; MariaDB: an open
//! transaction that read the table holds its metadata lock). SQLite keeps its write lock as the
//! migration lock (the lease is for servers), so those run on PostgreSQL and MariaDB only.

use std::time::{Duration, Instant};

use dataflow::{MigrationLock, ModelSchema};
use dataflow_core::DataFlow;
use dataflow_tests::{Backend, TestDb, backend_tests};
use serde_json::{Value as J, json};
use sqlx::Connection;

const LEASE_MS: u64 = 1500;

fn v1() -> J {
    json!({"name": "Job", "fields": [{"name": "id", "type": "string"}, {"name": "title", "type": "string"}]})
}

fn v2() -> J {
    let mut v = v1();
    let f = v["fields"].as_array_mut().unwrap();
    f.push(json!({"name": "priority", "type": "i32", "default": 3}));
    f.push(json!({"name": "owner", "type": "string", "nullable": true, "index": true}));
    v
}

fn schema(j: &J) -> ModelSchema {
    ModelSchema::from_json(j).unwrap()
}

async fn lease_db(t: &TestDb, lock_timeout: Duration) -> DataFlow {
    DataFlow::builder(t.url())
        .migration_lock(MigrationLock::Lease)
        .lease_duration(Duration::from_millis(LEASE_MS))
        .migration_lock_timeout(lock_timeout)
        .connect()
        .await
        .unwrap()
}

/// One integer from a query, with plain sqlx.
async fn scalar(t: &TestDb, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match t.backend() {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(t.url()).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(t.url()).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
        Backend::Sqlite => {
            let o: sqlx::sqlite::SqliteConnectOptions = t.url().parse().unwrap();
            let mut c = sqlx::SqliteConnection::connect_with(&o).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

async fn exec(t: &TestDb, sql: &str) {
    use sqlx::Executor;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match t.backend() {
        Backend::Postgres => drop(sqlx::PgConnection::connect(t.url()).await.unwrap().execute(sql).await.unwrap()),
        _ => drop(sqlx::MySqlConnection::connect(t.url()).await.unwrap().execute(sql).await.unwrap()),
    }
}

async fn has_column(t: &TestDb, col: &str) -> bool {
    let q = match t.backend() {
        Backend::Postgres => format!(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'jobs' AND column_name = '{col}'"
        ),
        _ => format!(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'jobs' AND COLUMN_NAME = '{col}'"
        ),
    };
    scalar(t, &q).await > 0
}

/// A plain connection holding a lock that makes `ALTER TABLE jobs` wait.
enum Blocker {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
}

impl Blocker {
    async fn hold(t: &TestDb) -> Blocker {
        use sqlx::Executor;
        match t.backend() {
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(t.url()).await.unwrap();
                c.execute("BEGIN").await.unwrap();
                c.execute("LOCK TABLE jobs IN ACCESS SHARE MODE").await.unwrap();
                Blocker::Pg(c)
            }
            _ => {
                let mut c = sqlx::MySqlConnection::connect(t.url()).await.unwrap();
                c.execute("START TRANSACTION").await.unwrap();
                c.execute("SELECT COUNT(*) FROM jobs").await.unwrap();
                Blocker::My(c)
            }
        }
    }

    async fn release(self) {
        use sqlx::Executor;
        match self {
            Blocker::Pg(mut c) => drop(c.execute("COMMIT").await.unwrap()),
            Blocker::My(mut c) => drop(c.execute("COMMIT").await.unwrap()),
        }
    }
}

async fn setup(t: &TestDb) -> DataFlow {
    let df = DataFlow::connect(t.url()).await.unwrap();
    df.register_schema(schema(&v1())).await.unwrap();
    df.express().create_json("Job", &json!({"id": "j1", "title": "x"})).await.unwrap();
    df
}

fn worker(t: &TestDb, model: &J, lock_timeout_ms: u64) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_migrate_worker"))
        .args([t.url(), model.to_string().as_str()])
        .env("DF_WORKER_LEASE_MS", LEASE_MS.to_string())
        .env("DF_WORKER_LOCK_TIMEOUT_MS", lock_timeout_ms.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

async fn applied_runs(df: &DataFlow) -> usize {
    df.migration_history().await.unwrap().iter().filter(|h| h.model == "Job" && h.status == "applied").count()
}

async fn eight_processes_with_lease_migrate_once(t: &TestDb) {
    let df = setup(t).await;
    let children: Vec<_> = (0..8).map(|_| worker(t, &v2(), 60_000)).collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.trim() == "ok", "worker failed: {text}");
    }
    assert_eq!(applied_runs(&df).await, 2, "one create + exactly one migration");
    assert_eq!(scalar(t, "SELECT COUNT(*) FROM jobs WHERE priority = 3").await, 1);
    if t.backend() != Backend::Sqlite {
        assert_eq!(scalar(t, "SELECT COUNT(*) FROM dataflow_migration_lock").await, 0, "every lease released");
    }
    df.close().await;
}

async fn wait_for_lease(t: &TestDb) {
    let start = Instant::now();
    while scalar(t, "SELECT COUNT(*) FROM dataflow_migration_lock").await == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "the worker never took the lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn killed_holder_is_taken_over_after_expiry(t: &TestDb) {
    if t.backend() == Backend::Sqlite {
        return;
    }
    let df = setup(t).await;
    // Create the lease table first so the poll below can read it.
    lease_db(t, Duration::from_secs(5))
        .await
        .register_schema(schema(&json!({"name": "Warm", "fields": [{"name": "id", "type": "i64"}]})))
        .await
        .unwrap();
    let blocker = Blocker::hold(t).await;
    let mut holder = worker(t, &v2(), 60_000);
    wait_for_lease(t).await;
    // Alive: the heartbeat keeps the lease past its duration, so a contender times out.
    let contender = lease_db(t, Duration::from_millis(LEASE_MS * 2)).await;
    let e = contender.register_schema(schema(&v2())).await.unwrap_err();
    assert_eq!(e.code().number(), 303, "{e}");
    assert!(e.to_string().contains("lease"), "{e}");
    // Killed mid-migration (SIGKILL: no cleanup runs): the lease stays until it expires.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let killed_at = Instant::now();
    blocker.release().await;
    let taker = lease_db(t, Duration::from_secs(30)).await;
    taker.register_schema(schema(&v2())).await.unwrap();
    let waited = killed_at.elapsed();
    assert!(has_column(t, "priority").await && has_column(t, "owner").await);
    assert_eq!(scalar(t, "SELECT COUNT(*) FROM jobs WHERE priority = 3").await, 1);
    assert_eq!(scalar(t, "SELECT COUNT(*) FROM dataflow_migration_lock").await, 0, "the taker released the lease");
    eprintln!("{:?}: taken over {waited:?} after the kill (lease {LEASE_MS} ms)", t.backend());
    df.close().await;
}

async fn dropped_registration_releases_lock(t: &TestDb) {
    if t.backend() == Backend::Sqlite {
        return;
    }
    for mode in [MigrationLock::Auto, MigrationLock::Lease] {
        let df = setup(t).await;
        let blocker = Blocker::hold(t).await;
        let db = DataFlow::builder(t.url())
            .migration_lock(mode)
            .lease_duration(Duration::from_secs(60))
            .connect()
            .await
            .unwrap();
        // The registration blocks in ALTER TABLE under the lock; the timeout drops its future.
        let r = tokio::time::timeout(Duration::from_millis(1500), db.register_schema(schema(&v2()))).await;
        assert!(r.is_err(), "{mode:?}: the registration should still be waiting");
        blocker.release().await;
        if mode == MigrationLock::Lease {
            // Released by the dropped guard, long before the 60 s lease would expire.
            let start = Instant::now();
            while scalar(t, "SELECT COUNT(*) FROM dataflow_migration_lock").await != 0 {
                assert!(start.elapsed() < Duration::from_secs(10), "the dropped registration kept its lease");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if t.backend() == Backend::Postgres {
            // The migration transaction ended with its connection: nothing of it stays.
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert!(!has_column(t, "priority").await, "{mode:?}: half-applied migration left behind");
        }
        // The lock is free: another instance migrates within a short wait.
        let other = DataFlow::builder(t.url())
            .migration_lock(mode)
            .migration_lock_timeout(Duration::from_secs(10))
            .connect()
            .await
            .unwrap();
        other.register_schema(schema(&v2())).await.unwrap();
        assert!(has_column(t, "priority").await && has_column(t, "owner").await);
        assert_eq!(scalar(t, "SELECT COUNT(*) FROM jobs WHERE priority = 3").await, 1);
        // Reset for the next mode.
        df.close().await;
        other.close().await;
        db.close().await;
        exec(t, "DROP TABLE jobs").await;
    }
}

backend_tests!(
    eight_processes_with_lease_migrate_once,
    killed_holder_is_taken_over_after_expiry,
    dropped_registration_releases_lock
);

/// Drops a login role when dropped (after the test database that holds its objects and grants,
/// which is declared after it and so dropped first), even when the test panics.
struct RoleGuard {
    admin: String,
    name: String,
}

impl Drop for RoleGuard {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sqlx::Executor;
                let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
                c.execute(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {name}"))).await.unwrap();
            });
        })
        .join();
        if joined.is_err() {
            eprintln!("warning: could not drop the test role {}", self.name);
        }
    }
}

/// `url` with its user and password replaced.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}:{password}@{host}")
}

/// The privileges of `pg_catalog` functions are per database: in the test's own database the
/// advisory lock functions are revoked from PUBLIC, and a non-superuser role (superusers bypass
/// privileges) migrates there with the default lock. Other databases keep their privileges.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_that_rejects_advisory_locks_falls_back_to_the_lease() {
    use sqlx::Executor;
    let Some(admin) = Backend::Postgres.admin_url() else { return };
    if sqlx::PgConnection::connect(&admin).await.is_err() {
        assert!(!dataflow_tests::in_ci(), "PostgreSQL unreachable under CI");
        eprintln!("skipped: PostgreSQL unreachable");
        return;
    }
    // A role of this run only (re-runs and parallel runs never share it).
    let role =
        format!("df_noadv_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple().to_string().get(..8).unwrap());
    {
        let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
        c.execute(sqlx::AssertSqlSafe(format!("CREATE ROLE {role} LOGIN NOSUPERUSER PASSWORD '{role}'")))
            .await
            .unwrap();
    }
    let _role_guard = RoleGuard { admin: admin.clone(), name: role.clone() };
    let Some(t) = TestDb::postgres().await else { return };
    {
        let mut c = sqlx::PgConnection::connect(t.url()).await.unwrap();
        c.execute(
            "REVOKE EXECUTE ON FUNCTION pg_try_advisory_lock(bigint), pg_advisory_lock(bigint), \
             pg_advisory_unlock(bigint), pg_try_advisory_xact_lock(bigint), pg_advisory_xact_lock(bigint), \
             pg_advisory_unlock_all() FROM PUBLIC",
        )
        .await
        .unwrap();
        c.execute(sqlx::AssertSqlSafe(format!("GRANT ALL ON SCHEMA public TO {role}"))).await.unwrap();
    }
    let url = as_user(t.url(), &role, &role);
    // The premise: this role really cannot take an advisory lock here...
    let mut rc = sqlx::PgConnection::connect(&url).await.unwrap();
    let e = sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock(1)").fetch_one(&mut rc).await.unwrap_err();
    assert_eq!(e.as_database_error().and_then(|d| d.code()).as_deref(), Some("42501"), "{e}");
    drop(rc);
    // ... and every other database is untouched: the privilege is per database.
    let elsewhere = format!("SELECT has_function_privilege('{role}', 'pg_try_advisory_lock(bigint)', 'EXECUTE')");
    let mut ac = sqlx::PgConnection::connect(&admin).await.unwrap();
    let other: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(elsewhere.clone())).fetch_one(&mut ac).await.unwrap();
    assert!(other, "the revoke must not leak into the admin database");
    let mut tc = sqlx::PgConnection::connect(t.url()).await.unwrap();
    let here: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(elsewhere)).fetch_one(&mut tc).await.unwrap();
    assert!(!here);

    // The default lock (Auto), as the role: the first registration creates the table.
    let df = DataFlow::connect(&url).await.unwrap();
    assert_eq!(df.config().migration_lock, MigrationLock::Auto);
    df.register_schema(schema(&v1())).await.unwrap();
    df.express().create_json("Job", &json!({"id": "j1", "title": "x"})).await.unwrap();
    let lease_table: bool = sqlx::query_scalar("SELECT to_regclass('dataflow_migration_lock') IS NOT NULL")
        .fetch_one(&mut tc)
        .await
        .unwrap();
    assert!(lease_table, "the rejected advisory lock fell back to the lease table");

    // Eight processes with the default lock migrate to v2: exactly once, through the lease.
    let children: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_migrate_worker"))
                .args([url.as_str(), v2().to_string().as_str()])
                .env("DF_WORKER_LOCK_TIMEOUT_MS", "60000")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.trim() == "ok", "worker failed: {text}");
    }
    assert_eq!(applied_runs(&df).await, 2, "one create + exactly one migration");
    assert!(has_column(&t, "priority").await && has_column(&t, "owner").await);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM jobs WHERE priority = 3").await, 1);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM dataflow_migration_lock").await, 0, "every lease released");
    df.close().await;
    drop((tc, ac));
}
