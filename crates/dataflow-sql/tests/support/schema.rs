//! The model every filter test runs against.

use dataflow_sql::{ArrayElem, FieldDef, FieldType, IndexDef, ModelSchema};

/// `User`: one field of every type, a renamed column, a unique field, a unique composite index, soft delete.
pub fn user_schema(native_arrays: bool) -> ModelSchema {
    let mut s = ModelSchema::new(
        "User",
        vec![
            FieldDef::new("id", FieldType::String),
            FieldDef::new("name", FieldType::String),
            FieldDef::new("email", FieldType::String).unique(),
            FieldDef::new("nick", FieldType::String).nullable().column_name("nickname"),
            FieldDef::new("age", FieldType::I32).nullable(),
            FieldDef::new("visits", FieldType::I64),
            FieldDef::new("score", FieldType::F64).nullable(),
            FieldDef::new("active", FieldType::Bool),
            FieldDef::new("price", FieldType::Decimal).nullable(),
            FieldDef::new("born", FieldType::Date).nullable(),
            FieldDef::new("seen_at", FieldType::DateTime).nullable(),
            FieldDef::new("uid", FieldType::Uuid).nullable(),
            FieldDef::new("tags", FieldType::Array(ArrayElem::String)),
            FieldDef::new("scores", FieldType::Array(ArrayElem::I64)),
            FieldDef::new("ratios", FieldType::Array(ArrayElem::F64)).nullable(),
            FieldDef::new("flags", FieldType::Array(ArrayElem::Bool)),
            FieldDef::new("profile", FieldType::Json).nullable(),
            FieldDef::new("data", FieldType::Bytes).nullable(),
            FieldDef::new("org_id", FieldType::String).nullable(),
            FieldDef::new("slug", FieldType::String).nullable(),
        ],
    );
    s.options.soft_delete = true;
    s.options.native_arrays = native_arrays;
    s.indexes.push(IndexDef { name: None, fields: vec!["org_id".into(), "slug".into()], unique: true });
    s.validate().expect("test schema is valid");
    s
}
