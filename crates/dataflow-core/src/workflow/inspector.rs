//! The Inspector: reads a workflow (built or not) without executing it — connections,
//! parameter tracing, broken connections, cycles, execution order and a readable summary.

use std::fmt::Write as _;
use std::sync::Arc;

use dataflow_sql::{Error, ErrorCode, Operation};
use serde_json::Value as J;

use super::builder::{Workflow, WorkflowBuilder};
use super::spec::{Connection, get_path};
use super::validate::{Edge, Plan, Via};

/// One step of a parameter's trace, from the parameter back toward its origin.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceStep {
    /// The value comes from another node's result (`via` a connection or a template).
    FromNode {
        /// The consuming node.
        node: String,
        /// The consuming parameter.
        param: String,
        /// The producing node.
        from: String,
        /// The path in the producer's result.
        output: String,
        /// `"connection"` or `"template"`.
        via: &'static str,
    },
    /// The value is set statically in a node's params.
    Static {
        /// The node.
        node: String,
        /// The parameter.
        param: String,
        /// The value.
        value: J,
    },
    /// The value is computed by the database (generated id, timestamps, counts).
    Computed {
        /// The node whose operation produces it.
        node: String,
        /// The node type.
        node_type: String,
        /// The path in its result.
        output: String,
    },
    /// Nothing supplies the parameter (the operation's default applies).
    Unset {
        /// The node.
        node: String,
        /// The parameter.
        param: String,
    },
}

/// Reads a workflow without executing it.
#[derive(Debug, Clone)]
pub struct Inspector {
    plan: Arc<Plan>,
    errors: Arc<Vec<Error>>,
}

impl Inspector {
    /// Inspects a built workflow.
    pub fn new(workflow: &Workflow) -> Inspector {
        workflow.inspect()
    }

    /// Inspects a builder (possibly invalid): the analysis runs, nothing is built or executed.
    pub fn of_builder(builder: &WorkflowBuilder) -> Inspector {
        let (plan, errors) = builder.analyze();
        Inspector::from_plan(Arc::new(plan), errors)
    }

    pub(crate) fn from_plan(plan: Arc<Plan>, errors: Vec<Error>) -> Inspector {
        Inspector { plan, errors: Arc::new(errors) }
    }

    /// Every data dependency: explicit connections, then templates, in declaration order.
    pub fn connections(&self) -> Vec<Edge> {
        let mut v = self.plan.edges.clone();
        v.sort_by_key(|e| matches!(e.via, Via::Template));
        v
    }

    /// Traces a node parameter back to its origin: through connections and templates, and
    /// through Create/Update/Upsert nodes whose output field came from their own input.
    pub fn trace_parameter(&self, node: &str, param: &str) -> Vec<TraceStep> {
        let mut steps = Vec::new();
        let (mut node, mut param) = (node.to_owned(), param.to_owned());
        for _ in 0..=self.plan.spec.nodes.len() {
            let Some(&i) = self.plan.index.get(&node) else { break };
            let edge = self
                .plan
                .edges
                .iter()
                .find(|e| e.to == node && (e.param == param || param.starts_with(&format!("{}.", e.param))));
            let Some(e) = edge else {
                match get_path(&self.plan.spec.nodes[i].params, &param) {
                    Some(v) => steps.push(TraceStep::Static { node, param, value: v.clone() }),
                    None => steps.push(TraceStep::Unset { node, param }),
                }
                break;
            };
            let rest = param.strip_prefix(&e.param).unwrap_or("").trim_start_matches('.');
            let output =
                [e.output.as_str(), rest].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(".");
            steps.push(TraceStep::FromNode {
                node: node.clone(),
                param: param.clone(),
                from: e.from.clone(),
                output: output.clone(),
                via: if e.via == Via::Template { "template" } else { "connection" },
            });
            let src = self.plan.index[&e.from];
            let Some(info) = &self.plan.infos[src] else { break };
            // Which input of the producer this output echoes, if any.
            let is_field = |f: &str| info.schema.field(f).is_some();
            let echoed: Vec<String> = match info.op {
                Operation::Create if is_field(&output) => vec![output.clone()],
                Operation::Read if output == "id" => vec!["id".to_owned()],
                Operation::Update if output == "id" => vec!["filter.id".to_owned()],
                Operation::Update if is_field(&output) => vec![format!("fields.{output}")],
                Operation::Upsert => match output.strip_prefix("record.") {
                    Some(f) if is_field(f) => vec![format!("update.{f}"), format!("create.{f}"), format!("where.{f}")],
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            let echoed = echoed.into_iter().find(|p| self.supplies(src, p));
            match echoed {
                Some(p) => {
                    node = e.from.clone();
                    param = p;
                }
                _ => {
                    steps.push(TraceStep::Computed {
                        node: e.from.clone(),
                        node_type: self.plan.spec.nodes[src].node_type.clone(),
                        output,
                    });
                    break;
                }
            }
        }
        steps
    }

    fn supplies(&self, i: usize, param: &str) -> bool {
        let id = &self.plan.spec.nodes[i].id;
        get_path(&self.plan.spec.nodes[i].params, param).is_some()
            || self
                .plan
                .edges
                .iter()
                .any(|e| &e.to == id && (e.param == param || param.starts_with(&format!("{}.", e.param))))
    }

    /// Connection-layer problems (DF-2xx, DF-806) found by validation; empty for a built workflow.
    pub fn validate_connections(&self) -> Vec<&Error> {
        self.errors
            .iter()
            .filter(|e| (200..300).contains(&e.code().number()) || e.code() == ErrorCode::TEMPLATE)
            .collect()
    }

    /// The explicit connections that are broken, each with its error.
    pub fn find_broken_connections(&self) -> Vec<(&Connection, &Error)> {
        let mut out = Vec::new();
        for c in &self.plan.spec.connections {
            let tag = format!("`{c}`");
            if let Some(e) = self.validate_connections().into_iter().find(|e| e.message().contains(&tag)) {
                out.push((c, e));
            }
        }
        out
    }

    /// Every cycle, as node ids in order (`[a, b, c]` means a → b → c → a).
    pub fn detect_cycles(&self) -> Vec<Vec<String>> {
        self.plan.cycles.iter().map(|c| self.plan.ids(c)).collect()
    }

    /// Node ids per level.
    pub fn levels(&self) -> Vec<Vec<String>> {
        self.plan.levels.iter().map(|l| self.plan.ids(l)).collect()
    }

    /// Node ids in execution order.
    pub fn execution_order(&self) -> Vec<String> {
        self.levels().into_iter().flatten().collect()
    }

    /// Every validation error (empty for a built workflow).
    pub fn errors(&self) -> &[Error] {
        &self.errors
    }

    /// A readable summary: nodes with their level and type, connections, levels, cycles, problems.
    pub fn show(&self) -> String {
        let p = &self.plan;
        let mut s = String::new();
        let name = p.spec.name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default();
        let _ = writeln!(
            s,
            "workflow{name}: {} nodes, {} connections, {} templates, {} levels",
            p.spec.nodes.len(),
            p.spec.connections.len(),
            p.edges.iter().filter(|e| e.via == Via::Template).count(),
            p.levels.len()
        );
        let level_of = |i: usize| p.levels.iter().position(|l| l.contains(&i));
        let width = p.spec.nodes.iter().map(|n| n.id.len()).max().unwrap_or(0);
        s.push_str("nodes:\n");
        for (i, n) in p.spec.nodes.iter().enumerate() {
            let lvl = level_of(i).map_or("L-".to_owned(), |l| format!("L{l}"));
            let params = if n.params.as_object().is_some_and(|m| m.is_empty()) {
                String::new()
            } else {
                format!(" {}", n.params)
            };
            let _ = writeln!(s, "  [{lvl}] {:width$}  {}{params}", n.id, n.node_type);
        }
        if !p.edges.is_empty() {
            s.push_str("connections:\n");
            for e in self.connections() {
                let out = if e.output.is_empty() { String::new() } else { format!(".{}", e.output) };
                let via = if e.via == Via::Template { "  (template)" } else { "" };
                let _ = writeln!(s, "  {}{out} -> {}.{}{via}", e.from, e.to, e.param);
            }
        }
        s.push_str("execution order:\n");
        for (l, ids) in self.levels().iter().enumerate() {
            let _ = writeln!(s, "  level {l}: {}", ids.join(", "));
        }
        for c in self.detect_cycles() {
            let _ = writeln!(s, "cycle: {} -> {}", c.join(" -> "), c[0]);
        }
        if !self.errors.is_empty() {
            let _ = writeln!(s, "problems ({}):", self.errors.len());
            for e in self.errors.iter() {
                let _ = writeln!(s, "  {}", e.to_string().lines().next().unwrap_or(""));
            }
        }
        s
    }
}
