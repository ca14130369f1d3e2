//! List with filter, order, limit/offset, keyset cursor and projection.

use std::sync::Arc;

use dataflow_sql::filter::Filter;
use dataflow_sql::stmt::{self, OrderBy, SelectSpec};
use dataflow_sql::{Error, ErrorCode, FieldDef, Result, Value};

use super::Ctx;
use crate::db::pool::{Conn, Stmt};

/// A validated List request.
#[derive(Debug, Default, Clone)]
pub struct ListSpec {
    /// Filter (`None`: every record).
    pub filter: Option<Filter>,
    /// Sort keys (empty: by id).
    pub order_by: Vec<OrderBy>,
    /// Maximum rows.
    pub limit: Option<u64>,
    /// Rows to skip.
    pub offset: Option<u64>,
    /// Keyset cursor: the `next_cursor` of the previous page.
    pub after: Option<Vec<Value>>,
    /// Include soft-deleted rows.
    pub include_deleted: bool,
    /// Projection (field names).
    pub fields: Option<Vec<String>>,
}

/// One page of rows.
#[derive(Clone)]
pub(crate) struct Page {
    pub cols: Arc<[FieldDef]>,
    pub rows: Vec<Vec<Value>>,
    pub next_cursor: Option<Vec<Value>>,
}

/// Validates the spec and renders the statement plus the columns it returns. No SQL runs.
/// `omit_tenant`: a scoped full select leaves the `tenant_id` column out (a decoder that
/// knows the tenant, [`crate::decode::Decode::omits_tenant`]).
pub(crate) fn statement(cx: &Ctx<'_>, spec: &ListSpec, omit_tenant: bool) -> Result<(Stmt, Arc<[FieldDef]>)> {
    cx.check()?;
    let s = cx.schema();
    dataflow_sql::portable::check_page(s, spec.limit, spec.offset)?;
    if let Some(f) = &spec.fields {
        stmt::validate_fields(s, f)?;
    }
    if let Some(a) = &spec.after {
        stmt::validate_cursor(s, &spec.order_by, a)?;
        if spec.offset.is_some_and(|o| o > 0) {
            return Err(Error::new(
                ErrorCode::INVALID_PAGINATION,
                "`after` (keyset cursor) and `offset` cannot be combined",
            )
            .model(&s.name)
            .fix("page with `after` + `limit` only"));
        }
    }
    // A decoder without the tenant column reads full rows; typed lists have no projection.
    debug_assert!(!omit_tenant || spec.fields.is_none(), "omit_tenant with a projection");
    let omit_tenant = omit_tenant && cx.tenant.is_some() && spec.fields.is_none();
    let cols: Arc<[FieldDef]> = match &spec.fields {
        None => cx.full_cols(omit_tenant).clone(),
        Some(f) => stmt::select_columns(s, Some(f)).into(),
    };
    let sel = SelectSpec {
        condition: spec.filter.as_ref().map(|f| cx.condition(f)).transpose()?,
        scope: cx.scope(spec.include_deleted),
        order_by: &spec.order_by,
        limit: spec.limit,
        offset: spec.offset,
        after: spec.after.as_deref(),
        fields: spec.fields.as_deref(),
        omit_tenant,
    };
    Ok((stmt::select(s, cx.dialect, &sel).into(), cols))
}

/// Runs a List (with the next page's cursor).
pub(crate) async fn list(conn: &mut Conn<'_>, cx: &Ctx<'_>, spec: &ListSpec) -> Result<Page> {
    list_with(conn, cx, spec, false, true).await
}

/// Runs a List, with `FOR UPDATE` row locks when `lock` (see `stmt::for_update`); the next
/// page's cursor is computed only when `cursor` (typed `list` drops it).
pub(crate) async fn list_with(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    spec: &ListSpec,
    lock: bool,
    cursor: bool,
) -> Result<Page> {
    let (mut st, cols) = statement(cx, spec, false)?;
    if lock {
        st = super::lock::locked(st, cx.dialect);
    }
    let rows = conn.fetch_all(st, &cols, cx.schema()).await?;
    let next_cursor = match spec.limit {
        Some(l) if cursor && l > 0 && rows.len() as u64 == l => {
            rows.last().and_then(|r| cursor_keys_of(cx, &spec.order_by, &cols, r))
        }
        _ => None,
    };
    Ok(Page { cols, rows, next_cursor })
}

/// Runs a List decoding each row with `d` (no `Vec<Value>` per row), with `FOR UPDATE` row
/// locks when `lock`. Returns the columns and the decoded rows; no cursor.
pub(crate) async fn list_as<D: crate::decode::Decode>(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    spec: &ListSpec,
    lock: bool,
    d: &D,
) -> Result<(Arc<[FieldDef]>, Vec<D::Out>)> {
    let (mut st, cols) = statement(cx, spec, d.omits_tenant())?;
    if lock {
        st = super::lock::locked(st, cx.dialect);
    }
    let rows = conn.fetch_all_as(st, &cols, cx.schema(), d).await?;
    Ok((cols, rows))
}

/// The keyset cursor of a row: the values of the sort keys (+ id), if the row carries them all.
fn cursor_keys_of(cx: &Ctx<'_>, order: &[OrderBy], cols: &[FieldDef], row: &[Value]) -> Option<Vec<Value>> {
    stmt::cursor_keys(cx.schema(), order)
        .iter()
        .map(|(f, _)| cols.iter().position(|c| c.name == f.name).map(|i| row[i].clone()))
        .collect()
}
