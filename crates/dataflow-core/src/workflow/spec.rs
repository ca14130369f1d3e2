//! The serialisable description of a workflow: nodes, their parameters and connections.
//!
//! This is also the file format (JSON or YAML, see [`super::file`]):
//!
//! ```yaml
//! name: onboarding
//! nodes:
//!   - id: create
//!     type: UserCreateNode
//!     params: {id: u1, name: Alice}
//!   - id: read
//!     type: UserReadNode
//! connections:
//!   - from: create
//!     output: id
//!     to: read
//!     param: id
//! ```

use serde::{Deserialize, Serialize};

/// One node: its id (unique in the workflow), its node type (`UserCreateNode`) and its
/// static parameters (which may contain `${node.path}` templates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The node id, unique within the workflow.
    pub id: String,
    /// The registered node type (`<Model><Operation>Node`).
    #[serde(rename = "type")]
    pub node_type: String,
    /// Static parameters (a JSON object); `${node.path}` templates are resolved at run time.
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub params: serde_json::Value,
    /// Ordering edges that carry no data: this node runs after these nodes. `switch.branch`
    /// (a `SwitchNode` id and one of its branches) also puts the node on that branch: it is
    /// skipped when the switch takes another one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
}

impl NodeSpec {
    /// A node of a type with an id and parameters.
    pub fn new(node_type: impl Into<String>, id: impl Into<String>, params: serde_json::Value) -> NodeSpec {
        NodeSpec { id: id.into(), node_type: node_type.into(), params, after: Vec::new() }
    }
}

/// The type of a declared workflow input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// A string.
    String,
    /// An integer.
    Integer,
    /// Any number.
    Number,
    /// `true` / `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON list.
    Array,
    /// Any JSON value.
    #[default]
    Any,
}

impl InputType {
    /// The name used in files and messages.
    pub fn name(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Integer => "integer",
            InputType::Number => "number",
            InputType::Boolean => "boolean",
            InputType::Object => "object",
            InputType::Array => "array",
            InputType::Any => "any",
        }
    }

    /// Whether a JSON value is of this type.
    pub fn accepts(self, v: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match self {
            InputType::String => v.is_string(),
            InputType::Integer => v.is_i64() || v.is_u64(),
            InputType::Number => v.is_number(),
            InputType::Boolean => v.is_boolean(),
            InputType::Object => v.is_object(),
            InputType::Array => v.is_array(),
            InputType::Any => !matches!(v, J::Null),
        }
    }
}

/// A declared workflow input: referenced as `${inputs.<name>}` and checked before any node runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The input name (letters, digits, `_`).
    pub name: String,
    /// Its type.
    #[serde(rename = "type", default)]
    pub ty: InputType,
    /// Whether a value must be given (default: required unless there is a default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The value used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// What the input is for (shown by the Inspector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl InputSpec {
    /// A required input of a type.
    pub fn new(name: impl Into<String>, ty: InputType) -> InputSpec {
        InputSpec { name: name.into(), ty, required: None, default: None, description: None }
    }

    /// The same input with a default value (and so not required).
    pub fn with_default(mut self, v: serde_json::Value) -> InputSpec {
        self.default = Some(v);
        self
    }

    /// The same input, optional (no default: templates that use it fail if it is not given).
    pub fn optional(mut self) -> InputSpec {
        self.required = Some(false);
        self
    }

    /// Whether a value must be given.
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(self.default.is_none())
    }
}

/// A connection: the value at `output` (a dotted path into the source node's result, e.g.
/// `record.id` or `records.0.email`; empty for the whole result) becomes parameter `param` of
/// the target node (a dotted path too: `filter.id` sets `{"filter": {"id": ..}}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Source node id.
    pub from: String,
    /// Dotted path into the source node's result.
    #[serde(default)]
    pub output: String,
    /// Target node id.
    pub to: String,
    /// Dotted parameter path on the target node.
    pub param: String,
}

impl std::fmt::Display for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let out = if self.output.is_empty() { String::new() } else { format!(".{}", self.output) };
        write!(f, "{}{out} -> {}.{}", self.from, self.to, self.param)
    }
}

/// A whole workflow as data: what [`super::WorkflowBuilder`] collects and what files contain.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    /// An optional name (shown by the Inspector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Declared inputs (`${inputs.<name>}`), checked before anything runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputSpec>,
    /// The nodes, in the order they were added.
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    /// The connections, in the order they were added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<Connection>,
}

impl WorkflowSpec {
    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

fn is_empty_object(v: &serde_json::Value) -> bool {
    v.as_object().is_some_and(serde_json::Map::is_empty)
}

/// Splits a dotted path into segments; the empty path has no segments.
pub(crate) fn segments(path: &str) -> Vec<&str> {
    if path.is_empty() { Vec::new() } else { path.split('.').collect() }
}

/// The value at a dotted path inside a JSON value (`records.0.email`).
pub(crate) fn get_path<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    segments(path).into_iter().try_fold(v, |cur, seg| match cur {
        serde_json::Value::Object(m) => m.get(seg),
        serde_json::Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// Sets the value at a dotted parameter path, creating objects on the way (`filter.id`).
pub(crate) fn set_path(target: &mut serde_json::Value, path: &str, value: serde_json::Value) {
    let segs = segments(path);
    let mut cur = target;
    for (i, seg) in segs.iter().enumerate() {
        if !cur.is_object() {
            *cur = empty_object();
        }
        let serde_json::Value::Object(m) = cur else { return };
        if i + 1 == segs.len() {
            m.insert((*seg).to_owned(), value);
            return;
        }
        cur = m.entry((*seg).to_owned()).or_insert_with(empty_object);
    }
    *cur = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_get_and_set() {
        let v = json!({"records": [{"email": "a@x"}], "count": 1});
        assert_eq!(get_path(&v, "records.0.email"), Some(&json!("a@x")));
        assert_eq!(get_path(&v, "records.1.email"), None);
        assert_eq!(get_path(&v, ""), Some(&v));
        let mut p = json!({"fields": {"name": "x"}});
        set_path(&mut p, "filter.id", json!(3));
        assert_eq!(p, json!({"fields": {"name": "x"}, "filter": {"id": 3}}));
    }
}
