//! Whether a live column type is the type the model wants, per dialect.

use dataflow_sql::{Dialect, FieldDef, FieldType, ModelSchema, ddl};

/// SQLite type affinity of a declared type (SQLite docs §3.1).
pub(crate) fn sqlite_affinity(ty: &str) -> &'static str {
    let t = ty.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("clob") || t.contains("text") {
        "text"
    } else if t.is_empty() || t.contains("blob") {
        "blob"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
        "real"
    } else {
        "numeric"
    }
}

/// Strips the display width MySQL 5.7 / MariaDB print on integer types (`int(11)` -> `int`),
/// keeping `tinyint(1)` (the boolean type).
fn mysql_canonical(ty: &str) -> String {
    let t = ty.trim().to_ascii_lowercase();
    if t.starts_with("tinyint(1)") {
        return t;
    }
    for base in ["tinyint", "smallint", "mediumint", "bigint", "int"] {
        let rest = t.strip_prefix(base).and_then(|r| r.strip_prefix('('));
        if let Some(end) = rest.and_then(|r| r.find(')').map(|e| &r[e + 1..])) {
            return format!("{base}{end}");
        }
    }
    match t.as_str() {
        // MariaDB's JSON is an alias of LONGTEXT (with a json_valid CHECK).
        "longtext" => "json".into(),
        "boolean" | "bool" => "tinyint(1)".into(),
        _ => t,
    }
}

fn postgres_canonical(ty: &str) -> String {
    let t = ty.trim().to_ascii_lowercase();
    if let Some(n) = t.strip_prefix("varchar") {
        return format!("character varying{n}");
    }
    match t.as_str() {
        "timestamptz" => "timestamp with time zone".into(),
        "int" | "int4" => "integer".into(),
        "int8" => "bigint".into(),
        "float8" => "double precision".into(),
        "bool" => "boolean".into(),
        _ => t,
    }
}

/// Whether the live type `live` satisfies the field.
pub(crate) fn matches(field: &FieldDef, schema: &ModelSchema, d: Dialect, live: &str) -> bool {
    let wanted = ddl::column_type(field, schema, d);
    match d {
        Dialect::Sqlite => sqlite_affinity(&wanted) == sqlite_affinity(live),
        Dialect::Postgres => postgres_canonical(&wanted) == postgres_canonical(live),
        Dialect::MySql => {
            let (w, l) = (mysql_canonical(&wanted), mysql_canonical(live));
            // A String without max_len is TEXT, or VARCHAR(255) once indexed. Any VARCHAR holds
            // it; a TEXT column must become VARCHAR before it can be indexed.
            let raw = live.trim().to_ascii_lowercase();
            let texty = |_: &str| raw.ends_with("text");
            w == l
                || (field.ty == FieldType::String
                    && field.max_len.is_none()
                    && (((w == "text" || w == "mediumtext") && (texty(&l) || l.starts_with("varchar")))
                        || (w.starts_with("varchar") && l.starts_with("varchar"))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_types_are_normalised() {
        let s = ModelSchema::new("T", vec![FieldDef::new("id", FieldType::I64)]);
        let n = FieldDef::new("n", FieldType::I32);
        assert!(matches(&n, &s, Dialect::MySql, "int(11)"));
        assert!(matches(&n, &s, Dialect::Postgres, "integer"));
        assert!(matches(&n, &s, Dialect::Sqlite, "int"));
        assert!(!matches(&n, &s, Dialect::Postgres, "text"));
        let b = FieldDef::new("b", FieldType::Bool);
        assert!(matches(&b, &s, Dialect::MySql, "tinyint(1)"));
        assert!(!matches(&b, &s, Dialect::MySql, "tinyint(4)"));
        let t = FieldDef::new("t", FieldType::DateTime);
        assert!(matches(&t, &s, Dialect::Postgres, "timestamp with time zone"));
        let j = FieldDef::new("j", FieldType::Json);
        assert!(matches(&j, &s, Dialect::MySql, "longtext"));
        let v = FieldDef::new("v", FieldType::String).max_len(50);
        assert!(matches(&v, &s, Dialect::Postgres, "character varying(50)"));
        assert!(matches(&v, &s, Dialect::Sqlite, "varchar(50)"));
        assert_eq!(sqlite_affinity("DOUBLE PRECISION"), "real");
    }
}
