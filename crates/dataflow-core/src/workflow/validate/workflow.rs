//! Layer 3: the graph — execution levels, cycles named node by node, and nodes that can never
//! run because they depend on a cycle.

use dataflow_sql::{Error, ErrorCode};

use super::Plan;
use crate::workflow::graph::Graph;

/// Builds the graph, its levels and cycles into the plan; reports cycles and unreachable nodes.
pub(super) fn check(plan: &mut Plan, errors: &mut Vec<Error>) {
    let mut edges: Vec<(usize, usize)> = plan.edges.iter().map(|e| (plan.index[&e.from], plan.index[&e.to])).collect();
    edges.extend(plan.order.iter().map(|o| (o.from, o.to)));
    plan.graph = Graph::new(plan.spec.nodes.len(), edges);
    let (levels, stuck) = plan.graph.levels();
    plan.levels = levels;
    plan.stuck = stuck;
    plan.cycles = plan.graph.cycles();
    let mut on_cycle = vec![false; plan.spec.nodes.len()];
    for cycle in &plan.cycles {
        let mut ids = plan.ids(cycle);
        for &i in cycle {
            on_cycle[i] = true;
        }
        ids.push(ids[0].clone());
        let path = ids.join(" -> ");
        errors.push(
            Error::new(ErrorCode::WORKFLOW_CYCLE, format!("the workflow contains a cycle: {path}")).node(&ids[0]).fix(
                format!("remove one of the connections or templates along {path}; workflows must be acyclic (a DAG)"),
            ),
        );
    }
    for &i in &plan.stuck {
        if on_cycle[i] {
            continue;
        }
        let id = &plan.spec.nodes[i].id;
        // The nearest upstream cycle member, for the message.
        let mut seen = vec![false; plan.spec.nodes.len()];
        let mut stack = vec![i];
        let mut via = None;
        while let Some(v) = stack.pop() {
            if std::mem::replace(&mut seen[v], true) {
                continue;
            }
            if on_cycle[v] {
                via = Some(v);
                break;
            }
            stack.extend(plan.graph.preds(v).iter().copied());
        }
        let behind = via.map(|v| format!(" `{}`", plan.spec.nodes[v].id)).unwrap_or_default();
        errors.push(
            Error::new(
                ErrorCode::WORKFLOW_UNREACHABLE,
                format!("node `{id}` can never run: it depends on the cycle through{behind}"),
            )
            .node(id)
            .fix("break the cycle; every node must be reachable from nodes without inputs"),
        );
    }
}
