//! MongoDB-style filters (docs/guide/filters.md): parse JSON into a validated tree against a
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
//! - strings compare case-sensitively by code point; `$ilike` and `$options: "i"` fold case with
//!   Unicode simple case folding, applied to the pattern by DataFlow (`filter/regex.rs`), never by
//!   the database's collation or `lower()`;
//! - numbers compare as numbers: on integer fields a fractional operand becomes an integer bound
//!   (`> 17.5` is `>= 18`) or matches nothing (`= 17.5`);
//! - a list on an array field is whole-array equality (order and duplicates significant);
//! - JSON paths: a value compares only with an operand of the same JSON type (string, number,
//!   boolean); a missing path and JSON `null` are both NULL; `$contains` on a path holding an
//!   array is typed element membership;
//! - size limits ([`FilterLimits`], DF-105) are checked while parsing, the bind-parameter limit of
//!   the dialect by [`Filter::condition`]; long `$and`/`$or` lists render as balanced groups.
//!
//! User documentation: `docs/guide/filters.md`.
//!
//! Every operand is a bound value and every identifier comes from the schema; JSON path segments
//! must be identifier-like (`[A-Za-z_][A-Za-z0-9_]*`) and are bound as values too.
//!
//! Dialect notes (the SQL is in `filter/render/<dialect>.rs`):
//! - Every dialect: `$regex` and `$ilike` are rendered as a case-sensitive regular-expression
//!   match of the pattern printed in a portable subset (`filter/regex.rs`).
//! - PostgreSQL: string ordering uses `COLLATE "C"`; `$regex` is `~`; JSON arrays use jsonb
//!   `@>`, `jsonb_array_length`, `jsonb_array_elements_text`; native arrays (`native_arrays`) use
//!   `@>`, `&&`, `cardinality`, `unnest`; paths use `jsonb_extract_path[_text]` + `jsonb_typeof`.
//! - MySQL/MariaDB: columns are expected to carry a binary no-pad collation (DDL); strings taken out
//!   of JSON get `COLLATE` [`crate::ddl::MYSQL_COLLATION`] (`utf8mb4_nopad_bin`, a MariaDB name).
//!   `$regex` is `REGEXP` (`$` printed as `\z`); arrays use `JSON_CONTAINS`, `JSON_EQUALS`,
//!   `JSON_OVERLAPS` (MariaDB 10.9+, MySQL 8.0.17+), `JSON_LENGTH`, `JSON_TABLE`.
//! - SQLite: `$like` and the literal string operators render as GLOB (SQLite's LIKE ignores ASCII
//!   case); `$ilike`, `$regex` render as `x REGEXP ?`, i.e. `regexp(pattern, value)`, which **the
//!   runtime must register** with Rust `regex` crate semantics (unanchored search, NULL when the
//!   value is NULL). Decimals (stored as text) compare through
//!   `CAST(.. AS NUMERIC)`; arrays and paths use `json_each`, `json_array_length`, `json_type`,
//!   `json_extract`.

mod ast;
mod limits;
mod ops;
mod parse;
mod regex;
mod render;
mod shape_cache;
mod tautology;

pub use limits::{FilterLimits, MAX_BRANCHES, MAX_LIST_VALUES, MAX_NODES};
pub use regex::{MAX_REGEX_EXPANDED, MAX_REGEX_LEN, MAX_REPEAT};
use sea_query::Condition;
pub use shape_cache::{SHAPE_CACHE_CAPACITY, SHAPE_CACHE_MAX_TEXT, SHAPE_TEXT_INTERN_LIMIT, ShapeCache};

use crate::Dialect;
use crate::error::{Error, ErrorCode, Result};
use crate::mysql_server::MySqlServer;
use crate::schema::ModelSchema;

/// A validated filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    root: ast::Node,
}

impl Filter {
    /// Parses Mongo-style JSON against a schema (docs/guide/filters.md). `{}` parses to an empty filter.
    ///
    /// Errors: DF-102 wrong operand type (naming field, operator, expected type), DF-103 unknown
    /// field (with the closest name), DF-104 unknown or inapplicable operator (with the closest
    /// operator), DF-105 malformed filter (empty `$and`, `$in` with a non-list, bad path, ...).
    pub fn parse(json: &serde_json::Value, schema: &ModelSchema) -> Result<Filter> {
        Filter::parse_with_limits(json, schema, &FilterLimits::default())
    }

    /// [`Filter::parse`] with other size limits than [`FilterLimits::default`]. A filter over a
    /// limit is DF-105 naming the limit.
    pub fn parse_with_limits(json: &serde_json::Value, schema: &ModelSchema, limits: &FilterLimits) -> Result<Filter> {
        let parser = parse::Parser { schema, limits: *limits, nodes: std::cell::Cell::new(0) };
        let root = parser.filter(json, 0)?;
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

    /// True when the filter matches every possible record by its meaning — `{}`, but also
    /// `{"f": {"$startswith": ""}}`, `{"n": {"$gte": i64::MIN}}` on a NOT NULL field or
    /// `{"$or": [{"flag": true}, {"flag": false}]}` (see `filter/tautology.rs`). BulkDelete and
    /// BulkUpdate refuse such a filter without `confirmed: true` (DF-108).
    pub fn is_tautology(&self) -> bool {
        self.matches_everything() || self.excluded_record().is_none()
    }

    /// A record (field name → JSON value; absent fields are unconstrained) that the filter does not
    /// match, or `None` when no such record was found — then the filter is treated as matching
    /// everything. Every field the filter mentions is present; NULL is JSON `null`.
    pub fn excluded_record(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        tautology::witness(&self.root).map(|row| row.into_iter().map(|(k, v)| (k, v.to_json())).collect())
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
        self.render(schema, dialect, MySqlServer::MariaDb)
    }

    fn renderer(schema: &ModelSchema, dialect: Dialect, server: MySqlServer) -> render::Renderer {
        let native = schema.options.native_arrays && dialect == Dialect::Postgres;
        let b = if dialect == Dialect::MySql && server == MySqlServer::MySql8 {
            render::mysql8()
        } else {
            render::backend(dialect)
        };
        render::Renderer { b, native }
    }

    fn render(&self, schema: &ModelSchema, dialect: Dialect, server: MySqlServer) -> Condition {
        Filter::renderer(schema, dialect, server).condition(&self.root)
    }

    /// [`Filter::to_condition`], refused with DF-105 when the statement would bind more values than
    /// the dialect accepts ([`Dialect::max_bind_params`]: PostgreSQL and MySQL 65,535, SQLite
    /// 32,766), e.g. for a very long `$in` list. Runtime operations call this, so the error comes
    /// before any SQL runs.
    pub fn condition(&self, schema: &ModelSchema, dialect: Dialect) -> Result<Condition> {
        self.condition_for(schema, dialect, MySqlServer::MariaDb)
    }

    /// [`Filter::condition`] for a given MySQL-family server (ignored on other dialects): MySQL 8
    /// gets its own collation name and whole-array equality (see [`crate::mysql_server`]).
    pub fn condition_for(&self, schema: &ModelSchema, dialect: Dialect, server: MySqlServer) -> Result<Condition> {
        let cond = self.render(schema, dialect, server);
        // Cheap upper bound first: most filters bind a handful of values.
        let values = self.root.value_count();
        let limit = dialect.max_bind_params();
        if values.saturating_mul(4).saturating_add(64) < limit {
            return Ok(cond);
        }
        let q = sea_query::Query::select().expr(sea_query::Expr::val(1)).cond_where(cond.clone()).to_owned();
        let bound = crate::stmt::Sql::build(&q, dialect).values.0.len();
        // Leave room for the scope, cursor, LIMIT and SET values of the statement around the filter.
        if bound + 64 > limit {
            return Err(Error::new(
                ErrorCode::INVALID_FILTER,
                format!(
                    "the filter binds {bound} values; a {} statement accepts at most {limit} bound parameters \
                     (of which 64 are kept for the statement around the filter)",
                    dialect.name()
                ),
            )
            .model(&schema.name)
            .fix("split the long $in / $nin list over several requests (each under the limit)")
            .fix("or store the wanted keys in a table and filter on a field that marks them"));
        }
        Ok(cond)
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
