//! Renders a validated filter tree to a sea-query [`Condition`] for one dialect.
//!
//! Negation is two-valued: `NOT x` is rendered `(x) IS NOT TRUE`, so a row on which `x` is
//! unknown (NULL) matches the negation, exactly like the reference evaluator. Dialect
//! differences live behind [`Backend`], one file per dialect.

mod mysql;
mod postgres;
mod shape;
mod sqlite;

use sea_query::{Alias, BinOper, Condition, Expr, ExprTrait};

use super::ast::{Cmp, Leaf, Node, Op, Target};
use crate::Dialect;
use crate::schema::FieldType;
use crate::value::Value;

/// The scalar type a JSON path value is compared as (from the operand's JSON type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathKind {
    Text,
    Number,
    Bool,
}

impl PathKind {
    fn of(v: &Value) -> PathKind {
        match v {
            Value::Bool(_) => PathKind::Bool,
            Value::F64(_) => PathKind::Number,
            _ => PathKind::Text,
        }
    }

    fn ty(self) -> FieldType {
        match self {
            PathKind::Text => FieldType::String,
            PathKind::Number => FieldType::F64,
            PathKind::Bool => FieldType::Bool,
        }
    }
}

/// What differs between dialects. Every method builds SQL from schema identifiers, fixed
/// keywords and placeholders only; operands are bound values.
pub(crate) trait Backend {
    /// The dialect.
    fn dialect(&self) -> Dialect;
    /// A string expression ordered by code point (PostgreSQL: `COLLATE "C"`).
    fn ordered_text(&self, e: Expr) -> Expr {
        e
    }
    /// A string extracted from JSON, compared case- and pad-sensitively (MySQL/MariaDB: binary collation).
    fn json_text(&self, e: Expr) -> Expr {
        e
    }
    /// A decimal column or operand in comparable form (SQLite stores decimals as text).
    fn decimal(&self, e: Expr) -> Expr {
        e
    }
    /// Case-sensitive LIKE with `\` as escape character (binds [`Backend::like_operand`]).
    fn like(&self, lhs: Expr, pattern: &str) -> Expr;
    /// The one value [`Backend::like`] binds after the left-hand side (the shape cache,
    /// `render/shape.rs`, re-binds it without rendering).
    fn like_operand(&self, pattern: &str) -> sea_query::Value {
        pattern.into()
    }
    /// The values one `(column, path)` pair binds in [`Backend::path_typed`] (twice) and
    /// [`Backend::path_is_null`] (once), appended to `out`.
    fn path_operands(&self, segments: &[String], out: &mut Vec<sea_query::Value>);
    /// The values [`Backend::contains`] binds, appended to `out`.
    fn contains_operands(&self, ty: FieldType, values: &[Value], native: bool, out: &mut Vec<sea_query::Value>);
    /// Case-sensitive regular-expression search with a pattern printed by `filter/regex.rs`
    /// (case-insensitivity is already folded into it).
    fn regex(&self, lhs: Expr, pattern: &str) -> Expr;
    /// The value at a JSON path as a SQL scalar of `kind`, or NULL when missing or of another JSON type.
    fn path_typed(&self, col: Expr, segments: &[String], kind: PathKind) -> Expr;
    /// True when the path is missing or holds JSON null (or the column is NULL).
    fn path_is_null(&self, col: Expr, segments: &[String]) -> Expr;
    /// The array contains every value (non-empty).
    fn contains(&self, col: Expr, ty: FieldType, values: &[Value], native: bool) -> Expr;
    /// The array contains at least one of the values (non-empty).
    fn overlap(&self, col: Expr, ty: FieldType, values: &[Value], native: bool) -> Expr;
    /// The array's length equals `n`.
    fn size(&self, col: Expr, n: i64, native: bool) -> Expr;
    /// The expression naming one element inside [`Backend::any_exists`].
    fn any_elem(&self, elem: FieldType, native: bool) -> Expr;
    /// Some element satisfies `pred` (written over [`Backend::any_elem`]).
    fn any_exists(&self, col: Expr, elem: FieldType, native: bool, pred: Expr) -> Expr;
    /// The array column equals `values` exactly (length, order, duplicates); NULL when the column is NULL.
    fn array_eq(&self, col: Expr, ty: FieldType, values: &[Value], native: bool) -> Expr;
    /// The value at the JSON path is an array holding an element of `v`'s JSON type equal to `v`
    /// (`v` is a string, an `F64` number or a boolean).
    fn path_array_has(&self, col: Expr, segments: &[String], v: &Value) -> Expr;
}

/// Conditions per group when a long `$and`/`$or`/`$nor` list is rendered: lists are split into
/// balanced groups so neither sea-query's recursive builder nor the database's expression-depth
/// limit (SQLite: 1000) sees a chain longer than this.
const GROUP: usize = 32;

/// The backend for a dialect.
pub(crate) fn backend(d: Dialect) -> &'static dyn Backend {
    match d {
        Dialect::Postgres => &postgres::Postgres,
        Dialect::MySql => &mysql::MARIADB,
        Dialect::Sqlite => &sqlite::Sqlite,
    }
}

/// The MySQL 8 backend (MariaDB is [`backend`]`(Dialect::MySql)`).
pub(crate) fn mysql8() -> &'static dyn Backend {
    &mysql::MYSQL8
}

/// A custom expression from a template whose `?` marks are replaced, in order, by `args`
/// (`$1`, `$2`, ... on PostgreSQL, as sea-query numbers them per custom expression).
/// Templates are fixed strings of this module: never user input.
pub(crate) fn cust(d: Dialect, template: &str, args: Vec<Expr>) -> Expr {
    let sql = if d == Dialect::Postgres {
        let mut out = String::with_capacity(template.len() + 8);
        let mut n = 0;
        for c in template.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        template.to_owned()
    };
    Expr::cust_with_exprs(sql, args)
}

/// The left-hand side of a scalar comparison.
struct Lhs {
    expr: Expr,
    ty: FieldType,
    nullable: bool,
    /// Strings that come out of JSON (paths, elements).
    from_json: bool,
}

pub(crate) struct Renderer {
    pub b: &'static dyn Backend,
    pub native: bool,
}

fn truth(b: bool) -> Expr {
    Expr::from(if b { Condition::all() } else { Condition::any() })
}

impl Renderer {
    fn d(&self) -> Dialect {
        self.b.dialect()
    }

    /// Two-valued negation: `(e) IS NOT TRUE` (sea-query parenthesizes `e` as needed).
    fn not(&self, e: Expr) -> Expr {
        e.binary(BinOper::IsNot, Expr::custom_keyword("TRUE"))
    }

    pub(crate) fn condition(&self, node: &Node) -> Condition {
        match node {
            Node::And(ch) => self.list(ch, Condition::all),
            Node::Or(ch) => self.list(ch, Condition::any),
            Node::Nor(ch) => {
                let any = self.list(ch, Condition::any);
                Condition::all().add(self.not(any.into()))
            }
            Node::Not(x) => Condition::all().add(self.not(self.condition(x).into())),
            Node::Leaf(l) => Condition::all().add(self.leaf(l)),
        }
    }

    /// A flat list of conditions joined by `new()` (AND or OR); lists longer than [`GROUP`] become
    /// a balanced tree of parenthesized groups (the same meaning, bounded nesting depth).
    fn list(&self, ch: &[Node], new: fn() -> Condition) -> Condition {
        if ch.len() <= GROUP {
            return ch.iter().fold(new(), |c, n| c.add(self.condition(n)));
        }
        let size = ch.len().div_ceil(GROUP).max(GROUP);
        ch.chunks(size).fold(new(), |c, part| c.add(self.list(part, new)))
    }

    fn leaf(&self, leaf: &Leaf) -> Expr {
        match &leaf.target {
            Target::Column(f) => {
                let col = Expr::col(Alias::new(f.column()));
                match &leaf.op {
                    Op::Contains(v) => self.b.contains(col, f.ty, v, self.native),
                    Op::Overlap(v) if v.is_empty() => truth(false),
                    Op::Overlap(v) => self.b.overlap(col, f.ty, v, self.native),
                    Op::Size(n) => self.b.size(col, *n, self.native),
                    Op::ArrayEq(v) => self.b.array_eq(col, f.ty, v, self.native),
                    Op::ArrayNe(v) => self.not(self.b.array_eq(col, f.ty, v, self.native)),
                    Op::Any(inner) => {
                        let FieldType::Array(e) = f.ty else { return truth(false) };
                        let ety = super::parse::elem_type(e);
                        let pred = self.element_condition(inner, ety);
                        self.b.any_exists(col, ety, self.native, pred)
                    }
                    op => {
                        let lhs = Lhs {
                            expr: col,
                            ty: f.ty,
                            nullable: f.nullable || f.ty == FieldType::Json,
                            from_json: false,
                        };
                        self.scalar(&lhs, op)
                    }
                }
            }
            Target::Path { field, segments } => self.path(Expr::col(Alias::new(field.column())), segments, &leaf.op),
            Target::Element { ty } => {
                let lhs = Lhs { expr: self.b.any_elem(*ty, self.native), ty: *ty, nullable: false, from_json: true };
                self.scalar(&lhs, &leaf.op)
            }
        }
    }

    /// The predicate inside `$any`, over the element expression.
    fn element_condition(&self, node: &Node, _ty: FieldType) -> Expr {
        self.condition(node).into()
    }

    fn bind(&self, v: &Value, ty: FieldType) -> Expr {
        let e = Expr::val(v.to_sea(ty, self.d(), self.native));
        if ty == FieldType::Decimal { self.b.decimal(e) } else { e }
    }

    fn scalar(&self, lhs: &Lhs, op: &Op) -> Expr {
        let text = lhs.ty == FieldType::String;
        let mut eq_lhs = lhs.expr.clone();
        if lhs.ty == FieldType::Decimal {
            eq_lhs = self.b.decimal(eq_lhs);
        }
        if text && lhs.from_json {
            eq_lhs = self.b.json_text(eq_lhs);
        }
        let is_null = || lhs.expr.clone().is_null();
        let or_null = |e: Expr| if lhs.nullable { Expr::from(Condition::any().add(e).add(is_null())) } else { e };
        match op {
            Op::IsNull(true) => is_null(),
            Op::IsNull(false) => lhs.expr.clone().is_not_null(),
            Op::Eq(v) => eq_lhs.eq(self.bind(v, lhs.ty)),
            Op::Ne(v) => or_null(eq_lhs.ne(self.bind(v, lhs.ty))),
            Op::Cmp(c, v) => {
                let l = if text { self.b.ordered_text(eq_lhs) } else { eq_lhs };
                let r = self.bind(v, lhs.ty);
                match c {
                    Cmp::Gt => l.gt(r),
                    Cmp::Gte => l.gte(r),
                    Cmp::Lt => l.lt(r),
                    Cmp::Lte => l.lte(r),
                }
            }
            Op::In { values, null } => {
                let base = if values.is_empty() {
                    truth(false)
                } else {
                    eq_lhs.is_in(values.iter().map(|v| self.bind(v, lhs.ty)))
                };
                if *null { Expr::from(Condition::any().add(base).add(is_null())) } else { base }
            }
            Op::Nin { values, null } => match (values.is_empty(), null) {
                (true, true) => lhs.expr.clone().is_not_null(),
                (true, false) => truth(true),
                (false, true) => eq_lhs.is_not_in(values.iter().map(|v| self.bind(v, lhs.ty))),
                (false, false) => or_null(eq_lhs.is_not_in(values.iter().map(|v| self.bind(v, lhs.ty)))),
            },
            Op::Like { pattern } => self.b.like(eq_lhs, pattern),
            Op::Regex { hir, .. } => match super::regex::print(hir, self.d()) {
                Ok(p) => self.b.regex(eq_lhs, &p),
                // Unreachable: the parser printed the same pattern successfully.
                Err(_) => truth(false),
            },
            // Array operators only reach `leaf` on array columns, `PathContains` only `path`.
            Op::Contains(_)
            | Op::Overlap(_)
            | Op::Size(_)
            | Op::Any(_)
            | Op::ArrayEq(_)
            | Op::ArrayNe(_)
            | Op::PathContains(_) => truth(false),
        }
    }

    fn path(&self, col: Expr, segs: &[String], op: &Op) -> Expr {
        let typed = |kind: PathKind| Lhs {
            expr: self.b.path_typed(col.clone(), segs, kind),
            ty: kind.ty(),
            nullable: true,
            from_json: true,
        };
        match op {
            Op::IsNull(true) => self.b.path_is_null(col, segs),
            Op::IsNull(false) => self.not(self.b.path_is_null(col, segs)),
            Op::Eq(v) | Op::Cmp(_, v) => self.scalar(&typed(PathKind::of(v)), op),
            Op::Ne(v) => self.not(self.scalar(&typed(PathKind::of(v)), &Op::Eq(v.clone()))),
            Op::In { values, null } => {
                let mut any = Condition::any();
                for kind in [PathKind::Text, PathKind::Number, PathKind::Bool] {
                    let vs: Vec<Value> = values.iter().filter(|v| PathKind::of(v) == kind).cloned().collect();
                    if !vs.is_empty() {
                        any = any.add(self.scalar(&typed(kind), &Op::In { values: vs, null: false }));
                    }
                }
                if *null {
                    any = any.add(self.b.path_is_null(col, segs));
                }
                any.into()
            }
            Op::Nin { values, null } => self.not(self.path(col, segs, &Op::In { values: values.clone(), null: *null })),
            Op::Like { .. } | Op::Regex { .. } => self.scalar(&typed(PathKind::Text), op),
            Op::PathContains(v) => {
                let mut any = Condition::any();
                if let Value::String(s) = v {
                    let like = Op::Like { pattern: format!("%{}%", super::parse::escape_like(s)) };
                    any = any.add(self.scalar(&typed(PathKind::Text), &like));
                }
                any.add(self.b.path_array_has(col, segs, v)).into()
            }
            Op::Contains(_) | Op::Overlap(_) | Op::Size(_) | Op::Any(_) | Op::ArrayEq(_) | Op::ArrayNe(_) => {
                truth(false)
            }
        }
    }
}

/// Translates a LIKE pattern (escape `\`) into an anchored regular expression (`(?s)` so `%` spans lines).
pub(crate) fn like_to_regex(pattern: &str, ci: bool) -> String {
    let mut out = String::from(if ci { "(?is)^" } else { "(?s)^" });
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    push_regex_literal(&mut out, n);
                }
            }
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            c => push_regex_literal(&mut out, c),
        }
    }
    out.push('$');
    out
}

fn push_regex_literal(out: &mut String, c: char) {
    if matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' | '#' | '&' | '-' | '~'
    ) {
        out.push('\\');
    }
    out.push(c);
}

/// Translates a LIKE pattern (escape `\`) into a case-sensitive SQLite GLOB pattern.
pub(crate) fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    push_glob_literal(&mut out, n);
                }
            }
            '%' => out.push('*'),
            '_' => out.push('?'),
            c => push_glob_literal(&mut out, c),
        }
    }
    out
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' => out.push_str("[*]"),
        '?' => out.push_str("[?]"),
        '[' => out.push_str("[[]"),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_translations_keep_literals_literal() {
        assert_eq!(like_to_glob(r"a\%b%_*?[x]"), "a%b*?[*][?][[]x]");
        assert_eq!(like_to_regex(r"a\_b%.(", true), r"(?is)^a_b.*\.\($");
        assert_eq!(like_to_regex(r"\\x_", false), r"(?s)^\\x.$");
    }

    #[test]
    fn postgres_templates_are_numbered() {
        let e = cust(Dialect::Postgres, "f(?, ?)", vec![Expr::val(1), Expr::val(2)]);
        let q = sea_query::Query::select().expr(e).to_owned();
        let (sql, values) = q.build(sea_query::PostgresQueryBuilder);
        assert_eq!(sql, "SELECT f($1, $2)");
        assert_eq!(values.0.len(), 2);
    }
}
