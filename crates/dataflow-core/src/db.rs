//! The [`DataFlow`] handle: connection pool, configuration and model registry of one instance.

pub mod config;
pub mod env;
pub(crate) mod pool;
pub mod registry;
pub mod replicas;
pub mod url;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use dataflow_sql::{Dialect, Error, ErrorCode, Model, ModelSchema, Operation, Result};

use self::config::{Config, DataFlowBuilder};
use self::pool::{PoolConn, Pools};
use self::registry::{ModelEntry, Registry};

/// The sqlx pool behind a [`DataFlow`] instance.
#[derive(Debug, Clone, Copy)]
pub enum RawPool<'a> {
    /// PostgreSQL.
    Postgres(&'a sqlx::PgPool),
    /// MySQL / MariaDB.
    MySql(&'a sqlx::MySqlPool),
    /// SQLite.
    Sqlite(&'a sqlx::SqlitePool),
}

/// A DataFlow instance: one database, its pool, and the models registered on it.
///
/// Cheap to clone (all clones share the pool and registry). Two instances created by two
/// `connect` calls are isolated: each has its own registry.
///
/// ```no_run
/// # async fn run() -> dataflow_sql::Result<()> {
/// use dataflow_core::DataFlow;
/// let db = DataFlow::connect("sqlite::memory:").await?;
/// let schema = dataflow_sql::ModelSchema::from_json(&serde_json::json!({
///     "name": "Note", "fields": [{"name": "id", "type": "i64"}, {"name": "text", "type": "string"}]
/// }))?;
/// db.register_schema(schema).await?;
/// let note = db.express().create_json("Note", &serde_json::json!({"text": "hello"})).await?;
/// assert_eq!(note["text"], "hello");
/// db.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DataFlow {
    pub(crate) inner: Arc<Inner>,
    /// Who writes through this handle, for the audit trail ([`DataFlow::as_actor`]).
    pub(crate) actor: Option<Arc<str>>,
}

pub(crate) struct Inner {
    pub(crate) pools: Pools,
    pub(crate) dialect: Dialect,
    /// MariaDB or MySQL 8, detected at connect (MariaDB on other dialects).
    pub(crate) mysql_server: dataflow_sql::mysql_server::MySqlServer,
    pub(crate) config: Config,
    pub(crate) registry: RwLock<Registry>,
    pub(crate) schema_cache: crate::cache::SchemaCache,
    pub(crate) observer: std::sync::Arc<crate::observe::Observer>,
    /// Read replicas (`Config::read_urls`), if any.
    pub(crate) replicas: Option<Arc<replicas::Replicas>>,
    pub(crate) query_cache: crate::query_cache::QueryCache,
    closed: AtomicBool,
}

impl std::fmt::Debug for DataFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataFlow")
            .field("dialect", &self.inner.dialect)
            .field("url", &url::redact(&self.inner.config.url))
            .finish()
    }
}

impl DataFlow {
    /// Connects with default settings. URLs: `postgres://`, `mysql://`, `mariadb://`,
    /// `sqlite://path/to/file.db` (created if missing) and `sqlite::memory:`.
    pub async fn connect(url: &str) -> Result<DataFlow> {
        Self::connect_with(Config::new(url)).await
    }

    /// A builder for pool size, timeouts, `auto_migrate` and `existing_schema_mode`.
    pub fn builder(url: &str) -> DataFlowBuilder {
        DataFlowBuilder::new(url)
    }

    /// Connects with an explicit configuration.
    pub async fn connect_with(config: Config) -> Result<DataFlow> {
        let u = url::parse(&config.url)?;
        if let Some(c) = config.compat
            && c.dialect() != u.dialect
        {
            return Err(Error::new(
                ErrorCode::INVALID_CONFIG,
                format!("the `{c}` profile speaks {}, but the URL is a {} URL", c.dialect(), u.dialect),
            )
            .fix(format!("use a {}:// URL with Compat::{c:?}, or drop `.compat(..)`", c.dialect()))
            .fix("see docs/guide/scaling.md"));
        }
        let pools = Pools::connect(&config, &u).await?;
        let mysql_server = if u.dialect == Dialect::MySql {
            pools.acquire().await?.conn().mysql_server().await?
        } else {
            dataflow_sql::mysql_server::MySqlServer::MariaDb
        };
        let cache_config = config.schema_cache.clone();
        let replicas = replicas::Replicas::connect(&config, &u).await?;
        let query_cache = crate::query_cache::QueryCache::new(&config.query_cache, &config.url).await?;
        let observer = crate::observe::Observer::new(config.observe.clone(), u.dialect);
        Ok(DataFlow {
            inner: Arc::new(Inner {
                pools,
                dialect: u.dialect,
                mysql_server,
                config,
                registry: RwLock::new(Registry::default()),
                schema_cache: crate::cache::SchemaCache::new(cache_config),
                observer,
                replicas,
                query_cache,
                closed: AtomicBool::new(false),
            }),
            actor: None,
        })
    }

    /// The underlying sqlx pool, for raw SQL beside DataFlow (same connections, same settings).
    pub fn raw_pool(&self) -> RawPool<'_> {
        match &self.inner.pools {
            Pools::Postgres(p) => RawPool::Postgres(p),
            Pools::MySql(p) => RawPool::MySql(p),
            Pools::Sqlite(p) => RawPool::Sqlite(p),
        }
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// Which MySQL-family server a MySQL connection talks to (detected at connect from
    /// `SELECT VERSION()`); [`MySqlServer::MariaDb`](dataflow_sql::mysql_server::MySqlServer) on other dialects.
    pub fn mysql_server(&self) -> dataflow_sql::mysql_server::MySqlServer {
        self.inner.mysql_server
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Closes the pool. Safe to call more than once; later operations fail with DF-404.
    pub async fn close(&self) {
        if !self.inner.closed.swap(true, Ordering::SeqCst) {
            self.inner.pools.close().await;
            if let Some(r) = &self.inner.replicas {
                r.close().await;
            }
        }
    }

    /// Whether [`DataFlow::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst) || self.inner.pools.is_closed()
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::new(ErrorCode::CLOSED, "this DataFlow instance was closed")
                .fix("create a new instance with `DataFlow::connect(url)`"));
        }
        Ok(())
    }

    pub(crate) async fn acquire(&self) -> Result<PoolConn> {
        self.check_open()?;
        crate::observe::pool::acquire(self).await
    }

    /// This instance, recording `actor` as who writes: every Express handle of the returned
    /// `DataFlow` ([`DataFlow::express`], `tenant`, `transaction`, `tx.express()`) and every
    /// workflow run on it (`wf.execute(&db.as_actor("alice"))`, also in a transaction and with a
    /// tenant) writes `actor = "alice"` into the audit rows of audited models
    /// (docs/guide/protection-and-audit.md). The returned value shares the pools, models and
    /// caches (a cheap clone); `Express::actor` still overrides it per handle.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow, wf: dataflow_core::workflow::Workflow) -> dataflow_sql::Result<()> {
    /// let alice = db.as_actor("alice");
    /// alice.express().update_json("Invoice", &serde_json::json!({"id": 7}), &serde_json::json!({"total": 120})).await?;
    /// wf.execute_as(&alice, Some("acme")).await.map_err(|f| f.cause)?;
    /// # Ok(()) }
    /// ```
    pub fn as_actor(&self, actor: impl Into<Arc<str>>) -> DataFlow {
        DataFlow { inner: self.inner.clone(), actor: Some(actor.into()) }
    }

    /// The actor set with [`DataFlow::as_actor`], if any.
    pub fn actor(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    /// Registers a typed model (`#[dataflow::model]`): validates it, creates its table and
    /// indexes if missing, and registers its eleven node types on this instance.
    pub async fn register<M: Model>(&self) -> Result<()> {
        let s = M::schema();
        self.register_inner(s.clone(), Some(std::ptr::from_ref(s) as usize)).await
    }

    /// Registers a dynamic model. Same checks and effects as [`DataFlow::register`].
    pub async fn register_schema(&self, schema: ModelSchema) -> Result<()> {
        self.register_inner(schema, None).await
    }

    async fn register_inner(&self, schema: ModelSchema, origin: Option<usize>) -> Result<()> {
        self.check_open()?;
        schema.validate()?;
        schema.validate_for(self.inner.dialect)?;
        if self.registry().contains(&schema.name) {
            return Err(Registry::duplicate(&schema.name));
        }
        if schema.options.audit {
            self.ensure_audit_model().await?;
        }
        // Create / auto-migrate (or verify in existing_schema_mode) through the schema cache.
        self.ensure_schema(&schema).await?;
        let mut reg = self.inner.registry.write().unwrap_or_else(|p| p.into_inner());
        reg.insert(ModelEntry::new(schema, origin))?;
        Ok(())
    }

    /// Registers the `AuditEntry` model (table `dataflow_audit`) unless it already is: done by
    /// the first `register` of a model with the `audit` option.
    async fn ensure_audit_model(&self) -> Result<()> {
        let schema = crate::audit::schema();
        if self.registry().contains(&schema.name) {
            return Ok(());
        }
        self.ensure_schema(schema).await?;
        let mut reg = self.inner.registry.write().unwrap_or_else(|p| p.into_inner());
        if !reg.contains(&schema.name) {
            reg.insert(ModelEntry::new(schema.clone(), None))?;
        }
        Ok(())
    }

    pub(crate) fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.inner.registry.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The registered model `name`, or DF-604.
    pub fn model(&self, name: &str) -> Result<Arc<ModelEntry>> {
        self.registry().get(name)
    }

    /// The registered schema of `name`, or DF-604.
    pub fn schema(&self, name: &str) -> Result<Arc<ModelSchema>> {
        Ok(self.model(name)?.schema.clone())
    }

    /// Registered model names, sorted.
    pub fn models(&self) -> Vec<String> {
        self.registry().models()
    }

    /// The (model, operation) of a node type name registered on this instance.
    pub fn node_type(&self, name: &str) -> Option<(String, Operation)> {
        self.registry().node(name)
    }

    /// Every node type name registered on this instance, sorted.
    pub fn node_types(&self) -> Vec<String> {
        self.registry().node_types()
    }

    /// The typed model's registry entry; DF-604 when `M` is not registered or a different
    /// schema was registered under its name.
    pub(crate) fn typed_entry<M: Model>(&self) -> Result<Arc<ModelEntry>> {
        let s = M::schema();
        let e = self.model(&s.name)?;
        if e.origin != Some(std::ptr::from_ref(s) as usize) && *e.schema != *s {
            return Err(Error::new(
                ErrorCode::UNKNOWN_MODEL,
                format!("a different schema is registered under the name `{}` on this instance", s.name),
            )
            .model(&s.name)
            .fix("register the typed model with `db.register::<M>()` on an instance that does not have a dynamic model of the same name"));
        }
        Ok(e)
    }
}
