//! Bulk create stores exactly what a single create stores, whichever statement form the backend
//! picks (issue 13): on PostgreSQL `COPY … FROM STDIN` (≥ 1,000 rows, nothing returned), `UNNEST`
//! (256–999 rows, or when generated ids are returned) and multi-row VALUES; on SQLite and MariaDB
//! multi-row VALUES. The rows carry values that break naive COPY text encoders: tabs, newlines,
//! carriage returns, backslashes, `\N`, `\.`, NULL next to the empty string, unicode, extreme
//! numbers and dates, JSON with escapes, bytes with `\`.

use chrono::{DateTime, NaiveDate, Utc};
use dataflow::{Model, Value};
use dataflow_core::{DataFlow, Query};
use dataflow_sql::{ErrorCode, Operation};
use dataflow_tests::TestDb;
use rust_decimal::Decimal;
use serde_json::{Value as J, json};
use uuid::Uuid;

#[dataflow::model]
#[derive(Debug, Clone, PartialEq)]
struct Nasty {
    id: i64,
    #[dataflow(unique)]
    key: String,
    text: String,
    opt: Option<String>,
    n32: i32,
    n64: i64,
    maybe_n: Option<i64>,
    f: f64,
    b: bool,
    at: DateTime<Utc>,
    maybe_at: Option<DateTime<Utc>>,
    day: NaiveDate,
    u: Uuid,
    dec: Decimal,
    doc: serde_json::Value,
    tags: Vec<String>,
    fs: Vec<f64>,
    bytes: Vec<u8>,
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const STRINGS: &[&str] = &[
    "",
    "plain",
    "\t",
    "a\tb",
    "line1\nline2",
    "cr\r\nlf",
    "back\\slash",
    "\\N",
    "\\\\N",
    "\\.",
    "\\x41",
    "trailing\\",
    "\\",
    "é中🦀",
    "'quote\" `tick`",
    " NULL ",
    "NULL",
    "%_",
    "a\u{7f}b\u{8}c\u{c}",
    "\u{2028}\u{feff}bom",
    "{\"not\":\"json\"}",
    "{a,b}",
];

/// One variant per index: every field cycles through its own list of awkward values.
fn variant(i: usize) -> Nasty {
    let s = |k: usize| STRINGS[(i + k) % STRINGS.len()].to_owned();
    let floats = [0.1, -0.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE, 5e-324, 1e15, 1e-300, 123_456_789.123_456_78, -1.5];
    let ints32 = [0, -1, i32::MIN, i32::MAX, 42];
    let ints64 = [0, -1, i64::MIN, i64::MAX, 1 << 53];
    let ats = [
        ymd(1, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc(),
        ymd(9999, 12, 31).and_hms_micro_opt(23, 59, 59, 999_999).unwrap().and_utc(),
        ymd(1969, 12, 31).and_hms_nano_opt(23, 59, 59, 999_999_999).unwrap().and_utc(),
        ymd(2000, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc(),
        ymd(2024, 2, 29).and_hms_micro_opt(12, 30, 1, 7).unwrap().and_utc(),
    ];
    let days = [ymd(1, 1, 1), ymd(9999, 12, 31), ymd(2024, 2, 29), ymd(1970, 1, 1)];
    let uuids = [Uuid::nil(), Uuid::max(), Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)];
    let decs = ["0", "-9999999999999999999999999999", "0.1234567891", "12.50", "-0.0000000001", "1e3"];
    let docs = [
        json!({"tab": "\t", "nl": "\n", "bs": "\\", "q": "\"", "crab": "🦀", "n": "\\N", "nested": [1, 2.5, null, true]}),
        json!("just a string with a \t tab"),
        J::Null,
        json!({"x": 1e15, "y": -2, "big": i64::MAX}),
        json!([]),
        json!({"": {"\\": ["\r\n"]}}),
    ];
    let tags = [vec![], vec![s(3), s(4)], vec!["\\N".to_owned(), "\t".to_owned(), String::new()]];
    let fss = [vec![], vec![0.25, -0.0], vec![f64::MAX, f64::MIN_POSITIVE]];
    let bytes = [vec![], vec![0], vec![b'\\'], b"\\N\t\n".to_vec(), (0..=255).collect()];
    Nasty {
        id: 0,
        key: String::new(),
        text: if i == 7 { "é".repeat(5_000) + "\t\\" } else { s(0) },
        opt: match i % 4 {
            0 => None,
            1 => Some(String::new()),
            2 => Some("\\N".into()),
            _ => Some(s(1)),
        },
        n32: ints32[i % ints32.len()],
        n64: ints64[i % ints64.len()],
        maybe_n: (!i.is_multiple_of(3)).then(|| ints64[(i + 1) % ints64.len()]),
        f: floats[i % floats.len()],
        b: i.is_multiple_of(2),
        at: ats[i % ats.len()],
        maybe_at: (i % 2 == 1).then(|| ats[(i + 2) % ats.len()]),
        day: days[i % days.len()],
        u: uuids[i % uuids.len()],
        dec: decs[i % decs.len()].parse().unwrap_or_else(|_| Decimal::from(1000)),
        doc: docs[i % docs.len()].clone(),
        tags: tags[i % tags.len()].clone(),
        fs: fss[i % fss.len()].clone(),
        bytes: bytes[i % bytes.len()].clone(),
    }
}

/// Distinct variants (the lists' lengths are coprime enough to mix them well).
const VARIANTS: usize = 44;

fn rows(prefix: &str, n: usize) -> Vec<Nasty> {
    (0..n).map(|i| Nasty { key: format!("{prefix}{i:05}"), ..variant(i % VARIANTS) }).collect()
}

/// Equality as stored: date-times at microsecond precision, JSON numbers by value.
fn stored_eq(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::DateTime(e), Value::DateTime(g)) => dataflow_sql::portable::truncate_micros(e) == *g,
        (Value::Json(e), Value::Json(g)) => json_eq(e, g),
        (Value::Array(e), Value::Array(g)) => e.len() == g.len() && e.iter().zip(g).all(|(p, q)| stored_eq(p, q)),
        _ => expected == got,
    }
}

fn json_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_i64().zip(y.as_i64()).map_or(x.as_f64() == y.as_f64(), |(p, q)| p == q),
        (J::Array(x), J::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Field-by-field comparison without `id` and `key`; the message names the field.
fn same(what: &str, expected: &Nasty, got: &Nasty, exact: bool) {
    let fields = &Nasty::schema().fields;
    for ((f, e), g) in fields.iter().zip(expected.to_values()).zip(got.to_values()) {
        if f.name == "id" || f.name == "key" {
            continue;
        }
        let ok = if exact { e == g } else { stored_eq(&e, &g) };
        assert!(ok, "{what}: field `{}` of {}: expected {e:?}, got {g:?}", f.name, got.key);
    }
}

async fn stored(db: &DataFlow, prefix: &str) -> Vec<Nasty> {
    let q = Query::new().filter(json!({"key": {"$like": format!("{prefix}%")}})).order_by(["key"]).limit(100_000);
    db.express().list::<Nasty>(&q).await.unwrap().into_iter().map(|s| s.record).collect()
}

async fn bulk_forms_store_what_single_create_stores(t: &TestDb) {
    let db = DataFlow::connect(t.url()).await.expect("connect");
    db.register::<Nasty>().await.expect("register");
    let mut ex = db.express();
    // COPY on PostgreSQL (1,200 rows, no ids wanted).
    let copied = rows("c", 1_200);
    assert_eq!(ex.bulk_create(&copied).await.unwrap(), 1_200);
    if t.backend() == dataflow_tests::Backend::Postgres {
        let stats = db.stats();
        let sql: Vec<&str> = stats.slowest.iter().map(|s| s.sql.as_str()).collect();
        let copy = format!("COPY \"{}\" (", Nasty::schema().table);
        assert!(sql.iter().any(|s| s.starts_with(&copy)), "no {copy}.. among {sql:#?}");
    }
    // UNNEST on PostgreSQL (300 rows).
    let unnested = rows("u", 300);
    assert_eq!(ex.bulk_create(&unnested).await.unwrap(), 300);
    // One by one.
    let mut single = Vec::new();
    for r in rows("s", VARIANTS) {
        single.push(ex.create(&r).await.unwrap().record);
    }
    // Streamed in chunks, and the dynamic form with ids (RETURNING instead of COPY on PostgreSQL).
    assert_eq!(ex.bulk_create_iter(rows("i", 1_100)).await.unwrap(), 1_100);
    let dynamic: Vec<J> = rows("d", 1_050)
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            for (f, v) in Nasty::schema().fields.iter().zip(r.to_values()) {
                if f.name != "id" {
                    m.insert(f.name.clone(), v.to_json());
                }
            }
            J::Object(m)
        })
        .collect();
    let out = ex.run("Nasty", Operation::BulkCreate, &json!({"data": dynamic, "return_ids": true})).await.unwrap();
    assert_eq!(out["ids"].as_array().map(Vec::len), Some(1_050), "{}", out["inserted"]);
    let out = ex
        .run(
            "Nasty",
            Operation::BulkCreate,
            &json!({"data": dynamic.iter().map(|d| {
        let mut d = d.clone();
        d["key"] = json!(format!("b{}", d["key"].as_str().unwrap_or_default()));
        d
    }).collect::<Vec<_>>(), "batch_size": 400}),
        )
        .await
        .unwrap();
    assert_eq!(out["inserted"], 1_050);

    let single_back = stored(&db, "s").await;
    assert_eq!(single_back.len(), VARIANTS);
    for (w, g) in single.iter().zip(&single_back) {
        same("single create vs its read-back", w, g, true);
    }
    for (prefix, n) in [("c", 1_200), ("u", 300), ("i", 1_100), ("d", 1_050), ("bd", 1_050)] {
        let back = stored(&db, prefix).await;
        assert_eq!(back.len(), n, "rows stored under `{prefix}`");
        for (i, g) in back.iter().enumerate() {
            let expected = variant(i % VARIANTS);
            same(&format!("`{prefix}` vs what was written"), &expected, g, false);
            // The same value read back as the single create's: bit for bit.
            same(&format!("`{prefix}` vs single create"), &single_back[i % VARIANTS], g, true);
        }
    }

    // A constraint violation inside COPY is the usual DF error and leaves nothing behind.
    let mut dup = rows("x", 1_100);
    dup[1_099].key = "c00005".into();
    let e = ex.bulk_create(&dup).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::UNIQUE_VIOLATION, "{e}");
    assert_eq!(ex.count::<Nasty>(&json!({"key": {"$like": "x%"}})).await.unwrap(), 0);
    // The connection is usable afterwards.
    assert_eq!(ex.bulk_create(&rows("y", 1_000)).await.unwrap(), 1_000);
    db.close().await;
}

dataflow_tests::backend_tests!(bulk_forms_store_what_single_create_stores);
