//! Size limits of a filter (DF-105 before SQL) and rendering of long flat lists without deep
//! recursion: a 20,000-branch `$or` used to overflow the stack inside sea-query's builder.

mod support {
    pub mod schema;
}

use dataflow_sql::filter::{Filter, FilterLimits, MAX_BRANCHES, MAX_LIST_VALUES};
use dataflow_sql::{Dialect, ErrorCode};
use sea_query::{Alias, Asterisk, Query};
use serde_json::{Value, json};

fn or_of(n: usize) -> Value {
    json!({"$or": (0..n).map(|i| json!({"visits": i})).collect::<Vec<_>>()})
}

/// Renders a filter inside a SELECT and returns (sql, number of bound values).
fn render(f: &Filter, d: Dialect) -> (String, usize) {
    let schema = support::schema::user_schema(false);
    let cond = f.condition(&schema, d).unwrap_or_else(|e| panic!("{d}: {e}"));
    let q = Query::select().column(Asterisk).from(Alias::new(&schema.table)).cond_where(cond).to_owned();
    let st = dataflow_sql::stmt::Sql::build(&q, d);
    (st.sql, st.values.0.len())
}

#[test]
fn a_20000_branch_or_is_df105_naming_the_limit() {
    let schema = support::schema::user_schema(false);
    for key in ["$or", "$and", "$nor"] {
        let big = json!({key: (0..20_000).map(|i| json!({"visits": i})).collect::<Vec<_>>()});
        let e = Filter::parse(&big, &schema).unwrap_err();
        assert_eq!(e.code(), ErrorCode::INVALID_FILTER, "{key}");
        let text = format!("{e:#}");
        assert!(text.contains("20000") && text.contains(&MAX_BRANCHES.to_string()), "{text}");
        assert!(text.contains("MAX_BRANCHES") && text.contains("parse_with_limits"), "says how to change it: {text}");
    }
}

#[test]
fn long_flat_lists_render_without_deep_recursion() {
    // Run on a small stack: the rendering must not recurse once per branch.
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let schema = support::schema::user_schema(false);
            let f = Filter::parse(&or_of(MAX_BRANCHES), &schema).unwrap();
            for d in Dialect::ALL {
                let (sql, values) = render(&f, d);
                assert_eq!(values, MAX_BRANCHES, "{d}");
                // Balanced groups: parentheses never nest deeper than a few levels.
                let mut depth = 0usize;
                let mut deepest = 0usize;
                for c in sql.chars() {
                    match c {
                        '(' => {
                            depth += 1;
                            deepest = deepest.max(depth);
                        }
                        ')' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                assert!(deepest <= 8, "{d}: parentheses nest {deepest} deep");
            }
        })
        .unwrap();
    handle.join().expect("rendering a 10,000-branch $or must not overflow a 256 KiB stack");
}

#[test]
fn list_and_node_limits_are_configurable() {
    let schema = support::schema::user_schema(false);
    let limits = FilterLimits { max_branches: 3, max_list_values: 2, max_nodes: 10 };
    assert!(Filter::parse_with_limits(&or_of(3), &schema, &limits).is_ok());
    assert_eq!(Filter::parse_with_limits(&or_of(4), &schema, &limits).unwrap_err().code(), ErrorCode::INVALID_FILTER);
    let e = Filter::parse_with_limits(&json!({"visits": {"$in": [1, 2, 3]}}), &schema, &limits).unwrap_err();
    assert!(format!("{e:#}").contains("max_list_values"), "{e:#}");
    let many = json!({"$and": [{"visits": 1}, {"age": 2}, {"$or": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}]});
    let e = Filter::parse_with_limits(&many, &schema, &FilterLimits { max_nodes: 5, ..limits }).unwrap_err();
    assert!(format!("{e:#}").contains("max_nodes"), "{e:#}");
    let big_in = json!({"visits": {"$in": (0..=MAX_LIST_VALUES as i64).collect::<Vec<_>>()}});
    assert_eq!(Filter::parse(&big_in, &schema).unwrap_err().code(), ErrorCode::INVALID_FILTER);
}

#[test]
fn in_lists_over_the_bind_parameter_limit_are_df105_per_dialect() {
    let schema = support::schema::user_schema(false);
    let in_of = |n: i64| Filter::parse(&json!({"visits": {"$in": (0..n).collect::<Vec<_>>()}}), &schema).unwrap();
    // 40,000 values: fine on PostgreSQL and MySQL (65,535), over SQLite's 32,766.
    let f = in_of(40_000);
    assert_eq!(render(&f, Dialect::Postgres).1, 40_000);
    assert_eq!(render(&f, Dialect::MySql).1, 40_000);
    let e = f.condition(&schema, Dialect::Sqlite).unwrap_err();
    assert_eq!(e.code(), ErrorCode::INVALID_FILTER);
    assert!(e.to_string().contains("32766"), "{e}");
    // 70,000 values: over every dialect's limit.
    let f = in_of(70_000);
    for d in Dialect::ALL {
        let e = f.condition(&schema, d).unwrap_err();
        assert!(e.to_string().contains(&d.max_bind_params().to_string()), "{d}: {e}");
    }
}
