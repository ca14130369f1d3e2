//! Creating and dropping whole databases (PostgreSQL, MySQL/MariaDB): what `dataflow::testing`
//! runs on the admin connection to give each test its own database. SQLite databases are files
//! and have no such statement.

use crate::naming::validate_identifier;
use crate::{Dialect, Result};

/// `CREATE DATABASE <name>` (MySQL/MariaDB: with the `utf8mb4` character set DataFlow's text
/// columns need). The name is validated (`^[A-Za-z_][A-Za-z0-9_]*$`, DF-601 otherwise).
pub fn create(dialect: Dialect, name: &str) -> Result<String> {
    validate_identifier(name, "database name")?;
    Ok(dialect.backend().create_database(&dialect.quote(name)))
}

/// `DROP DATABASE IF EXISTS <name>`, closing other sessions on it first where the server can
/// (PostgreSQL `WITH (FORCE)`). The name is validated as in [`create`].
pub fn drop(dialect: Dialect, name: &str) -> Result<String> {
    validate_identifier(name, "database name")?;
    Ok(dialect.backend().drop_database(&dialect.quote(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_quote_a_validated_name() {
        assert_eq!(create(Dialect::Postgres, "df_t_1").unwrap(), r#"CREATE DATABASE "df_t_1""#);
        assert_eq!(create(Dialect::MySql, "df_t_1").unwrap(), "CREATE DATABASE `df_t_1` CHARACTER SET utf8mb4");
        assert_eq!(drop(Dialect::Postgres, "df_t_1").unwrap(), r#"DROP DATABASE IF EXISTS "df_t_1" WITH (FORCE)"#);
        assert!(create(Dialect::MySql, "x; DROP DATABASE test").is_err());
        assert!(drop(Dialect::Postgres, "a\"b").is_err());
    }
}
