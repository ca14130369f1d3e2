//! Workflow inputs: declarations (name, type, required, default), `${inputs.name}` references
//! checked at build time (declared, and of a type the parameter accepts), and the values given
//! to a run checked before any node runs.

use dataflow_sql::error::closest;
use dataflow_sql::{Error, ErrorCode, FieldType, Result};
use serde_json::{Map, Value as J};

use super::Plan;
use crate::workflow::shape::Shape;
use crate::workflow::spec::{InputSpec, InputType, WorkflowSpec};

/// The pseudo node id of the inputs in templates: `${inputs.name}`.
pub(crate) const RESERVED: &str = "inputs";

/// The static shape of an input type.
pub(crate) fn shape(ty: InputType) -> Shape {
    match ty {
        InputType::String => Shape::Str,
        InputType::Integer => Shape::Int,
        InputType::Number => Shape::Field { ty: FieldType::F64, nullable: false },
        InputType::Boolean => Shape::Bool,
        InputType::Array => Shape::Array(Box::new(Shape::Any)),
        InputType::Object | InputType::Any => Shape::Any,
    }
}

fn input_error(msg: String) -> Error {
    Error::new(ErrorCode::WORKFLOW_INPUT, msg)
}

/// Declarations: valid unique names, defaults of the declared type.
pub(super) fn check_declarations(spec: &WorkflowSpec, errors: &mut Vec<Error>) {
    for (i, d) in spec.inputs.iter().enumerate() {
        if !crate::workflow::script::valid_variable(&d.name) {
            errors.push(
                input_error(format!("input name `{}` is not valid", d.name))
                    .field(&d.name)
                    .fix("use letters, digits and `_`, starting with a letter, e.g. `customer_id`"),
            );
        }
        if spec.inputs[..i].iter().any(|o| o.name == d.name) {
            errors.push(
                input_error(format!("input `{}` is declared twice", d.name))
                    .field(&d.name)
                    .fix("declare each input once"),
            );
        }
        if let Some(v) = &d.default
            && !d.ty.accepts(v)
        {
            errors.push(
                input_error(format!("the default of input `{}` is {v}, which is not {}", d.name, d.ty.name()))
                    .field(&d.name)
                    .fix(format!("give a default of type {}", d.ty.name())),
            );
        }
    }
}

fn undeclared(spec: &WorkflowSpec, name: &str) -> Error {
    let mut e = input_error(format!("input `{name}` is not declared by the workflow")).field(name);
    if let Some(c) = closest(name, spec.inputs.iter().map(|d| d.name.as_str())) {
        e = e.fix(format!("did you mean `{c}`?"));
    }
    e.fix(format!(
        "declare it: `inputs: [{{name: {name}, type: string}}]` (in a file) or `builder.add_input(InputSpec::new(\"{name}\", InputType::String))`"
    ))
}

/// `${inputs.name}` references: declared, and a type the parameter takes.
pub(super) fn check_refs(plan: &Plan, errors: &mut Vec<Error>) {
    for (i, r) in &plan.input_refs {
        let node = &plan.spec.nodes[*i];
        let what = format!("template `${{inputs.{}}}` in `{}.{}`", r.path, node.id, r.param);
        let (name, rest) = r.path.split_once('.').unwrap_or((r.path.as_str(), ""));
        if name.is_empty() {
            errors.push(
                input_error(format!("{what} names no input"))
                    .node(&node.id)
                    .field(&r.param)
                    .fix("write `${inputs.<name>}`"),
            );
            continue;
        }
        let Some(d) = plan.spec.inputs.iter().find(|d| d.name == name) else {
            errors.push(undeclared(&plan.spec, name).node(&node.id).field(&r.param));
            continue;
        };
        let declared = shape(d.ty);
        let out = match declared.at(rest) {
            Ok(s) => s.clone(),
            Err(why) => {
                errors.push(
                    input_error(format!("{what}: input `{name}` is {}: {why}", d.ty.name()))
                        .node(&node.id)
                        .field(&r.param)
                        .fix("only object inputs have keys"),
                );
                continue;
            }
        };
        let kind = &plan.kinds[*i];
        let Some(want) = kind.param(&r.param) else {
            if let Some(info) = kind.model() {
                errors.push(
                    Error::new(
                        ErrorCode::UNKNOWN_FIELD,
                        format!("{what}: node `{}` ({}) has no parameter `{}`", node.id, node.node_type, r.param),
                    )
                    .node(&node.id)
                    .model(&info.schema.name)
                    .field(&r.param)
                    .fix(format!("fields of `{}`: {}", info.schema.name, field_names(info))),
                );
            }
            continue;
        };
        if r.whole && !out.fits(&want) {
            errors.push(
                Error::new(
                    ErrorCode::CONNECTION_TYPE_MISMATCH,
                    format!(
                        "{what}: input `{name}` is {} but parameter `{}` of `{}` expects {}",
                        d.ty.name(),
                        r.param,
                        node.id,
                        want.describe()
                    ),
                )
                .node(&node.id)
                .field(&r.param)
                .fix(format!("declare `{name}` with a type that fits ({})", want.describe())),
            );
        }
    }
}

fn field_names(info: &crate::workflow::catalog::NodeInfo) -> String {
    info.schema.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// The values of a run: `given` checked against the declarations (unknown, missing, wrong
/// type: DF-808), defaults applied.
pub(crate) fn resolve(spec: &WorkflowSpec, given: &J) -> Result<Map<String, J>> {
    let empty = Map::new();
    let given = match given {
        J::Null => &empty,
        J::Object(m) => m,
        other => {
            return Err(input_error(format!("workflow inputs must be a JSON object, got {other}"))
                .fix("pass an object: json!({\"tier\": \"gold\"})"));
        }
    };
    let mut out = Map::new();
    for (k, v) in given {
        let Some(d) = spec.inputs.iter().find(|d| &d.name == k) else {
            return Err(undeclared(spec, k));
        };
        if !d.ty.accepts(v) {
            return Err(input_error(format!("input `{k}` must be {}, got {v}", article(d)))
                .field(k)
                .fix(format!("pass {} for `{k}`", article(d))));
        }
        out.insert(k.clone(), v.clone());
    }
    for d in &spec.inputs {
        if out.contains_key(&d.name) {
            continue;
        }
        match &d.default {
            Some(v) => {
                out.insert(d.name.clone(), v.clone());
            }
            None if d.is_required() => {
                return Err(input_error(format!("input `{}` ({}) is required and was not given", d.name, d.ty.name()))
                    .field(&d.name)
                    .fix(format!(
                        "pass it: `execute_with(&db, json!({{\"{0}\": ..}}))` or `dataflow run <file> --input {0}=<value>`",
                        d.name
                    )));
            }
            None => {}
        }
    }
    Ok(out)
}

fn article(d: &InputSpec) -> String {
    match d.ty {
        InputType::Integer | InputType::Array | InputType::Object | InputType::Any => format!("an {}", d.ty.name()),
        _ => format!("a {}", d.ty.name()),
    }
}

/// A value given on a command line (`--input key=value`) as JSON, by the declared type:
/// strings stay strings, other types are parsed as JSON.
pub(crate) fn from_arg(spec: &WorkflowSpec, name: &str, raw: &str) -> J {
    match spec.inputs.iter().find(|d| d.name == name).map(|d| d.ty) {
        Some(InputType::String) => J::String(raw.to_owned()),
        _ => serde_json::from_str(raw).unwrap_or_else(|_| J::String(raw.to_owned())),
    }
}
