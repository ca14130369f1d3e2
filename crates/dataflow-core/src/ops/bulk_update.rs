//! BulkUpdate: set-based (`filter` + `fields`) or per record (`data` with ids), atomic.

use dataflow_sql::changes::Changes;
use dataflow_sql::filter::Filter;
use dataflow_sql::{Error, ErrorCode, Operation, Result, Value, stmt};

use super::Ctx;
use crate::db::pool::Conn;

/// DF-108 when a destructive filter matches everything and is not confirmed.
pub(crate) fn check_confirmed(cx: &Ctx<'_>, filter: &Filter, confirmed: bool, op: Operation) -> Result<()> {
    if !confirmed && filter.is_tautology() {
        let s = cx.schema();
        return Err(Error::new(
            ErrorCode::UNCONFIRMED_DESTRUCTIVE,
            format!(
                "{} on `{}` with a filter that matches every possible record would touch every record",
                op.name(),
                s.name
            ),
        )
        .model(&s.name)
        .operator(op.name())
        .fix("narrow the filter, e.g. {\"filter\": {\"active\": false}}")
        .fix("or pass \"confirmed\": true to really change every record"));
    }
    Ok(())
}

/// `UPDATE .. SET <changes> WHERE filter` (one statement, operators included); returns the
/// number of matched rows.
pub(crate) async fn by_filter(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    filter: &Filter,
    mut changes: Changes,
    confirmed: bool,
) -> Result<u64> {
    cx.refuse_append_only(Operation::BulkUpdate)?;
    cx.check()?;
    check_confirmed(cx, filter, confirmed, Operation::BulkUpdate)?;
    super::update::check_changes(cx, &mut changes)?;
    let s = cx.schema();
    let cond = cx.condition(filter)?;
    let st = stmt::update_changes(s, cx.dialect, Some(cond.clone()), cx.scope(false), &changes, super::now(), false);
    if cx.audited() {
        return crate::audit::in_tx!(conn, |c| {
            let before = crate::audit::snapshot(&mut c, cx, cond, false).await?;
            let n = super::full_table_guard::execute(&mut c, cx, Operation::BulkUpdate, st.into(), confirmed).await?;
            let ids: Vec<Value> = before.iter().map(|r| crate::audit::row_id(cx, r)).collect();
            let after = crate::audit::by_ids(&mut c, cx, &ids).await?;
            crate::audit::changed(&mut c, cx, &before, &after).await?;
            n
        });
    }
    super::full_table_guard::execute(conn, cx, Operation::BulkUpdate, st.into(), confirmed).await
}

/// Updates each `(id, fields)` record in one transaction; returns how many existed.
pub(crate) async fn by_records(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    records: &[(Value, Vec<(String, Value)>)],
) -> Result<u64> {
    cx.refuse_append_only(Operation::BulkUpdate)?;
    cx.check()?;
    let s = cx.schema();
    let mut ids = Vec::with_capacity(records.len());
    for (id, set) in records {
        ids.push(super::read::coerce_id(cx, id)?);
        cx.protect_fields(set.iter().map(|(k, _)| k.as_str()))?;
        super::update::check_set(cx, set)?;
    }
    let now = super::now();
    let mut tx = conn.begin().await?;
    let mut n = 0;
    {
        let mut c = tx.conn();
        let before = if cx.audited() { audited_rows(&mut c, cx, &ids).await? } else { Vec::new() };
        for (id, (_, set)) in ids.iter().zip(records) {
            let pairs: Vec<(&str, Value)> = set.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            let st = stmt::update(s, cx.dialect, Some(cx.id_cond(id)), cx.scope(false), &pairs, now);
            n += c.execute(st.into(), s).await?.rows;
        }
        if cx.audited() {
            let after = crate::audit::by_ids(&mut c, cx, &ids).await?;
            crate::audit::changed(&mut c, cx, &before, &after).await?;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// The in-scope, not deleted rows with these ids, locked (the "before" of an audited update).
async fn audited_rows(c: &mut Conn<'_>, cx: &Ctx<'_>, ids: &[Value]) -> Result<Vec<Vec<Value>>> {
    let mut out = Vec::with_capacity(ids.len());
    for part in ids.chunks(crate::audit::IDS_PER_READ) {
        out.extend(crate::audit::snapshot(c, cx, cx.ids_cond(part), false).await?);
    }
    Ok(out)
}
