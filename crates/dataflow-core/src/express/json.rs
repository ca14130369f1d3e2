//! JSON ⇄ DataFlow values for the Express API: parameter objects to validated rows and sets,
//! decoded rows to JSON objects. Used by the dynamic API and by the typed API's JSON setters.

use dataflow_sql::changes::Changes;
use dataflow_sql::{Error, ErrorCode, FieldDef, ManagedField, ModelSchema, Result, Value};
use serde_json::{Map, Value as J};

use crate::ops::InputRow;

const MANAGED: [ManagedField; 4] =
    [ManagedField::CreatedAt, ManagedField::UpdatedAt, ManagedField::DeletedAt, ManagedField::TenantId];

pub(super) fn shape(schema: &ModelSchema, op: &str, msg: impl Into<String>, example: &str) -> Error {
    Error::new(ErrorCode::WRONG_SHAPE, msg).model(&schema.name).operator(op).fix(format!("expected: {example}"))
}

pub(super) fn object<'j>(schema: &ModelSchema, op: &str, j: &'j J, example: &str) -> Result<&'j Map<String, J>> {
    j.as_object().ok_or_else(|| shape(schema, op, format!("{op} parameters must be a JSON object, got {j}"), example))
}

/// A JSON object of field values → one slot per user field. Managed fields are stripped with a
/// warning; unknown fields are DF-103; values are validated (DF-102).
pub fn json_row(schema: &ModelSchema, j: &J) -> Result<InputRow> {
    let obj = object(schema, "Create", j, "{\"id\": \"u1\", \"name\": \"Alice\"}")?;
    dataflow_sql::tenant::reject_in_data(schema, j)?;
    let mut row: InputRow = vec![None; schema.fields.len()];
    for (k, v) in obj {
        // The field first (the common case); a managed column that is not a field is ignored.
        let Some(i) = schema.fields.iter().position(|f| &f.name == k) else {
            if MANAGED.iter().any(|m| m.column() == k) {
                tracing::warn!(target: "dataflow::sql", model = %schema.name, field = %k, "managed field in write ignored");
                continue;
            }
            return Err(schema.unknown_field(k));
        };
        row[i] = Some(Value::from_json(v, &schema.fields[i]).map_err(|e| e.or_model(&schema.name))?);
    }
    Ok(row)
}

/// A JSON object of fields to set → validated `(field, value)` pairs (managed fields stripped).
pub fn json_set(schema: &ModelSchema, j: &J) -> Result<Vec<(String, Value)>> {
    let obj = object(schema, "Update", j, "{\"fields\": {\"name\": \"New\"}}")?;
    dataflow_sql::tenant::reject_in_data(schema, j)?;
    let mut out = Vec::with_capacity(obj.len());
    for (k, v) in obj {
        if MANAGED.iter().any(|m| m.column() == k) && schema.field(k).is_none() {
            tracing::warn!(target: "dataflow::sql", model = %schema.name, field = %k, "managed field in write ignored");
            continue;
        }
        let f = schema.field_or_err(k)?;
        out.push((k.clone(), Value::from_json(v, f).map_err(|e| e.or_model(&schema.name))?));
    }
    Ok(out)
}

/// A decoded row → JSON object keyed by field name (managed columns by column name).
pub fn row_json(cols: &[FieldDef], row: Vec<Value>) -> Map<String, J> {
    let mut m = Map::with_capacity(cols.len() + 1);
    for (f, v) in cols.iter().zip(row) {
        m.insert(f.name.clone(), v.into_json());
    }
    m
}

/// The `fields` of an Update / BulkUpdate: plain values and update operators
/// (`{"name": "x", "$inc": {"visits": 1}}`), validated (see [`Changes::parse`]). Managed fields
/// are ignored with a warning.
pub fn json_changes(schema: &ModelSchema, j: &J) -> Result<Changes> {
    dataflow_sql::tenant::reject_in_data(schema, j)?;
    if let Some(obj) = j.as_object() {
        for k in obj.keys() {
            if MANAGED.iter().any(|m| m.column() == k) && schema.field(k).is_none() {
                tracing::warn!(target: "dataflow::sql", model = %schema.name, field = %k, "managed field in write ignored");
            }
        }
    }
    Changes::parse(j, schema)
}
