//! What a node of a workflow is: a model operation, a code node, a script, or one of the
//! control-flow nodes (`SwitchNode`, `MergeNode`), and the static shapes of its result and
//! parameters.

use super::catalog::NodeInfo;
use super::code::CodeNodeRef;
use super::script::Script;
use super::shape::{self, Shape};

/// The kind of one node, resolved from its node type.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// `<Model><Operation>Node`.
    Model(NodeInfo),
    /// A code node registered on the catalog.
    Code(CodeNodeRef),
    /// `ScriptNode` (compiled; `None` when the script did not compile).
    Script(Option<Script>),
    /// `SwitchNode`: the branch names when they are known statically (`cases` + `default`, or
    /// `true`/`false` for a condition).
    Switch(Option<Vec<String>>),
    /// `MergeNode`: the node indexes it merges, in order of preference.
    Merge(Vec<usize>),
    /// The node type did not resolve (already reported).
    Unknown,
}

/// Result keys of a switch that are not branches.
pub(crate) const SWITCH_KEYS: [&str; 2] = ["branch", "value"];

impl Kind {
    /// The static shape of the node's result (`None`: unknown node type).
    pub fn result(&self) -> Option<Shape> {
        Some(match self {
            Kind::Model(info) => shape::result(&info.schema, info.op),
            Kind::Code(c) => c.result_shape(),
            Kind::Script(_) => Shape::Any,
            Kind::Switch(Some(branches)) => {
                let mut keys = vec![("branch".to_owned(), Shape::Str), ("value".to_owned(), Shape::Any)];
                keys.extend(branches.iter().map(|b| (b.clone(), Shape::Any)));
                Shape::Object(keys)
            }
            Kind::Switch(None) => Shape::Any,
            Kind::Merge(_) => Shape::Object(vec![("from".into(), Shape::Str), ("value".into(), Shape::Any)]),
            Kind::Unknown => return None,
        })
    }

    /// The shape a parameter path accepts; `None` when the node has no such parameter.
    pub fn param(&self, path: &str) -> Option<Shape> {
        let first = path.split('.').next().unwrap_or("");
        let deeper = path.contains('.');
        match self {
            Kind::Model(info) => shape::param(&info.schema, info.op, path),
            Kind::Code(c) if c.inputs().is_empty() => Some(Shape::Any),
            Kind::Code(c) => {
                let port = c.inputs().iter().find(|p| p.name == first)?;
                Some(if deeper { port.shape.at(&path[first.len() + 1..]).ok()?.clone() } else { port.shape.clone() })
            }
            Kind::Script(_) => (first != "script" && super::script::valid_variable(first)).then_some(Shape::Any),
            Kind::Switch(_) => match first {
                "value" => Some(Shape::Any),
                "condition" if !deeper => Some(Shape::Bool),
                _ => None,
            },
            Kind::Merge(_) | Kind::Unknown => None,
        }
    }

    /// The model node info, for model nodes.
    pub fn model(&self) -> Option<&NodeInfo> {
        match self {
            Kind::Model(i) => Some(i),
            _ => None,
        }
    }
}
