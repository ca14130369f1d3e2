//! Layer 1: node parameters — shape (Create flat, Update `filter` + `fields`), unknown keys
//! with "did you mean", value types against the model's fields, filters and orderings parsed
//! against the schema, required inputs either set or supplied by a connection or template.
//!
//! Values that contain `${...}` templates are checked when they resolve, at run time, by the
//! same operation code every other call goes through.

use dataflow_sql::filter::Filter;
use dataflow_sql::{Error, ErrorCode, FieldDef, FieldType, ModelSchema, Operation, Value};
use serde_json::{Map, Value as J, json};

use crate::contract::{self, ParamKind};
use crate::workflow::catalog::NodeInfo;
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
    if info.schema.options.append_only && info.op.mutates_existing() {
        let e = Error::new(
            ErrorCode::APPEND_ONLY,
            format!("node `{}` is a {} on the append-only model `{}`", node.id, cx.type_name(), info.schema.name),
        )
        .operator(info.op.name())
        .fix("append-only models only support Create, Read, List, Count and BulkCreate nodes")
        .fix("remove `append_only` from the model if records must change");
        cx.push(e);
        return;
    }
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
    for (k, v) in obj {
        let Some(def) = contract::param(op, k) else {
            let e = contract::unknown(op, &cx.type_name(), k);
            cx.push(e);
            continue;
        };
        // Values holding templates are checked once resolved (by the same contract); inside
        // records and id lists, the template-free parts are checked now.
        if has_templates(v) && !matches!(def.kind, ParamKind::Fields | ParamKind::Records | ParamKind::Ids) {
            continue;
        }
        if has_templates(v) && !(v.is_object() || v.is_array()) {
            continue;
        }
        for e in contract::check_value(s, op, def, v, &has_templates) {
            cx.push(e);
        }
    }
    if let Some(e) = contract::missing(op, &|n| cx.has(obj, n)) {
        let field = e.context().field.clone().unwrap_or_default();
        let msg = format!(
            "parameter `{field}` of node `{}` ({}) is required and is neither set nor supplied by a connection: {}",
            cx.node.id,
            cx.type_name(),
            e.message()
        );
        let mut x = Error::new(ErrorCode::MISSING_FIELD, msg).field(&field);
        for f in e.fixes() {
            x = x.fix(f.clone());
        }
        cx.push(x.fix(format!(
            "or connect an earlier node's output: `add_connection(\"<node>\", \"<output>\", \"{}\", \"{field}\")`",
            cx.node.id
        )));
    }
    if op == Operation::Update
        && let Some(f) = static_filter(cx, obj)
        && !f.identifies_one(s)
    {
        let e =
            Error::new(ErrorCode::INVALID_FILTER, format!("the filter of {} must identify one record", cx.type_name()))
                .field("filter")
                .fix("filter by `id` or a unique field: {\"filter\": {\"id\": ..}}")
                .fix("use a BulkUpdate node to change several records");
        cx.push(e);
    }
    if matches!(op, Operation::BulkUpdate | Operation::BulkDelete) && obj.get("confirmed") != Some(&J::Bool(true)) {
        if let Some(f) = static_filter(cx, obj)
            && f.matches_everything()
        {
            let e = Error::new(
                ErrorCode::UNCONFIRMED_DESTRUCTIVE,
                format!("{} with a filter that matches every record needs \"confirmed\": true", cx.type_name()),
            )
            .field("filter")
            .fix("narrow the filter, or add \"confirmed\": true if you really mean every record");
            cx.push(e);
        } else if let Some(at) = unsafe_dynamic_filter(cx, obj) {
            let e = Error::new(
                ErrorCode::UNCONFIRMED_DESTRUCTIVE,
                format!(
                    "{} takes `{at}` of its filter from another node at run time, so the filter could match every record; it needs \"confirmed\": true",
                    cx.type_name()
                ),
            )
            .field(at)
            .fix("only a value compared by equality or `$in` (`{\"id\": \"${list.records.0.id}\"}`) may come from another node without confirmation")
            .fix("add \"confirmed\": true if the node may change every record");
            cx.push(e);
        }
    }
}

/// A filter position filled at run time (template or connection) that could make a destructive
/// filter match everything: anything but a field's equality value or an `$in` list (element).
fn unsafe_dynamic_filter(cx: &Cx<'_>, obj: &Map<String, J>) -> Option<String> {
    let mut dynamic: Vec<String> =
        cx.supplied.iter().filter(|p| *p == &"filter" || p.starts_with("filter.")).map(|p| (*p).to_owned()).collect();
    if let Some(f) = obj.get("filter")
        && let Ok(refs) = crate::workflow::template::references(&cx.node.id, f)
    {
        dynamic.extend(
            refs.into_iter()
                .map(|r| if r.param.is_empty() { "filter".to_owned() } else { format!("filter.{}", r.param) }),
        );
    }
    dynamic.into_iter().find(|p| !safe_filter_path(cx.schema, p))
}

fn safe_filter_path(schema: &ModelSchema, path: &str) -> bool {
    let mut segs: Vec<&str> = path.split('.').skip(1).collect();
    // `$and.N.` prefixes keep the meaning of what is inside.
    while segs.len() > 2 && segs[0] == "$and" && segs[1].parse::<usize>().is_ok() {
        segs.drain(..2);
    }
    match segs.as_slice() {
        [field] | [field, "$eq"] | [field, "$in"] => schema.any_field(field).is_some(),
        [field, "$in", n] => schema.any_field(field).is_some() && n.parse::<usize>().is_ok(),
        _ => false,
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
