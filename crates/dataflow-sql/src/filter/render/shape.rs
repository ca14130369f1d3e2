//! Filter shapes for the rendered-text cache ([`crate::filter::ShapeCache`]).
//!
//! [`Renderer::shape`] walks a filter tree the way [`Renderer::condition`] renders it and writes
//! (a) a key holding everything the SQL text depends on — node kinds, list lengths, field names,
//! operators, path segments, the JSON kind of path operands, the `null` flags of `$in`/`$nin` — and
//! (b) the values the rendered statement binds, in placeholder order. Two filters with the same
//! key render the same SQL text; only the bound values differ, so a cached text is re-bound with
//! (b) instead of being rendered again.
//!
//! The walk mirrors the renderer by hand. Two guards keep a mismatch from ever reaching the
//! database: the cache checks, when it first renders a shape, that (b) equals the values the
//! renderer bound (otherwise the shape is never served from the cache), and
//! `tests/filter_shape_cache.rs` compares cached and fresh renders over random filters.
//! Operators not mirrored here (`$size`, `$any`, whole-array equality, `$overlap`/`$in` on arrays,
//! `$contains` on a JSON path) make the walk return `false`: such filters are always rendered.

use sea_query::Value as Sea;

use super::super::ast::{Cmp, Leaf, Node, Op, Target};
use super::{PathKind, Renderer};
use crate::schema::FieldType;

fn len(key: &mut Vec<u8>, n: usize) {
    key.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn name(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(s.as_bytes());
    key.push(0);
}

fn kind_byte(k: PathKind) -> u8 {
    match k {
        PathKind::Text => b't',
        PathKind::Number => b'n',
        PathKind::Bool => b'b',
    }
}

impl Renderer {
    /// Appends the shape of `node` to `key` and the values its rendering binds to `out`. False
    /// when the tree holds an operator this walk does not mirror (then nothing may be cached).
    pub(crate) fn shape(&self, node: &Node, key: &mut Vec<u8>, out: &mut Vec<Sea>) -> bool {
        match node {
            Node::And(ch) | Node::Or(ch) | Node::Nor(ch) => {
                key.push(match node {
                    Node::And(_) => b'&',
                    Node::Or(_) => b'|',
                    _ => b'!',
                });
                len(key, ch.len());
                ch.iter().all(|c| self.shape(c, key, out))
            }
            Node::Not(x) => {
                key.push(b'~');
                self.shape(x, key, out)
            }
            Node::Leaf(l) => {
                key.push(b'L');
                self.leaf_shape(l, key, out)
            }
        }
    }

    fn leaf_shape(&self, leaf: &Leaf, key: &mut Vec<u8>, out: &mut Vec<Sea>) -> bool {
        match &leaf.target {
            Target::Column(f) => {
                key.push(b'c');
                name(key, &f.name);
                match &leaf.op {
                    Op::Contains(v) => {
                        key.push(b'C');
                        len(key, v.len());
                        self.b.contains_operands(f.ty, v, self.native, out);
                        true
                    }
                    Op::Overlap(_) | Op::Size(_) | Op::ArrayEq(_) | Op::ArrayNe(_) | Op::Any(_) => false,
                    op => self.scalar_shape(&[], f.ty, f.nullable || f.ty == FieldType::Json, op, key, out),
                }
            }
            Target::Path { field, segments } => {
                key.push(b'p');
                name(key, &field.name);
                len(key, segments.len());
                for s in segments {
                    name(key, s);
                }
                self.path_shape(segments, &leaf.op, key, out)
            }
            Target::Element { .. } => false,
        }
    }

    /// The values `lhs` (whose own bound values are `lhs`) binds in [`Renderer::scalar`] with `op`.
    fn scalar_shape(
        &self,
        lhs: &[Sea],
        ty: FieldType,
        nullable: bool,
        op: &Op,
        key: &mut Vec<u8>,
        out: &mut Vec<Sea>,
    ) -> bool {
        let bind = |v: &crate::Value| v.to_sea(ty, self.d(), self.native);
        match op {
            Op::IsNull(b) => {
                key.extend_from_slice(if *b { b"N" } else { b"n" });
                out.extend_from_slice(lhs);
            }
            Op::Eq(v) => {
                key.push(b'=');
                out.extend_from_slice(lhs);
                out.push(bind(v));
            }
            Op::Ne(v) => {
                key.push(b'#');
                out.extend_from_slice(lhs);
                out.push(bind(v));
                if nullable {
                    out.extend_from_slice(lhs);
                }
            }
            Op::Cmp(c, v) => {
                key.push(match c {
                    Cmp::Gt => b'>',
                    Cmp::Gte => b'G',
                    Cmp::Lt => b'<',
                    Cmp::Lte => b'l',
                });
                out.extend_from_slice(lhs);
                out.push(bind(v));
            }
            Op::In { values, null } => {
                key.push(if *null { b'I' } else { b'i' });
                len(key, values.len());
                if !values.is_empty() {
                    out.extend_from_slice(lhs);
                    out.extend(values.iter().map(bind));
                }
                if *null {
                    out.extend_from_slice(lhs);
                }
            }
            Op::Nin { values, null } => {
                key.push(if *null { b'X' } else { b'x' });
                len(key, values.len());
                match (values.is_empty(), null) {
                    (true, true) => out.extend_from_slice(lhs),
                    (true, false) => {}
                    (false, true) => {
                        out.extend_from_slice(lhs);
                        out.extend(values.iter().map(bind));
                    }
                    (false, false) => {
                        out.extend_from_slice(lhs);
                        out.extend(values.iter().map(bind));
                        if nullable {
                            out.extend_from_slice(lhs);
                        }
                    }
                }
            }
            Op::Like { pattern } => {
                key.push(b'~');
                out.extend_from_slice(lhs);
                out.push(self.b.like_operand(pattern));
            }
            Op::Regex { hir, .. } => {
                let Ok(p) = super::super::regex::print(hir, self.d()) else { return false };
                key.push(b'r');
                out.extend_from_slice(lhs);
                out.push(p.into());
            }
            Op::Contains(_)
            | Op::Overlap(_)
            | Op::Size(_)
            | Op::Any(_)
            | Op::ArrayEq(_)
            | Op::ArrayNe(_)
            | Op::PathContains(_) => return false,
        }
        true
    }

    fn path_shape(&self, segs: &[String], op: &Op, key: &mut Vec<u8>, out: &mut Vec<Sea>) -> bool {
        let mut once = Vec::with_capacity(segs.len().max(1));
        self.b.path_operands(segs, &mut once);
        // `path_typed` binds the (column, path) pair twice.
        let twice: Vec<Sea> = once.iter().chain(once.iter()).cloned().collect();
        match op {
            Op::IsNull(b) => {
                key.extend_from_slice(if *b { b"N" } else { b"n" });
                out.extend(once);
                true
            }
            Op::Eq(v) | Op::Cmp(_, v) => {
                let k = PathKind::of(v);
                key.push(kind_byte(k));
                self.scalar_shape(&twice, k.ty(), true, op, key, out)
            }
            Op::Ne(v) => {
                let k = PathKind::of(v);
                key.push(b'#');
                key.push(kind_byte(k));
                self.scalar_shape(&twice, k.ty(), true, &Op::Eq(v.clone()), key, out)
            }
            Op::In { values, null } | Op::Nin { values, null } => {
                key.push(if matches!(op, Op::In { .. }) { b'i' } else { b'x' });
                key.push(u8::from(*null));
                len(key, values.len());
                key.extend(values.iter().map(|v| kind_byte(PathKind::of(v))));
                for kind in [PathKind::Text, PathKind::Number, PathKind::Bool] {
                    let mut any = false;
                    for v in values.iter().filter(|v| PathKind::of(v) == kind) {
                        if !any {
                            out.extend_from_slice(&twice);
                            any = true;
                        }
                        out.push(v.to_sea(kind.ty(), self.d(), self.native));
                    }
                }
                if *null {
                    out.extend(once);
                }
                true
            }
            Op::Like { .. } | Op::Regex { .. } => {
                key.push(b't');
                self.scalar_shape(&twice, FieldType::String, true, op, key, out)
            }
            Op::PathContains(_)
            | Op::Contains(_)
            | Op::Overlap(_)
            | Op::Size(_)
            | Op::Any(_)
            | Op::ArrayEq(_)
            | Op::ArrayNe(_) => false,
        }
    }
}
