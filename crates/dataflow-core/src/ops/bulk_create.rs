//! BulkCreate: validated up front (or chunk by chunk for iterators), inserted in chunks below
//! the bind-parameter limit inside one transaction. PostgreSQL uses `UNNEST` for large chunks,
//! and `COPY … FROM STDIN` for large ones that return nothing (no generated ids wanted).

use dataflow_sql::stmt::{self, Rows};
use dataflow_sql::{Dialect, FieldType, Result, Value};

use super::{Ctx, InputRow, Prepared, insert_fields, prepare_insert};
use crate::db::pool::Conn;

/// Rows per chunk read from an iterator (bounded memory).
pub(crate) const STREAM_CHUNK: usize = 5_000;

/// Result of a bulk insert.
#[derive(Debug, Default)]
pub(crate) struct BulkCreated {
    pub inserted: u64,
    pub ids: Vec<Value>,
}

/// Inserts all rows atomically.
pub(crate) async fn bulk_create(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    rows: Vec<InputRow>,
    batch_size: Option<usize>,
    return_ids: bool,
) -> Result<BulkCreated> {
    cx.check()?;
    let prepared = rows.into_iter().map(|r| prepare_insert(cx, r)).collect::<Result<Vec<_>>>()?;
    let mut tx = conn.begin().await?;
    let mut out = BulkCreated::default();
    {
        let mut c = tx.conn();
        // Audited: the ids of the inserted rows are needed for their audit rows.
        insert_prepared(&mut c, cx, prepared, batch_size, return_ids || cx.audited(), &mut out).await?;
    }
    tx.commit().await?;
    if !return_ids {
        out.ids = Vec::new();
    }
    Ok(out)
}

/// Inserts rows from an iterator chunk by chunk, all in one transaction.
pub(crate) async fn bulk_create_iter<I>(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    rows: I,
    batch_size: Option<usize>,
) -> Result<u64>
where
    I: IntoIterator<Item = Result<InputRow>>,
{
    cx.check()?;
    let chunk = batch_size.unwrap_or(STREAM_CHUNK).max(1);
    let mut tx = conn.begin().await?;
    let mut out = BulkCreated::default();
    {
        let mut c = tx.conn();
        let mut buf = Vec::with_capacity(chunk);
        for r in rows {
            buf.push(prepare_insert(cx, r?)?);
            if buf.len() == chunk {
                insert_prepared(&mut c, cx, std::mem::take(&mut buf), batch_size, cx.audited(), &mut out).await?;
                out.ids.clear();
            }
        }
        if !buf.is_empty() {
            insert_prepared(&mut c, cx, buf, batch_size, cx.audited(), &mut out).await?;
        }
    }
    tx.commit().await?;
    Ok(out.inserted)
}

/// Inserts prepared rows (grouped by whether `id` is supplied) on an open transaction.
pub(crate) async fn insert_prepared(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    prepared: Vec<Prepared>,
    batch_size: Option<usize>,
    return_ids: bool,
    out: &mut BulkCreated,
) -> Result<()> {
    let s = cx.schema();
    let (with, without): (Vec<Prepared>, Vec<Prepared>) = prepared.into_iter().partition(|p| p.with_id);
    let now = super::now();
    for (with_id, group) in [(true, with), (false, without)] {
        if group.is_empty() {
            continue;
        }
        let fields = insert_fields(s, with_id);
        let rows: Vec<Vec<Value>> = group.into_iter().map(|p| p.values).collect();
        let r = Rows { fields: &fields, rows: &rows, now };
        let scope = cx.scope(false);
        let first_id = out.ids.len();
        if with_id {
            if return_ids {
                let idx = cx.id_index();
                out.ids.extend(rows.iter().map(|r| r[idx].clone()));
            }
            out.inserted += insert_rows(c, cx, &r, batch_size).await?;
        } else if return_ids && cx.dialect == Dialect::Postgres {
            // Generated ids: INSERT .. RETURNING "id" (the UNNEST form for large sets); only the
            // ids are wanted, so only they are returned and decoded.
            let sts = if use_unnest(cx, r.rows.len()) {
                r.rows
                    .chunks(batch_size.unwrap_or(UNNEST_CHUNK).max(1))
                    .map(|part| stmt::insert_unnest_returning_id(s, &Rows { fields: &fields, rows: part, now }, scope))
                    .collect()
            } else {
                stmt::insert_many_returning_id(s, cx.dialect, &r, scope, batch_size)
            };
            let id_col = std::slice::from_ref(cx.id_field());
            for st in sts {
                let got = c.fetch_all(st.into(), id_col, s).await?;
                out.inserted += got.len() as u64;
                out.ids.extend(got.into_iter().map(|mut r| r.pop().unwrap_or(Value::Null)));
            }
        } else if !return_ids {
            out.inserted += insert_rows(c, cx, &r, batch_size).await?;
        } else {
            for st in stmt::insert_many(s, cx.dialect, &r, scope, batch_size) {
                let done = c.execute(st.into(), s).await?;
                out.inserted += done.rows;
                {
                    let n = i64::try_from(done.rows).unwrap_or_default();
                    let first = match cx.dialect {
                        // MySQL: LAST_INSERT_ID() is the first id of a multi-row INSERT.
                        Dialect::MySql => done.last_id.unwrap_or_default(),
                        // SQLite: last_insert_rowid() is the last one.
                        _ => done.last_id.unwrap_or_default() - n + 1,
                    };
                    let ty = cx.id_field().ty;
                    out.ids.extend((first..first + n).map(|i| match ty {
                        FieldType::I32 => Value::I32(i32::try_from(i).unwrap_or_default()),
                        _ => Value::I64(i),
                    }));
                }
            }
        }
        if cx.audited() {
            crate::audit::created_values(c, cx, &fields, &rows, &out.ids[first_id..]).await?;
        }
    }
    Ok(())
}

/// Rows from which PostgreSQL inserts with `UNNEST` (one array bind per column).
const UNNEST_MIN: usize = 256;
/// Rows per `UNNEST` statement unless `batch_size` says otherwise.
const UNNEST_CHUNK: usize = 50_000;

fn use_unnest(cx: &Ctx<'_>, rows: usize) -> bool {
    cx.dialect == Dialect::Postgres && rows >= UNNEST_MIN && !cx.schema().options.native_arrays
}

/// Rows from which PostgreSQL inserts with `COPY … FROM STDIN` when nothing is returned (below
/// it, the extra round trip of COPY's handshake costs more than `UNNEST`'s binding).
const COPY_MIN: usize = 1_000;

fn use_copy(cx: &Ctx<'_>, rows: usize) -> bool {
    use_unnest(cx, rows) && rows >= COPY_MIN
}

/// Inserts rows without returning anything: `COPY` (PostgreSQL, large sets), `UNNEST`
/// (PostgreSQL), or chunked multi-row `INSERT`s. `batch_size` bounds the rows per statement
/// (per `COPY` too).
async fn insert_rows(c: &mut Conn<'_>, cx: &Ctx<'_>, r: &Rows<'_>, batch_size: Option<usize>) -> Result<u64> {
    let s = cx.schema();
    let scope = cx.scope(false);
    let mut n = 0;
    if use_copy(cx, r.rows.len())
        && let Some(copy) = stmt::copy_in(s, r, scope)
    {
        for part in r.rows.chunks(batch_size.filter(|b| *b > 0).unwrap_or(usize::MAX)) {
            n += c.copy_in(&copy, part, s).await?;
        }
        return Ok(n);
    }
    if use_unnest(cx, r.rows.len()) {
        let per = batch_size.unwrap_or(UNNEST_CHUNK).max(1);
        for part in r.rows.chunks(per) {
            let pr = Rows { fields: r.fields, rows: part, now: r.now };
            n += c.execute(stmt::insert_unnest(s, &pr, scope).into(), s).await?.rows;
        }
        return Ok(n);
    }
    for st in stmt::insert_many(s, cx.dialect, r, scope, batch_size) {
        n += c.execute(st.into(), s).await?.rows;
    }
    Ok(n)
}
