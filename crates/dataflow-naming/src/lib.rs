//! DataFlow's naming rules, in one place for the `#[dataflow::model]` macro (compile time) and
//! `dataflow-sql` (run time): table-name derivation (`snake_case` + English plural), the SQL
//! identifier rule, and the closest-name search behind "did you mean" hints.
//!
//! No dependencies, so the proc-macro crate can use it without depending on a runtime crate.

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

/// Why a name is not a valid SQL identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierProblem {
    /// It does not match `^[A-Za-z_][A-Za-z0-9_]*$`.
    Characters,
    /// It is longer than [`MAX_IDENTIFIER_LEN`] bytes (the byte length is given).
    TooLong(usize),
}

/// The longest identifier accepted, in bytes (PostgreSQL's limit, the strictest).
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// Why `name` is not a valid SQL identifier (`^[A-Za-z_][A-Za-z0-9_]*$`, at most
/// [`MAX_IDENTIFIER_LEN`] bytes), or `None` when it is. Identifiers are validated, never escaped.
pub fn identifier_problem(name: &str) -> Option<IdentifierProblem> {
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok_first || !ok_rest {
        return Some(IdentifierProblem::Characters);
    }
    (name.len() > MAX_IDENTIFIER_LEN).then_some(IdentifierProblem::TooLong(name.len()))
}

/// The closest candidate by edit distance (case-insensitive), for "did you mean" hints; `None`
/// when every candidate is too far off (more than half the length, at least 2 edits allowed).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_identifiers() {
        assert_eq!(table_name("UserActivity"), "user_activities");
        assert_eq!(table_name("XMLParser"), "xml_parsers");
        assert_eq!(table_name("Person"), "people");
        assert_eq!(identifier_problem("ok_name"), None);
        assert_eq!(identifier_problem("1x"), Some(IdentifierProblem::Characters));
        assert_eq!(identifier_problem(&"a".repeat(64)), Some(IdentifierProblem::TooLong(64)));
        assert_eq!(closest("emial", ["name", "email"]), Some("email"));
        assert_eq!(closest("zzzzzzzz", ["name", "email"]), None);
    }
}
