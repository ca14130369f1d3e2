//! How big a filter may be. Hostile or generated filters must fail with DF-105 before any SQL,
//! never exhaust the stack or the database's bind-parameter limit.

/// Most conditions one `$and` / `$or` / `$nor` list may hold (default of [`FilterLimits::max_branches`]).
pub const MAX_BRANCHES: usize = 10_000;
/// Most values one `$in` / `$nin` / `$all` / `$overlap` list (or array operand) may hold
/// (default of [`FilterLimits::max_list_values`]).
pub const MAX_LIST_VALUES: usize = 100_000;
/// Most nodes a whole filter may have: logical operators, field conditions and list values
/// (default of [`FilterLimits::max_nodes`]).
pub const MAX_NODES: usize = 200_000;

/// The size limits [`Filter::parse`](super::Filter::parse) applies; pass other values to
/// [`Filter::parse_with_limits`](super::Filter::parse_with_limits).
///
/// Independently of these, a filter whose SQL would bind more values than the dialect allows
/// (PostgreSQL and MySQL 65,535, SQLite 32,766) is refused with DF-105 by
/// [`Filter::condition`](super::Filter::condition), and a `$regex` pattern may be at most
/// [`MAX_REGEX_LEN`](super::MAX_REGEX_LEN) bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Most conditions in one `$and` / `$or` / `$nor` list.
    pub max_branches: usize,
    /// Most values in one `$in` / `$nin` / `$all` / `$overlap` list or array operand.
    pub max_list_values: usize,
    /// Most nodes in the whole filter.
    pub max_nodes: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits { max_branches: MAX_BRANCHES, max_list_values: MAX_LIST_VALUES, max_nodes: MAX_NODES }
    }
}
