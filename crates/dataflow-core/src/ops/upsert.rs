//! Upsert one record: update the record whose conflict key matches, or create it.
//!
//! One atomic statement (`INSERT .. ON CONFLICT .. DO UPDATE` / `ON DUPLICATE KEY UPDATE`,
//! built by [`dataflow_sql::stmt::upsert_one`]), so concurrent upserts of the same new key never
//! fail with DF-501: exactly one of them creates the record. `created` is exact on every backend
//! without PostgreSQL's `xmax` (see [`dataflow_sql::stmt::CreatedBy`] and
//! docs/guide/scaling.md). A soft-deleted record with the key is restored and updated, as
//! BulkUpsert does.
//!
//! When the insert row misses a required field the record can only be updated: the key is
//! looked up and the record updated inside one transaction, or DF-101 is returned when there
//! is no such record.

use dataflow_sql::stmt::{self, CreatedBy, Rows, SelectSpec};
use dataflow_sql::{Error, ErrorCode, FieldDef, FieldType, Operation, Result, Value};

use super::{Ctx, InputRow, Prepared, insert_fields, prepare_insert};
use crate::db::pool::Conn;

/// A validated Upsert request.
pub(crate) struct UpsertReq {
    /// The record to insert when absent (`where` ∪ `create`), one slot per user field.
    pub insert: InputRow,
    /// Fields to set when present; `None`: the supplied non-key fields of `insert`.
    pub update: Option<Vec<(String, Value)>>,
    /// The conflict target (field names).
    pub conflict_on: Vec<String>,
}

/// Upserts; returns `(created, stored row)`.
pub(crate) async fn upsert(conn: &mut Conn<'_>, cx: &Ctx<'_>, req: UpsertReq) -> Result<(bool, Vec<Value>)> {
    cx.refuse_append_only(Operation::Upsert)?;
    cx.check()?;
    let s = cx.schema();
    let keys: Vec<&str> = req.conflict_on.iter().map(String::as_str).collect();
    super::check_conflict_target(s, &keys)?;
    let mut pairs = Vec::with_capacity(keys.len());
    for k in &keys {
        let i = cx.field_index(k)?;
        match &req.insert[i] {
            Some(v) => pairs.push((&s.fields[i], v.clone())),
            None => {
                return Err(Error::new(
                    ErrorCode::MISSING_FIELD,
                    format!("upsert needs a value for the conflict key `{k}`"),
                )
                .model(&s.name)
                .field(*k)
                .fix(format!("put `{k}` into `where`: {{\"where\": {{\"{k}\": ...}}, \"create\": {{...}}}}")));
            }
        }
    }
    let supplied: Vec<&str> = s
        .fields
        .iter()
        .zip(&req.insert)
        .filter(|(f, v)| v.is_some() && f.name != "id" && !keys.contains(&f.name.as_str()))
        .map(|(f, _)| f.name.as_str())
        .collect();
    let set: Vec<(String, Value)> = match &req.update {
        Some(u) => u.clone(),
        None => s
            .fields
            .iter()
            .zip(&req.insert)
            .filter(|(f, _)| supplied.contains(&f.name.as_str()))
            .map(|(f, v)| (f.name.clone(), v.clone().unwrap_or(Value::Null)))
            .collect(),
    };
    cx.protect_fields(set.iter().map(|(k, _)| k.as_str()))?;
    super::update::check_set(cx, &set)?;
    let refs: Vec<(&FieldDef, &Value)> = pairs.iter().map(|(f, v)| (*f, v)).collect();
    let p = match prepare_insert(cx, req.insert) {
        Ok(p) => p,
        // The record cannot be inserted (a required field is missing): update it if it exists.
        Err(e) if e.code() == ErrorCode::MISSING_FIELD => return update_only(conn, cx, &refs, &set, e).await,
        Err(e) => return Err(e),
    };
    let explicit: Option<Vec<(&str, Value)>> =
        req.update.as_ref().map(|u| u.iter().map(|(k, v)| (k.as_str(), v.clone())).collect());
    if !cx.audited() {
        return upsert_prepared(conn, cx, p, &keys, &supplied, explicit.as_deref(), &refs).await;
    }
    // Audited: the row as it was (soft-deleted included: the upsert restores it), the upsert,
    // and its audit row, in one transaction.
    let cond = cx.eq_cond(&refs);
    crate::audit::in_tx!(conn, |c| {
        let before = crate::audit::snapshot(&mut c, cx, cond, true).await?;
        let (created, row) = upsert_prepared(&mut c, cx, p, &keys, &supplied, explicit.as_deref(), &refs).await?;
        if created {
            crate::audit::created_rows(&mut c, cx, std::slice::from_ref(&row)).await?;
        } else {
            crate::audit::changed(&mut c, cx, &before, std::slice::from_ref(&row)).await?;
        }
        (created, row)
    })
}

/// The single upsert statement (and, per backend, how `created` is told) for a prepared row.
async fn upsert_prepared(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    p: Prepared,
    keys: &[&str],
    supplied: &[&str],
    explicit: Option<&[(&str, Value)]>,
    refs: &[(&FieldDef, &Value)],
) -> Result<(bool, Vec<Value>)> {
    let s = cx.schema();
    let fields = insert_fields(s, p.with_id);
    let rows = [p.values];
    let r = Rows { fields: &fields, rows: &rows, now: super::now() };
    let one = stmt::upsert_one(s, cx.dialect, &r, cx.scope(false), keys, supplied, explicit);
    let statement = mysql8(cx, one.statement);
    let foreign = || {
        Error::new(
            ErrorCode::UNIQUE_VIOLATION,
            format!(
                "upsert of `{}` wrote no record with this ({}): the row it conflicted with belongs to another tenant, or (MySQL/MariaDB) it conflicted on another unique key",
                s.name,
                keys.join(", ")
            ),
        )
        .model(&s.name)
        .field(keys.join(", "))
        .fix("upsert by a per-tenant unique key instead of `id`, or use another id")
        .fix("make sure the other unique fields (e.g. `id`) of the record do not collide with another record")
    };
    match one.created_by {
        CreatedBy::ReturnedFlag => {
            let mut cols: Vec<FieldDef> = cx.e.cols.to_vec();
            cols.push(FieldDef::new(stmt::INSERTED_COLUMN, FieldType::Bool));
            let mut row = conn.fetch_optional(statement.into(), &cols, s).await?.ok_or_else(foreign)?;
            let created = matches!(row.pop(), Some(Value::Bool(true)));
            Ok((created, row))
        }
        CreatedBy::InsertThenUpdate => {
            if let Some(first) = one.first
                && let Some(row) = conn.fetch_optional(first.into(), &cx.e.cols, s).await?
            {
                return Ok((true, row));
            }
            let row = conn.fetch_optional(statement.into(), &cx.e.cols, s).await?.ok_or_else(foreign)?;
            Ok((false, row))
        }
        CreatedBy::AffectedRows => {
            let done = conn.execute(statement.into(), s).await?;
            let row = reread(conn, cx, refs).await?.ok_or_else(foreign)?;
            Ok((done.rows == 1, row))
        }
        CreatedBy::SessionVariable => {
            if let Some(first) = one.first {
                conn.execute(first.into(), s).await?;
            }
            conn.execute(statement.into(), s).await?;
            let updated = match one.after {
                Some(after) => {
                    let flag = [FieldDef::new("updated", FieldType::I64)];
                    let v = conn.fetch_optional(after.into(), &flag, s).await?;
                    matches!(v.as_deref(), Some([Value::I64(1)]))
                }
                None => false,
            };
            let row = reread(conn, cx, refs).await?.ok_or_else(foreign)?;
            Ok((!updated, row))
        }
    }
}

/// MySQL 8 spells the new row's values with a row alias (see `MySqlServer::upsert`).
fn mysql8(cx: &Ctx<'_>, st: stmt::Sql) -> stmt::Sql {
    if cx.dialect != dataflow_sql::Dialect::MySql {
        return st;
    }
    cx.server.upsert(vec![st.clone()]).pop().unwrap_or(st)
}

/// The record with the conflict key (in scope), as stored.
async fn reread(conn: &mut Conn<'_>, cx: &Ctx<'_>, key: &[(&FieldDef, &Value)]) -> Result<Option<Vec<Value>>> {
    let s = cx.schema();
    let spec =
        SelectSpec { condition: Some(cx.eq_cond(key)), scope: cx.scope(false), limit: Some(1), ..Default::default() };
    conn.fetch_optional(stmt::select(s, cx.dialect, &spec).into(), &cx.e.cols, s).await
}

/// Update-only upsert (the insert row misses a required field): the existing record with the
/// key is updated in one transaction; `missing` (DF-101) when there is none.
async fn update_only(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    key: &[(&FieldDef, &Value)],
    set: &[(String, Value)],
    missing: Error,
) -> Result<(bool, Vec<Value>)> {
    let s = cx.schema();
    let mut tx = conn.begin().await?;
    let out = {
        let mut c = tx.conn();
        let id_only = [String::from("id")];
        let spec = SelectSpec {
            condition: Some(cx.eq_cond(key)),
            scope: cx.scope(false),
            limit: Some(1),
            fields: Some(&id_only),
            ..Default::default()
        };
        let cols = stmt::select_columns(s, Some(&id_only));
        let existing = c.fetch_optional(stmt::select(s, cx.dialect, &spec).into(), &cols, s).await?;
        let Some(id) = existing.and_then(|mut r| r.pop()) else { return Err(missing) };
        super::update::update_by_id(&mut c, cx, &id, set).await?.ok_or_else(|| {
            Error::new(ErrorCode::DATABASE, "the record to upsert vanished during the update").model(&s.name)
        })?
    };
    tx.commit().await?;
    Ok((false, out))
}
