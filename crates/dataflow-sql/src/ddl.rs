//! DDL rendering (no I/O): CREATE TABLE, CREATE INDEX and ADD COLUMN per dialect (FEATURES §1).
//!
//! Identifiers come only from a validated [`ModelSchema`](crate::ModelSchema); the only literal values in DDL are
//! field defaults, rendered by sea-query's value escaping. Text is assembled by hand because
//! sea-query cannot express per-column collations, `IF NOT EXISTS` on MySQL indexes or
//! SQLite's `INTEGER PRIMARY KEY AUTOINCREMENT`.
//!
//! String equality and order are made identical on every backend at the column level:
//! - PostgreSQL: text columns are `COLLATE "C"` (byte order, whatever the database locale);
//! - MySQL/MariaDB: text columns are `CHARACTER SET utf8mb4 COLLATE` [`MYSQL_COLLATION`]
//!   (`utf8mb4_nopad_bin`: case-sensitive and NO PAD, so `'a' <> 'a '` and `'a' <> 'A'` — unlike
//!   `utf8mb4_bin`, which is PAD SPACE on MariaDB 10.11 and MySQL 8; MySQL 8's equivalent is
//!   `utf8mb4_0900_bin`, see [`create_table_with`] and [`MysqlCollation`]);
//! - SQLite: the default BINARY collation already compares bytes.

pub mod alter;
mod column;
mod index;
mod table;

pub use column::{column_definition, column_type, default_literal};
pub use index::{create_indexes, index_name, wanted_indexes};
pub use table::{add_column, create_table, create_table_with};

/// The MySQL/MariaDB collation of text columns used by [`create_table`] (MariaDB ≥ 10.2).
pub const MYSQL_COLLATION: &str = MysqlCollation::NoPadBin.name();

/// A case-sensitive, NO PAD binary collation for MySQL/MariaDB text columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MysqlCollation {
    /// `utf8mb4_nopad_bin` (MariaDB ≥ 10.2; not in MySQL).
    #[default]
    NoPadBin,
    /// `utf8mb4_0900_bin` (MySQL ≥ 8.0; MariaDB ≥ 11.4.5 as an alias).
    Bin0900,
}

impl MysqlCollation {
    /// The collation name.
    pub const fn name(self) -> &'static str {
        match self {
            MysqlCollation::NoPadBin => "utf8mb4_nopad_bin",
            MysqlCollation::Bin0900 => "utf8mb4_0900_bin",
        }
    }
}
