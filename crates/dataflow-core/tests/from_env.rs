//! `Config::from_env_map`: every variable valid and invalid, without touching the process
//! environment (tests run in parallel).

use std::collections::HashMap;
use std::time::Duration;

use dataflow_core::Config;
use dataflow_core::db::env::{DEFAULT_DATABASE_URL, default_pool_size};
use dataflow_sql::{Dialect, ErrorCode};

fn cfg(vars: &[(&str, &str)]) -> dataflow_sql::Result<Config> {
    let m: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::from_env_map(|k| m.get(k).cloned())
}

/// An invalid value: DF-405 (DF-401 for the URL) naming the variable.
fn bad(var: &str, value: &str) {
    let e = cfg(&[(var, value)]).unwrap_err();
    let want = if var == "DATABASE_URL" { ErrorCode::INVALID_URL } else { ErrorCode::INVALID_CONFIG };
    assert_eq!(e.code(), want, "{var}={value}: {e}");
    assert!(e.to_string().contains(var), "{var}={value}: the message names the variable: {e}");
    assert!(!e.fixes().is_empty(), "{var}={value}: a fix is offered");
}

#[test]
fn nothing_set_gives_an_embedded_sqlite_file() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.url, DEFAULT_DATABASE_URL);
    assert_eq!(c.url, "sqlite://dataflow.db");
    assert_eq!(c.max_connections, Some(5));
    assert_eq!(c.acquire_timeout, Duration::from_secs(30));
    assert!(c.auto_migrate);
    assert_eq!(c.observe.slow_query, Some(Duration::from_secs(1)));
    assert_eq!(c.observe.log, None, "no subscriber unless asked");
}

#[test]
fn database_url() {
    assert_eq!(cfg(&[("DATABASE_URL", "postgres://u@h/db")]).unwrap().url, "postgres://u@h/db");
    let c = cfg(&[("DATABASE_URL", "mysql://u@h/db")]).unwrap();
    assert_eq!(c.max_connections, Some(default_pool_size(Dialect::MySql, false)));
    assert_eq!(cfg(&[("DATABASE_URL", "sqlite::memory:")]).unwrap().max_connections, Some(4));
    assert_eq!(cfg(&[("DATABASE_URL", "  ")]).unwrap().url, DEFAULT_DATABASE_URL, "empty counts as unset");
    bad("DATABASE_URL", "oracle://x");
    bad("DATABASE_URL", "nonsense");
}

#[test]
fn pool_size() {
    assert_eq!(cfg(&[("DATAFLOW_POOL_SIZE", "17")]).unwrap().max_connections, Some(17));
    assert_eq!(cfg(&[("DATAFLOW_POOL_SIZE", " 3 ")]).unwrap().max_connections, Some(3));
    for v in ["0", "-1", "ten", "1.5", "10001"] {
        bad("DATAFLOW_POOL_SIZE", v);
    }
}

#[test]
fn pool_size_defaults_follow_the_documented_rule() {
    let cores = std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap());
    for d in [Dialect::Postgres, Dialect::MySql] {
        assert_eq!(default_pool_size(d, false), (cores * 4).clamp(10, 64));
    }
    assert_eq!(default_pool_size(Dialect::Sqlite, false), 5);
    assert_eq!(default_pool_size(Dialect::Sqlite, true), 4);
}

#[test]
fn acquire_timeout() {
    for (v, d) in [
        ("45", Duration::from_secs(45)),
        ("45s", Duration::from_secs(45)),
        ("250ms", Duration::from_millis(250)),
        ("2m", Duration::from_secs(120)),
    ] {
        assert_eq!(cfg(&[("DATAFLOW_ACQUIRE_TIMEOUT", v)]).unwrap().acquire_timeout, d, "{v}");
    }
    for v in ["soon", "0", "0s", "5h", "-3", "1.5s"] {
        bad("DATAFLOW_ACQUIRE_TIMEOUT", v);
    }
}

#[test]
fn auto_migrate() {
    for (v, on) in [
        ("true", true),
        ("1", true),
        ("YES", true),
        ("on", true),
        ("false", false),
        ("0", false),
        ("no", false),
        ("Off", false),
    ] {
        assert_eq!(cfg(&[("DATAFLOW_AUTO_MIGRATE", v)]).unwrap().auto_migrate, on, "{v}");
    }
    for v in ["maybe", "2", "tru"] {
        bad("DATAFLOW_AUTO_MIGRATE", v);
    }
}

#[test]
fn slow_query_ms() {
    let c = cfg(&[("DATAFLOW_SLOW_QUERY_MS", "250")]).unwrap();
    assert_eq!(c.observe.slow_query, Some(Duration::from_millis(250)));
    assert_eq!(cfg(&[("DATAFLOW_SLOW_QUERY_MS", "0")]).unwrap().observe.slow_query, None, "0 turns it off");
    for v in ["-5", "fast", "1.5"] {
        bad("DATAFLOW_SLOW_QUERY_MS", v);
    }
}

#[test]
fn log_filter() {
    assert_eq!(cfg(&[("DATAFLOW_LOG", "info")]).unwrap().observe.log.as_deref(), Some("info"));
    let f = "warn,dataflow::sql=debug,dataflow::ops=info";
    assert_eq!(cfg(&[("DATAFLOW_LOG", f)]).unwrap().observe.log.as_deref(), Some(f));
    for v in ["dataflow::sql=loud", "[unclosed"] {
        bad("DATAFLOW_LOG", v);
    }
}

#[test]
fn read_urls() {
    assert!(cfg(&[]).unwrap().read_urls.is_empty(), "no replicas unless asked");
    let pg = ("DATABASE_URL", "postgres://app@primary/app");
    let c = cfg(&[pg, ("DATAFLOW_READ_URLS", "postgres://app@r1/app")]).unwrap();
    assert_eq!(c.read_urls, ["postgres://app@r1/app"]);
    let c = cfg(&[pg, ("DATAFLOW_READ_URLS", " postgres://app@r1/app , postgresql://app:pw@r2:5433/app ")]).unwrap();
    assert_eq!(c.read_urls, ["postgres://app@r1/app", "postgresql://app:pw@r2:5433/app"], "entries are trimmed");
    let my = ("DATABASE_URL", "mysql://root@primary/app");
    assert_eq!(cfg(&[my, ("DATAFLOW_READ_URLS", "mariadb://root@r1/app")]).unwrap().read_urls.len(), 1);
    let lite = ("DATABASE_URL", "sqlite://app.db");
    assert_eq!(cfg(&[lite, ("DATAFLOW_READ_URLS", "sqlite://copy.db")]).unwrap().read_urls, ["sqlite://copy.db"]);
    assert!(cfg(&[pg, ("DATAFLOW_READ_URLS", "  ")]).unwrap().read_urls.is_empty(), "empty counts as unset");

    let bad_urls = |primary: (&str, &str), v: &str, why: &str| {
        let e = cfg(&[primary, ("DATAFLOW_READ_URLS", v)]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::INVALID_CONFIG, "{v}: {e}");
        let msg = e.to_string();
        assert!(msg.contains("DATAFLOW_READ_URLS") && msg.contains(why), "{v}: {msg}");
        assert!(!msg.contains("secret"), "{v}: passwords are not shown: {msg}");
        assert!(!e.fixes().is_empty(), "{v}: a fix is offered");
    };
    bad_urls(pg, "postgres://app@r1/app,,postgres://app@r2/app", "entry 2 is empty");
    bad_urls(pg, "postgres://app:secret@r1/app,", "entry 2 is empty");
    bad_urls(pg, "replica-1", "entry 1");
    bad_urls(pg, "postgres://app:secret@r1/app,oracle://r2", "unsupported scheme `oracle`");
    bad_urls(pg, "mysql://root:secret@r1/app", "is a mysql database but DATABASE_URL is postgres");
    bad_urls(my, "postgres://app@r1/app", "DATABASE_URL is mysql");
    bad_urls(lite, "sqlite::memory:", "in-memory");
}

#[tokio::test]
async fn a_config_from_the_environment_connects() {
    let vars = [("DATABASE_URL", "sqlite::memory:"), ("DATAFLOW_POOL_SIZE", "2"), ("DATAFLOW_AUTO_MIGRATE", "false")];
    let db = dataflow_core::DataFlow::connect_with(cfg(&vars).unwrap()).await.unwrap();
    assert_eq!(db.config().max_connections, Some(2));
    assert!(!db.config().auto_migrate);
    db.close().await;
}
