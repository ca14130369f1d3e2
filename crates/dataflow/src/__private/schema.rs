//! `Model::schema()` as data: the macro emits a [`SchemaDef`] (plain constants, no allocation,
//! no closure) and calls [`schema`], which builds the [`ModelSchema`] once. The `OnceLock` and
//! the building code are compiled here, once, instead of once per model in the user's crate
//! (issue 13: most of the generated machine code was the per-model `get_or_init` closure).

use std::sync::OnceLock;

use dataflow_sql::{FieldDef, FieldType, ModelSchema};
use serde_json::Value as JsonValue;

use super::Field;

/// A field's `#[dataflow(default = ...)]` literal, already checked against the field's type.
#[derive(Debug, Clone, Copy)]
pub enum DefaultLit {
    /// A string literal.
    Str(&'static str),
    /// An integer literal that fits `i64`.
    I64(i64),
    /// A larger integer literal.
    U64(u64),
    /// A float literal.
    F64(f64),
    /// `true` / `false`.
    Bool(bool),
}

impl DefaultLit {
    fn json(self) -> JsonValue {
        match self {
            DefaultLit::Str(s) => JsonValue::from(s),
            DefaultLit::I64(i) => JsonValue::from(i),
            DefaultLit::U64(u) => JsonValue::from(u),
            DefaultLit::F64(f) => JsonValue::from(f),
            DefaultLit::Bool(b) => JsonValue::Bool(b),
        }
    }
}

/// One field of a [`SchemaDef`]: the [`FieldDef`] as constants.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field's name.
    pub name: &'static str,
    /// `FieldValue::TYPE`.
    pub ty: FieldType,
    /// `FieldValue::NULLABLE`.
    pub nullable: bool,
    /// `#[dataflow(column = "...")]`.
    pub column: Option<&'static str>,
    /// `#[dataflow(unique)]`.
    pub unique: bool,
    /// `#[dataflow(index)]`.
    pub index: bool,
    /// `#[dataflow(read_only)]`.
    pub read_only: bool,
    /// `#[dataflow(default = ...)]`.
    pub default: Option<DefaultLit>,
    /// `#[dataflow(max_len = n)]`.
    pub max_len: Option<u32>,
}

impl FieldSpec {
    /// A field with no options.
    pub const fn new(name: &'static str, ty: FieldType, nullable: bool) -> Self {
        FieldSpec {
            name,
            ty,
            nullable,
            column: None,
            unique: false,
            index: false,
            read_only: false,
            default: None,
            max_len: None,
        }
    }

    /// A field of type `T` with no options (`T::TYPE`, `T::NULLABLE`): one short call per field
    /// in the expansion instead of two qualified paths.
    pub const fn of<'a, T: Field<'a>>(name: &'static str) -> Self {
        FieldSpec::new(name, T::TYPE, T::NULLABLE)
    }

    fn def(&self) -> FieldDef {
        FieldDef {
            nullable: self.nullable,
            column: self.column.map(String::from),
            unique: self.unique,
            index: self.index,
            read_only: self.read_only,
            default: self.default.map(DefaultLit::json),
            max_len: self.max_len,
            ..FieldDef::new(self.name, self.ty)
        }
    }
}

/// A model's schema as the macro writes it.
#[derive(Debug, Clone, Copy)]
pub struct SchemaDef<'a> {
    /// The model (struct) name.
    pub name: &'static str,
    /// The table name.
    pub table: &'static str,
    /// The fields, in declaration order.
    pub fields: &'a [FieldSpec],
    /// Sets the model options and indexes, for models that have any.
    pub extra: Option<fn(&mut ModelSchema)>,
}

/// The model's schema, built from `def` on the first call and kept in `cell`.
#[inline(never)]
pub fn schema(cell: &'static OnceLock<ModelSchema>, def: &SchemaDef<'_>) -> &'static ModelSchema {
    if let Some(s) = cell.get() {
        return s;
    }
    let mut s = ModelSchema::new(def.name, def.fields.iter().map(FieldSpec::def).collect());
    s.table = String::from(def.table);
    if let Some(extra) = def.extra {
        extra(&mut s);
    }
    // A concurrent first call may have won; its schema is the same.
    cell.get_or_init(move || s)
}
