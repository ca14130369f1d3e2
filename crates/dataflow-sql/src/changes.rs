//! Changes for Update / BulkUpdate: plain field values and MongoDB-style atomic operators.
//!
//! Each change becomes ONE SQL expression in the `SET` list of a single `UPDATE` (see
//! [`crate::stmt::update_changes`]), so concurrent updates of the same row never lose each
//! other's effect: `{"$inc": {"stock": -1}}` is `stock = COALESCE(stock, 0) + ?`, evaluated by the
//! database on the current row under its row lock.
//!
//! | operator | fields | effect |
//! |---|---|---|
//! | plain `"f": v` / `$set` | every type | `f = v` |
//! | `$unset` | nullable fields | `f = NULL` (DF-102 on a NOT NULL field) |
//! | `$inc` | `i32`, `i64`, `f64`, `Decimal` | `f = COALESCE(f, 0) + n` |
//! | `$mul` | `i32`, `i64`, `f64`, `Decimal` | `f = COALESCE(f, 0) * n` |
//! | `$min` / `$max` | numbers, `Decimal`, `DateTime`, `Date` | the smaller / larger of `f` and `v` (NULL `f` takes `v`) |
//! | `$push` | arrays | appends one element, or every element of `{"$each": [..]}` |
//! | `$pull` | arrays | removes every element equal to the value, or to any of `{"$in": [..]}` |
//!
//! Integer overflow of `$inc`/`$mul` fails the statement on every backend (nothing is written);
//! `Decimal` arithmetic is exact on PostgreSQL and MySQL/MariaDB and refused on SQLite, where
//! decimals are stored as text (DF-402).
//!
//! ```
//! use dataflow_sql::{FieldDef, FieldType, ModelSchema, changes::Changes};
//! let s = ModelSchema::new("Counter", vec![
//!     FieldDef::new("id", FieldType::String),
//!     FieldDef::new("n", FieldType::I64),
//! ]);
//! let c = Changes::parse(&serde_json::json!({"$inc": {"n": 1}}), &s).unwrap();
//! assert!(!c.is_plain());
//! assert!(Changes::parse(&serde_json::json!({"$inc": {"id": 1}}), &s).is_err());
//! ```

use serde_json::Value as J;

use crate::error::{Error, ErrorCode, Result};
use crate::schema::{ArrayElem, FieldDef, FieldType, ModelSchema};
use crate::value::Value;
use crate::{Dialect, ManagedField};

/// The operators `fields` accepts, for messages and "did you mean".
pub const OPERATORS: [&str; 8] = ["$set", "$unset", "$inc", "$mul", "$min", "$max", "$push", "$pull"];

/// What one change does to its field.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeOp {
    /// `f = v`.
    Set(Value),
    /// `f = NULL`.
    Unset,
    /// `f = COALESCE(f, 0) + v`.
    Inc(Value),
    /// `f = COALESCE(f, 0) * v`.
    Mul(Value),
    /// `f = v` when `f` is NULL or greater than `v`.
    Min(Value),
    /// `f = v` when `f` is NULL or less than `v`.
    Max(Value),
    /// Appends the elements (in order) to the array.
    Push(Vec<Value>),
    /// Removes every element equal to one of the values.
    Pull(Vec<Value>),
}

impl ChangeOp {
    /// The operator's name (`$set` for plain values).
    pub fn name(&self) -> &'static str {
        match self {
            ChangeOp::Set(_) => "$set",
            ChangeOp::Unset => "$unset",
            ChangeOp::Inc(_) => "$inc",
            ChangeOp::Mul(_) => "$mul",
            ChangeOp::Min(_) => "$min",
            ChangeOp::Max(_) => "$max",
            ChangeOp::Push(_) => "$push",
            ChangeOp::Pull(_) => "$pull",
        }
    }
}

/// One change of one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The user field name.
    pub field: String,
    /// The operation.
    pub op: ChangeOp,
}

/// The changes of one Update / BulkUpdate: built with the typed methods or parsed from JSON.
/// Validate against the model with [`Changes::validate`] ([`Changes::parse`] does it).
///
/// ```
/// use dataflow_sql::changes::Changes;
/// let c = Changes::new().inc("views", 1).set("title", "New").push("tags", "hot").unset("note");
/// assert_eq!(c.items().len(), 4);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    items: Vec<Change>,
}

impl From<Vec<(String, Value)>> for Changes {
    fn from(set: Vec<(String, Value)>) -> Self {
        Changes { items: set.into_iter().map(|(field, v)| Change { field, op: ChangeOp::Set(v) }).collect() }
    }
}

impl Changes {
    /// No changes.
    pub fn new() -> Self {
        Changes::default()
    }

    fn with(mut self, field: impl Into<String>, op: ChangeOp) -> Self {
        self.items.push(Change { field: field.into(), op });
        self
    }

    /// Sets a field to a value.
    pub fn set(self, field: impl Into<String>, v: impl Into<Value>) -> Self {
        self.with(field, ChangeOp::Set(v.into()))
    }
    /// Sets a nullable field to NULL.
    pub fn unset(self, field: impl Into<String>) -> Self {
        self.with(field, ChangeOp::Unset)
    }
    /// Adds `n` (negative to subtract) to a numeric field, atomically.
    pub fn inc(self, field: impl Into<String>, n: impl Into<Value>) -> Self {
        self.with(field, ChangeOp::Inc(n.into()))
    }
    /// Multiplies a numeric field by `n`, atomically.
    pub fn mul(self, field: impl Into<String>, n: impl Into<Value>) -> Self {
        self.with(field, ChangeOp::Mul(n.into()))
    }
    /// Lowers the field to `v` if it is NULL or greater.
    pub fn min(self, field: impl Into<String>, v: impl Into<Value>) -> Self {
        self.with(field, ChangeOp::Min(v.into()))
    }
    /// Raises the field to `v` if it is NULL or smaller.
    pub fn max(self, field: impl Into<String>, v: impl Into<Value>) -> Self {
        self.with(field, ChangeOp::Max(v.into()))
    }
    /// Appends one element to an array field.
    pub fn push(self, field: impl Into<String>, v: impl Into<Value>) -> Self {
        self.with(field, ChangeOp::Push(vec![v.into()]))
    }
    /// Appends several elements (in order) to an array field.
    pub fn push_each<V: Into<Value>>(self, field: impl Into<String>, vs: impl IntoIterator<Item = V>) -> Self {
        self.with(field, ChangeOp::Push(vs.into_iter().map(Into::into).collect()))
    }
    /// Removes every element equal to `v` from an array field.
    pub fn pull(self, field: impl Into<String>, v: impl Into<Value>) -> Self {
        self.with(field, ChangeOp::Pull(vec![v.into()]))
    }
    /// Removes every element equal to one of `vs` from an array field.
    pub fn pull_in<V: Into<Value>>(self, field: impl Into<String>, vs: impl IntoIterator<Item = V>) -> Self {
        self.with(field, ChangeOp::Pull(vs.into_iter().map(Into::into).collect()))
    }

    /// The changes, in order.
    pub fn items(&self) -> &[Change] {
        &self.items
    }

    /// True when there is no change.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// True when every change is a plain value (`$set`/`$unset`): the result does not depend on
    /// the row's current values.
    pub fn is_plain(&self) -> bool {
        self.items.iter().all(|c| matches!(c.op, ChangeOp::Set(_) | ChangeOp::Unset))
    }

    /// Parses the `fields` of an Update/BulkUpdate: plain `"field": value` pairs and operator
    /// objects (`{"$inc": {"n": 1}, "name": "x"}`), validated against the schema: DF-103 unknown
    /// field, DF-104 unknown operator or operator that does not apply to the field's type,
    /// DF-102 wrong operand, DF-109 for the primary key or a field changed twice. Managed
    /// columns given as plain keys are ignored, as in Create.
    pub fn parse(json: &J, schema: &ModelSchema) -> Result<Changes> {
        let Some(obj) = json.as_object() else {
            return Err(Error::new(ErrorCode::WRONG_SHAPE, format!("`fields` must be a JSON object, got {json}"))
                .model(&schema.name)
                .operator("Update")
                .fix("{\"fields\": {\"name\": \"New\", \"$inc\": {\"visits\": 1}}}"));
        };
        let mut out = Changes::new();
        for (k, v) in obj {
            if k.starts_with('$') {
                let Some(entries) = v.as_object() else {
                    return Err(Error::new(
                        ErrorCode::WRONG_SHAPE,
                        format!("`{k}` takes an object of field names, got {v}"),
                    )
                    .model(&schema.name)
                    .operator(k.as_str())
                    .fix(format!("{{\"{k}\": {{\"<field>\": <value>}}}}")));
                };
                for (field, operand) in entries {
                    out.items.push(Change { field: field.clone(), op: parse_op(schema, k, field, operand)? });
                }
            } else {
                if is_managed(schema, k) {
                    // Managed columns are written by DataFlow only (the runtime logs a warning).
                    continue;
                }
                let f = schema.field_or_err(k)?;
                let v = Value::from_json(v, f).map_err(|e| e.or_model(&schema.name))?;
                out.items.push(Change { field: k.clone(), op: ChangeOp::Set(v) });
            }
        }
        out.validate(schema)?;
        Ok(out)
    }

    /// Checks every change against the schema (see [`Changes::parse`]) and converts operands to
    /// the field's type (an `i32` literal for an `i64` field, ...). No SQL.
    pub fn validate(&mut self, schema: &ModelSchema) -> Result<()> {
        let mut seen: Vec<&str> = Vec::with_capacity(self.items.len());
        for c in &mut self.items {
            let f = schema.field_or_err(&c.field)?;
            if f.name == "id" {
                return Err(Error::new(
                    ErrorCode::INVALID_PARAMETER,
                    "the primary key `id` cannot be changed by an update",
                )
                .model(&schema.name)
                .field("id")
                .operator(c.op.name())
                .fix("create a new record with the new id and delete the old one"));
            }
            c.op = check_op(schema, f, std::mem::replace(&mut c.op, ChangeOp::Unset))?;
        }
        for c in &self.items {
            if seen.contains(&c.field.as_str()) {
                return Err(Error::new(ErrorCode::INVALID_PARAMETER, format!("field `{}` is changed twice", c.field))
                    .model(&schema.name)
                    .field(&c.field)
                    .fix("give each field one value or one operator per update"));
            }
            seen.push(&c.field);
        }
        Ok(())
    }

    /// DF-402 for a change the backend cannot perform exactly (`$inc`/`$mul`/`$min`/`$max` on a
    /// `Decimal` field on SQLite, where decimals are stored as text). No SQL.
    pub fn check_dialect(&self, schema: &ModelSchema, dialect: Dialect) -> Result<()> {
        for c in &self.items {
            let Some(f) = schema.field(&c.field) else { continue };
            let arithmetic = matches!(c.op, ChangeOp::Inc(_) | ChangeOp::Mul(_) | ChangeOp::Min(_) | ChangeOp::Max(_));
            if dialect == Dialect::Sqlite && f.ty == FieldType::Decimal && arithmetic {
                return Err(Error::new(
                    ErrorCode::UNSUPPORTED_ON_BACKEND,
                    format!("`{}` on the Decimal field `{}` is not exact on SQLite", c.op.name(), f.name),
                )
                .model(&schema.name)
                .field(&f.name)
                .operator(c.op.name())
                .fix("SQLite stores decimals as text: read the record in a transaction and `$set` the new value")
                .fix("or use PostgreSQL / MySQL, where decimal arithmetic is exact"));
            }
        }
        Ok(())
    }
}

fn is_managed(schema: &ModelSchema, k: &str) -> bool {
    [ManagedField::CreatedAt, ManagedField::UpdatedAt, ManagedField::DeletedAt, ManagedField::TenantId]
        .iter()
        .any(|m| m.column() == k)
        && schema.field(k).is_none()
}

fn inapplicable(schema: &ModelSchema, f: &FieldDef, op: &str, takes: &str) -> Error {
    Error::new(
        ErrorCode::UNKNOWN_OPERATOR,
        format!("`{op}` does not apply to field `{}` of type {} (it takes {takes})", f.name, f.ty.rust_name()),
    )
    .model(&schema.name)
    .field(&f.name)
    .operator(op)
    .fix(format!("use `$set` to write `{}` directly", f.name))
}

fn numeric(ty: FieldType) -> bool {
    matches!(ty, FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal)
}

/// Converts an operand to the field's scalar type via its JSON form (DF-102 when it does not fit).
fn operand(schema: &ModelSchema, f: &FieldDef, op: &str, v: &Value) -> Result<Value> {
    if let Value::F64(x) = v
        && !x.is_finite()
    {
        return Err(Error::new(
            ErrorCode::WRONG_TYPE,
            format!("`{op}` on `{}` needs a finite number, got {x}", f.name),
        )
        .model(&schema.name)
        .field(&f.name)
        .operator(op)
        .fix("pass a finite number"));
    }
    let mut scalar = f.clone();
    scalar.nullable = false;
    Value::from_json(&v.to_json(), &scalar).map_err(|e| e.or_model(&schema.name).operator(op))
}

fn element(schema: &ModelSchema, f: &FieldDef, op: &str, elem: ArrayElem, v: &Value) -> Result<Value> {
    let j = v.to_json();
    Value::from_json_elem(&j, elem).ok_or_else(|| {
        let want = match elem {
            ArrayElem::String => "a string",
            ArrayElem::I64 => "an integer",
            ArrayElem::F64 => "a number",
            ArrayElem::Bool => "true or false",
        };
        Error::new(ErrorCode::WRONG_TYPE, format!("`{op}` on `{}` takes elements that are {want}, got {j}", f.name))
            .model(&schema.name)
            .field(&f.name)
            .operator(op)
            .fix(format!("{{\"{op}\": {{\"{}\": <{want}>}}}}", f.name))
    })
}

fn check_op(schema: &ModelSchema, f: &FieldDef, op: ChangeOp) -> Result<ChangeOp> {
    let name = op.name();
    Ok(match op {
        ChangeOp::Set(v) => {
            if v.is_null() {
                // JSON fields take null (as in Create); other fields must be nullable.
                if f.ty != FieldType::Json {
                    check_nullable(schema, f, "$set")?;
                }
                ChangeOp::Set(Value::Null)
            } else {
                ChangeOp::Set(if same_type(&v, f.ty) {
                    check_len(schema, f, v)?
                } else {
                    operand(schema, f, name, &v)?
                })
            }
        }
        ChangeOp::Unset => {
            check_nullable(schema, f, "$unset")?;
            ChangeOp::Unset
        }
        ChangeOp::Inc(v) | ChangeOp::Mul(v) if !numeric(f.ty) => {
            let _ = v;
            return Err(inapplicable(schema, f, name, "i32, i64, f64 or Decimal fields"));
        }
        ChangeOp::Inc(v) => ChangeOp::Inc(operand(schema, f, name, &v)?),
        ChangeOp::Mul(v) => ChangeOp::Mul(operand(schema, f, name, &v)?),
        ChangeOp::Min(v) | ChangeOp::Max(v)
            if !(numeric(f.ty) || matches!(f.ty, FieldType::DateTime | FieldType::Date)) =>
        {
            let _ = v;
            return Err(inapplicable(schema, f, name, "number, Decimal, DateTime or NaiveDate fields"));
        }
        ChangeOp::Min(v) => ChangeOp::Min(operand(schema, f, name, &v)?),
        ChangeOp::Max(v) => ChangeOp::Max(operand(schema, f, name, &v)?),
        ChangeOp::Push(vs) | ChangeOp::Pull(vs) => {
            let FieldType::Array(elem) = f.ty else {
                return Err(inapplicable(schema, f, name, "array fields (Vec<String|i64|f64|bool>)"));
            };
            let vs = vs.iter().map(|v| element(schema, f, name, elem, v)).collect::<Result<Vec<_>>>()?;
            if name == "$push" { ChangeOp::Push(vs) } else { ChangeOp::Pull(vs) }
        }
    })
}

/// Already of the field's type (the typed API): no conversion needed.
fn same_type(v: &Value, ty: FieldType) -> bool {
    use FieldType as T;
    match (v, ty) {
        (Value::F64(x), T::F64) => x.is_finite(),
        (Value::Array(items), T::Array(e)) => items.iter().all(|i| {
            matches!(
                (i, e),
                (Value::String(_), ArrayElem::String)
                    | (Value::I64(_), ArrayElem::I64)
                    | (Value::F64(_), ArrayElem::F64)
                    | (Value::Bool(_), ArrayElem::Bool)
            )
        }),
        _ => matches!(
            (v, ty),
            (Value::String(_), T::String)
                | (Value::I32(_), T::I32)
                | (Value::I64(_), T::I64)
                | (Value::Bool(_), T::Bool)
                | (Value::DateTime(_), T::DateTime)
                | (Value::Date(_), T::Date)
                | (Value::Uuid(_), T::Uuid)
                | (Value::Decimal(_), T::Decimal)
                | (Value::Json(_), T::Json)
                | (Value::Bytes(_), T::Bytes)
        ),
    }
}

fn check_len(schema: &ModelSchema, f: &FieldDef, v: Value) -> Result<Value> {
    if let (Value::String(s), Some(n)) = (&v, f.max_len) {
        let len = s.chars().count();
        if len > n as usize {
            return Err(Error::new(
                ErrorCode::WRONG_TYPE,
                format!("field `{}` allows at most {n} characters, got {len}", f.name),
            )
            .model(&schema.name)
            .field(&f.name)
            .fix(format!("shorten the value or raise `max_len` above {n}")));
        }
    }
    Ok(v)
}

fn check_nullable(schema: &ModelSchema, f: &FieldDef, op: &str) -> Result<()> {
    if f.nullable {
        return Ok(());
    }
    Err(Error::new(ErrorCode::WRONG_TYPE, format!("field `{}` is not nullable and cannot be set to NULL", f.name))
        .model(&schema.name)
        .field(&f.name)
        .operator(op)
        .fix(format!("pass {} instead", f.ty.expected()))
        .fix(format!("or declare the field as Option<{}>", f.ty.rust_name())))
}

fn parse_op(schema: &ModelSchema, op: &str, field: &str, operand: &J) -> Result<ChangeOp> {
    let f = schema.field_or_err(field)?;
    let scalar = |j: &J| -> Result<Value> {
        match f.ty {
            FieldType::Array(elem) => Value::from_json_elem(j, elem).ok_or_else(|| {
                Error::new(
                    ErrorCode::WRONG_TYPE,
                    format!("`{op}` on `{field}` got {j}, which is not an element of {}", f.ty.expected()),
                )
                .model(&schema.name)
                .field(field)
                .operator(op)
                .fix(format!("{{\"{op}\": {{\"{field}\": <element>}}}}"))
            }),
            _ => {
                let mut s = f.clone();
                s.nullable = op == "$set" && f.nullable;
                Value::from_json(j, &s).map_err(|e| e.or_model(&schema.name).operator(op))
            }
        }
    };
    let list = |key: &str| -> Result<Option<Vec<Value>>> {
        match operand {
            J::Object(m) if m.len() == 1 && m.contains_key(key) => match &m[key] {
                J::Array(items) => items.iter().map(&scalar).collect::<Result<Vec<_>>>().map(Some),
                other => {
                    Err(Error::new(ErrorCode::WRONG_SHAPE, format!("`{key}` in `{op}` takes a list, got {other}"))
                        .model(&schema.name)
                        .field(field)
                        .operator(op)
                        .fix(format!("{{\"{op}\": {{\"{field}\": {{\"{key}\": [..]}}}}}}")))
                }
            },
            J::Object(m) => Err(Error::new(
                ErrorCode::UNKNOWN_OPERATOR,
                format!("`{op}` on `{field}` takes an element or {{\"{key}\": [..]}}, got {}", J::Object(m.clone())),
            )
            .model(&schema.name)
            .field(field)
            .operator(op)
            .fix(format!("{{\"{op}\": {{\"{field}\": {{\"{key}\": [..]}}}}}}"))),
            _ => Ok(None),
        }
    };
    Ok(match op {
        "$set" => ChangeOp::Set(Value::from_json(operand, f).map_err(|e| e.or_model(&schema.name).operator(op))?),
        "$unset" => ChangeOp::Unset,
        "$inc" | "$mul" if !numeric(f.ty) => {
            return Err(inapplicable(schema, f, op, "i32, i64, f64 or Decimal fields"));
        }
        "$min" | "$max" if !(numeric(f.ty) || matches!(f.ty, FieldType::DateTime | FieldType::Date)) => {
            return Err(inapplicable(schema, f, op, "number, Decimal, DateTime or NaiveDate fields"));
        }
        "$inc" | "$mul" | "$min" | "$max" => {
            if operand.is_null() {
                return Err(Error::new(ErrorCode::WRONG_TYPE, format!("`{op}` on `{field}` needs a value, got null"))
                    .model(&schema.name)
                    .field(field)
                    .operator(op)
                    .fix(format!("pass {}", f.ty.expected())));
            }
            let v = scalar(operand)?;
            match op {
                "$inc" => ChangeOp::Inc(v),
                "$mul" => ChangeOp::Mul(v),
                "$min" => ChangeOp::Min(v),
                _ => ChangeOp::Max(v),
            }
        }
        "$push" | "$pull" if !matches!(f.ty, FieldType::Array(_)) => {
            return Err(inapplicable(schema, f, op, "array fields (Vec<String|i64|f64|bool>)"));
        }
        "$push" => ChangeOp::Push(match list("$each")? {
            Some(v) => v,
            None => vec![scalar(operand)?],
        }),
        "$pull" => ChangeOp::Pull(match list("$in")? {
            Some(v) => v,
            None => vec![scalar(operand)?],
        }),
        other => {
            let mut e = Error::new(ErrorCode::UNKNOWN_OPERATOR, format!("unknown update operator `{other}`"))
                .model(&schema.name)
                .field(field)
                .operator(other);
            if let Some(c) = crate::error::closest(other, OPERATORS.iter().copied()) {
                e = e.fix(format!("did you mean `{c}`?"));
            }
            return Err(e.fix(format!("update operators: {}", OPERATORS.join(", "))));
        }
    })
}

macro_rules! from_scalar {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Value {
                Value::$v(x.into())
            }
        }
    )*};
}

from_scalar!(bool => Bool, i32 => I32, i64 => I64, f64 => F64, String => String, &str => String,
    chrono::DateTime<chrono::Utc> => DateTime, chrono::NaiveDate => Date, uuid::Uuid => Uuid,
    rust_decimal::Decimal => Decimal, serde_json::Value => Json);

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(x: Option<T>) -> Value {
        x.map_or(Value::Null, Into::into)
    }
}

macro_rules! from_vec {
    ($($t:ty),*) => {$(
        impl From<Vec<$t>> for Value {
            fn from(x: Vec<$t>) -> Value {
                Value::Array(x.into_iter().map(Into::into).collect())
            }
        }
    )*};
}

from_vec!(String, &str, i64, f64, bool);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> ModelSchema {
        ModelSchema::new(
            "Post",
            vec![
                FieldDef::new("id", FieldType::String),
                FieldDef::new("title", FieldType::String),
                FieldDef::new("note", FieldType::String).nullable(),
                FieldDef::new("views", FieldType::I32),
                FieldDef::new("score", FieldType::F64).nullable(),
                FieldDef::new("at", FieldType::DateTime).nullable(),
                FieldDef::new("tags", FieldType::Array(ArrayElem::String)),
                FieldDef::new("flag", FieldType::Bool),
            ],
        )
    }

    fn code(j: serde_json::Value) -> u16 {
        Changes::parse(&j, &schema()).unwrap_err().code().number()
    }

    #[test]
    fn operators_validate_per_field_type() {
        let s = schema();
        let c = Changes::parse(
            &json!({"title": "x", "$inc": {"views": 2}, "$max": {"at": "2024-01-01T00:00:00Z"}, "$push": {"tags": {"$each": ["a", "b"]}}, "$unset": {"note": ""}}),
            &s,
        )
        .unwrap();
        assert_eq!(c.items().len(), 5);
        assert_eq!(c.items()[1].op, ChangeOp::Inc(Value::I32(2)));
        assert_eq!(c.items()[3].op, ChangeOp::Push(vec![Value::String("a".into()), Value::String("b".into())]));
        assert_eq!(code(json!({"$inc": {"title": 1}})), 104);
        assert_eq!(code(json!({"$inc": {"flag": 1}})), 104);
        assert_eq!(code(json!({"$inc": {"views": "a"}})), 102);
        assert_eq!(code(json!({"$inc": {"views": 1u64 << 40}})), 102);
        assert_eq!(code(json!({"$inc": {"nope": 1}})), 103);
        assert_eq!(code(json!({"$incr": {"views": 1}})), 104);
        assert_eq!(code(json!({"$unset": {"title": ""}})), 102);
        assert_eq!(code(json!({"$push": {"title": "a"}})), 104);
        assert_eq!(code(json!({"$push": {"tags": 1}})), 102);
        assert_eq!(code(json!({"$pull": {"tags": {"$nin": ["a"]}}})), 104);
        assert_eq!(code(json!({"$min": {"title": "a"}})), 104);
        assert_eq!(code(json!({"$inc": {"id": 1}})), 104);
        assert_eq!(code(json!({"$set": {"id": "x"}})), 109);
        assert_eq!(code(json!({"views": 1, "$inc": {"views": 1}})), 109);
        assert_eq!(code(json!({"$inc": 1})), 107);
        let e = Changes::parse(&json!({"$inc": {"title": 1}}), &s).unwrap_err();
        assert!(e.to_string().contains("`title`"), "{e}");
        // Typed builder: literals are converted to the field's type.
        let mut t = Changes::new().inc("views", 1i64).max("score", 2);
        t.validate(&s).unwrap();
        assert_eq!(t.items()[0].op, ChangeOp::Inc(Value::I32(1)));
        assert_eq!(t.items()[1].op, ChangeOp::Max(Value::F64(2.0)));
        assert!(Changes::new().inc("score", f64::NAN).validate(&s).is_err());
        assert!(Changes::new().unset("views").validate(&s).is_err());
        let mut t = Changes::new().set("tags", vec!["a", "b"]).set("note", None::<String>).set("score", Some(1.5));
        t.validate(&s).unwrap();
        assert_eq!(
            t.items()[0].op,
            ChangeOp::Set(Value::Array(vec![Value::String("a".into()), Value::String("b".into())]))
        );
        assert_eq!(t.items()[1].op, ChangeOp::Set(Value::Null));
        assert!(Changes::new().set("tags", vec![1i64]).validate(&s).is_err());
    }
}
