//! "Decode once" (issue 13) on SQLite, PostgreSQL and MariaDB: typed reads, lists and streams
//! decode rows straight into the struct, dynamic ones straight into JSON. Both must return
//! exactly what was stored — every field type, NULLs, unicode, i64 extremes, f64, bools,
//! timestamps, JSON — and exactly what the `Vec<Value>` path (taken by a handle that uses the
//! query cache) returns; a column that no longer decodes is a DF-510 naming model and field.

use chrono::{DateTime, NaiveDate, Utc};
use dataflow::{ErrorCode, FieldDef, Model, Value};
use dataflow_core::{DataFlow, Query, Stored};
use dataflow_tests::{Backend, TestDb, backend_tests};
use futures::StreamExt;
use rust_decimal::Decimal;
use serde_json::{Value as J, json};
use sqlx::Connection;
use uuid::Uuid;

#[dataflow::model]
#[derive(Debug, Clone, PartialEq)]
struct Kind {
    id: i64,
    #[dataflow(unique)]
    key: String,
    text: String,
    n32: i32,
    n64: i64,
    f: f64,
    b: bool,
    at: DateTime<Utc>,
    day: NaiveDate,
    u: Uuid,
    dec: Decimal,
    doc: serde_json::Value,
    tags: Vec<String>,
    ns: Vec<i64>,
    bytes: Vec<u8>,
    o_text: Option<String>,
    o_n32: Option<i32>,
    o_n64: Option<i64>,
    o_f: Option<f64>,
    o_b: Option<bool>,
    o_at: Option<DateTime<Utc>>,
    o_doc: Option<serde_json::Value>,
    o_tags: Option<Vec<String>>,
}

#[dataflow::model]
#[derive(Debug, Clone, PartialEq)]
struct Drift {
    id: i64,
    name: String,
    n: i64,
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Every type with edge values, and the nullable fields set.
fn full() -> Kind {
    Kind {
        id: 0,
        key: "full".into(),
        text: "héllo wörld — 日本語 🎉 \"quoted\" 'single'".into(),
        n32: i32::MIN,
        n64: i64::MIN,
        f: -1234.5678e-9,
        b: true,
        at: at("2024-02-29T23:59:59.123456Z"),
        day: NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
        u: Uuid::from_u128(u128::MAX - 1),
        dec: "-12345.6789".parse().unwrap(),
        doc: json!({"k": [1, "x", null, true], "n": {"m": 2.5}, "ü": "ß"}),
        tags: vec!["a".into(), "ß".into(), String::new()],
        ns: vec![i64::MIN, 0, i64::MAX],
        bytes: vec![0, 1, 127, 255],
        o_text: Some("🎉".into()),
        o_n32: Some(i32::MAX),
        o_n64: Some(i64::MAX),
        o_f: Some(1.5e300),
        o_b: Some(false),
        o_at: Some(at("1970-01-01T00:00:00.000001Z")),
        o_doc: Some(json!([])),
        o_tags: Some(vec!["x".into()]),
    }
}

/// The other values of the non-null fields, every nullable field NULL.
fn nulls() -> Kind {
    Kind {
        id: 0,
        key: "nulls".into(),
        text: String::new(),
        n32: 0,
        n64: i64::MAX,
        f: 0.1,
        b: false,
        at: at("2038-01-19T03:14:08.500000Z"),
        day: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        u: Uuid::nil(),
        dec: Decimal::ZERO,
        doc: json!({}),
        tags: vec![],
        ns: vec![],
        bytes: vec![],
        o_text: None,
        o_n32: None,
        o_n64: None,
        o_f: None,
        o_b: None,
        o_at: None,
        o_doc: None,
        o_tags: None,
    }
}

/// Runs one statement with plain sqlx, behind the framework's back.
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
            let mut c = sqlx::SqliteConnection::connect_with(&o).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

fn user_fields() -> &'static [FieldDef] {
    &Kind::schema().fields
}

/// A dynamic record's user fields back as a typed record.
fn from_json(j: &J) -> Kind {
    let values = user_fields()
        .iter()
        .map(|f| Value::from_json(&j[&f.name], f).unwrap_or_else(|e| panic!("field `{}` of {j}: {e}", f.name)))
        .collect();
    Kind::from_values(values).unwrap()
}

async fn typed_and_dynamic_reads_return_exactly_what_was_stored(t: &TestDb) {
    let db = DataFlow::connect(t.url()).await.expect("connect");
    db.register::<Kind>().await.expect("register");
    let mut stored: Vec<Stored<Kind>> = Vec::new();
    for k in [full(), nulls()] {
        let s = db.express().create(&k).await.expect("create");
        assert_eq!(s.record, Kind { id: s.id, ..k.clone() }, "create returns what was written");
        assert!(s.created_at.is_some() && s.updated_at.is_some());
        stored.push(s);
    }

    // Typed: the direct path (default handle, cache off) against the Vec<Value> path (a handle
    // that uses the query cache) and against what `create` returned.
    for s in &stored {
        let direct = db.express().read::<Kind>(s.id).await.unwrap().expect("read");
        let values = db.express().cached().read::<Kind>(s.id).await.unwrap().expect("cached read");
        assert_eq!(direct, values, "read: direct and Vec<Value> decode differ");
        assert_eq!(direct.record, s.record, "read returns what was stored");
        assert_eq!(direct.created_at, s.created_at);
        let one = db.express().find_one::<Kind>(&json!({"key": s.key})).await.unwrap().expect("find_one");
        assert_eq!(one, direct);
        let one_cached =
            db.express().cached().find_one::<Kind>(&json!({"key": s.key})).await.unwrap().expect("find_one");
        assert_eq!(one_cached, direct);
    }
    assert_eq!(db.express().read::<Kind>(i64::MAX).await.unwrap(), None);
    let q = Query::new().order_by(["id"]);
    let list = db.express().list::<Kind>(&q).await.unwrap();
    assert_eq!(
        list.iter().map(|s| &s.record).collect::<Vec<_>>(),
        stored.iter().map(|s| &s.record).collect::<Vec<_>>()
    );
    assert_eq!(list, db.express().cached().list::<Kind>(&q).await.unwrap());
    let ex = db.express();
    let streamed: Vec<Stored<Kind>> = ex.list_stream::<Kind>(&q).map(Result::unwrap).collect().await;
    assert_eq!(streamed, list, "list_stream returns what list returns");
    let page = db.express().list::<Kind>(&Query::new().order_by(["id"]).limit(1)).await.unwrap();
    assert_eq!(page, list[..1]);

    // Dynamic: the same records as JSON, direct against the Vec<Value> path.
    for s in &stored {
        let direct = db.express().read_json("Kind", &json!(s.id)).await.unwrap().expect("read_json");
        let values = db.express().cached().read_json("Kind", &json!(s.id)).await.unwrap().expect("cached read_json");
        assert_eq!(direct, values, "read_json: direct and Vec<Value> decode differ");
        assert_eq!(from_json(&direct), s.record, "read_json returns what was stored");
        let created = s.created_at.map(|d| Value::DateTime(d).to_json());
        assert_eq!(Some(direct["created_at"].clone()), created);
        assert!(direct.get("found").is_none());
        let one = db.express().find_one_json("Kind", &json!({"key": s.key})).await.unwrap().expect("find_one_json");
        assert_eq!(one, direct);
    }
    assert_eq!(db.express().read_json("Kind", &json!(i64::MAX)).await.unwrap(), None);
    let missing = db.express().run("Kind", dataflow::Operation::Read, &json!({"id": 123_456_789})).await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NOT_FOUND);
    for params in [
        json!({"order_by": ["id"]}),
        json!({"order_by": ["id"], "limit": 1}),
        json!({"order_by": ["-n64"], "limit": 1}),
    ] {
        let direct = db.express().list_json("Kind", &params).await.unwrap();
        let values = db.express().cached().list_json("Kind", &params).await.unwrap();
        assert_eq!(direct, values, "list_json {params}: direct and Vec<Value> decode differ");
        let ex = db.express();
        let streamed: Vec<J> = ex.list_stream_json("Kind", &params).map(Result::unwrap).collect().await;
        assert_eq!(J::Array(streamed), direct["records"], "list_stream_json {params}");
    }
    let all = db.express().list_json("Kind", &json!({"order_by": ["id"]})).await.unwrap();
    let records = all["records"].as_array().unwrap();
    assert_eq!(
        records.iter().map(from_json).collect::<Vec<_>>(),
        stored.iter().map(|s| s.record.clone()).collect::<Vec<_>>()
    );
    let first = db.express().list_json("Kind", &json!({"order_by": ["id"], "limit": 1})).await.unwrap();
    assert_eq!(first["next_cursor"], json!([stored[0].id]), "a full page has the next page's cursor");
    let next = db
        .express()
        .list_json("Kind", &json!({"order_by": ["id"], "limit": 1, "after": first["next_cursor"]}))
        .await
        .unwrap();
    assert_eq!(next["records"][0]["key"], json!("nulls"));
}

/// Asserts a DF-510 naming model `Drift` and field `name`.
fn is_decode_error(what: &str, e: &dataflow::Error) {
    assert_eq!(e.code(), ErrorCode::DECODE, "{what}: {e}");
    assert_eq!(e.context().model.as_deref(), Some("Drift"), "{what}: {e}");
    assert_eq!(e.context().field.as_deref(), Some("name"), "{what}: {e}");
    assert!(e.to_string().contains("`name`"), "{what}: {e}");
}

async fn a_column_that_no_longer_decodes_is_a_df_error_naming_model_and_field(t: &TestDb) {
    let db = DataFlow::connect(t.url()).await.expect("connect");
    db.register::<Drift>().await.expect("register");
    let s = db.express().create(&Drift { id: 0, name: "ok".into(), n: 1 }).await.unwrap();
    // The column now holds bytes that are not UTF-8 (not a `String`).
    match t.backend() {
        Backend::Postgres => exec(t, "ALTER TABLE drifts ALTER COLUMN name TYPE bytea USING '\\xff'::bytea").await,
        Backend::MySql => {
            exec(t, "ALTER TABLE drifts MODIFY name VARBINARY(64) NOT NULL").await;
            exec(t, "UPDATE drifts SET name = UNHEX('FF')").await;
        }
        Backend::Sqlite => exec(t, "UPDATE drifts SET name = X'FF'").await,
    }
    let q = Query::new();
    for cached in [false, true] {
        let ex = || if cached { db.express().cached() } else { db.express() };
        is_decode_error("read", &ex().read::<Drift>(s.id).await.unwrap_err());
        is_decode_error("find_one", &ex().find_one::<Drift>(&json!({"n": 1})).await.unwrap_err());
        is_decode_error("list", &ex().list::<Drift>(&q).await.unwrap_err());
        is_decode_error("read_json", &ex().read_json("Drift", &json!(s.id)).await.unwrap_err());
        is_decode_error("find_one_json", &ex().find_one_json("Drift", &json!({"n": 1})).await.unwrap_err());
        is_decode_error("list_json", &ex().list_json("Drift", &json!({})).await.unwrap_err());
    }
    let ex = db.express();
    let typed: Vec<_> = ex.list_stream::<Drift>(&q).collect().await;
    is_decode_error("list_stream", typed[0].as_ref().unwrap_err());
    let dynamic: Vec<_> = ex.list_stream_json("Drift", &json!({})).collect().await;
    is_decode_error("list_stream_json", dynamic[0].as_ref().unwrap_err());
    // The other columns still decode: a count does not read `name`.
    assert_eq!(db.express().count::<Drift>(&json!({})).await.unwrap(), 1);
}

backend_tests!(
    typed_and_dynamic_reads_return_exactly_what_was_stored,
    a_column_that_no_longer_decodes_is_a_df_error_naming_model_and_field
);
