//! Connection URL parsing: which backend, and the URL sqlx should see.

use dataflow_sql::{Dialect, Error, ErrorCode, Result};

/// A parsed connection URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    /// The backend.
    pub dialect: Dialect,
    /// The URL handed to sqlx (`mariadb://` rewritten to `mysql://`).
    pub url: String,
    /// `sqlite::memory:` (or `mode=memory`): one shared in-memory database for the pool.
    pub in_memory: bool,
}

/// Parses `postgres://`, `postgresql://`, `mysql://`, `mariadb://`, `sqlite://path`, `sqlite:path`
/// and `sqlite::memory:`.
pub fn parse(url: &str) -> Result<DbUrl> {
    let url = url.trim();
    let bad = |why: &str| {
        Error::new(ErrorCode::INVALID_URL, format!("invalid database URL `{}`: {why}", redact(url)))
            .fix("use postgres://user:pass@host/db, mysql://user:pass@host/db, mariadb://..., sqlite://path/to/file.db or sqlite::memory:")
    };
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(bad("no scheme"));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => {
            if !rest.starts_with("//") {
                return Err(bad("expected `postgres://`"));
            }
            Ok(DbUrl { dialect: Dialect::Postgres, url: url.to_owned(), in_memory: false })
        }
        "mysql" | "mariadb" => {
            if !rest.starts_with("//") {
                return Err(bad("expected `mysql://`"));
            }
            Ok(DbUrl { dialect: Dialect::MySql, url: format!("mysql:{rest}"), in_memory: false })
        }
        "sqlite" => {
            let in_memory = rest == ":memory:" || rest == "//:memory:" || rest.contains("mode=memory");
            if rest.is_empty() || rest == "//" {
                return Err(bad("no file path"));
            }
            Ok(DbUrl { dialect: Dialect::Sqlite, url: url.to_owned(), in_memory })
        }
        other => Err(bad(&format!("unsupported scheme `{other}`"))),
    }
}

/// The URL with its password replaced by `***` (for messages).
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
        && let Some((user, _)) = creds.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_recognised() {
        assert_eq!(parse("postgres://u@h/db").unwrap().dialect, Dialect::Postgres);
        let m = parse("mariadb://root@127.0.0.1/test").unwrap();
        assert_eq!((m.dialect, m.url.as_str()), (Dialect::MySql, "mysql://root@127.0.0.1/test"));
        assert!(parse("sqlite::memory:").unwrap().in_memory);
        assert!(!parse("sqlite://data.db").unwrap().in_memory);
        let e = parse("oracle://x").unwrap_err();
        assert_eq!(e.code(), ErrorCode::INVALID_URL);
        assert!(parse("nonsense").is_err());
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
    }
}
