//! SQLite introspection through `pragma_table_info`, `pragma_index_list` and `pragma_index_info`.

use dataflow_sql::Result;
use sqlx::SqliteConnection;

use dataflow_sql::Dialect;
use dataflow_sql::dialect::IntrospectionQueries;

use super::{LiveColumn, LiveIndex, LiveTable, count_query, db_err};

/// The queries, owned by the dialect's backend in dataflow-sql.
fn q() -> IntrospectionQueries {
    Dialect::Sqlite.backend().introspection()
}

/// One row of the column query.
type ColumnRow = (String, String, i64, Option<String>, i64);

pub(super) async fn tables(c: &mut SqliteConnection) -> Result<Vec<String>> {
    count_query();
    let rows: Vec<(String,)> = sqlx::query_as(q().tables).fetch_all(&mut *c).await.map_err(db_err)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub(super) async fn table(c: &mut SqliteConnection, name: &str) -> Result<Option<LiveTable>> {
    count_query();
    let cols: Vec<ColumnRow> = sqlx::query_as(q().columns).bind(name).fetch_all(&mut *c).await.map_err(db_err)?;
    if cols.is_empty() {
        return Ok(None);
    }
    count_query();
    let rows: Vec<(String, i64, String, Option<String>)> =
        sqlx::query_as(q().indexes).bind(name).fetch_all(&mut *c).await.map_err(db_err)?;
    let mut indexes: Vec<LiveIndex> = Vec::new();
    for (ix, unique, origin, col) in rows {
        let Some(col) = col else { continue }; // expression index column
        match indexes.iter_mut().find(|i| i.name == ix) {
            Some(i) => i.columns.push(col),
            None => {
                indexes.push(LiveIndex { name: ix, columns: vec![col], unique: unique != 0, primary: origin == "pk" })
            }
        }
    }
    let columns = cols
        .into_iter()
        .map(|(name, ty, notnull, default, pk)| LiveColumn {
            name,
            data_type: ty.to_lowercase(),
            // An INTEGER PRIMARY KEY is the rowid: never NULL whatever the pragma says.
            nullable: notnull == 0 && pk == 0,
            default,
            primary_key: pk != 0,
        })
        .collect();
    Ok(Some(LiveTable { name: name.to_owned(), columns, indexes }))
}
