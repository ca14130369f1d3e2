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
    ModelCache, ModelOptions, ModelSchema, NodeType, Operation, Result, Value,
};

pub use dataflow_macros::model;

/// Items generated code reaches through `::dataflow::__private`. Not public API.
#[doc(hidden)]
pub mod __private;

pub use dataflow_core::{Changes, Isolation, MigrationLock, RetryPolicy, TxOptions};
pub use dataflow_core::{
    Compat, Config, ConflictResolution, DataFlow, DataFlowBuilder, Express, IntoId, Page, Query, Stored, Tx,
    UpsertCounts,
};
pub use dataflow_core::{QueryCacheConfig, QueryCacheStats, ReplicaConfig, ReplicaStats};
pub use dataflow_core::{RawPool, audit, cache, migrate, observe, protect, query_cache, workflow};

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

/// The user guide's Rust examples (`docs/guide/`), compiled as doctests of this crate so they
/// cannot drift from the API: `cargo test -p dataflow --doc`.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../../docs/guide/getting-started.md")]
    struct GettingStarted;
    #[doc = include_str!("../../../docs/guide/models.md")]
    struct Models;
    #[doc = include_str!("../../../docs/guide/operations.md")]
    struct Operations;
    #[doc = include_str!("../../../docs/guide/express.md")]
    struct Express;
    #[doc = include_str!("../../../docs/guide/transactions.md")]
    struct Transactions;
    #[doc = include_str!("../../../docs/guide/multi-tenancy.md")]
    struct MultiTenancy;
    #[doc = include_str!("../../../docs/guide/migrations.md")]
    struct Migrations;
    #[doc = include_str!("../../../docs/guide/configuration.md")]
    struct Configuration;
    #[doc = include_str!("../../../docs/guide/scaling.md")]
    struct Scaling;
    #[doc = include_str!("../../../docs/guide/cli.md")]
    struct Cli;
    #[doc = include_str!("../../../docs/guide/models-file.md")]
    struct ModelsFile;
    #[doc = include_str!("../../../docs/guide/coming-from-python.md")]
    struct ComingFromPython;
    #[doc = include_str!("../../../docs/guide/protection-and-audit.md")]
    struct ProtectionAndAudit;
}
/// The snippets of `docs/guide/operating.md`, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/operating.md")]
pub struct OperatingGuide;
