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
    let cond = Some(cx.condition(filter)?);
    let st = stmt::update_changes(s, cx.dialect, cond, cx.scope(false), &changes, super::now(), false);
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
        super::update::check_set(cx, set)?;
    }
    let now = super::now();
    let mut tx = conn.begin().await?;
    let mut n = 0;
    {
        let mut c = tx.conn();
        for (id, (_, set)) in ids.iter().zip(records) {
            let pairs: Vec<(&str, Value)> = set.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            let st = stmt::update(s, cx.dialect, Some(cx.id_cond(id)), cx.scope(false), &pairs, now);
            n += c.execute(st.into(), s).await?.rows;
        }
    }
    tx.commit().await?;
    Ok(n)
}
