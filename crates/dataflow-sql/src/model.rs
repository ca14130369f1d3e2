//! The traits `#[dataflow::model]` implements: [`Model`] (schema + typed conversion without
//! JSON), [`FieldValue`] (the supported field types) and [`NodeType`] (the eleven node types).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::{Error, ErrorCode, Result};
use crate::schema::{ArrayElem, FieldType, ModelSchema};
use crate::value::Value;

/// A record's user-field values, in [`ModelSchema::fields`] order.
pub type Record = Vec<Value>;

/// A typed model. Implemented by `#[dataflow::model]`; do not implement it by hand unless you
/// keep [`Model::to_values`] and [`Model::from_values`] / [`Model::from_columns`] in
/// [`ModelSchema::fields`] order.
///
/// The default [`Model::from_values`] and the default [`Model::from_columns`] are defined in
/// terms of each other: an implementation must override at least one of them (the macro
/// generates `from_columns`, which decodes a database row with no `Vec<Value>` in between).
pub trait Model: Sized + Send + Sync + 'static {
    /// The model's static schema, validated at compile time.
    fn schema() -> &'static ModelSchema;
    /// The field values in schema order (borrowing conversion).
    fn to_values(&self) -> Record;
    /// The field values in schema order (consuming conversion, no clones).
    fn into_values(self) -> Record {
        self.to_values()
    }
    /// Rebuilds the struct from field values in schema order (DF-510 when there are not
    /// exactly as many values as fields, or one does not fit its field).
    ///
    /// Default: [`Model::from_columns`] over the values ([`ValueColumns`]).
    fn from_values(values: Record) -> Result<Self> {
        let s = Self::schema();
        let mut columns = ValueColumns::new(&s.name, values, s.fields.len())?;
        Self::from_columns(&mut columns)
    }
    /// Builds the struct from the next columns of `columns`, one per field, in schema order
    /// (a database row is decoded straight into the fields).
    ///
    /// Default: collects the columns as [`Value`]s and calls [`Model::from_values`].
    fn from_columns(columns: &mut dyn Columns) -> Result<Self> {
        let n = Self::schema().fields.len();
        let values = (0..n).map(|_| columns.next_value()).collect::<Result<Record>>()?;
        Self::from_values(values)
    }
}

/// A cursor over one row's columns, in model field order: each call decodes the next column.
/// `Ok(None)` from a typed getter is SQL NULL. The typed getters default to
/// [`Columns::next_value`] plus [`FieldValue::from_value`]; a database row overrides them to
/// decode the driver's value directly.
///
/// Errors are DF-510; an implementation that knows the column names the field, otherwise
/// the caller (the model's `from_columns`) does.
pub trait Columns {
    /// The next column as a dynamic value (`Value::Null` for NULL).
    fn next_value(&mut self) -> Result<Value>;
    /// The next column as `i32`.
    fn next_i32(&mut self) -> Result<Option<i32>> {
        value_as(self.next_value()?)
    }
    /// The next column as `i64`.
    fn next_i64(&mut self) -> Result<Option<i64>> {
        value_as(self.next_value()?)
    }
    /// The next column as `f64`.
    fn next_f64(&mut self) -> Result<Option<f64>> {
        value_as(self.next_value()?)
    }
    /// The next column as `bool`.
    fn next_bool(&mut self) -> Result<Option<bool>> {
        value_as(self.next_value()?)
    }
    /// The next column as a `String`.
    fn next_string(&mut self) -> Result<Option<String>> {
        value_as(self.next_value()?)
    }
    /// The next column as a UTC date-time.
    fn next_datetime(&mut self) -> Result<Option<DateTime<Utc>>> {
        value_as(self.next_value()?)
    }
    /// The next column as a JSON document.
    fn next_json(&mut self) -> Result<Option<serde_json::Value>> {
        value_as(self.next_value()?)
    }
}

/// A decoded value as `T`: `Ok(None)` for [`Value::Null`], DF-510 (without field: the caller
/// names it) when the value has another type.
pub fn value_as<T: FieldValue>(v: Value) -> Result<Option<T>> {
    match v {
        Value::Null => Ok(None),
        v => T::from_value(v).map(Some).ok_or_else(|| {
            Error::new(ErrorCode::DECODE, format!("stored value is not a valid {}", T::TYPE.rust_name()))
        }),
    }
}

/// [`Columns`] over values already decoded (a [`Record`]), for [`Model::from_values`].
#[derive(Debug)]
pub struct ValueColumns(std::vec::IntoIter<Value>);

impl ValueColumns {
    /// Starts reading; DF-510 naming `model` when the number of values is not `fields`.
    pub fn new(model: &str, values: Record, fields: usize) -> Result<Self> {
        if values.len() != fields {
            return Err(Error::new(
                ErrorCode::DECODE,
                format!("model `{model}` has {fields} fields, got {} values", values.len()),
            )
            .model(model)
            .fix("pass the values in `ModelSchema::fields` order, one per field"));
        }
        Ok(ValueColumns(values.into_iter()))
    }
}

impl Columns for ValueColumns {
    fn next_value(&mut self) -> Result<Value> {
        self.0.next().ok_or_else(|| Error::new(ErrorCode::DECODE, "fewer values than fields"))
    }
}

/// A Rust type that can be a model field. Implemented for every type listed in docs/guide/models.md.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported DataFlow field type",
    label = "unsupported field type",
    note = "supported: String, i32, i64, f64, bool, chrono::DateTime<Utc>, chrono::NaiveDate, uuid::Uuid, rust_decimal::Decimal, serde_json::Value, Vec<String|i64|f64|bool>, Vec<u8>, and Option<T> of these"
)]
pub trait FieldValue: Sized {
    /// The field type.
    const TYPE: FieldType;
    /// Whether the field is nullable (`Option<T>`).
    const NULLABLE: bool = false;
    /// Converts to a dynamic value.
    fn to_value(&self) -> Value;
    /// Converts to a dynamic value without cloning.
    fn into_value(self) -> Value {
        self.to_value()
    }
    /// Converts back; `None` when the value has another type.
    fn from_value(v: Value) -> Option<Self>;
    /// Decodes the next column of `columns` (`Ok(None)`: SQL NULL; `Option<T>` gives
    /// `Ok(Some(None))` instead).
    fn next_column(columns: &mut dyn Columns) -> Result<Option<Self>> {
        value_as(columns.next_value()?)
    }
}

/// The DF-510 error for a stored value that does not decode into a field's Rust type.
pub fn decode_error(model: &str, field: &str, expected: &str) -> Error {
    Error::new(ErrorCode::DECODE, format!("stored value of `{model}.{field}` is not a valid {expected}"))
        .model(model)
        .field(field)
        .fix("check that the column's type matches the model (see the migration report)")
}

macro_rules! scalar {
    ($t:ty, $ft:expr, $var:ident $(, $next:ident)?) => {
        impl FieldValue for $t {
            const TYPE: FieldType = $ft;
            $(
                fn next_column(columns: &mut dyn Columns) -> Result<Option<Self>> {
                    columns.$next()
                }
            )?
            fn to_value(&self) -> Value {
                Value::$var(self.clone())
            }
            fn into_value(self) -> Value {
                Value::$var(self)
            }
            fn from_value(v: Value) -> Option<Self> {
                match v {
                    Value::$var(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}

scalar!(String, FieldType::String, String, next_string);
scalar!(bool, FieldType::Bool, Bool, next_bool);
scalar!(f64, FieldType::F64, F64, next_f64);
scalar!(DateTime<Utc>, FieldType::DateTime, DateTime, next_datetime);
scalar!(NaiveDate, FieldType::Date, Date);
scalar!(Uuid, FieldType::Uuid, Uuid);
scalar!(Decimal, FieldType::Decimal, Decimal);
scalar!(serde_json::Value, FieldType::Json, Json, next_json);
scalar!(Vec<u8>, FieldType::Bytes, Bytes);

impl FieldValue for i32 {
    const TYPE: FieldType = FieldType::I32;
    fn to_value(&self) -> Value {
        Value::I32(*self)
    }
    fn next_column(columns: &mut dyn Columns) -> Result<Option<Self>> {
        columns.next_i32()
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::I32(x) => Some(x),
            Value::I64(x) => i32::try_from(x).ok(),
            _ => None,
        }
    }
}

impl FieldValue for i64 {
    const TYPE: FieldType = FieldType::I64;
    fn to_value(&self) -> Value {
        Value::I64(*self)
    }
    fn next_column(columns: &mut dyn Columns) -> Result<Option<Self>> {
        columns.next_i64()
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::I64(x) => Some(x),
            Value::I32(x) => Some(i64::from(x)),
            _ => None,
        }
    }
}

macro_rules! array {
    ($t:ty, $elem:ident, $var:ident) => {
        impl FieldValue for Vec<$t> {
            const TYPE: FieldType = FieldType::Array(ArrayElem::$elem);
            fn to_value(&self) -> Value {
                Value::Array(self.iter().cloned().map(Value::$var).collect())
            }
            fn into_value(self) -> Value {
                Value::Array(self.into_iter().map(Value::$var).collect())
            }
            fn from_value(v: Value) -> Option<Self> {
                match v {
                    Value::Array(items) => items
                        .into_iter()
                        .map(|x| match x {
                            Value::$var(x) => Some(x),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                }
            }
        }
    };
}

array!(String, String, String);
array!(i64, I64, I64);
array!(f64, F64, F64);
array!(bool, Bool, Bool);

impl<T: FieldValue> FieldValue for Option<T> {
    const TYPE: FieldType = T::TYPE;
    const NULLABLE: bool = true;
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_value)
    }
    fn into_value(self) -> Value {
        self.map_or(Value::Null, T::into_value)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
    fn next_column(columns: &mut dyn Columns) -> Result<Option<Self>> {
        T::next_column(columns).map(Some)
    }
}

/// The eleven operations every model gets (docs/guide/operations.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Operation {
    /// Insert one record.
    Create,
    /// Read one record by id.
    Read,
    /// Update one record identified by a filter.
    Update,
    /// Delete one record by id (soft delete sets `deleted_at`).
    Delete,
    /// List records with filter, order, limit, offset, cursor.
    List,
    /// Count records matching a filter.
    Count,
    /// Insert or update one record.
    Upsert,
    /// Insert many records atomically.
    BulkCreate,
    /// Update many records atomically.
    BulkUpdate,
    /// Delete many records atomically.
    BulkDelete,
    /// Insert or update many records atomically.
    BulkUpsert,
}

impl Operation {
    /// All eleven, in the canonical order.
    pub const ALL: [Operation; 11] = [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
        Operation::List,
        Operation::Count,
        Operation::Upsert,
        Operation::BulkCreate,
        Operation::BulkUpdate,
        Operation::BulkDelete,
        Operation::BulkUpsert,
    ];

    /// The operation's name as used in node types (`BulkCreate`).
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Create => "Create",
            Operation::Read => "Read",
            Operation::Update => "Update",
            Operation::Delete => "Delete",
            Operation::List => "List",
            Operation::Count => "Count",
            Operation::Upsert => "Upsert",
            Operation::BulkCreate => "BulkCreate",
            Operation::BulkUpdate => "BulkUpdate",
            Operation::BulkDelete => "BulkDelete",
            Operation::BulkUpsert => "BulkUpsert",
        }
    }

    /// Whether the operation writes (refused on append-only models unless it only inserts).
    pub const fn mutates_existing(self) -> bool {
        matches!(
            self,
            Operation::Update
                | Operation::Delete
                | Operation::Upsert
                | Operation::BulkUpdate
                | Operation::BulkDelete
                | Operation::BulkUpsert
        )
    }

    /// Whether the operation writes (everything but Read, List and Count).
    pub const fn writes(self) -> bool {
        !matches!(self, Operation::Read | Operation::List | Operation::Count)
    }

    /// The operation named `name` (`"BulkDelete"`, case-sensitive).
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The node type name for a model: `User` + `BulkCreate` → `UserBulkCreateNode`.
    pub fn node_type_name(self, model: &str) -> String {
        format!("{model}{}Node", self.name())
    }

    /// Splits a node type name into model name and operation (`UserBulkCreateNode`).
    pub fn parse_node_type(name: &str) -> Option<(&str, Operation)> {
        let stem = name.strip_suffix("Node")?;
        // Longest operation names first so `BulkCreate` wins over `Create`.
        let mut ops = Operation::ALL;
        ops.sort_by_key(|o| std::cmp::Reverse(o.name().len()));
        ops.into_iter().find_map(|op| stem.strip_suffix(op.name()).filter(|m| !m.is_empty()).map(|m| (m, op)))
    }
}

/// A generated node type (`UserCreateNode`): knows its model and operation.
pub trait NodeType {
    /// The model the node operates on.
    type Model: Model;
    /// The operation it performs.
    const OPERATION: Operation;
    /// The registered type name (`UserCreateNode`).
    const TYPE_NAME: &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_type_names_round_trip() {
        for op in Operation::ALL {
            let n = op.node_type_name("UserActivity");
            assert_eq!(Operation::parse_node_type(&n), Some(("UserActivity", op)), "{n}");
        }
        assert_eq!(Operation::parse_node_type("CreateNode"), None);
        assert_eq!(Operation::parse_node_type("UserFrobNode"), None);
    }

    #[test]
    fn value_columns_decode_in_order_and_count() {
        let mut c = ValueColumns::new("M", vec![Value::I32(7), Value::Null, Value::String("x".into())], 3).unwrap();
        assert_eq!(i64::next_column(&mut c).unwrap(), Some(7));
        assert_eq!(Option::<bool>::next_column(&mut c).unwrap(), Some(None));
        let e = bool::next_column(&mut c).unwrap_err();
        assert_eq!(e.code(), ErrorCode::DECODE);
        assert!(c.next_value().is_err());
        let e = ValueColumns::new("M", vec![], 1).unwrap_err();
        assert!(e.message().contains("has 1 fields, got 0 values"), "{}", e.message());
    }

    #[test]
    fn option_fields_are_nullable() {
        const { assert!(<Option<i32> as FieldValue>::NULLABLE) };
        assert_eq!(<Option<i32> as FieldValue>::TYPE, FieldType::I32);
        assert_eq!(Option::<i32>::from_value(Value::Null), Some(None));
        assert_eq!(
            Vec::<String>::from_value(Value::Array(vec![Value::String("a".into())])),
            Some(vec!["a".to_string()])
        );
        assert_eq!(i32::from_value(Value::String("x".into())), None);
    }
}
