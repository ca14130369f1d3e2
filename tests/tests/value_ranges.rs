//! "What is acknowledged must read back equal" (issue 12), on SQLite, PostgreSQL and MariaDB:
//! a value is either rejected before any SQL with DF-102 naming the field and the portable range
//! (`dataflow_sql::portable`), or it reads back equal — through the typed and the dynamic API.
//!
//! - regressions for every defect found: deep JSON, JSON 1.7976931348623157e308 (now exact), year-10000 and
//!   leap-second date-times, Decimal scale, NaN/±∞, 64 KiB+ strings on MariaDB, U+0000, over-long
//!   indexed strings, and `limit`/`offset` above `i64::MAX` (DF-106);
//! - a property test over every field type with arbitrary values including those edges
//!   (64 cases per backend).

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use dataflow::{FieldDef, Model, Value};
use dataflow_core::{DataFlow, Query};
use dataflow_tests::TestDb;
use futures::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use serde_json::{Value as J, json};
use uuid::Uuid;

#[dataflow::model]
#[derive(Debug, Clone, PartialEq)]
struct Sample {
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
    fs: Vec<f64>,
    flags: Vec<bool>,
    bytes: Vec<u8>,
}

fn base(key: &str) -> Sample {
    Sample {
        id: 0,
        key: key.into(),
        text: "t".into(),
        n32: 1,
        n64: 2,
        f: 0.5,
        b: true,
        at: NaiveDate::from_ymd_opt(2024, 5, 6).unwrap().and_hms_micro_opt(7, 8, 9, 123_456).unwrap().and_utc(),
        day: NaiveDate::from_ymd_opt(2024, 5, 6).unwrap(),
        u: Uuid::from_u128(7),
        dec: "12.50".parse().unwrap(),
        doc: json!({"a": [1, 2.5, "x"]}),
        tags: vec!["a".into()],
        ns: vec![1],
        fs: vec![0.25],
        flags: vec![true],
        bytes: vec![0, 255],
    }
}

async fn connect(t: &TestDb) -> DataFlow {
    let db = DataFlow::connect(t.url()).await.expect("connect");
    db.register::<Sample>().await.expect("register");
    db
}

/// JSON equality with numbers compared by value (`1e15` and `1000000000000000` are equal).
fn json_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(p), Some(q), _, _) => p == q,
            (_, _, Some(p), Some(q)) => p == q,
            _ => x.as_f64() == y.as_f64(),
        },
        (J::Array(x), J::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Value equality as stored: date-times at microsecond precision, decimals and numbers by value.
fn value_eq(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::DateTime(e), Value::DateTime(g)) => dataflow_sql::portable::truncate_micros(e) == *g,
        (Value::Json(e), Value::Json(g)) => json_eq(e, g),
        (Value::Array(e), Value::Array(g)) => e.len() == g.len() && e.iter().zip(g).all(|(p, q)| value_eq(p, q)),
        _ => expected == got,
    }
}

fn fields() -> &'static [FieldDef] {
    &Sample::schema().fields
}

/// Compares every field but `id`; the message names the field.
fn same(expected: &Sample, got: &Sample) -> Result<(), String> {
    for ((f, e), g) in fields().iter().zip(expected.to_values()).zip(got.to_values()) {
        if f.name != "id" && !value_eq(&e, &g) {
            return Err(format!("field `{}`: wrote {e:?}, read {g:?}", f.name));
        }
    }
    Ok(())
}

/// The dynamic (JSON) form of a sample.
fn sample_json(s: &Sample) -> J {
    let mut m = serde_json::Map::new();
    for (f, v) in fields().iter().zip(s.to_values()) {
        if f.name != "id" {
            m.insert(f.name.clone(), v.to_json());
        }
    }
    J::Object(m)
}

/// Writes `s` through the typed API: `Ok(true)` when it read back equal, `Ok(false)` when it was
/// rejected with DF-102 and nothing was stored, `Err` otherwise.
async fn typed_round_trip(db: &DataFlow, s: &Sample) -> Result<bool, String> {
    let mut ex = db.express();
    match ex.create(s).await {
        Err(e) => {
            if e.code().number() != 102 {
                return Err(format!("create failed with {e}"));
            }
            if !e.to_string().contains(&format!("`{}`", "Sample")) {
                return Err(format!("DF-102 does not name the model: {e}"));
            }
            let n = ex.count::<Sample>(&json!({"key": s.key})).await.map_err(|e| e.to_string())?;
            if n != 0 {
                return Err(format!("rejected with DF-102 but {n} rows were stored"));
            }
            Ok(false)
        }
        Ok(stored) => {
            same(s, &stored).map_err(|m| format!("create returned a different record: {m}"))?;
            let back = ex.read::<Sample>(stored.id).await.map_err(|e| format!("read failed: {e}"))?;
            let back = back.ok_or("acknowledged record is missing")?;
            same(s, &back).map_err(|m| format!("typed read-back differs: {m}"))?;
            Ok(true)
        }
    }
}

/// Writes `s` through the dynamic API; same contract as [`typed_round_trip`].
async fn dynamic_round_trip(db: &DataFlow, s: &Sample) -> Result<bool, String> {
    let mut ex = db.express();
    match ex.create_json("Sample", &sample_json(s)).await {
        Err(e) => {
            if e.code().number() != 102 {
                return Err(format!("create_json failed with {e}"));
            }
            let n = ex.count_json("Sample", &json!({"key": s.key})).await.map_err(|e| e.to_string())?;
            if n != 0 {
                return Err(format!("rejected with DF-102 but {n} rows were stored"));
            }
            Ok(false)
        }
        Ok(created) => {
            let back = ex.read_json("Sample", &created["id"]).await.map_err(|e| format!("read_json failed: {e}"))?;
            let back = back.ok_or("acknowledged record is missing")?;
            let values = fields()
                .iter()
                .map(|f| {
                    Value::from_json(&back[&f.name], f).map_err(|e| format!("read-back JSON of `{}`: {e}", f.name))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let got = Sample::from_values(values).map_err(|e| e.to_string())?;
            same(s, &got).map_err(|m| format!("dynamic read-back differs: {m}"))?;
            Ok(true)
        }
    }
}

/// Both APIs agree: rejected on both or equal on both; the table stays readable.
async fn check(db: &DataFlow, s: &Sample) -> Result<bool, String> {
    let typed = typed_round_trip(db, s).await?;
    let mut d = s.clone();
    // Same length as the typed key (the indexed-string limit counts characters), but distinct.
    let first = if s.key.starts_with('D') { "E" } else { "D" };
    d.key = format!("{first}{}", s.key.get(1..).unwrap_or(""));
    let dynamic = dynamic_round_trip(db, &d).await?;
    if typed != dynamic {
        return Err(format!("typed accepted={typed} but dynamic accepted={dynamic}"));
    }
    db.express().list::<Sample>(&Query::new()).await.map_err(|e| format!("List after the write fails: {e}"))?;
    Ok(typed)
}

fn deep_json(levels: usize) -> J {
    (0..levels).fold(json!(1), |acc, _| json!([acc]))
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn must_reject(db: &DataFlow, s: Sample, field: &str) {
    let e = db.express().create(&s).await.expect_err("value outside the portable range was accepted");
    assert_eq!(e.code().number(), 102, "{e}");
    let text = e.to_string();
    assert!(text.contains(&format!("`{field}`")) && text.contains("portable"), "{text}");
    assert_eq!(check(db, &s).await, Ok(false), "both APIs reject {field}");
}

async fn must_round_trip(db: &DataFlow, s: Sample) {
    assert_eq!(check(db, &s).await, Ok(true));
}

async fn edges_are_rejected_or_round_trip(t: &TestDb) {
    let db = connect(t).await;
    // JSON nested >= 128 levels (PG, SQLite: acknowledged then unreadable) and past MariaDB's 32.
    must_reject(&db, Sample { doc: deep_json(128), ..base("deep128") }, "doc").await;
    must_reject(&db, Sample { doc: deep_json(32), ..base("deep32") }, "doc").await;
    must_round_trip(&db, Sample { doc: deep_json(31), ..base("deep31") }).await;
    // JSON number at the edge of f64 (PG jsonb returns it as a 309-digit integer).
    must_round_trip(&db, Sample { doc: json!({"x": 1.797_693_134_862_315_7e308, "y": 5e-324}), ..base("fmax") }).await;
    must_round_trip(&db, Sample { doc: json!({"x": 1e15, "y": -0.0, "z": u64::MAX, "w": i64::MIN}), ..base("nums") })
        .await;
    must_reject(&db, Sample { doc: json!({"s": "a\u{0}b"}), ..base("jnul") }, "doc").await;
    // JSON `null` in a NOT NULL JSON field is the document `null` (was DF-503 from the database).
    must_round_trip(&db, Sample { doc: J::Null, ..base("jnull") }).await;
    // Date-times: year 10000 (SQLite: unreadable, MariaDB: 0000-00-00) and a leap second.
    let y10k = ymd(10000, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc();
    must_reject(&db, Sample { at: y10k, ..base("y10k") }, "at").await;
    let leap = ymd(2016, 12, 31).and_hms_nano_opt(23, 59, 59, 1_000_000_000).unwrap().and_utc();
    must_reject(&db, Sample { at: leap, ..base("leap") }, "at").await;
    must_reject(&db, Sample { day: ymd(10000, 1, 1), ..base("d10k") }, "day").await;
    let last = ymd(9999, 12, 31).and_hms_micro_opt(23, 59, 59, 999_999).unwrap().and_utc();
    must_round_trip(&db, Sample { at: last, day: ymd(9999, 12, 31), ..base("last") }).await;
    let first = ymd(1, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc();
    must_round_trip(&db, Sample { at: first, day: ymd(1, 1, 1), ..base("first") }).await;
    // Sub-microsecond digits are truncated the same way on every backend, also before 1970/2000.
    let ns = ymd(1969, 12, 31).and_hms_nano_opt(23, 59, 59, 999_999_999).unwrap().and_utc();
    must_round_trip(&db, Sample { at: ns, ..base("nanos") }).await;
    // Decimal: MariaDB's DECIMAL(38,10) truncated 20 fraction digits.
    must_reject(&db, Sample { dec: "0.12345678901234567890".parse().unwrap(), ..base("dec20") }, "dec").await;
    must_reject(&db, Sample { dec: Decimal::MAX, ..base("decmax") }, "dec").await;
    must_round_trip(&db, Sample { dec: "0.1234567891".parse().unwrap(), ..base("dec10") }).await;
    must_round_trip(&db, Sample { dec: "-9999999999999999999999999999".parse().unwrap(), ..base("dec28") }).await;
    // NaN / infinity (SQLite stored NULL, PG JSON null).
    must_reject(&db, Sample { f: f64::NAN, ..base("nan") }, "f").await;
    must_reject(&db, Sample { f: f64::NEG_INFINITY, ..base("ninf") }, "f").await;
    must_reject(&db, Sample { fs: vec![1.0, f64::INFINITY], ..base("finf") }, "fs").await;
    must_round_trip(&db, Sample { f: f64::MAX, fs: vec![f64::MIN_POSITIVE, -0.0], ..base("fmax2") }).await;
    // Strings: 70,000 bytes (MariaDB TEXT held 65,535), U+0000, indexed strings.
    must_round_trip(&db, Sample { text: "é".repeat(35_000), ..base("long") }).await;
    must_reject(&db, Sample { text: "a\u{0}b".into(), ..base("nul") }, "text").await;
    must_reject(&db, Sample { tags: vec!["\u{0}".into()], ..base("tagnul") }, "tags").await;
    must_reject(&db, Sample { ..base(&"k".repeat(256)) }, "key").await;
    must_round_trip(&db, Sample { ..base(&"k".repeat(255)) }).await;
    // Update and bulk paths check the same range.
    let stored = db.express().create(&base("upd")).await.unwrap();
    let e = db.express().update(&Sample { at: y10k, ..stored.record.clone() }).await.unwrap_err();
    assert_eq!(e.code().number(), 102, "{e}");
    let e = db
        .express()
        .bulk_update_json("Sample", &json!({"filter": {"key": "upd"}, "fields": {"doc": deep_json(40)}}))
        .await
        .unwrap_err();
    assert_eq!(e.code().number(), 102, "{e}");
    let e = db.express().bulk_create(&[base("bc1"), Sample { f: f64::NAN, ..base("bc2") }]).await.unwrap_err();
    assert_eq!(e.code().number(), 102, "{e}");
    assert_eq!(db.express().count::<Sample>(&json!({"key": "bc1"})).await.unwrap(), 0);
    let e = db
        .express()
        .upsert(&Sample { dec: "1.00000000001".parse().unwrap(), ..stored.record.clone() }, &["key"])
        .await
        .unwrap_err();
    assert_eq!(e.code().number(), 102, "{e}");
    db.close().await;
}

async fn limit_and_offset_above_i64_max_are_df106(t: &TestDb) {
    let db = connect(t).await;
    db.express().create(&base("one")).await.unwrap();
    let big = u64::MAX;
    let typed = db.express().list::<Sample>(&Query::new().limit(big)).await.unwrap_err();
    assert_eq!(typed.code().number(), 106, "{typed}");
    assert!(typed.to_string().contains("limit"), "{typed}");
    let typed = db.express().list::<Sample>(&Query::new().offset(i64::MAX as u64 + 1)).await.unwrap_err();
    assert_eq!(typed.code().number(), 106, "{typed}");
    let dynamic = db.express().list_json("Sample", &json!({"limit": big})).await.unwrap_err();
    assert_eq!(dynamic.code().number(), 106, "{dynamic}");
    let dynamic = db.express().list_json("Sample", &json!({"offset": big, "limit": 1})).await.unwrap_err();
    assert_eq!(dynamic.code().number(), 106, "{dynamic}");
    let ex = db.express();
    let mut stream = std::pin::pin!(ex.list_stream_json("Sample", &json!({"limit": big})));
    assert_eq!(stream.next().await.unwrap().unwrap_err().code().number(), 106);
    let q = Query::new().offset(big);
    let mut stream = std::pin::pin!(ex.list_stream::<Sample>(&q));
    assert_eq!(stream.next().await.unwrap().unwrap_err().code().number(), 106);
    let node = db.express().run_node("SampleListNode", &json!({"limit": big})).await.unwrap_err();
    assert_eq!(node.code().number(), 106, "{node}");
    // The largest accepted value works on every backend.
    let ok = db.express().list_json("Sample", &json!({"limit": i64::MAX, "offset": 0})).await.unwrap();
    assert_eq!(ok["records"].as_array().unwrap().len(), 1);
    assert_eq!(db.express().list::<Sample>(&Query::new().limit(i64::MAX as u64)).await.unwrap().len(), 1);
    db.close().await;
}

#[test]
fn workflow_validation_refuses_limit_above_i64_max() {
    use dataflow_core::workflow::{Catalog, WorkflowBuilder};
    let catalog = Catalog::from_schemas([Sample::schema().clone()]).unwrap();
    for key in ["limit", "offset"] {
        let mut b = WorkflowBuilder::with_catalog(catalog.clone());
        b.add_node("SampleListNode", "list", json!({ key: u64::MAX }));
        let e = b.build().expect_err("limit above i64::MAX must not validate");
        assert_eq!(e.code().number(), 106, "{e:#}");
        let mut ok = WorkflowBuilder::with_catalog(catalog.clone());
        ok.add_node("SampleListNode", "list", json!({ key: i64::MAX }));
        ok.build().unwrap();
    }
}

// --- the property test -------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => "[a-zA-Z0-9 é中🦀'\"\\\\%_]{0,12}",
        1 => any::<String>(),
        1 => Just("a\u{0}b".to_owned()),
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => any::<f64>().prop_filter("finite", |f| f.is_finite()),
        1 => prop::sample::select(vec![
            f64::MAX, f64::MIN, f64::MIN_POSITIVE, 5e-324, -0.0, 1e15, 1e300, f64::NAN, f64::INFINITY,
        ]),
    ]
}

fn datetime() -> impl Strategy<Value = DateTime<Utc>> {
    let first = ymd(1, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    let past = ymd(10001, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    prop_oneof![
        6 => (first - 86_400..past, 0u32..1_000_000_000)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap_or_default()),
        1 => prop::sample::select(vec![
            ymd(9999, 12, 31).and_hms_micro_opt(23, 59, 59, 999_999).unwrap().and_utc(),
            ymd(10000, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc(),
            ymd(2016, 12, 31).and_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap().and_utc(),
            ymd(1, 1, 1).and_hms_opt(0, 0, 0).unwrap().and_utc() - TimeDelta::microseconds(1),
        ]),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (-1_000i32..3_700_000).prop_map(|d| ymd(1, 1, 1) + TimeDelta::days(i64::from(d)))
}

fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        4 => (any::<i64>(), 0u32..=11).prop_map(|(m, s)| Decimal::new(m, s)),
        2 => (-(10i128.pow(28)) + 1..10i128.pow(28), 0u32..=10)
            .prop_map(|(m, s)| Decimal::try_from_i128_with_scale(m, s).unwrap_or_default()),
        1 => prop::sample::select(vec![
            Decimal::MAX, Decimal::MIN, "0.12345678901234567890".parse().unwrap(), Decimal::new(1, 10),
        ]),
    ]
}

fn json_doc() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::from),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        float().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(J::Number)),
        text().prop_map(J::from),
    ];
    prop_oneof![
        8 => leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
                prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4).prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        }),
        1 => (28usize..40).prop_map(deep_json),
    ]
}

fn sample() -> impl Strategy<Value = Sample> {
    (
        (text(), any::<i32>(), any::<i64>(), float(), any::<bool>(), datetime(), date()),
        (any::<u128>(), decimal(), json_doc()),
        (
            prop::collection::vec(text(), 0..3),
            prop::collection::vec(any::<i64>(), 0..3),
            prop::collection::vec(float(), 0..3),
            prop::collection::vec(any::<bool>(), 0..3),
            prop::collection::vec(any::<u8>(), 0..8),
        ),
    )
        .prop_map(|((text, n32, n64, f, b, at, day), (u, dec, doc), (tags, ns, fs, flags, bytes))| Sample {
            id: 0,
            key: String::new(),
            text,
            n32,
            n64,
            f,
            b,
            at,
            day,
            u: Uuid::from_u128(u),
            dec,
            doc,
            tags,
            ns,
            fs,
            flags,
            bytes,
        })
}

async fn arbitrary_values_are_rejected_before_sql_or_read_back_equal(t: &TestDb) {
    let db = connect(t).await;
    let handle = tokio::runtime::Handle::current();
    let cases = AtomicUsize::new(0);
    let accepted = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    let outcome = tokio::task::block_in_place(|| {
        runner
            .run(&sample(), |mut s| {
                let n = cases.fetch_add(1, Ordering::SeqCst);
                s.key = format!("case{n}");
                match handle.block_on(check(&db, &s)) {
                    Ok(ok) => {
                        if ok {
                            accepted.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(())
                    }
                    Err(msg) => Err(TestCaseError::fail(msg)),
                }
            })
            .map_err(|e| e.to_string())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    // The generators mostly produce portable values: the test must exercise real round trips.
    let (n, ok) = (cases.load(Ordering::SeqCst), accepted.load(Ordering::SeqCst));
    assert!(ok * 5 >= n, "only {ok} of {n} cases were accepted");
    db.close().await;
}

dataflow_tests::backend_tests!(
    edges_are_rejected_or_round_trip,
    limit_and_offset_above_i64_max_are_df106,
    arbitrary_values_are_rejected_before_sql_or_read_back_equal,
);
