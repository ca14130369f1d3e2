//! The backend matrix is real: on each backend, connect with plain sqlx, create a table,
//! round-trip a row and drop the table.

use dataflow_tests::{Backend, TestDb, backend_tests};
use sqlx::{Connection, Row};

/// The one body, over a connection `$c`; backends differ only in connection type, the id
/// column type and the placeholder syntax.
macro_rules! round_trip_on {
    ($c:expr, $id_type:literal, $insert:literal, $text:expr) => {{
        let c = &mut $c;
        sqlx::query(concat!("CREATE TABLE smoke (id ", $id_type, " PRIMARY KEY, note TEXT NOT NULL)"))
            .execute(&mut *c)
            .await
            .unwrap();
        sqlx::query($insert).bind(7_i64).bind($text).execute(&mut *c).await.unwrap();
        let row = sqlx::query("SELECT id, note FROM smoke").fetch_one(&mut *c).await.unwrap();
        assert_eq!((row.get::<i64, _>(0), row.get::<String, _>(1)), (7, $text.to_owned()));
        sqlx::query("DROP TABLE smoke").execute(&mut *c).await.unwrap();
    }};
}

async fn round_trip(db: &TestDb) {
    let text = "quote ' backslash \\ unicode ✓";
    match db.backend() {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url()).await.unwrap();
            round_trip_on!(c, "BIGINT", "INSERT INTO smoke (id, note) VALUES ($1, $2)", text);
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(db.url()).await.unwrap();
            round_trip_on!(c, "BIGINT", "INSERT INTO smoke (id, note) VALUES (?, ?)", text);
        }
        Backend::Sqlite => {
            let opts: sqlx::sqlite::SqliteConnectOptions = db.url().parse().unwrap();
            let mut c = sqlx::SqliteConnection::connect_with(&opts.create_if_missing(true)).await.unwrap();
            round_trip_on!(c, "INTEGER", "INSERT INTO smoke (id, note) VALUES (?, ?)", text);
        }
    }
}

backend_tests!(round_trip);
