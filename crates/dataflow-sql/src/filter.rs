//! MongoDB-style filters (FEATURES §3): parse JSON into a validated tree against a
//! [`ModelSchema`], then render it to a sea-query [`Condition`] for a [`Dialect`].
//!
//! ```
//! use dataflow_sql::{Dialect, FieldDef, FieldType, ModelSchema, filter::Filter};
//! use sea_query::{PostgresQueryBuilder, Query, Asterisk, Alias};
//!
//! let schema = ModelSchema::new("User", vec![
//!     FieldDef::new("id", FieldType::String),
//!     FieldDef::new("age", FieldType::I32).nullable(),
//! ]);
//! let f = Filter::parse(&serde_json::json!({"age": {"$ne": 5}}), &schema).unwrap();
//! let (sql, values) = Query::select()
//!     .column(Asterisk)
//!     .from(Alias::new(&schema.table))
//!     .cond_where(f.to_condition(&schema, Dialect::Postgres))
//!     .build(PostgresQueryBuilder);
//! assert_eq!(sql, r#"SELECT * FROM "users" WHERE "age" <> $1 OR "age" IS NULL"#);
//! assert_eq!(values.0.len(), 1);
//! ```
//!
//! Semantics, identical on every dialect and in the reference evaluator
//! (`tests/support/reference.rs`):
//! - comparisons never match NULL; `$ne`/`$nin` match NULL (unless the `$nin` list holds `null`);
//! - `$in: []` matches nothing, `$nin: []` everything; `null` inside `$in` also matches NULL;
//! - `$not`/`$nor` are two-valued: a row the negated part does not match (NULL included) matches;
//! - strings compare case-sensitively by code point; `$ilike` and `$options: "i"` fold case;
//! - JSON paths: a value compares only with an operand of the same JSON type (string, number,
//!   boolean); a missing path and JSON `null` are both NULL.
//!
//! Every operand is a bound value and every identifier comes from the schema; JSON path segments
//! must be identifier-like (`[A-Za-z_][A-Za-z0-9_]*`) and are bound as values too.
//!
//! Dialect notes (the SQL is in `filter/render/<dialect>.rs`):
//! - PostgreSQL: string ordering uses `COLLATE "C"`; `$regex` is `~`/`~*`; JSON arrays use jsonb
//!   `@>`, `jsonb_array_length`, `jsonb_array_elements_text`; native arrays (`native_arrays`) use
//!   `@>`, `&&`, `cardinality`, `unnest`; paths use `jsonb_extract_path[_text]` + `jsonb_typeof`.
//! - MySQL/MariaDB: columns are expected to carry a binary no-pad collation (DDL); strings taken out
//!   of JSON get `COLLATE` [`crate::ddl::MYSQL_COLLATION`] (`utf8mb4_nopad_bin`, a MariaDB name).
//!   `$regex` is `REGEXP` with an inline `(?i)` for `$options: "i"`; arrays use `JSON_CONTAINS`,
//!   `JSON_OVERLAPS` (MariaDB 10.9+, MySQL 8.0.17+), `JSON_LENGTH`, `JSON_TABLE`.
//! - SQLite: `$like` and the literal string operators render as GLOB (SQLite's LIKE ignores ASCII
//!   case); `$ilike`, `$regex` render as `x REGEXP ?`, i.e. `regexp(pattern, value)`, which **the
//!   runtime must register** with Rust `regex` crate semantics (inline `(?i)`/`(?s)` flags,
//!   unanchored search, NULL when the value is NULL). Decimals (stored as text) compare through
//!   `CAST(.. AS NUMERIC)`; arrays and paths use `json_each`, `json_array_length`, `json_type`,
//!   `json_extract`.

mod ast;
mod ops;
mod parse;
mod render;

use sea_query::Condition;

use crate::Dialect;
use crate::error::Result;
use crate::schema::ModelSchema;

/// A validated filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    root: ast::Node,
}

impl Filter {
    /// Parses Mongo-style JSON against a schema (FEATURES §3). `{}` parses to an empty filter.
    ///
    /// Errors: DF-102 wrong operand type (naming field, operator, expected type), DF-103 unknown
    /// field (with the closest name), DF-104 unknown or inapplicable operator (with the closest
    /// operator), DF-105 malformed filter (empty `$and`, `$in` with a non-list, bad path, ...).
    pub fn parse(json: &serde_json::Value, schema: &ModelSchema) -> Result<Filter> {
        let root = parse::Parser { schema }.filter(json, 0)?;
        Ok(Filter { root })
    }

    /// The empty filter (matches every row).
    pub fn all() -> Filter {
        Filter { root: ast::Node::And(Vec::new()) }
    }

    /// True when the filter matches every row by construction (`{}` or degenerate forms such as
    /// `{"$and": [{}]}`, `{"f": {"$nin": []}}`, `{"id": {"$exists": true}}`) — destructive bulk
    /// operations then need `confirmed: true`.
    pub fn matches_everything(&self) -> bool {
        self.root.matches_everything()
    }

    /// True when the filter matches no row by construction (e.g. `{"f": {"$in": []}}`).
    pub fn matches_nothing(&self) -> bool {
        self.root.matches_nothing()
    }

    /// True when the filter is empty (`{}`): no condition at all.
    pub fn is_empty(&self) -> bool {
        matches!(&self.root, ast::Node::And(v) if v.is_empty())
    }

    /// Renders to a sea-query condition for a dialect. Identifiers come from the schema only,
    /// columns are unqualified, values are bound. An empty filter gives an empty `Condition::all()`.
    pub fn to_condition(&self, schema: &ModelSchema, dialect: Dialect) -> Condition {
        let native = schema.options.native_arrays && dialect == Dialect::Postgres;
        render::Renderer { b: render::backend(dialect), native }.condition(&self.root)
    }

    /// True if the filter pins one record: equality (ANDed at the top) on `id`, on a unique field,
    /// or on every field of a unique index.
    pub fn identifies_one(&self, schema: &ModelSchema) -> bool {
        self.root.identifies_one(schema)
    }

    /// The value `field` is pinned to by an equality ANDed at the top of the filter
    /// (`{"id": 5}`, `{"id": {"$eq": 5}, "x": ..}`), if any.
    pub fn pinned_value(&self, field: &str) -> Option<&crate::Value> {
        self.root.pinned_value(field)
    }
}
