//! Naming rules, shared with `dataflow-sql` through the dependency-free `dataflow-naming` crate.

pub(crate) use dataflow_naming::{snake_case, table_name};

/// Why `name` is not a valid SQL identifier, as a message, or `None` when it is.
pub(crate) fn identifier_problem(name: &str) -> Option<String> {
    use dataflow_naming::IdentifierProblem;
    dataflow_naming::identifier_problem(name).map(|p| match p {
        IdentifierProblem::Characters => format!("`{}` is not a valid SQL identifier", name.escape_debug()),
        IdentifierProblem::TooLong(n) => format!("`{name}` is {n} bytes long; identifiers are limited to 63"),
    })
}
