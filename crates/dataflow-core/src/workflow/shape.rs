//! Static shapes of node results and parameters (docs/guide/operations.md), derived from the operation and
//! the model's fields, so connections are checked before anything runs.

use dataflow_sql::error::closest;
use dataflow_sql::{ArrayElem, FieldType, ModelSchema, Operation};

/// The static type of a JSON value a node produces or accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Anything (JSON fields, filters, cursors).
    Any,
    /// `true` / `false`.
    Bool,
    /// An integer (counts, limits).
    Int,
    /// A string (`action`, `operation`).
    Str,
    /// A model field's value.
    Field {
        /// The field type.
        ty: FieldType,
        /// Whether it may be null.
        nullable: bool,
    },
    /// An object with known keys.
    Object(Vec<(String, Shape)>),
    /// A list.
    Array(Box<Shape>),
}

impl Shape {
    /// A short description for messages (`i64`, `list of record`, `object {id, name}`).
    pub fn describe(&self) -> String {
        match self {
            Shape::Any => "any value".into(),
            Shape::Bool => "bool".into(),
            Shape::Int => "integer".into(),
            Shape::Str => "string".into(),
            Shape::Field { ty, nullable: true } => format!("Option<{}>", ty.rust_name()),
            Shape::Field { ty, .. } => ty.rust_name().into(),
            Shape::Object(keys) => {
                let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).take(6).collect();
                let more = if keys.len() > 6 { ", ..." } else { "" };
                format!("object {{{}{more}}}", names.join(", "))
            }
            Shape::Array(inner) => format!("list of {}", inner.describe()),
        }
    }

    /// The shape at a dotted path, or why the path does not exist.
    pub fn at(&self, path: &str) -> Result<&Shape, String> {
        let mut cur = self;
        let mut walked = String::new();
        for seg in super::spec::segments(path) {
            cur = match cur {
                Shape::Any | Shape::Field { ty: FieldType::Json, .. } => return Ok(&Shape::Any),
                Shape::Object(keys) => match keys.iter().find(|(k, _)| k == seg) {
                    Some((_, s)) => s,
                    None => {
                        let at = if walked.is_empty() { "the result".to_owned() } else { format!("`{walked}`") };
                        let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
                        let hint = closest(seg, names.iter().copied()).map(|c| format!("; did you mean `{c}`?"));
                        return Err(format!(
                            "{at} has no key `{seg}` (keys: {}){}",
                            names.join(", "),
                            hint.unwrap_or_default()
                        ));
                    }
                },
                Shape::Array(inner) => {
                    if seg.parse::<usize>().is_err() {
                        return Err(format!(
                            "`{walked}` is a list; use an index such as `{walked}.0.{seg}` instead of `{walked}.{seg}`"
                        ));
                    }
                    inner
                }
                other => {
                    return Err(format!("`{walked}` is {}, it has no `{seg}`", other.describe()));
                }
            };
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(seg);
        }
        Ok(cur)
    }

    /// Whether a value of shape `self` can be passed where `target` is expected.
    pub fn fits(&self, target: &Shape) -> bool {
        use Shape as S;
        match (self, target) {
            (S::Any, _) | (_, S::Any) => true,
            (S::Field { ty: FieldType::Json, .. }, _) | (_, S::Field { ty: FieldType::Json, .. }) => true,
            (S::Field { ty: a, .. }, S::Field { ty: b, .. }) => scalar_fits(*a, *b),
            (S::Int, S::Int) | (S::Bool, S::Bool) | (S::Str, S::Str) => true,
            (S::Int, S::Field { ty, .. }) => is_numeric(*ty),
            (S::Field { ty, .. }, S::Int) => matches!(ty, FieldType::I32 | FieldType::I64),
            (S::Bool, S::Field { ty, .. }) | (S::Field { ty, .. }, S::Bool) => *ty == FieldType::Bool,
            (S::Str, S::Field { ty, .. }) | (S::Field { ty, .. }, S::Str) => is_textual(*ty),
            (S::Array(a), S::Array(b)) => a.fits(b),
            (S::Array(a), S::Field { ty: FieldType::Array(e), .. }) => a.fits(&elem_shape(*e)),
            (S::Field { ty: FieldType::Array(e), .. }, S::Array(b)) => elem_shape(*e).fits(b),
            (S::Object(_), S::Object(_)) => self.extra_keys(target).is_empty(),
            _ => false,
        }
    }

    /// The keys of an object shape that a target object shape with known keys lacks (a record
    /// connected into `fields` of another model, a code node's output with a key the model
    /// has no field for).
    pub fn extra_keys(&self, target: &Shape) -> Vec<String> {
        match (self, target) {
            (Shape::Object(a), Shape::Object(b)) if !b.is_empty() => {
                a.iter().filter(|(k, _)| !b.iter().any(|(n, _)| n == k)).map(|(k, _)| k.clone()).collect()
            }
            _ => Vec::new(),
        }
    }
}

fn is_numeric(ty: FieldType) -> bool {
    matches!(ty, FieldType::I32 | FieldType::I64 | FieldType::F64 | FieldType::Decimal)
}

fn is_textual(ty: FieldType) -> bool {
    matches!(ty, FieldType::String | FieldType::Uuid | FieldType::DateTime | FieldType::Date | FieldType::Decimal)
}

fn elem_shape(e: ArrayElem) -> Shape {
    match e {
        ArrayElem::String => Shape::Str,
        ArrayElem::I64 => Shape::Int,
        ArrayElem::F64 => Shape::Field { ty: FieldType::F64, nullable: false },
        ArrayElem::Bool => Shape::Bool,
    }
}

fn scalar_fits(src: FieldType, dst: FieldType) -> bool {
    use FieldType as T;
    src == dst
        || matches!(
            (src, dst),
            (T::I32 | T::I64, T::I32 | T::I64 | T::F64 | T::Decimal)
                | (T::F64, T::Decimal)
                | (T::Decimal, T::F64)
                | (T::Uuid | T::DateTime | T::Date | T::Decimal, T::String)
                | (T::String, T::Uuid | T::DateTime | T::Date | T::Decimal)
                | (T::Array(ArrayElem::I64), T::Array(ArrayElem::F64))
        )
}

fn field(ty: FieldType, nullable: bool) -> Shape {
    Shape::Field { ty, nullable }
}

fn obj(keys: Vec<(&str, Shape)>) -> Shape {
    Shape::Object(keys.into_iter().map(|(k, s)| (k.to_owned(), s)).collect())
}

/// A stored record: user fields then managed columns.
pub fn record(schema: &ModelSchema) -> Shape {
    Shape::Object(schema.all_fields().into_iter().map(|f| (f.name.clone(), field(f.ty, f.nullable))).collect())
}

fn id_shape(schema: &ModelSchema) -> Shape {
    schema.id_field().map_or(Shape::Any, |f| field(f.ty, false))
}

fn with(mut rec: Shape, extra: Vec<(&str, Shape)>) -> Shape {
    if let Shape::Object(keys) = &mut rec {
        keys.extend(extra.into_iter().map(|(k, s)| (k.to_owned(), s)));
    }
    rec
}

/// The result shape of an operation on a model (table in docs/guide/operations.md).
pub fn result(schema: &ModelSchema, op: Operation) -> Shape {
    let counters = |names: &[&'static str]| {
        let mut keys: Vec<(&str, Shape)> = names.iter().map(|n| (*n, Shape::Int)).collect();
        keys.push(("operation", Shape::Str));
        keys.push(("success", Shape::Bool));
        keys
    };
    match op {
        Operation::Create => record(schema),
        Operation::Read => with(record(schema), vec![("found", Shape::Bool)]),
        Operation::Update => with(record(schema), vec![("updated", Shape::Bool)]),
        Operation::Delete => obj(vec![("id", id_shape(schema)), ("deleted", Shape::Bool)]),
        Operation::List => obj(vec![
            ("records", Shape::Array(Box::new(record(schema)))),
            ("count", Shape::Int),
            ("limit", Shape::Any),
            ("offset", Shape::Any),
            ("next_cursor", Shape::Any),
        ]),
        Operation::Count => obj(vec![("count", Shape::Int)]),
        Operation::Upsert => obj(vec![("created", Shape::Bool), ("action", Shape::Str), ("record", record(schema))]),
        Operation::BulkCreate => {
            let mut k = counters(&["processed", "inserted", "batch_size"]);
            k.push(("ids", Shape::Array(Box::new(id_shape(schema)))));
            obj(k)
        }
        Operation::BulkUpdate => obj(counters(&["processed", "updated"])),
        Operation::BulkDelete => obj(counters(&["processed", "deleted"])),
        Operation::BulkUpsert => obj(counters(&["processed", "inserted", "updated", "skipped", "total"])),
    }
}

pub use crate::contract::ParamKind;

/// The parameters an operation takes (Create takes the record's fields instead): the one
/// parameter contract, [`crate::contract::params`].
pub fn params(op: Operation) -> &'static [crate::contract::ParamDef] {
    crate::contract::params(op)
}

/// The shape a parameter path of a node accepts, or `None` when the node has no such parameter.
/// `filter.email` / `fields.email` / `where.email` take the field's type; Create takes fields flat.
pub fn param(schema: &ModelSchema, op: Operation, path: &str) -> Option<Shape> {
    let segs = super::spec::segments(path);
    let (first, rest) = segs.split_first()?;
    if op == Operation::Create {
        let f = schema.field(first)?;
        return Some(if rest.is_empty() { field(f.ty, f.nullable) } else { Shape::Any });
    }
    let kind = &params(op).iter().find(|d| d.name == *first)?.kind;
    let base = match kind {
        ParamKind::Id => id_shape(schema),
        ParamKind::Bool => Shape::Bool,
        ParamKind::Count | ParamKind::Positive => Shape::Int,
        ParamKind::Choice(_) => Shape::Str,
        ParamKind::FieldNames => Shape::Array(Box::new(Shape::Str)),
        ParamKind::Filter | ParamKind::OrderBy | ParamKind::Cursor => Shape::Any,
        ParamKind::Fields => record(schema),
        ParamKind::Records => Shape::Array(Box::new(record(schema))),
        ParamKind::Ids => Shape::Array(Box::new(id_shape(schema))),
    };
    if rest.is_empty() {
        return Some(base);
    }
    match kind {
        // `filter.email` takes an email (or an operator object: accept anything for deeper paths).
        ParamKind::Filter | ParamKind::Fields => match schema.any_field(rest[0]) {
            Some(f) if rest.len() == 1 => Some(field(f.ty, f.nullable)),
            Some(_) => Some(Shape::Any),
            None if *kind == ParamKind::Filter && rest[0].starts_with('$') => Some(Shape::Any),
            // `fields.$inc.views`: an update operator's operand (checked when the node runs).
            None if matches!(op, Operation::Update | Operation::BulkUpdate)
                && *first == "fields"
                && rest[0].starts_with('$')
                && rest.get(1).is_some_and(|n| schema.field(n).is_some()) =>
            {
                Some(Shape::Any)
            }
            None => None,
        },
        _ => base.at(&rest.join(".")).ok().cloned(),
    }
}
