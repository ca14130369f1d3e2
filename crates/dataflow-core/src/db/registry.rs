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
    /// Number of user fields at the start of `cols`.
    pub n_user: usize,
    /// The managed columns after the user fields in `cols` ([`ModelSchema::managed_fields`]).
    pub(crate) managed: Box<[dataflow_sql::ManagedField]>,
    /// Cached `SELECT ... WHERE id = ? [AND deleted_at IS NULL]` text (one bound value).
    pub(crate) read_by_id: OnceLock<Option<Arc<str>>>,
    /// Cached single-row `INSERT` text, indexed by whether `id` is written (`[generated, supplied]`);
    /// the values are re-bound per call (`dataflow_sql::stmt::insert_values`).
    pub(crate) insert_sql: [OnceLock<Arc<str>>; 2],
    /// Cached `UPDATE .. SET <every user field but id> .. WHERE id = ? [RETURNING ..]` text (the
    /// typed `update(&record)`), or `None` when its values could not be re-bound exactly.
    pub(crate) update_all_by_id: OnceLock<Option<Arc<str>>>,
    /// Cached `DELETE FROM .. WHERE id = ?` text (hard delete, one bound value).
    pub(crate) delete_by_id: OnceLock<Option<Arc<str>>>,
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
        ModelEntry {
            n_user: schema.fields.len(),
            managed: schema.managed_fields().into(),
            schema: Arc::new(schema),
            cols,
            read_by_id: OnceLock::new(),
            insert_sql: [OnceLock::new(), OnceLock::new()],
            update_all_by_id: OnceLock::new(),
            delete_by_id: OnceLock::new(),
            filter_shapes: Default::default(),
            origin,
            metric_keys: OnceLock::new(),
        }
    }

    /// The cached read-by-id statement text, when the statement has exactly one bound value.
    pub(crate) fn read_by_id_sql(&self, dialect: Dialect) -> Option<Arc<str>> {
        self.read_by_id
            .get_or_init(|| {
                let id_field = self.schema.id_field()?;
                let sample = sample_id(id_field);
                let s = dataflow_sql::stmt::select_by_id(
                    &self.schema,
                    dialect,
                    &sample,
                    dataflow_sql::stmt::Scope::default(),
                );
                (s.values.0.len() == 1).then(|| Arc::from(s.sql.as_str()))
            })
            .clone()
    }

    /// The cached hard-delete-by-id statement text (no tenant scope; soft-deleted rows included,
    /// as hard delete and delete on a model without soft delete need), when the statement has
    /// exactly one bound value.
    pub(crate) fn delete_by_id_sql(&self, dialect: Dialect) -> Option<Arc<str>> {
        self.delete_by_id
            .get_or_init(|| {
                let id_field = self.schema.id_field()?;
                let sample = sample_id(id_field);
                let cond = dataflow_sql::stmt::cond::eq(&self.schema, dialect, id_field, &sample);
                let scope = dataflow_sql::stmt::Scope { include_deleted: true, tenant: None, all_tenants: false };
                let s = dataflow_sql::stmt::delete(&self.schema, dialect, Some(cond), scope);
                (s.values.0.len() == 1).then(|| Arc::from(s.sql.as_str()))
            })
            .clone()
    }
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
