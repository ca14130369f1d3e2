//! Destructive-operation safety and honest errors under faults (issue 12), on SQLite, PostgreSQL
//! and MariaDB:
//!
//! - BulkDelete/BulkUpdate refuse (DF-108, nothing changed) every filter that matches every
//!   possible record unless `confirmed: true`, through the typed and the dynamic API;
//! - the opt-in full-table guard rolls back a change that touched every current record;
//! - a connection killed during COMMIT is DF-511 ("commit outcome unknown"), killed before the
//!   write DF-507 (PostgreSQL `pg_terminate_backend`, MariaDB `KILL`; SQLite has no sessions to kill);
//! - a protocol error (too many bound values) is not reported as a lost connection;
//! - decode errors name the model.

use dataflow::{Model, Result};
use dataflow_core::DataFlow;
use dataflow_tests::{Backend, TestDb};
use futures::FutureExt;
use serde_json::{Value as J, json};
use sqlx::Connection;

#[dataflow::model]
#[derive(Debug, Clone, PartialEq)]
struct Doc {
    id: i64,
    #[dataflow(unique)]
    slug: String,
    n: i64,
    flag: bool,
    note: Option<String>,
    tags: Vec<String>,
    ns: Vec<i64>,
}

fn doc(i: i64) -> Doc {
    Doc {
        id: 0,
        slug: format!("s{i}"),
        n: i,
        flag: i % 2 == 0,
        note: (i % 3 == 0).then(|| format!("note {i}")),
        tags: vec![format!("t{i}")],
        ns: vec![i],
    }
}

async fn seeded(url: &str, builder: Option<dataflow_core::DataFlowBuilder>) -> DataFlow {
    let db = match builder {
        Some(b) => b.connect().await.expect("connect"),
        None => DataFlow::connect(url).await.expect("connect"),
    };
    db.register::<Doc>().await.expect("register");
    db.express().bulk_create(&(1..=6).map(doc).collect::<Vec<_>>()).await.expect("seed");
    db
}

fn code<T: std::fmt::Debug>(r: Result<T>) -> u16 {
    r.expect_err("expected an error").code().number()
}

async fn tautologies_need_confirmation(t: &TestDb) {
    let db = seeded(t.url(), None).await;
    let tautologies = [
        json!({}),
        json!({"id": {"$nin": [null]}}),
        json!({"slug": {"$startswith": ""}}),
        json!({"slug": {"$contains": ""}}),
        json!({"slug": {"$endswith": ""}}),
        json!({"slug": {"$like": "%"}}),
        json!({"slug": {"$regex": ""}}),
        json!({"slug": {"$regex": ".*"}}),
        json!({"slug": {"$gte": ""}}),
        json!({"n": {"$gte": i64::MIN}}),
        json!({"$or": [{"flag": true}, {"flag": false}]}),
        json!({"$or": [{"note": null}, {"note": {"$ne": null}}]}),
        json!({"$not": {"tags": {"$size": 1_000_000}}}),
        json!({"$nor": [{"n": {"$lt": i64::MIN}}]}),
        json!({"$or": [{"n": {"$gt": 3}}, {"n": {"$lte": 3}}]}),
    ];
    for f in &tautologies {
        let mut ex = db.express();
        assert_eq!(code(ex.bulk_delete::<Doc>(f, false).await), 108, "typed BulkDelete {f}");
        assert_eq!(code(ex.bulk_update::<Doc>(f, &json!({"n": 0}), false).await), 108, "typed BulkUpdate {f}");
        let e = ex.bulk_delete_json("Doc", &json!({"filter": f})).await.unwrap_err();
        assert_eq!(e.code().number(), 108, "dynamic BulkDelete {f}: {e}");
        assert!(e.to_string().contains("every"), "{e}");
        let e = ex.bulk_update_json("Doc", &json!({"filter": f, "fields": {"n": 0}})).await.unwrap_err();
        assert_eq!(e.code().number(), 108, "dynamic BulkUpdate {f}: {e}");
        let nodes = ex.run_node("DocBulkDeleteNode", &json!({"filter": f})).await.unwrap_err();
        assert_eq!(nodes.code().number(), 108, "workflow node {f}");
    }
    // Nothing was touched.
    assert_eq!(db.express().count::<Doc>(&json!({"n": 0})).await.unwrap(), 0);
    assert_eq!(db.express().count::<Doc>(&json!({})).await.unwrap(), 6);
    // Selective filters still run; near-tautologies that leave records out are let through.
    let mut ex = db.express();
    assert_eq!(
        ex.bulk_update::<Doc>(&json!({"n": {"$gt": i64::MIN}}), &json!({"flag": true}), false).await.unwrap(),
        6
    );
    assert_eq!(ex.bulk_delete::<Doc>(&json!({"slug": {"$startswith": "s1"}}), false).await.unwrap(), 1);
    assert_eq!(ex.bulk_delete::<Doc>(&json!({"note": {"$ne": null}}), false).await.unwrap(), 2);
    // `confirmed: true` really changes every record.
    let r = ex.bulk_delete_json("Doc", &json!({"filter": {"slug": {"$like": "%"}}, "confirmed": true})).await.unwrap();
    assert_eq!(r["deleted"], 3);
    db.close().await;
}

async fn full_table_guard_rolls_back(t: &TestDb) {
    let db = seeded(t.url(), Some(DataFlow::builder(t.url()).full_table_guard(5))).await;
    let mut ex = db.express();
    // `n >= 1` is not a tautology (n = 0 is possible), but it matches all six current records.
    let all_now = json!({"n": {"$gte": 1}});
    let e = ex.bulk_update::<Doc>(&all_now, &json!({"note": "x"}), false).await.unwrap_err();
    assert_eq!(e.code().number(), 108, "{e}");
    assert!(e.to_string().contains("all 6 records"), "{e}");
    assert_eq!(code(ex.bulk_delete::<Doc>(&all_now, false).await), 108);
    assert_eq!(ex.count::<Doc>(&json!({})).await.unwrap(), 6, "rolled back");
    assert_eq!(ex.count::<Doc>(&json!({"note": "x"})).await.unwrap(), 0, "rolled back");
    // Inside a user transaction the guard rolls back its savepoint only.
    let r = db
        .transaction(|tx| {
            async move {
                tx.express().create(&doc(7)).await?;
                let refused = tx.express().bulk_delete::<Doc>(&json!({"n": {"$gte": 1}}), false).await;
                assert_eq!(code(refused), 108);
                tx.express().count::<Doc>(&json!({})).await
            }
            .boxed()
        })
        .await
        .unwrap();
    assert_eq!(r, 7);
    // Partial changes and confirmed changes pass.
    assert_eq!(ex.bulk_delete::<Doc>(&json!({"n": {"$gte": 7}}), false).await.unwrap(), 1);
    assert_eq!(ex.bulk_delete::<Doc>(&all_now, true).await.unwrap(), 6);
    db.close().await;
    // Below the minimum table size the guard stays quiet.
    let small = seeded(t.url(), Some(DataFlow::builder(t.url()).full_table_guard(1000))).await;
    assert_eq!(small.express().bulk_delete::<Doc>(&json!({"n": {"$gte": 1}}), false).await.unwrap(), 6);
    small.close().await;
}

/// Kills every other session on the test database, from a separate connection.
async fn kill_other_sessions(url: String, backend: Backend) {
    match backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .execute(&mut c)
            .await
            .unwrap();
            c.close().await.unwrap();
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for id in ids {
                // The id comes from the server as an integer; KILL takes no bound parameter.
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("KILL CONNECTION {id}"))).execute(&mut c).await;
            }
            c.close().await.unwrap();
        }
        Backend::Sqlite => {}
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

async fn killed_sessions_are_classified_honestly(t: &TestDb) {
    if t.backend() == Backend::Sqlite {
        // An embedded database has no session another connection could kill.
        return;
    }
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register::<Doc>().await.unwrap();
    let (url, backend) = (t.url().to_owned(), t.backend());
    let (url2, backend2) = (url.clone(), backend);
    // Killed before the write: the transaction never committed, DF-507 (can be retried).
    let before = db
        .transaction(|tx| {
            async move {
                kill_other_sessions(url, backend).await;
                tx.express().create(&doc(1)).await.map(drop)
            }
            .boxed()
        })
        .await;
    let e = before.unwrap_err();
    assert_eq!(e.code().number(), 507, "{e:#}");
    db.close().await;
    // A fresh instance: the first one's idle connections were killed as well.
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register::<Doc>().await.unwrap();
    // Killed after the write, so the COMMIT hits a dead connection: DF-511, check before retrying.
    let during = db
        .transaction(|tx| {
            async move {
                tx.express().create(&doc(2)).await?;
                kill_other_sessions(url2, backend2).await;
                Ok(())
            }
            .boxed()
        })
        .await;
    let e = during.unwrap_err();
    assert_eq!(e.code().number(), 511, "{e:#} {e:?}");
    assert!(format!("{e:#}").contains("check before retrying"), "{e:#}");
    assert_eq!(e.code().kind(), dataflow::ErrorKind::Connection);
    // The outcome can be checked, as the error says (from a fresh instance).
    db.close().await;
    let db = DataFlow::connect(t.url()).await.unwrap();
    db.register::<Doc>().await.unwrap();
    let mut ex = db.express();
    assert_eq!(ex.count::<Doc>(&json!({"slug": "s1"})).await.unwrap(), 0);
    assert_eq!(ex.count::<Doc>(&json!({"slug": "s2"})).await.unwrap(), 0, "killed before COMMIT arrived");
    db.close().await;
}

async fn too_many_bound_values_is_not_connection_lost(t: &TestDb) {
    let db = seeded(t.url(), None).await;
    let many: Vec<i64> = (0..70_000).collect();
    let r = db.express().count::<Doc>(&json!({"n": {"$in": many}})).await;
    match r {
        Ok(n) => assert_eq!(n, 6),
        Err(e) => {
            assert_ne!(e.code().number(), 507, "{e:#}");
            if t.backend() == Backend::Postgres {
                assert_eq!(e.code().number(), 105, "{e:#}");
            }
        }
    }
    db.close().await;
}

async fn decode_errors_name_the_model(t: &TestDb) {
    let db = seeded(t.url(), None).await;
    let table = Doc::schema().table.clone();
    let sql = format!("UPDATE {table} SET ns = '[\"not a number\"]' WHERE slug = 's1'");
    match t.backend() {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(t.url()).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(t.url()).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        }
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(t.url()).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        }
    }
    let checks: Vec<dataflow::Error> = vec![
        db.express().list::<Doc>(&dataflow_core::Query::new()).await.unwrap_err(),
        db.express().list_json("Doc", &json!({})).await.unwrap_err(),
        db.express().find_one::<Doc>(&json!({"slug": "s1"})).await.unwrap_err(),
    ];
    for e in checks {
        assert_eq!(e.code().number(), 510, "{e:#}");
        assert_eq!(e.context().model.as_deref(), Some("Doc"), "{e:#}");
        assert_eq!(e.context().field.as_deref(), Some("ns"), "{e:#}");
        assert!(!e.to_string().contains("model ``"), "{e}");
    }
    let ex = db.express();
    let mut stream = std::pin::pin!(ex.list_stream_json("Doc", &json!({})));
    let mut saw = false;
    while let Some(item) = futures::StreamExt::next(&mut stream).await {
        if let Err(e) = item {
            assert_eq!(e.context().model.as_deref(), Some("Doc"), "{e:#}");
            saw = true;
        }
    }
    assert!(saw, "the stream reports the undecodable row");
    let _ = J::Null;
    db.close().await;
}

dataflow_tests::backend_tests!(
    tautologies_need_confirmation,
    full_table_guard_rolls_back,
    killed_sessions_are_classified_honestly,
    too_many_bound_values_is_not_connection_lost,
    decode_errors_name_the_model,
);
