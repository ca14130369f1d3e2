//! The dynamic Express API: model name + JSON in, JSON out, in the node result shapes of
//! docs/guide/operations.md. The workflow nodes call [`Express::run`].

use dataflow_sql::filter::Filter;
use dataflow_sql::{Error, ErrorCode, ModelSchema, Operation, Result, Value};
use futures::stream::{Stream, StreamExt};
use serde_json::{Map, Value as J, json};

use super::Express;
pub use super::json::{json_changes, json_row, json_set, row_json};
use super::json::{object, shape};
use super::with_conn;
use crate::decode;
use crate::ops::bulk_upsert::ConflictResolution;
use crate::ops::list::ListSpec;
use crate::ops::{self, Ctx, InputRow};

/// The parameter contract's check (unknown parameters, value kinds, required ones): the first
/// error, so the dynamic API accepts exactly what workflow validation accepts.
fn check_keys(schema: &ModelSchema, op: Operation, params: &Map<String, J>) -> Result<()> {
    match crate::contract::check(schema, op, params).into_iter().next() {
        Some(e) => Err(e.or_model(&schema.name)),
        None => Ok(()),
    }
}

fn id_param(schema: &ModelSchema, op: &str, p: &Map<String, J>) -> Result<Value> {
    let j = p.get("id").ok_or_else(|| {
        Error::new(ErrorCode::MISSING_FIELD, format!("{op} needs `id`"))
            .model(&schema.name)
            .operator(op)
            .field("id")
            .fix("{\"id\": \"u1\"}")
    })?;
    let f = schema.id_field().ok_or_else(|| schema.unknown_field("id"))?;
    Value::from_json(j, f).map_err(|e| e.or_model(&schema.name))
}

fn bool_param(schema: &ModelSchema, p: &Map<String, J>, key: &str, default: bool) -> Result<bool> {
    match p.get(key) {
        None | Some(J::Null) => Ok(default),
        Some(J::Bool(b)) => Ok(*b),
        Some(o) => Err(Error::new(ErrorCode::INVALID_PARAMETER, format!("`{key}` must be true or false, got {o}"))
            .model(&schema.name)
            .field(key)
            .fix(format!("\"{key}\": true"))),
    }
}

fn u64_param(schema: &ModelSchema, p: &Map<String, J>, key: &str) -> Result<Option<u64>> {
    match p.get(key) {
        None | Some(J::Null) => Ok(None),
        Some(j) => j.as_u64().map(Some).ok_or_else(|| {
            Error::new(ErrorCode::INVALID_PAGINATION, format!("`{key}` must be a non-negative integer, got {j}"))
                .model(&schema.name)
                .field(key)
                .fix(format!("\"{key}\": 10"))
        }),
    }
}

fn filter_param(schema: &ModelSchema, p: &Map<String, J>) -> Result<Filter> {
    match p.get("filter") {
        None | Some(J::Null) => Filter::parse(&json!({}), schema),
        Some(f) => Filter::parse(f, schema),
    }
}

fn str_list(schema: &ModelSchema, p: &Map<String, J>, key: &str) -> Result<Option<Vec<String>>> {
    match p.get(key) {
        None | Some(J::Null) => Ok(None),
        Some(J::String(s)) => Ok(Some(vec![s.clone()])),
        Some(J::Array(a)) => {
            a.iter().map(|x| x.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>().map(Some).ok_or_else(|| {
                Error::new(ErrorCode::INVALID_PARAMETER, format!("`{key}` must be a list of field names"))
                    .model(&schema.name)
                    .field(key)
            })
        }
        Some(o) => {
            Err(Error::new(ErrorCode::INVALID_PARAMETER, format!("`{key}` must be a list of field names, got {o}"))
                .model(&schema.name)
                .field(key)
                .fix(format!("\"{key}\": [\"email\"]")))
        }
    }
}

fn list_spec(schema: &ModelSchema, p: &Map<String, J>) -> Result<ListSpec> {
    check_keys(schema, Operation::List, p)?;
    let filter = filter_param(schema, p)?;
    let order_by = match p.get("order_by") {
        None | Some(J::Null) => Vec::new(),
        Some(o) => dataflow_sql::stmt::parse_order_by(o, schema)?,
    };
    let after = match p.get("after") {
        None | Some(J::Null) => None,
        Some(J::Array(vals)) => {
            let keys = dataflow_sql::stmt::cursor_keys(schema, &order_by);
            if keys.len() != vals.len() {
                return Err(Error::new(
                    ErrorCode::INVALID_PAGINATION,
                    format!("`after` needs {} values (the sort keys and id)", keys.len()),
                )
                .model(&schema.name)
                .fix("pass the `next_cursor` of the previous page unchanged"));
            }
            let mut out = Vec::with_capacity(vals.len());
            for ((f, _), v) in keys.iter().zip(vals) {
                let mut f = f.clone();
                f.nullable = true;
                out.push(Value::from_json(v, &f).map_err(|e| e.or_model(&schema.name))?);
            }
            Some(out)
        }
        Some(o) => {
            return Err(Error::new(
                ErrorCode::INVALID_PAGINATION,
                format!("`after` must be the `next_cursor` array, got {o}"),
            )
            .model(&schema.name)
            .fix("pass the `next_cursor` of the previous page unchanged"));
        }
    };
    Ok(ListSpec {
        filter: Some(filter),
        order_by,
        limit: u64_param(schema, p, "limit")?,
        offset: u64_param(schema, p, "offset")?,
        after,
        include_deleted: bool_param(schema, p, "include_deleted", false)?,
        fields: str_list(schema, p, "fields")?,
    })
}

fn data_rows(schema: &ModelSchema, op: &str, data: Option<&J>) -> Result<Vec<InputRow>> {
    let Some(J::Array(items)) = data else {
        return Err(shape(schema, op, format!("{op} needs `data`: a list of records"), "{\"data\": [{...}, {...}]}"));
    };
    items.iter().enumerate().map(|(i, r)| json_row(schema, r).map_err(|e| crate::contract::in_record(e, i))).collect()
}

/// A List's node result: `{"records", "count", "limit", "offset", "next_cursor"?}`.
fn list_node(spec: &ListSpec, records: Vec<J>, next_cursor: Option<Vec<J>>) -> J {
    let mut m = Map::new();
    let n = records.len();
    m.insert("records".into(), J::Array(records));
    m.insert("count".into(), json!(n));
    m.insert("limit".into(), json!(spec.limit));
    m.insert("offset".into(), json!(spec.offset.unwrap_or(0)));
    if spec.limit.is_some() || spec.after.is_some() {
        m.insert("next_cursor".into(), next_cursor.map_or(J::Null, J::Array));
    }
    J::Object(m)
}

impl Express<'_> {
    /// Runs one operation with node parameters (docs/guide/operations.md) and returns the node result.
    pub async fn run(&mut self, model: &str, op: Operation, params: &J) -> Result<J> {
        let e = self.db.model(model)?;
        let s = e.schema.clone();
        crate::tenant::reject_in_params(&s, op, params)?;
        let cols = e.cols.clone();
        let rec = |row: Vec<Value>| row_json(&cols, row);
        match op {
            Operation::Create => {
                let row = json_row(&s, params)?;
                let out = with_conn!(self, e, cx, c, ops::create::create(&mut c, &cx, row).await?);
                Ok(J::Object(rec(out)))
            }
            Operation::Read => {
                let p = object(&s, "Read", params, "{\"id\": \"u1\"}")?;
                check_keys(&s, Operation::Read, p)?;
                let id = id_param(&s, "Read", p)?;
                let inc = bool_param(&s, p, "include_deleted", false)?;
                let raise = bool_param(&s, p, "raise_on_not_found", true)?;
                let found = |mut m: Map<String, J>| {
                    m.insert("found".into(), J::Bool(true));
                    J::Object(m)
                };
                let out = if self.cache_off(&s) {
                    with_conn!(@direct "Read", self, e, cx, c, ops::read::by_id_as(&mut c, &cx, &id, inc, &decode::Json).await?)
                        .map(found)
                } else {
                    let out = with_conn!(self, e, cx, c, ops::read::by_id(&mut c, &cx, &id, inc).await? => |r: Option<Vec<Value>>| {
                        Ok(r.map(|r| found(rec(r))))
                    });
                    super::owned(out)
                };
                match out {
                    Some(r) => Ok(r),
                    None if raise => {
                        Err(Error::new(ErrorCode::NOT_FOUND, format!("no `{}` with id {}", s.name, id.to_json()))
                            .model(&s.name)
                            .field("id")
                            .fix("pass \"raise_on_not_found\": false to get {\"found\": false} instead"))
                    }
                    None => Ok(json!({"id": id.to_json(), "found": false})),
                }
            }
            Operation::Update => {
                let p = object(&s, "Update", params, "{\"filter\": {\"id\": ..}, \"fields\": {..}}")?;
                if !p.contains_key("filter") || !p.contains_key("fields") {
                    let flat: Vec<&str> =
                        p.keys().map(String::as_str).filter(|k| *k != "filter" && *k != "fields").collect();
                    return Err(Error::new(
                        ErrorCode::UPDATE_SHAPE,
                        format!("Update needs `filter` and `fields`, got flat keys ({})", flat.join(", ")),
                    )
                    .model(&s.name)
                    .operator("Update")
                    .fix("{\"filter\": {\"id\": \"u1\"}, \"fields\": {\"name\": \"New name\"}}"));
                }
                check_keys(&s, Operation::Update, p)?;
                let f = filter_param(&s, p)?;
                let changes = json_changes(&s, &p["fields"])?;
                let out = with_conn!(self, e, cx, c, ops::update::update_one(&mut c, &cx, &f, changes).await?);
                Ok(match out {
                    Some(r) => {
                        let mut m = rec(r);
                        m.insert("updated".into(), J::Bool(true));
                        J::Object(m)
                    }
                    None => json!({"updated": false}),
                })
            }
            Operation::Delete => {
                let p = object(&s, "Delete", params, "{\"id\": \"u1\"}")?;
                check_keys(&s, Operation::Delete, p)?;
                let id = id_param(&s, "Delete", p)?;
                let d = with_conn!(self, e, cx, c, ops::delete::delete(&mut c, &cx, &id).await?);
                Ok(json!({"id": id.to_json(), "deleted": d}))
            }
            Operation::List => {
                let p = object(&s, "List", params, "{\"filter\": {..}, \"limit\": 10}")?;
                let spec = list_spec(&s, p)?;
                Ok(super::owned(self.list_shared(e, &spec).await?))
            }
            Operation::Count => {
                let p = object(&s, "Count", params, "{\"filter\": {..}}")?;
                check_keys(&s, Operation::Count, p)?;
                let f = filter_param(&s, p)?;
                let inc = bool_param(&s, p, "include_deleted", false)?;
                let n = with_conn!(self, e, cx, c, ops::count::count(&mut c, &cx, Some(&f), inc).await?);
                Ok(json!({"count": *n}))
            }
            Operation::Upsert => {
                let ex = "{\"where\": {\"email\": \"a@x\"}, \"create\": {..}, \"update\": {..}}";
                let p = object(&s, "Upsert", params, ex)?;
                check_keys(&s, Operation::Upsert, p)?;
                let Some(w) = p.get("where").and_then(J::as_object) else {
                    return Err(shape(&s, "Upsert", "Upsert needs `where` (an object of key fields)", ex));
                };
                let mut merged = Map::new();
                if let Some(c) = p.get("create") {
                    merged.extend(object(&s, "Upsert", c, ex)?.clone());
                }
                merged.extend(w.clone());
                let insert = json_row(&s, &J::Object(merged))?;
                let update = match p.get("update") {
                    None | Some(J::Null) => None,
                    Some(u) => Some(json_set(&s, u)?),
                };
                let conflict_on = str_list(&s, p, "conflict_on")?.unwrap_or_else(|| w.keys().cloned().collect());
                let req = ops::upsert::UpsertReq { insert, update, conflict_on };
                let (created, row) = with_conn!(self, e, cx, c, ops::upsert::upsert(&mut c, &cx, req).await?);
                Ok(
                    json!({"created": created, "action": if created {"created"} else {"updated"}, "record": J::Object(rec(row))}),
                )
            }
            Operation::BulkCreate => {
                let p = object(&s, "BulkCreate", params, "{\"data\": [..]}")?;
                check_keys(&s, Operation::BulkCreate, p)?;
                let batch = u64_param(&s, p, "batch_size")?.map(|b| usize::try_from(b).unwrap_or(usize::MAX).max(1));
                let return_ids = bool_param(&s, p, "return_ids", false)?;
                self.bulk_create_data(&e, p.get("data"), batch, return_ids).await
            }
            Operation::BulkUpdate => {
                let p = object(&s, "BulkUpdate", params, "{\"filter\": {..}, \"fields\": {..}}")?;
                check_keys(&s, Operation::BulkUpdate, p)?;
                let confirmed = bool_param(&s, p, "confirmed", false)?;
                let (processed, updated) = if let Some(J::Array(items)) = p.get("data") {
                    let mut recs = Vec::with_capacity(items.len());
                    for (i, it) in items.iter().enumerate() {
                        let o = object(&s, "BulkUpdate", it, "{\"data\": [{\"id\": 1, \"name\": \"x\"}]}")?;
                        let id = id_param(&s, "BulkUpdate", o).map_err(|e| crate::contract::in_record(e, i))?;
                        let mut rest = o.clone();
                        rest.remove("id");
                        recs.push((id, json_set(&s, &J::Object(rest)).map_err(|e| crate::contract::in_record(e, i))?));
                    }
                    let n = with_conn!(self, e, cx, c, ops::bulk_update::by_records(&mut c, &cx, &recs).await?);
                    (recs.len() as u64, n)
                } else {
                    let f = filter_param(&s, p)?;
                    let fields = p.get("fields").ok_or_else(|| {
                        shape(
                            &s,
                            "BulkUpdate",
                            "BulkUpdate needs `fields` (or `data`)",
                            "{\"filter\": {..}, \"fields\": {..}}",
                        )
                    })?;
                    let changes = json_changes(&s, fields)?;
                    let n = with_conn!(
                        self,
                        e,
                        cx,
                        c,
                        ops::bulk_update::by_filter(&mut c, &cx, &f, changes, confirmed).await?
                    );
                    (n, n)
                };
                Ok(json!({"processed": processed, "updated": updated, "operation": "bulk_update", "success": true}))
            }
            Operation::BulkDelete => {
                let p = object(&s, "BulkDelete", params, "{\"filter\": {..}}")?;
                check_keys(&s, Operation::BulkDelete, p)?;
                let confirmed = bool_param(&s, p, "confirmed", false)?;
                let (processed, deleted) = if let Some(ids) = p.get("ids") {
                    let f = s.id_field().ok_or_else(|| s.unknown_field("id"))?;
                    let ids: Vec<Value> = ids
                        .as_array()
                        .ok_or_else(|| shape(&s, "BulkDelete", "`ids` must be a list", "{\"ids\": [1, 2]}"))?
                        .iter()
                        .map(|j| Value::from_json(j, f).map_err(|e| e.or_model(&s.name)))
                        .collect::<Result<_>>()?;
                    let n = with_conn!(self, e, cx, c, ops::bulk_delete::by_ids(&mut c, &cx, &ids).await?);
                    (ids.len() as u64, n)
                } else {
                    let f = filter_param(&s, p)?;
                    let n = with_conn!(self, e, cx, c, ops::bulk_delete::by_filter(&mut c, &cx, &f, confirmed).await?);
                    (n, n)
                };
                Ok(json!({"processed": processed, "deleted": deleted, "operation": "bulk_delete", "success": true}))
            }
            Operation::BulkUpsert => {
                let p = object(&s, "BulkUpsert", params, "{\"data\": [..], \"conflict_on\": [\"id\"]}")?;
                check_keys(&s, Operation::BulkUpsert, p)?;
                let rows = data_rows(&s, "BulkUpsert", p.get("data"))?;
                let conflict_on = str_list(&s, p, "conflict_on")?.unwrap_or_else(|| vec!["id".into()]);
                let keys: Vec<&str> = conflict_on.iter().map(String::as_str).collect();
                let resolution = match p.get("conflict_resolution").and_then(J::as_str) {
                    None | Some("update") => ConflictResolution::Update,
                    Some("skip") => ConflictResolution::Skip,
                    Some(o) => {
                        return Err(Error::new(
                            ErrorCode::INVALID_PARAMETER,
                            format!("unknown conflict_resolution `{o}`"),
                        )
                        .model(&s.name)
                        .field("conflict_resolution")
                        .fix("use \"update\" or \"skip\""));
                    }
                };
                let uf = str_list(&s, p, "update_fields")?;
                let uf_refs: Option<Vec<&str>> = uf.as_ref().map(|v| v.iter().map(String::as_str).collect());
                let r = with_conn!(
                    self,
                    e,
                    cx,
                    c,
                    ops::bulk_upsert::bulk_upsert(&mut c, &cx, rows, &keys, resolution, uf_refs.as_deref()).await?
                );
                Ok(
                    json!({"processed": r.processed, "inserted": r.inserted, "updated": r.updated, "skipped": r.skipped, "total": r.total(), "operation": "bulk_upsert", "success": true}),
                )
            }
        }
    }

    /// Runs a node type registered on this instance (`UserCreateNode`) with its parameters.
    pub async fn run_node(&mut self, node_type: &str, params: &J) -> Result<J> {
        let (model, op) = self.db.node_type(node_type).ok_or_else(|| {
            let types = self.db.node_types();
            let mut e = Error::new(ErrorCode::UNKNOWN_NODE_TYPE, format!("unknown node type `{node_type}`"));
            if let Some(c) = dataflow_sql::error::closest(node_type, types.iter().map(String::as_str)) {
                e = e.fix(format!("did you mean `{c}`?"));
            }
            e.fix("node types are `<Model><Operation>Node`, registered by `db.register::<Model>()`")
        })?;
        self.run(&model, op, params).await
    }

    /// Creates a record from a JSON object; returns the stored record.
    pub async fn create_json(&mut self, model: &str, data: &J) -> Result<J> {
        self.run(model, Operation::Create, data).await
    }

    /// Reads by id; `None` when missing or soft-deleted.
    pub async fn read_json(&mut self, model: &str, id: &J) -> Result<Option<J>> {
        let mut r = self.run(model, Operation::Read, &json!({"id": id, "raise_on_not_found": false})).await?;
        if r["found"] == J::Bool(true) {
            if let Some(m) = r.as_object_mut() {
                m.remove("found");
            }
            Ok(Some(r))
        } else {
            Ok(None)
        }
    }

    /// Updates the one record `filter` identifies; `None` when nothing matched.
    pub async fn update_json(&mut self, model: &str, filter: &J, fields: &J) -> Result<Option<J>> {
        let mut r = self.run(model, Operation::Update, &json!({"filter": filter, "fields": fields})).await?;
        if r["updated"] == J::Bool(true) {
            if let Some(m) = r.as_object_mut() {
                m.remove("updated");
            }
            Ok(Some(r))
        } else {
            Ok(None)
        }
    }

    /// Deletes by id; `true` when a record was deleted.
    pub async fn delete_json(&mut self, model: &str, id: &J) -> Result<bool> {
        Ok(self.run(model, Operation::Delete, &json!({"id": id})).await?["deleted"] == J::Bool(true))
    }

    /// Restores a soft-deleted record.
    pub async fn restore_json(&mut self, model: &str, id: &J) -> Result<bool> {
        let e = self.db.model(model)?;
        let f = e.schema.id_field().ok_or_else(|| e.schema.unknown_field("id"))?;
        let id = Value::from_json(id, f).map_err(|x| x.or_model(model))?;
        with_conn!(self, e, cx, c, ops::delete::restore(&mut c, &cx, &id).await)
    }

    /// Removes a record for good.
    pub async fn hard_delete_json(&mut self, model: &str, id: &J) -> Result<bool> {
        let e = self.db.model(model)?;
        let f = e.schema.id_field().ok_or_else(|| e.schema.unknown_field("id"))?;
        let id = Value::from_json(id, f).map_err(|x| x.or_model(model))?;
        with_conn!(self, e, cx, c, ops::delete::hard_delete(&mut c, &cx, &id).await)
    }

    /// List with node parameters; returns `{"records", "count", "limit", "offset", "next_cursor"?}`.
    pub async fn list_json(&mut self, model: &str, params: &J) -> Result<J> {
        self.run(model, Operation::List, params).await
    }

    /// [`Express::list_json`] handing out the result shared: with the query cache, a hit is the
    /// cached result itself (no copy of the records), for callers that only read it (serialize
    /// it into a response, say). The same result, cache and errors as `list_json`.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// let page = db.express().cached().list_json_shared("Product", &serde_json::json!({"limit": 20})).await?;
    /// let body = serde_json::to_string(&*page).unwrap_or_default();
    /// # let _ = body; Ok(()) }
    /// ```
    pub async fn list_json_shared(&mut self, model: &str, params: &J) -> Result<std::sync::Arc<J>> {
        let e = self.db.model(model)?;
        crate::tenant::reject_in_params(&e.schema, Operation::List, params)?;
        let p = object(&e.schema, "List", params, "{\"filter\": {..}, \"limit\": 10}")?;
        let spec = list_spec(&e.schema, p)?;
        self.list_shared(e, &spec).await
    }

    /// A List's node result, shared with the query cache.
    async fn list_shared(
        &mut self,
        e: std::sync::Arc<crate::db::registry::ModelEntry>,
        spec: &ListSpec,
    ) -> Result<std::sync::Arc<J>> {
        if self.cache_off(&e.schema) {
            // Decoded straight into JSON records; the cursor is the last record's sort keys.
            let (cols, records) = with_conn!(@direct "List", self, e, cx, c, ops::list::list_as(&mut c, &cx, spec, false, &decode::Json).await?);
            let next_cursor = match (spec.limit, records.last()) {
                (Some(l), Some(last)) if l > 0 && records.len() as u64 == l => {
                    dataflow_sql::stmt::cursor_keys(&e.schema, &spec.order_by)
                        .iter()
                        .map(|(f, _)| {
                            cols.iter().any(|c| c.name == f.name).then(|| last.get(&f.name).cloned()).flatten()
                        })
                        .collect::<Option<Vec<J>>>()
                }
                _ => None,
            };
            let records = records.into_iter().map(J::Object).collect();
            return Ok(std::sync::Arc::new(list_node(spec, records, next_cursor)));
        }
        Ok(with_conn!(self, e, cx, c, ops::list::list(&mut c, &cx, spec).await? => |page: ops::list::Page| {
            let records: Vec<J> = page.rows.into_iter().map(|r| J::Object(row_json(&page.cols, r))).collect();
            let cursor = page.next_cursor.map(|c| c.iter().map(Value::to_json).collect());
            Ok(list_node(spec, records, cursor))
        }))
    }

    /// The first record matching a non-empty filter.
    pub async fn find_one_json(&mut self, model: &str, filter: &J) -> Result<Option<J>> {
        let e = self.db.model(model)?;
        let f = Filter::parse(filter, &e.schema)?;
        if self.cache_off(&e.schema) {
            let r = with_conn!(@direct "FindOne", self, e, cx, c, ops::read::find_one_as(&mut c, &cx, &f, false, &decode::Json).await?);
            return Ok(r.map(J::Object));
        }
        let cols = e.cols.clone();
        let r = with_conn!(self, e, cx, c, ops::read::find_one(&mut c, &cx, &f, false).await? => |r: Option<Vec<Value>>| {
            Ok(r.map(|r| J::Object(row_json(&cols, r))))
        });
        Ok(super::owned(r))
    }

    /// Counts records matching a filter.
    pub async fn count_json(&mut self, model: &str, filter: &J) -> Result<u64> {
        let r = self.run(model, Operation::Count, &json!({"filter": filter})).await?;
        Ok(r["count"].as_u64().unwrap_or_default())
    }

    /// Upsert with node parameters (`where`, `create`, `update`, `conflict_on`).
    pub async fn upsert_json(&mut self, model: &str, params: &J) -> Result<J> {
        self.run(model, Operation::Upsert, params).await
    }

    /// BulkCreate of a list of records.
    pub async fn bulk_create_json(&mut self, model: &str, data: &J) -> Result<J> {
        let e = self.db.model(model)?;
        // The records are read where they are: wrapping them in `{"data": ..}` for `run` would
        // copy every one of them first.
        self.bulk_create_data(&e, Some(data), None, false).await
    }

    /// BulkCreate of `data` (a JSON list of records): the node's work behind both
    /// [`Express::run`] and [`Express::bulk_create_json`]. Each record is checked by
    /// `json_row` (which also refuses a `tenant_id` in the data).
    async fn bulk_create_data(
        &mut self,
        e: &std::sync::Arc<crate::db::registry::ModelEntry>,
        data: Option<&J>,
        batch: Option<usize>,
        return_ids: bool,
    ) -> Result<J> {
        let rows = data_rows(&e.schema, "BulkCreate", data)?;
        let n = rows.len();
        let r = with_conn!(self, e, cx, c, ops::bulk_create::bulk_create(&mut c, &cx, rows, batch, return_ids).await?);
        let mut out = json!({"processed": n, "inserted": r.inserted, "batch_size": batch, "operation": "bulk_create", "success": true});
        if return_ids {
            out["ids"] = J::Array(r.ids.iter().map(Value::to_json).collect());
        }
        Ok(out)
    }

    /// BulkUpdate with node parameters.
    pub async fn bulk_update_json(&mut self, model: &str, params: &J) -> Result<J> {
        self.run(model, Operation::BulkUpdate, params).await
    }

    /// BulkDelete with node parameters.
    pub async fn bulk_delete_json(&mut self, model: &str, params: &J) -> Result<J> {
        self.run(model, Operation::BulkDelete, params).await
    }

    /// BulkUpsert with node parameters.
    pub async fn bulk_upsert_json(&mut self, model: &str, params: &J) -> Result<J> {
        self.run(model, Operation::BulkUpsert, params).await
    }

    /// BulkCreate from an iterator of JSON records, chunk by chunk in one transaction.
    pub async fn bulk_create_json_iter<I, R>(&mut self, model: &str, records: I) -> Result<u64>
    where
        I: IntoIterator<Item = R>,
        R: std::borrow::Borrow<J>,
    {
        let e = self.db.model(model)?;
        let s = e.schema.clone();
        let rows = records.into_iter().map(move |j| json_row(&s, j.borrow()));
        with_conn!(self, e, cx, c, ops::bulk_create::bulk_create_iter(&mut c, &cx, rows, None).await)
    }

    /// BulkCreate from an iterator of rows already typed, chunk by chunk in one transaction
    /// (bounded memory): the dynamic counterpart of the typed `bulk_create_iter`, for callers
    /// that convert their input themselves (`dataflow import` of CSV) and need no JSON on the way.
    ///
    /// A row has one slot per user field, in the order of [`ModelSchema::fields`]; `None` means
    /// "not supplied" (the default, NULL, or a generated `id`), `Some(Value::Null)` an explicit
    /// NULL. Managed columns (`created_at`, `tenant_id`, ...) have no slot: they are filled as on
    /// every write (the tenant from the handle). Each row is checked as BulkCreate checks JSON
    /// records: its length (DF-107), value types (DF-102), nullability and `max_len` (DF-102),
    /// required fields (DF-101); then tenant context, write protection and the audit trail apply
    /// as for [`Express::bulk_create_json_iter`]. Returns how many rows were inserted; on an
    /// error nothing of this call is kept.
    ///
    /// ```no_run
    /// # async fn run(db: dataflow_core::DataFlow) -> dataflow_sql::Result<()> {
    /// use dataflow_sql::Value;
    /// // Model `User`: id (string), name (string), age (i32, nullable).
    /// let rows = (0..3).map(|i| vec![Some(Value::String(format!("u{i}"))), Some(Value::String("N".into())), None]);
    /// let n = db.express().bulk_create_rows("User", rows).await?;
    /// assert_eq!(n, 3);
    /// # Ok(()) }
    /// ```
    pub async fn bulk_create_rows<I>(&mut self, model: &str, rows: I) -> Result<u64>
    where
        I: IntoIterator<Item = Vec<Option<Value>>>,
    {
        let e = self.db.model(model)?;
        let s = e.schema.clone();
        let rows = rows.into_iter().map(move |r| ops::check_row_types(&s, r));
        with_conn!(self, e, cx, c, ops::bulk_create::bulk_create_iter(&mut c, &cx, rows, None).await)
    }

    /// Streams List results as JSON records (bounded memory). On the pool only.
    pub fn list_stream_json(&self, model: &str, params: &J) -> impl Stream<Item = Result<J>> + '_ {
        let prepared = self.db.model(model).and_then(|e| {
            let p = object(&e.schema, "List", params, "{\"filter\": {..}}")?;
            let spec = list_spec(&e.schema, p)?;
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
            let (st, cols) = ops::list::statement(&cx, &spec, false)?;
            self.db.check_open()?;
            Ok((e.schema.clone(), st, cols))
        });
        match prepared {
            Ok((schema, st, cols)) => self
                .stream_pools()
                .fetch_stream_as(st, cols, schema, decode::Json)
                .map(|r| r.map(J::Object))
                .left_stream(),
            Err(err) => futures::stream::once(async move { Err(err) }).right_stream(),
        }
    }
}
