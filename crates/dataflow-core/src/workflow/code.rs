//! Your own code as workflow nodes: async Rust functions registered on a [`Catalog`] under a
//! name, used in workflows (built or loaded from files) like any other node type.
//!
//! A code node receives its parameters (static values, `${...}` templates and connections
//! resolved) as one JSON object and returns a JSON value. When it returns an object, every key
//! is an output other nodes can connect to (`enrich.score`, `${enrich.tags.0}`): one code node
//! can feed several nodes ("multi-output").
//!
//! - [`Catalog::register_fn`] registers a closure; its inputs and outputs are not declared, so
//!   connections to and from it are checked at run time.
//! - [`Catalog::register`] registers a [`CodeNode`] that declares its input and output
//!   [`Port`]s, so validation type-checks connections to and from it before anything runs.

use std::future::Future;
use std::sync::Arc;

use dataflow_sql::{Error, ErrorCode, Result};
use futures::future::BoxFuture;
use serde_json::Value as J;

use super::catalog::Catalog;
use super::shape::Shape;

/// The error a code node may return: anything that converts into a boxed error (`String`,
/// `&str`, a DataFlow [`Error`], `std::io::Error`, `anyhow::Error`, ...). A DataFlow error
/// keeps its code; anything else becomes DF-807 naming the node.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One declared input or output of a [`CodeNode`].
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    /// The parameter (input) or result key (output).
    pub name: String,
    /// Its static type.
    pub shape: Shape,
    /// For inputs: whether it must be supplied. For outputs: whether every result has it.
    pub required: bool,
}

impl Port {
    /// A required port.
    pub fn new(name: impl Into<String>, shape: Shape) -> Port {
        Port { name: name.into(), shape, required: true }
    }

    /// An optional port.
    pub fn optional(name: impl Into<String>, shape: Shape) -> Port {
        Port { name: name.into(), shape, required: false }
    }
}

/// A node implemented in Rust, with declared inputs and outputs.
///
/// ```
/// use dataflow_core::workflow::{BoxError, CodeNode, Port, Shape};
/// use futures::future::BoxFuture;
/// use serde_json::{Value, json};
///
/// struct Score;
/// impl CodeNode for Score {
///     fn inputs(&self) -> Vec<Port> { vec![Port::new("age", Shape::Int)] }
///     fn outputs(&self) -> Vec<Port> { vec![Port::new("score", Shape::Int)] }
///     fn run(&self, inputs: Value) -> BoxFuture<'static, Result<Value, BoxError>> {
///         Box::pin(async move { Ok(json!({"score": inputs["age"].as_i64().unwrap_or(0) * 2})) })
///     }
/// }
/// ```
pub trait CodeNode: Send + Sync + 'static {
    /// The parameters it takes. Empty (the default): any object, checked by the node itself.
    fn inputs(&self) -> Vec<Port> {
        Vec::new()
    }

    /// The keys of the object it returns. Empty (the default): not declared, any value.
    fn outputs(&self) -> Vec<Port> {
        Vec::new()
    }

    /// Runs the node on its resolved parameters.
    fn run(&self, inputs: J) -> BoxFuture<'static, std::result::Result<J, BoxError>>;
}

/// A closure as a [`CodeNode`] (no declared ports).
struct FnNode<F>(F);

impl<F, Fut, E> CodeNode for FnNode<F>
where
    F: Fn(J) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<J, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    fn run(&self, inputs: J) -> BoxFuture<'static, std::result::Result<J, BoxError>> {
        let fut = (self.0)(inputs);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// A registered code node (cheap to clone).
#[derive(Clone)]
pub struct CodeNodeRef {
    pub(crate) name: String,
    pub(crate) node: Arc<dyn CodeNode>,
    pub(crate) inputs: Arc<Vec<Port>>,
    pub(crate) outputs: Arc<Vec<Port>>,
}

impl std::fmt::Debug for CodeNodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeNode").field("name", &self.name).field("inputs", &self.inputs).finish_non_exhaustive()
    }
}

impl CodeNodeRef {
    /// The name it is registered under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its declared inputs (empty: undeclared).
    pub fn inputs(&self) -> &[Port] {
        &self.inputs
    }

    /// Its declared outputs (empty: undeclared).
    pub fn outputs(&self) -> &[Port] {
        &self.outputs
    }

    /// The static shape of its result.
    pub fn result_shape(&self) -> Shape {
        if self.outputs.is_empty() {
            Shape::Any
        } else {
            Shape::Object(self.outputs.iter().map(|p| (p.name.clone(), p.shape.clone())).collect())
        }
    }

    /// Runs it; errors become DataFlow errors naming the node.
    pub(crate) async fn call(&self, node: &str, inputs: J) -> Result<J> {
        let out = self.node.run(inputs).await.map_err(|e| to_df(node, &self.name, e))?;
        for p in self.outputs.iter().filter(|p| p.required) {
            if out.get(&p.name).is_none() {
                return Err(Error::new(
                    ErrorCode::CODE_NODE_FAILED,
                    format!(
                        "code node `{node}` ({}) returned no `{}`, which it declares as an output",
                        self.name, p.name
                    ),
                )
                .node(node)
                .field(&p.name)
                .fix(format!("return an object with `{}` from the node's `run`", p.name)));
            }
        }
        Ok(out)
    }
}

fn to_df(node: &str, name: &str, e: BoxError) -> Error {
    match e.downcast::<Error>() {
        Ok(df) => df.or_node(node),
        Err(other) => Error::new(ErrorCode::CODE_NODE_FAILED, format!("code node `{node}` ({name}) failed: {other}"))
            .node(node)
            .fix("the error comes from the node's own Rust code; the results of the nodes that completed are on the failure"),
    }
}

/// Names the runtime provides itself; code nodes cannot take them.
pub(crate) const BUILTIN: [&str; 3] = ["SwitchNode", "MergeNode", "ScriptNode"];

impl Catalog {
    /// Registers an async closure as node type `name`. Its parameters arrive as one JSON
    /// object; the value it returns is its result (an object's keys are connectable outputs).
    ///
    /// ```
    /// use dataflow_core::workflow::Catalog;
    /// use serde_json::{Value, json};
    ///
    /// let mut catalog = Catalog::default();
    /// catalog
    ///     .register_fn("enrich", |inputs: Value| async move {
    ///         let name = inputs["name"].as_str().ok_or("`name` must be a string")?;
    ///         Ok::<_, &str>(json!({"display": name.to_uppercase(), "len": name.len()}))
    ///     })
    ///     .unwrap();
    /// ```
    pub fn register_fn<F, Fut, E>(&mut self, name: impl Into<String>, f: F) -> Result<&mut Self>
    where
        F: Fn(J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<J, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        self.register(name, FnNode(f))
    }

    /// Registers a [`CodeNode`] (with declared ports) as node type `name`.
    pub fn register(&mut self, name: impl Into<String>, node: impl CodeNode) -> Result<&mut Self> {
        let name = name.into();
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(Error::new(ErrorCode::UNKNOWN_NODE_TYPE, format!("`{name}` is not a valid node type name"))
                .fix("use letters, digits, `_` and `-`, starting with a letter, e.g. `enrich_order`"));
        }
        if self.get(&name).is_some() || self.code.contains_key(&name) || BUILTIN.contains(&name.as_str()) {
            return Err(Error::new(
                ErrorCode::UNKNOWN_NODE_TYPE,
                format!("node type `{name}` already exists (a model node type, a built-in node or a code node)"),
            )
            .fix("give the code node a name of its own, e.g. `enrich_order`"));
        }
        let node: Arc<dyn CodeNode> = Arc::new(node);
        let r = CodeNodeRef {
            inputs: Arc::new(node.inputs()),
            outputs: Arc::new(node.outputs()),
            name: name.clone(),
            node,
        };
        self.code.insert(name, r);
        Ok(self)
    }

    /// A registered code node.
    pub fn code_node(&self, name: &str) -> Option<&CodeNodeRef> {
        self.code.get(name)
    }
}
