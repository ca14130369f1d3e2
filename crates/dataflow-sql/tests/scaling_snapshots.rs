//! Snapshots of the SQL behind docs/guide/scaling.md: the single-record upsert per dialect
//! (with and without timestamps, soft delete + tenant), and per distributed-SQL profile
//! (`Compat`) the statements it runs instead of the avoided features: the portable upsert
//! (no `xmax`), the keyed pre-count, and the lease-row migration lock.

use chrono::{DateTime, Utc};
use dataflow_sql::stmt::{self, OnConflict, Rows, Scope, Sql, lease};
use dataflow_sql::{Compat, Dialect, ModelSchema, Value};
use serde_json::json;

fn now() -> DateTime<Utc> {
    "2024-01-02T03:04:05.123456Z".parse().unwrap()
}

fn acct() -> ModelSchema {
    ModelSchema::from_json(&json!({"name": "Acct", "fields": [
        {"name": "id", "type": "string"},
        {"name": "email", "type": "string", "unique": true},
        {"name": "name", "type": "string"},
        {"name": "visits", "type": "i64", "default": 0}]}))
    .unwrap()
}

fn plain() -> ModelSchema {
    ModelSchema::from_json(&json!({"name": "Plain", "options": {"timestamps": false}, "fields": [
        {"name": "id", "type": "i64"},
        {"name": "code", "type": "string", "unique": true},
        {"name": "label", "type": "string"}]}))
    .unwrap()
}

fn post() -> ModelSchema {
    ModelSchema::from_json(&json!({"name": "Post", "options": {"soft_delete": true, "multi_tenant": true},
        "fields": [{"name": "id", "type": "i64"}, {"name": "slug", "type": "string"}, {"name": "title", "type": "string"}],
        "indexes": [{"fields": ["slug"], "unique": true}]}))
    .unwrap()
}

fn show(label: &str, stmts: &[&Sql]) -> String {
    let mut out = format!("## {label}\n");
    for s in stmts {
        out.push_str(&s.sql);
        out.push('\n');
        for (j, v) in s.values.0.iter().enumerate() {
            out.push_str(&format!("  {}: {v:?}\n", j + 1));
        }
    }
    out
}

fn one(label: &str, o: &stmt::UpsertOne) -> String {
    let mut stmts: Vec<&Sql> = Vec::new();
    stmts.extend(o.first.as_ref());
    stmts.push(&o.statement);
    stmts.extend(o.after.as_ref());
    format!("{}created by: {:?}\n\n", show(label, &stmts), o.created_by)
}

fn upsert_ones(d: Dialect) -> String {
    let mut out = String::new();
    let s = acct();
    let rows =
        [vec![Value::String("a1".into()), Value::String("a@x".into()), Value::String("Ann".into()), Value::I64(0)]];
    let r = Rows { fields: &["id", "email", "name", "visits"], rows: &rows, now: now() };
    let scope = Scope { include_deleted: false, tenant: None, all_tenants: false };
    out.push_str(&one(
        "timestamps, update from the row",
        &stmt::upsert_one(&s, d, &r, scope, &["email"], &["name"], None),
    ));
    let set = [("visits", Value::I64(7))];
    out.push_str(&one("timestamps, explicit update", &stmt::upsert_one(&s, d, &r, scope, &["email"], &[], Some(&set))));
    let s = plain();
    let rows = [vec![Value::String("k".into()), Value::String("same".into())]];
    let r = Rows { fields: &["code", "label"], rows: &rows, now: now() };
    out.push_str(&one("no timestamps", &stmt::upsert_one(&s, d, &r, scope, &["code"], &["label"], None)));
    let s = post();
    let rows = [vec![Value::String("hello".into()), Value::String("T".into())]];
    let r = Rows { fields: &["slug", "title"], rows: &rows, now: now() };
    let scope = Scope { include_deleted: false, tenant: Some("t1"), all_tenants: false };
    out.push_str(&one("soft delete + tenant", &stmt::upsert_one(&s, d, &r, scope, &["slug"], &["title"], None)));
    out
}

#[test]
fn upsert_one_per_dialect() {
    for d in Dialect::ALL {
        insta::assert_snapshot!(format!("upsert_one_{}", d.name()), upsert_ones(d));
    }
    let mysql8 = stmt::upsert_one(
        &acct(),
        Dialect::MySql,
        &Rows {
            fields: &["id", "email", "name"],
            rows: &[vec![Value::String("a1".into()), Value::String("a@x".into()), Value::String("Ann".into())]],
            now: now(),
        },
        Scope { include_deleted: false, tenant: None, all_tenants: false },
        &["email"],
        &["name"],
        None,
    );
    let rewritten = dataflow_sql::mysql_server::MySqlServer::MySql8.upsert(vec![mysql8.statement]);
    insta::assert_snapshot!("upsert_one_mysql8", show("MySQL 8 row alias", &rewritten.iter().collect::<Vec<_>>()));
}

#[test]
fn compat_profiles() {
    for c in Compat::ALL {
        let d = c.dialect();
        let mut out = format!(
            "profile: {c} (dialect {d}); lease lock: {}; transactional DDL: {}\n\n",
            c.lease_lock(),
            c.transactional_ddl()
        );
        out.push_str(&upsert_ones(d));
        // Bulk upsert of a model without timestamps: no `xmax`, a keyed pre-count instead.
        let s = plain();
        let rows = [
            vec![Value::String("p1".into()), Value::String("P".into())],
            vec![Value::String("p2".into()), Value::String("Q".into())],
        ];
        let r = Rows { fields: &["code", "label"], rows: &rows, now: now() };
        let scope = Scope { include_deleted: false, tenant: None, all_tenants: false };
        let count = stmt::count_keys(&s, d, &r, scope, &["code"]);
        let bulk = stmt::upsert_distinct_portable(&s, d, &r, scope, &["code"], OnConflict::Update(None), false);
        assert!(bulk.iter().all(|b| !b.sql.contains("xmax")), "{bulk:?}");
        out.push_str(&show(
            "bulk upsert (portable): keyed pre-count, then the upsert",
            &count.iter().chain(&bulk).collect::<Vec<_>>(),
        ));
        out.push('\n');
        out.push_str(&format!("## lease lock\n{}\n", lease::create_table(d)));
        let owner = "0123456789abcdef";
        for (label, st) in [
            ("take", lease::take(d, owner, 30_000)),
            ("insert", lease::insert(d, owner, 30_000)),
            ("renew", lease::renew(d, owner, 30_000)),
            ("release", lease::release(d, owner)),
            ("holder", lease::holder(d)),
        ] {
            out.push_str(&show(label, &[&st]));
        }
        assert!(!out.contains("xmax") && !out.contains("advisory") && !out.contains("GET_LOCK"), "{out}");
        insta::assert_snapshot!(format!("compat_{}", c.name()), out);
    }
}
