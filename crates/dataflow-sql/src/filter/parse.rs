//! JSON → validated [`Node`] tree, against a [`ModelSchema`] (docs/guide/filters.md).

use serde_json::{Map, Value as J};

use super::ast::{Cmp, Leaf, Node, Op, Target};
use super::limits::FilterLimits;
use super::ops::{self, Kind};
use crate::error::{Error, ErrorCode, Result, closest};
use crate::schema::{ArrayElem, FieldDef, FieldType, ModelSchema};
use crate::value::Value;

/// Deepest nesting of logical operators accepted (hostile input must not exhaust the stack).
const MAX_DEPTH: usize = 32;
/// Most segments a JSON dotted path may have.
const MAX_PATH_SEGMENTS: usize = 16;

pub(crate) struct Parser<'a> {
    pub schema: &'a ModelSchema,
    pub limits: FilterLimits,
    /// Nodes seen so far (logical operators, field conditions, list values).
    pub nodes: std::cell::Cell<usize>,
}

/// A numeric operand for an integer target, when the JSON number is not an integer.
enum IntOperand {
    /// An integer (or a float with an integral value): validated like an integer literal.
    Int(J),
    /// A float with a fractional part (or beyond the i64 range).
    Fraction(f64),
}

impl Parser<'_> {
    fn err(&self, code: ErrorCode, msg: impl Into<String>) -> Error {
        Error::new(code, msg).model(&self.schema.name)
    }

    fn malformed(&self, msg: impl Into<String>, fix: impl Into<String>) -> Error {
        self.err(ErrorCode::INVALID_FILTER, msg).fix(fix)
    }

    /// Counts `n` more nodes against [`FilterLimits::max_nodes`].
    fn bump(&self, n: usize) -> Result<()> {
        let total = self.nodes.get().saturating_add(n);
        self.nodes.set(total);
        if total > self.limits.max_nodes {
            return Err(self.malformed(
                format!(
                    "the filter has more than {} nodes (conditions, operators and list values)",
                    self.limits.max_nodes
                ),
                "split the request into several smaller filters, or raise FilterLimits::max_nodes \
                 (dataflow_sql::filter::MAX_NODES by default) with Filter::parse_with_limits",
            ));
        }
        Ok(())
    }

    /// Checks one operand list against [`FilterLimits::max_list_values`] and counts its values.
    fn list_len(&self, key: &str, op: &str, len: usize) -> Result<()> {
        if len > self.limits.max_list_values {
            return Err(self
                .malformed(
                    format!("`{op}` on `{key}` has {len} values; at most {} are accepted", self.limits.max_list_values),
                    "split the list over several requests, or raise FilterLimits::max_list_values \
                     (dataflow_sql::filter::MAX_LIST_VALUES by default) with Filter::parse_with_limits",
                )
                .field(key)
                .operator(op));
        }
        self.bump(len)
    }

    /// Parses a filter object (`{}` → empty `And`).
    pub(crate) fn filter(&self, json: &J, depth: usize) -> Result<Node> {
        if depth > MAX_DEPTH {
            return Err(self.malformed(
                format!("filter is nested deeper than {MAX_DEPTH} levels"),
                "flatten the filter: $and/$or lists can hold many conditions at one level",
            ));
        }
        let J::Object(map) = json else {
            return Err(self.malformed(
                format!("a filter must be a JSON object, got {}", shown(json)),
                "write a filter like {\"age\": {\"$gte\": 18}, \"name\": \"Alice\"}",
            ));
        };
        let mut parts = Vec::with_capacity(map.len());
        for (key, value) in map {
            self.bump(1)?;
            parts.push(if key.starts_with('$') { self.logical(key, value, depth)? } else { self.field(key, value)? });
        }
        Ok(if parts.len() == 1 { parts.pop().unwrap_or(Node::And(Vec::new())) } else { Node::And(parts) })
    }

    fn logical(&self, key: &str, value: &J, depth: usize) -> Result<Node> {
        match key {
            "$and" | "$or" | "$nor" => {
                let items = match value {
                    J::Array(items) if !items.is_empty() => items,
                    _ => {
                        return Err(self
                            .malformed(
                                format!("`{key}` needs a non-empty list of filters, got {}", shown(value)),
                                format!("write {{\"{key}\": [{{\"age\": {{\"$gt\": 5}}}}, {{\"name\": \"Bo\"}}]}}"),
                            )
                            .operator(key));
                    }
                };
                if items.len() > self.limits.max_branches {
                    return Err(self
                        .malformed(
                            format!(
                                "`{key}` has {} conditions; at most {} are accepted in one list",
                                items.len(),
                                self.limits.max_branches
                            ),
                            "for many values of one field use $in (e.g. {\"id\": {\"$in\": [1, 2, 3]}}), split the request, \
                             or raise FilterLimits::max_branches (dataflow_sql::filter::MAX_BRANCHES by default) \
                             with Filter::parse_with_limits",
                        )
                        .operator(key));
                }
                let nodes = items.iter().map(|i| self.filter(i, depth + 1)).collect::<Result<Vec<_>>>()?;
                Ok(match key {
                    "$and" => Node::And(nodes),
                    "$or" => Node::Or(nodes),
                    _ => Node::Nor(nodes),
                })
            }
            "$not" => {
                if !value.is_object() {
                    return Err(self
                        .malformed(
                            format!("`$not` at filter level needs a filter object, got {}", shown(value)),
                            "write {\"$not\": {\"status\": \"archived\"}}",
                        )
                        .operator(key));
                }
                Ok(Node::Not(Box::new(self.filter(value, depth + 1)?)))
            }
            other => {
                let mut e = self
                    .err(ErrorCode::UNKNOWN_OPERATOR, format!("`{other}` is not a logical filter operator"))
                    .operator(other);
                if let Some(c) = closest(other, ops::LOGICAL.iter().copied()) {
                    e = e.fix(format!("did you mean `{c}`?"));
                }
                Err(e.fix("at filter level use $and, $or, $nor, $not or a field name"))
            }
        }
    }

    fn field(&self, key: &str, value: &J) -> Result<Node> {
        let (name, rest) = key.split_once('.').map_or((key, None), |(a, b)| (a, Some(b)));
        let Some(field) = self.schema.any_field(name) else {
            let mut e = self.schema.unknown_field(key);
            if rest.is_some() {
                e = self.schema.unknown_field(name).field(key);
            }
            return Err(e);
        };
        let target = match rest {
            None => Target::Column(field),
            Some(rest) => {
                if field.ty != FieldType::Json {
                    return Err(self
                        .malformed(
                            format!(
                                "`{key}`: dotted paths apply only to JSON fields; `{name}` is {}",
                                field.ty.rust_name()
                            ),
                            format!("filter on `{name}` itself"),
                        )
                        .field(key));
                }
                let segments: Vec<String> = rest.split('.').map(str::to_owned).collect();
                if segments.len() > MAX_PATH_SEGMENTS || !segments.iter().all(|s| valid_segment(s)) {
                    return Err(self
                        .malformed(
                            format!("`{key}` is not a valid JSON path: segments must match [A-Za-z_][A-Za-z0-9_]* (at most {MAX_PATH_SEGMENTS})"),
                            "write paths like \"profile.address.city\"",
                        )
                        .field(key));
                }
                Target::Path { field, segments }
            }
        };
        self.expression(key, target, value, 0)
    }

    /// An operator expression (`{"$gt": 5, "$lt": 9}`) or a bare value (`$eq`) for one target.
    ///
    /// `target` is moved into the last leaf built (the others get a copy).
    fn expression(&self, key: &str, mut target: Target, value: &J, depth: usize) -> Result<Node> {
        if depth > MAX_DEPTH {
            return Err(self.malformed("operator expression nested too deeply", "remove redundant $not").field(key));
        }
        let map = match value {
            J::Object(map) if is_operator_object(map) => map,
            J::Object(map) if !map.is_empty() => {
                let fix = match &target {
                    Target::Path { .. } | Target::Column(FieldDef { ty: FieldType::Json, .. }) => {
                        format!("use a dotted path, e.g. {{\"{key}.{}\": ...}}", map.keys().next().map_or("", |k| k))
                    }
                    _ => "write operators with a `$`, e.g. {\"$gt\": 5}".to_owned(),
                };
                let first = map.keys().find(|k| !k.starts_with('$')).map_or("", |k| k.as_str());
                let mut e = self
                    .err(ErrorCode::UNKNOWN_OPERATOR, format!("`{first}` in the filter of `{key}` is not an operator"));
                if let Some(c) = closest(first, ops::ALL.iter().copied())
                    .or_else(|| closest(&format!("${first}"), ops::ALL.iter().copied()))
                {
                    e = e.fix(format!("did you mean `{c}`?"));
                }
                return Err(e.field(key).operator(first).fix(fix));
            }
            J::Object(_) => {
                return Err(self
                    .malformed(format!("empty operator object for `{key}`"), "write {\"$eq\": ...} or a plain value")
                    .field(key));
            }
            bare => {
                let op = self.eq_op(key, &target, "$eq", bare)?;
                return Ok(Node::leaf(Leaf { target, op }));
            }
        };
        let mut parts = Vec::with_capacity(map.len());
        for (i, (op, v)) in map.iter().enumerate() {
            // The last entry takes `target` itself: no copy of the field definition for it.
            let last = i + 1 == map.len();
            self.bump(1)?;
            if op == "$options" {
                if !map.contains_key("$regex") {
                    return Err(self
                        .malformed(
                            "`$options` needs `$regex` beside it",
                            "write {\"$regex\": \"^a\", \"$options\": \"i\"}",
                        )
                        .field(key)
                        .operator(op));
                }
                continue;
            }
            self.check_applicable(key, &target, op)?;
            if op == "$not" {
                if !matches!(v, J::Object(m) if is_operator_object(m) && !m.is_empty()) {
                    return Err(self
                        .malformed(
                            format!("`$not` on `{key}` needs an operator expression, got {}", shown(v)),
                            format!("write {{\"{key}\": {{\"$not\": {{\"$gt\": 5}}}}}}"),
                        )
                        .field(key)
                        .operator(op));
                }
                let inner = if last { take(&mut target) } else { target.clone() };
                parts.push(Node::Not(Box::new(self.expression(key, inner, v, depth + 1)?)));
                continue;
            }
            if op == "$any" {
                let Target::Column(FieldDef { ty: FieldType::Array(elem), .. }) = &target else { unreachable_op(op)? };
                if !matches!(v, J::Object(m) if is_operator_object(m)) {
                    let example = match elem {
                        ArrayElem::String => "{\"$any\": {\"$startswith\": \"ru\"}}",
                        ArrayElem::Bool => "{\"$any\": {\"$eq\": true}}",
                        _ => "{\"$any\": {\"$gte\": 90}}",
                    };
                    return Err(self
                        .malformed(
                            format!(
                                "`$any` on `{key}` takes an operator object applied to each element, got {}",
                                shown(v)
                            ),
                            format!(
                                "write {{\"{key}\": {example}}}; to test membership of one value use {{\"{key}\": {{\"$contains\": ...}}}}"
                            ),
                        )
                        .field(key)
                        .operator(op));
                }
                let et = Target::Element { ty: elem_type(*elem) };
                let inner = self.expression(key, et, v, depth + 1)?;
                let target = if last { take(&mut target) } else { target.clone() };
                parts.push(Node::leaf(Leaf { target, op: Op::Any(Box::new(inner)) }));
                continue;
            }
            let op = self.op(key, &target, op, v, map)?;
            let target = if last { take(&mut target) } else { target.clone() };
            parts.push(Node::leaf(Leaf { target, op }));
        }
        Ok(if parts.len() == 1 { parts.pop().unwrap_or(Node::And(Vec::new())) } else { Node::And(parts) })
    }

    fn check_applicable(&self, key: &str, target: &Target, op: &str) -> Result<()> {
        let kind = Kind::of(target);
        let allowed = ops::allowed(kind);
        if allowed.contains(&op) {
            return Ok(());
        }
        let known = ops::ALL.contains(&op);
        let msg = if known {
            format!("operator `{op}` does not apply to `{key}` ({})", kind.describe(target))
        } else {
            format!("`{op}` is not a filter operator")
        };
        let mut e = self.err(ErrorCode::UNKNOWN_OPERATOR, msg).field(key).operator(op);
        if let Some(c) = closest(op, allowed.iter().copied()).filter(|_| !known) {
            e = e.fix(format!("did you mean `{c}`?"));
        }
        Err(e.fix(format!("operators for `{key}`: {}", allowed.join(", "))))
    }

    fn op(&self, key: &str, target: &Target, op: &str, v: &J, map: &Map<String, J>) -> Result<Op> {
        Ok(match op {
            "$eq" | "$ne" => self.eq_op(key, target, op, v)?,
            "$gt" | "$gte" | "$lt" | "$lte" => {
                let cmp = match op {
                    "$gt" => Cmp::Gt,
                    "$gte" => Cmp::Gte,
                    "$lt" => Cmp::Lt,
                    _ => Cmp::Lte,
                };
                if v.is_null() {
                    return Err(self.wrong(key, op, "a non-null value (comparisons never match NULL; use $null)", v));
                }
                if let Some(IntOperand::Fraction(f)) = int_operand(target, v) {
                    return Ok(fraction_cmp(target, cmp, f));
                }
                let value = self.value(key, target, op, v)?;
                if matches!(value, Value::Bool(_)) {
                    return Err(self.wrong(key, op, "a string or number (booleans are not ordered; use $eq)", v));
                }
                Op::Cmp(cmp, value)
            }
            "$in" | "$nin" => {
                let J::Array(items) = v else {
                    return Err(self
                        .malformed(
                            format!("`{op}` on `{key}` needs a list, got {}", shown(v)),
                            format!("write {{\"{op}\": [1, 2, 3]}}"),
                        )
                        .field(key)
                        .operator(op));
                };
                self.list_len(key, op, items.len())?;
                let mut values = Vec::with_capacity(items.len());
                let mut null = false;
                for i in items {
                    if i.is_null() && !matches!(target, Target::Element { .. }) {
                        null = true;
                    } else if matches!(int_operand(target, i), Some(IntOperand::Fraction(_))) {
                        // A fractional number equals no integer: it adds nothing to the list.
                    } else {
                        values.push(self.value(key, target, op, i)?);
                    }
                }
                if op == "$in" { Op::In { values, null } } else { Op::Nin { values, null } }
            }
            "$exists" | "$null" => {
                let J::Bool(b) = v else { return Err(self.wrong(key, op, "true or false", v)) };
                Op::IsNull(if op == "$null" { *b } else { !*b })
            }
            "$like" | "$ilike" => {
                let s = self.string(key, op, v)?;
                if op == "$ilike" && s.len() > super::regex::MAX_REGEX_LEN {
                    return Err(self
                        .malformed(
                            format!(
                                "`$ilike` pattern for `{key}` is {} bytes long; at most {} are accepted",
                                s.len(),
                                super::regex::MAX_REGEX_LEN
                            ),
                            "shorten the pattern",
                        )
                        .field(key)
                        .operator(op));
                }
                if trailing_escape(s) {
                    return Err(self
                        .malformed(
                            format!("`{op}` pattern for `{key}` ends with the escape character `\\`"),
                            "escape a literal backslash as `\\\\`",
                        )
                        .field(key)
                        .operator(op));
                }
                if op == "$ilike" {
                    // Case-insensitive LIKE is a case-folded regular expression (one folding rule
                    // on every backend, see `filter/regex.rs`).
                    let hir =
                        super::regex::parse(&ilike_regex(s), true).map_err(|e| self.bad_pattern(key, op, s, &e))?;
                    Op::Regex { pattern: s.to_owned(), hir: Box::new(hir) }
                } else {
                    Op::Like { pattern: s.to_owned() }
                }
            }
            "$startswith" => Op::Like { pattern: format!("{}%", escape_like(self.string(key, op, v)?)) },
            "$endswith" => Op::Like { pattern: format!("%{}", escape_like(self.string(key, op, v)?)) },
            "$contains" => match target {
                Target::Column(FieldDef { ty: FieldType::Array(elem), .. }) => {
                    match self.element_opt(key, op, *elem, v)? {
                        Some(e) => Op::Contains(vec![e]),
                        None => Op::Overlap(Vec::new()),
                    }
                }
                Target::Path { .. } => {
                    if v.is_null() {
                        return Err(self.wrong(key, op, "a string, number or boolean", v));
                    }
                    Op::PathContains(self.value(key, target, op, v)?)
                }
                _ => Op::Like { pattern: format!("%{}%", escape_like(self.string(key, op, v)?)) },
            },
            "$regex" => {
                let pattern = self.string(key, op, v)?.to_owned();
                let ci: bool = match map.get("$options") {
                    None => false,
                    Some(J::String(o)) if o.is_empty() || o == "i" => o == "i",
                    Some(o) => {
                        return Err(self
                            .malformed(
                                format!("`$options` for `{key}` must be \"i\" or \"\", got {}", shown(o)),
                                "write {\"$regex\": \"^a\", \"$options\": \"i\"}",
                            )
                            .field(key)
                            .operator("$options"));
                    }
                };
                let hir = super::regex::parse(&pattern, ci).map_err(|e| self.bad_pattern(key, op, &pattern, &e))?;
                Op::Regex { pattern, hir: Box::new(hir) }
            }
            "$all" | "$overlap" => {
                let Target::Column(FieldDef { ty: FieldType::Array(elem), .. }) = target else { unreachable_op(op)? };
                let J::Array(items) = v else {
                    return Err(self.wrong(key, op, FieldType::Array(*elem).expected(), v));
                };
                self.list_len(key, op, items.len())?;
                let mut values = Vec::with_capacity(items.len());
                let mut fraction = false;
                for i in items {
                    match self.element_opt(key, op, *elem, i)? {
                        Some(e) => values.push(e),
                        None => fraction = true,
                    }
                }
                if op == "$all" {
                    if fraction {
                        // Some wanted element is a fractional number: no integer array holds it.
                        return Ok(Op::Overlap(Vec::new()));
                    }
                    if values.is_empty() {
                        return Err(self
                            .malformed(
                                format!("`$all` on `{key}` needs at least one element"),
                                "write {\"$all\": [\"a\", \"b\"]}",
                            )
                            .field(key)
                            .operator(op));
                    }
                    Op::Contains(values)
                } else {
                    Op::Overlap(values)
                }
            }
            "$size" => match v.as_i64() {
                Some(n) if n >= 0 => Op::Size(n),
                _ => return Err(self.wrong(key, op, "a non-negative integer", v)),
            },
            other => unreachable_op(other)?,
        })
    }

    /// `$eq` / `$ne` (and bare values): null becomes IS [NOT] NULL.
    fn eq_op(&self, key: &str, target: &Target, op: &str, v: &J) -> Result<Op> {
        let eq = op == "$eq";
        if v.is_null() {
            if matches!(target, Target::Element { .. }) {
                return Err(self.wrong(key, op, "a non-null element (array elements are never null)", v));
            }
            return Ok(Op::IsNull(eq));
        }
        if let (Target::Column(FieldDef { ty: FieldType::Array(elem), .. }), J::Array(items)) = (target, v) {
            self.list_len(key, op, items.len())?;
            let mut values = Vec::with_capacity(items.len());
            for i in items {
                match self.element_opt(key, op, *elem, i)? {
                    Some(e) => values.push(e),
                    // A fractional number equals no integer element: no array equals the operand.
                    None => {
                        return Ok(if eq {
                            Op::Overlap(Vec::new())
                        } else {
                            Op::Nin { values: Vec::new(), null: false }
                        });
                    }
                }
            }
            return Ok(if eq { Op::ArrayEq(values) } else { Op::ArrayNe(values) });
        }
        if let Some(IntOperand::Fraction(_)) = int_operand(target, v) {
            // A fractional number equals no integer: `$eq` matches nothing, `$ne` everything (NULL included).
            return Ok(if eq {
                Op::In { values: Vec::new(), null: false }
            } else {
                Op::Nin { values: Vec::new(), null: false }
            });
        }
        match target {
            Target::Column(f) if matches!(f.ty, FieldType::Json | FieldType::Array(_)) => {
                let fix = if f.ty == FieldType::Json {
                    format!(
                        "compare inside the document with a dotted path, e.g. {{\"{key}.name\": ...}}, or use $null"
                    )
                } else {
                    format!(
                        "to test whether the array holds a value use {{\"{key}\": {{\"$contains\": {}}}}}; \
                         to compare the whole array pass a list, e.g. {{\"{key}\": [{}]}}",
                        shown(v),
                        shown(v)
                    )
                };
                return Err(self
                    .err(
                        ErrorCode::UNKNOWN_OPERATOR,
                        if f.ty == FieldType::Json {
                            format!(
                                "`{op}` with a value does not apply to `{key}` ({}); only null is accepted",
                                f.ty.rust_name()
                            )
                        } else {
                            format!(
                                "`{op}` on `{key}` ({}) compares the whole array and needs a list, got {}",
                                f.ty.rust_name(),
                                shown(v)
                            )
                        },
                    )
                    .field(key)
                    .operator(op)
                    .fix(fix));
            }
            _ => {}
        }
        let value = self.value(key, target, op, v)?;
        Ok(if eq { Op::Eq(value) } else { Op::Ne(value) })
    }

    /// A non-null operand for a target, validated like `Value::from_json` (DF-102).
    fn value(&self, key: &str, target: &Target, op: &str, v: &J) -> Result<Value> {
        if let Some(IntOperand::Int(j)) = int_operand(target, v) {
            return self.value(key, target, op, &j);
        }
        match target {
            Target::Column(f) => match Value::from_json_typed(v, f.ty) {
                Some(value) => Ok(value),
                // Slow path for the message: `Value::from_json` names the field and the expected type.
                None => Err(Value::from_json(v, f).err().unwrap_or_else(|| self.wrong(key, op, f.ty.expected(), v)))
                    .map_err(|e| e.model(&self.schema.name).field(key).operator(op)),
            },
            Target::Element { ty } => {
                Value::from_json_typed(v, *ty).ok_or_else(|| self.wrong(key, op, ty.expected(), v))
            }
            Target::Path { .. } => match v {
                J::String(s) => Ok(Value::String(s.clone())),
                J::Bool(b) => Ok(Value::Bool(*b)),
                J::Number(n) => n.as_f64().map(Value::F64).ok_or_else(|| self.wrong(key, op, "a finite number", v)),
                _ => Err(self.wrong(key, op, "a string, number, boolean or null (JSON path values are scalars)", v)),
            },
        }
    }

    /// An array element operand; `None` for a fractional number on an integer array (equals no element).
    fn element_opt(&self, key: &str, op: &str, elem: ArrayElem, v: &J) -> Result<Option<Value>> {
        let target = Target::Element { ty: elem_type(elem) };
        let v = match int_operand(&target, v) {
            Some(IntOperand::Fraction(_)) => return Ok(None),
            Some(IntOperand::Int(j)) => j,
            None => v.clone(),
        };
        Value::from_json_elem(&v, elem).map(Some).ok_or_else(|| self.wrong(key, op, elem_type(elem).expected(), &v))
    }

    /// DF-105 for a `$regex` / `$ilike` pattern that is invalid or outside the portable subset.
    fn bad_pattern(&self, key: &str, op: &str, pattern: &str, e: &super::regex::PatternError) -> Error {
        self.malformed(
            format!(
                "`{op}` pattern for `{key}` is not a valid portable regular expression{}: {} (pattern {})",
                e.position.map_or_else(String::new, |p| format!(" at character {p}")),
                e.message,
                shown(&J::String(pattern.to_owned()))
            ),
            "see docs/guide/filters.md, \"Regular expressions\", for the syntax every backend accepts; \
             escape metacharacters such as ( [ { . * + ? with a backslash to match them literally",
        )
        .field(key)
        .operator(op)
    }

    fn string<'j>(&self, key: &str, op: &str, v: &'j J) -> Result<&'j str> {
        v.as_str().ok_or_else(|| self.wrong(key, op, "a string", v))
    }

    fn wrong(&self, key: &str, op: &str, expected: &str, got: &J) -> Error {
        self.err(ErrorCode::WRONG_TYPE, format!("`{op}` on `{key}` expects {expected}, got {}", shown(got)))
            .field(key)
            .operator(op)
            .fix(format!("pass {expected} to `{op}`"))
    }
}

/// The regular expression of a case-insensitive LIKE pattern (folding is applied when parsing it).
/// A leading or trailing `%` drops the anchor on that side instead of printing "any run of
/// characters": `%abc%` searches for `abc`.
fn ilike_regex(pattern: &str) -> String {
    let re = super::render::like_to_regex(pattern, false);
    let body = re.strip_prefix("(?s)^").unwrap_or(&re);
    let body = body.strip_suffix('$').unwrap_or(body);
    // `.*` at either end came from an unescaped `%` (a literal `.` is printed `\.`), but a trailing
    // `\.*` is an escaped dot repeated: only strip when the `.` is not escaped.
    let (lead, body) = match body.strip_prefix(".*") {
        Some(rest) => ("", rest),
        None => ("^", body),
    };
    let escaped_tail =
        |b: &str| b.strip_suffix(".*").is_some_and(|r| r.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1);
    let (body, tail) = match body.strip_suffix(".*") {
        Some(rest) if !escaped_tail(body) => (rest, ""),
        _ => (body, "$"),
    };
    format!("(?s){lead}{body}{tail}")
}

/// A JSON number operand on an integer target that is not an integer literal.
fn int_operand(target: &Target, v: &J) -> Option<IntOperand> {
    let int = match target {
        Target::Column(f) => matches!(f.ty, FieldType::I32 | FieldType::I64),
        Target::Element { ty } => matches!(ty, FieldType::I32 | FieldType::I64),
        Target::Path { .. } => false,
    };
    let J::Number(n) = v else { return None };
    if !int || n.is_i64() || n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    // 2^63 bounds the i64 range exactly in f64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        #[allow(clippy::cast_possible_truncation)]
        Some(IntOperand::Int(J::from(f as i64)))
    } else {
        Some(IntOperand::Fraction(f))
    }
}

/// An ordering comparison of an integer target with a fractional number, as an integer comparison:
/// `> 17.5` and `>= 17.5` are `>= 18`, `< 17.5` and `<= 17.5` are `<= 17`; bounds past the type's
/// range match every non-null value or nothing.
fn fraction_cmp(target: &Target, cmp: Cmp, f: f64) -> Op {
    let (min, max) = match target {
        Target::Column(FieldDef { ty: FieldType::I32, .. }) | Target::Element { ty: FieldType::I32 } => {
            (f64::from(i32::MIN), f64::from(i32::MAX))
        }
        _ => (-9_223_372_036_854_775_808.0, 9_223_372_036_854_775_807.0),
    };
    let nothing = Op::In { values: Vec::new(), null: false };
    let every = if matches!(target, Target::Element { .. }) {
        Op::Nin { values: Vec::new(), null: false }
    } else {
        Op::IsNull(false)
    };
    let int = |b: f64| match target {
        Target::Column(FieldDef { ty: FieldType::I32, .. }) | Target::Element { ty: FieldType::I32 } =>
        {
            #[allow(clippy::cast_possible_truncation)]
            Value::I32(b as i32)
        }
        #[allow(clippy::cast_possible_truncation)]
        _ => Value::I64(b as i64),
    };
    match cmp {
        Cmp::Gt | Cmp::Gte => {
            let b = f.ceil();
            if b > max || f.is_nan() {
                nothing
            } else if b <= min {
                every
            } else {
                Op::Cmp(Cmp::Gte, int(b))
            }
        }
        Cmp::Lt | Cmp::Lte => {
            let b = f.floor();
            if b < min || f.is_nan() {
                nothing
            } else if b >= max {
                every
            } else {
                Op::Cmp(Cmp::Lte, int(b))
            }
        }
    }
}

fn unreachable_op<T>(op: &str) -> Result<T> {
    // `check_applicable` admits only operators handled above; keep a typed error instead of a panic.
    Err(Error::new(ErrorCode::UNKNOWN_OPERATOR, format!("operator `{op}` is not supported here")).operator(op))
}

/// The scalar type of an array element.
pub(crate) fn elem_type(e: ArrayElem) -> FieldType {
    match e {
        ArrayElem::String => FieldType::String,
        ArrayElem::I64 => FieldType::I64,
        ArrayElem::F64 => FieldType::F64,
        ArrayElem::Bool => FieldType::Bool,
    }
}

/// A non-empty object whose keys are all operators (`{}` is not an operator expression).
fn is_operator_object(map: &Map<String, J>) -> bool {
    !map.is_empty() && map.keys().all(|k| k.starts_with('$'))
}

fn valid_segment(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

/// Escapes `%`, `_` and `\` so a literal string can sit inside a LIKE pattern (escape char `\`).
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn trailing_escape(s: &str) -> bool {
    s.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

fn shown(v: &J) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 { format!("{}…", s.chars().take(60).collect::<String>()) } else { s }
}

/// `target`, leaving a cheap placeholder behind (for the last use of a target in a loop).
fn take(target: &mut Target) -> Target {
    std::mem::replace(target, Target::Element { ty: FieldType::Bool })
}
