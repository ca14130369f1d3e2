//! The audit trail (docs/guide/protection-and-audit.md): for models with the `audit` option,
//! every successful write appends one row per affected record to `dataflow_audit`, in the same
//! transaction as the write (a rolled-back write leaves no audit row).
//!
//! How each write is captured (the hooks sit in `ops/*`, all behind `Ctx::audited`, so models
//! without `audit` run exactly the statements they ran before):
//! - creates record the written values (`{"field": {"new": v}}`) and the id, no extra read;
//! - changes (Update, BulkUpdate, Restore, the update path of Upsert) read the rows they will
//!   change first (locked with `FOR UPDATE` on PostgreSQL/MySQL; SQLite's write transaction
//!   already holds the lock), then the same ids after, and record the fields that differ
//!   (`{"field": {"old": a, "new": b}}`); a row whose values did not change gets no audit row;
//! - deletes (Delete, HardDelete, BulkDelete, soft or hard) read the rows first and record their
//!   values (`{"field": {"old": v}}`).
//!
//! Reads are chunked (`IN` lists of `IDS_PER_READ`) and audit rows are written with multi-row
//! INSERTs below each backend's bind limit (`dataflow_sql::audit::insert`; from 1,000 rows on
//! PostgreSQL, one `COPY … FROM STDIN`), so a 10,000-record bulk write adds a bounded handful of
//! statements, not one per record.
//!
//! The table is the append-only model `AuditEntry` ([`dataflow_sql::audit::schema`]),
//! registered with the first audited model: query it like any model
//! (`db.express().list_json("AuditEntry", ..)`); Update and Delete on it are refused (DF-605).

use std::collections::HashMap;
use std::sync::OnceLock;

use dataflow_sql::audit::{AuditRow, OUTCOME_BLOCKED, OUTCOME_OK};
use dataflow_sql::stmt::{self, SelectSpec};
use dataflow_sql::{Error, ManagedField, ModelSchema, Result, Value};
use sea_query::Condition;
use serde_json::{Value as J, json};

use crate::db::pool::Conn;
use crate::ops::Ctx;

pub use dataflow_sql::audit::{MODEL, TABLE};

/// Ids per `IN (...)` list when re-reading changed records.
pub(crate) const IDS_PER_READ: usize = 1_000;

/// The `AuditEntry` schema (one copy for the whole process).
pub(crate) fn schema() -> &'static ModelSchema {
    static S: OnceLock<ModelSchema> = OnceLock::new();
    S.get_or_init(dataflow_sql::audit::schema)
}

/// Whether a write refused by protection on this model is recorded (`audit_blocked_writes`).
pub(crate) fn records_blocked(cx: &Ctx<'_>) -> bool {
    cx.protection.audit_blocked && cx.audited()
}

/// Records a write refused with DF-609 (`outcome = "blocked"`).
pub(crate) async fn blocked(c: &mut Conn<'_>, cx: &Ctx<'_>, op: &str, err: &Error) -> Result<()> {
    let changes = json!({"error": err.code().as_str(), "message": err.message()}).to_string();
    let mut row = audit_row(cx, None, Some(changes));
    row.operation = op.to_owned();
    row.outcome = OUTCOME_BLOCKED;
    write(c, cx, vec![row]).await
}

/// DF-605 for any write to the audit trail through the API (Create and BulkCreate included):
/// its rows are appended by DataFlow only, so nobody can forge, change or remove them — not even
/// through `db.all_tenants()`.
pub(crate) fn refuse_api_write(schema: &ModelSchema, op: &str) -> Result<()> {
    if !dataflow_sql::audit::is_audit_log(schema) {
        return Ok(());
    }
    Err(Error::new(
        dataflow_sql::ErrorCode::APPEND_ONLY,
        format!("{op} of `{MODEL}` refused: the audit trail is append-only and written only by DataFlow"),
    )
    .model(MODEL)
    .operator(op)
    .fix("audit a model with `#[dataflow::model(audit)]`: its writes append rows here")
    .fix("read the trail with list, count or find_one, e.g. `db.tenant(\"acme\").list_json(\"AuditEntry\", ..)`"))
}

fn audit_row(cx: &Ctx<'_>, record_id: Option<String>, changes: Option<String>) -> AuditRow {
    AuditRow {
        at: crate::ops::now(),
        operation: cx.op.to_owned(),
        model: cx.schema().name.clone(),
        record_id,
        tenant: cx.tenant().map(str::to_owned),
        actor: cx.actor.map(str::to_owned),
        outcome: OUTCOME_OK,
        changes,
    }
}

/// Appends audit rows on `c`: `COPY … FROM STDIN` for large sets on PostgreSQL, multi-row
/// INSERTs (chunked) otherwise.
pub(crate) async fn write(c: &mut Conn<'_>, cx: &Ctx<'_>, mut rows: Vec<AuditRow>) -> Result<()> {
    let s = schema();
    if let Some((copy, values)) = dataflow_sql::audit::copy(s, cx.dialect, &mut rows) {
        c.copy_in(&copy, &values, s).await?;
        return Ok(());
    }
    for st in dataflow_sql::audit::insert(s, cx.dialect, rows) {
        c.execute(st.into(), s).await?;
    }
    Ok(())
}

/// The JSON text of one audit row's `changes`, written field by field (no `serde_json::Map` or
/// per-field object): the same text `serde_json` prints for the object
/// `{"field": {"old": .., "new": ..}, ..}` with keys in insertion order (`preserve_order`).
struct ChangesText(Vec<u8>);

impl ChangesText {
    fn new() -> Self {
        let mut b = Vec::with_capacity(128);
        b.push(b'{');
        ChangesText(b)
    }

    /// Whether no field was written.
    fn is_empty(&self) -> bool {
        self.0.len() == 1
    }

    /// `"name":{"old":..,"new":..}` (each part only when given).
    fn field(&mut self, name: &str, old: Option<&Value>, new: Option<&Value>) {
        if !self.is_empty() {
            self.0.push(b',');
        }
        self.string(name);
        self.0.extend_from_slice(b":{");
        if let Some(v) = old {
            self.0.extend_from_slice(b"\"old\":");
            self.value(v);
        }
        if let Some(v) = new {
            if old.is_some() {
                self.0.push(b',');
            }
            self.0.extend_from_slice(b"\"new\":");
            self.value(v);
        }
        self.0.push(b'}');
    }

    fn string(&mut self, s: &str) {
        // Writing to a Vec cannot fail, and a `str` always serializes.
        let _ = serde_json::to_writer(&mut self.0, s);
    }

    /// `v` as `serde_json` prints `v.to_json()`, without building it for the common scalars.
    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.0.extend_from_slice(b"null"),
            Value::Bool(b) => self.0.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::I32(i) => {
                let _ = serde_json::to_writer(&mut self.0, i);
            }
            Value::I64(i) => {
                let _ = serde_json::to_writer(&mut self.0, i);
            }
            Value::String(s) => self.string(s),
            Value::Json(j) => {
                let _ = serde_json::to_writer(&mut self.0, j);
            }
            other => {
                let _ = serde_json::to_writer(&mut self.0, &other.to_json());
            }
        }
    }

    fn finish(mut self) -> String {
        self.0.push(b'}');
        // serde_json writes UTF-8 only.
        String::from_utf8(self.0).unwrap_or_default()
    }
}

fn id_text(v: &Value) -> String {
    match v.to_json() {
        J::String(s) => s,
        other => other.to_string(),
    }
}

/// Columns compared and recorded: user fields and `deleted_at` (not the timestamps or tenant).
fn recorded<'c>(cx: &'c Ctx<'_>) -> impl Iterator<Item = (usize, &'c str)> {
    cx.e.cols.iter().enumerate().filter_map(|(i, f)| {
        let managed = [ManagedField::CreatedAt, ManagedField::UpdatedAt, ManagedField::TenantId];
        (i < cx.e.n_user || !managed.iter().any(|m| m.column() == f.name)).then_some((i, f.name.as_str()))
    })
}

/// The rows `cond` matches in scope (every column, `ModelEntry::cols` order), locked until the
/// transaction ends on PostgreSQL and MySQL.
pub(crate) async fn snapshot(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    cond: Condition,
    include_deleted: bool,
) -> Result<Vec<Vec<Value>>> {
    let s = cx.schema();
    let spec = SelectSpec { condition: Some(cond), scope: cx.scope(include_deleted), ..Default::default() };
    let st = stmt::for_update(stmt::select(s, cx.dialect, &spec), cx.dialect);
    c.fetch_all(st.into(), &cx.e.cols, s).await
}

/// The rows with these ids (deleted ones too), chunked.
pub(crate) async fn by_ids(c: &mut Conn<'_>, cx: &Ctx<'_>, ids: &[Value]) -> Result<Vec<Vec<Value>>> {
    let mut out = Vec::with_capacity(ids.len());
    for part in ids.chunks(IDS_PER_READ) {
        out.extend(snapshot(c, cx, cx.ids_cond(part), true).await?);
    }
    Ok(out)
}

/// The id of a full row.
pub(crate) fn row_id(cx: &Ctx<'_>, row: &[Value]) -> Value {
    row.get(cx.id_index()).cloned().unwrap_or(Value::Null)
}

/// Records created rows given as full rows (`ModelEntry::cols` order).
pub(crate) async fn created_rows(c: &mut Conn<'_>, cx: &Ctx<'_>, rows: &[Vec<Value>]) -> Result<()> {
    let out = rows
        .iter()
        .map(|r| {
            let mut m = ChangesText::new();
            for (i, name) in recorded(cx).take(cx.e.n_user) {
                m.field(name, None, Some(&r[i]));
            }
            audit_row(cx, Some(id_text(&row_id(cx, r))), Some(m.finish()))
        })
        .collect();
    write(c, cx, out).await
}

/// Records created rows given as the written values (`fields` order) and their ids.
pub(crate) async fn created_values(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    fields: &[&str],
    rows: &[Vec<Value>],
    ids: &[Value],
) -> Result<()> {
    // A generated id is not among the written fields: recorded first.
    let id_first = !fields.contains(&"id");
    let out = rows
        .iter()
        .zip(ids)
        .map(|(r, id)| {
            let mut m = ChangesText::new();
            if id_first {
                m.field("id", None, Some(id));
            }
            for (name, v) in fields.iter().zip(r) {
                m.field(name, None, Some(v));
            }
            audit_row(cx, Some(id_text(id)), Some(m.finish()))
        })
        .collect();
    write(c, cx, out).await
}

/// Records removed rows (their values as `old`).
pub(crate) async fn removed(c: &mut Conn<'_>, cx: &Ctx<'_>, before: &[Vec<Value>]) -> Result<()> {
    let out = before
        .iter()
        .map(|r| {
            let mut m = ChangesText::new();
            for (i, name) in recorded(cx) {
                m.field(name, Some(&r[i]), None);
            }
            audit_row(cx, Some(id_text(&row_id(cx, r))), Some(m.finish()))
        })
        .collect();
    write(c, cx, out).await
}

/// Records changed rows: for each `after` row, the fields that differ from its `before` row
/// (matched by id). Rows with no difference get no audit row; an `after` row with no `before`
/// row (an upsert that inserted) is recorded as created.
pub(crate) async fn changed(c: &mut Conn<'_>, cx: &Ctx<'_>, before: &[Vec<Value>], after: &[Vec<Value>]) -> Result<()> {
    let old: HashMap<String, &Vec<Value>> = before.iter().map(|r| (id_text(&row_id(cx, r)), r)).collect();
    let mut out = Vec::new();
    let mut fresh = Vec::new();
    for r in after {
        let id = id_text(&row_id(cx, r));
        let Some(o) = old.get(&id) else {
            fresh.push(r.clone());
            continue;
        };
        let mut m = ChangesText::new();
        for (i, name) in recorded(cx) {
            if o[i] != r[i] {
                m.field(name, Some(&o[i]), Some(&r[i]));
            }
        }
        if !m.is_empty() {
            out.push(audit_row(cx, Some(id), Some(m.finish())));
        }
    }
    write(c, cx, out).await?;
    if !fresh.is_empty() {
        created_rows(c, cx, &fresh).await?;
    }
    Ok(())
}

/// Runs `$body` with `$c` bound to a transaction (a savepoint inside an open one) begun on
/// `$conn`, commits and evaluates to `Ok(value)`; an error returns early and the dropped
/// transaction rolls back.
macro_rules! in_tx {
    ($conn:expr, |$c:ident| $body:expr) => {{
        let mut tx = $conn.begin().await?;
        let out = {
            let mut $c = tx.conn();
            $body
        };
        tx.commit().await?;
        Ok(out)
    }};
}
pub(crate) use in_tx;

/// Runs a statement that removes the rows `cond` matches (delete, soft delete, hard delete) and
/// records them, in one transaction. Returns the rows affected.
pub(crate) async fn removing(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    cond: Condition,
    include_deleted: bool,
    st: crate::db::pool::Stmt,
) -> Result<u64> {
    in_tx!(conn, |c| {
        let before = snapshot(&mut c, cx, cond, include_deleted).await?;
        let n = c.execute(st, cx.schema()).await?.rows;
        if n > 0 {
            removed(&mut c, cx, &before).await?;
        }
        n
    })
}

/// Runs a statement that changes the rows `cond` matches (restore) and records the
/// differences, in one transaction. Returns the rows affected.
pub(crate) async fn changing(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    cond: Condition,
    include_deleted: bool,
    st: crate::db::pool::Stmt,
) -> Result<u64> {
    in_tx!(conn, |c| {
        let before = snapshot(&mut c, cx, cond, include_deleted).await?;
        let n = c.execute(st, cx.schema()).await?.rows;
        if n > 0 {
            let ids: Vec<Value> = before.iter().map(|r| row_id(cx, r)).collect();
            let after = by_ids(&mut c, cx, &ids).await?;
            changed(&mut c, cx, &before, &after).await?;
        }
        n
    })
}

/// Rows per keyed read (`(k1 = ? AND k2 = ?) OR ...`) of an audited BulkUpsert.
const KEYS_PER_READ: usize = 500;

/// The rows (deleted ones too) whose conflict key equals the key of one of `rows` (written
/// values in `fields` order), chunked. Rows lacking a key field (a generated id) cannot match.
pub(crate) async fn by_keys(
    c: &mut Conn<'_>,
    cx: &Ctx<'_>,
    fields: &[&str],
    rows: &[Vec<Value>],
    keys: &[&str],
) -> Result<Vec<Vec<Value>>> {
    let s = cx.schema();
    let pos: Vec<(usize, &dataflow_sql::FieldDef)> =
        keys.iter().filter_map(|k| Some((fields.iter().position(|f| f == k)?, s.field(k)?))).collect();
    let mut out = Vec::new();
    if pos.len() != keys.len() || pos.is_empty() {
        return Ok(out);
    }
    for part in rows.chunks(KEYS_PER_READ) {
        let mut any = Condition::any();
        for r in part {
            let pairs: Vec<(&dataflow_sql::FieldDef, &Value)> = pos.iter().map(|(i, f)| (*f, &r[*i])).collect();
            any = any.add(cx.eq_cond(&pairs));
        }
        out.extend(snapshot(c, cx, any, true).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text written field by field is exactly what `serde_json` printed for the map the
    /// audit trail built before (same keys, same order, same number and string formatting).
    #[test]
    fn changes_text_matches_serde_json_map() {
        let d = chrono::DateTime::parse_from_rfc3339("2024-01-31T12:00:00.123456Z").unwrap().to_utc();
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::I32(i32::MIN),
            Value::I64(i64::MAX),
            Value::F64(0.1),
            Value::F64(1e300),
            Value::F64(-0.0),
            Value::F64(f64::NAN),
            Value::String("quote \" backslash \\ newline \n tab \t ctrl \u{1} é 🚀".into()),
            Value::DateTime(d),
            Value::Uuid(uuid::Uuid::nil()),
            Value::Json(json!({"b": [1, 2.5, null], "a": {"x": "y"}})),
            Value::Array(vec![Value::String("a".into()), Value::I64(2)]),
            Value::Bytes(vec![0, 255]),
        ];
        for (k, v) in values.iter().enumerate() {
            let other = &values[(k + 1) % values.len()];
            let name = format!("f\"{k}");
            let mut t = ChangesText::new();
            t.field("id", None, Some(&Value::I64(7)));
            t.field(&name, Some(v), Some(other));
            t.field("old_only", Some(v), None);
            t.field("new_only", None, Some(v));
            let mut m = serde_json::Map::new();
            m.insert("id".into(), json!({"new": 7}));
            m.insert(name.clone(), json!({"old": v.to_json(), "new": other.to_json()}));
            m.insert("old_only".into(), json!({"old": v.to_json()}));
            m.insert("new_only".into(), json!({"new": v.to_json()}));
            assert_eq!(t.finish(), J::Object(m).to_string(), "{v:?}");
        }
        let empty = ChangesText::new();
        assert!(empty.is_empty());
        assert_eq!(empty.finish(), "{}");
    }
}
