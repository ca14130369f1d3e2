//! Table-name derivation, duplicated from `dataflow_sql::naming` (this crate must not depend on
//! a runtime crate). Keep the two in sync: `dataflow-tests/tests/model_roundtrip.rs` compares
//! the tables of generated models with `dataflow_sql::naming::table_name`.

/// `UserActivity` → `user_activities`, `XMLParser` → `xml_parsers`, `Person` → `people`.
pub(crate) fn table_name(model: &str) -> String {
    let snake = snake_case(model);
    match snake.rfind('_') {
        Some(i) => format!("{}_{}", &snake[..i], pluralize(&snake[i + 1..])),
        None => pluralize(&snake),
    }
}

/// CamelCase → snake_case, keeping acronyms together (`XMLParser` → `xml_parser`).
pub(crate) fn snake_case(s: &str) -> String {
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
pub(crate) fn pluralize(word: &str) -> String {
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

/// Why `name` is not a valid SQL identifier (`^[A-Za-z_][A-Za-z0-9_]*$`, at most 63 bytes), or
/// `None` when it is. Same rule as `dataflow_sql::naming::validate_identifier`.
pub(crate) fn identifier_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let ok_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok_first || !ok_rest {
        return Some(format!("`{}` is not a valid SQL identifier", name.escape_debug()));
    }
    if name.len() > 63 {
        return Some(format!("`{name}` is {} bytes long; identifiers are limited to 63", name.len()));
    }
    None
}
