//! Layer 1: node parameters — shape (Create flat, Update `filter` + `fields`), unknown keys
//! with "did you mean", value types against the model's fields, filters and orderings parsed
//! against the schema, required inputs either set or supplied by a connection or template.
//!
//! Values that contain `${...}` templates are checked when they resolve, at run time, by the
//! same operation code every other call goes through.

use dataflow_sql::error::closest;
use dataflow_sql::filter::Filter;
use dataflow_sql::{Error, ErrorCode, FieldDef, FieldType, ModelSchema, Operation, Value};
use serde_json::{Map, Value as J, json};

use crate::workflow::catalog::NodeInfo;
use crate::workflow::shape::{self, ParamKind};
use crate::workflow::spec::NodeSpec;
use crate::workflow::template::has_templates;

struct Cx<'a> {
    node: &'a NodeSpec,
    schema: &'a ModelSchema,
    op: Operation,
    supplied: &'a [&'a str],
    errors: &'a mut Vec<Error>,
}

impl Cx<'_> {
    fn push(&mut self, e: Error) {
        let e = e.or_node(&self.node.id).or_model(&self.schema.name);
        self.errors.push(e);
    }

    fn type_name(&self) -> String {
        self.op.node_type_name(&self.schema.name)
    }

    /// Set statically or supplied by a connection / template.
    fn has(&self, obj: &Map<String, J>, name: &str) -> bool {
        obj.contains_key(name) || self.supplied.iter().any(|s| *s == name || s.starts_with(&format!("{name}.")))
    }

    fn missing(&mut self, name: &str, what: &str) {
        let msg = format!(
            "parameter `{name}` of node `{}` ({}) is required and is neither set nor supplied by a connection",
            self.node.id,
            self.type_name()
        );
        let e = Error::new(ErrorCode::MISSING_FIELD, msg).field(name).fix(format!(
            "set it in the params ({what}) or connect an earlier node's output: `add_connection(\"<node>\", \"<output>\", \"{}\", \"{name}\")`",
            self.node.id
        ));
        self.push(e);
    }
}

fn is_managed(schema: &ModelSchema, key: &str) -> bool {
    schema.managed_fields().iter().any(|m| m.column() == key)
}

/// An example JSON value for a field (for messages).
pub(crate) fn example(f: &FieldDef) -> J {
    match f.ty {
        FieldType::String => json!("..."),
        FieldType::I32 | FieldType::I64 => json!(1),
        FieldType::F64 => json!(1.5),
        FieldType::Bool => json!(true),
        FieldType::DateTime => json!("2024-01-31T12:00:00Z"),
        FieldType::Date => json!("2024-01-31"),
        FieldType::Uuid => json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
        FieldType::Decimal => json!("12.50"),
        FieldType::Json => json!({}),
        FieldType::Array(_) => json!([]),
        FieldType::Bytes => json!([0, 1]),
    }
}

/// Checks one node's parameters against its operation and model.
pub(super) fn check_node(node: &NodeSpec, info: &NodeInfo, supplied: &[&str], errors: &mut Vec<Error>) {
    let mut cx = Cx { node, schema: &info.schema, op: info.op, supplied, errors };
    let Some(obj) = node.params.as_object() else {
        let e = Error::new(
            ErrorCode::INVALID_NODE_PARAMS,
            format!("the params of node `{}` must be a JSON object, got {}", node.id, node.params),
        )
        .fix("pass an object, e.g. {\"id\": \"u1\"}");
        cx.push(e);
        return;
    };
    match info.op {
        Operation::Create => create(&mut cx, obj),
        op => {
            if op == Operation::Update && update_shape(&mut cx, obj) {
                return;
            }
            generic(&mut cx, obj);
        }
    }
}

fn create(cx: &mut Cx<'_>, obj: &Map<String, J>) {
    let s = cx.schema;
    let wrapped: Vec<&str> = ["filter", "fields", "data", "record", "where"]
        .into_iter()
        .filter(|k| obj.contains_key(*k) && s.field(k).is_none())
        .collect();
    if !wrapped.is_empty() {
        let ex: Map<String, J> =
            s.fields.iter().filter(|f| f.required_on_create()).map(|f| (f.name.clone(), example(f))).collect();
        let e = Error::new(
            ErrorCode::WRONG_SHAPE,
            format!(
                "{} takes the record's fields flat, not `{}`: write {}",
                cx.type_name(),
                wrapped.join("`/`"),
                J::Object(ex)
            ),
        )
        .field(wrapped[0])
        .fix("pass the fields directly: add_node(\"UserCreateNode\", \"create\", json!({\"id\": \"u1\", \"name\": \"Alice\"}))");
        cx.push(e);
        return;
    }
    record_fields(cx, obj, "");
    for f in &s.fields {
        if f.required_on_create() && !cx.has(obj, &f.name) {
            let what = format!("{} field, e.g. \"{}\": {}", f.ty.rust_name(), f.name, example(f));
            cx.missing(&f.name.clone(), &what);
        }
    }
}

/// Checks the keys and values of a record-like object (`fields`, `where`, a `data` row).
fn record_fields(cx: &mut Cx<'_>, obj: &Map<String, J>, prefix: &str) {
    let s = cx.schema;
    for (k, v) in obj {
        if is_managed(s, k) {
            tracing::warn!(target: "dataflow::workflow", node = %cx.node.id, field = %k, "managed field in params is ignored");
            continue;
        }
        let Some(f) = s.field(k) else {
            let e = s.unknown_field(k);
            let e = if prefix.is_empty() { e } else { e.field(format!("{prefix}{k}")) };
            cx.push(e);
            continue;
        };
        if !has_templates(v)
            && let Err(e) = Value::from_json(v, f)
        {
            cx.push(if prefix.is_empty() { e } else { e.field(format!("{prefix}{k}")) });
        }
    }
}

/// DF-902 for a flat-fields Update, with the correct shape. Returns true when reported.
fn update_shape(cx: &mut Cx<'_>, obj: &Map<String, J>) -> bool {
    let s = cx.schema;
    let flat: Vec<&String> = obj.keys().filter(|k| *k != "filter" && *k != "fields" && s.field(k).is_some()).collect();
    if flat.is_empty() {
        return false;
    }
    let id = obj.get("id").cloned().unwrap_or_else(|| s.id_field().map_or(json!("..."), example));
    let fields: Map<String, J> =
        obj.iter().filter(|(k, _)| *k != "id" && s.field(k).is_some()).map(|(k, v)| (k.clone(), v.clone())).collect();
    let correct = json!({"filter": {"id": id}, "fields": fields});
    let keys: Vec<&str> = flat.iter().map(|k| k.as_str()).collect();
    let e = Error::new(
        ErrorCode::UPDATE_SHAPE,
        format!(
            "{} takes `filter` and `fields`, not flat fields ({}); write {correct}",
            cx.type_name(),
            keys.join(", ")
        ),
    )
    .field(keys[0])
    .fix(format!("params: {correct}"))
    .fix("`filter` must identify one record ({\"id\": ..} or a unique field); use BulkUpdate to change many");
    cx.push(e);
    true
}

fn generic(cx: &mut Cx<'_>, obj: &Map<String, J>) {
    let s = cx.schema;
    let op = cx.op;
    let declared = shape::params(op);
    for (k, v) in obj {
        let Some((_, kind)) = declared.iter().find(|(n, _)| n == k) else {
            let names: Vec<&str> = declared.iter().map(|(n, _)| *n).collect();
            let mut e =
                Error::new(ErrorCode::UNKNOWN_FIELD, format!("{} has no parameter `{k}`", cx.type_name())).field(k);
            if let Some(c) = closest(k, names.iter().copied()) {
                e = e.fix(format!("did you mean `{c}`?"));
            }
            cx.push(e.fix(format!("parameters of {}: {}", cx.type_name(), names.join(", "))));
            continue;
        };
        if has_templates(v) && !matches!(kind, ParamKind::Fields | ParamKind::Records) {
            continue;
        }
        value(cx, k, *kind, v);
    }
    let need = |cx: &Cx<'_>, n: &str| cx.has(obj, n);
    match op {
        Operation::Read | Operation::Delete if !need(cx, "id") => {
            cx.missing("id", &format!("the record's id, e.g. \"id\": {}", s.id_field().map_or(json!("..."), example)));
        }
        Operation::Update => {
            for p in ["filter", "fields"] {
                if !need(cx, p) {
                    cx.missing(p, "e.g. {\"filter\": {\"id\": ..}, \"fields\": {..}}");
                }
            }
            if let Some(f) = static_filter(cx, obj)
                && !f.identifies_one(s)
            {
                {
                    let e = Error::new(
                        ErrorCode::INVALID_FILTER,
                        format!("the filter of {} must identify one record", cx.type_name()),
                    )
                    .field("filter")
                    .fix("filter by `id` or a unique field: {\"filter\": {\"id\": ..}}")
                    .fix("use a BulkUpdate node to change several records");
                    cx.push(e);
                }
            }
        }
        Operation::Upsert if !need(cx, "where") => cx.missing("where", "e.g. {\"where\": {\"email\": \"a@x.org\"}}"),
        Operation::BulkCreate | Operation::BulkUpsert if !need(cx, "data") => {
            cx.missing("data", "a list of records, e.g. {\"data\": [{..}, {..}]}");
        }
        Operation::BulkUpdate if !(need(cx, "data") || (need(cx, "filter") && need(cx, "fields"))) => {
            cx.missing("filter", "`filter` + `fields`, or `data` (records with `id`)");
        }
        Operation::BulkDelete if !need(cx, "filter") && !need(cx, "ids") => {
            cx.missing("filter", "`filter` or `ids`");
        }
        _ => {}
    }
    if matches!(op, Operation::BulkUpdate | Operation::BulkDelete)
        && obj.get("confirmed") != Some(&J::Bool(true))
        && let Some(f) = static_filter(cx, obj)
        && f.matches_everything()
    {
        {
            {
                let e = Error::new(
                    ErrorCode::UNCONFIRMED_DESTRUCTIVE,
                    format!("{} with a filter that matches every record needs \"confirmed\": true", cx.type_name()),
                )
                .field("filter")
                .fix("narrow the filter, or add \"confirmed\": true if you really mean every record");
                cx.push(e);
            }
        }
    }
}

/// The statically known filter (parsed), if there is one without templates and it is valid.
fn static_filter(cx: &Cx<'_>, obj: &Map<String, J>) -> Option<Filter> {
    let f = obj.get("filter")?;
    if has_templates(f) || cx.supplied.iter().any(|s| s.starts_with("filter.")) {
        return None;
    }
    Filter::parse(f, cx.schema).ok()
}

fn value(cx: &mut Cx<'_>, k: &str, kind: ParamKind, v: &J) {
    let s = cx.schema;
    let bad = |expected: &str| {
        Error::new(ErrorCode::INVALID_PARAMETER, format!("parameter `{k}` expects {expected}, got {v}"))
            .field(k)
            .fix(format!("pass {expected} for `{k}`"))
    };
    match kind {
        ParamKind::Id => {
            if let Some(f) = s.id_field()
                && let Err(e) = Value::from_json(v, f)
            {
                cx.push(e);
            }
        }
        ParamKind::Bool if !v.is_boolean() => cx.push(bad("true or false")),
        ParamKind::Count => {
            let ok = v.as_u64().is_some_and(|n| k != "batch_size" || n > 0);
            if !ok {
                cx.push(bad(if k == "batch_size" { "a positive integer" } else { "a non-negative integer" }));
            }
        }
        ParamKind::Choice(set) if !v.as_str().is_some_and(|x| set.contains(&x)) => {
            let list: Vec<String> = set.iter().map(|x| format!("\"{x}\"")).collect();
            cx.push(bad(&format!("one of {}", list.join(", "))));
        }
        ParamKind::FieldNames => {
            let names: Option<Vec<&str>> = match v {
                J::Array(a) => a.iter().map(J::as_str).collect(),
                J::String(x) if k != "conflict_on" => Some(vec![x.as_str()]),
                _ => None,
            };
            let Some(names) = names else { return cx.push(bad("a list of field names")) };
            for n in &names {
                if s.any_field(n).is_none() {
                    cx.push(s.unknown_field(n));
                }
            }
            if k == "conflict_on" && names.iter().all(|n| s.field(n).is_some()) && !s.is_unique_key(&names) {
                let e = Error::new(
                    ErrorCode::CONFLICT_TARGET_NOT_UNIQUE,
                    format!("conflict target ({}) of model `{}` is not a unique key", names.join(", "), s.name),
                )
                .field(k)
                .fix("use `id`, a `#[dataflow(unique)]` field or a unique index as `conflict_on`");
                cx.push(e);
            }
        }
        ParamKind::Filter => {
            if let Err(e) = Filter::parse(v, s) {
                cx.push(e);
            }
        }
        ParamKind::OrderBy => {
            if let Err(e) = dataflow_sql::stmt::parse_order_by(v, s) {
                cx.push(e);
            }
        }
        ParamKind::Fields => match v {
            J::Object(m) if k == "fields" && m.keys().any(|x| x.starts_with('$')) => {
                crate::workflow::validate::changes::check(cx.schema, v, &mut |e| cx.push(e));
            }
            J::Object(m) => record_fields(cx, m, &format!("{k}.")),
            _ if has_templates(v) => {}
            _ => cx.push(bad("an object of field values")),
        },
        ParamKind::Records => match v {
            J::Array(rows) => {
                let full = matches!(cx.op, Operation::BulkCreate | Operation::BulkUpsert);
                for (i, row) in rows.iter().enumerate() {
                    let Some(m) = row.as_object() else {
                        if !has_templates(row) {
                            cx.push(bad("a list of objects (records)").field(format!("{k}.{i}")));
                        }
                        continue;
                    };
                    record_fields(cx, m, &format!("{k}.{i}."));
                    let required: Vec<&FieldDef> = if full {
                        s.fields.iter().filter(|f| f.required_on_create() && !m.contains_key(&f.name)).collect()
                    } else {
                        s.fields.iter().filter(|f| f.name == "id" && !m.contains_key("id")).collect()
                    };
                    for f in required {
                        let e = Error::new(
                            ErrorCode::MISSING_FIELD,
                            format!("record {i} of `{k}` has no `{}`, which is required", f.name),
                        )
                        .field(format!("{k}.{i}.{}", f.name))
                        .fix(format!("add \"{}\": {} to every record", f.name, example(f)));
                        cx.push(e);
                    }
                }
            }
            _ if has_templates(v) => {}
            _ => cx.push(bad("a list of records")),
        },
        ParamKind::Ids => match (v, s.id_field()) {
            (J::Array(ids), Some(f)) => {
                for id in ids {
                    if let Err(e) = Value::from_json(id, f) {
                        cx.push(e.field(k));
                    }
                }
            }
            _ => cx.push(bad("a list of ids")),
        },
        ParamKind::Bool | ParamKind::Choice(_) | ParamKind::Cursor => {}
    }
}
