//! The operator catalogue: which operators exist and which apply to which kind of target.

use super::ast::Target;
use crate::schema::FieldType;

/// Logical operators (filter level).
pub(crate) const LOGICAL: &[&str] = &["$and", "$or", "$nor", "$not"];

/// Every field-level operator.
pub(crate) const ALL: &[&str] = &[
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$null",
    "$like",
    "$ilike",
    "$startswith",
    "$endswith",
    "$contains",
    "$regex",
    "$options",
    "$not",
    "$all",
    "$overlap",
    "$size",
    "$any",
];

const STRING: &[&str] = &[
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$null",
    "$like",
    "$ilike",
    "$startswith",
    "$endswith",
    "$contains",
    "$regex",
    "$options",
    "$not",
];
const ORDERED: &[&str] = &["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$null", "$not"];
const EQUALITY: &[&str] = &["$eq", "$ne", "$in", "$nin", "$exists", "$null", "$not"];
const JSON: &[&str] = &["$eq", "$ne", "$exists", "$null", "$not"];
const ARRAY: &[&str] = &["$contains", "$all", "$overlap", "$size", "$any", "$eq", "$ne", "$exists", "$null", "$not"];
const ELEM_STRING: &[&str] = &[
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$like",
    "$ilike",
    "$startswith",
    "$endswith",
    "$contains",
    "$regex",
    "$options",
    "$not",
];
const ELEM_ORDERED: &[&str] = &["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$not"];
const ELEM_BOOL: &[&str] = &["$eq", "$ne", "$in", "$nin", "$not"];

/// The kind of a target, deciding which operators apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string column or a JSON path (values of any scalar JSON type).
    Text,
    /// Integers, floats, decimals, dates, date-times, UUIDs.
    Ordered,
    /// Booleans and bytes: equality only.
    Equality,
    /// A whole JSON column.
    Json,
    /// An array column.
    Array,
    /// An element inside `$any`, by its scalar type.
    ElemText,
    /// A numeric element inside `$any`.
    ElemOrdered,
    /// A boolean element inside `$any`.
    ElemBool,
}

impl Kind {
    pub(crate) fn of(target: &Target) -> Kind {
        match target {
            Target::Path { .. } => Kind::Text,
            Target::Column(f) => match f.ty {
                FieldType::String => Kind::Text,
                FieldType::Bool | FieldType::Bytes => Kind::Equality,
                FieldType::Json => Kind::Json,
                FieldType::Array(_) => Kind::Array,
                _ => Kind::Ordered,
            },
            Target::Element { ty } => match ty {
                FieldType::String => Kind::ElemText,
                FieldType::Bool => Kind::ElemBool,
                _ => Kind::ElemOrdered,
            },
        }
    }

    pub(crate) fn describe(self, target: &Target) -> String {
        match target {
            Target::Path { .. } => "a JSON path".to_owned(),
            Target::Column(f) => f.ty.rust_name().to_owned(),
            Target::Element { ty } => format!("{} array element", ty.rust_name()),
        }
    }
}

/// The operators that apply to a kind, in catalogue order.
pub(crate) fn allowed(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Text => STRING,
        Kind::Ordered => ORDERED,
        Kind::Equality => EQUALITY,
        Kind::Json => JSON,
        Kind::Array => ARRAY,
        Kind::ElemText => ELEM_STRING,
        Kind::ElemOrdered => ELEM_ORDERED,
        Kind::ElemBool => ELEM_BOOL,
    }
}
