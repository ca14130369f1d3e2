//! Safe auto-migrations on all three backends (docs/guide/migrations.md): a model evolving through versions,
//! eight OS processes migrating at once, a second register issuing no DDL, existing_schema_mode
//! reporting every mismatch, and discovery round-tripping a hand-made table.

use dataflow_core::DataFlow;
use dataflow_core::migrate::{Risk, StepKind};
use dataflow_sql::{ErrorCode, ModelSchema};
use dataflow_tests::{Backend, TestDb, backend_tests};
use serde_json::{Value as J, json};
use sqlx::Connection;

/// Runs one statement without results on the test database with plain sqlx.
async fn exec(db: &TestDb, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db.backend() {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(db.url()).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        Backend::Sqlite => {
            let o: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
            let mut c = sqlx::SqliteConnection::connect_with(&o.create_if_missing(true)).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// The primary key's columns in key order, with plain sqlx.
async fn primary_key(db: &TestDb, table: &str) -> Vec<String> {
    let sql = match db.backend() {
        Backend::Postgres => format!(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
             AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '{table}'::regclass AND i.indisprimary \
             ORDER BY array_position(i.indkey, a.attnum)"
        ),
        Backend::MySql => format!(
            "SELECT column_name FROM information_schema.key_column_usage WHERE table_schema = DATABASE() \
             AND table_name = '{table}' AND constraint_name = 'PRIMARY' ORDER BY ordinal_position"
        ),
        Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk"),
    };
    let sql = sqlx::AssertSqlSafe(sql);
    match db.backend() {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
            sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(db.url()).await.unwrap();
            sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::Sqlite => {
            let o: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
            let mut c = sqlx::SqliteConnection::connect_with(&o).await.unwrap();
            sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

/// One integer from a query, with plain sqlx.
async fn scalar(db: &TestDb, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db.backend() {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(db.url()).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
        Backend::Sqlite => {
            let o: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
            let mut c = sqlx::SqliteConnection::connect_with(&o).await.unwrap();
            sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

fn item(fields: J) -> ModelSchema {
    ModelSchema::from_json(&json!({"name": "Item", "fields": fields})).unwrap()
}

fn with(base: &J, extra: J) -> J {
    let mut v = base.as_array().unwrap().clone();
    v.push(extra);
    J::Array(v)
}

fn without(base: &J, name: &str) -> J {
    J::Array(base.as_array().unwrap().iter().filter(|f| f["name"] != name).cloned().collect())
}

fn replace(base: &J, f: J) -> J {
    J::Array(
        base.as_array().unwrap().iter().map(|x| if x["name"] == f["name"] { f.clone() } else { x.clone() }).collect(),
    )
}

/// Registers `schema` on a fresh instance (as a restarted application would).
async fn register(db: &TestDb, schema: &ModelSchema) -> dataflow_sql::Result<DataFlow> {
    let df = DataFlow::connect(db.url()).await.unwrap();
    df.register_schema(schema.clone()).await.map(|()| df)
}

async fn applied_runs(df: &DataFlow, model: &str) -> usize {
    df.migration_history().await.unwrap().iter().filter(|h| h.model == model && h.status == "applied").count()
}

async fn evolves_through_versions(db: &TestDb) {
    let v1 = json!([{"name": "id", "type": "i64"}, {"name": "name", "type": "string"}]);
    let df = register(db, &item(v1.clone())).await.unwrap();
    for n in ["a", "b", "c"] {
        df.express().create_json("Item", &json!({"name": n})).await.unwrap();
    }
    assert_eq!(applied_runs(&df, "Item").await, 1);

    // LOW: nullable column, column with default, index, unique index over distinct values.
    let v2 = with(&v1, json!({"name": "nick", "type": "string", "nullable": true}));
    let df = register(db, &item(v2.clone())).await.unwrap();
    let v3 = with(&v2, json!({"name": "score", "type": "i32", "default": 7}));
    let df3 = register(db, &item(v3.clone())).await.unwrap();
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM items WHERE score = 7").await, 3);
    let v4 = replace(&v3, json!({"name": "name", "type": "string", "unique": true}));
    let v4 = replace(&v4, json!({"name": "nick", "type": "string", "nullable": true, "index": true}));
    let df4 = register(db, &item(v4.clone())).await.unwrap();
    assert_eq!(applied_runs(&df, "Item").await, 4);
    assert!(df4.plan_migration(&item(v4.clone())).await.unwrap().is_empty());
    let dup = df4.express().create_json("Item", &json!({"name": "a"})).await.unwrap_err();
    assert_eq!(dup.code(), ErrorCode::UNIQUE_VIOLATION, "{dup}");
    assert_eq!(df4.express().count_json("Item", &json!({})).await.unwrap(), 3);
    drop((df, df3));

    // Not LOW: reported with SQL and row counts, nothing applied.
    let v5 = with(&v4, json!({"name": "sku", "type": "string"}));
    let e = register(db, &item(v5.clone())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::MIGRATION_NEEDS_APPROVAL, "{e}");
    assert!(e.message().contains("[MEDIUM]") && e.message().contains("sku"), "{e}");
    assert!(e.message().contains("ALTER TABLE") && e.message().contains("3 existing row(s)"), "{e}");
    assert!(e.fixes().iter().any(|f| f.contains("apply_plan")), "{e:?}");

    let typed = replace(&v4, json!({"name": "score", "type": "f64", "default": 7.0}));
    let e = register(db, &item(typed.clone())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::MIGRATION_NEEDS_APPROVAL, "{e}");
    assert!(e.message().contains("[HIGH]") && e.message().contains("3 non-NULL value(s)"), "{e}");

    let dropped = without(&v4, "name");
    let e = register(db, &item(dropped)).await.unwrap_err();
    assert!(e.message().contains("drop column") && e.message().contains("3 row(s) hold a value"), "{e}");
    // Data untouched, the unapplied column absent.
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM items WHERE name IN ('a', 'b', 'c') AND score = 7").await, 3);
    assert_eq!(applied_runs(&df4, "Item").await, 4);

    // Explicit apply, up to the named risk; twice is a no-op.
    let plan = df4.plan_migration(&item(v5.clone())).await.unwrap();
    assert_eq!(plan.max_risk(), Some(Risk::Medium));
    assert!(plan.to_string().contains("ADD COLUMN"), "{plan}");
    let low = df4.apply_plan(&plan, Risk::Low).await.unwrap();
    assert!(low.applied.is_empty() && !low.remaining.is_empty());
    let r = df4.apply_plan(&plan, Risk::Medium).await.unwrap();
    assert!(matches!(r.applied[0].kind, StepKind::AddRequiredColumn { .. }), "{:?}", r.applied);
    assert!(df4.apply_plan(&plan, Risk::Medium).await.unwrap().applied.is_empty());
    register(db, &item(v5.clone())).await.unwrap();
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM items WHERE sku = ''").await, 3);

    // HIGH: type change then drop column, each explicit.
    let v6 = replace(&v5, json!({"name": "score", "type": "f64", "default": 7.0}));
    let plan = df4.plan_migration(&item(v6.clone())).await.unwrap();
    assert!(df4.apply_plan(&plan, Risk::Medium).await.unwrap().applied.is_empty());
    assert_eq!(df4.apply_plan(&plan, Risk::High).await.unwrap().applied.len(), 1);
    let v7 = without(&v6, "nick");
    let plan = df4.plan_migration(&item(v7.clone())).await.unwrap();
    assert_eq!(plan.max_risk(), Some(Risk::High), "{plan}");
    df4.apply_plan(&plan, Risk::High).await.unwrap();
    let df7 = register(db, &item(v7)).await.unwrap();
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM items WHERE score = 7 AND sku = ''").await, 3);
    assert_eq!(df7.express().count_json("Item", &json!({"name": "b"})).await.unwrap(), 1);
    let h = df7.migration_history().await.unwrap();
    assert_eq!(h.iter().filter(|e| e.model == "Item").count(), 7, "{h:#?}");
    assert!(h.iter().all(|e| e.checksum.len() == 16 && e.duration_ms >= 0));
    assert_eq!(h.iter().map(|e| e.version).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
}

async fn eight_processes_migrate_once(db: &TestDb) {
    let v1 = json!({"name": "Job", "fields": [{"name": "id", "type": "string"}, {"name": "title", "type": "string"}]});
    let df = DataFlow::connect(db.url()).await.unwrap();
    df.register_schema(ModelSchema::from_json(&v1).unwrap()).await.unwrap();
    df.express().create_json("Job", &json!({"id": "j1", "title": "x"})).await.unwrap();
    let mut v2 = v1.clone();
    let fields = v2["fields"].as_array_mut().unwrap();
    fields.push(json!({"name": "priority", "type": "i32", "default": 3}));
    fields.push(json!({"name": "owner", "type": "string", "nullable": true, "index": true}));
    let model = v2.to_string();
    let children: Vec<std::process::Child> = (0..8)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_migrate_worker"))
                .args([db.url(), model.as_str()])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.trim() == "ok", "worker failed: {text}");
    }
    let runs: Vec<_> = df.migration_history().await.unwrap().into_iter().filter(|h| h.model == "Job").collect();
    assert_eq!(runs.len(), 2, "one create + exactly one migration: {runs:#?}");
    assert!(runs[1].sql.contains("priority") && runs[1].sql.contains("owner"), "{}", runs[1].sql);
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM jobs WHERE priority = 3").await, 1);
}

async fn second_register_issues_no_ddl(db: &TestDb) {
    let s = ModelSchema::from_json(&json!({"name": "Note", "fields": [{"name": "id", "type": "i64"},
        {"name": "body", "type": "string", "index": true}]}))
    .unwrap();
    let a = register(db, &s).await.unwrap();
    let m = a.schema_cache().metrics();
    assert_eq!((m.misses, m.hits, m.size), (1, 0, 1));
    let b = register(db, &s).await.unwrap();
    assert_eq!(applied_runs(&b, "Note").await, 1, "the second register must not migrate");
    // Same instance again: answered by the cache.
    b.ensure_schema(&s).await.unwrap();
    b.ensure_schema(&s).await.unwrap();
    let m = b.schema_cache().metrics();
    assert_eq!((m.misses, m.hits, m.size, m.failures), (1, 2, 1, 0));
    assert!((m.hit_rate - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(applied_runs(&b, "Note").await, 1);
}

/// A multi-tenant table made when the managed tenant index was `(tenant_id)`: register adds the
/// `(tenant_id, id)` index by itself and offers the old one as an optional, planned drop. On
/// MySQL/MariaDB (key `id` alone then) the move of the key to `(tenant_id, id)` is offered instead,
/// and the old index's drop once the key has moved.
async fn legacy_tenant_index_is_replaced(db: &TestDb) {
    let s = ModelSchema::from_json(&json!({"name": "Ticket", "fields": [{"name": "id", "type": "i64"},
        {"name": "title", "type": "string"}], "options": {"multi_tenant": true}}))
    .unwrap();
    let df = register(db, &s).await.unwrap();
    assert!(df.plan_migration(&s).await.unwrap().steps.is_empty());
    // MySQL/MariaDB keep a tenant's rows together: the key is `(tenant_id, id)`.
    let key: &[&str] = if db.backend() == Backend::MySql { &["tenant_id", "id"] } else { &["id"] };
    assert_eq!(primary_key(db, "tickets").await, key);
    df.tenant("acme").create_json("Ticket", &json!({"title": "a"})).await.unwrap();
    df.close().await;
    // Back to the old layout, as an older DataFlow left it.
    if db.backend() == Backend::MySql {
        // MySQL: the key was `id` alone (now `(tenant_id, id)`, with `UNIQUE (id)`).
        exec(db, "ALTER TABLE tickets DROP INDEX uq_tickets_id, DROP PRIMARY KEY, ADD PRIMARY KEY (id)").await;
        assert_eq!(primary_key(db, "tickets").await, ["id"]);
    } else {
        exec(db, "DROP INDEX idx_tickets_tenant_id_id").await;
    }
    exec(db, "CREATE INDEX idx_tickets_tenant_id ON tickets (tenant_id)").await;

    let df = register(db, &s).await.unwrap();
    let mut plan = df.plan_migration(&s).await.unwrap();
    if db.backend() == Backend::MySql {
        // Keyed by `id`, the old index still serves: only the optional move of the key is
        // offered, then (once the key is `(tenant_id, id)`) the old index's drop.
        assert_eq!(plan.steps.len(), 1, "{plan}");
        let step = &plan.steps[0];
        assert_eq!(step.kind, StepKind::TenantPrimaryKey, "{plan}");
        assert!(!step.required && step.risk == Risk::Medium, "{plan}");
        assert!(step.description.contains("each tenant's rows stored together"), "{plan}");
        let report = df.apply_plan(&plan, Risk::Medium).await.unwrap();
        assert_eq!(report.applied.len(), 1, "{}", report.remaining);
        assert_eq!(primary_key(db, "tickets").await, ["tenant_id", "id"]);
        plan = df.plan_migration(&s).await.unwrap();
        assert_eq!(plan.steps.len(), 1, "{plan}");
        assert!(plan.steps[0].description.contains("replaced by the primary key `(tenant_id, id)`"), "{plan}");
        // Ids stay table-wide and generated after the move.
        let b = df.tenant("beta").create_json("Ticket", &json!({"title": "b"})).await.unwrap();
        let a = df.tenant("acme").list_json("Ticket", &json!({})).await.unwrap();
        assert!(b["id"].as_i64().unwrap() > a["records"][0]["id"].as_i64().unwrap(), "{b} {a}");
        exec(db, "DELETE FROM tickets WHERE tenant_id = 'beta'").await;
    } else {
        assert_eq!(primary_key(db, "tickets").await, ["id"]);
    }
    assert_eq!(plan.steps.len(), 1, "{plan}");
    let step = &plan.steps[0];
    assert_eq!(step.kind, StepKind::DropIndex { name: "idx_tickets_tenant_id".into() });
    let why = if db.backend() == Backend::MySql {
        "replaced by the primary key `(tenant_id, id)`"
    } else {
        "replaced by the managed `(tenant_id, id)` index"
    };
    assert!(!step.required && step.description.contains(why), "{plan}");
    assert_eq!(df.tenant("acme").count_json("Ticket", &json!({})).await.unwrap(), 1);
    let report = df.apply_plan(&plan, Risk::Medium).await.unwrap();
    assert_eq!(report.applied.len(), 1, "{}", report.remaining);
    assert!(df.plan_migration(&s).await.unwrap().steps.is_empty());
    df.close().await;
}

async fn existing_schema_mode_reports_every_mismatch(db: &TestDb) {
    let ddl = match db.backend() {
        Backend::Postgres => {
            "CREATE TABLE gadgets (id BIGINT PRIMARY KEY, name INTEGER NOT NULL, price DOUBLE PRECISION)"
        }
        Backend::MySql => "CREATE TABLE gadgets (id BIGINT PRIMARY KEY, name INT NOT NULL, price DOUBLE)",
        Backend::Sqlite => "CREATE TABLE gadgets (id INTEGER PRIMARY KEY, name INTEGER NOT NULL, price REAL)",
    };
    exec(db, ddl).await;
    let df = DataFlow::builder(db.url()).existing_schema_mode(true).connect().await.unwrap();
    let wrong = ModelSchema::from_json(&json!({"name": "Gadget", "options": {"timestamps": false}, "fields": [
        {"name": "id", "type": "i64"}, {"name": "name", "type": "string"}, {"name": "price", "type": "f64"},
        {"name": "color", "type": "string", "nullable": true}]}))
    .unwrap();
    let e = df.register_schema(wrong.clone()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::SCHEMA_MISMATCH, "{e}");
    let msg = e.message();
    assert!(msg.contains("3 mismatch(es)"), "{msg}");
    assert!(msg.contains("`color` is missing"), "{msg}");
    assert!(msg.contains("`name` has type"), "{msg}");
    assert!(msg.contains("`price` is nullable"), "{msg}");
    // No DDL was issued: the plan still has all three changes.
    let plan = df.plan_migration(&wrong).await.unwrap();
    assert!(plan.steps.len() >= 2, "{plan}");
    assert!(df.migration_history().await.unwrap().is_empty());
    let right = ModelSchema::from_json(&json!({"name": "Gadget", "options": {"timestamps": false}, "fields": [
        {"name": "id", "type": "i64"}, {"name": "name", "type": "i32"}, {"name": "price", "type": "f64", "nullable": true}]}))
    .unwrap();
    df.register_schema(right).await.unwrap();
}

async fn discovery_round_trips(db: &TestDb) {
    let ddl = match db.backend() {
        Backend::Postgres => {
            "CREATE TABLE products (id BIGINT PRIMARY KEY, title VARCHAR(100) NOT NULL UNIQUE, qty INTEGER NOT NULL DEFAULT 0, note TEXT)"
        }
        Backend::MySql => {
            "CREATE TABLE products (id BIGINT PRIMARY KEY, title VARCHAR(100) NOT NULL UNIQUE, qty INT NOT NULL DEFAULT 0, note TEXT)"
        }
        Backend::Sqlite => {
            "CREATE TABLE products (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL UNIQUE, qty INTEGER NOT NULL DEFAULT 0, note TEXT)"
        }
    };
    exec(db, ddl).await;
    exec(db, "INSERT INTO products (id, title, qty, note) VALUES (1, 'lamp', 2, NULL), (2, 'desk', 0, 'oak')").await;
    let df = DataFlow::connect(db.url()).await.unwrap();
    let found = df.discover_schema().await.unwrap();
    let p = found.models.iter().find(|m| m.table == "products").expect("products discovered");
    assert_eq!(p.name, "Product");
    let title = p.field("title").unwrap();
    assert!(title.unique && !title.nullable && title.max_len == Some(100), "{title:?}");
    assert_eq!(p.field("qty").unwrap().default, Some(json!(0)));
    assert!(p.field("note").unwrap().nullable);
    assert!(!p.options.timestamps);
    let src = dataflow_core::migrate::render_rust(p);
    assert!(src.contains("pub struct Product {") && src.contains("pub note: Option<String>,"), "{src}");
    assert!(src.contains("#[dataflow(unique, max_len = 100)]"), "{src}");

    let names = df.register_schema_as_models().await.unwrap();
    assert_eq!(names, vec!["Product".to_owned()]);
    assert!(df.plan_migration(&df.schema("Product").unwrap()).await.unwrap().is_empty());
    let page = df.express().list_json("Product", &json!({"filter": {"qty": {"$gt": 0}}})).await.unwrap();
    assert_eq!(page["records"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["records"][0]["title"], "lamp");
    df.express().create_json("Product", &json!({"id": 3, "title": "chair"})).await.unwrap();
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM products WHERE qty = 0").await, 2);
    assert!(df.migration_history().await.unwrap().is_empty(), "discovery issued no DDL");
}

backend_tests!(
    evolves_through_versions,
    eight_processes_migrate_once,
    second_register_issues_no_ddl,
    existing_schema_mode_reports_every_mismatch,
    discovery_round_trips,
    legacy_tenant_index_is_replaced,
);
