//! `--database` resolution and opening databases without side effects.
//!
//! No command falls back to a default database: `run`, `perf`, `migrate`, `import`, `export`,
//! `generate` and `schema export` need `--database` or `DATABASE_URL`. Read-only commands
//! (`migrate plan`, `migrate status`, `generate`, `schema export`) never create a SQLite file:
//! a missing file is reported instead of being created.

use std::path::PathBuf;

use dataflow_core::DataFlow;
use dataflow_core::db::url;
use dataflow_sql::Dialect;

use crate::args::DatabaseArg;
use crate::output::{CliError, usage};

/// The URL from `--database` / `DATABASE_URL`, or a usage error.
pub fn require(arg: &DatabaseArg) -> Result<String, CliError> {
    match arg.database.as_deref().map(str::trim) {
        Some(u) if !u.is_empty() => Ok(u.to_owned()),
        _ => Err(usage(
            "no database given",
            "pass --database URL (e.g. --database sqlite://app.db or postgres://user@host/db) or set DATABASE_URL",
        )),
    }
}

/// The file of a `sqlite://path` / `sqlite:path` URL (without query), `None` for other
/// backends and in-memory databases.
pub fn sqlite_file(u: &str) -> Option<PathBuf> {
    let parsed = url::parse(u).ok()?;
    if parsed.dialect != Dialect::Sqlite || parsed.in_memory {
        return None;
    }
    let rest = u.trim().split_once(':')?.1;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(path))
}

/// Whether the URL names a SQLite file that does not exist.
pub fn sqlite_missing(u: &str) -> Option<PathBuf> {
    sqlite_file(u).filter(|p| !p.exists())
}

/// Connects with auto-migration off (the CLI never changes a schema implicitly).
pub async fn connect(u: &str) -> Result<DataFlow, CliError> {
    Ok(DataFlow::builder(u).auto_migrate(false).connect().await?)
}

/// Connects to an existing database only: a missing SQLite file is an error, not created.
pub async fn connect_existing(u: &str) -> Result<DataFlow, CliError> {
    if let Some(p) = sqlite_missing(u) {
        return Err(CliError::from(
            dataflow_sql::Error::new(
                dataflow_sql::ErrorCode::CONNECTION_FAILED,
                format!("the SQLite database file `{}` does not exist (this command never creates one)", p.display()),
            )
            .fix("check the path in --database; `dataflow migrate apply` or `import` create the file"),
        ));
    }
    connect(u).await
}

/// A URL for reading only: SQLite files are opened with `mode=ro`, so nothing (not even the
/// journal mode) is written. Other backends are unchanged.
pub fn read_only_url(u: &str) -> String {
    if sqlite_file(u).is_some() && !u.contains("mode=") {
        let sep = if u.contains('?') { '&' } else { '?' };
        return format!("{u}{sep}mode=ro");
    }
    u.to_owned()
}
