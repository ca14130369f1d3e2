//! The per-instance model registry: model name → schema (+ cached statement text), node type
//! name → (model, operation).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use dataflow_sql::error::closest as closest_model;
use dataflow_sql::{Dialect, Error, ErrorCode, FieldDef, ModelSchema, Operation, Result};

/// One registered model.
#[derive(Debug)]
pub struct ModelEntry {
    /// The validated schema.
    pub schema: Arc<ModelSchema>,
    /// Columns every full `SELECT` returns (user fields, then managed columns).
    pub cols: Arc<[FieldDef]>,
    /// `cols` without the managed `tenant_id` column: what a full `SELECT` of a reader scoped to
    /// one tenant returns (`dataflow_sql::stmt::select_columns_without_tenant`; the typed API
    /// takes the tenant from the scope). The same as `cols` for models that are not multi-tenant.
    pub(crate) cols_without_tenant: Arc<[FieldDef]>,
    /// Number of user fields at the start of `cols`.
    pub n_user: usize,
    /// The managed columns after the user fields in `cols` ([`ModelSchema::managed_fields`]).
    pub(crate) managed: Box<[dataflow_sql::ManagedField]>,
    /// Cached `SELECT ... WHERE id = ? [AND tenant_id = ?] [AND deleted_at IS NULL]` texts,
    /// indexed `[include_deleted][slot]`: slot 0 unscoped, 1 scoped, 2 scoped without the
    /// `tenant_id` column ([`ModelEntry::cols_without_tenant`]); the tenant is a bound value.
    pub(crate) read_by_id: [[OnceLock<Option<Arc<str>>>; 3]; 2],
    /// Cached single-row `INSERT` text, indexed by whether `id` is written (`[generated, supplied]`);
    /// the values are re-bound per call (`dataflow_sql::stmt::insert_values`).
    pub(crate) insert_sql: [OnceLock<Arc<str>>; 2],
    /// Cached `UPDATE .. SET <every user field but id> .. WHERE id = ? [AND tenant_id = ?]
    /// [RETURNING ..]` texts (the typed `update(&record)`), indexed by [`scope_slot`] (slot 2:
    /// scoped, `RETURNING` without `tenant_id`), or `None` when its values could not be
    /// re-bound exactly.
    pub(crate) update_all_by_id: [OnceLock<Option<Arc<str>>>; 3],
    /// Cached `DELETE FROM .. WHERE id = ? [AND tenant_id = ?]` texts (hard delete), indexed by
    /// [`scope_slot`].
    pub(crate) delete_by_id: [OnceLock<Option<Arc<str>>>; 2],
    /// Rendered WHERE fragments of the filter shapes seen on this model.
    pub(crate) filter_shapes: dataflow_sql::filter::ShapeCache,
    /// Address of the static schema of the typed model registered under this name.
    pub(crate) origin: Option<usize>,
    /// The operation metric keys of this model, built on its first operation.
    pub(crate) metric_keys: OnceLock<crate::observe::metrics::ModelKeys>,
}

impl ModelEntry {
    pub(crate) fn new(schema: ModelSchema, origin: Option<usize>) -> Self {
        let cols: Arc<[FieldDef]> = dataflow_sql::stmt::select_columns(&schema, None).into();
        let cols_without_tenant = if schema.options.multi_tenant {
            dataflow_sql::stmt::select_columns_without_tenant(&schema).into()
        } else {
            cols.clone()
        };
        ModelEntry {
            cols_without_tenant,
            n_user: schema.fields.len(),
            managed: schema.managed_fields().into(),
            schema: Arc::new(schema),
            cols,
            read_by_id: Default::default(),
            insert_sql: [OnceLock::new(), OnceLock::new()],
            update_all_by_id: Default::default(),
            delete_by_id: Default::default(),
            filter_shapes: Default::default(),
            origin,
            metric_keys: OnceLock::new(),
        }
    }

    /// The cached read-by-id statement text of a scope: bind the id, then the tenant when
    /// `tenant` is set ([`by_id_values`]). `None` when the rendered statement binds anything else
    /// (checked on the first render). Not for `all_tenants` scopes. `omit_tenant` (with a
    /// tenant): the text selects [`ModelEntry::cols_without_tenant`].
    pub(crate) fn read_by_id_sql(
        &self,
        dialect: Dialect,
        include_deleted: bool,
        tenant: Option<&str>,
        omit_tenant: bool,
    ) -> Option<Arc<str>> {
        let omit_tenant = omit_tenant && tenant.is_some();
        self.read_by_id[usize::from(include_deleted)][scope_slot(tenant) + usize::from(omit_tenant)]
            .get_or_init(|| {
                let id_field = self.schema.id_field()?;
                let sample = sample_id(id_field);
                let scope = sample_scope(include_deleted, tenant);
                let s = if omit_tenant {
                    dataflow_sql::stmt::select_by_id_without_tenant(&self.schema, dialect, &sample, scope)
                } else {
                    dataflow_sql::stmt::select_by_id(&self.schema, dialect, &sample, scope)
                };
                let want = by_id_values(sample.to_sea(id_field.ty, dialect, false), scope.tenant);
                (s.values == want).then(|| Arc::from(s.sql.as_str()))
            })
            .clone()
    }

    /// The cached hard-delete-by-id statement text of a scope (soft-deleted rows included, as
    /// hard delete and delete on a model without soft delete need): bind the id, then the tenant
    /// when `tenant` is set ([`by_id_values`]). `None` when the rendered statement binds anything
    /// else (checked on the first render).
    pub(crate) fn delete_by_id_sql(&self, dialect: Dialect, tenant: Option<&str>) -> Option<Arc<str>> {
        self.delete_by_id[scope_slot(tenant)]
            .get_or_init(|| {
                let id_field = self.schema.id_field()?;
                let sample = sample_id(id_field);
                let cond = dataflow_sql::stmt::cond::eq(&self.schema, dialect, id_field, &sample);
                let scope = sample_scope(true, tenant);
                let s = dataflow_sql::stmt::delete(&self.schema, dialect, Some(cond), scope);
                let want = by_id_values(sample.to_sea(id_field.ty, dialect, false), scope.tenant);
                (s.values == want).then(|| Arc::from(s.sql.as_str()))
            })
            .clone()
    }
}

/// The statement-cache slot of a scope: `0` without a tenant, `1` with one (the text binds the
/// tenant as a value, so one text serves every tenant; the tenant is never part of the text).
pub(crate) fn scope_slot(tenant: Option<&str>) -> usize {
    usize::from(tenant.is_some())
}

/// The bound values of a cached by-id statement: the id, then the tenant when scoped (the scope
/// predicates follow the caller's condition, `dataflow_sql::stmt::scope::where_clause`).
pub(crate) fn by_id_values(id: sea_query::Value, tenant: Option<&str>) -> sea_query::Values {
    let mut v = Vec::with_capacity(2);
    v.push(id);
    push_tenant(&mut v, tenant);
    sea_query::Values(v)
}

/// Appends the tenant of a scoped statement to its bound values (nothing without a tenant).
pub(crate) fn push_tenant(values: &mut Vec<sea_query::Value>, tenant: Option<&str>) {
    if let Some(t) = tenant {
        values.push(sea_query::Value::String(Some(t.to_owned())));
    }
}

/// The scope a cached text is rendered with: a sample tenant stands for every tenant.
fn sample_scope(include_deleted: bool, tenant: Option<&str>) -> dataflow_sql::stmt::Scope<'static> {
    dataflow_sql::stmt::Scope { include_deleted, tenant: tenant.map(|_| "sample-tenant"), all_tenants: false }
}

fn sample_id(f: &FieldDef) -> dataflow_sql::Value {
    use dataflow_sql::{FieldType, Value};
    match f.ty {
        FieldType::I32 => Value::I32(1),
        FieldType::I64 => Value::I64(1),
        FieldType::Uuid => Value::Uuid(uuid::Uuid::nil()),
        _ => Value::String(String::from("x")),
    }
}

/// Models and node types of one instance.
#[derive(Debug, Default)]
pub struct Registry {
    models: HashMap<String, Arc<ModelEntry>>,
    nodes: HashMap<String, (String, Operation)>,
}

impl Registry {
    /// Adds a model and its eleven node types; DF-603 if the name is taken.
    pub(crate) fn insert(&mut self, entry: ModelEntry) -> Result<Arc<ModelEntry>> {
        let name = entry.schema.name.clone();
        if self.models.contains_key(&name) {
            return Err(Self::duplicate(&name));
        }
        for op in Operation::ALL {
            self.nodes.insert(op.node_type_name(&name), (name.clone(), op));
        }
        let entry = Arc::new(entry);
        self.models.insert(name, entry.clone());
        Ok(entry)
    }

    /// The DF-603 error for a second model of the same name.
    pub(crate) fn duplicate(name: &str) -> Error {
        Error::new(
            ErrorCode::DUPLICATE_MODEL,
            format!("a model named `{name}` is already registered on this DataFlow instance"),
        )
        .model(name)
        .fix("register each model once per instance, or use a second `DataFlow` instance for a different schema")
    }

    /// Whether a model name is registered.
    pub fn contains(&self, model: &str) -> bool {
        self.models.contains_key(model)
    }

    /// Looks a model up, or DF-604 with a "did you mean".
    pub fn get(&self, model: &str) -> Result<Arc<ModelEntry>> {
        self.models.get(model).cloned().ok_or_else(|| {
            let mut e =
                Error::new(ErrorCode::UNKNOWN_MODEL, format!("model `{model}` is not registered on this instance"))
                    .model(model);
            if let Some(c) = closest_model(model, self.models.keys().map(String::as_str)) {
                e = e.fix(format!("did you mean `{c}`?"));
            }
            e.fix(format!(
                "register it first: `db.register::<{model}>().await?` or `db.register_schema(schema).await?`"
            ))
        })
    }

    /// The model and operation of a node type name (`UserCreateNode`).
    pub fn node(&self, node_type: &str) -> Option<(String, Operation)> {
        self.nodes.get(node_type).cloned()
    }

    /// All node type names, sorted.
    pub fn node_types(&self) -> Vec<String> {
        let mut v: Vec<String> = self.nodes.keys().cloned().collect();
        v.sort();
        v
    }

    /// All model names, sorted.
    pub fn models(&self) -> Vec<String> {
        let mut v: Vec<String> = self.models.keys().cloned().collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflow_sql::{FieldType, stmt::Scope};

    fn tenant_schema(id: FieldType) -> ModelSchema {
        let mut s = ModelSchema::new("Doc", vec![FieldDef::new("id", id), FieldDef::new("n", FieldType::I64)]);
        s.table = "docs".into();
        s.options.multi_tenant = true;
        s.options.soft_delete = true;
        s
    }

    /// The cached scoped texts bind the tenant (never spell it) and are what a fresh render with
    /// any tenant produces.
    #[test]
    fn scoped_texts_bind_the_tenant() {
        for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            for ty in [FieldType::String, FieldType::I64, FieldType::Uuid] {
                let e = ModelEntry::new(tenant_schema(ty), None);
                for include_deleted in [false, true] {
                    let sql = e.read_by_id_sql(d, include_deleted, Some("acme"), false).expect("cached read");
                    assert!(sql.contains("tenant_id") && !sql.contains("acme") && !sql.contains("sample"), "{sql}");
                    let id = sample_id(e.schema.id_field().unwrap());
                    let scope = Scope { include_deleted, tenant: Some("other"), all_tenants: false };
                    let fresh = dataflow_sql::stmt::select_by_id(&e.schema, d, &id, scope);
                    assert_eq!(&*sql, fresh.sql, "{d}");
                    assert_eq!(fresh.values.0.last(), Some(&sea_query::Value::String(Some("other".into()))));
                    // The slot of the other scope shape is another text.
                    let unscoped = e.read_by_id_sql(d, include_deleted, None, false).expect("cached unscoped read");
                    assert_ne!(unscoped, sql);
                    // Without the tenant column: its own text, the tenant still bound (never
                    // selected), as a fresh render; unscoped, `omit_tenant` changes nothing.
                    let lean = e.read_by_id_sql(d, include_deleted, Some("acme"), true).expect("cached lean read");
                    let fresh = dataflow_sql::stmt::select_by_id_without_tenant(&e.schema, d, &id, scope);
                    assert_eq!(&*lean, fresh.sql, "{d}");
                    assert_eq!(lean.matches("tenant_id").count(), 1, "only the predicate: {lean}");
                    assert_eq!(sql.matches("tenant_id").count(), 2, "column and predicate: {sql}");
                    assert_eq!(e.read_by_id_sql(d, include_deleted, None, true), Some(unscoped));
                }
                let del = e.delete_by_id_sql(d, Some("acme")).expect("cached delete");
                assert!(del.contains("tenant_id") && !del.contains("acme"), "{del}");
                assert_ne!(e.delete_by_id_sql(d, None).unwrap(), del);
            }
        }
    }

    /// The audit trail is scoped by its `tenant` field: `tenant = ?` with a tenant, `tenant IS
    /// NULL` without; both cached, neither spelling the tenant.
    #[test]
    fn audit_trail_texts_per_scope() {
        let e = ModelEntry::new(dataflow_sql::audit::schema(), None);
        let scoped = e.read_by_id_sql(Dialect::Postgres, false, Some("acme"), false).unwrap();
        let unscoped = e.read_by_id_sql(Dialect::Postgres, false, None, false).unwrap();
        assert!(scoped.contains(r#""tenant" = $2"#) && !scoped.contains("acme"), "{scoped}");
        assert!(unscoped.contains(r#""tenant" IS NULL"#), "{unscoped}");
    }
}
