//! Property tests for statements: hostile strings (quotes, backslashes, `%`, `_`, NUL, unicode,
//! `'; DROP TABLE`) written through every statement kind never appear in the SQL text, only
//! among the bound values, and the placeholder count always equals the bound-value count.

use chrono::{DateTime, Utc};
use dataflow_sql::stmt::{self, OnConflict, Rows, Scope, SelectSpec, Sql};
use dataflow_sql::{Dialect, FieldDef, FieldType, ModelSchema, Value};
use proptest::prelude::*;
use sea_query::{Alias, Condition, Expr, ExprTrait};

fn schema() -> ModelSchema {
    let mut s = ModelSchema::new(
        "Note",
        vec![
            FieldDef::new("id", FieldType::String),
            FieldDef::new("title", FieldType::String).unique(),
            FieldDef::new("body", FieldType::String).nullable(),
        ],
    );
    s.options.soft_delete = true;
    s.options.multi_tenant = true;
    s
}

fn placeholders(sql: &str, d: Dialect) -> usize {
    match d {
        Dialect::Postgres => regex::Regex::new(r"\$(\d+)")
            .unwrap()
            .captures_iter(sql)
            .map(|c| c[1].parse::<usize>().unwrap())
            .max()
            .unwrap_or(0),
        _ => sql.matches('?').count(),
    }
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("'; DROP TABLE notes; --".to_owned()),
        Just("\\' OR 1=1 --".to_owned()),
        Just("100%_\\%".to_owned()),
        Just("nul\u{0}byte".to_owned()),
        Just("\"quoted\" `tick` $1 ?".to_owned()),
        // Always starts with a quote, so it can never match SQL keywords or identifiers by chance.
        "[\\PC\u{0}'\"\\\\%_`$?;]{0,23}".prop_map(|s| format!("'{s}")),
    ]
}

fn all_statements(s: &ModelSchema, d: Dialect, text: &str, now: DateTime<Utc>) -> Vec<Sql> {
    let cond = || Some(Condition::all().add(Expr::col(Alias::new("title")).eq(text)));
    let scope = Scope::tenant(text);
    let fields = ["id", "title", "body"];
    let rows = vec![vec![Value::String(text.into()), Value::String(text.into()), Value::String(text.into())]; 3];
    let r = Rows { fields: &fields, rows: &rows, now };
    let order = [stmt::OrderBy::desc("title")];
    let after = [Value::String(text.into()), Value::String(text.into())];
    let spec = SelectSpec { condition: cond(), scope, order_by: &order, after: Some(&after), ..Default::default() };
    let mut out = vec![
        stmt::select(s, d, &spec),
        stmt::select_by_id(s, d, &Value::String(text.into()), scope),
        stmt::count(s, d, cond(), scope),
        stmt::insert(s, d, &r, scope, true),
        stmt::update(s, d, cond(), scope, &[("body", Value::String(text.into()))], now),
        stmt::delete(s, d, cond(), scope),
        stmt::soft_delete(s, d, cond(), scope, now),
        stmt::restore(s, d, cond(), scope, now),
    ];
    out.extend(stmt::insert_many(s, d, &r, scope, Some(2)));
    out.extend(stmt::upsert(s, d, &r, scope, &["title"], OnConflict::Update(None), true));
    out.extend(stmt::upsert(s, d, &r, scope, &["id"], OnConflict::Skip, true));
    if d == Dialect::Postgres {
        out.push(stmt::insert_unnest(s, &r, scope));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn hostile_strings_are_only_bound(text in hostile()) {
        let s = schema();
        let now: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        for d in Dialect::ALL {
            for st in all_statements(&s, d, &text, now) {
                prop_assert!(!st.sql.contains(text.as_str()), "{d}: {text:?} in {}", st.sql);
                prop_assert_eq!(placeholders(&st.sql, d), st.values.0.len(), "{}", st.sql);
                let bound = format!("{:?}", st.values);
                prop_assert!(bound.contains(&format!("{text:?}")), "{d}: {text:?} not bound in {}", st.sql);
            }
        }
    }
}
