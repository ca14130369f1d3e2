//! Table-name derivation and identifier validation.
//!
//! Identifiers are validated, never escaped: `^[A-Za-z_][A-Za-z0-9_]*$`.

use crate::error::{Error, ErrorCode, Result};

pub use dataflow_naming::{pluralize, snake_case, table_name};

/// Validates an identifier: `^[A-Za-z_][A-Za-z0-9_]*$` and at most 63 bytes (the strictest
/// dialect limit; [`crate::ModelSchema::validate_for`] re-checks per dialect). `what` names
/// the kind of identifier in the message ("table name", "column name", ...).
pub fn validate_identifier(name: &str, what: &str) -> Result<()> {
    use dataflow_naming::IdentifierProblem;
    let problem = dataflow_naming::identifier_problem(name);
    if problem == Some(IdentifierProblem::Characters) {
        return Err(Error::new(
            ErrorCode::INVALID_IDENTIFIER,
            format!("invalid {what} `{}`: identifiers must match ^[A-Za-z_][A-Za-z0-9_]*$", name.escape_debug()),
        )
        .field(name)
        .fix("use only ASCII letters, digits and `_`, starting with a letter or `_`"));
    }
    if let Some(IdentifierProblem::TooLong(_)) = problem {
        return Err(Error::new(
            ErrorCode::INVALID_IDENTIFIER,
            format!("{what} `{name}` is {} bytes; the limit is 63", name.len()),
        )
        .field(name)
        .fix("choose a shorter name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_follow_features_examples() {
        for (model, table) in [
            ("User", "users"),
            ("Person", "people"),
            ("Category", "categories"),
            ("Status", "statuses"),
            ("Address", "addresses"),
            ("Child", "children"),
            ("XMLParser", "xml_parsers"),
            ("UserActivity", "user_activities"),
            ("Data", "data"),
            ("Metadata", "metadata"),
            ("News", "news"),
            ("Series", "series"),
            ("Box", "boxes"),
            ("Day", "days"),
            ("OrderItem", "order_items"),
            ("HTTPRequest", "http_requests"),
            ("Key", "keys"),
            ("Church", "churches"),
            ("Wish", "wishes"),
        ] {
            assert_eq!(table_name(model), table, "{model}");
        }
    }

    #[test]
    fn identifiers_are_rejected_not_escaped() {
        assert!(validate_identifier("users", "table name").is_ok());
        assert!(validate_identifier("_x9", "table name").is_ok());
        for bad in ["", "9a", "a-b", "a b", "users; DROP TABLE x", "naïve", "a\"b", &"x".repeat(64)] {
            let e = validate_identifier(bad, "table name").unwrap_err();
            assert_eq!(e.code().to_string(), "DF-601", "{bad}");
        }
    }
}
