//! Filter benchmark: parse + render a 10-condition nested filter for each dialect.
//!
//! Plain `std::time::Instant` over many iterations (no extra dev-dependency). Run with
//! `cargo bench -p dataflow-sql --bench filter`; prints µs per operation.

use std::hint::black_box;
use std::time::Instant;

use dataflow_sql::filter::{Filter, ShapeCache};
use dataflow_sql::mysql_server::MySqlServer;
use dataflow_sql::{ArrayElem, Dialect, FieldDef, FieldType, ModelSchema};
use sea_query::{Alias, Asterisk, MysqlQueryBuilder, PostgresQueryBuilder, Query, SqliteQueryBuilder};

fn schema() -> ModelSchema {
    let mut s = ModelSchema::new(
        "User",
        vec![
            FieldDef::new("id", FieldType::String),
            FieldDef::new("name", FieldType::String),
            FieldDef::new("email", FieldType::String).unique(),
            FieldDef::new("age", FieldType::I32).nullable(),
            FieldDef::new("active", FieldType::Bool),
            FieldDef::new("score", FieldType::F64).nullable(),
            FieldDef::new("tags", FieldType::Array(ArrayElem::String)),
            FieldDef::new("profile", FieldType::Json).nullable(),
        ],
    );
    s.options.soft_delete = true;
    s
}

fn render(f: &Filter, schema: &ModelSchema, d: Dialect) -> (String, sea_query::Values) {
    build(f.to_condition(schema, d), schema, d)
}

/// Through the shape cache, as the runtime renders filters (`Filter::condition_cached`).
fn render_cached(f: &Filter, schema: &ModelSchema, d: Dialect, cache: &ShapeCache) -> (String, sea_query::Values) {
    build(f.condition_cached(schema, d, MySqlServer::MariaDb, cache).unwrap(), schema, d)
}

fn build(cond: sea_query::Condition, schema: &ModelSchema, d: Dialect) -> (String, sea_query::Values) {
    // Built in place (no `.to_owned()` clone of the statement).
    let mut q = Query::select();
    q.column(Asterisk).from(Alias::new(&schema.table)).cond_where(cond);
    match d {
        Dialect::Postgres => q.build(PostgresQueryBuilder),
        Dialect::MySql => q.build(MysqlQueryBuilder),
        Dialect::Sqlite => q.build(SqliteQueryBuilder),
    }
}

/// CPU time this thread has run, in ns (Linux `/proc/thread-self/schedstat`), so a loaded machine
/// (other processes competing for the cores) does not inflate the numbers. `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// Runs `f` `iters` times after a warm-up; returns (wall µs, on-CPU µs) per call.
fn time<T>(iters: u32, mut f: impl FnMut() -> T) -> (f64, f64) {
    for _ in 0..iters / 10 {
        black_box(f());
    }
    let cpu = thread_cpu_ns();
    let start = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    let wall = start.elapsed().as_secs_f64() * 1e6 / f64::from(iters);
    let cpu = match (cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e3 / f64::from(iters),
        _ => wall,
    };
    (wall, cpu)
}

fn show((wall, cpu): (f64, f64)) -> String {
    format!("{cpu:>7.2} µs on CPU ({wall:>7.2} µs wall)")
}

fn main() {
    let schema = schema();
    // Ten conditions, three levels of nesting, a mix of operator kinds.
    let filter_json = |n: i64, s: &str| {
        serde_json::json!({
            "$and": [
                {"age": {"$gte": 18 + n, "$lt": 65}},
                {"active": n % 2 == 0},
                {"$or": [
                    {"name": {"$ilike": format!("{s}%")}},
                    {"email": {"$endswith": "@example.com"}},
                    {"$and": [{"score": {"$ne": 0.5}}, {"tags": {"$contains": s}}]}
                ]},
                {"name": {"$in": ["a", s, "c"]}},
                {"profile.address.city": s},
                {"$nor": [{"deleted_at": {"$null": false}}]}
            ]
        })
    };
    let json = filter_json(0, "al");
    // The same shape with other values: what the cache serves warm.
    let variants: Vec<serde_json::Value> = (0..8).map(|i| filter_json(i, &format!("v{i}"))).collect();
    let iters = 20_000;
    println!("filter benchmark: 10-condition nested filter, {iters} iterations per measurement");
    let parse = time(iters, || Filter::parse(&json, &schema).unwrap());
    println!("  parse only: {}", show(parse));
    let f = Filter::parse(&json, &schema).unwrap();
    // Baseline: sea-query alone building ten plain `col = ?` conditions (no filter code involved).
    let baseline = time(iters, || {
        let c = (0..10).fold(sea_query::Condition::all(), |c, i| {
            c.add(sea_query::ExprTrait::eq(sea_query::Expr::col(Alias::new("age")), i))
        });
        let mut q = Query::select();
        q.column(Asterisk).from(Alias::new("users")).cond_where(c);
        q.build(PostgresQueryBuilder)
    });
    println!("  baseline, sea-query alone building 10 x `col = $n` (postgres): {}", show(baseline));
    let plain = serde_json::json!({"$and": (0..10).map(|i| serde_json::json!({"age": i})).collect::<Vec<_>>()});
    let plain_filter = Filter::parse(&plain, &schema).unwrap();
    let same = time(iters, || render(&plain_filter, &schema, Dialect::Postgres));
    println!("  the same 10 x `age = $n` through Filter::to_condition + build: {}", show(same));
    for d in Dialect::ALL {
        let render_only = time(iters, || render(&f, &schema, d));
        let both = time(iters, || render(&Filter::parse(&json, &schema).unwrap(), &schema, d));
        println!("  {:<9} render (to_condition + build): {}", d.name(), show(render_only));
        println!("  {:<9} parse + render:                {}", d.name(), show(both));
        // Cold: a fresh cache per call (render + the first-render check + insert).
        let cold = time(iters / 4, || {
            let cache = ShapeCache::new();
            render_cached(&Filter::parse(&json, &schema).unwrap(), &schema, d, &cache)
        });
        let cache = ShapeCache::new();
        let mut i = 0usize;
        let warm = time(iters, || {
            i += 1;
            render_cached(&Filter::parse(&variants[i % variants.len()], &schema).unwrap(), &schema, d, &cache)
        });
        let parsed: Vec<Filter> = variants.iter().map(|v| Filter::parse(v, &schema).unwrap()).collect();
        let warm_render = time(iters, || {
            i += 1;
            render_cached(&parsed[i % parsed.len()], &schema, d, &cache)
        });
        assert_eq!(cache.len(), 1, "every variant has the same shape");
        println!("  {:<9} parse + render, shape cache cold: {}", d.name(), show(cold));
        println!("  {:<9} parse + render, shape cache warm: {}", d.name(), show(warm));
        println!("  {:<9} render only,    shape cache warm: {}", d.name(), show(warm_render));
    }
}
