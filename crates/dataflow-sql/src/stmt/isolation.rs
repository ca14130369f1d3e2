//! Isolation levels per transaction: the statements that set them per dialect.

/// The isolation level of one transaction.
///
/// - **PostgreSQL**: `BEGIN ISOLATION LEVEL ..`. Under `Serializable` the database aborts one
///   of two transactions whose reads and writes conflict with SQLSTATE 40001 (DF-505).
/// - **MySQL/MariaDB**: `SET TRANSACTION ISOLATION LEVEL ..` for the next transaction. InnoDB's
///   `Serializable` turns plain reads into shared-lock reads, so two read-then-write
///   transactions on the same row end in a deadlock (1213, DF-506) instead of a lost update.
/// - **SQLite**: every level is serializable: a DataFlow write transaction begins `IMMEDIATE`
///   and holds the database's single write lock until it ends, so transactions run one after
///   the other and the level is not sent to the database.
///
/// Aborted transactions are retried by the `RetryPolicy` of `TxOptions` (dataflow-core).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isolation {
    /// Each statement sees the data committed before it started (PostgreSQL's default).
    ReadCommitted,
    /// Every read sees the snapshot of the transaction's first read (MySQL's default).
    RepeatableRead,
    /// The transaction behaves as if transactions ran one at a time; conflicting ones abort.
    Serializable,
}

impl Isolation {
    /// The level as SQL keywords (`SERIALIZABLE`, ...).
    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }

    /// PostgreSQL: `BEGIN ISOLATION LEVEL <level>`.
    pub fn begin_postgres(self) -> String {
        format!("BEGIN ISOLATION LEVEL {}", self.sql())
    }

    /// MySQL/MariaDB: `SET TRANSACTION ISOLATION LEVEL <level>`, run before `BEGIN`; it applies
    /// to the session's next transaction only.
    pub fn set_next_mysql(self) -> String {
        format!("SET TRANSACTION ISOLATION LEVEL {}", self.sql())
    }
}
