//! [`WorkflowBuilder`] collects nodes and connections; [`WorkflowBuilder::build`] validates
//! them and returns an immutable [`Workflow`].

use std::sync::Arc;

use dataflow_sql::Result;
use serde_json::Value as J;

use super::catalog::Catalog;
use super::spec::{Connection, InputSpec, NodeSpec, WorkflowSpec};
use super::validate::{self, Plan, ValidationMode};

/// Collects a workflow's nodes and connections.
///
/// ```
/// use dataflow_core::workflow::{Catalog, WorkflowBuilder};
/// use dataflow_sql::{FieldDef, FieldType, ModelSchema};
/// use serde_json::json;
///
/// let user = ModelSchema::new("User", vec![
///     FieldDef::new("id", FieldType::String),
///     FieldDef::new("name", FieldType::String),
/// ]);
/// let catalog = Catalog::from_schemas([user]).unwrap();
/// let mut b = WorkflowBuilder::with_catalog(catalog);
/// b.add_node("UserCreateNode", "create", json!({"id": "u1", "name": "Alice"}))
///     .add_node("UserReadNode", "read", json!({}))
///     .add_connection("create", "id", "read", "id");
/// let wf = b.build().unwrap();
/// assert_eq!(wf.execution_order(), ["create", "read"]);
/// ```
#[derive(Debug, Clone)]
pub struct WorkflowBuilder {
    catalog: Arc<Catalog>,
    spec: WorkflowSpec,
    mode: ValidationMode,
    /// `add_after` calls for nodes that were not added (reported by validation).
    dangling_after: Vec<(String, String)>,
}

impl WorkflowBuilder {
    /// A builder over the node types registered on a DataFlow instance (a snapshot taken now).
    pub fn new(db: &crate::DataFlow) -> WorkflowBuilder {
        Self::with_catalog(Catalog::from_db(db))
    }

    /// A builder over an explicit catalog (no database needed).
    pub fn with_catalog(catalog: impl Into<Arc<Catalog>>) -> WorkflowBuilder {
        WorkflowBuilder {
            catalog: catalog.into(),
            spec: WorkflowSpec::default(),
            mode: ValidationMode::FailFast,
            dangling_after: Vec::new(),
        }
    }

    /// A builder pre-filled from a spec (e.g. a loaded file).
    pub fn from_spec(catalog: impl Into<Arc<Catalog>>, spec: WorkflowSpec) -> WorkflowBuilder {
        WorkflowBuilder { catalog: catalog.into(), spec, mode: ValidationMode::FailFast, dangling_after: Vec::new() }
    }

    /// Names the workflow.
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.spec.name = Some(name.into());
        self
    }

    /// Adds a node of a registered type (`UserCreateNode`) with an id and static parameters
    /// (which may contain `${node.path}` templates).
    pub fn add_node(&mut self, node_type: impl Into<String>, id: impl Into<String>, params: J) -> &mut Self {
        self.spec.nodes.push(NodeSpec::new(node_type, id, params));
        self
    }

    /// Orders node `id` after node `before` (an ordering edge with no data): `id` starts only
    /// once `before` finished. `before` may be `switch.branch` to put `id` on a branch of a
    /// `SwitchNode`. `id` must have been added already (otherwise validation reports it).
    pub fn add_after(&mut self, id: &str, before: impl Into<String>) -> &mut Self {
        match self.spec.nodes.iter_mut().find(|n| n.id == id) {
            Some(n) => n.after.push(before.into()),
            None => self.dangling_after.push((id.to_owned(), before.into())),
        }
        self
    }

    /// Declares a workflow input (`${inputs.<name>}`), checked before anything runs.
    pub fn add_input(&mut self, input: InputSpec) -> &mut Self {
        self.spec.inputs.push(input);
        self
    }

    /// Connects `src`'s result at the dotted `src_output` path (`record.id`, `records.0.email`,
    /// `""` for the whole result) to parameter `dst_param` of `dst` (dotted: `filter.id`).
    pub fn add_connection(
        &mut self,
        src: impl Into<String>,
        src_output: impl Into<String>,
        dst: impl Into<String>,
        dst_param: impl Into<String>,
    ) -> &mut Self {
        self.spec.connections.push(Connection {
            from: src.into(),
            output: src_output.into(),
            to: dst.into(),
            param: dst_param.into(),
        });
        self
    }

    /// Fail-fast (default) or collect-all validation.
    pub fn validation(&mut self, mode: ValidationMode) -> &mut Self {
        self.mode = mode;
        self
    }

    /// Shorthand for `validation(ValidationMode::CollectAll)`.
    pub fn collect_all(&mut self) -> &mut Self {
        self.validation(ValidationMode::CollectAll)
    }

    /// The workflow as data.
    pub fn spec(&self) -> &WorkflowSpec {
        &self.spec
    }

    /// The catalog the workflow is validated against.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Every validation error, without building (empty when the workflow is valid).
    pub fn validate(&self) -> Vec<dataflow_sql::Error> {
        self.analyze().1
    }

    pub(crate) fn analyze(&self) -> (Plan, Vec<dataflow_sql::Error>) {
        let (plan, mut errors) = validate::analyze(&self.spec, &self.catalog);
        for (id, before) in &self.dangling_after {
            errors.insert(
                0,
                dataflow_sql::Error::new(
                    dataflow_sql::ErrorCode::CONNECTION_UNKNOWN_NODE,
                    format!("`add_after(\"{id}\", \"{before}\")` names node `{id}`, which is not in the workflow"),
                )
                .node(id.as_str())
                .fix("add the node with `add_node` before ordering it"),
            );
        }
        (plan, errors)
    }

    /// Validates everything (node types, parameters, connections, graph) and returns the
    /// immutable workflow, or the first error (fail-fast) / a DF-901 error holding all of them
    /// (collect-all).
    pub fn build(&self) -> Result<Workflow> {
        let (plan, errors) = self.analyze();
        validate::finish(errors, self.mode)?;
        Ok(Workflow { plan: Arc::new(plan), catalog: self.catalog.clone() })
    }
}

/// A validated, immutable workflow. Cheap to clone; run it with [`Workflow::execute`].
#[derive(Debug, Clone)]
pub struct Workflow {
    pub(crate) plan: Arc<Plan>,
    pub(crate) catalog: Arc<Catalog>,
}

impl Workflow {
    /// The workflow as data (for saving or printing).
    pub fn spec(&self) -> &WorkflowSpec {
        &self.plan.spec
    }

    /// The workflow's name, if any.
    pub fn name(&self) -> Option<&str> {
        self.plan.spec.name.as_deref()
    }

    /// The catalog it was validated against.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Node ids per execution level: nodes of one level run concurrently.
    pub fn levels(&self) -> Vec<Vec<String>> {
        self.plan.levels.iter().map(|l| self.plan.ids(l)).collect()
    }

    /// Node ids in execution order (level by level, insertion order within a level).
    pub fn execution_order(&self) -> Vec<String> {
        self.plan.levels.iter().flat_map(|l| self.plan.ids(l)).collect()
    }

    /// The Inspector over this workflow.
    pub fn inspect(&self) -> super::Inspector {
        super::Inspector::from_plan(self.plan.clone(), Vec::new())
    }
}
