//! Layer 1 for the nodes that are not model operations: code nodes with declared inputs,
//! `ScriptNode`, `SwitchNode` and `MergeNode` parameters; and the `after` ordering edges.

use std::collections::HashMap;

use dataflow_sql::error::closest;
use dataflow_sql::{Error, ErrorCode};
use serde_json::{Map, Value as J};

use crate::workflow::code::CodeNodeRef;
use crate::workflow::kind::{Kind, SWITCH_KEYS};
use crate::workflow::script::{self, Script};
use crate::workflow::shape::Shape;
use crate::workflow::spec::NodeSpec;
use crate::workflow::template::has_templates;

fn bad(node: &NodeSpec, field: &str, msg: String, fix: &str) -> Error {
    Error::new(ErrorCode::INVALID_NODE_PARAMS, msg).node(&node.id).field(field).fix(fix.to_owned())
}

fn params_object<'a>(node: &'a NodeSpec, errors: &mut Vec<Error>) -> Option<&'a Map<String, J>> {
    let obj = node.params.as_object();
    if obj.is_none() {
        errors.push(bad(
            node,
            "",
            format!("the params of node `{}` must be a JSON object, got {}", node.id, node.params),
            "pass an object, e.g. {\"value\": \"${inputs.tier}\"}",
        ));
    }
    obj
}

fn unknown_keys(node: &NodeSpec, obj: &Map<String, J>, allowed: &[&str], errors: &mut Vec<Error>) {
    for k in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        let mut e =
            Error::new(ErrorCode::UNKNOWN_FIELD, format!("{} `{}` has no parameter `{k}`", node.node_type, node.id))
                .node(&node.id)
                .field(k);
        if let Some(c) = closest(k, allowed.iter().copied()) {
            e = e.fix(format!("did you mean `{c}`?"));
        }
        errors.push(e.fix(format!("{} takes: {}", node.node_type, allowed.join(", "))));
    }
}

/// The static shape of a JSON value (for checking static parameters of code nodes).
pub(crate) fn json_shape(v: &J) -> Shape {
    match v {
        J::Null => Shape::Any,
        J::Bool(_) => Shape::Bool,
        J::Number(n) if n.is_i64() || n.is_u64() => Shape::Int,
        J::Number(_) => Shape::Field { ty: dataflow_sql::FieldType::F64, nullable: false },
        J::String(_) => Shape::Str,
        J::Array(a) => Shape::Array(Box::new(a.first().map_or(Shape::Any, json_shape))),
        J::Object(m) => Shape::Object(m.iter().map(|(k, v)| (k.clone(), json_shape(v))).collect()),
    }
}

/// `SwitchNode`: `value` (+ optional `cases`) or `condition`. Returns the static branches.
pub(super) fn switch(node: &NodeSpec, supplied: &[&str], errors: &mut Vec<Error>) -> Option<Vec<String>> {
    let obj = params_object(node, errors)?;
    unknown_keys(node, obj, &["value", "cases", "condition"], errors);
    let has = |k: &str| obj.contains_key(k) || supplied.iter().any(|s| *s == k || s.starts_with(&format!("{k}.")));
    match (has("value"), has("condition")) {
        (true, true) | (false, false) => {
            errors.push(bad(
                node,
                "value",
                format!("SwitchNode `{}` needs exactly one of `value` or `condition`", node.id),
                "route on a value: {\"value\": \"${inputs.tier}\", \"cases\": [\"gold\", \"silver\"]}, or on a condition: {\"condition\": \"${check.ok}\"}",
            ));
            return None;
        }
        (false, true) => {
            if obj.contains_key("cases") {
                errors.push(bad(
                    node,
                    "cases",
                    "`cases` goes with `value`, not `condition`".into(),
                    "a condition has the branches `true` and `false`",
                ));
            }
            if let Some(c) = obj.get("condition")
                && !has_templates(c)
                && !c.is_boolean()
            {
                errors.push(bad(
                    node,
                    "condition",
                    format!("`condition` must be true or false, got {c}"),
                    "use a template that yields a bool, e.g. \"${check.found}\"",
                ));
            }
            return Some(vec!["true".into(), "false".into()]);
        }
        (true, false) => {}
    }
    let cases = obj.get("cases")?;
    let names: Option<Vec<String>> =
        cases.as_array().and_then(|a| a.iter().map(|c| c.as_str().map(str::to_owned)).collect());
    let Some(mut names) = names.filter(|n| !n.is_empty()) else {
        errors.push(bad(
            node,
            "cases",
            format!("`cases` must be a non-empty list of strings, got {cases}"),
            "\"cases\": [\"gold\", \"silver\"]",
        ));
        return None;
    };
    for (i, n) in names.iter().enumerate() {
        if !script::valid_variable(n) || SWITCH_KEYS.contains(&n.as_str()) || n == "default" || names[..i].contains(n) {
            errors.push(bad(
                node,
                "cases",
                format!("case `{n}` of SwitchNode `{}` is not usable as a branch name", node.id),
                "use distinct names of letters, digits and `_`, other than `branch`, `value` and `default`",
            ));
        }
    }
    names.push("default".into());
    Some(names)
}

/// `MergeNode`: `from`, a non-empty list of node ids. Returns their indexes.
pub(super) fn merge(node: &NodeSpec, index: &HashMap<String, usize>, errors: &mut Vec<Error>) -> Vec<usize> {
    let Some(obj) = params_object(node, errors) else { return Vec::new() };
    unknown_keys(node, obj, &["from"], errors);
    let ids: Option<Vec<&str>> = obj.get("from").and_then(J::as_array).and_then(|a| a.iter().map(J::as_str).collect());
    let Some(ids) = ids.filter(|i| !i.is_empty()) else {
        errors.push(bad(
            node,
            "from",
            format!("MergeNode `{}` needs `from`: the list of node ids whose results it merges", node.id),
            "\"from\": [\"gold_price\", \"basic_price\"]: the result is the first of them that ran",
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for id in ids {
        match index.get(id) {
            Some(&i) if id != node.id => out.push(i),
            Some(_) => errors.push(bad(
                node,
                "from",
                format!("MergeNode `{}` lists itself in `from`", node.id),
                "list the nodes of the branches it joins",
            )),
            None => {
                let mut e = Error::new(
                    ErrorCode::CONNECTION_UNKNOWN_NODE,
                    format!("`from` of MergeNode `{}` names node `{id}`, which is not in the workflow", node.id),
                )
                .node(&node.id)
                .field("from");
                if let Some(c) = closest(id, index.keys().map(String::as_str)) {
                    e = e.fix(format!("did you mean `{c}`?"));
                }
                errors.push(e);
            }
        }
    }
    out
}

/// `ScriptNode`: `script` (compiled now) and variables.
pub(super) fn script(node: &NodeSpec, errors: &mut Vec<Error>) -> Option<Script> {
    let obj = params_object(node, errors)?;
    for k in obj.keys().filter(|k| *k != "script" && !script::valid_variable(k)) {
        errors.push(bad(
            node,
            k,
            format!("parameter `{k}` of ScriptNode `{}` cannot be a script variable", node.id),
            "name script parameters with letters, digits and `_`",
        ));
    }
    match obj.get("script") {
        Some(J::String(src)) => match Script::compile(&node.id, src) {
            Ok(s) => Some(s),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        other => {
            errors.push(bad(
                node,
                "script",
                format!(
                    "ScriptNode `{}` needs `script`: the script text, got {}",
                    node.id,
                    other.map_or("nothing".into(), J::to_string)
                ),
                "\"script\": \"let total = qty * price;\"",
            ));
            None
        }
    }
}

/// A code node with declared inputs: known parameters, required ones supplied, static values
/// of the declared shape.
pub(super) fn code(node: &NodeSpec, c: &CodeNodeRef, supplied: &[&str], errors: &mut Vec<Error>) {
    let Some(obj) = params_object(node, errors) else { return };
    if c.inputs().is_empty() {
        return;
    }
    let names: Vec<&str> = c.inputs().iter().map(|p| p.name.as_str()).collect();
    unknown_keys(node, obj, &names, errors);
    for p in c.inputs() {
        let given = obj.contains_key(&p.name)
            || supplied.iter().any(|s| *s == p.name || s.starts_with(&format!("{}.", p.name)));
        if p.required && !given {
            errors.push(
                Error::new(
                    ErrorCode::MISSING_FIELD,
                    format!(
                        "input `{}` of code node `{}` ({}) is required and is neither set nor supplied by a connection",
                        p.name,
                        node.id,
                        c.name()
                    ),
                )
                .node(&node.id)
                .field(&p.name)
                .fix(format!("set it in the params or connect an earlier node's output ({})", p.shape.describe())),
            );
        }
        if let Some(v) = obj.get(&p.name)
            && !has_templates(v)
            && !json_shape(v).fits(&p.shape)
        {
            errors.push(
                Error::new(
                    ErrorCode::CONNECTION_TYPE_MISMATCH,
                    format!("input `{}` of code node `{}` expects {}, got {v}", p.name, node.id, p.shape.describe()),
                )
                .node(&node.id)
                .field(&p.name)
                .fix(format!("pass {}", p.shape.describe())),
            );
        }
    }
}

/// Resolves `after` entries (`node` or `switch.branch`) into ordering edges.
pub(super) fn after(
    node: &NodeSpec,
    me: usize,
    index: &HashMap<String, usize>,
    kinds: &[Kind],
    errors: &mut Vec<Error>,
) -> Vec<(usize, Option<String>)> {
    let mut out = Vec::new();
    for a in &node.after {
        let (id, branch) = match a.split_once('.') {
            Some((i, b)) => (i, Some(b.to_owned())),
            None => (a.as_str(), None),
        };
        let Some(&src) = index.get(id) else {
            let mut e = Error::new(
                ErrorCode::CONNECTION_UNKNOWN_NODE,
                format!("`after: [{a}]` of node `{}` names node `{id}`, which is not in the workflow", node.id),
            )
            .node(&node.id)
            .field("after");
            if let Some(c) = closest(id, index.keys().map(String::as_str)) {
                e = e.fix(format!("did you mean `{c}`?"));
            }
            errors.push(e);
            continue;
        };
        if src == me {
            errors.push(
                Error::new(ErrorCode::CONNECTION_SELF, format!("node `{}` is ordered after itself", node.id))
                    .node(&node.id)
                    .field("after")
                    .fix("remove it from `after`"),
            );
            continue;
        }
        if let Some(b) = &branch {
            match &kinds[src] {
                Kind::Switch(Some(branches)) if !branches.contains(b) => errors.push(
                    Error::new(
                        ErrorCode::CONNECTION_BAD_OUTPUT,
                        format!("`after: [{a}]` of node `{}`: SwitchNode `{id}` has no branch `{b}`", node.id),
                    )
                    .node(&node.id)
                    .field("after")
                    .fix(format!("branches of `{id}`: {}", branches.join(", "))),
                ),
                Kind::Switch(_) => {}
                _ => errors.push(
                    Error::new(
                        ErrorCode::INVALID_NODE_PARAMS,
                        format!(
                            "`after: [{a}]` of node `{}`: only a SwitchNode has branches, and `{id}` is a {}",
                            node.id,
                            node_type_of(kinds, src)
                        ),
                    )
                    .node(&node.id)
                    .field("after")
                    .fix(format!("write `after: [{id}]` to order the node after `{id}`")),
                ),
            }
        }
        out.push((src, branch));
    }
    out
}

fn node_type_of(kinds: &[Kind], i: usize) -> &'static str {
    match &kinds[i] {
        Kind::Model(_) => "model node",
        Kind::Code(_) => "code node",
        Kind::Script(_) => "ScriptNode",
        Kind::Switch(_) => "SwitchNode",
        Kind::Merge(_) => "MergeNode",
        Kind::Unknown => "node of an unknown type",
    }
}
