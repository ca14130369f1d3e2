//! DataFlow's async runtime: the [`DataFlow`] handle (pools, configuration, model registry),
//! the eleven operations written once, the typed and dynamic [`Express`] API, transactions and
//! the classification of database errors into `DF-5xx` codes.
//!
//! Backends: PostgreSQL, MySQL/MariaDB and SQLite, through sqlx with one pool type per backend.

pub mod audit;
pub mod cache;
pub mod contract;
pub mod db;
pub(crate) mod decode;
pub mod error;
pub mod express;
pub mod migrate;
pub mod observe;
pub(crate) mod ops;
pub mod protect;
pub mod query_cache;
pub(crate) mod tenant;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tx;
pub mod workflow;

pub use dataflow_sql::Compat;
pub use dataflow_sql::changes::Changes;
pub use db::config::{Config, DataFlowBuilder};
pub use db::replicas::{ReplicaConfig, ReplicaStats};
pub use db::{DataFlow, RawPool};
pub use express::typed::Page;
pub use express::{Express, IntoId, Query, Stored};
pub use migrate::MigrationLock;
pub use ops::bulk_upsert::{ConflictResolution, UpsertCounts};
pub use query_cache::{QueryCacheConfig, QueryCacheStats};
pub use tx::Tx;
pub use tx::{Isolation, RetryPolicy, TxOptions, is_retryable};
