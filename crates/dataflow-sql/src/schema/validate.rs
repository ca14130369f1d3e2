//! [`ModelSchema::validate`] and [`ModelSchema::validate_for`]: the checks a schema passes
//! before any DDL or statement is built. Defaults are checked by converting them to a
//! [`Value`], so this file depends on `value` (and `value` only on the schema types).

use super::{FieldDef, FieldType, ManagedField, ModelSchema};
use crate::error::{Error, ErrorCode, Result};
use crate::value::Value;
use crate::{Dialect, naming};

impl ModelSchema {
    /// Validates the schema: `id` present with a key type, identifiers valid, no reserved or
    /// duplicate names, options consistent, defaults fit their fields.
    pub fn validate(&self) -> Result<()> {
        let model = &self.name;
        naming::validate_identifier(&self.name, "model name").map_err(|e| e.or_model(model))?;
        naming::validate_identifier(&self.table, "table name").map_err(|e| e.or_model(model))?;
        let Some(id) = self.id_field() else {
            let mut e = Error::new(ErrorCode::INVALID_MODEL, format!("model `{model}` has no primary key field `id`"))
                .model(model);
            if let Some(k) = self.fields.iter().find(|f| f.name.ends_with("_id") || f.name.ends_with("Id")) {
                e = e.field(&k.name).fix(format!("the primary key must be named `id`; rename `{}` to `id`", k.name));
            } else {
                e = e.fix("add a field {\"name\": \"id\", \"type\": \"string\"} (or i32, i64, uuid)");
            }
            return Err(e);
        };
        if !id.ty.can_be_id() || id.nullable {
            return Err(Error::new(
                ErrorCode::INVALID_MODEL,
                format!("`id` of model `{model}` has type {}{}; the primary key must be String, i32, i64 or Uuid and not nullable", id.ty.rust_name(), if id.nullable { " (nullable)" } else { "" }),
            )
            .model(model)
            .field("id")
            .fix("declare `id` as String, i32, i64 or Uuid"));
        }
        let mut seen_cols = std::collections::HashSet::new();
        let mut seen_names = std::collections::HashSet::new();
        let managed: Vec<ManagedField> =
            [ManagedField::CreatedAt, ManagedField::UpdatedAt, ManagedField::DeletedAt, ManagedField::TenantId].into();
        for f in &self.fields {
            naming::validate_identifier(&f.name, "field name").map_err(|e| e.or_model(model))?;
            naming::validate_identifier(f.column(), "column name").map_err(|e| e.or_model(model))?;
            if let Some(m) = managed.iter().find(|m| m.column() == f.name || m.column() == f.column())
                && (self.managed_fields().contains(m) || *m != ManagedField::DeletedAt)
            {
                return Err(Error::new(
                    ErrorCode::INVALID_MODEL,
                    format!("`{}` is managed by DataFlow and cannot be declared", m.column()),
                )
                .model(model)
                .field(&f.name)
                .fix(format!("remove the field `{}`: DataFlow adds and maintains it", m.column())));
            }
            if !seen_names.insert(f.name.as_str()) {
                return Err(Error::new(ErrorCode::INVALID_MODEL, format!("field `{}` is declared twice", f.name))
                    .model(model)
                    .field(&f.name)
                    .fix("give each field a distinct name"));
            }
            if !seen_cols.insert(f.column().to_ascii_lowercase()) {
                return Err(Error::new(
                    ErrorCode::INVALID_MODEL,
                    format!("column `{}` is used by two fields", f.column()),
                )
                .model(model)
                .field(&f.name)
                .fix("give each field a distinct `column`"));
            }
            if let Some(d) = &f.default {
                Value::from_json(d, f).map_err(|e| {
                    Error::new(
                        ErrorCode::INVALID_MODEL,
                        format!("default of field `{}` does not fit its type: {}", f.name, e.message()),
                    )
                    .model(model)
                    .field(&f.name)
                    .fix(format!("use {} as the default", f.ty.expected()))
                })?;
            }
            if f.max_len.is_some() && f.ty != FieldType::String {
                return Err(Error::new(
                    ErrorCode::INVALID_MODEL,
                    format!("`max_len` applies to String fields; `{}` is {}", f.name, f.ty.rust_name()),
                )
                .model(model)
                .field(&f.name)
                .fix("remove `max_len`"));
            }
        }
        if self.options.append_only && self.options.soft_delete {
            return Err(Error::new(
                ErrorCode::CONFLICTING_OPTIONS,
                format!(
                    "model `{model}` is both `append_only` and `soft_delete`; an append-only model cannot be deleted"
                ),
            )
            .model(model)
            .fix("remove one of `append_only` and `soft_delete`"));
        }
        if let Some(op) = self.options.forbid.iter().find(|o| !o.writes()) {
            return Err(Error::new(
                ErrorCode::INVALID_MODEL,
                format!("model `{model}` forbids {}, which does not write; `forbid` lists write operations", op.name()),
            )
            .model(model)
            .operator(op.name())
            .fix("forbid write operations only: Create, Update, Delete, Upsert, BulkCreate, BulkUpdate, BulkDelete, BulkUpsert")
            .fix("to refuse every write, mark the model `read_only`"));
        }
        if self.options.cache.and_then(|c| c.ttl).is_some_and(|t| t.is_zero()) {
            return Err(Error::new(
                ErrorCode::INVALID_MODEL,
                format!("model `{model}` has a query-cache TTL of zero: nothing would ever be served from the cache"),
            )
            .model(model)
            .fix("give a TTL greater than zero (`\"cache\": {\"ttl\": \"30s\"}`), or `\"cache\": true` for the instance's TTL"));
        }
        for ix in &self.indexes {
            if ix.fields.is_empty() {
                return Err(Error::new(ErrorCode::INVALID_MODEL, "an index needs at least one field")
                    .model(model)
                    .fix("indexes([\"email\"])"));
            }
            for f in &ix.fields {
                if self.any_field(f).is_none() {
                    return Err(self.unknown_field(f));
                }
            }
            if let Some(n) = &ix.name {
                naming::validate_identifier(n, "index name").map_err(|e| e.or_model(model))?;
            }
        }
        Ok(())
    }

    /// Checks options that depend on the backend (e.g. `native_arrays` is PostgreSQL only).
    pub fn validate_for(&self, dialect: Dialect) -> Result<()> {
        if self.options.native_arrays && dialect != Dialect::Postgres {
            return Err(Error::new(
                ErrorCode::UNSUPPORTED_ON_BACKEND,
                format!(
                    "model `{}` uses `native_arrays`, which only PostgreSQL supports (this is {dialect})",
                    self.name
                ),
            )
            .model(&self.name)
            .fix("remove `native_arrays`: arrays are stored as JSON on MySQL/MariaDB and SQLite"));
        }
        let max = dialect.max_identifier_len();
        for name in std::iter::once(self.table.as_str()).chain(self.fields.iter().map(FieldDef::column)) {
            if name.len() > max {
                return Err(Error::new(
                    ErrorCode::INVALID_IDENTIFIER,
                    format!("identifier `{name}` is {} bytes; {dialect} allows {max}", name.len()),
                )
                .model(&self.name)
                .fix("choose a shorter name with `table = \"...\"` or `column = \"...\"`"));
            }
        }
        Ok(())
    }
}
