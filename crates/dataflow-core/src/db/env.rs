//! Zero configuration from the environment: [`DataFlow::from_env`] and
//! [`Config::from_env_map`].
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `DATABASE_URL` | connection URL | `sqlite://dataflow.db` (an embedded SQLite file in the working directory) |
//! | `DATAFLOW_POOL_SIZE` | maximum connections, a whole number ≥ 1 | see [`default_pool_size`] |
//! | `DATAFLOW_ACQUIRE_TIMEOUT` | wait for a free connection: `30` (seconds), `30s`, `500ms`, `2m` | 30 s |
//! | `DATAFLOW_AUTO_MIGRATE` | create missing tables on `register`: `true/false/1/0/yes/no/on/off` | true |
//! | `DATAFLOW_SLOW_QUERY_MS` | warn about statements slower than this many ms; `0` turns it off | 1000 |
//! | `DATAFLOW_LOG` | install a default `tracing` subscriber with this `EnvFilter` (e.g. `info`, `dataflow::sql=debug`) | none installed |
//! | `DATAFLOW_READ_URLS` | read replicas, comma-separated URLs of `DATABASE_URL`'s kind ([`Config::read_urls`], docs/guide/scaling.md) | none |
//!
//! An empty variable counts as unset. A value that cannot be used is DF-405 naming the variable.

use std::time::Duration;

use dataflow_sql::{Dialect, Error, ErrorCode, Result};

use super::config::Config;
use crate::DataFlow;

/// The URL used when `DATABASE_URL` is unset: an embedded SQLite file.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://dataflow.db";

/// The default maximum pool size for a dialect on this machine:
///
/// - PostgreSQL and MySQL/MariaDB: `4 × cores`, at least 10 and at most 64 (an operation holds a
///   connection only while its statements run, so a few per core keep the CPU busy while others
///   wait on the network, and the floor of 10 keeps small machines from queueing);
/// - SQLite file: 5 (one writer at a time; a few readers beside it in WAL mode);
/// - SQLite in memory: 4.
///
/// `cores` is `std::thread::available_parallelism()` (1 when unknown).
pub fn default_pool_size(dialect: Dialect, in_memory: bool) -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX));
    dialect.backend().default_pool_size(cores, in_memory)
}

fn bad(var: &str, value: &str, why: &str, fix: &str) -> Error {
    Error::new(ErrorCode::INVALID_CONFIG, format!("environment variable {var}=`{value}` is invalid: {why}"))
        .field(var)
        .fix(fix.to_owned())
        .fix(format!("or unset {var} to use the default"))
}

/// Parses a duration: `30` (seconds), `30s`, `500ms`, `2m`.
fn duration(var: &str, v: &str) -> Result<Duration> {
    let fix = "use seconds (`30`), or a number with a unit: `500ms`, `30s`, `2m`";
    let (num, unit) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => v.split_at(i),
        None => (v, "s"),
    };
    let n: u64 = num.parse().map_err(|_| bad(var, v, "not a duration", fix))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(bad(var, v, "unknown unit", fix)),
    };
    if d.is_zero() {
        return Err(bad(var, v, "must be greater than zero", fix));
    }
    Ok(d)
}

fn boolean(var: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad(var, v, "not a boolean", "use true/false, 1/0, yes/no or on/off")),
    }
}

/// `DATAFLOW_READ_URLS`: comma-separated replica URLs, each of the primary's database kind and
/// not an in-memory SQLite database. Messages show the URLs without passwords.
fn read_urls(v: &str, primary: &super::url::DbUrl) -> Result<Vec<String>> {
    const VAR: &str = "DATAFLOW_READ_URLS";
    let shown = v.split(',').map(|u| super::url::redact(u.trim())).collect::<Vec<_>>().join(",");
    let mut out = Vec::new();
    for (i, u) in v.split(',').map(str::trim).enumerate() {
        let n = i + 1;
        if u.is_empty() {
            return Err(bad(
                VAR,
                &shown,
                &format!("entry {n} is empty"),
                "list replica URLs separated by single commas: `postgres://app@replica1/app,postgres://app@replica2/app`",
            ));
        }
        let r = super::url::parse(u).map_err(|e| {
            bad(
                VAR,
                &shown,
                &format!("entry {n}: {}", e.message()),
                "give every entry as a URL: `postgres://user:pass@host/db`",
            )
        })?;
        if r.dialect != primary.dialect || r.in_memory {
            let why = if r.in_memory {
                format!(
                    "entry {n} (`{}`) is an in-memory SQLite database, private to its connection",
                    super::url::redact(u)
                )
            } else {
                format!(
                    "entry {n} (`{}`) is a {} database but DATABASE_URL is {}: a replica serves reads of its primary",
                    super::url::redact(u),
                    r.dialect.name(),
                    primary.dialect.name()
                )
            };
            return Err(bad(
                VAR,
                &shown,
                &why,
                "give every read replica URL DATABASE_URL's database kind (postgres://, mysql://, sqlite://file)",
            ));
        }
        out.push(u.to_owned());
    }
    Ok(out)
}

impl Config {
    /// Reads the configuration from the process environment (see [`Config::from_env_map`]).
    pub fn from_env() -> Result<Config> {
        Self::from_env_map(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (a variable name → its value), so tests and
    /// embedders need not touch the process environment. Variables and defaults: see the table
    /// in the module docs of `dataflow_core::db::env`; bad values are DF-405 naming the variable.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let vars = HashMap::from([("DATABASE_URL", "sqlite::memory:"), ("DATAFLOW_POOL_SIZE", "3")]);
    /// let c = dataflow_core::Config::from_env_map(|k| vars.get(k).map(|v| v.to_string())).unwrap();
    /// assert_eq!(c.max_connections, Some(3));
    /// let bad = HashMap::from([("DATAFLOW_POOL_SIZE", "lots")]);
    /// let e = dataflow_core::Config::from_env_map(|k| bad.get(k).map(|v| v.to_string())).unwrap_err();
    /// assert!(e.to_string().contains("DATAFLOW_POOL_SIZE"));
    /// ```
    pub fn from_env_map(get: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let var = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let parsed = super::url::parse(&url).map_err(|e| {
            Error::new(ErrorCode::INVALID_URL, format!("DATABASE_URL: {}", e.message()))
                .field("DATABASE_URL")
                .fix(
                    "set DATABASE_URL to postgres://user:pass@host/db, mysql://..., sqlite://app.db or sqlite::memory:",
                )
                .fix(format!("or unset it to use {DEFAULT_DATABASE_URL}"))
        })?;
        let mut c = Config::new(url);
        c.max_connections = Some(match var("DATAFLOW_POOL_SIZE") {
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=10_000).contains(&n) => n,
                _ => {
                    return Err(bad(
                        "DATAFLOW_POOL_SIZE",
                        &v,
                        "not a whole number between 1 and 10000",
                        "use a pool size such as `10`",
                    ));
                }
            },
            None => default_pool_size(parsed.dialect, parsed.in_memory),
        });
        if let Some(v) = var("DATAFLOW_ACQUIRE_TIMEOUT") {
            c.acquire_timeout = duration("DATAFLOW_ACQUIRE_TIMEOUT", &v)?;
        }
        if let Some(v) = var("DATAFLOW_AUTO_MIGRATE") {
            c.auto_migrate = boolean("DATAFLOW_AUTO_MIGRATE", &v)?;
        }
        if let Some(v) = var("DATAFLOW_SLOW_QUERY_MS") {
            let ms: u64 = v.parse().map_err(|_| {
                bad(
                    "DATAFLOW_SLOW_QUERY_MS",
                    &v,
                    "not a whole number of milliseconds",
                    "use e.g. `250`, or `0` to turn the warning off",
                )
            })?;
            c.observe.slow_query = (ms > 0).then(|| Duration::from_millis(ms));
        }
        if let Some(v) = var("DATAFLOW_READ_URLS") {
            c.read_urls = read_urls(&v, &parsed)?;
        }
        if let Some(v) = var("DATAFLOW_LOG") {
            tracing_subscriber::EnvFilter::try_new(&v).map_err(|e| {
                bad(
                    "DATAFLOW_LOG",
                    &v,
                    &format!("not a log filter ({e})"),
                    "use a level (`info`) or per-target levels: `warn,dataflow::sql=debug`",
                )
            })?;
            c.observe.log = Some(v);
        }
        Ok(c)
    }
}

impl DataFlow {
    /// Connects with the configuration from the environment ([`Config::from_env`]): with
    /// nothing set, an embedded SQLite file `dataflow.db` in the working directory. When
    /// `DATAFLOW_LOG` is set, a default `tracing` subscriber (formatted to stderr, filtered by the
    /// variable) is installed unless the program already installed one.
    ///
    /// ```no_run
    /// # async fn run() -> dataflow_sql::Result<()> {
    /// // DATABASE_URL=postgres://app@db/app DATAFLOW_POOL_SIZE=20 DATAFLOW_LOG=info ./app
    /// let db = dataflow_core::DataFlow::from_env().await?;
    /// # let _ = db; Ok(()) }
    /// ```
    pub async fn from_env() -> Result<DataFlow> {
        let config = Config::from_env()?;
        if let Some(filter) = &config.observe.log {
            crate::observe::init_logging(filter)?;
        }
        DataFlow::connect_with(config).await
    }
}
