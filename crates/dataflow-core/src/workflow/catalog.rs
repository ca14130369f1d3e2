//! The node types a workflow can use: node type name → (model schema, operation).
//!
//! A [`Catalog`] is a snapshot of a [`crate::DataFlow`] instance's registry
//! ([`Catalog::from_db`]) or is built from schemas directly ([`Catalog::from_schemas`]), so
//! workflows can be validated and inspected without a database.

use std::collections::BTreeMap;
use std::sync::Arc;

use dataflow_sql::error::closest;
use dataflow_sql::{Error, ErrorCode, ModelSchema, Operation, Result};

/// What a node type does: the model it works on and the operation.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// The model's schema.
    pub schema: Arc<ModelSchema>,
    /// The operation.
    pub op: Operation,
}

/// The node types known to a workflow, by name (`UserCreateNode`).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    nodes: BTreeMap<String, NodeInfo>,
    /// Code nodes by name (see `workflow::code`).
    pub(crate) code: BTreeMap<String, super::code::CodeNodeRef>,
    /// The instance's write protection, when the catalog comes from an instance: model nodes
    /// it refuses are reported at validation (DF-609).
    pub(crate) protection: Option<crate::protect::Protection>,
}

impl Catalog {
    /// A catalog with the eleven node types of each schema (schemas are validated).
    pub fn from_schemas(schemas: impl IntoIterator<Item = ModelSchema>) -> Result<Catalog> {
        let mut c = Catalog::default();
        for s in schemas {
            s.validate()?;
            c.add_model(Arc::new(s));
        }
        Ok(c)
    }

    /// Validates workflows against this write protection too (DF-609 for a node whose model or
    /// operation it refuses), as a catalog taken from an instance does.
    pub fn with_protection(mut self, protection: crate::protect::Protection) -> Self {
        self.protection = Some(protection);
        self
    }

    /// Adds the eleven node types of a model (replacing node types of the same name).
    pub fn add_model(&mut self, schema: Arc<ModelSchema>) {
        for op in Operation::ALL {
            self.nodes.insert(op.node_type_name(&schema.name), NodeInfo { schema: schema.clone(), op });
        }
    }

    /// Looks a node type up.
    pub fn get(&self, node_type: &str) -> Option<&NodeInfo> {
        self.nodes.get(node_type)
    }

    /// Every model node type name, sorted.
    pub fn node_types(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// Every node type a workflow can use: model node types, code nodes, and the built-in
    /// `SwitchNode`, `MergeNode` and `ScriptNode`.
    pub fn all_node_types(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.node_types().chain(self.code.keys().map(String::as_str)).collect();
        v.extend(super::code::BUILTIN);
        v.sort_unstable();
        v
    }

    /// Looks a node type up, or fails with DF-701 naming the closest registered types.
    pub fn get_or_err(&self, node_type: &str) -> Result<&NodeInfo> {
        self.get(node_type).ok_or_else(|| self.unknown(node_type))
    }

    fn unknown(&self, node_type: &str) -> Error {
        let mut e = Error::new(ErrorCode::UNKNOWN_NODE_TYPE, format!("node type `{node_type}` is not registered"));
        let mut suggestions: Vec<&str> = Vec::new();
        if let Some(c) = closest(node_type, self.all_node_types()) {
            suggestions.push(c);
        }
        // Same model, other operations; or same operation, other models.
        if let Some((model, op)) = Operation::parse_node_type(node_type)
            && let Some(m) = closest(model, self.nodes.values().map(|i| i.schema.name.as_str()))
            && let Some((k, _)) = self.nodes.get_key_value(&op.node_type_name(m))
            && !suggestions.contains(&k.as_str())
        {
            suggestions.push(k);
        }
        if suggestions.is_empty() {
            let mut near: Vec<(usize, &str)> = self
                .node_types()
                .map(|n| (common_prefix(&n.to_lowercase(), &node_type.to_lowercase()), n))
                .filter(|(p, _)| *p >= 3)
                .collect();
            near.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
            suggestions.extend(near.into_iter().take(3).map(|(_, n)| n));
        }
        if !suggestions.is_empty() {
            let list: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
            e = e.fix(format!("did you mean {}?", list.join(" or ")));
        }
        let models: Vec<&str> = {
            let mut m: Vec<&str> = self.nodes.values().map(|i| i.schema.name.as_str()).collect();
            m.dedup();
            m
        };
        if !self.code.is_empty() {
            let names: Vec<&str> = self.code.keys().map(String::as_str).collect();
            e = e.fix(format!("code nodes on this catalog: {}", names.join(", ")));
        }
        if models.is_empty() {
            e.fix("no models are registered: call `db.register::<Model>()` before building the workflow")
        } else {
            e.fix(format!(
                "node types are `<Model><Operation>Node` for registered models ({}) and operations Create, Read, Update, Delete, List, Count, Upsert, BulkCreate, BulkUpdate, BulkDelete, BulkUpsert",
                models.join(", ")
            ))
        }
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}
