//! Executing a workflow: level by level, independent nodes of a level concurrently, each model
//! node through the same dynamic operation entry point as Express ([`crate::Express::run`]),
//! code nodes, scripts and control nodes in between.
//!
//! Inputs are checked (DF-808) before any node runs. A node whose predecessor failed is
//! skipped, and so is a node on a switch branch that was not taken (and everything that
//! depends on it, except a `MergeNode` that has another source that ran).
//!
//! Inside a transaction ([`Workflow::execute_in_transaction`]) the nodes of a level run one
//! after another: a transaction is one connection, and one connection runs one statement at a
//! time. Any failure rolls the whole transaction back.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dataflow_sql::{Error, ErrorCode, Result};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value as J};
use tracing::Instrument;

use super::builder::Workflow;
use super::kind::Kind;
use super::spec::{InputSpec, get_path, set_path};
use super::template;
use super::validate::{Plan, Via, inputs};
use crate::{DataFlow, Express};

fn node_span(db: &DataFlow, plan: &super::validate::Plan, i: usize, level: usize) -> tracing::Span {
    let n = &plan.spec.nodes[i];
    crate::observe::trace::node_span(db, &n.id, &n.node_type, level)
}

/// When and how long one node ran, relative to the start of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTiming {
    /// The node id.
    pub node: String,
    /// Its execution level.
    pub level: usize,
    /// Start, measured from the start of the run.
    pub started: Duration,
    /// How long it took.
    pub elapsed: Duration,
}

impl NodeTiming {
    /// End, measured from the start of the run.
    pub fn finished(&self) -> Duration {
        self.started + self.elapsed
    }
}

/// The results of a run: node id → JSON result, in execution order.
#[derive(Debug, Clone, Default)]
pub struct WorkflowOutput {
    /// Node id → the node's result (shapes of docs/guide/operations.md).
    pub results: Map<String, J>,
    /// Per-node timings, in completion order within each level.
    pub timings: Vec<NodeTiming>,
    /// Nodes that did not run because they are on a switch branch that was not taken (or
    /// depend on such a node), in workflow order.
    pub skipped: Vec<String>,
}

impl WorkflowOutput {
    /// The result of one node.
    pub fn get(&self, node: &str) -> Option<&J> {
        self.results.get(node)
    }

    /// The timing of one node.
    pub fn timing(&self, node: &str) -> Option<&NodeTiming> {
        self.timings.iter().find(|t| t.node == node)
    }
}

impl std::ops::Index<&str> for WorkflowOutput {
    type Output = J;
    fn index(&self, node: &str) -> &J {
        self.results.get(node).unwrap_or(&J::Null)
    }
}

/// A failed run (DF-803): which node failed and why, what completed before, what was skipped.
#[derive(Debug)]
pub struct WorkflowFailure {
    /// The first failing node (in workflow order).
    pub node: String,
    /// Its node type.
    pub node_type: String,
    /// Why it failed (the operation's own error, e.g. DF-501).
    pub cause: Error,
    /// Other nodes that failed in the same level.
    pub also_failed: Vec<(String, Error)>,
    /// Results of the nodes that completed. In a transaction they were rolled back.
    pub partial: WorkflowOutput,
    /// Nodes that did not run: a node they depend on failed, they are on a switch branch that
    /// was not taken, or the transaction ended. In workflow order.
    pub skipped: Vec<String>,
    /// Whether the run was transactional (and so rolled back).
    pub rolled_back: bool,
}

impl WorkflowFailure {
    /// The error code of the failure: always DF-803.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::WORKFLOW_NODE_FAILED
    }
}

impl std::fmt::Display for WorkflowFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let done: Vec<&str> = self.partial.results.keys().map(String::as_str).collect();
        if self.node.is_empty() {
            write!(f, "[{}] workflow did not start: {}", self.code(), self.cause.to_string().replace('\n', "\n  "))?;
        } else {
            write!(
                f,
                "[{}] workflow node `{}` ({}) failed: {}",
                self.code(),
                self.node,
                self.node_type,
                self.cause.to_string().replace('\n', "\n  ")
            )?;
        }
        write!(f, "\n  completed: {}", if done.is_empty() { "none".into() } else { done.join(", ") })?;
        if self.rolled_back {
            write!(f, " (rolled back)")?;
        }
        write!(f, "\n  skipped: {}", if self.skipped.is_empty() { "none".into() } else { self.skipped.join(", ") })?;
        for (n, e) in &self.also_failed {
            write!(f, "\n  also failed: `{n}`: {}", e.message())?;
        }
        Ok(())
    }
}

impl std::error::Error for WorkflowFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

impl From<WorkflowFailure> for Error {
    fn from(f: WorkflowFailure) -> Error {
        let msg = if f.node.is_empty() {
            format!("workflow did not start: {}", f.cause.message())
        } else {
            format!("workflow node `{}` ({}) failed: {}", f.node, f.node_type, f.cause.message())
        };
        let mut e = Error::new(ErrorCode::WORKFLOW_NODE_FAILED, msg);
        if !f.node.is_empty() {
            e = e.node(&f.node);
        }
        if let Some(m) = &f.cause.context().model {
            e = e.model(m);
        }
        for fix in f.cause.fixes() {
            e = e.fix(fix.clone());
        }
        e.fix("the partial results are on `WorkflowFailure::partial`").with_source(f.cause)
    }
}

/// The parameters of node `i`: static params, templates resolved, connections applied.
fn node_params(plan: &Plan, i: usize, results: &Map<String, J>, inputs: &Map<String, J>) -> Result<J> {
    let n = &plan.spec.nodes[i];
    let lookup = |node: &str, path: &str| {
        if node == inputs::RESERVED {
            let (name, rest) = path.split_once('.').unwrap_or((path, ""));
            return inputs.get(name).and_then(|v| get_path(v, rest)).cloned();
        }
        results.get(node).and_then(|r| get_path(r, path)).cloned()
    };
    let has_templates = !plan.templates[i].is_empty() || plan.input_refs.iter().any(|(t, _)| *t == i);
    let mut params = if has_templates { template::resolve(&n.id, &n.params, &lookup)? } else { n.params.clone() };
    for e in plan.edges.iter().filter(|e| e.to == n.id && matches!(e.via, Via::Connection(_))) {
        let v = lookup(&e.from, &e.output).ok_or_else(|| {
            let out = if e.output.is_empty() { "the result".to_owned() } else { format!("`{}`", e.output) };
            Error::new(
                ErrorCode::CONNECTION_BAD_OUTPUT,
                format!("{out} of node `{}` has no value for parameter `{}` of `{}`", e.from, e.param, n.id),
            )
            .node(&n.id)
            .field(&e.param)
            .fix(format!("check the result of `{}` (an empty list has no `records.0`)", e.from))
        })?;
        set_path(&mut params, &e.param, v);
    }
    Ok(params)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Done,
    Failed,
    /// On a switch branch that was not taken.
    Untaken,
    /// Behind a failed node.
    Blocked,
}

/// What one node does once its parameters are known.
enum Step {
    Model(Arc<str>, dataflow_sql::Operation, J),
    Code(super::code::CodeNodeRef, J),
    Script(super::script::Script, Map<String, J>),
    Ready(J),
    /// The parameters did not resolve: fails in order with the rest of its level.
    Fail(Error),
}

struct State {
    inputs: Map<String, J>,
    results: Map<String, J>,
    timings: Vec<NodeTiming>,
    failures: Vec<(usize, Error)>,
    status: Vec<Status>,
}

impl State {
    fn new(n: usize, inputs: Map<String, J>) -> State {
        State {
            inputs,
            results: Map::new(),
            timings: Vec::new(),
            failures: Vec::new(),
            status: vec![Status::Pending; n],
        }
    }

    /// Whether node `i` runs, given what happened to the nodes before it.
    fn decide(&self, plan: &Plan, i: usize) -> Status {
        let preds = plan.graph.preds(i);
        if let Kind::Merge(from) = &plan.kinds[i] {
            let others: Vec<usize> = preds.iter().copied().filter(|p| !from.contains(p)).collect();
            if from.iter().any(|&f| self.status[f] == Status::Done) {
                return self.decide_among(plan, i, &others);
            }
            return if from.iter().any(|&f| matches!(self.status[f], Status::Failed | Status::Blocked)) {
                Status::Blocked
            } else {
                Status::Untaken
            };
        }
        self.decide_among(plan, i, preds)
    }

    fn decide_among(&self, plan: &Plan, i: usize, preds: &[usize]) -> Status {
        if preds.iter().any(|&p| matches!(self.status[p], Status::Failed | Status::Blocked)) {
            return Status::Blocked;
        }
        if preds.iter().any(|&p| self.status[p] == Status::Untaken) {
            return Status::Untaken;
        }
        for (to, sw, branch) in &plan.branch_deps {
            if *to == i {
                let taken = self.results.get(&plan.spec.nodes[*sw].id).and_then(|r| r.get("branch"));
                if taken.and_then(J::as_str) != Some(branch.as_str()) {
                    return Status::Untaken;
                }
            }
        }
        Status::Pending
    }

    /// Resolves node `i`'s parameters into what it will do.
    fn step(&self, plan: &Plan, i: usize) -> Result<Step> {
        let node = &plan.spec.nodes[i];
        if let Kind::Merge(from) = &plan.kinds[i] {
            let first = from.iter().copied().find(|&f| self.status[f] == Status::Done);
            let (id, value) = match first {
                Some(f) => {
                    let id = plan.spec.nodes[f].id.clone();
                    let v = self.results.get(&id).cloned().unwrap_or(J::Null);
                    (J::String(id), v)
                }
                None => (J::Null, J::Null),
            };
            let mut m = Map::new();
            m.insert("from".into(), id);
            m.insert("value".into(), value);
            return Ok(Step::Ready(J::Object(m)));
        }
        let params = node_params(plan, i, &self.results, &self.inputs)?;
        Ok(match &plan.kinds[i] {
            Kind::Model(info) => Step::Model(Arc::from(info.schema.name.as_str()), info.op, params),
            Kind::Code(c) => Step::Code(c.clone(), params),
            Kind::Script(Some(s)) => {
                let mut vars = params.as_object().cloned().unwrap_or_default();
                vars.remove("script");
                Step::Script(s.clone(), vars)
            }
            Kind::Switch(branches) => Step::Ready(switch(&node.id, branches.as_deref(), &params)?),
            Kind::Script(None) | Kind::Merge(_) | Kind::Unknown => {
                return Err(Error::new(ErrorCode::UNKNOWN_NODE_TYPE, "node type not resolved").node(&node.id));
            }
        })
    }

    fn record(&mut self, plan: &Plan, i: usize, timing: NodeTiming, r: Result<J>) -> Option<Error> {
        let id = plan.spec.nodes[i].id.clone();
        self.timings.push(timing);
        match r {
            Ok(v) => {
                self.status[i] = Status::Done;
                self.results.insert(id, v);
                None
            }
            Err(e) => {
                tracing::debug!(target: "dataflow::workflow", node = %id, error = %e, "node failed");
                self.status[i] = Status::Failed;
                let e = e.or_node(&id);
                self.failures.push((i, Error::new(e.code(), e.message()).node(&id)));
                Some(e)
            }
        }
    }
}

/// A switch's result: `{"branch": <taken>, "value": <value>, <taken>: <value>}`.
fn switch(node: &str, branches: Option<&[String]>, params: &J) -> Result<J> {
    let (branch, value) = if let Some(c) = params.get("condition") {
        let b = c.as_bool().ok_or_else(|| {
            Error::new(
                ErrorCode::INVALID_NODE_PARAMS,
                format!("`condition` of SwitchNode `{node}` is {c}, not true or false"),
            )
            .node(node)
            .field("condition")
            .fix("connect or template a boolean, e.g. \"${read.found}\"")
        })?;
        (b.to_string(), c.clone())
    } else {
        let v = params.get("value").cloned().unwrap_or(J::Null);
        let name = match &v {
            J::String(s) => s.clone(),
            J::Null => "null".to_owned(),
            other => other.to_string(),
        };
        let name = match branches {
            Some(bs) if !bs.contains(&name) || name == "default" => "default".to_owned(),
            _ => name,
        };
        (name, v)
    };
    let mut m = Map::new();
    m.insert("branch".into(), J::String(branch.clone()));
    m.insert("value".into(), value.clone());
    m.insert(branch, value);
    Ok(J::Object(m))
}

async fn exec(step: Step, id: &str, ex: Option<Express<'_>>) -> Result<J> {
    match step {
        Step::Model(model, op, params) => match ex {
            Some(mut ex) => ex.run(&model, op, &params).await,
            None => Err(Error::new(ErrorCode::UNKNOWN_NODE_TYPE, "no connection for a model node").node(id)),
        },
        Step::Code(c, params) => c.call(id, params).await,
        Step::Script(s, vars) => s.run(id, &vars),
        Step::Ready(v) => Ok(v),
        Step::Fail(e) => Err(e),
    }
}

fn needs_db(step: &Step) -> bool {
    matches!(step, Step::Model(..))
}

impl Workflow {
    /// Runs the workflow on `db`: level by level, independent nodes concurrently. Returns node
    /// id → result, or a [`WorkflowFailure`] naming the failed node, with the partial results;
    /// nodes that depend on a failed node do not run, independent ones do.
    pub async fn execute(&self, db: &DataFlow) -> Result<WorkflowOutput, WorkflowFailure> {
        self.run(db, None, &J::Null).await
    }

    /// [`Workflow::execute`] with values for the workflow's declared inputs (a JSON object).
    /// Unknown, missing or mistyped inputs fail with DF-808 before any node runs.
    pub async fn execute_with(&self, db: &DataFlow, inputs: J) -> Result<WorkflowOutput, WorkflowFailure> {
        self.run(db, None, &inputs).await
    }

    /// [`Workflow::execute`] under a tenant (multi-tenant models).
    pub async fn execute_as(&self, db: &DataFlow, tenant: Option<&str>) -> Result<WorkflowOutput, WorkflowFailure> {
        self.run(db, tenant, &J::Null).await
    }

    /// [`Workflow::execute_with`] under a tenant.
    pub async fn execute_with_as(
        &self,
        db: &DataFlow,
        inputs: J,
        tenant: Option<&str>,
    ) -> Result<WorkflowOutput, WorkflowFailure> {
        self.run(db, tenant, &inputs).await
    }

    /// The workflow's declared inputs.
    pub fn inputs(&self) -> &[InputSpec] {
        &self.plan.spec.inputs
    }

    /// A value given as text (`--input key=value` on the command line) as JSON: text for a
    /// `string` input, parsed as JSON otherwise (falling back to text).
    pub fn input_from_str(&self, name: &str, raw: &str) -> J {
        inputs::from_arg(&self.plan.spec, name, raw)
    }

    fn start(&self, db: &DataFlow, given: &J) -> Result<State, Box<WorkflowFailure>> {
        let n = self.plan.spec.nodes.len();
        let values = match inputs::resolve(&self.plan.spec, given) {
            Ok(v) => v,
            Err(e) => return Err(Box::new(self.failure(None, e, State::new(n, Map::new()), false))),
        };
        let st = State::new(n, values);
        match self.check_db(db) {
            Ok(()) => Ok(st),
            Err(e) => Err(Box::new(self.failure(None, e, st, false))),
        }
    }

    /// One run inside its `dataflow.workflow` span (target `dataflow::workflow`).
    async fn run(&self, db: &DataFlow, tenant: Option<&str>, given: &J) -> Result<WorkflowOutput, WorkflowFailure> {
        let span = crate::observe::trace::workflow_span(db, self.plan.spec.nodes.len(), false);
        let r = self.run_unobserved(db, tenant, given).instrument(span.clone()).await;
        crate::observe::trace::workflow_done(&span, &r);
        r
    }

    async fn run_unobserved(
        &self,
        db: &DataFlow,
        tenant: Option<&str>,
        given: &J,
    ) -> Result<WorkflowOutput, WorkflowFailure> {
        let plan = &self.plan;
        let start = Instant::now();
        let tenant: Option<Arc<str>> = tenant.map(Arc::from);
        let mut st = self.start(db, given).map_err(|f| *f)?;
        let mut first_cause: Option<Error> = None;
        for (level, nodes) in plan.levels.iter().enumerate() {
            let mut steps = Vec::new();
            for &i in nodes {
                let s = st.decide(plan, i);
                if s != Status::Pending {
                    st.status[i] = s;
                    continue;
                }
                let t0 = start.elapsed();
                steps.push((i, t0, st.step(plan, i).unwrap_or_else(Step::Fail)));
            }
            let runs = steps.into_iter().map(|(i, t0, step)| {
                let tenant = tenant.clone();
                let id = plan.spec.nodes[i].id.as_str();
                async move {
                    // The run's tenant scopes its multi-tenant models; other models run unscoped.
                    let ex = needs_db(&step).then(|| db.express().tenant_context(tenant));
                    let r = exec(step, id, ex).await;
                    (i, t0, start.elapsed() - t0, r)
                }
                .instrument(node_span(db, plan, i, level))
            });
            for (i, t0, elapsed, r) in futures::future::join_all(runs).await {
                let timing = NodeTiming { node: plan.spec.nodes[i].id.clone(), level, started: t0, elapsed };
                if let Some(e) = st.record(plan, i, timing, r) {
                    first_cause.get_or_insert(e);
                }
            }
        }
        if st.failures.is_empty() {
            let skipped = self.skipped(&st);
            return Ok(WorkflowOutput { results: st.results, timings: st.timings, skipped });
        }
        let (first, cause) = st.failures.remove(0);
        let cause = first_cause.unwrap_or(cause);
        Err(self.failure(Some(first), cause, st, false))
    }

    /// [`Workflow::execute_in_transaction`] with values for the declared inputs.
    pub async fn execute_in_transaction_with(
        &self,
        db: &DataFlow,
        inputs: J,
    ) -> Result<WorkflowOutput, WorkflowFailure> {
        self.run_tx(db, &inputs, None).await
    }

    /// Runs every node in one transaction: all or nothing. Nodes run one at a time (one
    /// connection), in execution order; the first failure rolls everything back.
    pub async fn execute_in_transaction(&self, db: &DataFlow) -> Result<WorkflowOutput, WorkflowFailure> {
        self.run_tx(db, &J::Null, None).await
    }

    /// [`Workflow::execute_in_transaction`] with the transaction bound to `tenant`: its
    /// multi-tenant models see and write only this tenant's rows (docs/guide/multi-tenancy.md).
    pub async fn execute_in_transaction_as(
        &self,
        db: &DataFlow,
        tenant: &str,
    ) -> Result<WorkflowOutput, WorkflowFailure> {
        self.run_tx(db, &J::Null, Some(tenant)).await
    }

    /// [`Workflow::execute_in_transaction_with`] bound to `tenant`.
    pub async fn execute_in_transaction_with_as(
        &self,
        db: &DataFlow,
        inputs: J,
        tenant: &str,
    ) -> Result<WorkflowOutput, WorkflowFailure> {
        self.run_tx(db, &inputs, Some(tenant)).await
    }

    /// One transactional run inside its `dataflow.workflow` span.
    async fn run_tx(&self, db: &DataFlow, given: &J, tenant: Option<&str>) -> Result<WorkflowOutput, WorkflowFailure> {
        let span = crate::observe::trace::workflow_span(db, self.plan.spec.nodes.len(), true);
        let r = self.run_tx_unobserved(db, given, tenant).instrument(span.clone()).await;
        crate::observe::trace::workflow_done(&span, &r);
        r
    }

    async fn run_tx_unobserved(
        &self,
        db: &DataFlow,
        given: &J,
        tenant: Option<&str>,
    ) -> Result<WorkflowOutput, WorkflowFailure> {
        let tenant: Option<Arc<str>> = tenant.map(Arc::from);
        let plan = self.plan.clone();
        let start = Instant::now();
        let st = Arc::new(Mutex::new(self.start(db, given).map_err(|f| *f)?));
        let shared = st.clone();
        let run = db
            .transaction_bound(tenant.clone(), move |tx| -> BoxFuture<'_, Result<()>> {
                async move {
                    for (level, nodes) in plan.levels.iter().enumerate() {
                        for &i in nodes {
                            let id = plan.spec.nodes[i].id.clone();
                            let t0 = start.elapsed();
                            let step = {
                                let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                                let d = s.decide(&plan, i);
                                if d != Status::Pending {
                                    s.status[i] = d;
                                    continue;
                                }
                                s.step(&plan, i)
                            };
                            let r = match step {
                                Ok(step) => {
                                    let span = node_span(tx.db(), &plan, i, level);
                                    let ex = needs_db(&step).then(|| tx.express().tenant_context(tenant.clone()));
                                    exec(step, &id, ex).instrument(span).await
                                }
                                Err(e) => Err(e),
                            };
                            let timing = NodeTiming { node: id, level, started: t0, elapsed: start.elapsed() - t0 };
                            let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                            if let Some(e) = s.record(&plan, i, timing, r) {
                                return Err(e);
                            }
                        }
                    }
                    Ok(())
                }
                .boxed()
            })
            .await;
        let n = self.plan.spec.nodes.len();
        let mut st = std::mem::replace(&mut *st.lock().unwrap_or_else(|p| p.into_inner()), State::new(n, Map::new()));
        match run {
            Ok(()) => {
                let skipped = self.skipped(&st);
                Ok(WorkflowOutput { results: st.results, timings: st.timings, skipped })
            }
            Err(e) => {
                // The failing node, or (commit failed) the last node that ran.
                let first = if st.failures.is_empty() {
                    self.plan.index.get(st.timings.last().map_or("", |t| t.node.as_str())).copied()
                } else {
                    Some(st.failures.remove(0).0)
                };
                Err(self.failure(first, e, st, true))
            }
        }
    }

    /// Nodes that did not run, in workflow order.
    fn skipped(&self, st: &State) -> Vec<String> {
        (0..self.plan.spec.nodes.len())
            .filter(|&i| !matches!(st.status[i], Status::Done | Status::Failed))
            .map(|i| self.plan.spec.nodes[i].id.clone())
            .collect()
    }

    /// DF-701 unless `db` has every model of the workflow with the schema it was validated against.
    fn check_db(&self, db: &DataFlow) -> Result<()> {
        let mut seen = HashSet::new();
        for info in self.plan.infos.iter().flatten() {
            if !seen.insert(info.schema.name.as_str()) {
                continue;
            }
            let live = db.schema(&info.schema.name)?;
            if !Arc::ptr_eq(&live, &info.schema) && *live != *info.schema {
                return Err(Error::new(
                    ErrorCode::UNKNOWN_NODE_TYPE,
                    format!(
                        "model `{}` on this instance differs from the one the workflow was built for",
                        info.schema.name
                    ),
                )
                .model(&info.schema.name)
                .fix("build (or load) the workflow against this instance: `WorkflowBuilder::new(&db)`"));
            }
        }
        Ok(())
    }

    fn failure(&self, node: Option<usize>, cause: Error, st: State, rolled_back: bool) -> WorkflowFailure {
        let plan = &self.plan;
        let n = node.and_then(|i| plan.spec.nodes.get(i));
        let skipped = self.skipped(&st);
        WorkflowFailure {
            node: n.map(|n| n.id.clone()).unwrap_or_default(),
            node_type: n.map(|n| n.node_type.clone()).unwrap_or_default(),
            cause,
            also_failed: st.failures.into_iter().map(|(i, e)| (plan.spec.nodes[i].id.clone(), e)).collect(),
            partial: WorkflowOutput { results: st.results, timings: st.timings, skipped: Vec::new() },
            skipped,
            rolled_back,
        }
    }
}
