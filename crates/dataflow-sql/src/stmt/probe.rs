//! The cheap counts (`SELECT COUNT(*) ...`) that make a migration step data-aware: how many
//! rows it concerns.

use sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query};

use super::Sql;
use crate::Dialect;

/// A cheap count that makes a step data-aware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Rows where the column is NULL.
    Nulls(String),
    /// Rows where the column is not NULL.
    NonNull(String),
    /// Groups of rows sharing the same values in the columns.
    Duplicates(Vec<String>),
    /// All rows.
    Rows,
    /// Rows whose value in the column is longer than n characters.
    LongerThan(String, u32),
}

/// The probe's count on `table`: one BIGINT.
pub fn count(table: &str, probe: &Probe, d: Dialect) -> Sql {
    let mut q = Query::select();
    q.expr(Func::count(Expr::col(Asterisk)));
    match probe {
        Probe::Rows => {
            q.from(Alias::new(table));
        }
        Probe::Nulls(c) => {
            q.from(Alias::new(table)).and_where(Expr::col(Alias::new(c)).is_null());
        }
        Probe::NonNull(c) => {
            q.from(Alias::new(table)).and_where(Expr::col(Alias::new(c)).is_not_null());
        }
        Probe::LongerThan(c, n) => {
            q.from(Alias::new(table)).and_where(Func::char_length(Expr::col(Alias::new(c))).gt(*n));
        }
        Probe::Duplicates(cols) => {
            let mut sub = Query::select();
            sub.columns(cols.iter().map(Alias::new)).from(Alias::new(table));
            for c in cols {
                sub.and_where(Expr::col(Alias::new(c)).is_not_null());
            }
            sub.group_by_columns(cols.iter().map(Alias::new)).and_having(Func::count(Expr::col(Asterisk)).gt(1));
            q.from_subquery(sub, Alias::new("dups"));
        }
    }
    Sql::build(&q, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_probe_groups_non_null_values() {
        let sql = count("users", &Probe::Duplicates(vec!["email".into()]), Dialect::Postgres).sql;
        assert_eq!(
            sql,
            r#"SELECT COUNT(*) FROM (SELECT "email" FROM "users" WHERE "email" IS NOT NULL GROUP BY "email" HAVING COUNT(*) > $1) AS "dups""#
        );
    }
}
