//! Distributed-SQL compatibility profiles (docs/guide/scaling.md): databases that speak the
//! PostgreSQL or MySQL wire protocol but lack some of their features. A profile keeps the
//! dialect's SQL and avoids what the target lacks.

use serde::{Deserialize, Serialize};

use crate::Dialect;

/// A distributed SQL database reached through a compatible dialect.
///
/// Every profile: the migration lock is the lease row ([`crate::stmt::lease`]) instead of
/// advisory locks / `GET_LOCK`; no system column such as PostgreSQL's `xmax` is read (upserts
/// tell inserts from updates portably); migration steps run without a surrounding transaction
/// (DDL inside transactions is restricted on these systems); transactions retry on
/// serialization failures by default (they report contention as 40001 far more often).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    /// CockroachDB (PostgreSQL wire protocol, `postgres://` URLs).
    CockroachDb,
    /// YugabyteDB YSQL (PostgreSQL wire protocol, `postgres://` URLs).
    Yugabyte,
    /// TiDB (MySQL wire protocol, `mysql://` URLs).
    TiDb,
}

impl Compat {
    /// Every profile, in a stable order (snapshot tests).
    pub const ALL: [Compat; 3] = [Compat::CockroachDb, Compat::Yugabyte, Compat::TiDb];

    /// The dialect the database speaks.
    pub fn dialect(self) -> Dialect {
        match self {
            Compat::CockroachDb | Compat::Yugabyte => Dialect::Postgres,
            Compat::TiDb => Dialect::MySql,
        }
    }

    /// A short lowercase name (`cockroachdb`, `yugabyte`, `tidb`).
    pub fn name(self) -> &'static str {
        match self {
            Compat::CockroachDb => "cockroachdb",
            Compat::Yugabyte => "yugabyte",
            Compat::TiDb => "tidb",
        }
    }

    /// Whether the migration lock uses the lease row (always: none of the profiles has reliable
    /// session advisory locks).
    pub fn lease_lock(self) -> bool {
        true
    }

    /// Whether migration steps may run inside one transaction (never for the profiles).
    pub fn transactional_ddl(self) -> bool {
        false
    }
}

impl std::fmt::Display for Compat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
