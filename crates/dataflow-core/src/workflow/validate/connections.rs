//! Layer 2: connections and templates — endpoints exist, no self-connection, the output path
//! exists in the source's result shape, the target parameter exists, types fit, and no input
//! is supplied twice.

use dataflow_sql::error::closest;
use dataflow_sql::{Error, ErrorCode, Operation};

use super::{Edge, Plan, Via};
use crate::workflow::kind::{Kind, SWITCH_KEYS};
use crate::workflow::shape;
use crate::workflow::spec::get_path;

fn unknown_node(plan: &Plan, id: &str, code: ErrorCode, what: String) -> Error {
    let mut e = Error::new(code, format!("{what} references node `{id}`, which is not in the workflow"));
    if let Some(c) = closest(id, plan.spec.nodes.iter().map(|n| n.id.as_str())) {
        e = e.fix(format!("did you mean `{c}`?"));
    }
    let ids: Vec<&str> = plan.spec.nodes.iter().map(|n| n.id.as_str()).collect();
    e.fix(format!("nodes in this workflow: {}", ids.join(", ")))
}

/// Builds the plan's edges from connections and templates; returns the errors of edges that
/// could not be made (unknown endpoints, self-connections).
pub(super) fn collect_edges(plan: &mut Plan) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut edges = Vec::new();
    for (ci, c) in plan.spec.connections.iter().enumerate() {
        let mut ok = true;
        for id in [&c.from, &c.to] {
            if !plan.index.contains_key(id) {
                let side = if id == &c.from { "source" } else { "target" };
                errors.push(
                    unknown_node(plan, id, ErrorCode::CONNECTION_UNKNOWN_NODE, format!("connection `{c}` ({side})"))
                        .node(id.as_str()),
                );
                ok = false;
            }
        }
        if ok && c.from == c.to {
            errors.push(
                Error::new(
                    ErrorCode::CONNECTION_SELF,
                    format!("connection `{c}` connects node `{}` to itself", c.from),
                )
                .node(&c.from)
                .field(&c.param)
                .fix("a node cannot consume its own result; add a second node that reads it"),
            );
            ok = false;
        }
        if ok {
            edges.push(Edge {
                from: c.from.clone(),
                output: c.output.clone(),
                to: c.to.clone(),
                param: c.param.clone(),
                via: Via::Connection(ci),
            });
        }
    }
    for (i, refs) in plan.templates.iter().enumerate() {
        let to = &plan.spec.nodes[i].id;
        for t in refs {
            let what =
                format!("template `${{{}{}}}` in parameter `{}` of node `{to}`", t.node, dotted(&t.path), t.param);
            if !plan.index.contains_key(&t.node) {
                errors.push(unknown_node(plan, &t.node, ErrorCode::TEMPLATE, what).node(to.as_str()).field(&t.param));
            } else if &t.node == to {
                errors.push(
                    Error::new(ErrorCode::CONNECTION_SELF, format!("{what} refers to the node itself"))
                        .node(to.as_str())
                        .field(&t.param)
                        .fix("a node cannot consume its own result; reference an earlier node"),
                );
            } else {
                edges.push(Edge {
                    from: t.node.clone(),
                    output: t.path.clone(),
                    to: to.clone(),
                    param: t.param.clone(),
                    via: Via::Template,
                });
            }
        }
    }
    plan.edges = edges;
    errors
}

fn dotted(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!(".{path}") }
}

fn describe(plan: &Plan, e: &Edge) -> String {
    match e.via {
        Via::Connection(ci) => format!("connection `{}`", plan.spec.connections[ci]),
        Via::Template => format!("template `${{{}{}}}` in `{}.{}`", e.from, dotted(&e.output), e.to, e.param),
    }
}

/// Checks output paths, target parameters, type compatibility and duplicate inputs.
pub(super) fn check(plan: &Plan, errors: &mut Vec<Error>) {
    for e in &plan.edges {
        let (si, di) = (plan.index[&e.from], plan.index[&e.to]);
        let (src, dst) = (&plan.kinds[si], &plan.kinds[di]);
        let Some(result) = src.result() else { continue };
        if matches!(dst, Kind::Unknown) {
            continue;
        }
        let what = describe(plan, e);
        let code_path = if e.via == Via::Template { ErrorCode::TEMPLATE } else { ErrorCode::CONNECTION_BAD_OUTPUT };
        let out = match result.at(&e.output) {
            Ok(s) => s.clone(),
            Err(why) => {
                let returns = match src.model() {
                    Some(m) => format!("{}{} returns {}", m.schema.name, m.op.name(), result.describe()),
                    None => format!("`{}` ({}) returns {}", e.from, plan.spec.nodes[si].node_type, result.describe()),
                };
                let mut err = Error::new(code_path, format!("{what}: output `{}` does not exist: {why}", e.output))
                    .node(&e.from)
                    .field(&e.output)
                    .fix(returns);
                if let Some(m) = src.model() {
                    err = err.model(&m.schema.name);
                }
                errors.push(err);
                continue;
            }
        };
        let Some(want) = dst.param(&e.param) else {
            let names: Vec<String> = match dst {
                Kind::Model(m) if m.op == Operation::Create => m.schema.fields.iter().map(|f| f.name.clone()).collect(),
                Kind::Model(m) => shape::params(m.op).iter().map(|d| d.name.to_owned()).collect(),
                Kind::Code(c) => c.inputs().iter().map(|p| p.name.clone()).collect(),
                Kind::Switch(_) => vec!["value".into(), "condition".into()],
                _ => Vec::new(),
            };
            let mut err = Error::new(
                ErrorCode::UNKNOWN_FIELD,
                format!("{what}: node `{}` ({}) has no parameter `{}`", e.to, plan.spec.nodes[di].node_type, e.param),
            )
            .node(&e.to)
            .field(&e.param);
            if let Some(m) = dst.model() {
                err = err.model(&m.schema.name);
            }
            let first = e.param.split('.').next().unwrap_or("");
            if let Some(c) = closest(first, names.iter().map(String::as_str)) {
                err = err.fix(format!("did you mean `{c}`?"));
            }
            errors.push(err.fix(format!("parameters: {}", names.join(", "))));
            continue;
        };
        if e.via == Via::Template {
            // Type-check only a whole-string template: text around a template makes a string.
            let whole = plan.templates[di].iter().any(|t| t.param == e.param && t.whole);
            if !whole {
                continue;
            }
        }
        if !out.fits(&want) {
            let mut err = Error::new(
                ErrorCode::CONNECTION_TYPE_MISMATCH,
                format!(
                    "{what}: `{}{}` is {} but parameter `{}` of `{}` expects {}",
                    e.from,
                    dotted(&e.output),
                    out.describe(),
                    e.param,
                    e.to,
                    want.describe()
                ),
            )
            .node(&e.to)
            .field(&e.param);
            if let Some(m) = dst.model() {
                err = err.model(&m.schema.name);
            }
            let extra = out.extra_keys(&want);
            if !extra.is_empty() {
                err = err.fix(format!(
                    "the target has no field {}",
                    extra.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                ));
            }
            errors
                .push(err.fix("connect an output of the expected type, e.g. `record.id` or `records.0.id` for an id"));
        }
    }
    duplicates(plan, errors);
}

/// Switch-branch dependencies: a node that consumes `switch.<branch>` (by a connection or a
/// template) or is ordered `after: [switch.<branch>]` runs only when that branch is taken.
pub(super) fn branches(plan: &mut Plan) {
    let mut deps = Vec::new();
    for e in &plan.edges {
        let (si, di) = (plan.index[&e.from], plan.index[&e.to]);
        if let Kind::Switch(_) = plan.kinds[si] {
            let first = e.output.split('.').next().unwrap_or("");
            if !first.is_empty() && !SWITCH_KEYS.contains(&first) {
                deps.push((di, si, first.to_owned()));
            }
        }
    }
    for o in &plan.order {
        if let Some(b) = &o.branch {
            deps.push((o.to, o.from, b.clone()));
        }
    }
    deps.dedup();
    plan.branch_deps = deps;
}

/// DF-205: two edges into the same (or an overlapping) parameter, or an explicit connection
/// into a parameter that is also set statically.
fn duplicates(plan: &Plan, errors: &mut Vec<Error>) {
    let overlaps = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}.")) || b.starts_with(&format!("{a}."));
    for (i, a) in plan.edges.iter().enumerate() {
        if a.via == Via::Template {
            continue;
        }
        if let Some(b) =
            plan.edges[..i].iter().find(|b| b.via != Via::Template && b.to == a.to && overlaps(&a.param, &b.param))
        {
            errors.push(
                Error::new(
                    ErrorCode::CONNECTION_DUPLICATE_INPUT,
                    format!(
                        "parameter `{}` of node `{}` is supplied twice: by {} and by {}",
                        a.param,
                        a.to,
                        describe(plan, b),
                        describe(plan, a)
                    ),
                )
                .node(&a.to)
                .field(&a.param)
                .fix("keep one connection per input parameter"),
            );
            continue;
        }
        let params = &plan.spec.nodes[plan.index[&a.to]].params;
        if get_path(params, &a.param).is_some() {
            errors.push(
                Error::new(
                    ErrorCode::CONNECTION_DUPLICATE_INPUT,
                    format!(
                        "parameter `{}` of node `{}` is set in its params and also supplied by {}",
                        a.param,
                        a.to,
                        describe(plan, a)
                    ),
                )
                .node(&a.to)
                .field(&a.param)
                .fix(format!("remove `{}` from the params of `{}` or remove the connection", a.param, a.to)),
            );
        }
    }
}
