//! # DataFlow
//!
//! A zero-config database framework: annotate a struct with `#[dataflow::model]` and get a
//! validated schema plus eleven operations (Create, Read, Update, Delete, List, Count, Upsert,
//! BulkCreate, BulkUpdate, BulkDelete, BulkUpsert) that behave the same on PostgreSQL,
//! MySQL/MariaDB and SQLite.
//!
//! This crate is the facade: it re-exports the public API of `dataflow-sql` and
//! `dataflow-core` and the `model` macro.

extern crate self as dataflow;

pub use dataflow_sql::{
    ArrayElem, Dialect, Error, ErrorCode, ErrorKind, FieldDef, FieldType, FieldValue, IndexDef, ManagedField, Model,
    ModelOptions, ModelSchema, NodeType, Operation, Result, Value,
};

pub use dataflow_macros::model;

/// Items generated code reaches through `::dataflow::__private`. Not public API.
#[doc(hidden)]
pub mod __private;

pub use dataflow_core::{
    Config, ConflictResolution, DataFlow, DataFlowBuilder, Express, IntoId, Page, Query, Stored, Tx, UpsertCounts,
};
pub use dataflow_core::{RawPool, cache, migrate, observe, workflow};

/// Test support for your own suites (feature `testing`): one isolated database per test on
/// every backend, dropped even on panic, and a rollback fixture. See the module's docs.
#[cfg(feature = "testing")]
pub use dataflow_core::testing;
pub use dataflow_sql::error::catalogue;
pub use dataflow_sql::filter::Filter;

/// The names most programs need: `use dataflow::prelude::*;`.
pub mod prelude {
    pub use crate::{DataFlow, Error, Model, Operation, Result, Stored, model};
}

/// The snippets of `docs/guide/operating.md`, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/operating.md")]
pub struct OperatingGuide;
