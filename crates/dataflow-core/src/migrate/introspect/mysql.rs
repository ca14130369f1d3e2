//! MySQL/MariaDB introspection through `information_schema` (current database only).

use dataflow_sql::Result;
use sqlx::MySqlConnection;

use dataflow_sql::Dialect;
use dataflow_sql::dialect::IntrospectionQueries;

use super::{LiveColumn, LiveIndex, LiveTable, count_query, db_err};

/// The queries, owned by the dialect's backend in dataflow-sql.
fn q() -> IntrospectionQueries {
    Dialect::MySql.backend().introspection()
}

/// One row of the column query.
type ColumnRow = (String, String, String, Option<String>, Option<String>);

pub(super) async fn tables(c: &mut MySqlConnection) -> Result<Vec<String>> {
    count_query();
    let rows: Vec<(String,)> = sqlx::query_as(q().tables).fetch_all(&mut *c).await.map_err(db_err)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub(super) async fn table(c: &mut MySqlConnection, name: &str) -> Result<Option<LiveTable>> {
    count_query();
    let cols: Vec<ColumnRow> = sqlx::query_as(q().columns).bind(name).fetch_all(&mut *c).await.map_err(db_err)?;
    if cols.is_empty() {
        return Ok(None);
    }
    count_query();
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as(q().indexes).bind(name).fetch_all(&mut *c).await.map_err(db_err)?;
    let mut indexes: Vec<LiveIndex> = Vec::new();
    for (ix, non_unique, col) in rows {
        match indexes.iter_mut().find(|i| i.name == ix) {
            Some(i) => i.columns.push(col),
            None => indexes.push(LiveIndex {
                primary: ix == "PRIMARY",
                name: ix,
                columns: vec![col],
                unique: non_unique == 0,
            }),
        }
    }
    let columns = cols
        .into_iter()
        .map(|(name, ty, nullable, default, key)| LiveColumn {
            name,
            data_type: ty.to_lowercase(),
            nullable: nullable.eq_ignore_ascii_case("YES"),
            // MariaDB reports "no default" on a nullable column as the text NULL.
            default: default.filter(|d| !d.eq_ignore_ascii_case("NULL")),
            primary_key: key.as_deref() == Some("PRI"),
        })
        .collect();
    Ok(Some(LiveTable { name: name.to_owned(), columns, indexes }))
}
