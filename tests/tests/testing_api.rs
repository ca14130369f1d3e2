//! The public `dataflow::testing` API on SQLite, PostgreSQL and MySQL/MariaDB: parallel tests
//! each see only their own database, a panicking test still drops its database, and the
//! rollback fixture leaves nothing behind.

use std::sync::{Arc, Mutex};

use dataflow::testing::{self, Backend, TestDb};
use dataflow_sql::{FieldDef, FieldType, ModelSchema};
use dataflow_tests::backend_tests;
use futures::FutureExt;
use serde_json::json;

fn item() -> ModelSchema {
    ModelSchema::new("Item", vec![FieldDef::new("id", FieldType::I64), FieldDef::new("owner", FieldType::String)])
}

#[dataflow::model]
struct Gadget {
    id: i64,
    label: String,
}

/// 20 "tests" at once on one backend, each with its own database: each sees only its rows.
async fn twenty_parallel_tests_are_isolated(t: &TestDb) {
    let backend = t.backend();
    let runs = (0..20).map(|n| {
        tokio::spawn(async move {
            let t = TestDb::new(backend).await.expect("backend available");
            let db = t.connect().await.unwrap();
            db.register_schema(item()).await.unwrap();
            let owner = format!("test-{n}");
            let rows: Vec<_> = (0..=n).map(|_| json!({"owner": owner})).collect();
            db.express().bulk_create_json("Item", &json!(rows)).await.unwrap();
            let page = db.express().list_json("Item", &json!({"limit": 100})).await.unwrap();
            let owners: Vec<&str> =
                page["records"].as_array().unwrap().iter().map(|r| r["owner"].as_str().unwrap()).collect();
            assert_eq!(owners.len(), n + 1, "test {n} sees exactly its own rows");
            assert!(owners.iter().all(|o| *o == owner), "test {n} sees another test's rows: {owners:?}");
            db.close().await;
            t.name().to_owned()
        })
    });
    let names: Vec<String> = futures::future::join_all(runs).await.into_iter().map(Result::unwrap).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 20, "twenty distinct databases");
    for n in &names {
        assert!(!dataflow_tests::database_exists(backend, n).await.unwrap(), "{n} was dropped");
    }
}

/// A test that panics mid-way still drops its database (Drop runs while unwinding).
async fn panicking_test_drops_its_database(t: &TestDb) {
    let backend = t.backend();
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let slot = seen.clone();
    let r = tokio::spawn(async move {
        let t = TestDb::new(backend).await.unwrap();
        *slot.lock().unwrap() = Some(t.name().to_owned());
        let db = t.connect_with::<(Gadget,)>().await.unwrap();
        db.express().create(&Gadget { id: 0, label: "x".into() }).await.unwrap();
        assert!(dataflow_tests::database_exists(backend, t.name()).await.unwrap());
        panic!("the test body fails");
    })
    .await;
    assert!(r.unwrap_err().is_panic());
    let name = seen.lock().unwrap().clone().unwrap();
    assert!(!dataflow_tests::database_exists(backend, &name).await.unwrap(), "{name} left behind after a panic");
}

/// The rollback fixture: writes are visible inside, gone afterwards, even when the body panics.
async fn rollback_fixture_leaves_nothing(t: &TestDb) {
    let db = t.connect_with::<(Gadget,)>().await.unwrap();
    let inside = testing::rollback(&db, |tx| {
        async move {
            for i in 0..3 {
                tx.express().create(&Gadget { id: 0, label: format!("g{i}") }).await.unwrap();
            }
            tx.express().count::<Gadget>(&json!({})).await.unwrap()
        }
        .boxed()
    })
    .await
    .unwrap();
    assert_eq!(inside, 3, "the body sees its own writes");
    assert_eq!(db.express().count::<Gadget>(&json!({})).await.unwrap(), 0, "nothing committed");
    let db2 = db.clone();
    let panicked = tokio::spawn(async move {
        testing::rollback(&db2, |tx| {
            async move {
                tx.express().create(&Gadget { id: 0, label: "boom".into() }).await.unwrap();
                panic!("body panics inside the fixture");
            }
            .boxed()
        })
        .await
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    assert_eq!(db.express().count::<Gadget>(&json!({})).await.unwrap(), 0, "nothing committed after a panic");
    // The instance still works: the connection went back to the pool rolled back.
    db.express().create(&Gadget { id: 0, label: "kept".into() }).await.unwrap();
    assert_eq!(db.express().count::<Gadget>(&json!({})).await.unwrap(), 1);
    db.close().await;
}

/// The backend-selection rule the suite relies on.
#[test]
fn backend_names() {
    let names: Vec<&str> = Backend::ALL.iter().map(|b| b.name()).collect();
    assert_eq!(names, ["sqlite", "postgres", "mysql"]);
}

backend_tests!(twenty_parallel_tests_are_isolated, panicking_test_drops_its_database, rollback_fixture_leaves_nothing);
