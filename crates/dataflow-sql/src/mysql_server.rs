//! MySQL 8 next to MariaDB: one [`Dialect::MySql`], two servers that disagree on a few statements.
//!
//! The runtime detects the server at connect (`SELECT VERSION()` contains `MariaDB` or not, see
//! [`MySqlServer::detect`]) and asks this module for the statements that differ:
//!
//! | | MariaDB (what CI runs) | MySQL 8 (covered by SQL snapshots only) |
//! |---|---|---|
//! | text collation | `utf8mb4_nopad_bin` | `utf8mb4_0900_bin` (NO PAD, case-sensitive) |
//! | adding an index to an existing table | `CREATE INDEX IF NOT EXISTS` | `CREATE INDEX` without `IF NOT EXISTS` (not MySQL syntax): run only for indexes introspection shows missing |
//! | upsert "new value" | `VALUES(col)` | row alias: `VALUES (..) AS df_new ON DUPLICATE KEY UPDATE col = df_new.col` (`VALUES()` is deprecated since 8.0.20) |
//! | whole-array equality in filters | `JSON_EQUALS(col, ?)` | `col = CAST(? AS JSON)` (MySQL has no `JSON_EQUALS`) |
//! | `$regex` engine | PCRE2 | ICU (the printed portable pattern reads the same) |

use sea_query::Condition;

use crate::ddl::{MysqlCollation, index_name, wanted_indexes};
use crate::error::Result;
use crate::filter::Filter;
use crate::stmt::{Sql, quote};
use crate::{Dialect, FieldDef, ModelSchema};

/// The row alias MySQL 8 upserts use for the row being inserted.
pub const UPSERT_ROW_ALIAS: &str = "df_new";

/// The query whose answer [`MySqlServer::detect`] reads (run once per pool at connect).
pub const VERSION_QUERY: &str = "SELECT VERSION()";

/// Which MySQL-family server a [`Dialect::MySql`] connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MySqlServer {
    /// MariaDB (10.6+; CI runs 10.11).
    #[default]
    MariaDb,
    /// Oracle MySQL 8.0.20+ (and later).
    MySql8,
}

impl MySqlServer {
    /// The server behind a `SELECT VERSION()` answer: MariaDB reports e.g. `10.11.19-MariaDB-0+deb12u1`,
    /// MySQL e.g. `8.0.36` or `8.4.0-commercial`.
    pub fn detect(version: &str) -> MySqlServer {
        if version.to_ascii_lowercase().contains("mariadb") { MySqlServer::MariaDb } else { MySqlServer::MySql8 }
    }

    /// The case-sensitive, NO PAD binary collation of text columns on this server.
    pub const fn collation(self) -> MysqlCollation {
        match self {
            MySqlServer::MariaDb => MysqlCollation::NoPadBin,
            MySqlServer::MySql8 => MysqlCollation::Bin0900,
        }
    }

    /// `CREATE TABLE IF NOT EXISTS` for this server (indexes declared inside the table).
    pub fn create_table(self, schema: &ModelSchema) -> Vec<String> {
        crate::ddl::create_table_with(schema, Dialect::MySql, self.collation())
    }

    /// `(index name, CREATE INDEX statement)` for every index the model wants. On MariaDB the
    /// statements carry `IF NOT EXISTS`; on MySQL 8 they do not, so the runtime must run only
    /// those whose name introspection does not list (see [`MySqlServer::missing_indexes`]).
    pub fn create_indexes(self, schema: &ModelSchema) -> Vec<(String, String)> {
        let d = Dialect::MySql;
        wanted_indexes(schema, d)
            .iter()
            .map(|ix| {
                let name = ix.name.clone().unwrap_or_else(|| index_name(schema, &ix.fields, ix.unique));
                let cols: Vec<String> =
                    ix.fields.iter().filter_map(|f| schema.any_field(f)).map(|f| quote(d, f.column())).collect();
                let sql = format!(
                    "CREATE {}INDEX {}{} ON {} ({})",
                    if ix.unique { "UNIQUE " } else { "" },
                    if self == MySqlServer::MariaDb { "IF NOT EXISTS " } else { "" },
                    quote(d, &name),
                    quote(d, &schema.table),
                    cols.join(", ")
                );
                (name, sql)
            })
            .collect()
    }

    /// The statements of [`MySqlServer::create_indexes`] whose index is not among `existing`
    /// (index names as introspected, compared case-insensitively as MySQL does).
    pub fn missing_indexes(self, schema: &ModelSchema, existing: &[String]) -> Vec<String> {
        self.create_indexes(schema)
            .into_iter()
            .filter(|(name, _)| !existing.iter().any(|e| e.eq_ignore_ascii_case(name)))
            .map(|(_, sql)| sql)
            .collect()
    }

    /// Adapts upsert statements built by [`crate::stmt::upsert`] for [`Dialect::MySql`] to this
    /// server: MySQL 8 gets the row alias instead of `VALUES(col)`. Only the fixed text the
    /// builder emits is rewritten (`VALUES(`col`)` with a schema column, ` ON DUPLICATE KEY
    /// UPDATE `); bound values are untouched.
    pub fn upsert(self, statements: Vec<Sql>) -> Vec<Sql> {
        if self == MySqlServer::MariaDb {
            return statements;
        }
        statements
            .into_iter()
            .map(|st| {
                let Some(at) = st.sql.find(" ON DUPLICATE KEY UPDATE ") else { return st };
                let (insert, update) = st.sql.split_at(at);
                let alias = quote(Dialect::MySql, UPSERT_ROW_ALIAS);
                let update = rewrite_values_calls(update, &alias);
                Sql { sql: format!("{insert} AS {alias}{update}"), values: st.values }
            })
            .collect()
    }

    /// `ALTER TABLE .. ADD COLUMN <definition>` with this server's text collation.
    pub fn add_column(self, schema: &ModelSchema, field: &FieldDef) -> String {
        let d = Dialect::MySql;
        format!(
            "ALTER TABLE {} ADD COLUMN {}",
            quote(d, &schema.table),
            crate::ddl::column::definition(field, schema, d, self.collation().name())
        )
    }

    /// `ALTER TABLE .. MODIFY COLUMN <definition>` (type or nullability change) with this
    /// server's text collation.
    pub fn modify_column(self, schema: &ModelSchema, field: &FieldDef) -> String {
        let d = Dialect::MySql;
        format!(
            "ALTER TABLE {} MODIFY COLUMN {}",
            quote(d, &schema.table),
            crate::ddl::column::definition(field, schema, d, self.collation().name())
        )
    }

    /// A filter's condition for this server (see [`Filter::condition`]).
    pub fn filter_condition(self, filter: &Filter, schema: &ModelSchema) -> Result<Condition> {
        filter.condition_for(schema, Dialect::MySql, self)
    }
}

/// `VALUES(`c`)` → `alias.`c`` in the update clause of an upsert.
fn rewrite_values_calls(update: &str, alias: &str) -> String {
    let mut out = String::with_capacity(update.len());
    let mut rest = update;
    while let Some(i) = rest.find("VALUES(`") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "VALUES(".len()..];
        match after[1..].find('`').map(|j| j + 2) {
            Some(end) if after[end..].starts_with(')') => {
                out.push_str(alias);
                out.push('.');
                out.push_str(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("VALUES(");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_server_from_version() {
        assert_eq!(MySqlServer::detect("10.11.19-MariaDB-0+deb12u1"), MySqlServer::MariaDb);
        assert_eq!(MySqlServer::detect("11.4.2-MariaDB"), MySqlServer::MariaDb);
        assert_eq!(MySqlServer::detect("8.0.36"), MySqlServer::MySql8);
        assert_eq!(MySqlServer::detect("8.4.0-commercial"), MySqlServer::MySql8);
    }

    #[test]
    fn values_calls_become_the_row_alias() {
        let u = " ON DUPLICATE KEY UPDATE `a` = VALUES(`a`), `b` = IF(`tenant_id` = ?, VALUES(`b`), `b`)";
        assert_eq!(
            rewrite_values_calls(u, "`df_new`"),
            " ON DUPLICATE KEY UPDATE `a` = `df_new`.`a`, `b` = IF(`tenant_id` = ?, `df_new`.`b`, `b`)"
        );
    }
}
