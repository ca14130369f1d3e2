//! Differential test: seeded random filters over a seeded random table, run on each backend and
//! on the reference evaluator (`crates/dataflow-sql/tests/support/reference.rs`). Every backend
//! must return exactly the ids the reference selects; a disagreement fails with the filter and
//! the rows on which they differ.
//!
//! The generator covers, besides the basic operators: non-ASCII data and patterns for `$ilike` and
//! `$regex` with `i` (precomposed and decomposed forms, `ß`/`ẞ`, Greek with final sigma, Cyrillic,
//! CJK, emoji, the Kelvin sign), float operands on integer fields and integer arrays, whole-array
//! equality (`[]`, permutations, duplicates), `$contains` on JSON paths holding arrays or strings,
//! and string operators on JSON paths. `DATAFLOW_DIFF_SEED=<u64>` explores another seed.

#[path = "../../crates/dataflow-sql/tests/support/reference.rs"]
mod reference;

use dataflow::ModelSchema;
use dataflow_core::DataFlow;
use dataflow_tests::TestDb;
use serde_json::{Map, Value as J, json};

/// Seed of the table and filter generators (change to explore; failures print the filter).
const SEED: u64 = 0x5EED_DF01;
const ROWS: usize = 80;
const FILTERS: usize = 600;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn schema() -> ModelSchema {
    ModelSchema::from_json(&json!({
        "name": "Sample",
        "fields": [
            {"name": "id", "type": "i64"},
            {"name": "name", "type": "string", "nullable": true},
            {"name": "age", "type": "i32", "nullable": true},
            {"name": "score", "type": "f64", "nullable": true},
            {"name": "active", "type": "bool"},
            {"name": "tags", "type": {"array": "string"}},
            {"name": "scores", "type": {"array": "i64"}, "nullable": true},
            {"name": "born", "type": "date_time", "nullable": true},
            {"name": "profile", "type": "json", "nullable": true}
        ]
    }))
    .unwrap()
}

fn names() -> Vec<J> {
    [
        "Alice",
        "alice",
        "Alice ",
        "Bob",
        "bob",
        "",
        "a%b",
        "a_b",
        "x\\y",
        "O'Neil",
        "émile",
        "Zoë",
        "ALICE",
        // Non-ASCII case folding: precomposed and decomposed forms, ß, Greek (with final sigma),
        // Cyrillic, CJK, emoji.
        "ZOË",
        "zoë",
        "Émile",
        "E\u{301}MILE",
        "e\u{301}mile",
        "STRASSE",
        "strasse",
        "Straße",
        "STRAẞE",
        "ΣΟΦΟΣ",
        "σοφος",
        "σοφοσ",
        "МОСКВА",
        "москва",
        "東京",
        "🦀 crab",
        "🦀 CRAB",
        "Kelvin \u{212A}",
    ]
    .iter()
    .map(|s| json!(s))
    .chain([J::Null])
    .collect()
}

fn ages() -> Vec<J> {
    vec![J::Null, json!(0), json!(1), json!(5), json!(18), json!(42), json!(-3), json!(100)]
}

fn scores() -> Vec<J> {
    vec![J::Null, json!(0.0), json!(1.5), json!(-2.25), json!(100.0), json!(3.75)]
}

fn instants() -> Vec<J> {
    vec![
        J::Null,
        json!("2024-01-01T00:00:00Z"),
        json!("2024-01-01T01:30:00+02:00"),
        json!("2023-12-31T22:00:00-03:00"),
        json!("2024-06-15T12:00:00.250Z"),
        json!("1999-12-31T23:59:59Z"),
    ]
}

const TAGS: [&str; 4] = ["a", "b", "c", "D"];

/// Case-insensitive patterns (`$ilike`) over the non-ASCII names.
const ILIKE: [&str; 18] = [
    "zoë",
    "ZO%",
    "émile",
    "É%",
    "%MILE",
    "e\u{301}%",
    "E\u{301}%",
    "strasse",
    "STRASSE",
    "straße",
    "stra_e",
    "σοφος",
    "ΣΟΦΟ_",
    "москва",
    "%КВ%",
    "東%",
    "🦀%",
    "%crab",
];

/// Regular expressions for `$regex` with and without `$options: "i"`.
const REGEX: [&str; 16] = [
    "^A",
    "e$",
    "^[Bb]ob$",
    "li",
    "^zoë$",
    "^É",
    "mile$",
    "^stra(ss|ß)e$",
    "σοφο[σς]",
    "^мос",
    "京",
    "🦀 c",
    "^e\u{301}",
    "^(al|bo)",
    "[α-ω]{3}",
    "^.{5}$",
];

/// Operands for integer fields that are floats: integral, fractional, beyond the range.
const FLOATS: [f64; 11] = [17.5, 18.0, 42.0, 4.5, -2.5, 0.0, 100.0, 1e300, -1e300, 1.0, 2.5];

fn table(rng: &mut Rng) -> Vec<Map<String, J>> {
    (0..ROWS)
        .map(|i| {
            let mut m = Map::new();
            m.insert("id".into(), json!(i as i64 + 1));
            m.insert("name".into(), rng.pick(&names()));
            m.insert("age".into(), rng.pick(&ages()));
            m.insert("score".into(), rng.pick(&scores()));
            m.insert("active".into(), json!(rng.chance(50)));
            let mut tags: Vec<&str> = TAGS.iter().copied().filter(|_| rng.chance(40)).collect();
            if rng.chance(30) {
                tags.reverse();
            }
            if rng.chance(20)
                && let Some(first) = tags.first().copied()
            {
                tags.push(first);
            }
            m.insert("tags".into(), json!(tags));
            let scores =
                if rng.chance(15) { J::Null } else { json!((0..rng.below(4)).map(|_| rng.below(3) as i64 + 1).collect::<Vec<_>>()) };
            m.insert("scores".into(), scores);
            m.insert("born".into(), rng.pick(&instants()));
            let profile = if rng.chance(25) {
                J::Null
            } else {
                let mut p = json!({"city": rng.pick(&["Oslo", "Bergen", "oslo", "ÅLESUND", "ålesund", "Σπάρτη"]), "level": rng.below(5)});
                let langs = match rng.below(4) {
                    0 => json!(["rust", 3, true]),
                    1 => json!(["go", "3", ["rust"]]),
                    2 => json!("rust and go"),
                    _ => J::Null,
                };
                if !langs.is_null() {
                    p["langs"] = langs;
                }
                p
            };
            m.insert("profile".into(), profile);
            m
        })
        .collect()
}

fn leaf(rng: &mut Rng) -> J {
    let non_null = |rng: &mut Rng, pool: Vec<J>| -> J {
        loop {
            let v = rng.pick(&pool);
            if !v.is_null() {
                return v;
            }
        }
    };
    match rng.below(13) {
        8 => {
            // Unicode case folding: $ilike and $regex with "i" over the non-ASCII names.
            if rng.chance(50) {
                json!({"name": {"$ilike": rng.pick(&ILIKE)}})
            } else if rng.chance(70) {
                json!({"name": {"$regex": rng.pick(&REGEX), "$options": "i"}})
            } else {
                json!({"name": {"$regex": rng.pick(&REGEX)}})
            }
        }
        9 => {
            // Float operands on integer fields.
            let f = json!(rng.pick(&FLOATS));
            match rng.below(4) {
                0 => json!({"age": {rng.pick(&["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]): f}}),
                1 => json!({"age": {rng.pick(&["$in", "$nin"]): [f, rng.pick(&ages()), json!(rng.pick(&FLOATS))]}}),
                2 => json!({"scores": {"$any": {rng.pick(&["$eq", "$gt", "$lte", "$ne"]): f}}}),
                _ if rng.chance(50) => json!({"scores": {"$contains": f}}),
                _ => json!({"scores": {"$eq": [f, 2.0]}}),
            }
        }
        10 => {
            // Whole-array equality: [], permutations, duplicates.
            let pool = [
                json!([]),
                json!(["a"]),
                json!(["a", "b"]),
                json!(["b", "a"]),
                json!(["a", "a"]),
                json!(["a", "b", "c", "D"]),
                json!(["D", "c", "b", "a"]),
                json!(["a", "b", "a"]),
            ];
            match rng.below(3) {
                0 => json!({"tags": rng.pick(&pool)}),
                1 => json!({"tags": {"$ne": rng.pick(&pool)}}),
                _ => {
                    json!({"scores": {rng.pick(&["$eq", "$ne"]): rng.pick(&[json!([]), json!([1]), json!([1, 2]), json!([2, 1]), json!([1, 1])])}})
                }
            }
        }
        11 => {
            // JSON paths holding arrays (membership, typed) or strings (substring).
            let v = rng.pick(&[
                json!("rust"),
                json!("go"),
                json!(3),
                json!(3.0),
                json!("3"),
                json!(true),
                json!(1),
                json!("and"),
            ]);
            if rng.chance(80) {
                json!({"profile.langs": {"$contains": v}})
            } else {
                json!({"profile.langs": {"$not": {"$contains": v}}})
            }
        }
        12 => {
            // String operators on a JSON path.
            match rng.below(3) {
                0 => json!({"profile.city": {"$ilike": rng.pick(&["oslo", "å%", "ÅL%", "σπάρτη", "%O"])}}),
                1 => json!({"profile.city": {"$regex": rng.pick(&["^[Oo]", "sund$", "^σ"]), "$options": "i"}}),
                _ => {
                    json!({"profile.city": {rng.pick(&["$startswith", "$endswith", "$like"]): rng.pick(&["O", "und", "%s%"])}})
                }
            }
        }
        0 => {
            let op = rng.pick(&[
                "$eq",
                "$ne",
                "$in",
                "$nin",
                "$gt",
                "$lt",
                "$like",
                "$ilike",
                "$startswith",
                "$endswith",
                "$contains",
                "$regex",
                "$exists",
                "$null",
                "bare",
            ]);
            let v = match op {
                "$in" | "$nin" => J::Array((0..rng.below(4)).map(|_| rng.pick(&names())).collect()),
                "$gt" | "$lt" => non_null(rng, names()),
                "$like" | "$ilike" => json!(rng.pick(&["A%", "%e", "a\\%b", "a_b", "%li%", "_ob", "%"])),
                "$startswith" | "$endswith" | "$contains" => {
                    json!(rng.pick(&["A", "a", "%", "_", "\\", "ce", "li", "'"]))
                }
                "$regex" => json!(rng.pick(&["^A", "e$", "^[Bb]ob$", "li"])),
                "$exists" | "$null" => json!(rng.chance(50)),
                _ => rng.pick(&names()),
            };
            if op == "bare" { json!({"name": v}) } else { json!({"name": {op: v}}) }
        }
        1 | 2 => {
            let (field, pool) = if rng.chance(50) { ("age", ages()) } else { ("score", scores()) };
            let op = rng.pick(&["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$null", "$not"]);
            let v = match op {
                "$in" | "$nin" => J::Array((0..rng.below(4)).map(|_| rng.pick(&pool)).collect()),
                "$gt" | "$gte" | "$lt" | "$lte" => non_null(rng, pool),
                "$null" => json!(rng.chance(50)),
                "$not" => json!({"$gt": non_null(rng, pool)}),
                _ => rng.pick(&pool),
            };
            json!({field: {op: v}})
        }
        3 => json!({"active": if rng.chance(50) { json!(rng.chance(50)) } else { json!({"$ne": rng.chance(50)}) }}),
        4 => {
            let some = |rng: &mut Rng| -> J {
                let mut v: Vec<&str> = TAGS.iter().copied().filter(|_| rng.chance(40)).collect();
                if v.is_empty() {
                    v.push(rng.pick(&TAGS));
                }
                json!(v)
            };
            match rng.below(4) {
                0 => json!({"tags": {"$contains": rng.pick(&TAGS)}}),
                1 => json!({"tags": {"$all": some(rng)}}),
                2 => json!({"tags": {"$overlap": some(rng)}}),
                _ => json!({"tags": {"$size": rng.below(4)}}),
            }
        }
        5 => {
            let op = rng.pick(&["$gt", "$gte", "$lt", "$lte", "$eq", "$ne"]);
            json!({"born": {op: non_null(rng, instants())}})
        }
        6 => {
            if rng.chance(50) {
                json!({"profile.city": rng.pick(&["Oslo", "Bergen", "oslo", "Trondheim"])})
            } else {
                json!({"profile.level": {rng.pick(&["$gte", "$lt", "$eq"]): rng.below(5)}})
            }
        }
        _ => {
            json!({"id": {rng.pick(&["$in", "$nin"]): (0..rng.below(5)).map(|_| rng.below(ROWS) + 1).collect::<Vec<_>>()}})
        }
    }
}

fn filter(rng: &mut Rng, depth: usize) -> J {
    if depth == 0 || rng.chance(45) {
        return leaf(rng);
    }
    let kids = |rng: &mut Rng| -> Vec<J> { (0..1 + rng.below(3)).map(|_| filter(rng, depth - 1)).collect() };
    match rng.below(5) {
        0 => json!({"$and": kids(rng)}),
        1 | 2 => json!({"$or": kids(rng)}),
        3 => json!({"$nor": kids(rng)}),
        _ => {
            // Two keys in one object are ANDed.
            let (a, b) = (leaf(rng), leaf(rng));
            let mut m = a.as_object().cloned().unwrap_or_default();
            for (k, v) in b.as_object().cloned().unwrap_or_default() {
                m.entry(k).or_insert(v);
            }
            J::Object(m)
        }
    }
}

async fn differential(t: &TestDb) {
    let s = schema();
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register_schema(s.clone()).await.unwrap();
    // `DATAFLOW_DIFF_SEED=<u64>` explores another table and filter set.
    let seed = std::env::var("DATAFLOW_DIFF_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(SEED);
    let mut rng = Rng(seed);
    let rows = table(&mut rng);
    let data = J::Array(rows.iter().cloned().map(J::Object).collect());
    assert_eq!(db.express().bulk_create_json("Sample", &data).await.unwrap()["inserted"], ROWS);
    let mut checked = 0;
    let mut selective = 0;
    for n in 0..FILTERS {
        let f = filter(&mut rng, 3);
        if let Err(e) = dataflow_sql::filter::Filter::parse(&f, &s) {
            panic!("generated filter #{n} was rejected: {f}\n{e}");
        }
        let want: Vec<i64> =
            rows.iter().filter(|r| reference::matches(&f, r, &s)).map(|r| r["id"].as_i64().unwrap()).collect();
        let got = db
            .express()
            .list_json("Sample", &json!({"filter": f, "fields": ["id"]}))
            .await
            .unwrap_or_else(|e| panic!("filter #{n} failed on {:?}: {f}\n{e}", t.backend()));
        let got: Vec<i64> = got["records"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
        if got != want {
            let differing: Vec<&Map<String, J>> = rows
                .iter()
                .filter(|r| {
                    let id = r["id"].as_i64().unwrap_or_default();
                    got.contains(&id) != want.contains(&id)
                })
                .collect();
            panic!(
                "backend {:?} disagrees with the reference on filter #{n}:\n{f}\nbackend: {got:?}\nreference: {want:?}\nrows that differ: {}",
                t.backend(),
                serde_json::to_string(&differing).unwrap_or_default()
            );
        }
        checked += 1;
        if !want.is_empty() && want.len() < ROWS {
            selective += 1;
        }
    }
    assert_eq!(checked, FILTERS);
    // The generator must mostly produce filters that split the table, or agreement proves little.
    assert!(selective > FILTERS / 2, "only {selective} of {FILTERS} filters select a proper subset");
    db.close().await;
}

dataflow_tests::backend_tests!(differential);
