//! Diesel 2.3: synchronous, one connection, called in the benchmark's task (as a Diesel user
//! without a pool would). `table!` over the same three tables, timestamps in the column's own
//! type. Insert and update return the row (`RETURNING` on PostgreSQL/SQLite, statement + read
//! back on MariaDB, where `LAST_INSERT_ID()` is read in the same SELECT).

use diesel::prelude::*;

use crate::{Op, Work};

/// Insert and update returning the row in one statement (`… RETURNING`: PostgreSQL, SQLite).
macro_rules! returning_fns {
    () => {
        fn insert_one(c: &mut Conn, new: &NewRow<'_>) -> QueryResult<Row> {
            diesel::insert_into(peer_scratch::table).values(new).get_result::<Row>(c)
        }

        fn update_one(c: &mut Conn, id: i64, name: &str, qty: i32, score: f64) -> QueryResult<Option<Row>> {
            diesel::update(peer_items::table.find(id))
                .set((
                    peer_items::name.eq(name),
                    peer_items::qty.eq(qty),
                    peer_items::score.eq(score),
                    peer_items::updated_at.eq(now()),
                ))
                .get_result::<Row>(c)
                .optional()
        }
    };
}

diesel::define_sql_function! {
    /// MySQL/MariaDB `LAST_INSERT_ID()` of this connection.
    fn last_insert_id() -> BigInt;
}

/// MariaDB has no `UPDATE … RETURNING` (and Diesel no `INSERT … RETURNING` for MySQL): the
/// statement, then the row read back on the same connection.
macro_rules! readback_fns {
    () => {
        fn insert_one(c: &mut Conn, new: &NewRow<'_>) -> QueryResult<Row> {
            diesel::insert_into(peer_scratch::table).values(new).execute(c)?;
            peer_scratch::table.filter(peer_scratch::id.eq(super::last_insert_id())).first::<Row>(c)
        }

        fn update_one(c: &mut Conn, id: i64, name: &str, qty: i32, score: f64) -> QueryResult<Option<Row>> {
            diesel::update(peer_items::table.find(id))
                .set((
                    peer_items::name.eq(name),
                    peer_items::qty.eq(qty),
                    peer_items::score.eq(score),
                    peer_items::updated_at.eq(now()),
                ))
                .execute(c)?;
            peer_items::table.find(id).first::<Row>(c).optional()
        }
    };
}

macro_rules! backend {
    ($m:ident, $conn:ty, $tsql:ident, $ts:ty, $now:expr, $fns:ident) => {
        pub mod $m {
            use super::*;
            use diesel::connection::DefaultLoadingMode;

            pub type Conn = $conn;
            pub type Ts = $ts;

            diesel::table! {
                peer_items (id) { id -> BigInt, name -> Text, qty -> Integer, score -> Double, created_at -> $tsql, updated_at -> $tsql, }
            }
            diesel::table! {
                peer_scratch (id) { id -> BigInt, name -> Text, qty -> Integer, score -> Double, created_at -> $tsql, updated_at -> $tsql, }
            }
            diesel::table! {
                peer_stream (id) { id -> BigInt, name -> Text, qty -> Integer, score -> Double, created_at -> $tsql, updated_at -> $tsql, }
            }

            /// Positional, so it loads from any of the three tables.
            #[derive(Queryable, Debug)]
            #[allow(dead_code)]
            pub struct Row {
                pub id: i64,
                pub name: String,
                pub qty: i32,
                pub score: f64,
                pub created_at: Ts,
                pub updated_at: Ts,
            }

            #[derive(Insertable)]
            #[diesel(table_name = peer_scratch)]
            pub struct NewRow<'a> {
                pub name: &'a str,
                pub qty: i32,
                pub score: f64,
                pub created_at: Ts,
                pub updated_at: Ts,
            }

            pub fn now() -> Ts {
                $now
            }

            $fns!();

            pub fn run(c: &mut Conn, op: Op, w: &Work) -> Result<u64, String> {
                let e = |x: diesel::result::Error| x.to_string();
                let mut n = 0u64;
                match op {
                    Op::Insert => {
                        for i in 0..w.n {
                            let name = format!("ins {i}");
                            let t = now();
                            let new = NewRow {
                                name: &name,
                                qty: (i % 100) as i32,
                                score: i as f64,
                                created_at: t.clone(),
                                updated_at: t,
                            };
                            n += u64::from(insert_one(c, &new).map_err(e)?.id > 0);
                        }
                    }
                    Op::Read => {
                        for i in 0..w.n {
                            let r = peer_items::table.find(w.id(i)).first::<Row>(c).optional().map_err(e)?;
                            n += u64::from(r.is_some_and(|r| r.qty >= 0));
                        }
                    }
                    Op::Update | Op::UpdateWhere => {
                        for i in 0..w.n {
                            let (id, qty) = w.item(i);
                            let r = update_one(c, id, &format!("upd {i}"), qty, i as f64).map_err(e)?;
                            n += u64::from(r.is_some());
                        }
                    }
                    Op::List => {
                        for _ in 0..w.n {
                            let v = peer_items::table
                                .filter(peer_items::qty.ge(w.lo).and(peer_items::qty.lt(w.hi)))
                                .order(peer_items::id)
                                .limit(100)
                                .load::<Row>(c)
                                .map_err(e)?;
                            n += v.len() as u64;
                        }
                    }
                    Op::Count => {
                        for _ in 0..w.n {
                            let k: i64 = peer_items::table
                                .filter(peer_items::qty.ge(w.lo).and(peer_items::qty.lt(w.hi)))
                                .count()
                                .get_result(c)
                                .map_err(e)?;
                            n += k as u64;
                        }
                    }
                    Op::Bulk => {
                        let t = now();
                        n = c
                            .transaction(|c| {
                                let mut k = 0u64;
                                for chunk in w.bulk.chunks(crate::CHUNK) {
                                    let rows: Vec<NewRow<'_>> = chunk
                                        .iter()
                                        .map(|r| NewRow {
                                            name: &r.name,
                                            qty: r.qty,
                                            score: r.score,
                                            created_at: t.clone(),
                                            updated_at: t.clone(),
                                        })
                                        .collect();
                                    k += diesel::insert_into(peer_scratch::table).values(&rows).execute(c)? as u64;
                                }
                                Ok::<_, diesel::result::Error>(k)
                            })
                            .map_err(e)?;
                    }
                    Op::Stream => {
                        let it = peer_stream::table
                            .order(peer_stream::id)
                            .load_iter::<Row, DefaultLoadingMode>(c)
                            .map_err(e)?;
                        for r in it {
                            n += u64::from(r.map_err(e)?.qty >= 0);
                        }
                    }
                }
                Ok(n)
            }
        }
    };
}

backend!(
    sqlite,
    diesel::SqliteConnection,
    Text,
    String,
    dataflow_sql::value::canonical_datetime(&chrono::Utc::now()),
    returning_fns
);
backend!(postgres, diesel::PgConnection, Timestamptz, chrono::DateTime<chrono::Utc>, chrono::Utc::now(), returning_fns);
backend!(mysql, diesel::MysqlConnection, Datetime, chrono::NaiveDateTime, chrono::Utc::now().naive_utc(), readback_fns);
