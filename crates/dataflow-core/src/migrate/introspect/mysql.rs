//! MySQL/MariaDB introspection through `information_schema` (current database only).

use dataflow_sql::Result;
use sqlx::MySqlConnection;

use super::{LiveColumn, LiveIndex, LiveTable, count_query, db_err};

const TABLES: &str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME";

const COLUMNS: &str = "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), \
       CAST(COLUMN_DEFAULT AS CHAR), CAST(COLUMN_KEY AS CHAR) \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
     ORDER BY ORDINAL_POSITION";

const INDEXES: &str = "SELECT CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), CAST(COLUMN_NAME AS CHAR) \
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
     ORDER BY INDEX_NAME, SEQ_IN_INDEX";

/// One row of the column query.
type ColumnRow = (String, String, String, Option<String>, Option<String>);

pub(super) async fn tables(c: &mut MySqlConnection) -> Result<Vec<String>> {
    count_query();
    let rows: Vec<(String,)> = sqlx::query_as(TABLES).fetch_all(&mut *c).await.map_err(db_err)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub(super) async fn table(c: &mut MySqlConnection, name: &str) -> Result<Option<LiveTable>> {
    count_query();
    let cols: Vec<ColumnRow> = sqlx::query_as(COLUMNS).bind(name).fetch_all(&mut *c).await.map_err(db_err)?;
    if cols.is_empty() {
        return Ok(None);
    }
    count_query();
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as(INDEXES).bind(name).fetch_all(&mut *c).await.map_err(db_err)?;
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
