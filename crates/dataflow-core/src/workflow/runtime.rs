//! Executing a workflow: level by level, independent nodes of a level concurrently, each node
//! through the same dynamic operation entry point as Express ([`crate::Express::run`]).
//!
//! Inside a transaction ([`Workflow::execute_in_transaction`]) the nodes of a level run one
//! after another: a transaction is one connection, and one connection runs one statement at a
//! time. Any failure rolls the whole transaction back.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dataflow_sql::{Error, ErrorCode, Result};
use futures::FutureExt;
use serde_json::{Map, Value as J};
use tracing::Instrument;

use super::builder::Workflow;
use super::spec::{get_path, set_path};
use super::template;
use super::validate::{Plan, Via};
use crate::DataFlow;

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

/// The results of a successful run: node id → JSON result, in execution order.
#[derive(Debug, Clone, Default)]
pub struct WorkflowOutput {
    /// Node id → the node's result (FEATURES §2 shapes).
    pub results: Map<String, J>,
    /// Per-node timings, in completion order within each level.
    pub timings: Vec<NodeTiming>,
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
    /// Nodes that did not run because a node they depend on failed (or the transaction ended).
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
        write!(
            f,
            "[{}] workflow node `{}` ({}) failed: {}",
            self.code(),
            self.node,
            self.node_type,
            self.cause.to_string().replace('\n', "\n  ")
        )?;
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
        let mut e = Error::new(
            ErrorCode::WORKFLOW_NODE_FAILED,
            format!("workflow node `{}` ({}) failed: {}", f.node, f.node_type, f.cause.message()),
        )
        .node(&f.node);
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
fn node_params(plan: &Plan, i: usize, results: &Map<String, J>) -> Result<J> {
    let n = &plan.spec.nodes[i];
    let lookup = |node: &str, path: &str| results.get(node).and_then(|r| get_path(r, path)).cloned();
    let mut params =
        if plan.templates[i].is_empty() { n.params.clone() } else { template::resolve(&n.id, &n.params, &lookup)? };
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

struct State {
    results: Map<String, J>,
    timings: Vec<NodeTiming>,
    failures: Vec<(usize, Error)>,
    skipped: Vec<usize>,
}

impl Workflow {
    /// Runs the workflow on `db`: level by level, independent nodes concurrently. Returns node
    /// id → result, or a [`WorkflowFailure`] naming the failed node, with the partial results;
    /// nodes that depend on a failed node do not run, independent ones do.
    pub async fn execute(&self, db: &DataFlow) -> Result<WorkflowOutput, WorkflowFailure> {
        self.execute_as(db, None).await
    }

    /// [`Workflow::execute`] under a tenant (multi-tenant models).
    pub async fn execute_as(&self, db: &DataFlow, tenant: Option<&str>) -> Result<WorkflowOutput, WorkflowFailure> {
        let span = crate::observe::trace::workflow_span(db, self.plan.spec.nodes.len(), false);
        let r = self.execute_as_unobserved(db, tenant).instrument(span.clone()).await;
        crate::observe::trace::workflow_done(&span, &r);
        r
    }

    async fn execute_as_unobserved(
        &self,
        db: &DataFlow,
        tenant: Option<&str>,
    ) -> Result<WorkflowOutput, WorkflowFailure> {
        let plan = &self.plan;
        let start = Instant::now();
        let tenant: Option<Arc<str>> = tenant.map(Arc::from);
        let mut st = State { results: Map::new(), timings: Vec::new(), failures: Vec::new(), skipped: Vec::new() };
        if let Err(e) = self.check_db(db) {
            return Err(self.failure(0, e, st, false));
        }
        let mut dead: HashSet<usize> = HashSet::new();
        for (level, nodes) in plan.levels.iter().enumerate() {
            let runnable: Vec<usize> = nodes
                .iter()
                .copied()
                .filter(|&i| {
                    let blocked = plan.graph.preds(i).iter().any(|p| dead.contains(p));
                    if blocked {
                        dead.insert(i);
                        st.skipped.push(i);
                    }
                    !blocked
                })
                .collect();
            let results = &st.results;
            let runs = runnable.iter().map(|&i| {
                let tenant = tenant.clone();
                async move {
                    let t0 = start.elapsed();
                    let r = match node_params(plan, i, results) {
                        Ok(p) => {
                            let info = plan.infos[i].as_ref();
                            let mut ex = db.express();
                            if let Some(t) = tenant {
                                ex = ex.tenant(t);
                            }
                            match info {
                                Some(info) => ex.run(&info.schema.name, info.op, &p).await,
                                None => Err(Error::new(ErrorCode::UNKNOWN_NODE_TYPE, "node type not resolved")),
                            }
                        }
                        Err(e) => Err(e),
                    };
                    (i, t0, start.elapsed() - t0, r)
                }
                .instrument(node_span(db, plan, i, level))
            });
            let done = futures::future::join_all(runs).await;
            for (i, t0, elapsed, r) in done {
                let id = plan.spec.nodes[i].id.clone();
                st.timings.push(NodeTiming { node: id.clone(), level, started: t0, elapsed });
                match r {
                    Ok(v) => {
                        st.results.insert(id, v);
                    }
                    Err(e) => {
                        tracing::debug!(target: "dataflow::workflow", node = %id, error = %e, "node failed");
                        dead.insert(i);
                        st.failures.push((i, e.or_node(&id)));
                    }
                }
            }
        }
        if st.failures.is_empty() {
            return Ok(WorkflowOutput { results: st.results, timings: st.timings });
        }
        let (first, cause) = st.failures.remove(0);
        Err(self.failure(first, cause, st, false))
    }

    /// Runs every node in one transaction: all or nothing. Nodes run one at a time (one
    /// connection), in execution order; the first failure rolls everything back.
    pub async fn execute_in_transaction(&self, db: &DataFlow) -> Result<WorkflowOutput, WorkflowFailure> {
        let span = crate::observe::trace::workflow_span(db, self.plan.spec.nodes.len(), true);
        let r = self.execute_in_transaction_unobserved(db).instrument(span.clone()).await;
        crate::observe::trace::workflow_done(&span, &r);
        r
    }

    async fn execute_in_transaction_unobserved(&self, db: &DataFlow) -> Result<WorkflowOutput, WorkflowFailure> {
        let plan = self.plan.clone();
        let start = Instant::now();
        let st = Arc::new(Mutex::new(State {
            results: Map::new(),
            timings: Vec::new(),
            failures: Vec::new(),
            skipped: Vec::new(),
        }));
        if let Err(e) = self.check_db(db) {
            let st = std::mem::replace(&mut *st.lock().unwrap_or_else(|p| p.into_inner()), empty_state());
            return Err(self.failure(0, e, st, false));
        }
        let shared = st.clone();
        let run = db
            .transaction(move |tx| {
                async move {
                    for (level, nodes) in plan.levels.iter().enumerate() {
                        for &i in nodes {
                            let id = plan.spec.nodes[i].id.clone();
                            let t0 = start.elapsed();
                            let params = {
                                let s = shared.lock().unwrap_or_else(|p| p.into_inner());
                                node_params(&plan, i, &s.results)
                            };
                            let r = match (params, plan.infos[i].as_ref()) {
                                (Ok(p), Some(info)) => {
                                    let span = node_span(tx.db(), &plan, i, level);
                                    tx.express().run(&info.schema.name, info.op, &p).instrument(span).await
                                }
                                (Err(e), _) => Err(e),
                                (Ok(_), None) => {
                                    Err(Error::new(ErrorCode::UNKNOWN_NODE_TYPE, "node type not resolved"))
                                }
                            };
                            let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                            s.timings.push(NodeTiming {
                                node: id.clone(),
                                level,
                                started: t0,
                                elapsed: start.elapsed() - t0,
                            });
                            match r {
                                Ok(v) => {
                                    s.results.insert(id, v);
                                }
                                Err(e) => {
                                    let e = e.or_node(&id);
                                    s.failures.push((i, Error::new(e.code(), e.message()).node(&id)));
                                    return Err(e);
                                }
                            }
                        }
                    }
                    Ok(())
                }
                .boxed()
            })
            .await;
        let mut st = std::mem::replace(&mut *st.lock().unwrap_or_else(|p| p.into_inner()), empty_state());
        match run {
            Ok(()) => Ok(WorkflowOutput { results: st.results, timings: st.timings }),
            Err(e) => {
                let ran: HashSet<&str> = st.timings.iter().map(|t| t.node.as_str()).collect();
                st.skipped = (0..self.plan.spec.nodes.len())
                    .filter(|&i| !ran.contains(self.plan.spec.nodes[i].id.as_str()))
                    .collect();
                // The failing node, or (commit failed) the last node that ran.
                let first = if st.failures.is_empty() {
                    self.plan.index.get(st.timings.last().map_or("", |t| t.node.as_str())).copied().unwrap_or(0)
                } else {
                    st.failures.remove(0).0
                };
                Err(self.failure(first, e, st, true))
            }
        }
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

    fn failure(&self, node: usize, cause: Error, mut st: State, rolled_back: bool) -> WorkflowFailure {
        let plan = &self.plan;
        let n = plan.spec.nodes.get(node);
        if !rolled_back {
            // Nodes never reached (levels after the failure that depend on nothing failed ran).
            let ran: HashSet<&str> = st.timings.iter().map(|t| t.node.as_str()).collect();
            for i in 0..plan.spec.nodes.len() {
                if !ran.contains(plan.spec.nodes[i].id.as_str()) && !st.skipped.contains(&i) {
                    st.skipped.push(i);
                }
            }
        }
        st.skipped.sort_unstable();
        WorkflowFailure {
            node: n.map(|n| n.id.clone()).unwrap_or_default(),
            node_type: n.map(|n| n.node_type.clone()).unwrap_or_default(),
            cause,
            also_failed: st.failures.into_iter().map(|(i, e)| (plan.spec.nodes[i].id.clone(), e)).collect(),
            partial: WorkflowOutput { results: st.results, timings: st.timings },
            skipped: plan.ids(&st.skipped),
            rolled_back,
        }
    }
}

fn empty_state() -> State {
    State { results: Map::new(), timings: Vec::new(), failures: Vec::new(), skipped: Vec::new() }
}
