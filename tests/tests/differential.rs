//! Differential test: seeded random filters over a seeded random table, run on each backend and
//! on the reference evaluator (`crates/dataflow-sql/tests/support/reference.rs`). Every backend
//! must return exactly the ids the reference selects; a disagreement fails with the filter.

#[path = "../../crates/dataflow-sql/tests/support/reference.rs"]
mod reference;

use dataflow::ModelSchema;
use dataflow_core::DataFlow;
use dataflow_tests::TestDb;
use serde_json::{Map, Value as J, json};

/// Seed of the table and filter generators (change to explore; failures print the filter).
const SEED: u64 = 0x5EED_DF01;
const ROWS: usize = 80;
const FILTERS: usize = 400;

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
            {"name": "born", "type": "date_time", "nullable": true},
            {"name": "profile", "type": "json", "nullable": true}
        ]
    }))
    .unwrap()
}

fn names() -> Vec<J> {
    ["Alice", "alice", "Alice ", "Bob", "bob", "", "a%b", "a_b", "x\\y", "O'Neil", "émile", "Zoë", "ALICE"]
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

fn table(rng: &mut Rng) -> Vec<Map<String, J>> {
    (0..ROWS)
        .map(|i| {
            let mut m = Map::new();
            m.insert("id".into(), json!(i as i64 + 1));
            m.insert("name".into(), rng.pick(&names()));
            m.insert("age".into(), rng.pick(&ages()));
            m.insert("score".into(), rng.pick(&scores()));
            m.insert("active".into(), json!(rng.chance(50)));
            let tags: Vec<&str> = TAGS.iter().copied().filter(|_| rng.chance(40)).collect();
            m.insert("tags".into(), json!(tags));
            m.insert("born".into(), rng.pick(&instants()));
            let profile = if rng.chance(25) {
                J::Null
            } else {
                json!({"city": rng.pick(&["Oslo", "Bergen", "oslo"]), "level": rng.below(5)})
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
    match rng.below(8) {
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
    let mut rng = Rng(SEED);
    let rows = table(&mut rng);
    let data = J::Array(rows.iter().cloned().map(J::Object).collect());
    assert_eq!(db.express().bulk_create_json("Sample", &data).await.unwrap()["inserted"], ROWS);
    let mut checked = 0;
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
        assert_eq!(got, want, "backend {:?} disagrees with the reference on filter #{n}:\n{f}", t.backend());
        checked += 1;
    }
    assert_eq!(checked, FILTERS);
    db.close().await;
}

dataflow_tests::backend_tests!(differential);
