//! Model schema metadata: fields, types, options and indexes (docs/guide/models.md).
//!
//! A [`ModelSchema`] comes either from `#[dataflow::model]` (built once, statically) or from
//! JSON at run time (`serde`), and is validated by [`ModelSchema::validate`]. Managed columns
//! (`created_at`, `updated_at`, `deleted_at`, `tenant_id`) are not user fields: they are
//! derived from the options by [`ModelSchema::managed_fields`].

mod validate;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result, closest};
use crate::naming;

/// Element type of an array field (`Vec<String|i64|f64|bool>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayElem {
    /// `Vec<String>`
    String,
    /// `Vec<i64>`
    I64,
    /// `Vec<f64>`
    F64,
    /// `Vec<bool>`
    Bool,
}

/// The type of a field, independent of nullability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// `String`
    String,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f64`
    F64,
    /// `bool`
    Bool,
    /// `chrono::DateTime<Utc>`
    DateTime,
    /// `chrono::NaiveDate`
    Date,
    /// `uuid::Uuid`
    Uuid,
    /// `rust_decimal::Decimal`
    Decimal,
    /// `serde_json::Value`
    Json,
    /// `Vec<String|i64|f64|bool>`
    Array(ArrayElem),
    /// `Vec<u8>`
    Bytes,
}

impl FieldType {
    /// The Rust type this field type corresponds to (for messages).
    pub fn rust_name(self) -> &'static str {
        match self {
            FieldType::String => "String",
            FieldType::I32 => "i32",
            FieldType::I64 => "i64",
            FieldType::F64 => "f64",
            FieldType::Bool => "bool",
            FieldType::DateTime => "DateTime<Utc>",
            FieldType::Date => "NaiveDate",
            FieldType::Uuid => "Uuid",
            FieldType::Decimal => "Decimal",
            FieldType::Json => "serde_json::Value",
            FieldType::Array(ArrayElem::String) => "Vec<String>",
            FieldType::Array(ArrayElem::I64) => "Vec<i64>",
            FieldType::Array(ArrayElem::F64) => "Vec<f64>",
            FieldType::Array(ArrayElem::Bool) => "Vec<bool>",
            FieldType::Bytes => "Vec<u8>",
        }
    }

    /// What a JSON value for this type looks like (for "expected ..." messages).
    pub fn expected(self) -> &'static str {
        match self {
            FieldType::String => "a string",
            FieldType::I32 => "an integer between -2147483648 and 2147483647",
            FieldType::I64 => "an integer",
            FieldType::F64 => "a number",
            FieldType::Bool => "true or false",
            FieldType::DateTime => "an ISO-8601 date-time string with offset, e.g. \"2024-01-31T12:00:00Z\"",
            FieldType::Date => "an ISO-8601 date string, e.g. \"2024-01-31\"",
            FieldType::Uuid => "a UUID string, e.g. \"67e55044-10b1-426f-9247-bb680e5fe0c8\"",
            FieldType::Decimal => "a decimal number or numeric string, e.g. \"12.50\"",
            FieldType::Json => "any JSON value",
            FieldType::Array(ArrayElem::String) => "an array of strings",
            FieldType::Array(ArrayElem::I64) => "an array of integers",
            FieldType::Array(ArrayElem::F64) => "an array of numbers",
            FieldType::Array(ArrayElem::Bool) => "an array of booleans",
            FieldType::Bytes => "an array of bytes (integers 0-255)",
        }
    }

    /// Whether the type can be the primary key `id`.
    pub fn can_be_id(self) -> bool {
        matches!(self, FieldType::String | FieldType::I32 | FieldType::I64 | FieldType::Uuid)
    }
}

/// One user-declared field of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    /// The Rust / JSON name of the field.
    pub name: String,
    /// The column name (defaults to `name`; `#[dataflow(column = "...")]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The field's type.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// `Option<T>`: the column is nullable.
    #[serde(default)]
    pub nullable: bool,
    /// `#[dataflow(unique)]`
    #[serde(default)]
    pub unique: bool,
    /// `#[dataflow(index)]`
    #[serde(default)]
    pub index: bool,
    /// `#[dataflow(default = ...)]`, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// `#[dataflow(max_len = n)]` for strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u32>,
    /// The column this field was previously stored in (`#[dataflow(renamed_from = "...")]`): a
    /// migration renames that column instead of adding a new one. Renames happen only when
    /// declared here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// `#[dataflow(read_only)]`: the field is set on create and never changed afterwards; an
    /// Update, BulkUpdate or the update part of an Upsert that writes it fails with DF-609
    /// (docs/guide/protection-and-audit.md).
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl FieldDef {
    /// A non-nullable field of the given type, column named like the field.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        FieldDef {
            name: name.into(),
            column: None,
            ty,
            nullable: false,
            unique: false,
            index: false,
            default: None,
            max_len: None,
            renamed_from: None,
            read_only: false,
        }
    }

    /// The column name.
    pub fn column(&self) -> &str {
        self.column.as_deref().unwrap_or(&self.name)
    }

    /// Builder: nullable.
    pub fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// Builder: unique.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Builder: indexed.
    pub fn indexed(mut self) -> Self {
        self.index = true;
        self
    }

    /// Builder: default value.
    pub fn with_default(mut self, v: serde_json::Value) -> Self {
        self.default = Some(v);
        self
    }

    /// Builder: max length.
    pub fn max_len(mut self, n: u32) -> Self {
        self.max_len = Some(n);
        self
    }

    /// Builder: the column this field was renamed from.
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.renamed_from = Some(old.into());
        self
    }

    /// Builder: read-only after create (DF-609 on any later write of the field).
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Builder: column name.
    pub fn column_name(mut self, c: impl Into<String>) -> Self {
        self.column = Some(c.into());
        self
    }

    /// Whether a value must be supplied on create (not nullable, no default, not a generated id).
    pub fn required_on_create(&self) -> bool {
        !self.nullable
            && self.default.is_none()
            && !(self.name == "id" && matches!(self.ty, FieldType::I32 | FieldType::I64 | FieldType::Uuid))
    }
}

/// A column managed by the framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagedField {
    /// `created_at`, set on insert.
    CreatedAt,
    /// `updated_at`, set on insert and every update.
    UpdatedAt,
    /// `deleted_at`, set by soft delete.
    DeletedAt,
    /// `tenant_id`, stamped from the tenant context.
    TenantId,
}

impl ManagedField {
    /// The column name.
    pub const fn column(self) -> &'static str {
        match self {
            ManagedField::CreatedAt => "created_at",
            ManagedField::UpdatedAt => "updated_at",
            ManagedField::DeletedAt => "deleted_at",
            ManagedField::TenantId => "tenant_id",
        }
    }

    /// The managed column as a field definition.
    pub fn def(self) -> FieldDef {
        match self {
            ManagedField::CreatedAt | ManagedField::UpdatedAt => FieldDef::new(self.column(), FieldType::DateTime),
            ManagedField::DeletedAt => FieldDef::new(self.column(), FieldType::DateTime).nullable(),
            ManagedField::TenantId => {
                let mut f = FieldDef::new(self.column(), FieldType::String).indexed();
                f.max_len = Some(255);
                f
            }
        }
    }
}

/// Model-level options (docs/guide/models.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelOptions {
    /// Soft delete: `deleted_at` column; deletes set it, reads hide such rows.
    pub soft_delete: bool,
    /// PostgreSQL native arrays for `Vec<_>` fields (PostgreSQL only).
    pub native_arrays: bool,
    /// A `tenant_id` column; every statement scoped to the tenant context.
    pub multi_tenant: bool,
    /// No update, delete or upsert.
    pub append_only: bool,
    /// Managed `created_at` / `updated_at` columns (default true).
    pub timestamps: bool,
    /// Write protection: every write to the model fails with DF-609 before any SQL (reads
    /// work). See docs/guide/protection-and-audit.md.
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Operations refused with DF-609 on this model (e.g. `["Delete", "BulkDelete"]`). `Delete`
    /// also refuses hard delete; `Update` also refuses restore.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forbid: Vec<crate::model::Operation>,
    /// Audit trail: every successful write appends one row per affected record to the
    /// `dataflow_audit` table, in the same transaction (docs/guide/protection-and-audit.md).
    #[serde(skip_serializing_if = "is_false")]
    pub audit: bool,
    /// Query cache on by default for this model's Read/List/Count/FindOne results
    /// (`#[dataflow(cache)]`, `"cache": true` or `"cache": {"ttl": "30s"}`; docs/guide/scaling.md,
    /// "Query cache"). `None`: not cached unless the instance or the call asks.
    #[serde(skip_serializing_if = "Option::is_none", with = "model_cache_serde")]
    pub cache: Option<ModelCache>,
}

/// The query-cache opt-in of a model ([`ModelOptions::cache`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModelCache {
    /// How long a cached result of this model is kept; `None`: the instance's TTL
    /// (`QueryCacheConfig::ttl`, default 60 s).
    pub ttl: Option<std::time::Duration>,
}

impl ModelCache {
    /// Cached with the instance's TTL.
    pub const fn new() -> Self {
        ModelCache { ttl: None }
    }

    /// Cached for `ms` milliseconds.
    pub const fn ttl_ms(ms: u64) -> Self {
        ModelCache { ttl: Some(std::time::Duration::from_millis(ms)) }
    }
}

/// Parses a cache TTL: a whole number with a unit, `500ms`, `30s`, `5m` or `1h`, greater than
/// zero. The error says why (for DF-101 and the macro's compile error).
pub fn parse_ttl(s: &str) -> std::result::Result<std::time::Duration, String> {
    use std::time::Duration;
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num.parse().map_err(|_| {
        format!("`{s}` is not a duration: expected a whole number with a unit (`500ms`, `30s`, `5m`, `1h`)")
    })?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "" => return Err(format!("`{s}` has no unit: write `{n}s` (or `ms`, `m`, `h`)")),
        u => return Err(format!("`{s}` has an unknown unit `{u}`: use `ms`, `s`, `m` or `h`")),
    };
    if d.is_zero() {
        return Err(format!(
            "`{s}` is zero: a cache TTL must be greater than zero (leave `ttl` out for the instance's)"
        ));
    }
    Ok(d)
}

/// The TTL in the largest unit that divides it (`30s`, `1500ms`).
fn format_ttl(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `"cache": true | false | {"ttl": "30s"}`.
mod model_cache_serde {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{ModelCache, format_ttl, parse_ttl};

    #[derive(Serialize)]
    struct WithTtl {
        ttl: String,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Flag(bool),
        Obj(serde_json::Map<String, serde_json::Value>),
    }

    // serde's `with` hands the field by reference.
    #[allow(clippy::ref_option, reason = "the signature serde's `with` expects")]
    pub(super) fn serialize<S: Serializer>(v: &Option<ModelCache>, s: S) -> Result<S::Ok, S::Error> {
        match v.and_then(|c| c.ttl) {
            None => v.is_some().serialize(s),
            Some(t) => WithTtl { ttl: format_ttl(t) }.serialize(s),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ModelCache>, D::Error> {
        let bad = |why: &str| {
            D::Error::custom(format!(
                "invalid `cache` option: {why}; write `\"cache\": true` or `\"cache\": {{\"ttl\": \"30s\"}}`"
            ))
        };
        match Form::deserialize(d).map_err(|_| bad("expected true, false or an object"))? {
            Form::Flag(b) => Ok(b.then(ModelCache::new)),
            Form::Obj(m) => {
                if let Some(k) = m.keys().find(|k| *k != "ttl") {
                    return Err(bad(&format!("unknown key `{k}` (the only key is `ttl`)")));
                }
                match m.get("ttl") {
                    None => Ok(Some(ModelCache::new())),
                    Some(serde_json::Value::String(t)) => {
                        parse_ttl(t).map(|t| Some(ModelCache { ttl: Some(t) })).map_err(|e| bad(&e))
                    }
                    Some(other) => Err(bad(&format!("`ttl` must be a string such as \"30s\", got {other}"))),
                }
            }
        }
    }
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            soft_delete: false,
            native_arrays: false,
            multi_tenant: false,
            append_only: false,
            timestamps: true,
            read_only: false,
            forbid: Vec::new(),
            audit: false,
            cache: None,
        }
    }
}

/// A composite (or single-column) index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    /// Index name; derived (`idx_<table>_<cols>` / `uq_<table>_<cols>`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Field names, in index order.
    pub fields: Vec<String>,
    /// A unique index.
    #[serde(default)]
    pub unique: bool,
}

/// A model: its name, table, fields, options and indexes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSchema {
    /// The model's name (`User`). Node types are `<name><Op>Node`.
    pub name: String,
    /// The table name; derived from `name` when absent in JSON.
    #[serde(default)]
    pub table: String,
    /// User fields, `id` included, managed columns excluded.
    pub fields: Vec<FieldDef>,
    /// Options.
    #[serde(default)]
    pub options: ModelOptions,
    /// Model-level indexes.
    #[serde(default)]
    pub indexes: Vec<IndexDef>,
}

impl ModelSchema {
    /// A schema with the derived table name and default options.
    pub fn new(name: impl Into<String>, fields: Vec<FieldDef>) -> Self {
        let name = name.into();
        ModelSchema {
            table: naming::table_name(&name),
            name,
            fields,
            options: ModelOptions::default(),
            indexes: Vec::new(),
        }
    }

    /// Parses a schema from JSON and validates it.
    pub fn from_json(json: &serde_json::Value) -> Result<Self> {
        let mut s: ModelSchema = serde_json::from_value(json.clone()).map_err(|e| {
            Error::new(ErrorCode::INVALID_MODEL, format!("invalid model definition: {e}"))
                .fix("a model is {\"name\": \"User\", \"fields\": [{\"name\": \"id\", \"type\": \"string\"}, ...]}")
        })?;
        if s.table.is_empty() {
            s.table = naming::table_name(&s.name);
        }
        s.validate()?;
        Ok(s)
    }

    /// Looks a user field up by name.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Looks a user field up by name, or fails with DF-103 and a "did you mean".
    pub fn field_or_err(&self, name: &str) -> Result<&FieldDef> {
        self.field(name).ok_or_else(|| self.unknown_field(name))
    }

    /// The DF-103 error for an unknown field name, with the closest valid name.
    pub fn unknown_field(&self, name: &str) -> Error {
        let names =
            self.fields.iter().map(|f| f.name.as_str()).chain(self.managed_fields().into_iter().map(|m| m.column()));
        let mut e = Error::new(ErrorCode::UNKNOWN_FIELD, format!("model `{}` has no field `{name}`", self.name))
            .model(&self.name)
            .field(name);
        if let Some(c) = closest(name, names) {
            e = e.fix(format!("did you mean `{c}`?"));
        }
        let all: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        e.fix(format!("valid fields: {}", all.join(", ")))
    }

    /// The primary key field (`id`).
    pub fn id_field(&self) -> Option<&FieldDef> {
        self.field("id")
    }

    /// The managed columns this model has, in column order.
    pub fn managed_fields(&self) -> Vec<ManagedField> {
        let mut v = Vec::new();
        if self.options.multi_tenant {
            v.push(ManagedField::TenantId);
        }
        if self.options.timestamps {
            v.push(ManagedField::CreatedAt);
            v.push(ManagedField::UpdatedAt);
        }
        if self.options.soft_delete {
            v.push(ManagedField::DeletedAt);
        }
        v
    }

    /// All column definitions: user fields then managed columns.
    pub fn all_fields(&self) -> Vec<FieldDef> {
        let mut v = self.fields.clone();
        v.extend(self.managed_fields().into_iter().map(ManagedField::def));
        v
    }

    /// Looks up a user or managed field by name (for filters and ordering).
    pub fn any_field(&self, name: &str) -> Option<FieldDef> {
        self.field(name)
            .cloned()
            .or_else(|| self.managed_fields().into_iter().find(|m| m.column() == name).map(ManagedField::def))
    }

    /// Whether the named fields form a unique key (the primary key, a unique field, or a unique index).
    pub fn is_unique_key(&self, fields: &[&str]) -> bool {
        match fields {
            [] => false,
            [one] => *one == "id" || self.field(one).is_some_and(|f| f.unique),
            many => self.indexes.iter().any(|ix| {
                ix.unique && ix.fields.len() == many.len() && many.iter().all(|f| ix.fields.iter().any(|x| x == f))
            }),
        }
    }
}
