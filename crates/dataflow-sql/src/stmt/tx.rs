//! Transaction control: the statements core runs to begin, end and nest transactions.
//! (sqlx's `begin`/`commit`/`rollback` cover the outermost transaction on PostgreSQL and
//! MySQL; these are what DataFlow issues itself.)

/// Begins a transaction.
pub const BEGIN: &str = "BEGIN";
/// Begins a SQLite transaction that takes the write lock at once (see `Pools::begin` in core).
pub const BEGIN_IMMEDIATE: &str = "BEGIN IMMEDIATE";
/// Commits the transaction.
pub const COMMIT: &str = "COMMIT";
/// Rolls the transaction back.
pub const ROLLBACK: &str = "ROLLBACK";

/// The name of the savepoint at nesting depth `depth` (1 for the first nested transaction).
fn savepoint_name(depth: u32) -> String {
    format!("df_savepoint_{depth}")
}

/// `SAVEPOINT df_savepoint_<depth>`.
pub fn savepoint(depth: u32) -> String {
    format!("SAVEPOINT {}", savepoint_name(depth))
}

/// `RELEASE SAVEPOINT df_savepoint_<depth>` (the nested transaction succeeded).
pub fn release_savepoint(depth: u32) -> String {
    format!("RELEASE SAVEPOINT {}", savepoint_name(depth))
}

/// `ROLLBACK TO SAVEPOINT df_savepoint_<depth>` (the nested transaction failed).
pub fn rollback_to_savepoint(depth: u32) -> String {
    format!("ROLLBACK TO SAVEPOINT {}", savepoint_name(depth))
}

/// The lock busy-timeout setter of SQLite (`PRAGMA busy_timeout = <ms>`).
pub fn set_busy_timeout(ms: u64) -> String {
    format!("PRAGMA busy_timeout = {ms}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn savepoints_are_named_by_depth() {
        assert_eq!(super::savepoint(2), "SAVEPOINT df_savepoint_2");
        assert_eq!(super::release_savepoint(2), "RELEASE SAVEPOINT df_savepoint_2");
        assert_eq!(super::rollback_to_savepoint(1), "ROLLBACK TO SAVEPOINT df_savepoint_1");
    }
}
