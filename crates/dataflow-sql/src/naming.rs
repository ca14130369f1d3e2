//! Table-name derivation and identifier validation.
//!
//! Identifiers are validated, never escaped: `^[A-Za-z_][A-Za-z0-9_]*$`.

use crate::error::{Error, ErrorCode, Result};

/// `UserActivity` → `user_activities`, `XMLParser` → `xml_parsers`, `Person` → `people`.
pub fn table_name(model: &str) -> String {
    let snake = snake_case(model);
    match snake.rfind('_') {
        Some(i) => format!("{}_{}", &snake[..i], pluralize(&snake[i + 1..])),
        None => pluralize(&snake),
    }
}

/// CamelCase → snake_case, keeping acronyms together (`XMLParser` → `xml_parser`).
pub fn snake_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None => false,
                Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

const UNCOUNTABLE: &[&str] = &[
    "data",
    "metadata",
    "news",
    "series",
    "species",
    "information",
    "equipment",
    "sheep",
    "fish",
    "deer",
    "money",
    "rice",
    "feedback",
    "software",
    "hardware",
    "media",
    "staff",
    "moose",
    "aircraft",
];

const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("tooth", "teeth"),
    ("foot", "feet"),
    ("ox", "oxen"),
    ("leaf", "leaves"),
    ("life", "lives"),
    ("knife", "knives"),
    ("wife", "wives"),
    ("half", "halves"),
    ("wolf", "wolves"),
    ("analysis", "analyses"),
    ("crisis", "crises"),
    ("criterion", "criteria"),
    ("index", "indices"),
    ("matrix", "matrices"),
    ("vertex", "vertices"),
    ("quiz", "quizzes"),
    ("status", "statuses"),
    ("alias", "aliases"),
    ("bus", "buses"),
    ("axis", "axes"),
    ("datum", "data"),
];

/// English plural of one lowercase word.
pub fn pluralize(word: &str) -> String {
    if word.is_empty() || UNCOUNTABLE.contains(&word) {
        return word.to_owned();
    }
    if let Some((_, p)) = IRREGULAR.iter().find(|(s, _)| *s == word) {
        return (*p).to_owned();
    }
    let ends = |s: &str| word.ends_with(s);
    if ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh") {
        return format!("{word}es");
    }
    if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    format!("{word}s")
}

/// Validates an identifier: `^[A-Za-z_][A-Za-z0-9_]*$` and at most 63 bytes (the strictest
/// dialect limit; [`crate::ModelSchema::validate_for`] re-checks per dialect). `what` names
/// the kind of identifier in the message ("table name", "column name", ...).
pub fn validate_identifier(name: &str, what: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok_first || !ok_rest {
        return Err(Error::new(
            ErrorCode::INVALID_IDENTIFIER,
            format!("invalid {what} `{}`: identifiers must match ^[A-Za-z_][A-Za-z0-9_]*$", name.escape_debug()),
        )
        .field(name)
        .fix("use only ASCII letters, digits and `_`, starting with a letter or `_`"));
    }
    if name.len() > 63 {
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
