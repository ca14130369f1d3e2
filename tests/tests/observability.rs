//! Observability on SQLite, PostgreSQL and MySQL/MariaDB: spans per operation and statement
//! (names, fields, nesting) captured with a test subscriber, parameter values hidden unless
//! enabled and redacted for sensitive fields, metrics counted exactly with the debugging
//! recorder, workflow and node spans, slow-statement warnings and the `db.stats()` snapshot.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dataflow::observe::ObserveConfig;
use dataflow_core::DataFlow;
use dataflow_core::workflow::WorkflowBuilder;
use dataflow_sql::{FieldDef, FieldType, ModelSchema, Operation};
use dataflow_tests::{Backend, TestDb, backend_tests};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

// ---- a capturing layer -------------------------------------------------------------------

#[derive(Debug, Clone)]
struct SpanRec {
    name: String,
    parent: Option<usize>,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct EventRec {
    target: String,
    level: tracing::Level,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Store {
    spans: Vec<SpanRec>,
    live: HashMap<u64, usize>,
    events: Vec<EventRec>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Store>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        self.0.insert(f.name().to_owned(), format!("{v:?}"));
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.0.insert(f.name().to_owned(), v.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut st = self.0.lock().unwrap();
        let parent = ctx.span(id).and_then(|s| s.parent()).and_then(|p| st.live.get(&p.id().into_u64()).copied());
        st.spans.push(SpanRec { name: attrs.metadata().name().to_owned(), parent, fields });
        let i = st.spans.len() - 1;
        st.live.insert(id.into_u64(), i);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut st = self.0.lock().unwrap();
        if let Some(&i) = st.live.get(&id.into_u64()) {
            values.record(&mut Fields(&mut st.spans[i].fields));
        }
    }
    fn on_event(&self, e: &Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        e.record(&mut Fields(&mut fields));
        let m = e.metadata();
        self.0.lock().unwrap().events.push(EventRec { target: m.target().to_owned(), level: *m.level(), fields });
    }
}

impl Capture {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(tracing_subscriber::registry().with(self.clone()))
    }
    fn spans(&self) -> Vec<SpanRec> {
        self.0.lock().unwrap().spans.clone()
    }
    fn events(&self) -> Vec<EventRec> {
        self.0.lock().unwrap().events.clone()
    }
    fn clear(&self) {
        let mut st = self.0.lock().unwrap();
        st.spans.clear();
        st.live.clear();
        st.events.clear();
    }
    /// Everything recorded, as text (for "this value never appears" checks).
    fn all_text(&self) -> String {
        format!("{:?} {:?}", self.spans(), self.events())
    }
}

// ---- models ------------------------------------------------------------------------------

fn account() -> ModelSchema {
    ModelSchema::new(
        "Account",
        vec![
            FieldDef::new("id", FieldType::String),
            FieldDef::new("name", FieldType::String),
            FieldDef::new("password", FieldType::String),
            FieldDef::new("balance", FieldType::I64),
        ],
    )
}

fn note() -> ModelSchema {
    ModelSchema::new("Note", vec![FieldDef::new("id", FieldType::String), FieldDef::new("text", FieldType::String)])
}

async fn connect(t: &TestDb, observe: ObserveConfig) -> DataFlow {
    let db = DataFlow::builder(t.url()).observe(observe).connect().await.unwrap();
    db.register_schema(account()).await.unwrap();
    db.register_schema(note()).await.unwrap();
    db
}

fn system(t: &TestDb) -> &'static str {
    match t.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
        Backend::MySql => "mysql",
    }
}

const SECRET: &str = "hunter2-secret";
const VISIBLE: &str = "Zed-visible-name";

// ---- tests -------------------------------------------------------------------------------

/// Every operation kind: one `dataflow.operation` span with the semconv fields and outcome,
/// with `dataflow.statement` children carrying SQL with placeholders and no values.
async fn operation_and_statement_spans(t: &TestDb) {
    let db = connect(t, ObserveConfig::default()).await;
    let cap = Capture::default();
    let _g = cap.install();
    let acc = |id: &str| json!({"id": id, "name": VISIBLE, "password": SECRET, "balance": 7});
    let calls: Vec<(Operation, serde_json::Value, u64)> = vec![
        (Operation::Create, acc("a1"), 1),
        (Operation::Read, json!({"id": "a1"}), 1),
        (Operation::Update, json!({"filter": {"id": "a1"}, "fields": {"balance": 8}}), 1),
        (Operation::List, json!({"filter": {"name": VISIBLE}}), 1),
        (Operation::Count, json!({"filter": {"balance": 8}}), 1),
        (Operation::Upsert, json!({"where": {"id": "a2"}, "create": acc("a2"), "update": {"balance": 1}}), 1),
        (Operation::BulkCreate, json!({"data": [acc("b1"), acc("b2"), acc("b3")]}), 3),
        (Operation::BulkUpdate, json!({"filter": {"id": {"$in": ["b1", "b2"]}}, "fields": {"balance": 9}}), 2),
        (Operation::BulkUpsert, json!({"data": [acc("b3"), acc("c1")], "conflict_on": ["id"]}), 2),
        (Operation::BulkDelete, json!({"ids": ["b1", "b2"]}), 2),
        (Operation::Delete, json!({"id": "a1"}), 1),
    ];
    for (op, params, rows) in calls {
        cap.clear();
        db.express().run("Account", op, &params).await.unwrap_or_else(|e| panic!("{op:?}: {e}"));
        let spans = cap.spans();
        let ops: Vec<(usize, &SpanRec)> =
            spans.iter().enumerate().filter(|(_, s)| s.name == "dataflow.operation").collect();
        assert_eq!(ops.len(), 1, "{op:?}: one operation span, got {spans:#?}");
        let (oi, o) = ops[0];
        let f = &o.fields;
        assert_eq!(f["db.operation.name"], op.name(), "{op:?}");
        assert_eq!(f["db.collection.name"], "Account");
        assert_eq!(f["db.system"], system(t));
        assert_eq!(f["dataflow.outcome"], "ok");
        assert!(!f.contains_key("error.type"));
        let rows_field = if matches!(op, Operation::Read | Operation::List | Operation::Count) {
            "db.response.returned_rows"
        } else {
            "dataflow.rows_affected"
        };
        assert_eq!(f[rows_field], rows.to_string(), "{op:?} rows");
        assert_eq!(o.parent, None, "operation spans are roots here");
        let stmts: Vec<&SpanRec> = spans.iter().filter(|s| s.name == "dataflow.statement").collect();
        assert!(!stmts.is_empty(), "{op:?}: at least one statement span");
        for s in &stmts {
            assert_eq!(s.parent, Some(oi), "{op:?}: statement spans are children of the operation span");
            let sql = &s.fields["db.query.text"];
            assert!(!sql.is_empty());
            assert_eq!(s.fields["db.system"], system(t));
            assert!(!s.fields.contains_key("db.query.parameters"), "values are off by default");
        }
        let text = cap.all_text();
        assert!(!text.contains(SECRET) && !text.contains(VISIBLE), "{op:?}: no value appears in spans: {text}");
    }
    // A failing operation: outcome error and the DF code.
    cap.clear();
    let e = db.express().run("Account", Operation::Create, &acc("c1")).await.unwrap_err();
    let spans = cap.spans();
    let o = spans.iter().find(|s| s.name == "dataflow.operation").unwrap();
    assert_eq!(o.fields["dataflow.outcome"], "error");
    assert_eq!(o.fields["error.type"], e.code().to_string());
    assert_eq!(o.fields["error.type"], "DF-501");
    // Typed-path entry points that are not one of the eleven carry their own names.
    cap.clear();
    db.express().find_one_json("Account", &json!({"id": "a2"})).await.unwrap();
    assert!(cap.spans().iter().any(|s| s.name == "dataflow.operation" && s.fields["db.operation.name"] == "FindOne"));
    db.close().await;
}

/// At INFO (the level recommended for production): one `dataflow.operation` span per
/// operation with its rows, outcome and DF code recorded, and no statement spans (DEBUG); the
/// metrics and stats are recorded as at any level.
async fn info_level_operation_spans_only(t: &TestDb) {
    use metrics_util::debugging::DebuggingRecorder;
    let db = connect(t, ObserveConfig::default()).await;
    let cap = Capture::default();
    let _g = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::INFO).with(cap.clone()),
    );
    let recorder = DebuggingRecorder::new();
    let snap = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    cap.clear();
    db.express().create_json("Note", &json!({"id": "i1", "text": "x"})).await.unwrap();
    db.express().read_json("Note", &json!("i1")).await.unwrap();
    let e = db.express().create_json("Note", &json!({"id": "i1", "text": "dup"})).await.unwrap_err();
    let spans = cap.spans();
    assert!(spans.iter().all(|s| s.name != "dataflow.statement"), "no statement span at INFO: {spans:#?}");
    let ops: Vec<&SpanRec> = spans.iter().filter(|s| s.name == "dataflow.operation").collect();
    assert_eq!(ops.len(), 3, "{spans:#?}");
    let f = |i: usize, k: &str| ops[i].fields.get(k).cloned().unwrap_or_default();
    assert_eq!(
        (f(0, "db.operation.name"), f(0, "dataflow.rows_affected"), f(0, "dataflow.outcome")),
        ("Create".into(), "1".into(), "ok".into())
    );
    assert_eq!(
        (f(1, "db.operation.name"), f(1, "db.response.returned_rows"), f(1, "dataflow.outcome")),
        ("Read".into(), "1".into(), "ok".into())
    );
    assert_eq!((f(2, "dataflow.outcome"), f(2, "error.type")), ("error".into(), e.code().to_string()));
    assert!(ops.iter().all(|o| o.fields["db.system"] == system(t) && o.fields["db.collection.name"] == "Note"));
    let s = db.stats();
    assert_eq!((s.operation("Create").unwrap().count, s.operation("Create").unwrap().errors), (2, 1));
    assert_eq!(s.operation("Read").unwrap().count, 1);
    let names: Vec<String> = snap.snapshot().into_vec().into_iter().map(|(k, ..)| k.key().name().to_owned()).collect();
    for m in ["dataflow_operations_total", "dataflow_statements_total", "dataflow_statement_duration_seconds"] {
        assert!(names.iter().any(|n| n == m), "{m}: {names:?}");
    }
    db.close().await;
}

/// Values appear only when enabled; then text values of a model with a sensitive field are
/// redacted while a model without one shows them.
async fn values_only_when_enabled_and_redacted(t: &TestDb) {
    let cap = Capture::default();
    let _g = cap.install();
    let on = ObserveConfig { log_values: true, ..ObserveConfig::default() };
    let db = connect(t, on).await;
    cap.clear();
    db.express()
        .create_json("Account", &json!({"id": "a1", "name": VISIBLE, "password": SECRET, "balance": 4242}))
        .await
        .unwrap();
    db.express().create_json("Note", &json!({"id": "n1", "text": VISIBLE})).await.unwrap();
    let spans = cap.spans();
    let params: Vec<(&str, &str)> = spans
        .iter()
        .filter(|s| s.name == "dataflow.statement")
        .filter_map(|s| Some((s.fields["db.collection.name"].as_str(), s.fields.get("db.query.parameters")?.as_str())))
        .collect();
    let account: Vec<&str> = params.iter().filter(|(m, _)| *m == "Account").map(|(_, p)| *p).collect();
    let notes: Vec<&str> = params.iter().filter(|(m, _)| *m == "Note").map(|(_, p)| *p).collect();
    assert!(!account.is_empty() && !notes.is_empty(), "{params:?}");
    assert!(account.iter().any(|p| p.contains("<redacted>") && p.contains("4242")), "{account:?}");
    assert!(notes.iter().any(|p| p.contains(VISIBLE)), "a model without sensitive fields shows values: {notes:?}");
    assert!(!cap.all_text().contains(SECRET), "the sensitive value never appears");
    // A `Model.field` entry marks one model's field only.
    let only_note =
        ObserveConfig { log_values: true, sensitive_fields: vec!["Note.text".into()], ..ObserveConfig::default() };
    assert!(only_note.is_sensitive("Note", "text") && !only_note.is_sensitive("Account", "text"));
    db.close().await;
}

/// Metrics with the debugging recorder: exact counts and labels after a known sequence.
async fn metrics_exact(t: &TestDb) {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snap = recorder.snapshotter();
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register_schema(account()).await.unwrap();
    let _local = metrics::set_default_local_recorder(&recorder);
    db.register_schema(note()).await.unwrap(); // one schema-cache miss
    let mut ex = db.express();
    for i in 0..3 {
        ex.create_json("Account", &json!({"id": format!("a{i}"), "name": "n", "password": "p", "balance": i}))
            .await
            .unwrap();
    }
    ex.create_json("Account", &json!({"id": "a0", "name": "n", "password": "p", "balance": 0})).await.unwrap_err();
    assert!(ex.read_json("Account", &json!("a1")).await.is_ok());
    ex.bulk_create_json("Account", &json!([{"id": "b1", "name": "n", "password": "p", "balance": 1}, {"id": "b2", "name": "n", "password": "p", "balance": 1}]))
        .await
        .unwrap();
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let mut histograms: BTreeMap<String, usize> = BTreeMap::new();
    let mut gauges: Vec<String> = Vec::new();
    for (ck, _, _, v) in snap.snapshot().into_vec() {
        let k = ck.key();
        let mut labels: Vec<String> = k.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        labels.sort();
        let name = format!("{}{{{}}}", k.name(), labels.join(","));
        match v {
            DebugValue::Counter(n) => {
                counters.insert(name, n);
            }
            DebugValue::Histogram(h) => {
                histograms.insert(name, h.len());
            }
            DebugValue::Gauge(_) => gauges.push(name),
        }
    }
    let c = |k: &str| counters.get(k).copied().unwrap_or(0);
    assert_eq!(c("dataflow_operations_total{model=Account,operation=Create,outcome=ok}"), 3, "{counters:#?}");
    assert_eq!(c("dataflow_operations_total{model=Account,operation=Create,outcome=error}"), 1);
    assert_eq!(c("dataflow_operations_total{model=Account,operation=Read,outcome=ok}"), 1);
    assert_eq!(c("dataflow_operations_total{model=Account,operation=BulkCreate,outcome=ok}"), 1);
    let ops: u64 = counters.iter().filter(|(k, _)| k.starts_with("dataflow_operations_total")).map(|(_, v)| v).sum();
    assert_eq!(ops, 6, "no other operation counted: {counters:#?}");
    assert_eq!(c("dataflow_rows_written_total{model=Account,operation=Create}"), 3);
    assert_eq!(c("dataflow_rows_written_total{model=Account,operation=BulkCreate}"), 2);
    assert_eq!(histograms["dataflow_operation_duration_seconds{model=Account,operation=Create,outcome=ok}"], 3);
    assert_eq!(c("dataflow_schema_cache_misses_total{}"), 1);
    assert_eq!(c("dataflow_schema_cache_hits_total{}"), 0);
    let sys = system(t);
    let stmts = c(&format!("dataflow_statements_total{{db_system={sys},outcome=ok}}"));
    let failed = c(&format!("dataflow_statements_total{{db_system={sys},outcome=error}}"));
    assert_eq!(failed, 1, "the duplicate insert");
    assert!(stmts >= 5, "each operation ran at least one statement: {counters:#?}");
    for g in ["dataflow_pool_connections", "dataflow_pool_idle_connections", "dataflow_pool_waiters"] {
        assert!(gauges.contains(&format!("{g}{{db_system={sys}}}")), "{g}: {gauges:?}");
    }
    db.close().await;
}

/// Metrics and spans off: nothing recorded, nothing counted in stats.
async fn disabled_records_nothing(t: &TestDb) {
    use metrics_util::debugging::DebuggingRecorder;
    let recorder = DebuggingRecorder::new();
    let snap = recorder.snapshotter();
    let cap = Capture::default();
    let _g = cap.install();
    let db = connect(t, ObserveConfig { enabled: false, ..ObserveConfig::default() }).await;
    let _local = metrics::set_default_local_recorder(&recorder);
    cap.clear();
    db.express().create_json("Note", &json!({"id": "n1", "text": "x"})).await.unwrap();
    assert!(cap.spans().is_empty(), "{:?}", cap.spans());
    let names: Vec<String> = snap.snapshot().into_vec().into_iter().map(|(k, ..)| k.key().name().to_owned()).collect();
    assert!(
        names.iter().all(|n| !n.starts_with("dataflow_operation") && !n.starts_with("dataflow_statement")),
        "{names:?}"
    );
    assert_eq!(db.stats().operations_total, 0);
    db.close().await;
}

/// A workflow: one `dataflow.workflow` span, a `dataflow.node` child per node, each with its
/// operation span inside; also in a transaction.
async fn workflow_spans(t: &TestDb) {
    let db = connect(t, ObserveConfig::default()).await;
    let cap = Capture::default();
    let _g = cap.install();
    for transactional in [false, true] {
        cap.clear();
        let mut b = WorkflowBuilder::new(&db);
        let id = if transactional { "n2" } else { "n1" };
        b.add_node("NoteCreateNode", "create", json!({"id": id, "text": "t"}))
            .add_node("NoteReadNode", "read", json!({}))
            .add_connection("create", "id", "read", "id");
        let wf = b.build().unwrap();
        if transactional {
            wf.execute_in_transaction(&db).await.unwrap();
        } else {
            wf.execute(&db).await.unwrap();
        }
        let spans = cap.spans();
        let w: Vec<usize> = (0..spans.len()).filter(|&i| spans[i].name == "dataflow.workflow").collect();
        assert_eq!(w.len(), 1, "{spans:#?}");
        let w = w[0];
        assert_eq!(spans[w].fields["dataflow.outcome"], "ok");
        assert_eq!(spans[w].fields["dataflow.workflow.nodes"], "2");
        assert_eq!(spans[w].fields["dataflow.workflow.transaction"], transactional.to_string());
        let nodes: Vec<usize> = (0..spans.len()).filter(|&i| spans[i].name == "dataflow.node").collect();
        assert_eq!(nodes.len(), 2);
        for (n, (node_id, ty, op)) in
            nodes.iter().zip([("create", "NoteCreateNode", "Create"), ("read", "NoteReadNode", "Read")])
        {
            assert_eq!(spans[*n].parent, Some(w), "node spans are children of the workflow span");
            assert_eq!(spans[*n].fields["dataflow.node.id"], node_id);
            assert_eq!(spans[*n].fields["dataflow.node.type"], ty);
            let o = spans.iter().position(|s| s.name == "dataflow.operation" && s.parent == Some(*n)).unwrap();
            assert_eq!(spans[o].fields["db.operation.name"], op);
            assert!(spans.iter().any(|s| s.name == "dataflow.statement" && s.parent == Some(o)));
        }
    }
    // A failing workflow records the outcome, DF code and node.
    cap.clear();
    let mut b = WorkflowBuilder::new(&db);
    b.add_node("NoteCreateNode", "dup", json!({"id": "n1", "text": "t"}));
    b.build().unwrap().execute(&db).await.unwrap_err();
    let spans = cap.spans();
    let w = spans.iter().find(|s| s.name == "dataflow.workflow").unwrap();
    assert_eq!(w.fields["dataflow.outcome"], "error");
    assert_eq!(w.fields["error.type"], "DF-501");
    assert_eq!(w.fields["dataflow.workflow.failed_node"], "dup");
    db.close().await;
}

/// Statements over the threshold are logged at WARN on `dataflow::sql` with their SQL; stats
/// count operations and keep the slowest statements (SQL text only).
async fn slow_statements_and_stats(t: &TestDb) {
    let cap = Capture::default();
    let _g = cap.install();
    let cfg = ObserveConfig { slow_query: Some(Duration::from_nanos(1)), ..ObserveConfig::default() };
    let db = connect(t, cfg).await;
    cap.clear();
    for i in 0..5 {
        db.express()
            .create_json("Account", &json!({"id": format!("a{i}"), "name": VISIBLE, "password": SECRET, "balance": i}))
            .await
            .unwrap();
    }
    for i in 0..4 {
        db.express().read_json("Account", &json!(format!("a{i}"))).await.unwrap();
    }
    let slow: Vec<EventRec> =
        cap.events().into_iter().filter(|e| e.fields.get("message").is_some_and(|m| m == "slow statement")).collect();
    assert!(slow.len() >= 9, "every statement is over a 1 ns threshold: {}", slow.len());
    assert!(slow.iter().all(|e| e.level == tracing::Level::WARN && e.target == "dataflow::sql"));
    assert!(slow.iter().all(|e| e.fields["sql"].to_uppercase().contains("ACCOUNT")));
    let s = db.stats();
    assert_eq!(s.operation("Create").unwrap().count, 5);
    assert_eq!(s.operation("Read").unwrap().count, 4);
    assert!(s.operation("Read").unwrap().p50 <= s.operation("Read").unwrap().p99);
    assert!(s.statements_total >= 9);
    assert!(!s.slowest.is_empty() && s.slowest.len() <= 10);
    assert!(s.slowest.windows(2).all(|w| w[0].elapsed >= w[1].elapsed));
    let printed = s.to_string();
    assert!(printed.contains("Create") && printed.contains("slowest statements"), "{printed}");
    assert!(!printed.contains(SECRET) && !printed.contains(VISIBLE));
    // The default threshold (1 s) does not fire on these.
    let quiet = connect_again(t).await;
    cap.clear();
    quiet.express().read_json("Account", &json!("a0")).await.unwrap();
    assert!(cap.events().iter().all(|e| e.level != tracing::Level::WARN));
    quiet.close().await;
    db.close().await;
}

async fn connect_again(t: &TestDb) -> DataFlow {
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register_schema(account()).await.unwrap();
    db
}

backend_tests!(
    operation_and_statement_spans,
    info_level_operation_spans_only,
    values_only_when_enabled_and_redacted,
    metrics_exact,
    disabled_records_nothing,
    workflow_spans,
    slow_statements_and_stats,
);
