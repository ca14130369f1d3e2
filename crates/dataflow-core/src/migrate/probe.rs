//! Data-aware detail: the cheap counts (`SELECT COUNT(*) ...`) that say how many rows a step
//! concerns, built with sea-query.

use dataflow_sql::Result;
use sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, MysqlQueryBuilder, PostgresQueryBuilder, Query, SelectStatement,
    SqliteQueryBuilder,
};
use sea_query_sqlx::SqlxValues;
use sqlx::AssertSqlSafe;

use super::diff::Probe;
use super::introspect::db_err;
use crate::db::pool::Conn;

fn statement(table: &str, probe: &Probe) -> SelectStatement {
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
    q
}

/// Runs the probe's count on `table`.
pub(crate) async fn count(conn: &mut Conn<'_>, table: &str, probe: &Probe) -> Result<u64> {
    let q = statement(table, probe);
    let n: i64 = match conn {
        Conn::Postgres(c) => {
            let (sql, v) = q.build(PostgresQueryBuilder);
            sqlx::query_scalar_with(AssertSqlSafe(sql), SqlxValues(v)).fetch_one(&mut **c).await
        }
        Conn::MySql(c) => {
            let (sql, v) = q.build(MysqlQueryBuilder);
            sqlx::query_scalar_with(AssertSqlSafe(sql), SqlxValues(v)).fetch_one(&mut **c).await
        }
        Conn::Sqlite(c) => {
            let (sql, v) = q.build(SqliteQueryBuilder);
            sqlx::query_scalar_with(AssertSqlSafe(sql), SqlxValues(v)).fetch_one(&mut **c).await
        }
    }
    .map_err(db_err)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The dialect's rendering of a probe (for tests and messages).
#[cfg(test)]
pub(crate) fn render(table: &str, probe: &Probe, d: dataflow_sql::Dialect) -> String {
    use dataflow_sql::Dialect;
    let q = statement(table, probe);
    match d {
        Dialect::Postgres => q.build(PostgresQueryBuilder).0,
        Dialect::MySql => q.build(MysqlQueryBuilder).0,
        Dialect::Sqlite => q.build(SqliteQueryBuilder).0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflow_sql::Dialect;

    #[test]
    fn duplicate_probe_groups_non_null_values() {
        let sql = render("users", &Probe::Duplicates(vec!["email".into()]), Dialect::Postgres);
        assert_eq!(
            sql,
            r#"SELECT COUNT(*) FROM (SELECT "email" FROM "users" WHERE "email" IS NOT NULL GROUP BY "email" HAVING COUNT(*) > $1) AS "dups""#
        );
    }
}
