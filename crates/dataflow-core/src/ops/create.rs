//! Create: insert one record and return it as stored.

use dataflow_sql::stmt::{self, Rows};
use dataflow_sql::{Dialect, FieldType, Result, Value};

use super::{Ctx, InputRow, insert_fields, prepare_insert};
use crate::db::pool::{Conn, SqlText, Stmt};

/// Inserts one record; returns the stored row (`ModelEntry::cols` order).
pub(crate) async fn create(conn: &mut Conn<'_>, cx: &Ctx<'_>, row: InputRow) -> Result<Vec<Value>> {
    if cx.audited() {
        return crate::audit::in_tx!(conn, |c| {
            let stored = insert_one(&mut c, cx, row).await?;
            crate::audit::created_rows(&mut c, cx, std::slice::from_ref(&stored)).await?;
            stored
        });
    }
    insert_one(conn, cx, row).await
}

async fn insert_one(conn: &mut Conn<'_>, cx: &Ctx<'_>, row: InputRow) -> Result<Vec<Value>> {
    cx.check()?;
    let p = prepare_insert(cx, row)?;
    let s = cx.schema();
    let fields = insert_fields(s, p.with_id);
    let supplied_id = p.with_id.then(|| p.values[cx.id_index()].clone());
    let with_id = p.with_id;
    let rows = [p.values];
    let r = Rows { fields: &fields, rows: &rows, now: super::now() };
    if cx.dialect == Dialect::MySql {
        let done = conn.execute(insert_stmt(cx, &r, with_id, false), s).await?;
        let id = match supplied_id {
            Some(id) => id,
            None => {
                let n = done.last_id.unwrap_or_default();
                match cx.id_field().ty {
                    FieldType::I32 => Value::I32(i32::try_from(n).unwrap_or_default()),
                    _ => Value::I64(n),
                }
            }
        };
        let found = super::read::by_id(conn, cx, &id, true).await?;
        return found.ok_or_else(|| {
            dataflow_sql::Error::new(dataflow_sql::ErrorCode::DATABASE, "the inserted record could not be read back")
                .model(&s.name)
        });
    }
    conn.fetch_optional(insert_stmt(cx, &r, with_id, true), &cx.e.cols, s).await?.ok_or_else(|| {
        dataflow_sql::Error::new(dataflow_sql::ErrorCode::DATABASE, "INSERT ... RETURNING returned no row")
            .model(&s.name)
    })
}

/// The single-row INSERT: its text from the model's statement cache (rendered on first use per
/// `with_id`; the text never depends on the values), the values bound afresh.
fn insert_stmt(cx: &Ctx<'_>, r: &Rows<'_>, with_id: bool, returning: bool) -> Stmt {
    let s = cx.schema();
    let slot = &cx.e.insert_sql[usize::from(with_id)];
    if let Some(sql) = slot.get() {
        return Stmt {
            sql: SqlText::Shared(sql.clone()),
            values: stmt::insert_values(s, cx.dialect, r, cx.scope(false)),
        };
    }
    let built = stmt::insert(s, cx.dialect, r, cx.scope(false), returning);
    let _ = slot.set(std::sync::Arc::from(built.sql.as_str()));
    built.into()
}
