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
/// keep [`Model::to_values`] and [`Model::from_values`] in [`ModelSchema::fields`] order.
pub trait Model: Sized + Send + Sync + 'static {
    /// The model's static schema, validated at compile time.
    fn schema() -> &'static ModelSchema;
    /// The field values in schema order (borrowing conversion).
    fn to_values(&self) -> Record;
    /// The field values in schema order (consuming conversion, no clones).
    fn into_values(self) -> Record {
        self.to_values()
    }
    /// Rebuilds the struct from field values in schema order.
    fn from_values(values: Record) -> Result<Self>;
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
}

/// The DF-510 error for a stored value that does not decode into a field's Rust type.
pub fn decode_error(model: &str, field: &str, expected: &str) -> Error {
    Error::new(ErrorCode::DECODE, format!("stored value of `{model}.{field}` is not a valid {expected}"))
        .model(model)
        .field(field)
        .fix("check that the column's type matches the model (see the migration report)")
}

macro_rules! scalar {
    ($t:ty, $ft:expr, $var:ident) => {
        impl FieldValue for $t {
            const TYPE: FieldType = $ft;
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

scalar!(String, FieldType::String, String);
scalar!(bool, FieldType::Bool, Bool);
scalar!(f64, FieldType::F64, F64);
scalar!(DateTime<Utc>, FieldType::DateTime, DateTime);
scalar!(NaiveDate, FieldType::Date, Date);
scalar!(Uuid, FieldType::Uuid, Uuid);
scalar!(Decimal, FieldType::Decimal, Decimal);
scalar!(serde_json::Value, FieldType::Json, Json);
scalar!(Vec<u8>, FieldType::Bytes, Bytes);

impl FieldValue for i32 {
    const TYPE: FieldType = FieldType::I32;
    fn to_value(&self) -> Value {
        Value::I32(*self)
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
