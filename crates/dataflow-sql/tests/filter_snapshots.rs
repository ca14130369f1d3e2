//! SQL snapshots: one fixture per case in `tests/fixtures/filters/<case>.json`
//! (`{"filter": ..., "native_arrays": false}`), one snapshot per dialect with the SQL text and
//! the bound values. Invalid filters snapshot the error's Display once.

mod support {
    pub mod schema;
}

use dataflow_sql::Dialect;
use dataflow_sql::filter::Filter;
use sea_query::{Alias, Asterisk, MysqlQueryBuilder, PostgresQueryBuilder, Query, SqliteQueryBuilder};

fn render(filter: &Filter, schema: &dataflow_sql::ModelSchema, d: Dialect) -> String {
    let q = Query::select()
        .column(Asterisk)
        .from(Alias::new(&schema.table))
        .cond_where(filter.to_condition(schema, d))
        .to_owned();
    let (sql, values) = match d {
        Dialect::Postgres => q.build(PostgresQueryBuilder),
        Dialect::MySql => q.build(MysqlQueryBuilder),
        Dialect::Sqlite => q.build(SqliteQueryBuilder),
    };
    let mut out = format!("{sql}\n");
    for (i, v) in values.0.iter().enumerate() {
        out.push_str(&format!("  {}: {v:?}\n", i + 1));
    }
    out
}

#[test]
fn filter_snapshots() {
    insta::glob!("fixtures/filters/*.json", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
        let native = fixture.get("native_arrays").and_then(|v| v.as_bool()).unwrap_or(false);
        let schema = support::schema::user_schema(native);
        let input = &fixture["filter"];
        match Filter::parse(input, &schema) {
            Ok(f) => {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(!name.starts_with("err_"), "{name}: expected an error, the filter parsed");
                for d in Dialect::ALL {
                    if native && d != Dialect::Postgres {
                        continue;
                    }
                    let header = format!(
                        "filter: {input}\nmatches_everything: {}  identifies_one: {}\n\n",
                        f.matches_everything(),
                        f.identifies_one(&schema)
                    );
                    insta::assert_snapshot!(d.name(), format!("{header}{}", render(&f, &schema, d)));
                }
            }
            Err(e) => {
                assert!(
                    path.file_name().unwrap().to_string_lossy().starts_with("err_"),
                    "{}: unexpected error {e}",
                    path.display()
                );
                insta::assert_snapshot!("error", format!("filter: {input}\n\n{e:#}\n  all fixes: {:?}", e.fixes()));
            }
        }
    });
}
