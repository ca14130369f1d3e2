//! Statement snapshots: one fixture per case in `tests/fixtures/stmt/<case>.json`, one snapshot
//! per dialect showing every statement's SQL text and bound values.
//!
//! A fixture names a schema from `_schemas.json` (or inlines one) and an operation:
//! `{"schema": "user", "op": "select", "where": [["age", ">", 30]], "order_by": ["-age"], ...}`.
//! Conditions are built with sea-query directly (the filter module has its own snapshots):
//! `where` is a list of `[field, op, value]` ANDed, op one of `= <> > >= < <= null notnull`.
//! Every snapshot also checks that the placeholder count equals the bound-value count.

use chrono::{DateTime, Utc};
use dataflow_sql::stmt::{self, OnConflict, Rows, Scope, SelectSpec, Sql};
use dataflow_sql::{Dialect, ModelSchema, Value};
use sea_query::{Alias, Condition, Expr, ExprTrait};
use serde_json::Value as J;

fn now() -> DateTime<Utc> {
    "2024-01-02T03:04:05.123456Z".parse().unwrap()
}

fn schema(fixture: &J) -> ModelSchema {
    let spec = &fixture["schema"];
    let json = match spec {
        J::String(name) => {
            let all: J = serde_json::from_str(include_str!("fixtures/stmt/_schemas.json")).unwrap();
            all[name.as_str()].clone()
        }
        other => other.clone(),
    };
    ModelSchema::from_json(&json).unwrap_or_else(|e| panic!("invalid schema {spec}: {e}"))
}

fn value(schema: &ModelSchema, field: &str, json: &J) -> Value {
    let f = schema.any_field(field).unwrap_or_else(|| panic!("unknown field {field}"));
    let f = if json.is_null() { f.nullable() } else { f };
    Value::from_json(json, &f).unwrap_or_else(|e| panic!("{field}: {e}"))
}

fn condition(schema: &ModelSchema, d: Dialect, fixture: &J) -> Option<Condition> {
    let list = fixture.get("where")?.as_array().unwrap();
    let mut c = Condition::all();
    for w in list {
        let (field, op) = (w[0].as_str().unwrap(), w[1].as_str().unwrap());
        let f = schema.any_field(field).unwrap();
        let col = Expr::col(Alias::new(f.column()));
        let v = || value(schema, field, &w[2]).to_sea(f.ty, d, schema.options.native_arrays);
        c = c.add(match op {
            "=" => col.eq(v()),
            "<>" => col.ne(v()),
            ">" => col.gt(v()),
            ">=" => col.gte(v()),
            "<" => col.lt(v()),
            "<=" => col.lte(v()),
            "null" => col.is_null(),
            "notnull" => col.is_not_null(),
            other => panic!("unknown op {other}"),
        });
    }
    Some(c)
}

fn strs(j: &J) -> Vec<String> {
    j.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect()).unwrap_or_default()
}

fn rows(schema: &ModelSchema, fixture: &J) -> (Vec<String>, Vec<Vec<Value>>) {
    let fields = strs(&fixture["fields"]);
    let rows = fixture["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| fields.iter().zip(r.as_array().unwrap()).map(|(f, v)| value(schema, f, v)).collect())
        .collect();
    (fields, rows)
}

/// Placeholder count of a statement: the highest `$n` on PostgreSQL, `?` outside quotes elsewhere.
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

fn show(stmts: &[Sql], d: Dialect) -> String {
    let mut out = String::new();
    for (i, s) in stmts.iter().enumerate() {
        assert_eq!(placeholders(&s.sql, d), s.values.0.len(), "placeholders vs values in {}", s.sql);
        if stmts.len() > 1 {
            out.push_str(&format!("-- statement {} of {}\n", i + 1, stmts.len()));
        }
        out.push_str(&s.sql);
        out.push('\n');
        for (j, v) in s.values.0.iter().enumerate() {
            out.push_str(&format!("  {}: {v:?}\n", j + 1));
        }
    }
    out
}

fn run(schema: &ModelSchema, d: Dialect, fx: &J) -> Vec<Sql> {
    let tenant = fx["scope"]["tenant"].as_str();
    let scope = Scope {
        include_deleted: fx["scope"]["include_deleted"].as_bool().unwrap_or(false),
        tenant,
        all_tenants: false,
    };
    let op = fx["op"].as_str().unwrap();
    match op {
        "select" => {
            let order_by = stmt::parse_order_by(&fx["order_by"], schema).unwrap();
            let keys = stmt::cursor_keys(schema, &order_by);
            let after: Option<Vec<Value>> = fx
                .get("after")
                .map(|a| keys.iter().zip(a.as_array().unwrap()).map(|((f, _), v)| value(schema, &f.name, v)).collect());
            if let Some(a) = &after {
                stmt::validate_cursor(schema, &order_by, a).unwrap();
            }
            let fields = fx.get("fields").map(strs);
            if let Some(f) = &fields {
                stmt::validate_fields(schema, f).unwrap();
            }
            let spec = SelectSpec {
                condition: condition(schema, d, fx),
                scope,
                order_by: &order_by,
                limit: fx["limit"].as_u64(),
                offset: fx["offset"].as_u64(),
                after: after.as_deref(),
                fields: fields.as_deref(),
                omit_tenant: fx["omit_tenant"].as_bool().unwrap_or(false),
            };
            vec![stmt::select(schema, d, &spec)]
        }
        "select_by_id" => vec![stmt::select_by_id(schema, d, &value(schema, "id", &fx["id"]), scope)],
        "select_by_id_without_tenant" => {
            vec![stmt::select_by_id_without_tenant(schema, d, &value(schema, "id", &fx["id"]), scope)]
        }
        "count" => vec![stmt::count(schema, d, condition(schema, d, fx), scope)],
        "insert" | "insert_many" | "insert_many_returning" | "insert_unnest" | "insert_unnest_returning" | "upsert" => {
            let (fields, data) = rows(schema, fx);
            let names: Vec<&str> = fields.iter().map(String::as_str).collect();
            let rows = Rows { fields: &names, rows: &data, now: now() };
            match op {
                "insert" => vec![stmt::insert(schema, d, &rows, scope, fx["returning"].as_bool().unwrap_or(false))],
                "insert_many" => {
                    stmt::insert_many(schema, d, &rows, scope, fx["batch_size"].as_u64().map(|b| b as usize))
                }
                "insert_many_returning" => {
                    stmt::insert_many_returning(schema, d, &rows, scope, fx["batch_size"].as_u64().map(|b| b as usize))
                }
                "insert_unnest" => vec![stmt::insert_unnest(schema, &rows, scope)],
                "insert_unnest_returning" => vec![stmt::insert_unnest_returning(schema, &rows, scope)],
                _ => {
                    let conflict = strs(&fx["conflict_on"]);
                    let conflict: Vec<&str> = conflict.iter().map(String::as_str).collect();
                    let update = strs(&fx["update_fields"]);
                    let update: Vec<&str> = update.iter().map(String::as_str).collect();
                    let on = match fx["on_conflict"].as_str() {
                        Some("skip") => OnConflict::Skip,
                        _ if fx.get("update_fields").is_some() => OnConflict::Update(Some(&update)),
                        _ => OnConflict::Update(None),
                    };
                    let returning = fx["returning"].as_bool().unwrap_or(false);
                    stmt::upsert(schema, d, &rows, scope, &conflict, on, returning)
                }
            }
        }
        "update" => {
            let set: Vec<(String, Value)> =
                fx["set"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), value(schema, k, v))).collect();
            let set: Vec<(&str, Value)> = set.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            vec![stmt::update(schema, d, condition(schema, d, fx), scope, &set, now())]
        }
        "update_changes" => {
            let set: Vec<(String, Value)> =
                fx["set"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), value(schema, k, v))).collect();
            let changes = dataflow_sql::changes::Changes::from(set);
            let cond = condition(schema, d, fx);
            vec![match fx["returning"].as_str() {
                Some("without_tenant") => {
                    stmt::update_changes_returning_without_tenant(schema, d, cond, scope, &changes, now())
                }
                r => stmt::update_changes(schema, d, cond, scope, &changes, now(), r == Some("all")),
            }]
        }
        "delete" => vec![stmt::delete(schema, d, condition(schema, d, fx), scope)],
        "soft_delete" => vec![stmt::soft_delete(schema, d, condition(schema, d, fx), scope, now())],
        "restore" => vec![stmt::restore(schema, d, condition(schema, d, fx), scope, now())],
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn stmt_snapshots() {
    insta::glob!("fixtures/stmt/[!_]*.json", |path| {
        let fx: J = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let schema = schema(&fx);
        let dialects: Vec<Dialect> = match fx.get("dialects") {
            Some(list) => serde_json::from_value(list.clone()).unwrap(),
            None => Dialect::ALL.to_vec(),
        };
        let mut input = fx.clone();
        input.as_object_mut().unwrap().remove("schema");
        for d in dialects {
            let header = format!("model: {} (table {})\ninput: {input}\n\n", schema.name, schema.table);
            let statements = run(&schema, d, &fx);
            insta::assert_snapshot!(d.name(), format!("{header}{}", show(&statements, d)));
            if d == Dialect::MySql && fx["op"] == "upsert" {
                // MySQL 8: the row alias instead of VALUES(col) (MariaDB's SQL is the `mysql` snapshot).
                let mysql8 = dataflow_sql::mysql_server::MySqlServer::MySql8.upsert(statements);
                insta::assert_snapshot!("mysql8", format!("{header}{}", show(&mysql8, d)));
            }
        }
    });
}
