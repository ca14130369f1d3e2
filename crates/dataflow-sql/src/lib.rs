//! DataFlow's pure SQL layer: schema metadata, dynamic values, Mongo-style filters,
//! statements and DDL for PostgreSQL, MySQL/MariaDB and SQLite, rendered through sea-query.
//!
//! **Invariant:** this crate does no I/O. It knows nothing of pools, async or sqlx: every
//! public builder returns SQL text plus bound values for a [`Dialect`].

pub mod audit;
pub mod changes;
pub mod compat;
pub mod ddl;
pub mod dialect;
pub mod error;
pub mod filter;
pub mod model;
pub mod mysql_server;
pub mod naming;
pub mod portable;
pub mod schema;
pub mod stmt;
pub mod tenant;
pub mod value;

pub use compat::Compat;
pub use dialect::Dialect;
pub use error::{Error, ErrorCode, ErrorKind, Result};
pub use model::{Columns, FieldValue, Model, NodeType, Operation, Record, ValueColumns};
pub use schema::{ArrayElem, FieldDef, FieldType, IndexDef, ManagedField, ModelCache, ModelOptions, ModelSchema};
pub use value::Value;
