//! The reference evaluator: applies a Mongo-style filter (docs/guide/filters.md) to in-memory rows, in
//! plain Rust, with exactly the semantics every SQL backend must reproduce.
//!
//! Entry point: [`matches`]. Self-contained on purpose (depends on `dataflow_sql` for the schema
//! types, `serde_json`, `regex` and `chrono` only) so other test crates can include it:
//! `#[path = "../../crates/dataflow-sql/tests/support/reference.rs"] mod reference;`.
//!
//! Semantics:
//! - A row is a JSON object keyed by field name (managed fields `created_at`, `updated_at`,
//!   `deleted_at` included when present). A missing key and JSON `null` are both NULL.
//! - Several keys (and several operators on one field) are ANDed. A bare value means `$eq`.
//! - Comparisons (`$eq`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`) never match NULL; `$eq: null` and
//!   `null` inside `$in` match NULL. `$ne`, `$nin` and `$not` are plain negations (so they match
//!   NULL, unless the negated list holds `null`); `$nor` is the negation of `$or`.
//! - Values compare by the field's type: strings by code point (case-sensitive, no padding),
//!   integers and floats numerically, decimals numerically (as f64), dates and date-times as
//!   instants (any ISO-8601 offset), UUIDs case-insensitively, booleans and bytes by equality.
//! - Numbers compare as numbers whatever their JSON form: on an integer field `18.0` equals 18,
//!   `17.5` equals nothing and `$gt: 17.5` holds for 18 and up.
//! - `$like` uses `%`/`_` with `\` escaping the next character, case-sensitive;
//!   `$startswith`/`$endswith`/`$contains` are literal; `$regex` uses the `regex` crate.
//! - Case-insensitive matching (`$ilike`, `$regex` with `$options: "i"`) is the `regex` crate's
//!   `(?i)`: Unicode **simple case folding**, code point by code point (`STRASSE` ~ `strasse`,
//!   `σ` ~ `ς` ~ `Σ`, `ß` ~ `ẞ` but `ß` ≁ `ss`), no normalization (`é` ≠ `e` + U+0301).
//! - Array fields: whole-array `$eq`/`$ne` with a list (same length, same elements in the same
//!   order), `$contains` (one element), `$all`, `$overlap`, `$size`, `$any` (some element
//!   satisfies the nested operator object); element equality is typed (numbers numerically).
//! - JSON dotted paths walk objects only. The value compares only with an operand of the same JSON
//!   type (string with string, number with number, bool with bool; booleans only by equality).
//!   `$contains` on a path: element membership (typed the same way) when the value is an array,
//!   substring when both the value and the operand are strings, otherwise no match.
//!
//! The filter must have been accepted by `Filter::parse`; anything malformed evaluates to false.

#![allow(dead_code)]

use std::cmp::Ordering;

use dataflow_sql::{ArrayElem, FieldType, ModelSchema};
use serde_json::{Map, Value as J};

/// Does `row` match `filter` (a filter accepted by `dataflow_sql::filter::Filter::parse` for `schema`)?
pub fn matches(filter: &J, row: &Map<String, J>, schema: &ModelSchema) -> bool {
    let J::Object(map) = filter else { return false };
    map.iter().all(|(k, v)| match k.as_str() {
        "$and" => v.as_array().is_some_and(|l| l.iter().all(|f| matches(f, row, schema))),
        "$or" => v.as_array().is_some_and(|l| l.iter().any(|f| matches(f, row, schema))),
        "$nor" => v.as_array().is_some_and(|l| !l.iter().any(|f| matches(f, row, schema))),
        "$not" => !matches(v, row, schema),
        key => field(key, v, row, schema),
    })
}

/// What a value is compared as.
#[derive(Clone, Copy)]
enum Ty {
    Field(FieldType),
    Path,
}

fn field(key: &str, spec: &J, row: &Map<String, J>, schema: &ModelSchema) -> bool {
    let (name, path) = key.split_once('.').map_or((key, None), |(a, b)| (a, Some(b)));
    let Some(def) = schema.any_field(name) else { return false };
    let mut actual = row.get(name).unwrap_or(&J::Null);
    let ty = match path {
        None => Ty::Field(def.ty),
        Some(p) => {
            for seg in p.split('.') {
                actual = actual.as_object().and_then(|o| o.get(seg)).unwrap_or(&J::Null);
            }
            Ty::Path
        }
    };
    expression(actual, ty, spec)
}

fn is_operator_object(spec: &J) -> bool {
    matches!(spec, J::Object(m) if !m.is_empty() && m.keys().all(|k| k.starts_with('$')))
}

fn expression(actual: &J, ty: Ty, spec: &J) -> bool {
    if !is_operator_object(spec) {
        return eq(actual, ty, spec);
    }
    let J::Object(ops) = spec else { return false };
    ops.iter().all(|(op, operand)| operator(actual, ty, op, operand, ops))
}

fn operator(actual: &J, ty: Ty, op: &str, v: &J, ops: &Map<String, J>) -> bool {
    let ordered = |want: fn(Ordering) -> bool| !v.is_null() && compare(actual, ty, v).is_some_and(want);
    match op {
        "$eq" => eq(actual, ty, v),
        "$ne" => !eq(actual, ty, v),
        "$gt" => ordered(|o| o == Ordering::Greater),
        "$gte" => ordered(|o| o != Ordering::Less),
        "$lt" => ordered(|o| o == Ordering::Less),
        "$lte" => ordered(|o| o != Ordering::Greater),
        "$in" => v.as_array().is_some_and(|l| l.iter().any(|x| eq(actual, ty, x))),
        "$nin" => !v.as_array().is_some_and(|l| l.iter().any(|x| eq(actual, ty, x))),
        "$exists" => v.as_bool().is_some_and(|b| actual.is_null() != b),
        "$null" => v.as_bool().is_some_and(|b| actual.is_null() == b),
        "$like" | "$ilike" | "$startswith" | "$endswith" => {
            let (Some(s), Some(p)) = (actual.as_str(), v.as_str()) else { return false };
            let pattern = match op {
                "$startswith" => format!("{}%", escape_like(p)),
                "$endswith" => format!("%{}", escape_like(p)),
                _ => p.to_owned(),
            };
            if op == "$ilike" { like_ci(s, &pattern) } else { like(s, &pattern) }
        }
        "$contains" => match ty {
            Ty::Field(FieldType::Array(e)) => {
                actual.as_array().is_some_and(|items| items.iter().any(|x| elem_eq(x, e, v)))
            }
            Ty::Path => match (actual, v) {
                (J::String(s), J::String(p)) => s.contains(p.as_str()),
                (J::Array(items), _) => items.iter().any(|x| compare(x, Ty::Path, v) == Some(Ordering::Equal)),
                _ => false,
            },
            _ => match (actual.as_str(), v.as_str()) {
                (Some(s), Some(p)) => s.contains(p),
                _ => false,
            },
        },
        "$regex" => {
            let (Some(s), Some(p)) = (actual.as_str(), v.as_str()) else { return false };
            let ci = ops.get("$options").and_then(J::as_str) == Some("i");
            let p = if ci { format!("(?i){p}") } else { p.to_owned() };
            regex::Regex::new(&p).is_ok_and(|r| r.is_match(s))
        }
        "$options" => true,
        "$not" => !expression(actual, ty, v),
        "$all" | "$overlap" | "$size" | "$any" => {
            let (Ty::Field(FieldType::Array(e)), Some(items)) = (ty, actual.as_array()) else { return false };
            let wanted = v.as_array().map(Vec::as_slice).unwrap_or_default();
            let has = |w: &J| items.iter().any(|x| elem_eq(x, e, w));
            match op {
                "$all" => !wanted.is_empty() && wanted.iter().all(has),
                "$overlap" => wanted.iter().any(has),
                "$size" => v.as_u64().is_some_and(|n| items.len() as u64 == n),
                _ => items.iter().any(|x| expression(x, Ty::Field(elem_type(e)), v)),
            }
        }
        _ => false,
    }
}

fn elem_type(e: ArrayElem) -> FieldType {
    match e {
        ArrayElem::String => FieldType::String,
        ArrayElem::I64 => FieldType::I64,
        ArrayElem::F64 => FieldType::F64,
        ArrayElem::Bool => FieldType::Bool,
    }
}

fn elem_eq(x: &J, e: ArrayElem, w: &J) -> bool {
    compare(x, Ty::Field(elem_type(e)), w) == Some(Ordering::Equal)
}

/// `$eq`: `null` means "is NULL"; otherwise a typed comparison that never matches NULL.
fn eq(actual: &J, ty: Ty, v: &J) -> bool {
    if v.is_null() {
        return actual.is_null();
    }
    if let (Ty::Field(FieldType::Array(e)), J::Array(want)) = (ty, v) {
        // Whole-array equality: same length, equal elements position by position.
        return actual
            .as_array()
            .is_some_and(|items| items.len() == want.len() && items.iter().zip(want).all(|(x, w)| elem_eq(x, e, w)));
    }
    compare(actual, ty, v) == Some(Ordering::Equal)
}

/// Typed comparison of a stored value with an operand; `None` when NULL or incomparable.
fn compare(a: &J, ty: Ty, b: &J) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    let num = |x: &J| match x {
        J::Number(n) => n.as_f64(),
        J::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match ty {
        Ty::Path => match (a, b) {
            (J::String(x), J::String(y)) => Some(x.as_str().cmp(y.as_str())),
            (J::Number(x), J::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
            (J::Bool(x), J::Bool(y)) => (x == y).then_some(Ordering::Equal).or(Some(Ordering::Less)),
            _ => None,
        },
        Ty::Field(t) => match t {
            FieldType::String => Some(a.as_str()?.cmp(b.as_str()?)),
            FieldType::I32 | FieldType::I64 => match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => num(a)?.partial_cmp(&num(b)?),
            },
            FieldType::F64 | FieldType::Decimal => num(a)?.partial_cmp(&num(b)?),
            FieldType::Bool => (a.as_bool()? == b.as_bool()?).then_some(Ordering::Equal).or(Some(Ordering::Less)),
            FieldType::DateTime => Some(datetime(a.as_str()?)?.cmp(&datetime(b.as_str()?)?)),
            FieldType::Date => Some(date(a.as_str()?)?.cmp(&date(b.as_str()?)?)),
            FieldType::Uuid => Some(a.as_str()?.to_lowercase().cmp(&b.as_str()?.to_lowercase())),
            FieldType::Bytes => (a == b).then_some(Ordering::Equal).or(Some(Ordering::Less)),
            FieldType::Json | FieldType::Array(_) => None,
        },
    }
}

fn datetime(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDateTime, Utc};
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc());
        }
    }
    DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z").ok().map(|d| d.with_timezone(&Utc))
}

fn date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn escape_like(s: &str) -> String {
    s.chars().flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect()
}

/// Case-insensitive LIKE: the pattern as an anchored regular expression with `(?i)` (simple case folding).
pub fn like_ci(s: &str, pattern: &str) -> bool {
    like_regex(pattern, true).is_some_and(|r| r.is_match(s))
}

/// SQL LIKE with `\` escaping the next character; `%` any run of characters, `_` one character.
pub fn like(s: &str, pattern: &str) -> bool {
    like_regex(pattern, false).is_some_and(|r| r.is_match(s))
}

fn like_regex(pattern: &str, ci: bool) -> Option<regex::Regex> {
    let mut re = String::from(if ci { "(?is)^" } else { "(?s)^" });
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => return None,
            },
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}
