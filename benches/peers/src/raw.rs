//! Raw sqlx, the baseline: hand-written SQL, bound values, rows decoded into a plain struct.
//!
//! Timestamps are decoded in the column's own type (TEXT → `String` on SQLite, `DateTime<Utc>` on
//! PostgreSQL, `NaiveDateTime` on MariaDB), as in `crates/dataflow-core/benches/express.rs`.
//! Insert and update return the stored row: one `… RETURNING` statement on PostgreSQL and SQLite,
//! the statement plus a read-back by id on the same connection on MariaDB (no RETURNING there).
//! The list's LIMIT is a bound value, as in the other four contenders' SQL (with a literal
//! `LIMIT 100` PostgreSQL picked a slower plan in a first run: 1.9 ms against 0.6–0.7 ms).

use futures::StreamExt;
use sqlx::Row;

use crate::{Backend, Op, Sql, Work};

/// The decoded row (every contender decodes the same six columns).
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct Item<T> {
    pub id: i64,
    pub name: String,
    pub qty: i32,
    pub score: f64,
    pub created_at: T,
    pub updated_at: T,
}

macro_rules! common {
    ($db:ty, $ts:ty) => {
        type Db = $db;
        type Ts = $ts;

        fn dec(r: &<Db as sqlx::Database>::Row) -> Item<Ts> {
            Item {
                id: r.get(0),
                name: r.get(1),
                qty: r.get(2),
                score: r.get(3),
                created_at: r.get(4),
                updated_at: r.get(5),
            }
        }

        async fn common(p: &sqlx::Pool<Db>, q: &Sql, op: Op, w: &Work) -> Result<u64, String> {
            let e = |x: sqlx::Error| x.to_string();
            let mut n = 0u64;
            match op {
                Op::Read => {
                    for i in 0..w.n {
                        let r = sqlx::query(q.read).bind(w.id(i)).fetch_optional(p).await.map_err(e)?;
                        n += u64::from(r.map(|r| dec(&r)).is_some_and(|r| r.qty >= 0));
                    }
                }
                Op::List => {
                    for _ in 0..w.n {
                        let rows =
                            sqlx::query(q.list).bind(w.lo).bind(w.hi).bind(100i64).fetch_all(p).await.map_err(e)?;
                        n += rows.iter().map(dec).count() as u64;
                    }
                }
                Op::Count => {
                    for _ in 0..w.n {
                        let c: i64 = sqlx::query_scalar(q.count).bind(w.lo).bind(w.hi).fetch_one(p).await.map_err(e)?;
                        n += c as u64;
                    }
                }
                Op::Stream => {
                    let mut s = sqlx::query(q.stream).fetch(p);
                    while let Some(r) = s.next().await {
                        n += u64::from(dec(&r.map_err(e)?).qty >= 0);
                    }
                }
                _ => unreachable!("per-backend op"),
            }
            Ok(n)
        }
    };
}

/// Multi-row `INSERT … VALUES` in chunks of [`crate::CHUNK`] rows, one transaction.
macro_rules! bulk_values {
    ($p:expr, $w:expr, $now:expr) => {{
        let e = |x: sqlx::Error| x.to_string();
        let now = $now;
        let mut tx = $p.begin().await.map_err(e)?;
        let mut n = 0u64;
        for chunk in $w.bulk.chunks(crate::CHUNK) {
            let mut qb =
                sqlx::QueryBuilder::<Db>::new("INSERT INTO peer_scratch (name, qty, score, created_at, updated_at) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(&r.name).push_bind(r.qty).push_bind(r.score).push_bind(now.clone()).push_bind(now.clone());
            });
            n += qb.build().execute(&mut *tx).await.map_err(e)?.rows_affected();
        }
        tx.commit().await.map_err(e)?;
        n
    }};
}

pub mod sqlite {
    use super::*;
    common!(sqlx::Sqlite, String);

    fn now() -> Ts {
        dataflow_sql::value::canonical_datetime(&chrono::Utc::now())
    }

    pub async fn run(p: &sqlx::SqlitePool, q: &Sql, op: Op, w: &Work) -> Result<u64, String> {
        let e = |x: sqlx::Error| x.to_string();
        let mut n = 0u64;
        match op {
            Op::Insert => {
                for i in 0..w.n {
                    let t = now();
                    let r = sqlx::query(q.insert)
                        .bind(format!("ins {i}"))
                        .bind((i % 100) as i32)
                        .bind(i as f64)
                        .bind(&t)
                        .bind(&t)
                        .fetch_one(p)
                        .await
                        .map_err(e)?;
                    n += u64::from(dec(&r).id > 0);
                }
            }
            Op::Update | Op::UpdateWhere => {
                for i in 0..w.n {
                    let (id, qty) = w.item(i);
                    let r = sqlx::query(q.update)
                        .bind(format!("upd {i}"))
                        .bind(qty)
                        .bind(i as f64)
                        .bind(now())
                        .bind(id)
                        .fetch_optional(p)
                        .await
                        .map_err(e)?;
                    n += u64::from(r.map(|r| dec(&r)).is_some());
                }
            }
            Op::Bulk => n = bulk_values!(p, w, now()),
            _ => n = common(p, q, op, w).await?,
        }
        Ok(n)
    }
}

pub mod postgres {
    use super::*;
    common!(sqlx::Postgres, chrono::DateTime<chrono::Utc>);

    fn now() -> Ts {
        chrono::Utc::now()
    }

    pub async fn run(p: &sqlx::PgPool, q: &Sql, op: Op, w: &Work) -> Result<u64, String> {
        let e = |x: sqlx::Error| x.to_string();
        let mut n = 0u64;
        match op {
            Op::Insert => {
                for i in 0..w.n {
                    let t = now();
                    let r = sqlx::query(q.insert)
                        .bind(format!("ins {i}"))
                        .bind((i % 100) as i32)
                        .bind(i as f64)
                        .bind(t)
                        .bind(t)
                        .fetch_one(p)
                        .await
                        .map_err(e)?;
                    n += u64::from(dec(&r).id > 0);
                }
            }
            Op::Update | Op::UpdateWhere => {
                for i in 0..w.n {
                    let (id, qty) = w.item(i);
                    let r = sqlx::query(q.update)
                        .bind(format!("upd {i}"))
                        .bind(qty)
                        .bind(i as f64)
                        .bind(now())
                        .bind(id)
                        .fetch_optional(p)
                        .await
                        .map_err(e)?;
                    n += u64::from(r.map(|r| dec(&r)).is_some());
                }
            }
            Op::Bulk => {
                // One `INSERT … SELECT * FROM UNNEST(…)` with one array per column.
                let t = now();
                let names: Vec<&str> = w.bulk.iter().map(|r| r.name.as_str()).collect();
                let qtys: Vec<i32> = w.bulk.iter().map(|r| r.qty).collect();
                let scores: Vec<f64> = w.bulk.iter().map(|r| r.score).collect();
                let ts = vec![t; w.bulk.len()];
                n = sqlx::query(
                    "INSERT INTO peer_scratch (name, qty, score, created_at, updated_at) \
                     SELECT * FROM UNNEST($1::text[], $2::int4[], $3::float8[], $4::timestamptz[], $5::timestamptz[])",
                )
                .bind(names)
                .bind(qtys)
                .bind(scores)
                .bind(&ts)
                .bind(&ts)
                .execute(p)
                .await
                .map_err(e)?
                .rows_affected();
            }
            _ => n = common(p, q, op, w).await?,
        }
        Ok(n)
    }
}

pub mod mysql {
    use super::*;
    common!(sqlx::MySql, chrono::NaiveDateTime);

    fn now() -> Ts {
        chrono::Utc::now().naive_utc()
    }

    pub async fn run(p: &sqlx::MySqlPool, q: &Sql, op: Op, w: &Work) -> Result<u64, String> {
        let e = |x: sqlx::Error| x.to_string();
        let mut n = 0u64;
        match op {
            Op::Insert => {
                for i in 0..w.n {
                    let t = now();
                    let mut c = p.acquire().await.map_err(e)?;
                    let done = sqlx::query(q.insert)
                        .bind(format!("ins {i}"))
                        .bind((i % 100) as i32)
                        .bind(i as f64)
                        .bind(t)
                        .bind(t)
                        .execute(&mut *c)
                        .await
                        .map_err(e)?;
                    let r = sqlx::query(q.read_scratch)
                        .bind(done.last_insert_id() as i64)
                        .fetch_one(&mut *c)
                        .await
                        .map_err(e)?;
                    n += u64::from(dec(&r).id > 0);
                }
            }
            Op::Update | Op::UpdateWhere => {
                for i in 0..w.n {
                    let (id, qty) = w.item(i);
                    let mut c = p.acquire().await.map_err(e)?;
                    sqlx::query(q.update)
                        .bind(format!("upd {i}"))
                        .bind(qty)
                        .bind(i as f64)
                        .bind(now())
                        .bind(id)
                        .execute(&mut *c)
                        .await
                        .map_err(e)?;
                    let r = sqlx::query(q.read).bind(id).fetch_optional(&mut *c).await.map_err(e)?;
                    n += u64::from(r.map(|r| dec(&r)).is_some());
                }
            }
            Op::Bulk => n = bulk_values!(p, w, now()),
            _ => n = common(p, q, op, w).await?,
        }
        Ok(n)
    }
}

/// The SQL texts, `?` placeholders turned into `$n` on PostgreSQL.
pub fn sql(b: Backend) -> Sql {
    const COLS: &str = "id, name, qty, score, created_at, updated_at";
    let ret = b != Backend::MySql;
    let fix = |s: String| -> &'static str {
        let s = if b == Backend::Postgres {
            let mut out = String::new();
            let mut k = 0;
            for ch in s.chars() {
                if ch == '?' {
                    k += 1;
                    out.push_str(&format!("${k}"));
                } else {
                    out.push(ch);
                }
            }
            out
        } else {
            s
        };
        Box::leak(s.into_boxed_str())
    };
    let returning = if ret { format!(" RETURNING {COLS}") } else { String::new() };
    Sql {
        insert: fix(format!(
            "INSERT INTO peer_scratch (name, qty, score, created_at, updated_at) VALUES (?, ?, ?, ?, ?){returning}"
        )),
        read: fix(format!("SELECT {COLS} FROM peer_items WHERE id = ?")),
        read_scratch: fix(format!("SELECT {COLS} FROM peer_scratch WHERE id = ?")),
        update: fix(format!(
            "UPDATE peer_items SET name = ?, qty = ?, score = ?, updated_at = ? WHERE id = ?{returning}"
        )),
        list: fix(format!("SELECT {COLS} FROM peer_items WHERE qty >= ? AND qty < ? ORDER BY id LIMIT ?")),
        count: fix("SELECT COUNT(*) FROM peer_items WHERE qty >= ? AND qty < ?".into()),
        stream: fix(format!("SELECT {COLS} FROM peer_stream ORDER BY id")),
    }
}
