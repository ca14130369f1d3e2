//! The parameter contract: ONE definition per operation of the parameters it takes (names,
//! kinds, which are required, defaults), used by every entry point so they cannot drift:
//!
//! - the dynamic Express API ([`crate::Express::run`]) checks a call with [`check`] before it
//!   parses anything;
//! - workflow validation checks node parameters with [`check_value`] / [`missing`] (values that
//!   hold `${...}` templates are checked once resolved, by the dynamic API);
//! - the connection checker derives the accepted shapes from [`params`] (`workflow::shape`);
//! - the Inspector and the CLI list them, and `docs/guide/parameters.md` is generated from
//!   [`reference_markdown`] (a test fails when the file is out of date).
//!
//! Create is the exception: it takes the record's fields flat, so its "parameters" are the
//! model's fields.

use dataflow_sql::filter::Filter;
use dataflow_sql::{Error, ErrorCode, FieldDef, ModelSchema, Operation, Value};
use serde_json::{Map, Value as J};

/// What kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// The model's `id`.
    Id,
    /// A boolean flag.
    Bool,
    /// A non-negative integer.
    Count,
    /// A positive integer (a batch size).
    Positive,
    /// A string from a fixed set (`conflict_resolution`).
    Choice(&'static [&'static str]),
    /// A list of field names (a single name is accepted too).
    FieldNames,
    /// A Mongo-style filter.
    Filter,
    /// Record fields (`fields`, `where`, `create`, `update`).
    Fields,
    /// A list of records (`data`).
    Records,
    /// A list of ids.
    Ids,
    /// An ordering (`["-created_at", "name"]`).
    OrderBy,
    /// A keyset cursor (the `next_cursor` of the previous page).
    Cursor,
}

impl ParamKind {
    /// How the kind is written in messages and in the parameter reference.
    pub fn describe(self) -> String {
        match self {
            ParamKind::Id => "the record's id".into(),
            ParamKind::Bool => "`true` or `false`".into(),
            ParamKind::Count => "a non-negative integer".into(),
            ParamKind::Positive => "a positive integer".into(),
            ParamKind::Choice(set) => {
                let list: Vec<String> = set.iter().map(|x| format!("\"{x}\"")).collect();
                format!("one of {}", list.join(", "))
            }
            ParamKind::FieldNames => "a list of field names".into(),
            ParamKind::Filter => "a filter object".into(),
            ParamKind::Fields => "an object of field values".into(),
            ParamKind::Records => "a list of records".into(),
            ParamKind::Ids => "a list of ids".into(),
            ParamKind::OrderBy => "a list of field names, `-` for descending".into(),
            ParamKind::Cursor => "the `next_cursor` array of the previous page".into(),
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDef {
    /// The parameter name.
    pub name: &'static str,
    /// What it takes.
    pub kind: ParamKind,
    /// What applies when it is not given (`None`: nothing, the parameter is required or unset).
    pub default: Option<&'static str>,
    /// One line for the reference.
    pub doc: &'static str,
}

const fn p(name: &'static str, kind: ParamKind, default: Option<&'static str>, doc: &'static str) -> ParamDef {
    ParamDef { name, kind, default, doc }
}

/// The parameters an operation takes (empty for Create, which takes the record's fields flat).
pub fn params(op: Operation) -> &'static [ParamDef] {
    use ParamKind as K;
    const READ: &[ParamDef] = &[
        p("id", K::Id, None, "the id of the record to read"),
        p("include_deleted", K::Bool, Some("false"), "also find soft-deleted records"),
        p("raise_on_not_found", K::Bool, Some("true"), "DF-703 when missing; `false` returns `{\"found\": false}`"),
    ];
    const UPDATE: &[ParamDef] = &[
        p("filter", K::Filter, None, "identifies ONE record: `{\"id\": ..}` or a unique field"),
        p("fields", K::Fields, None, "the fields to set"),
    ];
    const DELETE: &[ParamDef] = &[p("id", K::Id, None, "the id of the record to delete")];
    const LIST: &[ParamDef] = &[
        p("filter", K::Filter, Some("{}"), "which records"),
        p("order_by", K::OrderBy, Some("[]"), "sort keys, e.g. `[\"-created_at\", \"name\"]`"),
        p("limit", K::Count, None, "at most this many records"),
        p("offset", K::Count, Some("0"), "skip this many records"),
        p("after", K::Cursor, None, "keyset paging: the `next_cursor` of the previous page"),
        p("include_deleted", K::Bool, Some("false"), "also list soft-deleted records"),
        p("fields", K::FieldNames, None, "projection: return only these fields"),
    ];
    const COUNT: &[ParamDef] = &[
        p("filter", K::Filter, Some("{}"), "which records"),
        p("include_deleted", K::Bool, Some("false"), "also count soft-deleted records"),
    ];
    const UPSERT: &[ParamDef] = &[
        p("where", K::Fields, None, "the key fields that identify the record"),
        p("create", K::Fields, Some("{}"), "fields for a new record (with `where`)"),
        p("update", K::Fields, None, "fields to set on an existing record (default: the create fields)"),
        p("conflict_on", K::FieldNames, Some("the keys of `where`"), "a unique key or the primary key"),
    ];
    const BULK_CREATE: &[ParamDef] = &[
        p("data", K::Records, None, "the records to insert"),
        p("batch_size", K::Positive, Some("below the backend's bind limit"), "rows per INSERT statement"),
        p("return_ids", K::Bool, Some("false"), "return the inserted ids as `ids`"),
    ];
    const BULK_UPDATE: &[ParamDef] = &[
        p("filter", K::Filter, None, "which records (with `fields`); an empty filter needs `confirmed`"),
        p("fields", K::Fields, None, "the fields to set on every matching record"),
        p("data", K::Records, None, "alternatively: records with `id`, each updated with its own fields"),
        p("confirmed", K::Bool, Some("false"), "required for a filter that matches every record"),
    ];
    const BULK_DELETE: &[ParamDef] = &[
        p("filter", K::Filter, None, "which records; an empty filter needs `confirmed`"),
        p("ids", K::Ids, None, "alternatively: the ids to delete"),
        p("confirmed", K::Bool, Some("false"), "required for a filter that matches every record"),
    ];
    const BULK_UPSERT: &[ParamDef] = &[
        p("data", K::Records, None, "the records to insert or update"),
        p("conflict_on", K::FieldNames, Some("[\"id\"]"), "a unique key or the primary key"),
        p(
            "conflict_resolution",
            K::Choice(&["update", "skip"]),
            Some("\"update\""),
            "on a conflict: update the existing record, or skip the new one",
        ),
        p("update_fields", K::FieldNames, Some("every field in the record"), "the fields updated on a conflict"),
    ];
    match op {
        Operation::Create => &[],
        Operation::Read => READ,
        Operation::Update => UPDATE,
        Operation::Delete => DELETE,
        Operation::List => LIST,
        Operation::Count => COUNT,
        Operation::Upsert => UPSERT,
        Operation::BulkCreate => BULK_CREATE,
        Operation::BulkUpdate => BULK_UPDATE,
        Operation::BulkDelete => BULK_DELETE,
        Operation::BulkUpsert => BULK_UPSERT,
    }
}

/// The parameter of an operation with this name.
pub fn param(op: Operation, name: &str) -> Option<&'static ParamDef> {
    params(op).iter().find(|d| d.name == name)
}

/// Which parameters must be given: the call must contain every parameter of at least one of
/// the alternatives (no alternatives: nothing is required).
pub fn required(op: Operation) -> &'static [&'static [&'static str]] {
    match op {
        Operation::Create | Operation::List | Operation::Count => &[],
        Operation::Read | Operation::Delete => &[&["id"]],
        Operation::Update => &[&["filter", "fields"]],
        Operation::Upsert => &[&["where"]],
        Operation::BulkCreate | Operation::BulkUpsert => &[&["data"]],
        Operation::BulkUpdate => &[&["filter", "fields"], &["data"]],
        Operation::BulkDelete => &[&["filter"], &["ids"]],
    }
}

/// DF-101 when none of the required alternatives is complete; `has` says whether a parameter
/// is given (statically, or, in a workflow, by a connection or template).
pub fn missing(op: Operation, has: &dyn Fn(&str) -> bool) -> Option<Error> {
    let alts = required(op);
    if alts.is_empty() || alts.iter().any(|alt| alt.iter().all(|n| has(n))) {
        return None;
    }
    let first = alts[0].iter().find(|n| !has(n)).copied().unwrap_or(alts[0][0]);
    let options: Vec<String> =
        alts.iter().map(|a| a.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" + ")).collect();
    Some(
        Error::new(ErrorCode::MISSING_FIELD, format!("{} needs {}", op.name(), options.join(", or ")))
            .operator(op.name())
            .field(first)
            .fix(format!("pass {}", options.join(" or "))),
    )
}

/// DF-103 for a parameter the operation does not take, with "did you mean"; `what` names the
/// operation or node type in the message.
pub fn unknown(op: Operation, what: &str, key: &str) -> Error {
    let names: Vec<&str> = params(op).iter().map(|d| d.name).collect();
    let mut e =
        Error::new(ErrorCode::UNKNOWN_FIELD, format!("{what} has no parameter `{key}`")).operator(op.name()).field(key);
    if let Some(c) = dataflow_sql::error::closest(key, names.iter().copied()) {
        e = e.fix(format!("did you mean `{c}`?"));
    }
    e.fix(format!("{} takes: {}", op.name(), names.join(", ")))
}

fn is_managed(schema: &ModelSchema, key: &str) -> bool {
    schema.field(key).is_none() && schema.managed_fields().iter().any(|m| m.column() == key)
}

/// Checks a record-like object (`fields`, `where`, one `data` row): known fields, valid values.
/// Managed columns (`created_at`, ...) are accepted and ignored. `skip` says which values are
/// not checked (templates, in a workflow).
pub fn check_record(schema: &ModelSchema, obj: &Map<String, J>, at: &str, skip: &dyn Fn(&J) -> bool) -> Vec<Error> {
    let mut errors = Vec::new();
    for (k, v) in obj {
        if is_managed(schema, k) {
            continue;
        }
        let Some(f) = schema.field(k) else {
            let e = schema.unknown_field(k);
            errors.push(if at.is_empty() { e } else { e.field(format!("{at}{k}")) });
            continue;
        };
        if !skip(v)
            && let Err(e) = Value::from_json(v, f)
        {
            errors.push(if at.is_empty() { e } else { e.field(format!("{at}{k}")) });
        }
    }
    errors
}

/// The same error, its message prefixed with the record's index in a list.
pub(crate) fn in_record(e: Error, i: usize) -> Error {
    let mut n = Error::new(e.code(), format!("record {i}: {}", e.message()));
    let c = e.context().clone();
    if let Some(m) = c.model {
        n = n.model(m);
    }
    if let Some(f) = c.field {
        n = n.field(f);
    }
    for f in e.fixes() {
        n = n.fix(f.clone());
    }
    n
}

fn example(f: &FieldDef) -> String {
    crate::workflow::example_value(f).to_string()
}

/// Checks one parameter value against its definition (no templates inside). Null counts as
/// "not given" for parameters that have no required role.
pub fn check_value(
    schema: &ModelSchema,
    op: Operation,
    def: &ParamDef,
    v: &J,
    skip: &dyn Fn(&J) -> bool,
) -> Vec<Error> {
    let k = def.name;
    let code = match (def.kind, k) {
        (ParamKind::Count | ParamKind::Cursor | ParamKind::OrderBy, _) => ErrorCode::INVALID_PAGINATION,
        _ => ErrorCode::INVALID_PARAMETER,
    };
    let bad = |why: String| {
        vec![
            Error::new(code, format!("parameter `{k}` expects {}, got {why}", def.kind.describe()))
                .model(&schema.name)
                .operator(op.name())
                .field(k)
                .fix(format!("pass {} for `{k}`", def.kind.describe())),
        ]
    };
    let is_required = required(op).iter().any(|alt| alt.contains(&k));
    if v.is_null() && !is_required {
        return Vec::new();
    }
    match def.kind {
        ParamKind::Id => match schema.id_field() {
            Some(f) => Value::from_json(v, f).err().into_iter().collect(),
            None => vec![schema.unknown_field("id")],
        },
        ParamKind::Bool if !v.is_boolean() => bad(v.to_string()),
        ParamKind::Count if v.as_u64().is_none() => bad(v.to_string()),
        ParamKind::Positive if v.as_u64().is_none_or(|n| n == 0) => bad(v.to_string()),
        ParamKind::Choice(set) if !v.as_str().is_some_and(|x| set.contains(&x)) => bad(v.to_string()),
        ParamKind::FieldNames => {
            let names: Option<Vec<&str>> = match v {
                J::Array(a) => a.iter().map(J::as_str).collect(),
                J::String(x) => Some(vec![x.as_str()]),
                _ => None,
            };
            let Some(names) = names else { return bad(v.to_string()) };
            let mut errors: Vec<Error> = names
                .iter()
                .filter(|n| schema.any_field(n).is_none())
                .map(|n| schema.unknown_field(n).field(k))
                .collect();
            if k == "conflict_on" && errors.is_empty() && !schema.is_unique_key(&names) {
                errors.push(
                    Error::new(
                        ErrorCode::CONFLICT_TARGET_NOT_UNIQUE,
                        format!(
                            "conflict target ({}) of model `{}` is not a unique key",
                            names.join(", "),
                            schema.name
                        ),
                    )
                    .model(&schema.name)
                    .field(k)
                    .fix("use `id`, a `#[dataflow(unique)]` field or a unique index as `conflict_on`"),
                );
            }
            errors
        }
        ParamKind::Filter => Filter::parse(v, schema).err().into_iter().collect(),
        ParamKind::OrderBy => dataflow_sql::stmt::parse_order_by(v, schema).err().into_iter().collect(),
        ParamKind::Cursor if !v.is_array() => bad(v.to_string()),
        ParamKind::Fields => match v {
            // Update operators (`{"$inc": {"n": 1}}`): the same parser the operation uses.
            J::Object(m)
                if k == "fields"
                    && matches!(op, Operation::Update | Operation::BulkUpdate)
                    && m.keys().any(|x| x.starts_with('$')) =>
            {
                let mut errors = Vec::new();
                crate::workflow::validate::changes::check(schema, v, &mut |e| errors.push(e));
                errors
            }
            J::Object(m) => check_record(schema, m, &format!("{k}."), skip),
            _ => bad(v.to_string()),
        },
        ParamKind::Records => {
            let J::Array(rows) = v else { return bad(v.to_string()) };
            let full = matches!(op, Operation::BulkCreate | Operation::BulkUpsert);
            let mut errors = Vec::new();
            for (i, row) in rows.iter().enumerate() {
                let Some(m) = row.as_object() else {
                    if !skip(row) {
                        errors.extend(
                            bad(format!("{row} as record {i}")).into_iter().map(|e| e.field(format!("{k}.{i}"))),
                        );
                    }
                    continue;
                };
                errors.extend(check_record(schema, m, &format!("{k}.{i}."), skip).into_iter().map(|e| in_record(e, i)));
                let required: Vec<&FieldDef> = if full {
                    schema.fields.iter().filter(|f| f.required_on_create() && !m.contains_key(&f.name)).collect()
                } else {
                    schema.fields.iter().filter(|f| f.name == "id" && !m.contains_key("id")).collect()
                };
                for f in required {
                    errors.push(
                        Error::new(
                            ErrorCode::MISSING_FIELD,
                            format!("record {i} of `{k}` has no `{}`, which is required", f.name),
                        )
                        .model(&schema.name)
                        .field(format!("{k}.{i}.{}", f.name))
                        .fix(format!("add \"{}\": {} to every record", f.name, example(f))),
                    );
                }
            }
            errors
        }
        ParamKind::Ids => match (v, schema.id_field()) {
            (J::Array(ids), Some(f)) => ids
                .iter()
                .filter(|id| !skip(id))
                .filter_map(|id| Value::from_json(id, f).err().map(|e| e.field(k)))
                .collect(),
            _ => bad(v.to_string()),
        },
        // The portable page bound (every backend accepts up to i64::MAX).
        ParamKind::Count => match k {
            "limit" => dataflow_sql::portable::check_page(schema, v.as_u64(), None).err().into_iter().collect(),
            "offset" => dataflow_sql::portable::check_page(schema, None, v.as_u64()).err().into_iter().collect(),
            _ => Vec::new(),
        },
        ParamKind::Bool | ParamKind::Positive | ParamKind::Choice(_) | ParamKind::Cursor => Vec::new(),
    }
}

/// Checks a whole parameter object for an operation other than Create: unknown parameters,
/// every value, and the required parameters. The dynamic API returns the first error.
pub fn check(schema: &ModelSchema, op: Operation, obj: &Map<String, J>) -> Vec<Error> {
    let mut errors = Vec::new();
    for (k, v) in obj {
        match param(op, k) {
            None => errors.push(unknown(op, op.name(), k).model(&schema.name)),
            Some(def) => errors.extend(check_value(schema, op, def, v, &|_| false)),
        }
    }
    let has = |n: &str| obj.get(n).is_some_and(|v| !v.is_null());
    if let Some(e) = missing(op, &has) {
        errors.push(e.model(&schema.name));
    }
    errors
}

/// The parameter reference (Markdown), generated from the contract: `docs/guide/parameters.md`.
pub fn reference_markdown() -> String {
    let mut s = String::from(
        "# Operation parameters\n\n\
         <!-- Generated from `dataflow_core::contract` by `cargo test -p dataflow-tests --test parameters_doc`\n\
         (run it with `BLESS=1` to rewrite this file). Do not edit by hand. -->\n\n\
         Every operation takes the same parameters whether it is called through the dynamic Express API\n\
         (`db.express().run(\"User\", Operation::List, &params)`), as a workflow node (`UserListNode`) or\n\
         from the CLI: they are checked against this one definition, and an unknown parameter or a value\n\
         of the wrong kind is a `DF-1xx` error before any SQL runs.\n\n\
         **Create** takes the record's fields flat (`{\"id\": \"u1\", \"name\": \"Alice\"}`).\n",
    );
    for op in Operation::ALL {
        if op == Operation::Create {
            continue;
        }
        s.push_str(&format!("\n## {}\n\n", op.name()));
        let alts = required(op);
        if !alts.is_empty() {
            let list: Vec<String> =
                alts.iter().map(|a| a.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" + ")).collect();
            s.push_str(&format!("Required: {}.\n\n", list.join(", or ")));
        }
        s.push_str("| parameter | takes | default | meaning |\n|---|---|---|---|\n");
        for d in params(op) {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                d.name,
                d.kind.describe(),
                d.default.map_or_else(|| "—".to_owned(), |x| x.replace('|', "\\|")),
                d.doc.replace('|', "\\|")
            ));
        }
    }
    s
}
