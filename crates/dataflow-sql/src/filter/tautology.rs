//! Does a filter leave out at least one possible record? Destructive bulk operations (BulkDelete,
//! BulkUpdate) need `confirmed: true` for a filter that matches every possible record — `{}` but
//! also `{"f": {"$startswith": ""}}`, `{"n": {"$gte": i64::MIN}}` on a NOT NULL field,
//! `{"$or": [{"flag": true}, {"flag": false}]}`, ...
//!
//! The decision is made by the filter's meaning, not its shape: for every field the filter
//! mentions, a finite set of candidate values is built from the operands (each operand, its
//! neighbours, the extremes of the type, NULL when the field is nullable — nullability comes from
//! the schema), and candidate records are evaluated with the filter semantics of
//! [`crate::filter`]. A candidate the filter does not match is a **witness**: a real record that
//! the operation would leave alone, so the filter is not a tautology. No witness → the filter is
//! treated as matching everything (sound: a filter let through always has a witness; in rare
//! contrived cases a selective filter may need `confirmed: true`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};
use rust_decimal::Decimal;
use serde_json::Value as J;
use uuid::Uuid;

use super::ast::{Cmp, Leaf, Node, Op, Target};
use crate::schema::{ArrayElem, FieldDef, FieldType};
use crate::value::Value;

/// A candidate record: field name → value (`Value::Null` is NULL).
pub(crate) type Row = BTreeMap<String, Value>;

/// Odometer steps, then pseudo-random steps, before giving up (no witness found).
const ODOMETER_STEPS: usize = 10_000;
const RANDOM_STEPS: usize = 20_000;
/// Leaf evaluations allowed in all (steps × filter size).
const BUDGET: usize = 4_000_000;

/// Number of leaves and operands of a node (the cost of one evaluation).
fn size(node: &Node) -> usize {
    match node {
        Node::And(ch) | Node::Or(ch) | Node::Nor(ch) => ch.iter().map(size).sum::<usize>() + 1,
        Node::Not(x) => size(x) + 1,
        Node::Leaf(l) => match &l.op {
            Op::In { values, .. } | Op::Nin { values, .. } | Op::Contains(values) | Op::Overlap(values) => {
                values.len() + 1
            }
            Op::Any(inner) => size(inner) + 1,
            _ => 1,
        },
    }
}

/// A record `root` does not match, or `None` when none of the candidates is left out.
pub(crate) fn witness(root: &Node) -> Option<Row> {
    let mut consts: BTreeMap<String, (FieldDef, Consts)> = BTreeMap::new();
    collect(root, &mut consts);
    let fields: Vec<(String, Vec<Value>)> =
        consts.into_iter().map(|(name, (f, c))| (name, candidates(&f, &c))).collect();
    let row_of =
        |idx: &[usize]| -> Row { fields.iter().zip(idx).map(|((n, c), i)| (n.clone(), c[*i].clone())).collect() };
    // Bound the work on large filters: at most ~4 million leaf evaluations in all.
    let size = size(root).max(1);
    let (odometer, random) = (ODOMETER_STEPS.min(BUDGET / size).max(1), RANDOM_STEPS.min(BUDGET / size));
    let mut idx = vec![0usize; fields.len()];
    for _ in 0..odometer {
        let row = row_of(&idx);
        if !eval(root, &row) {
            return Some(row);
        }
        // Advance the odometer (last field fastest); stop after the last combination.
        let mut k = fields.len();
        loop {
            if k == 0 {
                return None;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < fields[k].1.len() {
                break;
            }
            idx[k] = 0;
        }
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..random {
        for (i, (_, c)) in idx.iter_mut().zip(&fields) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *i = (state % c.len() as u64) as usize;
        }
        let row = row_of(&idx);
        if !eval(root, &row) {
            return Some(row);
        }
    }
    None
}

/// Operands seen for one field.
#[derive(Default)]
struct Consts {
    values: Vec<Value>,
    strings: Vec<String>,
    elems: Vec<Value>,
    sizes: Vec<i64>,
    /// Operands of whole-array equality, each a candidate array as it stands.
    arrays: Vec<Vec<Value>>,
    paths: Vec<(Vec<String>, Value)>,
}

fn collect(node: &Node, out: &mut BTreeMap<String, (FieldDef, Consts)>) {
    match node {
        Node::And(ch) | Node::Or(ch) | Node::Nor(ch) => ch.iter().for_each(|c| collect(c, out)),
        Node::Not(x) => collect(x, out),
        Node::Leaf(l) => {
            let (f, path) = match &l.target {
                Target::Column(f) => (f, None),
                Target::Path { field, segments } => (field, Some(segments)),
                Target::Element { .. } => return,
            };
            let c = &mut out.entry(f.name.clone()).or_insert_with(|| (f.clone(), Consts::default())).1;
            let (mut ops, mut strs) = (Vec::new(), Vec::new());
            leaf_operands(&l.op, &mut ops, &mut strs, &mut c.elems, &mut c.sizes, &mut c.arrays);
            match path {
                Some(p) => {
                    ops.extend(strs.into_iter().map(Value::String));
                    if ops.is_empty() {
                        ops.push(Value::Null);
                    }
                    c.paths.extend(ops.into_iter().map(|v| (p.clone(), v)));
                }
                None => {
                    c.values.extend(ops);
                    c.strings.extend(strs);
                }
            }
        }
    }
}

fn leaf_operands(
    op: &Op,
    vals: &mut Vec<Value>,
    strs: &mut Vec<String>,
    elems: &mut Vec<Value>,
    sizes: &mut Vec<i64>,
    arrays: &mut Vec<Vec<Value>>,
) {
    match op {
        Op::Eq(v) | Op::Ne(v) | Op::Cmp(_, v) | Op::PathContains(v) => vals.push(v.clone()),
        Op::ArrayEq(v) | Op::ArrayNe(v) => {
            elems.extend(v.iter().cloned());
            arrays.push(v.clone());
        }
        Op::In { values, .. } | Op::Nin { values, .. } => vals.extend(values.iter().cloned()),
        Op::Like { pattern, .. } => strs.extend(like_examples(pattern)),
        Op::Regex { pattern, .. } => strs.push(pattern.clone()),
        Op::Contains(v) | Op::Overlap(v) => elems.extend(v.iter().cloned()),
        Op::Size(n) => sizes.push(*n),
        Op::Any(inner) => collect_elems(inner, elems, strs),
        Op::IsNull(_) => {}
    }
}

fn collect_elems(node: &Node, elems: &mut Vec<Value>, strs: &mut Vec<String>) {
    match node {
        Node::And(ch) | Node::Or(ch) | Node::Nor(ch) => ch.iter().for_each(|c| collect_elems(c, elems, strs)),
        Node::Not(x) => collect_elems(x, elems, strs),
        Node::Leaf(l) => {
            let (mut v, mut s) = (Vec::new(), Vec::new());
            leaf_operands(&l.op, &mut v, &mut s, &mut Vec::new(), &mut Vec::new(), &mut Vec::new());
            elems.extend(v);
            strs.extend(s);
        }
    }
}

/// Strings a LIKE pattern matches (`%` as nothing / as a far character, `_` as `a`).
fn like_examples(pattern: &str) -> Vec<String> {
    let (mut a, mut b) = (String::new(), String::new());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    a.push(n);
                    b.push(n);
                }
            }
            '%' => b.push('\u{10FFFF}'),
            '_' => {
                a.push('a');
                b.push('Z');
            }
            c => {
                a.push(c);
                b.push(c);
            }
        }
    }
    vec![a, b]
}

const FAR: char = '\u{10FFFF}';

fn string_candidates(consts: &[Value], strs: &[String]) -> Vec<String> {
    let mut out = vec![String::new(), "a".into(), "Z".into(), " ".into(), "\n".into(), FAR.to_string()];
    let seeds = consts.iter().filter_map(|v| match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    });
    for s in seeds.chain(strs.iter().cloned()) {
        let mut shorter = s.clone();
        shorter.pop();
        out.extend([s.clone(), format!("{s}{FAR}"), format!("{s}\u{1}"), shorter, s.to_uppercase(), s.to_lowercase()]);
    }
    out.sort();
    out.dedup();
    out
}

/// Scalar candidates of a type: operands first (fast witnesses), then neighbours and extremes.
fn scalar_candidates(ty: FieldType, consts: &[Value], strs: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    // Extremes first (they leave out long `$in` lists at once), then the operands (they leave out
    // `$ne`/`$nin`), then the operands' neighbours.
    let operands = consts.iter().filter(|v| same_type(ty, v)).cloned();
    match ty {
        FieldType::String => out.extend(string_candidates(consts, strs).into_iter().map(Value::String)),
        FieldType::I32 => {
            out.extend([i32::MIN, i32::MAX, 0].map(Value::I32));
            for v in consts {
                if let Value::I32(i) = v {
                    out.extend([i.saturating_sub(1), i.saturating_add(1)].map(Value::I32));
                }
            }
        }
        FieldType::I64 => {
            out.extend([i64::MIN, i64::MAX, 0].map(Value::I64));
            for v in consts {
                if let Value::I64(i) = v {
                    out.extend([i.saturating_sub(1), i.saturating_add(1)].map(Value::I64));
                }
            }
        }
        FieldType::F64 => {
            out.extend([f64::MIN, f64::MAX, 0.0].map(Value::F64));
            for v in consts {
                if let Value::F64(f) = v {
                    out.extend([f.next_down(), f.next_up()].into_iter().filter(|x| x.is_finite()).map(Value::F64));
                }
            }
        }
        FieldType::Decimal => {
            let step = Decimal::new(1, 10);
            let big = Decimal::from_i128_with_scale(10i128.pow(28) - 1, 0);
            out.extend([-big, big, Decimal::ZERO].map(Value::Decimal));
            for v in consts {
                if let Value::Decimal(d) = v {
                    out.extend([d.checked_sub(step), d.checked_add(step)].into_iter().flatten().map(Value::Decimal));
                }
            }
        }
        FieldType::DateTime => {
            let first = NaiveDate::from_ymd_opt(1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc());
            let last = NaiveDate::from_ymd_opt(9999, 12, 31)
                .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
                .map(|d| d.and_utc());
            out.extend([first, last].into_iter().flatten().map(Value::DateTime));
            for v in consts {
                if let Value::DateTime(d) = v {
                    let us = TimeDelta::microseconds(1);
                    out.extend(
                        [d.checked_sub_signed(us), d.checked_add_signed(us)].into_iter().flatten().map(Value::DateTime),
                    );
                }
            }
        }
        FieldType::Date => {
            out.extend(
                [NaiveDate::from_ymd_opt(1, 1, 1), NaiveDate::from_ymd_opt(9999, 12, 31)]
                    .into_iter()
                    .flatten()
                    .map(Value::Date),
            );
            for v in consts {
                if let Value::Date(d) = v {
                    out.extend([d.pred_opt(), d.succ_opt()].into_iter().flatten().map(Value::Date));
                }
            }
        }
        FieldType::Uuid => {
            out.extend([Uuid::nil(), Uuid::max()].map(Value::Uuid));
            for v in consts {
                if let Value::Uuid(u) = v {
                    let n = u.as_u128();
                    out.extend(
                        [n.checked_sub(1), n.checked_add(1)]
                            .into_iter()
                            .flatten()
                            .map(|n| Value::Uuid(Uuid::from_u128(n))),
                    );
                }
            }
        }
        FieldType::Bool => out.extend([false, true].map(Value::Bool)),
        FieldType::Bytes => out.extend([vec![], vec![0u8], vec![255u8]].map(Value::Bytes)),
        FieldType::Json | FieldType::Array(_) => {}
    }
    // Keep the first three (extremes / generic values) in front, operands next.
    let rest = out.split_off(out.len().min(3));
    out.extend(operands);
    out.extend(rest);
    out
}

fn same_type(ty: FieldType, v: &Value) -> bool {
    matches!(
        (ty, v),
        (FieldType::String, Value::String(_))
            | (FieldType::I32, Value::I32(_))
            | (FieldType::I64, Value::I64(_))
            | (FieldType::F64, Value::F64(_))
            | (FieldType::Decimal, Value::Decimal(_))
            | (FieldType::DateTime, Value::DateTime(_))
            | (FieldType::Date, Value::Date(_))
            | (FieldType::Uuid, Value::Uuid(_))
            | (FieldType::Bool, Value::Bool(_))
            | (FieldType::Bytes, Value::Bytes(_))
    )
}

fn elem_type(e: ArrayElem) -> FieldType {
    super::parse::elem_type(e)
}

/// Candidate values of one field: NULL first when the field can hold it.
fn candidates(f: &FieldDef, c: &Consts) -> Vec<Value> {
    let mut out = Vec::new();
    if f.nullable || f.ty == FieldType::Json {
        out.push(Value::Null);
    }
    match f.ty {
        FieldType::Array(e) => {
            let scalars = scalar_candidates(elem_type(e), &c.elems, &c.strings);
            out.push(Value::Array(Vec::new()));
            out.extend(scalars.iter().map(|x| Value::Array(vec![x.clone()])));
            if !c.elems.is_empty() {
                out.push(Value::Array(c.elems.clone()));
            }
            out.extend(c.arrays.iter().cloned().map(Value::Array));
            // A filler element that is none of the operands (so `{"$contains": ""}` does not hold
            // on the filled arrays), falling back to the first candidate.
            let operand = |v: &Value| c.elems.iter().any(|e| compare(e, v) == Some(Ordering::Equal));
            if let Some(x) = scalars.iter().find(|v| !operand(v)).or(scalars.first()) {
                // Lengths around every `$size` operand, and two elements.
                let lens = c.sizes.iter().flat_map(|n| [*n, n.saturating_add(1)]).chain([2]);
                for n in lens.filter(|n| (2..=64).contains(n)).map(|n| n as usize) {
                    out.push(Value::Array(vec![x.clone(); n]));
                    // Arrays of that length holding the operands' elements, so `$size` combined
                    // with `$contains`/`$any` (`{"$not": {"$and": [size 2, contains "%"]}}`) has
                    // a candidate that satisfies both: each element padded, and all cycled.
                    for e in &c.elems {
                        let mut a = vec![e.clone()];
                        a.resize(n, x.clone());
                        out.push(Value::Array(a));
                    }
                    if !c.elems.is_empty() {
                        out.push(Value::Array(c.elems.iter().cycle().take(n).cloned().collect()));
                    }
                }
            }
        }
        FieldType::Json => {
            let mut docs = vec![J::Object(Default::default()), J::Array(Vec::new()), J::from(0), J::from("")];
            for (path, v) in &c.paths {
                let scalars: Vec<J> = match v {
                    Value::String(s) => {
                        string_candidates(&[Value::String(s.clone())], &[]).into_iter().map(J::from).collect()
                    }
                    Value::F64(x) => [*x, x.next_down(), x.next_up(), 0.0]
                        .into_iter()
                        .filter_map(serde_json::Number::from_f64)
                        .map(J::Number)
                        .collect(),
                    Value::Bool(b) => vec![J::from(*b), J::from(!*b)],
                    _ => Vec::new(),
                };
                for s in scalars.into_iter().chain([J::Null, J::from("x"), J::from(1), J::from(true)]) {
                    docs.push(nest(path, s));
                }
            }
            out.extend(docs.into_iter().map(Value::Json));
        }
        ty => out.extend(scalar_candidates(ty, &c.values, &c.strings)),
    }
    // Drop duplicates (linear: long `$in` lists give many candidates).
    let mut seen = std::collections::HashSet::with_capacity(out.len());
    out.retain(|v| seen.insert(format!("{v:?}")));
    out
}

fn nest(path: &[String], leaf: J) -> J {
    path.iter().rev().fold(leaf, |acc, seg| {
        let mut m = serde_json::Map::new();
        m.insert(seg.clone(), acc);
        J::Object(m)
    })
}

/// Evaluates a node on a candidate row, with the filter semantics of [`crate::filter`].
pub(crate) fn eval(node: &Node, row: &Row) -> bool {
    match node {
        Node::And(ch) => ch.iter().all(|c| eval(c, row)),
        Node::Or(ch) => ch.iter().any(|c| eval(c, row)),
        Node::Nor(ch) => !ch.iter().any(|c| eval(c, row)),
        Node::Not(x) => !eval(x, row),
        Node::Leaf(l) => leaf(l, row, None),
    }
}

fn leaf(l: &Leaf, row: &Row, elem: Option<&Value>) -> bool {
    match &l.target {
        Target::Column(f) => apply(&l.op, row.get(&f.name).unwrap_or(&Value::Null)),
        Target::Element { .. } => apply(&l.op, elem.unwrap_or(&Value::Null)),
        Target::Path { field, segments } => {
            let mut cur = match row.get(&field.name) {
                Some(Value::Json(j)) => j,
                _ => &J::Null,
            };
            for s in segments {
                cur = cur.as_object().and_then(|o| o.get(s)).unwrap_or(&J::Null);
            }
            let actual = match cur {
                J::String(s) => Value::String(s.clone()),
                J::Number(n) => n.as_f64().map_or(Value::Null, Value::F64),
                J::Bool(b) => Value::Bool(*b),
                J::Null => Value::Null,
                // Arrays and objects compare with no scalar operand.
                other => Value::Json(other.clone()),
            };
            apply(&l.op, &actual)
        }
    }
}

fn eval_elem(node: &Node, elem: &Value) -> bool {
    match node {
        Node::And(ch) => ch.iter().all(|c| eval_elem(c, elem)),
        Node::Or(ch) => ch.iter().any(|c| eval_elem(c, elem)),
        Node::Nor(ch) => !ch.iter().any(|c| eval_elem(c, elem)),
        Node::Not(x) => !eval_elem(x, elem),
        Node::Leaf(l) => leaf(l, &Row::new(), Some(elem)),
    }
}

fn apply(op: &Op, a: &Value) -> bool {
    let eq = |v: &Value| compare(a, v) == Some(Ordering::Equal);
    match op {
        Op::IsNull(b) => a.is_null() == *b,
        Op::Eq(v) => eq(v),
        Op::Ne(v) => !eq(v),
        Op::Cmp(c, v) => compare(a, v).is_some_and(|o| match c {
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Gte => o != Ordering::Less,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Lte => o != Ordering::Greater,
        }),
        Op::In { values, null } => (*null && a.is_null()) || values.iter().any(eq),
        Op::Nin { values, null } => !((*null && a.is_null()) || values.iter().any(eq)),
        Op::Like { pattern } => match a {
            Value::String(s) => like(s, pattern),
            _ => false,
        },
        // Case-insensitivity is already folded into `hir`; its printed form is a Rust regex.
        Op::Regex { hir, .. } => match a {
            Value::String(s) => regex::Regex::new(&hir.to_string()).is_ok_and(|r| r.is_match(s)),
            _ => false,
        },
        Op::ArrayEq(want) => array_eq(a, want),
        Op::ArrayNe(want) => !array_eq(a, want),
        Op::PathContains(want) => match a {
            Value::Array(items) => items.iter().any(|x| compare(x, want) == Some(Ordering::Equal)),
            Value::String(s) => matches!(want, Value::String(w) if s.contains(w.as_str())),
            _ => false,
        },
        Op::Contains(want) => match a {
            Value::Array(items) => want.iter().all(|w| items.iter().any(|x| compare(x, w) == Some(Ordering::Equal))),
            _ => false,
        },
        Op::Overlap(want) => match a {
            Value::Array(items) => want.iter().any(|w| items.iter().any(|x| compare(x, w) == Some(Ordering::Equal))),
            _ => false,
        },
        Op::Size(n) => matches!(a, Value::Array(items) if items.len() as i64 == *n),
        Op::Any(inner) => matches!(a, Value::Array(items) if items.iter().any(|x| eval_elem(inner, x))),
    }
}

/// Whole-array equality: same length, pairwise equal in order.
fn array_eq(a: &Value, want: &[Value]) -> bool {
    matches!(a, Value::Array(items)
        if items.len() == want.len()
            && items.iter().zip(want).all(|(x, w)| compare(x, w) == Some(Ordering::Equal)))
}

/// Typed comparison; `None` when either side is NULL or the types differ.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    use Value as V;
    match (a, b) {
        (V::String(x), V::String(y)) => Some(x.as_str().cmp(y.as_str())),
        (V::I32(x), V::I32(y)) => Some(x.cmp(y)),
        (V::I64(x), V::I64(y)) => Some(x.cmp(y)),
        (V::I32(x), V::I64(y)) => Some(i64::from(*x).cmp(y)),
        (V::I64(x), V::I32(y)) => Some(x.cmp(&i64::from(*y))),
        (V::F64(x), V::F64(y)) => x.partial_cmp(y),
        (V::Decimal(x), V::Decimal(y)) => Some(x.cmp(y)),
        (V::DateTime(x), V::DateTime(y)) => Some(x.cmp(y)),
        (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        (V::Uuid(x), V::Uuid(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Bool(y)) => Some(if x == y { Ordering::Equal } else { Ordering::Less }),
        (V::Bytes(x), V::Bytes(y)) => Some(if x == y { Ordering::Equal } else { Ordering::Less }),
        _ => None,
    }
}

/// SQL LIKE with `\` escaping the next character; `%` any run, `_` one character.
fn like(s: &str, pattern: &str) -> bool {
    enum Tok {
        Run,
        One,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            '%' => Tok::Run,
            '_' => Tok::One,
            c => Tok::Lit(c),
        });
    }
    let t: Vec<char> = s.chars().collect();
    // Wildcard matching with backtracking to the last `%`.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < t.len() {
        match toks.get(j) {
            Some(Tok::Run) => {
                star = Some((j + 1, i));
                j += 1;
                continue;
            }
            Some(Tok::One) => {
                i += 1;
                j += 1;
                continue;
            }
            Some(Tok::Lit(c)) if *c == t[i] => {
                i += 1;
                j += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sj, si)) => {
                i = si + 1;
                j = sj;
                star = Some((sj, si + 1));
            }
            None => return false,
        }
    }
    toks[j..].iter().all(|t| matches!(t, Tok::Run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matcher() {
        assert!(like("abc", "a%"));
        assert!(like("abc", "%"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("a%c", "a\\%c"));
        assert!(!like("abc", "a\\%c"));
        assert!(like("abcbc", "%bc"));
        assert!(like("xaby", "%a_y"));
        assert!(!like("ab", "abc"));
    }
}
