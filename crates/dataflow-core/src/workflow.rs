//! Workflows (docs/guide/workflows.md): nodes of the generated node types (`UserCreateNode`, ...) wired by
//! connections and `${node.path}` templates, validated at build time in four layers, executed
//! level by level with independent nodes running concurrently, optionally in one transaction.
//!
//! - [`WorkflowBuilder`] collects nodes and connections; `build()` validates and returns an
//!   immutable [`Workflow`]. Validation is fail-fast or collect-all ([`ValidationMode`]).
//! - [`Workflow::execute`] / [`Workflow::execute_in_transaction`] run it and return node id →
//!   JSON result; a failing node stops its dependents ([`WorkflowFailure`], DF-803).
//! - [`Inspector`] reads a workflow (or a builder) without executing it.
//! - Workflows load from and save to JSON and YAML ([`Format`], [`Workflow::load`]).
//!
//! **Invariant:** a node runs through the same operation code as Express and the typed API:
//! there is no second, weaker validation path.

mod builder;
mod catalog;
mod code;
mod file;
mod graph;
mod inspector;
mod kind;
mod registry_view;
mod runtime;
pub mod script;
pub mod shape;
mod spec;
mod template;
pub(crate) mod validate;

pub use builder::{Workflow, WorkflowBuilder};
pub use catalog::{Catalog, NodeInfo};
pub use code::{BoxError, CodeNode, CodeNodeRef, Port};
pub use file::Format;
pub use graph::Graph;
pub use inspector::{Inspector, TraceStep};
pub use runtime::{NodeTiming, WorkflowFailure, WorkflowOutput};
pub use shape::Shape;
pub use spec::{Connection, InputSpec, InputType, NodeSpec, WorkflowSpec};
pub use template::TemplateRef;
pub(crate) use validate::example as example_value;
pub use validate::{Edge, ValidationMode, Via};
