//! Runs the `dataflow` binary and snapshots what it prints, for every command's success and
//! error paths. Commands that touch a database run on SQLite, PostgreSQL and MariaDB
//! (`backend_tests!`); their snapshots are per backend where the SQL differs.

use std::path::{Path, PathBuf};
use std::process::Command;

use dataflow_tests::{Backend, TestDb, backend_tests};
use regex::Regex;

/// What one run printed, normalised (timestamps, durations, paths, database names).
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn snap(&self) -> String {
        format!("exit: {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout.trim_end(), self.stderr.trim_end())
    }
}

fn normalise(s: &str, dir: &Path) -> String {
    // Slow-statement warnings (sqlx's and DataFlow's, threshold 1 s) depend on the machine's
    // load, not on the command: a busy CI machine prints them for a large import.
    let s: String = s
        .lines()
        .filter(|l| !(l.contains(" WARN ") && l.contains("slow statement")))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut s = s.replace(&dir.display().to_string(), "[DIR]");
    let rules: &[(&str, &str)] = &[
        (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?( ?(Z|[+-]\d{2}:?\d{2}))?", "[TIME]"),
        // `db.stats()` durations (`896µs`, `12ms`), before the general `ms` rule.
        (r"\b\d+(µs|ms)\b", "[N]"),
        (r"\d+\.\d+ ?ms\b", "[N] ms"),
        (r"\d+ ms\b", "[N] ms"),
        (r"in \d+\.\d+ s \(\d+ rows/s\)", "in [N] s ([N] rows/s)"),
        (r"df_t_[0-9a-z_]+", "[DB]"),
        (r"\d+\.\d+%", "[P]%"),
        (r"\b\d+\.\d{3}\b", "[N]"),
        (r#""(start_ms|elapsed_ms|percent|total_node_ms|wall_ms|duration_ms)": [0-9.e-]+"#, "\"$1\": [N]"),
        (r#""checksum": "[0-9a-f]+""#, "\"checksum\": \"[HEX]\""),
    ];
    for (re, to) in rules {
        s = Regex::new(re).unwrap().replace_all(&s, *to).into_owned();
    }
    // Column widths depend on the numbers replaced above.
    Regex::new(r" +\[([NP])\]").unwrap().replace_all(&s, " [$1]").into_owned()
}

/// A scratch directory with the test's input files.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("dataflow-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("models.json"), MODELS).unwrap();
        std::fs::write(p.join("user.yaml"), USER_YAML).unwrap();
        std::fs::write(p.join("flow.yaml"), FLOW).unwrap();
        std::fs::write(p.join("broken.yaml"), BROKEN_FLOW).unwrap();
        Dir(p)
    }

    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dataflow"));
        cmd.args(args).current_dir(&self.0).env_remove("DATABASE_URL").env_remove("RUST_LOG").env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = cmd.output().expect("run the dataflow binary");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: normalise(&String::from_utf8_lossy(&o.stdout), &self.0),
            stderr: normalise(&String::from_utf8_lossy(&o.stderr), &self.0),
        }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const MODELS: &str = r#"{"models": [
  {"name": "User", "fields": [
    {"name": "id", "type": "string"},
    {"name": "name", "type": "string"},
    {"name": "email", "type": "string", "unique": true},
    {"name": "age", "type": "i32", "nullable": true},
    {"name": "active", "type": "bool", "default": true}
  ]},
  {"name": "Order", "fields": [
    {"name": "id", "type": "i64"},
    {"name": "user_id", "type": "string"},
    {"name": "total", "type": "f64"}
  ], "options": {"multi_tenant": true, "soft_delete": true}}
]}"#;

const USER_YAML: &str = "models:
  - name: User
    fields:
      - {name: id, type: string}
      - {name: name, type: string}
      - {name: email, type: string, unique: true}
      - {name: age, type: i32, nullable: true}
      - {name: active, type: bool, default: true}
";

const FLOW: &str = "name: signup
nodes:
  - id: create
    type: UserCreateNode
    params: {id: u1, name: Alice, email: a@x, age: 30}
  - id: read
    type: UserReadNode
  - id: adults
    type: UserCountNode
    params: {filter: {age: {$gt: 100}}}  # runs concurrently with `create`: must not depend on it
connections:
  - {from: create, output: id, to: read, param: id}
";

const BROKEN_FLOW: &str = "nodes:
  - id: create
    type: UserCreateNode
    params: {id: u1, name: Alice, emial: a@x}
  - id: read
    type: UserReadNode
connections:
  - {from: create, output: idd, to: read, param: id}
  - {from: nowhere, output: id, to: read, param: id}
";

// ---- no database -------------------------------------------------------------------------

#[test]
fn explain() {
    let d = Dir::new("explain");
    insta::assert_snapshot!("explain_ok", d.run(&["explain", "DF-512"]).snap());
    insta::assert_snapshot!("explain_not_a_code", d.run(&["explain", "hello"]).snap());
    insta::assert_snapshot!("explain_unknown_code", d.run(&["explain", "DF-999"]).snap());
}

#[test]
fn debug_maps_common_messages() {
    let d = Dir::new("debug");
    let messages = [
        "pool timed out while waiting for an open connection",
        "error returned from database: relation \"users\" does not exist",
        "error returned from database: (code: 1) no such table: users",
        "error returned from database: 1146 (42S02): Table 'app.users' doesn't exist",
        "error returned from database: deadlock detected",
        "1205 (HY000): Lock wait timeout exceeded; try restarting transaction",
        "error returned from database: (code: 5) database is locked",
        "error communicating with database: Connection refused (os error 111)",
    ];
    let mut all = String::new();
    for m in messages {
        let o = d.run(&["debug", m]);
        assert_eq!(o.code, 0, "{m}: {}", o.snap());
        all.push_str(&format!("$ dataflow debug {m:?}\n{}\n\n", o.stdout.lines().next().unwrap_or_default()));
    }
    insta::assert_snapshot!("debug_common_messages", all);
    insta::assert_snapshot!("debug_full", d.run(&["debug", "no such table: users"]).snap());
    insta::assert_snapshot!("debug_json", d.run(&["debug", "--format", "json", "deadlock detected"]).snap());
    let none = d.run(&["debug", "the weather is nice"]);
    assert_eq!(none.code, 1);
    insta::assert_snapshot!("debug_no_match", none.snap());
}

#[test]
fn sql_every_operation() {
    let d = Dir::new("sql");
    let ops: &[(&str, &str)] = &[
        ("create", r#"{"id": "u1", "name": "Alice", "email": "a@x", "age": 30}"#),
        ("read", r#"{"id": "u1"}"#),
        ("update", r#"{"filter": {"id": "u1"}, "fields": {"age": 18}}"#),
        ("delete", r#"{"id": "u1"}"#),
        ("list", r#"{"filter": {"age": {"$gte": 18}, "name": {"$like": "A%"}}, "order_by": ["-age"], "limit": 10}"#),
        ("count", r#"{"filter": {"active": true}}"#),
        ("upsert", r#"{"where": {"email": "a@x"}, "create": {"id": "u1", "name": "Alice"}, "update": {"name": "Al"}}"#),
        (
            "bulk_create",
            r#"{"data": [{"id": "u1", "name": "A", "email": "a@x"}, {"id": "u2", "name": "B", "email": "b@x", "age": null}]}"#,
        ),
        ("bulk_update", r#"{"filter": {"age": {"$lt": 18}}, "fields": {"active": false}}"#),
        ("bulk_delete", r#"{"filter": {"active": false}, "confirmed": true}"#),
        ("bulk_upsert", r#"{"data": [{"id": "u1", "name": "A", "email": "a@x"}], "conflict_on": ["email"]}"#),
    ];
    for (op, params) in ops {
        let o = d.run(&["sql", "--models", "models.json", "--model", "User", "--op", op, "--params", params]);
        assert_eq!(o.code, 0, "{op}: {}", o.snap());
        insta::assert_snapshot!(format!("sql_{op}"), o.snap());
    }
}

#[test]
fn sql_errors_and_tenants() {
    let d = Dir::new("sqlerr");
    let m = ["sql", "--models", "models.json"];
    let run = |extra: &[&str]| d.run(&[&m[..], extra].concat());
    let ambiguous = run(&["--op", "list"]);
    assert_eq!(ambiguous.code, 2);
    insta::assert_snapshot!("sql_needs_model_name", ambiguous.snap());
    insta::assert_snapshot!("sql_unknown_model", run(&["--model", "Users"]).snap());
    insta::assert_snapshot!("sql_bad_json", run(&["--model", "User", "--filter", "{age: 1}"]).snap());
    insta::assert_snapshot!("sql_unknown_field", run(&["--model", "User", "--filter", r#"{"agee": 1}"#]).snap());
    insta::assert_snapshot!(
        "sql_update_flat",
        run(&["--model", "User", "--op", "update", "--params", r#"{"id": "u1", "name": "B"}"#]).snap()
    );
    insta::assert_snapshot!("sql_bad_op", run(&["--model", "User", "--op", "frobnicate"]).snap());
    let no_tenant = run(&["--model", "Order", "--op", "count"]);
    assert_eq!(no_tenant.code, 2);
    insta::assert_snapshot!("sql_tenant_missing", no_tenant.snap());
    insta::assert_snapshot!(
        "sql_tenant",
        run(&[
            "--model",
            "Order",
            "--op",
            "delete",
            "--params",
            r#"{"id": 7}"#,
            "--tenant",
            "acme",
            "--dialect",
            "postgres"
        ])
        .snap()
    );
    // YAML models file, one model: --model may be left out.
    insta::assert_snapshot!(
        "sql_yaml_single_model",
        d.run(&["sql", "--models", "user.yaml", "--filter", r#"{"age": {"$in": [1, 2]}}"#, "--dialect", "mysql"])
            .snap()
    );
}

#[test]
fn models_file_errors() {
    let d = Dir::new("models");
    let cases: &[(&str, &str)] = &[
        ("models_unknown_key", r#"[{"name": "User", "feilds": []}]"#),
        (
            "models_unknown_field_key",
            r#"[{"name": "User", "fields": [{"name": "id", "type": "string", "uniqe": true}]}]"#,
        ),
        ("models_unknown_type", r#"[{"name": "User", "fields": [{"name": "id", "type": "strng"}]}]"#),
        ("models_no_id", r#"[{"name": "User", "fields": [{"name": "user_id", "type": "string"}]}]"#),
        ("models_float_id", r#"[{"name": "User", "fields": [{"name": "id", "type": "f64"}]}]"#),
    ];
    for (name, text) in cases {
        std::fs::write(d.path("m.json"), text).unwrap();
        let o = d.run(&["sql", "--models", "m.json"]);
        assert_eq!(o.code, 2, "{name}: {}", o.snap());
        insta::assert_snapshot!(*name, o.snap());
    }
}

#[test]
fn validate_and_analyze() {
    let d = Dir::new("validate");
    insta::assert_snapshot!("validate_ok", d.run(&["validate", "flow.yaml", "--models", "models.json"]).snap());
    insta::assert_snapshot!(
        "validate_ok_json",
        d.run(&["validate", "flow.yaml", "--models", "models.json", "--format", "json"]).snap()
    );
    let bad = d.run(&["validate", "broken.yaml", "--models", "models.json"]);
    assert_eq!(bad.code, 1);
    insta::assert_snapshot!("validate_errors", bad.snap());
    insta::assert_snapshot!(
        "validate_errors_json",
        d.run(&["validate", "broken.yaml", "--models", "models.json", "--format", "json"]).snap()
    );
    insta::assert_snapshot!(
        "validate_missing_file",
        d.run(&["validate", "nope.yaml", "--models", "models.json"]).snap()
    );
    insta::assert_snapshot!("analyze_text", d.run(&["analyze", "flow.yaml", "--models", "models.json"]).snap());
    insta::assert_snapshot!(
        "analyze_json",
        d.run(&["analyze", "flow.yaml", "--models", "models.json", "--format", "json"]).snap()
    );
    // Neither command opens a database, so none can appear.
    assert!(std::fs::read_dir(&d.0).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().contains(".db")));
}

#[test]
fn usage_errors_exit_2() {
    let d = Dir::new("usage");
    for (name, args) in [
        ("run_needs_database", &["run", "flow.yaml", "--models", "models.json"][..]),
        ("perf_needs_database", &["perf", "flow.yaml", "--models", "models.json"][..]),
        ("import_needs_database", &["import", "x.csv", "--models", "models.json", "--model", "User"][..]),
        ("unknown_subcommand", &["frobnicate"][..]),
        ("migrate_needs_action", &["migrate"][..]),
    ] {
        let o = d.run(args);
        assert_eq!(o.code, 2, "{name}: {}", o.snap());
        insta::assert_snapshot!(name, o.snap());
    }
    assert!(!d.path("dataflow.db").exists(), "no default database file may be created");
}

#[test]
fn read_only_commands_never_create_a_database_file() {
    let d = Dir::new("readonly");
    let url = "sqlite://new.db";
    let plan = d.run(&["migrate", "plan", "--database", url, "--models", "models.json"]);
    assert_eq!(plan.code, 0, "{}", plan.snap());
    insta::assert_snapshot!("migrate_plan_missing_file", plan.snap());
    let status = d.run(&["migrate", "status", "--database", url]);
    assert_eq!(status.code, 1);
    insta::assert_snapshot!("migrate_status_missing_file", status.snap());
    assert_eq!(d.run(&["generate", "--database", url]).code, 1);
    assert_eq!(d.run(&["schema", "export", "--database", url]).code, 1);
    // DATABASE_URL is honoured like --database.
    assert_eq!(d.run_env(&["migrate", "status"], &[("DATABASE_URL", url)]).code, 1);
    let files: Vec<_> = std::fs::read_dir(&d.0).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(!d.path("new.db").exists(), "{files:?}");
}

#[test]
fn verbose_logs_go_to_stderr() {
    let d = Dir::new("verbose");
    let o = d.run_env(&["sql", "--models", "user.yaml", "--dialect", "sqlite"], &[("RUST_LOG", "trace")]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.starts_with("-- sqlite"), "{}", o.snap());
}

// ---- with a database ---------------------------------------------------------------------

fn backend_name(t: &TestDb) -> &'static str {
    match t.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
        Backend::MySql => "mysql",
    }
}

async fn migrate_run_perf_export(t: &TestDb) {
    let d = Dir::new(&format!("db-{}", t.name()));
    let url = t.url();
    let b = backend_name(t);
    let plan = d.run(&["migrate", "plan", "--database", url, "--models", "models.json"]);
    assert_eq!(plan.code, 0, "{}", plan.snap());
    insta::assert_snapshot!(format!("migrate_plan_{b}"), plan.snap());
    let empty = d.run(&["migrate", "status", "--database", url]);
    if t.backend() == Backend::Sqlite {
        // The file does not exist yet, and status does not create it.
        assert_eq!(empty.code, 1, "{}", empty.snap());
    } else {
        assert_eq!(empty.code, 0, "{}", empty.snap());
        insta::assert_snapshot!("migrate_status_empty", empty.snap());
    }
    let apply = d.run(&["migrate", "apply", "--database", url, "--models", "models.json"]);
    assert_eq!(apply.code, 0, "{}", apply.snap());
    insta::assert_snapshot!("migrate_apply", apply.snap());
    insta::assert_snapshot!("migrate_status", d.run(&["migrate", "status", "--database", url]).snap());
    insta::assert_snapshot!(
        "migrate_status_json",
        d.run(&["migrate", "status", "--database", url, "--format", "json"]).snap()
    );
    insta::assert_snapshot!(
        format!("migrate_plan_up_to_date_{b}"),
        d.run(&["migrate", "plan", "--database", url, "--models", "user.yaml"]).snap()
    );
    // A change that needs approval: `age` becomes required.
    std::fs::write(d.path("user2.yaml"), USER_YAML.replace("type: i32, nullable: true", "type: i32, default: 0"))
        .unwrap();
    let blocked = d.run(&["migrate", "apply", "--database", url, "--models", "user2.yaml"]);
    assert_eq!(blocked.code, 1, "{}", blocked.snap());
    assert!(blocked.stderr.contains("MEDIUM"), "{}", blocked.snap());

    let run = d.run(&["run", "flow.yaml", "--models", "models.json", "--database", url]);
    assert_eq!(run.code, 0, "{}", run.snap());
    insta::assert_snapshot!("run_ok", run.snap());
    let again = d.run(&["run", "flow.yaml", "--models", "models.json", "--database", url]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("DF-501"), "{}", again.snap());
    let perf = d.run(&["perf", "flow.yaml", "--models", "models.json", "--database", url, "--format", "json"]);
    assert_eq!(perf.code, 1, "the create fails the second time: {}", perf.snap());
    std::fs::write(
        d.path("read.yaml"),
        "nodes:\n  - {id: read, type: UserReadNode, params: {id: u1}}\n  - {id: n, type: UserCountNode}\n",
    )
    .unwrap();
    let perf = d.run(&["perf", "read.yaml", "--models", "models.json", "--database", url]);
    assert_eq!(perf.code, 0, "{}", perf.snap());
    // The slowest-statements list of `db.stats()` differs per dialect (quoting, placeholders) and
    // its order by elapsed time per run: check it, then snapshot the rest.
    let snap = perf.snap();
    let (head, tail) = snap.split_once("slowest statements:\n").expect("perf prints db.stats()");
    let (statements, rest) = tail.split_once("--- stderr").unwrap_or((tail, ""));
    assert_eq!(statements.lines().filter(|l| l.contains("SELECT")).count(), 2, "{snap}");
    insta::assert_snapshot!("perf_text", format!("{head}slowest statements: [2 SELECTs]\n--- stderr{rest}"));
    insta::assert_snapshot!(
        "perf_json",
        d.run(&["perf", "read.yaml", "--models", "models.json", "--database", url, "--format", "json"]).snap()
    );

    let export = d.run(&["export", "--models", "models.json", "--model", "User", "--database", url]);
    assert_eq!(export.code, 0, "{}", export.snap());
    insta::assert_snapshot!("export_csv", export.snap());
    insta::assert_snapshot!(
        "export_jsonl_filtered",
        d.run(&[
            "export",
            "--models",
            "models.json",
            "--model",
            "User",
            "--database",
            url,
            "--format",
            "jsonl",
            "--filter",
            r#"{"age": {"$gt": 100}}"#
        ])
        .snap()
    );
    // A model whose table was never created: every backend's "no such table" message is DF-512.
    std::fs::write(d.path("ghost.json"), r#"{"name": "Ghost", "fields": [{"name": "id", "type": "i64"}]}"#).unwrap();
    let ghost = d.run(&["export", "--models", "ghost.json", "--database", url]);
    assert_eq!(ghost.code, 1, "{}", ghost.snap());
    assert!(ghost.stderr.starts_with("error: [DF-512]"), "{}", ghost.snap());
    insta::assert_snapshot!(format!("schema_export_{b}"), d.run(&["schema", "export", "--database", url]).snap());
    insta::assert_snapshot!(format!("generate_rust_{b}"), d.run(&["generate", "--database", url]).snap());
}

/// `run --tenant` scopes the multi-tenant `Order`, with and without `--transaction`; a bad tenant
/// name is a usage error before anything runs.
async fn run_with_tenant(t: &TestDb) {
    let d = Dir::new(&format!("tenant-{}", t.name()));
    let url = t.url();
    let apply = d.run(&["migrate", "apply", "--database", url, "--models", "models.json"]);
    assert_eq!(apply.code, 0, "{}", apply.snap());
    std::fs::write(
        d.path("order.yaml"),
        "nodes:\n  - {id: c, type: OrderCreateNode, params: {user_id: u1, total: 5}}\n  - {id: n, type: OrderCountNode, after: [c]}\n",
    )
    .unwrap();
    let base = ["run", "order.yaml", "--models", "models.json", "--database", url];
    let count = |o: &Out| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&o.stdout).unwrap()["n"]["count"].clone()
    };
    let a1 = d.run(&[&base[..], &["--tenant", "acme", "--transaction"]].concat());
    assert_eq!(a1.code, 0, "{}", a1.snap());
    assert_eq!(count(&a1), 1);
    let a2 = d.run(&[&base[..], &["--tenant", "acme"]].concat());
    assert_eq!(count(&a2), 2, "{}", a2.snap());
    let g = d.run(&[&base[..], &["--tenant", "globex", "--transaction"]].concat());
    assert_eq!(count(&g), 1, "{}", g.snap());
    let none = d.run(&base);
    assert_eq!(none.code, 1, "{}", none.snap());
    assert!(none.stderr.contains("DF-608"), "{}", none.snap());
    let bad = d.run(&[&base[..], &["--tenant", "acme "]].concat());
    assert_eq!(bad.code, 2, "{}", bad.snap());
    assert!(bad.stderr.contains("DF-613"), "{}", bad.snap());
}

/// `run --actor` records the actor in the audit rows of an audited model (with and without
/// `--transaction`); without it the actor is NULL.
async fn run_records_the_actor(t: &TestDb) {
    let d = Dir::new(&format!("actor-{}", t.name()));
    let url = t.url();
    let note = r#"{"name": "Note", "fields": [{"name": "id", "type": "i64"}, {"name": "text", "type": "string"}],
                   "options": {"audit": true}}"#;
    std::fs::write(d.path("notes.json"), format!(r#"{{"models": [{note}]}}"#)).unwrap();
    std::fs::write(d.path("note.yaml"), "nodes:\n  - {id: c, type: NoteCreateNode, params: {text: hi}}\n").unwrap();
    let base = ["run", "note.yaml", "--models", "notes.json", "--database", url];
    for extra in [&["--actor", "alice"][..], &["--actor", "bob", "--transaction"], &[]] {
        let o = d.run(&[&base[..], extra].concat());
        assert_eq!(o.code, 0, "{}", o.snap());
    }
    let db = dataflow_core::DataFlow::connect(url).await.unwrap();
    db.register_schema(dataflow_sql::ModelSchema::from_json(&serde_json::from_str(note).unwrap()).unwrap())
        .await
        .unwrap();
    let log = db.express().list_json("AuditEntry", &serde_json::json!({"order_by": ["id"]})).await.unwrap();
    let actors: Vec<serde_json::Value> =
        log["records"].as_array().unwrap().iter().map(|r| r["actor"].clone()).collect();
    assert_eq!(actors, [serde_json::json!("alice"), serde_json::json!("bob"), serde_json::Value::Null], "{log:#}");
    db.close().await;
}

/// 100,000 CSV rows, four of them bad: exactly the good rows are imported, the bad ones reported.
async fn import_100k_csv_with_bad_rows(t: &TestDb) {
    let d = Dir::new(&format!("import-{}", t.name()));
    let url = t.url();
    let mut csv = String::from("id,name,email,age,active\n");
    let bad = [10usize, 500, 70_000, 99_999];
    for i in 0..100_000usize {
        let line = match i {
            10 => format!("u{i},N{i},e{i}@x,notanumber,true\n"),
            500 => format!("u{i},N{i},e1@x,3,true\n"), // duplicate email of row 1
            70_000 => format!("u{i},N{i}\n"),          // too few cells
            99_999 => format!("u{i},,e{i}@x,5,maybe\n"), // not a bool
            _ => format!("u{i},N{i},e{i}@x,{},{}\n", i % 90, i % 2 == 0),
        };
        csv.push_str(&line);
    }
    std::fs::write(d.path("users.csv"), csv).unwrap();
    let o = d.run(&[
        "import",
        "users.csv",
        "--models",
        "models.json",
        "--model",
        "User",
        "--database",
        url,
        "--on-error",
        "skip",
        "--batch-size",
        "5000",
    ]);
    assert_eq!(o.code, 0, "{}", o.snap());
    insta::assert_snapshot!("import_100k_skip", o.snap());
    let report = std::fs::read_to_string(d.path("users.csv.rejected.csv")).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 5, "{report}");
    let reported: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(reported, bad.iter().map(|i| (i + 2).to_string()).collect::<Vec<_>>(), "{report}");
    insta::assert_snapshot!(format!("import_report_{}", backend_name(t)), report);

    // Every good row is there, and none of the bad ones.
    let exported =
        d.run(&["export", "--models", "models.json", "--model", "User", "--database", url, "--format", "jsonl"]);
    assert_eq!(exported.code, 0);
    let ids: std::collections::HashSet<String> = exported
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 100_000 - bad.len());
    for i in 0..100_000usize {
        assert_eq!(ids.contains(&format!("u{i}")), !bad.contains(&i), "u{i}");
    }

    // --on-error stop: the first bad row stops the import, exit 1.
    std::fs::write(d.path("more.jsonl"), "{\"id\": \"m1\", \"name\": \"M\", \"email\": \"m1@x\"}\n{\"id\": \"m2\", \"name\": \"M\", \"email\": \"e0@x\"}\n{\"id\": \"m3\", \"name\": \"M\", \"email\": \"m3@x\"}\n").unwrap();
    let stop = d.run(&["import", "more.jsonl", "--models", "models.json", "--model", "User", "--database", url]);
    assert_eq!(stop.code, 1, "{}", stop.snap());
    insta::assert_snapshot!(format!("import_stop_{}", backend_name(t)), stop.snap());
    // A JSON array is streamed too.
    std::fs::write(
        d.path("arr.json"),
        r#"[{"id": "j1", "name": "J", "email": "j1@x"}, {"id": "j2", "name": "J", "email": "j2@x", "age": "x"}]"#,
    )
    .unwrap();
    let arr = d.run(&[
        "import",
        "arr.json",
        "--models",
        "models.json",
        "--model",
        "User",
        "--database",
        url,
        "--on-error",
        "skip",
        "--report",
        "arr-report.csv",
    ]);
    assert_eq!(arr.code, 0, "{}", arr.snap());
    insta::assert_snapshot!("import_json_array", arr.snap());
}

/// Two models with the same fields (string, i32 nullable, bool with a default, f64, date-time)
/// in two tables: one loaded from CSV, one from JSON Lines.
const READINGS: &str = r#"{"models": [
  {"name": "CsvReading", "table": "csv_readings", "fields": [
    {"name": "id", "type": "string"},
    {"name": "label", "type": "string"},
    {"name": "count", "type": "i32", "nullable": true},
    {"name": "ok", "type": "bool", "default": true},
    {"name": "score", "type": "f64"},
    {"name": "at", "type": "datetime"}
  ]},
  {"name": "JsonReading", "table": "json_readings", "fields": [
    {"name": "id", "type": "string"},
    {"name": "label", "type": "string"},
    {"name": "count", "type": "i32", "nullable": true},
    {"name": "ok", "type": "bool", "default": true},
    {"name": "score", "type": "f64"},
    {"name": "at", "type": "datetime"}
  ]}
]}"#;

/// The same data imported from CSV (typed cells) and from JSON Lines (JSON records) is stored
/// identically: empty cell = NULL for a nullable field and the default for a defaulted one.
async fn import_csv_and_jsonl_store_the_same_rows(t: &TestDb) {
    let d = Dir::new(&format!("import-same-{}", t.name()));
    let url = t.url();
    std::fs::write(d.path("readings.json"), READINGS).unwrap();
    let csv = "id,label,count,ok,score,at\n\
               r1,plain,7,true,2.5,2024-01-31T12:00:00Z\n\
               r2,\"comma, and \"\"quotes\"\"\",,false,-0.125,2024-02-29 23:59:59.123456\n\
               r3,ünïcode,-2147483648,,1e3,2024-03-01T10:00:00+02:00\n\
               r4,,2147483647,FALSE,0,2024-12-31T23:59:59.999999Z\n";
    let jsonl = [
        r#"{"id": "r1", "label": "plain", "count": 7, "ok": true, "score": 2.5, "at": "2024-01-31T12:00:00Z"}"#,
        r#"{"id": "r2", "label": "comma, and \"quotes\"", "count": null, "ok": false, "score": -0.125, "at": "2024-02-29 23:59:59.123456"}"#,
        r#"{"id": "r3", "label": "ünïcode", "count": -2147483648, "score": 1000, "at": "2024-03-01T10:00:00+02:00"}"#,
        r#"{"id": "r4", "label": "", "count": 2147483647, "ok": false, "score": 0, "at": "2024-12-31T23:59:59.999999Z"}"#,
    ]
    .join("\n");
    std::fs::write(d.path("readings.csv"), csv).unwrap();
    std::fs::write(d.path("readings.jsonl"), jsonl).unwrap();
    for (file, model) in [("readings.csv", "CsvReading"), ("readings.jsonl", "JsonReading")] {
        let o = d.run(&["import", file, "--models", "readings.json", "--model", model, "--database", url]);
        assert_eq!(o.code, 0, "{}", o.snap());
        assert!(o.stdout.contains("imported 4 row(s)") && o.stdout.contains("rejected 0"), "{}", o.snap());
    }

    let db = dataflow_core::DataFlow::connect(url).await.unwrap();
    // The library spells the type `date_time` (the models file takes both).
    let models: serde_json::Value = serde_json::from_str(&READINGS.replace("\"datetime\"", "\"date_time\"")).unwrap();
    for m in models["models"].as_array().unwrap() {
        db.register_schema(dataflow_sql::ModelSchema::from_json(m).unwrap()).await.unwrap();
    }
    let mut stored = Vec::new();
    for model in ["CsvReading", "JsonReading"] {
        let page = db.express().list_json(model, &serde_json::json!({"order_by": ["id"]})).await.unwrap();
        let mut recs = page["records"].as_array().unwrap().clone();
        for r in &mut recs {
            let o = r.as_object_mut().unwrap();
            o.remove("created_at");
            o.remove("updated_at");
        }
        stored.push(recs);
    }
    db.close().await;
    assert_eq!(stored[0], stored[1], "CSV and JSONL imports differ");
    let r = &stored[0];
    assert_eq!(r.len(), 4);
    assert_eq!(r[1]["label"], "comma, and \"quotes\"");
    assert_eq!(r[1]["count"], serde_json::Value::Null);
    assert_eq!(r[2]["ok"], true, "empty cell: the default");
    assert_eq!(r[2]["count"], i32::MIN);
    assert_eq!(r[2]["score"], 1000.0);
    assert_eq!(r[3]["label"], "");
    assert_eq!(r[3]["ok"], false);
    let at = |i: usize| dataflow_sql::value::parse_datetime(r[i]["at"].as_str().unwrap()).unwrap();
    assert_eq!(at(1).to_rfc3339(), "2024-02-29T23:59:59.123456+00:00");
    assert_eq!(at(2).to_rfc3339(), "2024-03-01T08:00:00+00:00");
}

backend_tests!(
    migrate_run_perf_export,
    import_100k_csv_with_bad_rows,
    import_csv_and_jsonl_store_the_same_rows,
    run_with_tenant,
    run_records_the_actor
);
