//! DDL snapshots: one fixture per case in `tests/fixtures/ddl/<case>.json` (a schema, inline or
//! named from `fixtures/stmt/_schemas.json`, plus optional `add_columns`), one snapshot per
//! dialect with every column type, the CREATE TABLE / CREATE INDEX statements, the standalone
//! index statements and ADD COLUMN statements.

use dataflow_sql::{Dialect, FieldDef, ModelSchema, ddl};
use serde_json::Value as J;

fn schema(fixture: &J) -> ModelSchema {
    let json = match &fixture["schema"] {
        J::String(name) => {
            let all: J = serde_json::from_str(include_str!("fixtures/stmt/_schemas.json")).unwrap();
            all[name.as_str()].clone()
        }
        other => other.clone(),
    };
    ModelSchema::from_json(&json).unwrap_or_else(|e| panic!("invalid schema: {e}"))
}

fn render(schema: &ModelSchema, d: Dialect, fixture: &J) -> String {
    let mut out = String::from("-- column types\n");
    for f in schema.all_fields() {
        out.push_str(&format!("{}: {}\n", f.name, ddl::column_type(&f, schema, d)));
    }
    out.push_str("\n-- create_table\n");
    for s in ddl::create_table(schema, d) {
        out.push_str(&s);
        out.push_str(";\n");
    }
    out.push_str("\n-- create_indexes\n");
    for s in ddl::create_indexes(schema, d) {
        out.push_str(&s);
        out.push_str(";\n");
    }
    if let Some(cols) = fixture.get("add_columns") {
        out.push_str("\n-- add_column\n");
        for c in cols.as_array().unwrap() {
            let f: FieldDef = serde_json::from_value(c.clone()).unwrap();
            out.push_str(&ddl::add_column(schema, &f, d));
            out.push_str(";\n");
        }
    }
    out
}

#[test]
fn ddl_snapshots() {
    insta::glob!("fixtures/ddl/*.json", |path| {
        let fx: J = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let schema = schema(&fx);
        for d in Dialect::ALL {
            if schema.validate_for(d).is_err() {
                continue;
            }
            let header = format!("model: {} (table {})\n\n", schema.name, schema.table);
            insta::assert_snapshot!(d.name(), format!("{header}{}", render(&schema, d, &fx)));
            if d == Dialect::MySql {
                // MySQL 8: utf8mb4_0900_bin, and standalone index DDL without IF NOT EXISTS.
                let server = dataflow_sql::mysql_server::MySqlServer::MySql8;
                let mut out = String::from("-- create_table\n");
                for s in server.create_table(&schema) {
                    out.push_str(&s);
                    out.push_str(";\n");
                }
                out.push_str("\n-- create_indexes (run only for indexes introspection does not list)\n");
                for (_, s) in server.create_indexes(&schema) {
                    out.push_str(&s);
                    out.push_str(";\n");
                }
                if let Some(cols) = fx.get("add_columns") {
                    out.push_str("\n-- add_column / modify_column\n");
                    for c in cols.as_array().unwrap() {
                        let f: FieldDef = serde_json::from_value(c.clone()).unwrap();
                        out.push_str(&server.add_column(&schema, &f));
                        out.push_str(";\n");
                        out.push_str(&server.modify_column(&schema, &f));
                        out.push_str(";\n");
                    }
                }
                insta::assert_snapshot!("mysql8", format!("{header}{out}"));
            }
        }
    });
}

/// Parses one SQL string literal (`'..'`, or `E'..'` with backslash escapes; MySQL always takes
/// backslash escapes) and returns its value, or `None` when the text is not exactly one literal.
fn parse_literal(lit: &str, d: Dialect) -> Option<String> {
    let (body, backslash) = match lit.strip_prefix("E'") {
        Some(b) => (b, true),
        None => (lit.strip_prefix('\'')?, d == Dialect::MySql),
    };
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if backslash => out.push(chars.next()?),
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            '\'' => return chars.next().is_none().then_some(out),
            c => out.push(c),
        }
    }
    None
}

#[test]
fn ddl_default_literals_round_trip_hostile_strings() {
    let hostile = "it's \\ 'quoted'; DROP TABLE notes; -- \" ` \u{e9}";
    let json = serde_json::json!({"name": "Note", "fields": [
        {"name": "id", "type": "string"},
        {"name": "body", "type": "string", "default": hostile}
    ]});
    let s = ModelSchema::from_json(&json).unwrap();
    for d in Dialect::ALL {
        let sql = ddl::create_table(&s, d).join(";\n");
        let lit = ddl::default_literal(s.field("body").unwrap(), &s, d).unwrap();
        assert!(sql.contains(&format!("DEFAULT {lit}")), "{sql}");
        let inner = if d == Dialect::MySql { lit.strip_prefix('(').unwrap().strip_suffix(')').unwrap() } else { &lit };
        assert_eq!(parse_literal(inner, d).as_deref(), Some(hostile), "{d}: {lit}");
    }
}

#[test]
fn index_names_are_derived_and_bounded() {
    let mut s = ModelSchema::from_json(&serde_json::json!({"name": "User", "fields": [
        {"name": "id", "type": "string"},
        {"name": "org_id", "type": "i64"},
        {"name": "slug", "type": "string", "column": "slug_col"}
    ]}))
    .unwrap();
    assert_eq!(ddl::index_name(&s, &["org_id".into(), "slug".into()], true), "uq_users_org_id_slug_col");
    assert_eq!(ddl::index_name(&s, &["org_id".into()], false), "idx_users_org_id");
    s.table = "a_very_long_table_name_that_goes_on_and_on_forever".into();
    let a = ddl::index_name(&s, &["org_id".into(), "slug".into()], true);
    let b = ddl::index_name(&s, &["slug".into(), "org_id".into()], true);
    assert_eq!(a.len(), 63, "{a}");
    assert_ne!(a, b);
    assert!(a.starts_with("uq_a_very_long_table_name"), "{a}");
    assert_eq!(a, ddl::index_name(&s, &["org_id".into(), "slug".into()], true), "stable");
}
