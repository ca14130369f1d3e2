//! Pools per backend, the [`Conn`] executor over one connection, and statement execution.

use std::sync::Arc;

use dataflow_sql::mysql_server::MySqlServer;
use dataflow_sql::stmt::{Sql, tx};
use dataflow_sql::{Dialect, Error, ErrorCode, FieldDef, ModelSchema, Result, Value};
use futures::stream::{BoxStream, StreamExt};
use sea_query::Values;
use sea_query_sqlx::SqlxValues;
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Connection, MySql, MySqlConnection, PgConnection, Postgres, Sqlite, SqliteConnection};

use super::config::Config;
use super::url::{self, DbUrl};
use crate::decode;
use crate::error::classify;

/// The pool of one instance: one sqlx pool type per backend.
#[derive(Debug, Clone)]
pub(crate) enum Pools {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
    Sqlite(sqlx::SqlitePool),
}

/// SQL text: freshly built, or cached per (model, dialect).
#[derive(Debug, Clone)]
pub(crate) enum SqlText {
    Owned(String),
    Shared(Arc<str>),
}

impl SqlText {
    /// Whether the statement writes (INSERT/UPDATE/DELETE, possibly with RETURNING).
    fn writes(&self) -> bool {
        let t = match self {
            SqlText::Owned(s) => s.as_str(),
            SqlText::Shared(s) => s,
        };
        let head = t.trim_start().get(..6).unwrap_or("").to_ascii_uppercase();
        matches!(head.as_str(), "INSERT" | "UPDATE" | "DELETE" | "REPLAC")
    }

    fn safe(self) -> sqlx::SqlStr {
        use sqlx::SqlSafeStr;
        match self {
            SqlText::Owned(s) => AssertSqlSafe(s).into_sql_str(),
            SqlText::Shared(s) => AssertSqlSafe(s).into_sql_str(),
        }
    }
}

/// A statement ready to run.
pub(crate) struct Stmt {
    pub sql: SqlText,
    pub values: Values,
}

impl From<Sql> for Stmt {
    fn from(s: Sql) -> Self {
        Stmt { sql: SqlText::Owned(s.sql), values: s.values }
    }
}

/// Bytes of COPY data per `CopyData` message (the encoder's buffer is flushed at this size).
pub(crate) const COPY_MESSAGE_BYTES: usize = 1 << 20;

/// The outcome of a statement without rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Done {
    pub rows: u64,
    /// MySQL `LAST_INSERT_ID()` / SQLite `last_insert_rowid()`.
    pub last_id: Option<i64>,
}

fn connect_err(url: &str, e: sqlx::Error) -> Error {
    Error::new(ErrorCode::CONNECTION_FAILED, format!("could not connect to `{}`: {e}", url::redact(url)))
        .fix("check that the server is running and the URL (host, port, user, password, database) is right")
        .with_source(e)
}

impl Pools {
    pub(crate) async fn connect(cfg: &Config, u: &DbUrl) -> Result<Pools> {
        Self::connect_inner(cfg, u, false).await
    }

    /// A pool that opens its connections on first use (read replicas: one that is down must not
    /// fail `connect`).
    pub(crate) async fn connect_lazy(cfg: &Config, u: &DbUrl) -> Result<Pools> {
        Self::connect_inner(cfg, u, true).await
    }

    async fn connect_inner(cfg: &Config, u: &DbUrl, lazy: bool) -> Result<Pools> {
        fn base<DB: sqlx::Database>(cfg: &Config, max: u32) -> sqlx::pool::PoolOptions<DB> {
            sqlx::pool::PoolOptions::new()
                .max_connections(cfg.max_connections.unwrap_or(max))
                .min_connections(cfg.min_connections)
                .acquire_timeout(cfg.acquire_timeout)
                .idle_timeout(cfg.idle_timeout)
                .test_before_acquire(false)
        }
        Ok(match u.dialect {
            Dialect::Postgres => {
                let opts: sqlx::postgres::PgConnectOptions = u.url.parse().map_err(|e| connect_err(&u.url, e))?;
                let opts = opts.statement_cache_capacity(cfg.statement_cache_capacity);
                let p = base(cfg, super::env::default_pool_size(u.dialect, false));
                Pools::Postgres(if lazy {
                    p.connect_lazy_with(opts)
                } else {
                    p.connect_with(opts).await.map_err(|e| connect_err(&u.url, e))?
                })
            }
            Dialect::MySql => {
                let opts: sqlx::mysql::MySqlConnectOptions = u.url.parse().map_err(|e| connect_err(&u.url, e))?;
                let opts = opts
                    .statement_cache_capacity(cfg.statement_cache_capacity)
                    .charset("utf8mb4")
                    .timezone(Some(String::from("+00:00")));
                let p = base(cfg, super::env::default_pool_size(u.dialect, false));
                Pools::MySql(if lazy {
                    p.connect_lazy_with(opts)
                } else {
                    p.connect_with(opts).await.map_err(|e| connect_err(&u.url, e))?
                })
            }
            Dialect::Sqlite => {
                use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
                let opts: SqliteConnectOptions = u.url.parse().map_err(|e| connect_err(&u.url, e))?;
                let mut opts = opts
                    .statement_cache_capacity(cfg.statement_cache_capacity)
                    .busy_timeout(cfg.busy_timeout)
                    .foreign_keys(true)
                    .with_regexp();
                let pool = if u.in_memory {
                    // One shared in-memory database: sqlx names it uniquely per parse and opens it with
                    // `cache=shared`; keep one connection open forever so it is never dropped.
                    base(cfg, 4).min_connections(1).idle_timeout(None).max_lifetime(None)
                } else {
                    opts = opts
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal);
                    base(cfg, 5)
                };
                Pools::Sqlite(if lazy {
                    pool.connect_lazy_with(opts)
                } else {
                    pool.connect_with(opts).await.map_err(|e| connect_err(&u.url, e))?
                })
            }
        })
    }

    pub(crate) async fn acquire(&self) -> Result<PoolConn> {
        // An idle connection is taken at once, without creating sqlx's acquire future: that
        // future is ≈ 8.6 KB, and inline it made every operation's future that size, copied once
        // per operation when it is boxed (≈ 20% of a read's client instructions). The same
        // connection `acquire` would hand out: the pools run no `test_before_acquire` ping and no
        // `before_acquire` hook. Otherwise (none idle, or tasks already waiting: sqlx keeps them
        // first) the boxed wait below.
        if let Some(c) = self.try_acquire() {
            return Ok(c);
        }
        Box::pin(self.acquire_wait()).await
    }

    /// An idle connection now, if one is free and nobody is waiting for one.
    fn try_acquire(&self) -> Option<PoolConn> {
        match self {
            Pools::Postgres(p) => p.try_acquire().map(PoolConn::Postgres),
            Pools::MySql(p) => p.try_acquire().map(PoolConn::MySql),
            Pools::Sqlite(p) => p.try_acquire().map(PoolConn::Sqlite),
        }
    }

    /// Waits for a connection (opening one when the pool has room), up to `acquire_timeout`.
    async fn acquire_wait(&self) -> Result<PoolConn> {
        Ok(match self {
            Pools::Postgres(p) => PoolConn::Postgres(p.acquire().await.map_err(|e| classify(e, None))?),
            Pools::MySql(p) => PoolConn::MySql(p.acquire().await.map_err(|e| classify(e, None))?),
            Pools::Sqlite(p) => PoolConn::Sqlite(p.acquire().await.map_err(|e| classify(e, None))?),
        })
    }

    pub(crate) async fn begin(&self) -> Result<Txn<'static>> {
        Ok(match self {
            Pools::Postgres(p) => Txn::Postgres(p.begin().await.map_err(|e| classify(e, None))?),
            Pools::MySql(p) => Txn::MySql(p.begin().await.map_err(|e| classify(e, None))?),
            // IMMEDIATE takes SQLite's write lock up front: two deferred transactions that read and
            // then write cannot upgrade their locks concurrently and fail at once with SQLITE_BUSY
            // (busy_timeout is not consulted for lock upgrades), so every write transaction waits instead.
            Pools::Sqlite(p) => Txn::Sqlite(p.begin_with(tx::BEGIN_IMMEDIATE).await.map_err(|e| classify(e, None))?),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Pools::Postgres(p) => p.close().await,
            Pools::MySql(p) => p.close().await,
            Pools::Sqlite(p) => p.close().await,
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Pools::Postgres(p) => p.is_closed(),
            Pools::MySql(p) => p.is_closed(),
            Pools::Sqlite(p) => p.is_closed(),
        }
    }

    /// Streams the rows of one statement straight from the pool (bounded memory), each row
    /// decoded by `d` (no `Vec<Value>` in between unless `d` is `decode::Values`).
    pub(crate) fn fetch_stream_as<'a, D: decode::Decode + Send + 'static>(
        &'a self,
        st: Stmt,
        cols: Arc<[FieldDef]>,
        schema: Arc<ModelSchema>,
        d: D,
    ) -> BoxStream<'a, Result<D::Out>>
    where
        D::Out: 'a,
    {
        let native = schema.options.native_arrays;
        let q = st.sql.safe();
        let vals = SqlxValues(st.values);
        match self {
            Pools::Postgres(p) => sqlx::query_with::<Postgres, _>(q, vals)
                .fetch(p)
                .map(move |r| {
                    r.map_err(|e| classify(e, Some(&schema)))
                        .and_then(|row| decode::one(&row, &cols, native, &d).map_err(|e| e.or_model(&schema.name)))
                })
                .boxed(),
            Pools::MySql(p) => sqlx::query_with::<MySql, _>(q, vals)
                .fetch(p)
                .map(move |r| {
                    r.map_err(|e| classify(e, Some(&schema)))
                        .and_then(|row| decode::one(&row, &cols, native, &d).map_err(|e| e.or_model(&schema.name)))
                })
                .boxed(),
            Pools::Sqlite(p) => sqlx::query_with::<Sqlite, _>(q, vals)
                .fetch(p)
                .map(move |r| {
                    r.map_err(|e| classify(e, Some(&schema)))
                        .and_then(|row| decode::one(&row, &cols, native, &d).map_err(|e| e.or_model(&schema.name)))
                })
                .boxed(),
        }
    }
}

/// A connection checked out of the pool.
pub(crate) enum PoolConn {
    Postgres(PoolConnection<Postgres>),
    MySql(PoolConnection<MySql>),
    Sqlite(PoolConnection<Sqlite>),
}

impl PoolConn {
    /// Closes the connection when dropped instead of returning it to the pool (a cancelled
    /// migration: its transaction and session locks end with the connection).
    pub(crate) fn close_on_drop(&mut self) {
        match self {
            PoolConn::Postgres(c) => c.close_on_drop(),
            PoolConn::MySql(c) => c.close_on_drop(),
            PoolConn::Sqlite(c) => c.close_on_drop(),
        }
    }

    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            PoolConn::Postgres(c) => Conn::Postgres(c),
            PoolConn::MySql(c) => Conn::MySql(c),
            PoolConn::Sqlite(c) => Conn::Sqlite(c),
        }
    }
}

/// A transaction (or savepoint) on one backend.
pub(crate) enum Txn<'c> {
    Postgres(sqlx::Transaction<'c, Postgres>),
    MySql(sqlx::Transaction<'c, MySql>),
    Sqlite(sqlx::Transaction<'c, Sqlite>),
}

impl Txn<'_> {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Txn::Postgres(t) => Conn::Postgres(t),
            Txn::MySql(t) => Conn::MySql(t),
            Txn::Sqlite(t) => Conn::Sqlite(t),
        }
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Txn::Postgres(t) => t.commit().await,
            Txn::MySql(t) => t.commit().await,
            Txn::Sqlite(t) => t.commit().await,
        }
        .map_err(|e| crate::error::classify_commit(e, None))
    }

    pub(crate) async fn rollback(self) -> Result<()> {
        match self {
            Txn::Postgres(t) => t.rollback().await,
            Txn::MySql(t) => t.rollback().await,
            Txn::Sqlite(t) => t.rollback().await,
        }
        .map_err(|e| classify(e, None))
    }
}

/// One connection (pooled, or inside a transaction): the executor every operation runs on.
pub enum Conn<'c> {
    /// PostgreSQL.
    Postgres(&'c mut PgConnection),
    /// MySQL / MariaDB.
    MySql(&'c mut MySqlConnection),
    /// SQLite.
    Sqlite(&'c mut SqliteConnection),
}

impl Conn<'_> {
    /// Whether a transaction (or savepoint) is open on the connection.
    fn in_transaction(&self) -> bool {
        use sqlx::Connection;
        match self {
            Conn::Postgres(c) => c.is_in_transaction(),
            Conn::MySql(c) => c.is_in_transaction(),
            Conn::Sqlite(c) => c.is_in_transaction(),
        }
    }

    /// The classifier for a statement's error: a write outside a transaction commits by itself,
    /// so a connection lost during it leaves the outcome unknown (DF-511), not retryable (DF-507).
    fn classifier<'s>(&self, st: &Stmt, schema: &'s ModelSchema) -> impl Fn(sqlx::Error) -> dataflow_sql::Error + 's {
        let autocommit_write = st.sql.writes() && !self.in_transaction();
        move |e| {
            if autocommit_write { crate::error::classify_commit(e, Some(schema)) } else { classify(e, Some(schema)) }
        }
    }

    /// The connection's dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Postgres(_) => Dialect::Postgres,
            Conn::MySql(_) => Dialect::MySql,
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Which MySQL-family server this connection talks to (`SELECT VERSION()`); MariaDB's rules
    /// for other dialects (the answer is only used on MySQL).
    pub(crate) async fn mysql_server(&mut self) -> Result<MySqlServer> {
        let Conn::MySql(c) = self else { return Ok(MySqlServer::MariaDb) };
        let version: String = sqlx::query_scalar(dataflow_sql::mysql_server::VERSION_QUERY)
            .fetch_one(&mut **c)
            .await
            .map_err(|e| classify(e, None))?;
        Ok(MySqlServer::detect(&version))
    }

    /// Begins a transaction, or a savepoint when one is already open.
    pub(crate) async fn begin(&mut self) -> Result<Txn<'_>> {
        Ok(match self {
            Conn::Postgres(c) => Txn::Postgres(c.begin().await.map_err(|e| classify(e, None))?),
            Conn::MySql(c) => Txn::MySql(c.begin().await.map_err(|e| classify(e, None))?),
            Conn::Sqlite(c) => {
                // Outermost: IMMEDIATE (see `Pools::begin`); nested: a savepoint.
                let begun =
                    if c.is_in_transaction() { c.begin().await } else { c.begin_with(tx::BEGIN_IMMEDIATE).await };
                Txn::Sqlite(begun.map_err(|e| classify(e, None))?)
            }
        })
    }

    /// Runs statement text without bound values (DDL, SAVEPOINT).
    pub(crate) async fn execute_raw_unobserved(&mut self, sql: &str, schema: Option<&ModelSchema>) -> Result<()> {
        use sqlx::Executor;
        let q = AssertSqlSafe(sql.to_owned());
        match self {
            Conn::Postgres(c) => c.execute(q).await.map(drop),
            Conn::MySql(c) => c.execute(q).await.map(drop),
            Conn::Sqlite(c) => c.execute(q).await.map(drop),
        }
        .map_err(|e| classify(e, schema))
    }

    /// Runs a statement without a model (migration bookkeeping).
    pub(crate) async fn execute_sql(&mut self, st: Sql) -> Result<()> {
        let q = AssertSqlSafe(st.sql);
        let vals = SqlxValues(st.values);
        match self {
            Conn::Postgres(c) => sqlx::query_with::<Postgres, _>(q, vals).execute(&mut **c).await.map(drop),
            Conn::MySql(c) => sqlx::query_with::<MySql, _>(q, vals).execute(&mut **c).await.map(drop),
            Conn::Sqlite(c) => sqlx::query_with::<Sqlite, _>(q, vals).execute(&mut **c).await.map(drop),
        }
        .map_err(|e| classify(e, None))
    }

    /// Runs a query returning one BIGINT (counts, versions).
    pub(crate) async fn fetch_i64(&mut self, st: Sql) -> Result<i64> {
        let q = AssertSqlSafe(st.sql);
        let vals = SqlxValues(st.values);
        match self {
            Conn::Postgres(c) => sqlx::query_scalar_with::<Postgres, i64, _>(q, vals).fetch_one(&mut **c).await,
            Conn::MySql(c) => sqlx::query_scalar_with::<MySql, i64, _>(q, vals).fetch_one(&mut **c).await,
            Conn::Sqlite(c) => sqlx::query_scalar_with::<Sqlite, i64, _>(q, vals).fetch_one(&mut **c).await,
        }
        .map_err(|e| classify(e, None))
    }

    /// Runs a query returning one nullable BIGINT (the replica lag check).
    pub(crate) async fn fetch_optional_i64(&mut self, sql: &'static str) -> Result<Option<i64>> {
        match self {
            Conn::Postgres(c) => sqlx::query_scalar::<Postgres, Option<i64>>(sql).fetch_one(&mut **c).await,
            Conn::MySql(c) => sqlx::query_scalar::<MySql, Option<i64>>(sql).fetch_one(&mut **c).await,
            Conn::Sqlite(c) => sqlx::query_scalar::<Sqlite, Option<i64>>(sql).fetch_one(&mut **c).await,
        }
        .map_err(|e| classify(e, None))
    }

    /// Runs a statement and reports rows affected (and the last generated id where the backend has one).
    pub(crate) async fn execute_unobserved(&mut self, st: Stmt, schema: &ModelSchema) -> Result<Done> {
        let err = self.classifier(&st, schema);
        let q = st.sql.safe();
        let vals = SqlxValues(st.values);
        match self {
            Conn::Postgres(c) => sqlx::query_with::<Postgres, _>(q, vals)
                .execute(&mut **c)
                .await
                .map(|r| Done { rows: r.rows_affected(), last_id: None }),
            Conn::MySql(c) => sqlx::query_with::<MySql, _>(q, vals).execute(&mut **c).await.map(|r| Done {
                rows: r.rows_affected(),
                last_id: i64::try_from(r.last_insert_id()).ok().filter(|x| *x != 0),
            }),
            Conn::Sqlite(c) => sqlx::query_with::<Sqlite, _>(q, vals)
                .execute(&mut **c)
                .await
                .map(|r| Done { rows: r.rows_affected(), last_id: Some(r.last_insert_rowid()) }),
        }
        .map_err(err)
    }

    /// PostgreSQL `COPY … FROM STDIN` ([`dataflow_sql::stmt::copy_in`]): sends the statement, then
    /// every row encoded by `copy`, in messages of about [`COPY_MESSAGE_BYTES`], and returns the
    /// number of rows the server copied. DF-402 (unsupported on backend) on MySQL and SQLite
    /// (callers only use it on PostgreSQL).
    pub(crate) async fn copy_in_unobserved(
        &mut self,
        copy: &dataflow_sql::stmt::CopyIn<'_>,
        rows: &[Vec<Value>],
        schema: &ModelSchema,
    ) -> Result<u64> {
        let Conn::Postgres(c) = self else {
            return Err(Error::new(
                ErrorCode::UNSUPPORTED_ON_BACKEND,
                format!("bulk copy is PostgreSQL only (model `{}`)", schema.name),
            )
            .model(&schema.name)
            .fix("use BulkCreate, which picks the statement form for the backend"));
        };
        let err = |e| classify(e, Some(schema));
        let mut w = c.copy_in_raw(&copy.sql).await.map_err(err)?;
        let mut buf = String::with_capacity(COPY_MESSAGE_BYTES + 4096);
        for row in rows {
            copy.encode_row(row, &mut buf);
            if buf.len() >= COPY_MESSAGE_BYTES {
                w.send(buf.as_bytes()).await.map_err(err)?;
                buf.clear();
            }
        }
        if !buf.is_empty() {
            w.send(buf.as_bytes()).await.map_err(err)?;
        }
        w.finish().await.map_err(err)
    }

    /// Runs a query and decodes every row by `cols` with `d`.
    pub(crate) async fn fetch_all_unobserved_as<D: decode::Decode>(
        &mut self,
        st: Stmt,
        cols: &[FieldDef],
        schema: &ModelSchema,
        d: &D,
    ) -> Result<Vec<D::Out>> {
        let err = self.classifier(&st, schema);
        let q = st.sql.safe();
        let vals = SqlxValues(st.values);
        let native = schema.options.native_arrays;
        let rows = match self {
            Conn::Postgres(c) => {
                let rows = sqlx::query_with::<Postgres, _>(q, vals).fetch_all(&mut **c).await.map_err(err)?;
                decode::all(&rows, cols, native, d)
            }
            Conn::MySql(c) => {
                let rows = sqlx::query_with::<MySql, _>(q, vals).fetch_all(&mut **c).await.map_err(err)?;
                decode::all(&rows, cols, native, d)
            }
            Conn::Sqlite(c) => {
                let rows = sqlx::query_with::<Sqlite, _>(q, vals).fetch_all(&mut **c).await.map_err(err)?;
                decode::all(&rows, cols, native, d)
            }
        };
        rows.map_err(|e| e.or_model(&schema.name))
    }

    /// Runs a query and decodes the first row, if any, with `d`.
    pub(crate) async fn fetch_optional_unobserved_as<D: decode::Decode>(
        &mut self,
        st: Stmt,
        cols: &[FieldDef],
        schema: &ModelSchema,
        d: &D,
    ) -> Result<Option<D::Out>> {
        let err = self.classifier(&st, schema);
        let q = st.sql.safe();
        let vals = SqlxValues(st.values);
        let native = schema.options.native_arrays;
        let row = match self {
            Conn::Postgres(c) => sqlx::query_with::<Postgres, _>(q, vals)
                .fetch_optional(&mut **c)
                .await
                .map_err(err)?
                .map(|r| decode::one(&r, cols, native, d)),
            Conn::MySql(c) => sqlx::query_with::<MySql, _>(q, vals)
                .fetch_optional(&mut **c)
                .await
                .map_err(err)?
                .map(|r| decode::one(&r, cols, native, d)),
            Conn::Sqlite(c) => sqlx::query_with::<Sqlite, _>(q, vals)
                .fetch_optional(&mut **c)
                .await
                .map_err(err)?
                .map(|r| decode::one(&r, cols, native, d)),
        };
        row.transpose().map_err(|e| e.or_model(&schema.name))
    }
}
