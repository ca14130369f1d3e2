//! Build-time validation in four layers (docs/guide/workflows.md): node types and ids, parameters,
//! connections (and templates), and the workflow graph (cycles, unreachable nodes).
//!
//! [`analyze`] never stops early: it returns a [`Plan`] (what could be derived) and every
//! error in layer order. Fail-fast callers take the first error, collect-all callers all.

pub(crate) mod changes;
mod connections;
mod control;
pub(crate) mod inputs;
mod params;
mod workflow;

pub(crate) use params::example;

use std::collections::HashMap;

use dataflow_sql::{Error, ErrorCode};

use super::catalog::{Catalog, NodeInfo};
use super::graph::Graph;
use super::kind::Kind;
use super::spec::WorkflowSpec;
use super::template::{self, TemplateRef};

/// How `build()` reports validation errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValidationMode {
    /// Stop at the first error and return it.
    #[default]
    FailFast,
    /// Run every check and return all errors at once, wrapped in one DF-901 error.
    CollectAll,
}

/// How a value reaches a node parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// An explicit connection (index into the workflow's connections).
    Connection(usize),
    /// A `${node.path}` template inside the parameters.
    Template,
}

/// One data dependency: `from`'s result at `output` feeds `to`'s parameter `param`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Source node id.
    pub from: String,
    /// Dotted path into the source result.
    pub output: String,
    /// Target node id.
    pub to: String,
    /// Dotted parameter path on the target.
    pub param: String,
    /// Connection or template.
    pub via: Via,
}

/// An ordering edge (`after`, or a `MergeNode`'s `from`): `to` runs after `from`; with a
/// branch, only when the switch `from` took that branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    pub from: usize,
    pub to: usize,
    pub branch: Option<String>,
}

/// Everything derived from a workflow spec: node types, dependencies, levels.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub spec: WorkflowSpec,
    pub infos: Vec<Option<NodeInfo>>,
    pub kinds: Vec<Kind>,
    pub order: Vec<Order>,
    /// `(node, switch, branch)`: the node runs only when the switch took that branch.
    pub branch_deps: Vec<(usize, usize, String)>,
    /// `${inputs.name}` templates: (node index, reference).
    pub input_refs: Vec<(usize, TemplateRef)>,
    pub index: HashMap<String, usize>,
    pub templates: Vec<Vec<TemplateRef>>,
    pub edges: Vec<Edge>,
    pub graph: Graph,
    pub levels: Vec<Vec<usize>>,
    pub stuck: Vec<usize>,
    pub cycles: Vec<Vec<usize>>,
}

impl Plan {
    /// Node ids of a list of indexes.
    pub fn ids(&self, idx: &[usize]) -> Vec<String> {
        idx.iter().map(|&i| self.spec.nodes[i].id.clone()).collect()
    }
}

/// A node id: letters, digits, `_` and `-`, starting with a letter or `_` (no dots: they
/// separate the node from the path in templates).
fn valid_node_id(id: &str) -> bool {
    let mut cs = id.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Analyzes a spec against a catalog: the plan plus every validation error, in layer order.
pub(crate) fn analyze(spec: &WorkflowSpec, catalog: &Catalog) -> (Plan, Vec<Error>) {
    let mut errors = Vec::new();
    // Layer 0: node ids and node types.
    let mut index = HashMap::new();
    let mut infos = Vec::with_capacity(spec.nodes.len());
    let mut kinds = Vec::with_capacity(spec.nodes.len());
    for (i, n) in spec.nodes.iter().enumerate() {
        if !valid_node_id(&n.id) {
            errors.push(
                Error::new(ErrorCode::INVALID_NODE_PARAMS, format!("node id `{}` is not a valid node id", n.id))
                    .node(&n.id)
                    .fix("use letters, digits, `_` and `-`, starting with a letter (no dots), e.g. `create_user`"),
            );
        }
        if index.insert(n.id.clone(), i).is_some() {
            errors.push(
                Error::new(ErrorCode::DUPLICATE_NODE_ID, format!("node id `{}` is used more than once", n.id))
                    .node(&n.id)
                    .fix(format!("give each node its own id, e.g. `{}_2`", n.id)),
            );
            index.insert(n.id.clone(), index[&n.id].min(i));
        }
        if n.id == inputs::RESERVED {
            errors.push(
                Error::new(ErrorCode::INVALID_NODE_PARAMS, "node id `inputs` is reserved for the workflow's inputs")
                    .node(&n.id)
                    .fix("rename the node, e.g. `read_inputs`; `${inputs.name}` refers to a workflow input"),
            );
        }
        let kind = if let Some(info) = catalog.get(&n.node_type) {
            Kind::Model(info.clone())
        } else if let Some(c) = catalog.code_node(&n.node_type) {
            Kind::Code(c.clone())
        } else {
            match n.node_type.as_str() {
                "SwitchNode" => Kind::Switch(None),
                "MergeNode" => Kind::Merge(Vec::new()),
                "ScriptNode" => Kind::Script(None),
                _ => {
                    if let Err(e) = catalog.get_or_err(&n.node_type) {
                        errors.push(e.node(&n.id));
                    }
                    Kind::Unknown
                }
            }
        };
        infos.push(kind.model().cloned());
        kinds.push(kind);
    }
    let mut templates = Vec::with_capacity(spec.nodes.len());
    let mut input_refs = Vec::new();
    for (i, n) in spec.nodes.iter().enumerate() {
        match template::references(&n.id, &n.params) {
            Ok(t) => {
                let (ins, refs): (Vec<_>, Vec<_>) = t.into_iter().partition(|r| r.node == inputs::RESERVED);
                input_refs.extend(ins.into_iter().map(|r| (i, r)));
                templates.push(refs);
            }
            Err(e) => {
                errors.push(e);
                templates.push(Vec::new());
            }
        }
    }
    inputs::check_declarations(spec, &mut errors);
    let mut plan = Plan {
        spec: spec.clone(),
        infos,
        kinds,
        order: Vec::new(),
        branch_deps: Vec::new(),
        input_refs,
        index,
        templates,
        edges: Vec::new(),
        graph: Graph::default(),
        levels: Vec::new(),
        stuck: Vec::new(),
        cycles: Vec::new(),
    };
    // Edges first (the parameter layer needs to know what connections supply).
    let edge_errors = connections::collect_edges(&mut plan);
    // Layer 1: parameters.
    for i in 0..plan.spec.nodes.len() {
        let n = &plan.spec.nodes[i];
        let supplied: Vec<&str> = plan
            .edges
            .iter()
            .filter(|e| e.to == n.id)
            .map(|e| e.param.as_str())
            .chain(plan.input_refs.iter().filter(|(t, _)| *t == i).map(|(_, r)| r.param.as_str()))
            .collect();
        let resolved = match &plan.kinds[i] {
            Kind::Model(info) => {
                params::check_node(n, info, &supplied, &mut errors);
                // Write protection known before running (instance, model, operation; the write
                // window and read-only fields are checked when the node runs).
                let p = catalog.protection.clone().unwrap_or_default();
                if let Err(e) = p.check_static(&info.schema, info.op.name()) {
                    errors.push(e.node(&n.id));
                }
                None
            }
            Kind::Code(c) => {
                control::code(n, c, &supplied, &mut errors);
                None
            }
            Kind::Switch(_) => Some(Kind::Switch(control::switch(n, &supplied, &mut errors))),
            Kind::Merge(_) => Some(Kind::Merge(control::merge(n, &plan.index, &mut errors))),
            Kind::Script(_) => Some(Kind::Script(control::script(n, &mut errors))),
            Kind::Unknown => None,
        };
        if let Some(k) = resolved {
            plan.kinds[i] = k;
        }
    }
    // Ordering edges: `after` and merges.
    for i in 0..plan.spec.nodes.len() {
        for (from, branch) in control::after(&plan.spec.nodes[i], i, &plan.index, &plan.kinds, &mut errors) {
            plan.order.push(Order { from, to: i, branch });
        }
        if let Kind::Merge(from) = &plan.kinds[i] {
            let more: Vec<Order> = from.iter().map(|&f| Order { from: f, to: i, branch: None }).collect();
            plan.order.extend(more);
        }
    }
    // Layer 2: connections and templates.
    errors.extend(edge_errors);
    connections::check(&plan, &mut errors);
    inputs::check_refs(&plan, &mut errors);
    connections::branches(&mut plan);
    // Layer 3: the graph.
    workflow::check(&mut plan, &mut errors);
    (plan, errors)
}

/// Turns analysis errors into the `build()` result for a mode.
pub(crate) fn finish(errors: Vec<Error>, mode: ValidationMode) -> dataflow_sql::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    match mode {
        ValidationMode::FailFast => Err(errors.into_iter().next().unwrap_or_else(|| Error::collected(Vec::new()))),
        ValidationMode::CollectAll => Err(Error::collected(errors)),
    }
}
