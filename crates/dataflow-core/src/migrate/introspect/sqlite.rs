//! SQLite introspection through `pragma_table_info`, `pragma_index_list` and `pragma_index_info`.

use dataflow_sql::Result;
use sqlx::SqliteConnection;

use super::{LiveColumn, LiveIndex, LiveTable, count_query, db_err};

const TABLES: &str =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";

const COLUMNS: &str = "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid";

const INDEXES: &str = "SELECT il.name, il.\"unique\", il.origin, ii.name \
     FROM pragma_index_list(?) AS il JOIN pragma_index_info(il.name) AS ii \
     ORDER BY il.name, ii.seqno";

/// One row of the column query.
type ColumnRow = (String, String, i64, Option<String>, i64);

pub(super) async fn tables(c: &mut SqliteConnection) -> Result<Vec<String>> {
    count_query();
    let rows: Vec<(String,)> = sqlx::query_as(TABLES).fetch_all(&mut *c).await.map_err(db_err)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub(super) async fn table(c: &mut SqliteConnection, name: &str) -> Result<Option<LiveTable>> {
    count_query();
    let cols: Vec<ColumnRow> = sqlx::query_as(COLUMNS).bind(name).fetch_all(&mut *c).await.map_err(db_err)?;
    if cols.is_empty() {
        return Ok(None);
    }
    count_query();
    let rows: Vec<(String, i64, String, Option<String>)> =
        sqlx::query_as(INDEXES).bind(name).fetch_all(&mut *c).await.map_err(db_err)?;
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
