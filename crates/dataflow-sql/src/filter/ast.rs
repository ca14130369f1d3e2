//! The validated filter tree and the questions the runtime asks of it.

use crate::Value;
use crate::schema::{FieldDef, FieldType, ModelSchema};

/// A node of the filter tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Every child matches (`{}` is an empty `And`).
    And(Vec<Node>),
    /// At least one child matches (never empty).
    Or(Vec<Node>),
    /// No child matches (never empty).
    Nor(Vec<Node>),
    /// The child does not match. Two-valued: a row on which the child is unknown (NULL) matches.
    Not(Box<Node>),
    /// One operator applied to one target.
    Leaf(Box<Leaf>),
}

/// One operator on one target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Leaf {
    pub target: Target,
    pub op: Op,
}

/// What an operator applies to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// A user or managed column.
    Column(FieldDef),
    /// A dotted path inside a JSON column; segments are identifier-like.
    Path { field: FieldDef, segments: Vec<String> },
    /// The element of an array field, inside `$any` (`ty` is the element's scalar type).
    Element { ty: FieldType },
}

/// Ordering comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// An operator with its validated operands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// `IS NULL` (true) or `IS NOT NULL` (false): `$eq: null`, `$ne: null`, `$exists`, `$null`.
    IsNull(bool),
    /// Equality with a non-null value.
    Eq(Value),
    /// Null-inclusive inequality with a non-null value.
    Ne(Value),
    /// Ordering comparison; NULL never matches.
    Cmp(Cmp, Value),
    /// Membership; `null` says whether `null` was in the list (then NULL matches too).
    In { values: Vec<Value>, null: bool },
    /// Null-inclusive non-membership (NULL is excluded when `null` is set).
    Nin { values: Vec<Value>, null: bool },
    /// A case-sensitive LIKE pattern with `\` as the escape character (`$like`, and the literal
    /// string operators rewritten to it; `$ilike` becomes [`Op::Regex`]).
    Like { pattern: String },
    /// A regular expression, parsed and validated (`$regex`, and `$ilike` translated to one).
    /// Case-insensitivity is already folded into `hir` (see `filter/regex.rs`).
    Regex { pattern: String, hir: Box<regex_syntax::hir::Hir> },
    /// Whole-array equality on an array field: same length, same elements in the same order.
    ArrayEq(Vec<Value>),
    /// Null-inclusive negation of [`Op::ArrayEq`].
    ArrayNe(Vec<Value>),
    /// `$contains` on a JSON path: element membership when the value there is an array (typed
    /// like path `$eq`), substring when it is a string and the operand is a string.
    PathContains(Value),
    /// Array contains every listed element (`$contains` has one, `$all` one or more).
    Contains(Vec<Value>),
    /// Array shares at least one element with the list (empty list: matches nothing).
    Overlap(Vec<Value>),
    /// Array has exactly this many elements.
    Size(i64),
    /// Some element of the array satisfies the nested node (whose leaves target `Target::Element`).
    Any(Box<Node>),
}

impl Node {
    /// True when the node matches every row by construction.
    pub(crate) fn matches_everything(&self) -> bool {
        match self {
            Node::And(ch) => ch.iter().all(Node::matches_everything),
            Node::Or(ch) => ch.iter().any(Node::matches_everything),
            Node::Nor(ch) => ch.iter().all(Node::matches_nothing),
            Node::Not(x) => x.matches_nothing(),
            Node::Leaf(l) => l.matches_everything(),
        }
    }

    /// True when the node matches no row by construction.
    pub(crate) fn matches_nothing(&self) -> bool {
        match self {
            Node::And(ch) => ch.iter().any(Node::matches_nothing),
            Node::Or(ch) => ch.iter().all(Node::matches_nothing),
            Node::Nor(ch) => ch.iter().any(Node::matches_everything),
            Node::Not(x) => x.matches_everything(),
            Node::Leaf(l) => l.matches_nothing(),
        }
    }

    /// How many operand values the tree holds (an estimate of its bound parameters).
    pub(crate) fn value_count(&self) -> usize {
        let mut n = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            match node {
                Node::And(ch) | Node::Or(ch) | Node::Nor(ch) => stack.extend(ch.iter()),
                Node::Not(x) => stack.push(x),
                Node::Leaf(l) => {
                    n += match &l.op {
                        Op::In { values, .. }
                        | Op::Nin { values, .. }
                        | Op::Contains(values)
                        | Op::Overlap(values)
                        | Op::ArrayEq(values)
                        | Op::ArrayNe(values) => values.len() + 1,
                        Op::Any(inner) => {
                            stack.push(inner);
                            1
                        }
                        _ => 1,
                    } + match &l.target {
                        Target::Path { segments, .. } => 2 * segments.len() + 2,
                        _ => 0,
                    };
                }
            }
        }
        n
    }

    /// Pushes the equality leaves reachable through `And` only (field name, value).
    fn pinned<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Node::And(ch) => ch.iter().for_each(|c| c.pinned(out)),
            Node::Leaf(l) => match (&l.target, &l.op) {
                (Target::Column(f), Op::Eq(_)) => out.push(&f.name),
                (Target::Column(f), Op::In { values, null: false }) if values.len() == 1 => out.push(&f.name),
                _ => {}
            },
            _ => {}
        }
    }

    /// The value of the first `field = value` leaf reachable through `And` only.
    pub(crate) fn pinned_value(&self, field: &str) -> Option<&Value> {
        match self {
            Node::And(ch) => ch.iter().find_map(|c| c.pinned_value(field)),
            Node::Leaf(l) => match (&l.target, &l.op) {
                (Target::Column(f), Op::Eq(v)) if f.name == field => Some(v),
                (Target::Column(f), Op::In { values, null: false }) if f.name == field && values.len() == 1 => {
                    values.first()
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// True when the node pins at most one row: equality on `id`, a unique field or every field of a unique index.
    pub(crate) fn identifies_one(&self, schema: &ModelSchema) -> bool {
        let mut pinned = Vec::new();
        self.pinned(&mut pinned);
        if pinned.iter().any(|f| schema.is_unique_key(&[f])) {
            return true;
        }
        schema.indexes.iter().filter(|ix| ix.unique).any(|ix| ix.fields.iter().all(|f| pinned.contains(&f.as_str())))
    }
}

impl Leaf {
    fn non_nullable_column(&self) -> bool {
        matches!(&self.target, Target::Column(f) if !f.nullable && f.ty != FieldType::Json)
    }

    fn matches_everything(&self) -> bool {
        match &self.op {
            Op::Nin { values, null: false } => values.is_empty(),
            Op::IsNull(false) => self.non_nullable_column(),
            _ => false,
        }
    }

    fn matches_nothing(&self) -> bool {
        match &self.op {
            Op::In { values, null: false } | Op::Overlap(values) => values.is_empty(),
            Op::IsNull(true) => self.non_nullable_column(),
            _ => false,
        }
    }
}

impl Node {
    /// A leaf node.
    pub(crate) fn leaf(l: Leaf) -> Node {
        Node::Leaf(Box::new(l))
    }
}
