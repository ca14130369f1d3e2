//! `dataflow sql`: the statements an operation runs, per dialect, with its bound values printed
//! as SQL literals. Parameters are validated exactly as the operation validates them (the same
//! DF-1xx errors), and no database is needed.

use dataflow_core::express::dynamic::{json_row, json_set};
use dataflow_sql::filter::Filter;
use dataflow_sql::stmt::{self, OnConflict, Rows, Scope, SelectSpec, Sql};
use dataflow_sql::{Dialect, Error, ErrorCode, ModelSchema, Value};
use sea_query::{Alias, Condition, Expr, ExprTrait};
use serde_json::{Map, Value as J, json};

use crate::args::{DialectArg, OpArg, SqlArgs};
use crate::models_file;
use crate::output::{CliError, json_arg};

/// One statement to show, with a note saying when it runs.
struct Shown {
    note: Option<&'static str>,
    sql: Sql,
}

/// `dataflow sql`.
pub fn sql(a: &SqlArgs) -> Result<String, CliError> {
    let schema =
        models_file::select(models_file::load(&a.models.models)?, a.models.model.as_deref(), &a.models.models)?;
    let mut params = match &a.params {
        Some(p) => json_arg(p, "--params")?,
        None => json!({}),
    };
    if let Some(f) = &a.filter {
        let f = json_arg(f, "--filter")?;
        match params.as_object_mut() {
            Some(o) => {
                o.insert("filter".into(), f);
            }
            None => {
                return Err(crate::output::usage("--params must be a JSON object", "--params '{\"filter\": {..}}'"));
            }
        }
    }
    let dialects = match a.dialect {
        DialectArg::All => Dialect::ALL.to_vec(),
        DialectArg::Postgres => vec![Dialect::Postgres],
        DialectArg::Mysql => vec![Dialect::MySql],
        DialectArg::Sqlite => vec![Dialect::Sqlite],
    };
    let scope = Scope { include_deleted: false, tenant: a.tenant.as_deref(), all_tenants: false };
    if schema.options.multi_tenant && a.tenant.is_none() {
        return Err(CliError::usage(
            Error::new(
                ErrorCode::MISSING_TENANT,
                format!("model `{}` is multi-tenant and no tenant is given", schema.name),
            )
            .model(&schema.name)
            .fix("pass the tenant: --tenant acme"),
        ));
    }
    stmt::scope::check(&schema, scope)?;
    let mut out = String::new();
    for d in dialects {
        schema.validate_for(d)?;
        let shown = render(&schema, d, a.op, &params, scope)?;
        out.push_str(&format!("-- {d}\n"));
        for s in shown {
            if let Some(n) = s.note {
                out.push_str(&format!("-- {n}\n"));
            }
            out.push_str(&s.sql.sql);
            out.push_str(";\n");
            out.push_str(&format!("-- values: {}\n", literals(d, &s.sql.values)));
        }
        out.push('\n');
    }
    Ok(out)
}

/// Bound values as SQL literals: `18`, `'Alice'`, `NULL`, `TRUE`.
fn literals(d: Dialect, values: &sea_query::Values) -> String {
    if values.0.is_empty() {
        return "(none)".into();
    }
    let b = d.backend();
    let mark = if b.numbered_params() { '$' } else { '?' };
    values.0.iter().enumerate().map(|(i, v)| format!("{mark}{}={}", i + 1, b.literal(v))).collect::<Vec<_>>().join(", ")
}

fn object<'j>(schema: &ModelSchema, op: &str, p: &'j J) -> Result<&'j Map<String, J>, CliError> {
    p.as_object().ok_or_else(|| {
        CliError::usage(
            Error::new(ErrorCode::WRONG_SHAPE, format!("{op} parameters must be a JSON object, got {p}"))
                .model(&schema.name),
        )
    })
}

fn check_keys(schema: &ModelSchema, op: &str, p: &Map<String, J>, allowed: &[&str]) -> Result<(), Error> {
    for k in p.keys() {
        if !allowed.contains(&k.as_str()) {
            let mut e = Error::new(ErrorCode::INVALID_PARAMETER, format!("unknown parameter `{k}` for {op}"))
                .model(&schema.name)
                .operator(op)
                .field(k);
            if let Some(c) = dataflow_sql::error::closest(k, allowed.iter().copied()) {
                e = e.fix(format!("did you mean `{c}`?"));
            }
            return Err(e.fix(format!("{op} accepts: {}", allowed.join(", "))));
        }
    }
    Ok(())
}

fn need<'j>(schema: &ModelSchema, op: &str, p: &'j Map<String, J>, key: &str, example: &str) -> Result<&'j J, Error> {
    p.get(key).ok_or_else(|| {
        Error::new(ErrorCode::MISSING_FIELD, format!("{op} needs `{key}`"))
            .model(&schema.name)
            .operator(op)
            .field(key)
            .fix(example.to_owned())
    })
}

fn filter(schema: &ModelSchema, p: &Map<String, J>) -> Result<Filter, Error> {
    Filter::parse(p.get("filter").filter(|f| !f.is_null()).unwrap_or(&json!({})), schema)
}

fn id_value(schema: &ModelSchema, j: &J) -> Result<Value, Error> {
    let f = schema.id_field().ok_or_else(|| schema.unknown_field("id"))?;
    Value::from_json(j, f).map_err(|e| e.or_model(&schema.name))
}

fn id_cond(schema: &ModelSchema, d: Dialect, id: &Value) -> Condition {
    let f =
        schema.id_field().cloned().unwrap_or_else(|| dataflow_sql::FieldDef::new("id", dataflow_sql::FieldType::I64));
    let v = id.to_sea(f.ty, d, schema.options.native_arrays);
    Condition::all().add(Expr::col(Alias::new(f.column())).eq(v))
}

/// A JSON record list → field names and rows (the union of supplied fields; missing = NULL).
fn rows_of(schema: &ModelSchema, records: &[J]) -> Result<(Vec<String>, Vec<Vec<Value>>), Error> {
    let mut parsed = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        parsed.push(json_row(schema, r).map_err(|e| {
            let mut n = Error::new(e.code(), format!("record {i}: {}", e.message())).model(&schema.name);
            for f in e.fixes() {
                n = n.fix(f.clone());
            }
            n
        })?);
    }
    let used: Vec<usize> = (0..schema.fields.len()).filter(|i| parsed.iter().any(|r| r[*i].is_some())).collect();
    let names = used.iter().map(|i| schema.fields[*i].name.clone()).collect();
    let rows =
        parsed.into_iter().map(|r| used.iter().map(|i| r[*i].clone().unwrap_or(Value::Null)).collect()).collect();
    Ok((names, rows))
}

fn set_pairs(set: &[(String, Value)]) -> Vec<(&str, Value)> {
    set.iter().map(|(k, v)| (k.as_str(), v.clone())).collect()
}

fn delete_stmt(schema: &ModelSchema, d: Dialect, cond: Condition, scope: Scope) -> Sql {
    if schema.options.soft_delete {
        stmt::soft_delete(schema, d, Some(cond), scope, chrono::Utc::now())
    } else {
        stmt::delete(schema, d, Some(cond), scope)
    }
}

fn one(sql: Sql) -> Vec<Shown> {
    vec![Shown { note: None, sql }]
}

fn refuse_append_only(schema: &ModelSchema, op: OpArg) -> Result<(), Error> {
    let mutates = matches!(
        op,
        OpArg::Update | OpArg::Delete | OpArg::Upsert | OpArg::BulkUpdate | OpArg::BulkDelete | OpArg::BulkUpsert
    );
    if schema.options.append_only && mutates {
        return Err(Error::new(ErrorCode::APPEND_ONLY, format!("model `{}` is append-only", schema.name))
            .model(&schema.name)
            .fix("append-only models only support Create, Read, List, Count and BulkCreate"));
    }
    Ok(())
}

fn render(schema: &ModelSchema, d: Dialect, op: OpArg, params: &J, scope: Scope) -> Result<Vec<Shown>, CliError> {
    refuse_append_only(schema, op)?;
    let now = chrono::Utc::now();
    let name = format!("{op:?}");
    let p = object(schema, &name, params)?;
    let s = schema;
    Ok(match op {
        OpArg::Create => {
            let (fields, rows) = rows_of(s, std::slice::from_ref(params))?;
            let f: Vec<&str> = fields.iter().map(String::as_str).collect();
            one(stmt::insert(s, d, &Rows { fields: &f, rows: &rows, now }, scope, true))
        }
        OpArg::Read => {
            check_keys(s, "Read", p, &["id", "include_deleted", "raise_on_not_found"])?;
            let id = id_value(s, need(s, "Read", p, "id", "{\"id\": \"u1\"}")?)?;
            let inc = p.get("include_deleted").and_then(J::as_bool).unwrap_or(false);
            one(stmt::select_by_id(s, d, &id, Scope { include_deleted: inc, ..scope }))
        }
        OpArg::Update => {
            let ex = "{\"filter\": {\"id\": \"u1\"}, \"fields\": {\"name\": \"New\"}}";
            if !p.contains_key("filter") || !p.contains_key("fields") {
                let flat: Vec<&str> =
                    p.keys().map(String::as_str).filter(|k| *k != "filter" && *k != "fields").collect();
                return Err(Error::new(
                    ErrorCode::UPDATE_SHAPE,
                    format!("Update needs `filter` and `fields`, got flat keys ({})", flat.join(", ")),
                )
                .model(&s.name)
                .operator("Update")
                .fix(ex)
                .into());
            }
            check_keys(s, "Update", p, &["filter", "fields"])?;
            need(s, "Update", p, "filter", ex)?;
            let f = filter(s, p)?;
            if !f.identifies_one(s) {
                return Err(Error::new(
                    ErrorCode::WRONG_SHAPE,
                    format!(
                        "Update of `{}` needs a filter that identifies one record (`id` or a unique field)",
                        s.name
                    ),
                )
                .model(&s.name)
                .fix(ex)
                .into());
            }
            let set = json_set(s, need(s, "Update", p, "fields", ex)?)?;
            let id_only = [String::from("id")];
            let spec = SelectSpec {
                condition: Some(f.to_condition(s, d)),
                scope,
                limit: Some(1),
                fields: Some(&id_only),
                ..Default::default()
            };
            let upd = stmt::update(s, d, Some(id_cond(s, d, &Value::Null)), scope, &set_pairs(&set), now);
            vec![
                Shown { note: Some("1. find the record"), sql: stmt::select(s, d, &spec) },
                Shown { note: Some("2. update it by the id found (bound as NULL here), then read it back"), sql: upd },
            ]
        }
        OpArg::Delete => {
            check_keys(s, "Delete", p, &["id"])?;
            let id = id_value(s, need(s, "Delete", p, "id", "{\"id\": \"u1\"}")?)?;
            one(delete_stmt(s, d, id_cond(s, d, &id), scope))
        }
        OpArg::List => {
            check_keys(s, "List", p, &["filter", "order_by", "limit", "offset", "include_deleted", "fields"])?;
            let f = filter(s, p)?;
            let order_by = match p.get("order_by") {
                None | Some(J::Null) => Vec::new(),
                Some(o) => stmt::parse_order_by(o, s)?,
            };
            let fields: Option<Vec<String>> = match p.get("fields") {
                Some(J::Array(a)) => Some(a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()),
                _ => None,
            };
            if let Some(fl) = &fields {
                stmt::validate_fields(s, fl)?;
            }
            let num = |k: &str| -> Result<Option<u64>, Error> {
                match p.get(k) {
                    None | Some(J::Null) => Ok(None),
                    Some(j) => j.as_u64().map(Some).ok_or_else(|| {
                        Error::new(
                            ErrorCode::INVALID_PAGINATION,
                            format!("`{k}` must be a non-negative integer, got {j}"),
                        )
                        .model(&s.name)
                        .field(k)
                    }),
                }
            };
            let inc = p.get("include_deleted").and_then(J::as_bool).unwrap_or(false);
            let spec = SelectSpec {
                condition: Some(f.to_condition(s, d)),
                scope: Scope { include_deleted: inc, ..scope },
                order_by: &order_by,
                limit: num("limit")?,
                offset: num("offset")?,
                after: None,
                fields: fields.as_deref(),
                omit_tenant: false,
            };
            one(stmt::select(s, d, &spec))
        }
        OpArg::Count => {
            check_keys(s, "Count", p, &["filter", "include_deleted"])?;
            let f = filter(s, p)?;
            let inc = p.get("include_deleted").and_then(J::as_bool).unwrap_or(false);
            one(stmt::count(s, d, Some(f.to_condition(s, d)), Scope { include_deleted: inc, ..scope }))
        }
        OpArg::Upsert => {
            check_keys(s, "Upsert", p, &["where", "create", "update", "conflict_on"])?;
            let ex = "{\"where\": {\"email\": \"a@x\"}, \"create\": {..}, \"update\": {..}}";
            let w = need(s, "Upsert", p, "where", ex)?.as_object().cloned().unwrap_or_default();
            let mut merged = p.get("create").and_then(J::as_object).cloned().unwrap_or_default();
            merged.extend(w.clone());
            let (fields, rows) = rows_of(s, &[J::Object(merged)])?;
            let f: Vec<&str> = fields.iter().map(String::as_str).collect();
            let set = match p.get("update") {
                None | Some(J::Null) => Vec::new(),
                Some(u) => json_set(s, u)?,
            };
            let keys: Vec<String> = match p.get("conflict_on") {
                Some(J::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
                Some(J::String(k)) => vec![k.clone()],
                _ => w.keys().cloned().collect(),
            };
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            if !s.is_unique_key(&keys) {
                return Err(Error::new(
                    ErrorCode::CONFLICT_TARGET_NOT_UNIQUE,
                    format!("conflict target ({}) is not a unique key of `{}`", keys.join(", "), s.name),
                )
                .model(&s.name)
                .fix("use `id`, a unique field, or a unique index")
                .into());
            }
            let supplied: Vec<&str> = f.iter().copied().filter(|n| *n != "id" && !keys.contains(n)).collect();
            let explicit = p.get("update").filter(|u| !u.is_null()).map(|_| set_pairs(&set));
            let one = stmt::upsert_one(
                s,
                d,
                &Rows { fields: &f, rows: &rows, now },
                scope,
                &keys,
                &supplied,
                explicit.as_deref(),
            );
            let (first, main, after) = match one.created_by {
                stmt::CreatedBy::InsertThenUpdate => {
                    ("1. insert if absent (a row back: created)", "2. nothing back: update the existing record", "")
                }
                stmt::CreatedBy::SessionVariable => (
                    "1. reset the marker variable",
                    "2. upsert (the update branch sets the marker)",
                    "3. read the marker (1: updated), then re-read the record by key",
                ),
                stmt::CreatedBy::AffectedRows => {
                    ("", "upsert in one statement (1 affected row: created, 2: updated), then re-read by key", "")
                }
                stmt::CreatedBy::ReturnedFlag => ("", "upsert in one statement (\"__inserted\": created)", ""),
            };
            let mut out = Vec::new();
            if let Some(sql) = one.first {
                out.push(Shown { note: Some(first), sql });
            }
            out.push(Shown { note: Some(main), sql: one.statement });
            if let Some(sql) = one.after {
                out.push(Shown { note: Some(after), sql });
            }
            out
        }
        OpArg::BulkCreate => {
            check_keys(s, "BulkCreate", p, &["data", "batch_size", "return_ids"])?;
            let data = need(s, "BulkCreate", p, "data", "{\"data\": [{..}, {..}]}")?;
            let items = data.as_array().cloned().unwrap_or_default();
            let (fields, rows) = rows_of(s, &items)?;
            let f: Vec<&str> = fields.iter().map(String::as_str).collect();
            let batch =
                p.get("batch_size").and_then(J::as_u64).map(|b| usize::try_from(b).unwrap_or(usize::MAX).max(1));
            stmt::insert_many(s, d, &Rows { fields: &f, rows: &rows, now }, scope, batch)
                .into_iter()
                .map(|sql| Shown { note: None, sql })
                .collect()
        }
        OpArg::BulkUpdate => {
            check_keys(s, "BulkUpdate", p, &["filter", "fields", "confirmed"])?;
            let f = filter(s, p)?;
            let set = json_set(s, need(s, "BulkUpdate", p, "fields", "{\"filter\": {..}, \"fields\": {..}}")?)?;
            one(stmt::update(s, d, Some(f.to_condition(s, d)), scope, &set_pairs(&set), now))
        }
        OpArg::BulkDelete => {
            check_keys(s, "BulkDelete", p, &["filter", "ids", "confirmed"])?;
            let cond = match p.get("ids") {
                Some(J::Array(ids)) => {
                    let f = s.id_field().ok_or_else(|| s.unknown_field("id"))?;
                    let vals = ids
                        .iter()
                        .map(|j| Value::from_json(j, f).map(|v| v.to_sea(f.ty, d, s.options.native_arrays)))
                        .collect::<Result<Vec<_>, _>>()?;
                    Condition::all().add(Expr::col(Alias::new(f.column())).is_in(vals))
                }
                _ => filter(s, p)?.to_condition(s, d),
            };
            one(delete_stmt(s, d, cond, scope))
        }
        OpArg::BulkUpsert => {
            check_keys(s, "BulkUpsert", p, &["data", "conflict_on", "conflict_resolution", "update_fields"])?;
            let data = need(s, "BulkUpsert", p, "data", "{\"data\": [{..}], \"conflict_on\": [\"id\"]}")?;
            let items = data.as_array().cloned().unwrap_or_default();
            let (fields, rows) = rows_of(s, &items)?;
            let f: Vec<&str> = fields.iter().map(String::as_str).collect();
            let keys: Vec<String> = match p.get("conflict_on") {
                Some(J::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
                Some(J::String(k)) => vec![k.clone()],
                _ => vec!["id".into()],
            };
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            if !s.is_unique_key(&keys) {
                return Err(Error::new(
                    ErrorCode::CONFLICT_TARGET_NOT_UNIQUE,
                    format!("conflict_on ({}) is not a unique key of `{}`", keys.join(", "), s.name),
                )
                .model(&s.name)
                .fix("use `id`, a unique field, or a unique index")
                .into());
            }
            let skip = matches!(p.get("conflict_resolution").and_then(J::as_str), Some("skip" | "ignore"));
            let uf: Option<Vec<&str>> = match p.get("update_fields") {
                Some(J::Array(a)) => Some(a.iter().filter_map(J::as_str).collect()),
                _ => None,
            };
            let on = if skip { OnConflict::Skip } else { OnConflict::Update(uf.as_deref()) };
            stmt::upsert(s, d, &Rows { fields: &f, rows: &rows, now }, scope, &keys, on, d == Dialect::Postgres)
                .into_iter()
                .map(|sql| Shown { note: None, sql })
                .collect()
        }
    })
}
