//! The typed Express API: `M: Model` in, [`Stored<M>`] out, no JSON on the record path.

use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dataflow_sql::changes::Changes;
use dataflow_sql::filter::Filter;
use dataflow_sql::stmt::OrderBy;
use dataflow_sql::{Columns, ManagedField, Model, Result, Value};
use futures::stream::{Stream, StreamExt};

use super::{Express, with_conn};
use crate::db::registry::ModelEntry;
use crate::decode::{Decode, Typed};
use crate::ops::bulk_upsert::{ConflictResolution, UpsertCounts};
use crate::ops::list::ListSpec;
use crate::ops::{self, Ctx};

/// A stored record: the model plus the managed columns. Derefs to `M`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<M> {
    /// The record's fields.
    pub record: M,
    /// When it was created (`None` with `timestamps = false`).
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last updated.
    pub updated_at: Option<DateTime<Utc>>,
    /// When it was soft-deleted (soft-delete models).
    pub deleted_at: Option<DateTime<Utc>>,
    /// The tenant (multi-tenant models). Shared, not copied, by the records one scoped read
    /// returns: compare it with `.as_deref() == Some("acme")`.
    pub tenant_id: Option<Arc<str>>,
}

impl<M> Deref for Stored<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.record
    }
}

impl<M: Model> Stored<M> {
    /// The record without the managed columns.
    pub fn into_inner(self) -> M {
        self.record
    }

    /// The record's `id` as a [`Value`] (for `read`, `delete`, ...).
    pub fn id_value(&self) -> Value {
        let i = M::schema().fields.iter().position(|f| f.name == "id").unwrap_or(0);
        self.record.to_values().swap_remove(i)
    }

    /// A record from a full row (`e.cols`). `tenant`: the handle's tenant, if any; a row of
    /// that tenant shares it instead of holding a copy.
    pub(crate) fn from_row(e: &ModelEntry, mut row: Vec<Value>, tenant: Option<&Arc<str>>) -> Result<Self> {
        // The managed columns are taken off the end in place (no second vector), then the user
        // fields go to the model as they are.
        let (mut created_at, mut updated_at, mut deleted_at, mut tenant_id) = (None, None, None, None);
        let n = e.n_user.min(row.len());
        for (m, v) in e.managed.iter().zip(row.drain(n..)) {
            match (m, v) {
                (ManagedField::CreatedAt, Value::DateTime(d)) => created_at = Some(d),
                (ManagedField::UpdatedAt, Value::DateTime(d)) => updated_at = Some(d),
                (ManagedField::DeletedAt, Value::DateTime(d)) => deleted_at = Some(d),
                (ManagedField::TenantId, Value::String(t)) => tenant_id = Some(share(tenant, t)),
                _ => {}
            }
        }
        Ok(Stored { record: M::from_values(row)?, created_at, updated_at, deleted_at, tenant_id })
    }

    /// Decodes a full row straight from its columns: the record through `M::from_columns`, then
    /// the managed columns. `scope`: the tenant of the statement's scope, when it has one. The
    /// row is `e.cols` without a scope or with `tenant_column` (the scope's tenant then shared
    /// by a row of that tenant); otherwise it has no `tenant_id` column
    /// (`e.cols_without_tenant`) and the record gets the scope's tenant.
    pub(crate) fn decode(
        e: &ModelEntry,
        row: &mut dyn Columns,
        scope: Option<&Arc<str>>,
        tenant_column: bool,
    ) -> Result<Self> {
        let record = M::from_columns(row)?;
        let (mut created_at, mut updated_at, mut deleted_at, mut tenant_id) = (None, None, None, None);
        for m in &e.managed {
            match m {
                ManagedField::CreatedAt => created_at = row.next_datetime()?,
                ManagedField::UpdatedAt => updated_at = row.next_datetime()?,
                ManagedField::DeletedAt => deleted_at = row.next_datetime()?,
                ManagedField::TenantId => {
                    tenant_id = match scope {
                        Some(t) if !tenant_column => Some(Arc::clone(t)),
                        _ => row.next_string()?.map(|v| share(scope, v)),
                    }
                }
            }
        }
        Ok(Stored { record, created_at, updated_at, deleted_at, tenant_id })
    }
}

/// A row's tenant: the handle's `tenant` when it is that one (shared, not copied).
fn share(tenant: Option<&Arc<str>>, value: String) -> Arc<str> {
    match tenant {
        Some(t) if **t == *value => Arc::clone(t),
        _ => Arc::from(value),
    }
}

/// The keyset cursor of a full-row record: the values of the sort keys (+ id), as the
/// `Vec<Value>` row would give them (`ops::list`'s cursor of the same row).
fn cursor_of<M: Model>(e: &ModelEntry, order_by: &[OrderBy], r: &Stored<M>) -> Option<Vec<Value>> {
    let mut user = None;
    dataflow_sql::stmt::cursor_keys(&e.schema, order_by)
        .iter()
        .map(|(f, _)| {
            let i = e.cols.iter().position(|c| c.name == f.name)?;
            let dt = |d: Option<DateTime<Utc>>| d.map_or(Value::Null, Value::DateTime);
            Some(match i.checked_sub(e.n_user) {
                None => user.get_or_insert_with(|| r.record.to_values())[i].clone(),
                Some(m) => match e.managed.get(m)? {
                    ManagedField::CreatedAt => dt(r.created_at),
                    ManagedField::UpdatedAt => dt(r.updated_at),
                    ManagedField::DeletedAt => dt(r.deleted_at),
                    ManagedField::TenantId => r.tenant_id.as_deref().map_or(Value::Null, |t| Value::String(t.into())),
                },
            })
        })
        .collect()
}

/// A value usable as a record id: `&str`, `String`, `i32`, `i64`, `Uuid` or a [`Value`].
pub trait IntoId {
    /// Converts to a [`Value`].
    fn into_id(self) -> Value;
}

impl IntoId for &str {
    fn into_id(self) -> Value {
        Value::String(self.to_owned())
    }
}
impl IntoId for String {
    fn into_id(self) -> Value {
        Value::String(self)
    }
}
impl IntoId for &String {
    fn into_id(self) -> Value {
        Value::String(self.clone())
    }
}
impl IntoId for i32 {
    fn into_id(self) -> Value {
        Value::I32(self)
    }
}
impl IntoId for i64 {
    fn into_id(self) -> Value {
        Value::I64(self)
    }
}
impl IntoId for uuid::Uuid {
    fn into_id(self) -> Value {
        Value::Uuid(self)
    }
}
impl IntoId for Value {
    fn into_id(self) -> Value {
        self
    }
}

/// A List query for the typed API: a Mongo-style filter and paging.
///
/// ```
/// use dataflow_core::Query;
/// let q = Query::new().filter(serde_json::json!({"age": {"$gte": 18}})).order_by(["-age", "name"]).limit(20);
/// # let _ = q;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Query {
    filter: Option<serde_json::Value>,
    order_by: Option<serde_json::Value>,
    limit: Option<u64>,
    offset: Option<u64>,
    after: Option<Vec<Value>>,
    include_deleted: bool,
    pub(crate) for_update: bool,
}

impl Query {
    /// Every record, ordered by id.
    pub fn new() -> Self {
        Query::default()
    }
    /// A Mongo-style filter (docs/guide/filters.md).
    pub fn filter(mut self, f: serde_json::Value) -> Self {
        self.filter = Some(f);
        self
    }
    /// Sort keys: `"name"`, `"-age"`.
    pub fn order_by<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.order_by =
            Some(serde_json::Value::Array(keys.into_iter().map(|k| serde_json::Value::String(k.into())).collect()));
        self
    }
    /// Maximum rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// Rows to skip.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
    /// Keyset cursor: the `next_cursor` of the previous page.
    pub fn after(mut self, cursor: Vec<Value>) -> Self {
        self.after = Some(cursor);
        self
    }
    /// Include soft-deleted records.
    pub fn include_deleted(mut self, on: bool) -> Self {
        self.include_deleted = on;
        self
    }

    /// Locks the listed rows until the transaction ends (`SELECT .. FOR UPDATE` on PostgreSQL
    /// and MySQL/MariaDB; on SQLite the write transaction already holds the database's write
    /// lock). Only inside a transaction (`tx.express()`); on the pool the List fails with DF-109.
    pub fn for_update(mut self) -> Self {
        self.for_update = true;
        self
    }

    pub(crate) fn spec(&self, schema: &dataflow_sql::ModelSchema) -> Result<ListSpec> {
        let filter = match &self.filter {
            Some(f) => Some(Filter::parse(f, schema)?),
            None => None,
        };
        let order_by: Vec<OrderBy> = match &self.order_by {
            Some(o) => dataflow_sql::stmt::parse_order_by(o, schema)?,
            None => Vec::new(),
        };
        Ok(ListSpec {
            filter,
            order_by,
            limit: self.limit,
            offset: self.offset,
            after: self.after.clone(),
            include_deleted: self.include_deleted,
            fields: None,
        })
    }
}

/// One page of a typed List.
#[derive(Debug, Clone)]
pub struct Page<M> {
    /// The records.
    pub records: Vec<Stored<M>>,
    /// Cursor for the next page (`Query::after`), when the page was full.
    pub next_cursor: Option<Vec<Value>>,
}

fn parse_filter<M: Model>(f: &serde_json::Value) -> Result<Filter> {
    Filter::parse(f, M::schema())
}

impl Express<'_> {
    /// Inserts a record and returns it as stored (generated id, defaults, timestamps).
    pub async fn create<M: Model>(&mut self, record: &M) -> Result<Stored<M>> {
        let e = self.db.typed_entry::<M>()?;
        let row = record.to_values().into_iter().map(Some).collect();
        let stored = with_conn!(self, e, cx, c, ops::create::create(&mut c, &cx, row).await?);
        Stored::from_row(&e, stored, self.tenant.current())
    }

    /// Reads a record by id; `None` when missing or soft-deleted.
    pub async fn read<M: Model>(&mut self, id: impl IntoId) -> Result<Option<Stored<M>>> {
        self.read_opt::<M>(id, false).await
    }

    /// Reads a record by id, soft-deleted ones too when `include_deleted`.
    pub async fn read_opt<M: Model>(&mut self, id: impl IntoId, include_deleted: bool) -> Result<Option<Stored<M>>> {
        let e = self.db.typed_entry::<M>()?;
        let id = id.into_id();
        if self.cache_off(&e.schema) {
            return Ok(with_conn!(@direct "Read", self, e, cx, c, {
                let d = Typed::<M>::scoped(&e, cx.tenant);
                ops::read::by_id_as(&mut c, &cx, &id, include_deleted, &d).await?
            }));
        }
        let row = with_conn!(self, e, cx, c, ops::read::by_id(&mut c, &cx, &id, include_deleted).await?);
        super::owned(row).map(|r| Stored::from_row(&e, r, self.tenant.current())).transpose()
    }

    /// Writes every field of `record` to the row with its id; `None` when there is none.
    pub async fn update<M: Model>(&mut self, record: &M) -> Result<Option<Stored<M>>> {
        let e = self.db.typed_entry::<M>()?;
        let mut id = Value::Null;
        let set: Vec<(String, Value)> = e
            .schema
            .fields
            .iter()
            .zip(record.to_values())
            .filter_map(|(f, v)| {
                if f.name == "id" {
                    id = v;
                    None
                } else {
                    Some((f.name.clone(), v))
                }
            })
            .collect();
        Ok(with_conn!(self, e, cx, c, {
            cx.refuse_append_only(dataflow_sql::Operation::Update)?;
            cx.check()?;
            // Decoded straight from the row: every column of a RETURNING row, the lean read
            // of a scoped handle where the row is read back (MySQL/MariaDB).
            let reread = Typed::<M>::scoped(&e, cx.tenant);
            let full = reread.full();
            let changes = Changes::from(set);
            ops::update::update_by_id_as(&mut c, &cx, &id, changes, &full, &reread, |r| full.decode_values(r)).await?
        }))
    }

    /// Applies `changes` (plain values and atomic operators, see [`Changes`]) to the record with
    /// this id in one statement and returns it as stored; `None` when there is none.
    ///
    /// ```no_run
    /// # use dataflow_core::{Changes, Stored};
    /// # async fn run<Post: dataflow_sql::Model>(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// let post: Option<Stored<Post>> = db.express().update_by_id::<Post>("p1", Changes::new().inc("views", 1)).await?;
    /// # let _ = post; Ok(()) }
    /// ```
    pub async fn update_by_id<M: Model>(&mut self, id: impl IntoId, changes: Changes) -> Result<Option<Stored<M>>> {
        let e = self.db.typed_entry::<M>()?;
        let id = id.into_id();
        let row = with_conn!(self, e, cx, c, {
            cx.refuse_append_only(dataflow_sql::Operation::Update)?;
            cx.check()?;
            ops::update::update_by_id_changes(&mut c, &cx, &id, changes).await?
        });
        row.map(|r| Stored::from_row(&e, r, self.tenant.current())).transpose()
    }

    /// Applies `changes` to every record matching `filter` in one `UPDATE`; an empty filter needs
    /// `confirmed`. Returns how many records matched.
    pub async fn bulk_update_changes<M: Model>(
        &mut self,
        filter: &serde_json::Value,
        changes: Changes,
        confirmed: bool,
    ) -> Result<u64> {
        let e = self.db.typed_entry::<M>()?;
        let f = parse_filter::<M>(filter)?;
        with_conn!(self, e, cx, c, ops::bulk_update::by_filter(&mut c, &cx, &f, changes, confirmed).await)
    }

    /// Updates the one record `filter` identifies with `fields`: a JSON object of field values and
    /// update operators (`{"name": "x", "$inc": {"visits": 1}}`).
    pub async fn update_where<M: Model>(
        &mut self,
        filter: &serde_json::Value,
        fields: &serde_json::Value,
    ) -> Result<Option<Stored<M>>> {
        let e = self.db.typed_entry::<M>()?;
        let f = parse_filter::<M>(filter)?;
        let changes = super::json::json_changes(&e.schema, fields)?;
        let row = with_conn!(self, e, cx, c, ops::update::update_one(&mut c, &cx, &f, changes).await?);
        row.map(|r| Stored::from_row(&e, r, self.tenant.current())).transpose()
    }

    /// Deletes by id (soft on soft-delete models); `false` when nothing was deleted.
    pub async fn delete<M: Model>(&mut self, id: impl IntoId) -> Result<bool> {
        let e = self.db.typed_entry::<M>()?;
        let id = id.into_id();
        with_conn!(self, e, cx, c, ops::delete::delete(&mut c, &cx, &id).await)
    }

    /// Restores a soft-deleted record.
    pub async fn restore<M: Model>(&mut self, id: impl IntoId) -> Result<bool> {
        let e = self.db.typed_entry::<M>()?;
        let id = id.into_id();
        with_conn!(self, e, cx, c, ops::delete::restore(&mut c, &cx, &id).await)
    }

    /// Removes a record for good (soft-deleted or not).
    pub async fn hard_delete<M: Model>(&mut self, id: impl IntoId) -> Result<bool> {
        let e = self.db.typed_entry::<M>()?;
        let id = id.into_id();
        with_conn!(self, e, cx, c, ops::delete::hard_delete(&mut c, &cx, &id).await)
    }

    /// Lists records.
    pub async fn list<M: Model>(&mut self, q: &Query) -> Result<Vec<Stored<M>>> {
        Ok(self.list_page_with::<M>(q, false).await?.records)
    }

    /// Lists one page, with the keyset cursor of the next page.
    pub async fn list_page<M: Model>(&mut self, q: &Query) -> Result<Page<M>> {
        self.list_page_with::<M>(q, true).await
    }

    async fn list_page_with<M: Model>(&mut self, q: &Query, cursor: bool) -> Result<Page<M>> {
        let e = self.db.typed_entry::<M>()?;
        let spec = q.spec(&e.schema)?;
        if q.for_update {
            self.require_tx("list(..).for_update()", &e.schema.name)?;
        }
        if self.cache_off(&e.schema) {
            // Decoded straight into the records; the cursor is the last record's sort keys.
            let (_, records) = with_conn!(@direct "List", self, e, cx, c, {
                let d = Typed::<M>::scoped(&e, cx.tenant);
                ops::list::list_as(&mut c, &cx, &spec, q.for_update, &d).await?
            });
            let next_cursor = match (spec.limit, records.last()) {
                (Some(l), Some(last)) if cursor && l > 0 && records.len() as u64 == l => {
                    cursor_of(&e, &spec.order_by, last)
                }
                _ => None,
            };
            return Ok(Page { records, next_cursor });
        }
        let page = with_conn!(self, e, cx, c, ops::list::list_with(&mut c, &cx, &spec, q.for_update, cursor).await?);
        let page = super::owned(page);
        let records = page
            .rows
            .into_iter()
            .map(|r| Stored::from_row(&e, r, self.tenant.current()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { records, next_cursor: page.next_cursor })
    }

    /// The first record matching a non-empty filter.
    pub async fn find_one<M: Model>(&mut self, filter: &serde_json::Value) -> Result<Option<Stored<M>>> {
        let e = self.db.typed_entry::<M>()?;
        let f = parse_filter::<M>(filter)?;
        if self.cache_off(&e.schema) {
            return Ok(with_conn!(@direct "FindOne", self, e, cx, c, {
                let d = Typed::<M>::scoped(&e, cx.tenant);
                ops::read::find_one_as(&mut c, &cx, &f, false, &d).await?
            }));
        }
        let row = with_conn!(self, e, cx, c, ops::read::find_one(&mut c, &cx, &f, false).await?);
        super::owned(row).map(|r| Stored::from_row(&e, r, self.tenant.current())).transpose()
    }

    /// Counts records matching a filter (`{}`: all).
    pub async fn count<M: Model>(&mut self, filter: &serde_json::Value) -> Result<u64> {
        let e = self.db.typed_entry::<M>()?;
        let f = parse_filter::<M>(filter)?;
        Ok(*with_conn!(self, e, cx, c, ops::count::count(&mut c, &cx, Some(&f), false).await?))
    }

    /// Inserts `record`, or updates the record with the same `conflict_on` key. Returns
    /// `(created, stored)`.
    pub async fn upsert<M: Model>(&mut self, record: &M, conflict_on: &[&str]) -> Result<(bool, Stored<M>)> {
        let e = self.db.typed_entry::<M>()?;
        let req = ops::upsert::UpsertReq {
            insert: record.to_values().into_iter().map(Some).collect(),
            update: None,
            conflict_on: conflict_on.iter().map(|s| (*s).to_owned()).collect(),
        };
        let (created, row) = with_conn!(self, e, cx, c, ops::upsert::upsert(&mut c, &cx, req).await?);
        Ok((created, Stored::from_row(&e, row, self.tenant.current())?))
    }

    /// Inserts all records atomically; returns how many.
    pub async fn bulk_create<M: Model>(&mut self, records: &[M]) -> Result<u64> {
        let e = self.db.typed_entry::<M>()?;
        let rows = records.iter().map(|r| r.to_values().into_iter().map(Some).collect()).collect();
        let r = with_conn!(self, e, cx, c, ops::bulk_create::bulk_create(&mut c, &cx, rows, None, false).await?);
        Ok(r.inserted)
    }

    /// Inserts records from an iterator, chunk by chunk, in one transaction (bounded memory).
    pub async fn bulk_create_iter<M: Model, I: IntoIterator<Item = M>>(&mut self, records: I) -> Result<u64> {
        let e = self.db.typed_entry::<M>()?;
        let rows = records.into_iter().map(|r| Ok(r.into_values().into_iter().map(Some).collect()));
        with_conn!(self, e, cx, c, ops::bulk_create::bulk_create_iter(&mut c, &cx, rows, None).await)
    }

    /// Sets `fields` on every record matching `filter`; an empty filter needs `confirmed`.
    pub async fn bulk_update<M: Model>(
        &mut self,
        filter: &serde_json::Value,
        fields: &serde_json::Value,
        confirmed: bool,
    ) -> Result<u64> {
        let e = self.db.typed_entry::<M>()?;
        let f = parse_filter::<M>(filter)?;
        let changes = super::json::json_changes(&e.schema, fields)?;
        with_conn!(self, e, cx, c, ops::bulk_update::by_filter(&mut c, &cx, &f, changes, confirmed).await)
    }

    /// Deletes every record matching `filter`; an empty filter needs `confirmed`.
    pub async fn bulk_delete<M: Model>(&mut self, filter: &serde_json::Value, confirmed: bool) -> Result<u64> {
        let e = self.db.typed_entry::<M>()?;
        let f = parse_filter::<M>(filter)?;
        with_conn!(self, e, cx, c, ops::bulk_delete::by_filter(&mut c, &cx, &f, confirmed).await)
    }

    /// Upserts all records atomically on `conflict_on`.
    pub async fn bulk_upsert<M: Model>(
        &mut self,
        records: &[M],
        conflict_on: &[&str],
        resolution: ConflictResolution,
    ) -> Result<UpsertCounts> {
        let e = self.db.typed_entry::<M>()?;
        let rows = records.iter().map(|r| r.to_values().into_iter().map(Some).collect()).collect();
        with_conn!(
            self,
            e,
            cx,
            c,
            ops::bulk_upsert::bulk_upsert(&mut c, &cx, rows, conflict_on, resolution, None).await
        )
    }

    /// Streams the records of a List straight from the database (bounded memory). On the pool
    /// only; inside a transaction use [`Express::list`].
    pub fn list_stream<M: Model>(&self, q: &Query) -> impl Stream<Item = Result<Stored<M>>> + '_ {
        let prepared = self.db.typed_entry::<M>().and_then(|e| {
            let spec = q.spec(&e.schema)?;
            let tenant = self.tenant.resolve(&e.schema)?;
            let cx = Ctx {
                e: &e,
                dialect: self.db.dialect(),
                server: self.db.mysql_server(),
                tenant: tenant.as_ref(),
                all_tenants: self.tenant.is_all(),
                full_table_guard: None,
                protection: &self.db.config().protection,
                actor: None,
                op: "List",
                portable: self.db.config().compat.is_some(),
            };
            let d = Typed::<M>::scoped(&e, cx.tenant);
            let (st, cols) = ops::list::statement(&cx, &spec, d.omits_tenant())?;
            self.db.check_open()?;
            Ok((e.clone(), st, cols, d))
        });
        match prepared {
            Ok((e, st, cols, d)) => {
                let schema = e.schema.clone();
                self.stream_pools().fetch_stream_as(st, cols, schema, d).left_stream()
            }
            Err(err) => futures::stream::once(async move { Err(err) }).right_stream(),
        }
    }
}
