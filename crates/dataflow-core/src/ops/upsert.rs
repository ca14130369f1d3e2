//! Upsert one record: update the record whose conflict key matches, or create it.
//!
//! Runs in one transaction: the conflict key is looked up first (so `created` is exact on every
//! backend), then the record is updated with `update` (or the non-key fields of `create`) or
//! inserted from `where` ∪ `create`.

use dataflow_sql::{Error, ErrorCode, Operation, Result, Value};

use super::{Ctx, InputRow};
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
    let set: Vec<(String, Value)> = match req.update {
        Some(u) => u,
        None => s
            .fields
            .iter()
            .zip(&req.insert)
            .filter(|(f, v)| v.is_some() && f.name != "id" && !keys.contains(&f.name.as_str()))
            .map(|(f, v)| (f.name.clone(), v.clone().unwrap_or(Value::Null)))
            .collect(),
    };
    cx.protect_fields(set.iter().map(|(k, _)| k.as_str()))?;
    super::update::check_set(cx, &set)?;
    // Required fields of the insert row are checked (before its INSERT) only when it is inserted.
    let mut tx = conn.begin().await?;
    let out = {
        let mut c = tx.conn();
        let refs: Vec<(&dataflow_sql::FieldDef, &Value)> = pairs.iter().map(|(f, v)| (*f, v)).collect();
        let cond = cx.eq_cond(&refs);
        let id_only = [String::from("id")];
        let spec = dataflow_sql::stmt::SelectSpec {
            condition: Some(cond),
            scope: cx.scope(false),
            limit: Some(1),
            fields: Some(&id_only),
            ..Default::default()
        };
        let cols = dataflow_sql::stmt::select_columns(s, Some(&id_only));
        let existing = c.fetch_optional(dataflow_sql::stmt::select(s, cx.dialect, &spec).into(), &cols, s).await?;
        match existing.and_then(|mut r| r.pop()) {
            Some(id) => {
                let row = super::update::update_by_id(&mut c, cx, &id, &set).await?.ok_or_else(|| {
                    Error::new(ErrorCode::DATABASE, "the record to upsert vanished during the update").model(&s.name)
                })?;
                (false, row)
            }
            None => (true, super::create::create(&mut c, cx, req.insert).await?),
        }
    };
    tx.commit().await?;
    Ok(out)
}
