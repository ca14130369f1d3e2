//! The three SQL dialects DataFlow speaks and their limits.

use serde::{Deserialize, Serialize};

/// A SQL dialect. Every statement builder renders for exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// PostgreSQL (and PostgreSQL-wire databases).
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    /// SQLite (the embedded default).
    Sqlite,
}

impl Dialect {
    /// All dialects, in a stable order (used by snapshot tests).
    pub const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

    /// The maximum number of bind parameters one statement may carry.
    pub const fn max_bind_params(self) -> usize {
        match self {
            Dialect::Postgres => 65_535,
            Dialect::MySql => 65_535,
            Dialect::Sqlite => 32_766,
        }
    }

    /// The maximum length of an identifier (table, column, index name) in bytes.
    pub const fn max_identifier_len(self) -> usize {
        match self {
            Dialect::Postgres => 63,
            Dialect::MySql => 64,
            // SQLite has no limit; we keep PostgreSQL's so a model stays portable.
            Dialect::Sqlite => 63,
        }
    }

    /// A short lowercase name (`postgres`, `mysql`, `sqlite`).
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
