//! PostgreSQL: jsonb paths and arrays, native arrays, `~`/`~*`, `COLLATE "C"` ordering.

use sea_query::{Condition, Expr, ExprTrait, LikeExpr};

use super::{Backend, PathKind, cust};
use crate::Dialect;
use crate::schema::{ArrayElem, FieldType};
use crate::value::Value;

pub(crate) struct Postgres;

const D: Dialect = Dialect::Postgres;

fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `[col, seg1, seg2, ...]` as expressions (segments bound as values).
fn path_args(col: &Expr, segments: &[String]) -> Vec<Expr> {
    std::iter::once(col.clone()).chain(segments.iter().map(|s| Expr::val(s.as_str()))).collect()
}

/// The native array type of an array field (the operand is cast to it so `@>`/`&&` resolve).
fn native_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Array(ArrayElem::I64) => "bigint[]",
        FieldType::Array(ArrayElem::F64) => "double precision[]",
        FieldType::Array(ArrayElem::Bool) => "boolean[]",
        _ => "text[]",
    }
}

fn array_value(values: &[Value], ty: FieldType, native: bool) -> Expr {
    Expr::val(Value::Array(values.to_vec()).to_sea(ty, D, native))
}

impl Backend for Postgres {
    fn dialect(&self) -> Dialect {
        D
    }

    fn ordered_text(&self, e: Expr) -> Expr {
        cust(D, "(?) COLLATE \"C\"", vec![e])
    }

    fn like(&self, lhs: Expr, pattern: &str) -> Expr {
        lhs.like(LikeExpr::new(pattern).escape('\\'))
    }

    fn regex(&self, lhs: Expr, pattern: &str) -> Expr {
        cust(D, "? ~ ?", vec![lhs, Expr::val(pattern)])
    }

    fn path_operands(&self, segments: &[String], out: &mut Vec<sea_query::Value>) {
        out.extend(segments.iter().map(|s| sea_query::Value::from(s.as_str())));
    }

    fn contains_operands(&self, ty: FieldType, values: &[Value], native: bool, out: &mut Vec<sea_query::Value>) {
        out.push(Value::Array(values.to_vec()).to_sea(ty, D, native));
    }

    fn path_typed(&self, col: Expr, segments: &[String], kind: PathKind) -> Expr {
        let m = marks(segments.len() + 1);
        let (json_type, value) = match kind {
            PathKind::Text => ("string", format!("jsonb_extract_path_text({m})")),
            PathKind::Number => ("number", format!("CAST(jsonb_extract_path_text({m}) AS double precision)")),
            PathKind::Bool => ("boolean", format!("CAST(jsonb_extract_path_text({m}) AS boolean)")),
        };
        let tpl = format!("CASE WHEN jsonb_typeof(jsonb_extract_path({m})) = '{json_type}' THEN {value} END");
        let mut args = path_args(&col, segments);
        args.extend(path_args(&col, segments));
        cust(D, &tpl, args)
    }

    fn path_is_null(&self, col: Expr, segments: &[String]) -> Expr {
        let m = marks(segments.len() + 1);
        cust(D, &format!("COALESCE(jsonb_typeof(jsonb_extract_path({m})), 'null') = 'null'"), path_args(&col, segments))
    }

    fn contains(&self, col: Expr, ty: FieldType, values: &[Value], native: bool) -> Expr {
        if native {
            return cust(
                D,
                &format!("? @> CAST(? AS {})", native_type(ty)),
                vec![col, array_value(values, ty, native)],
            );
        }
        cust(D, "? @> ?", vec![col, array_value(values, ty, native)])
    }

    fn overlap(&self, col: Expr, ty: FieldType, values: &[Value], native: bool) -> Expr {
        if native {
            return cust(
                D,
                &format!("? && CAST(? AS {})", native_type(ty)),
                vec![col, array_value(values, ty, native)],
            );
        }
        values
            .iter()
            .fold(Condition::any(), |c, v| {
                c.add(cust(D, "? @> ?", vec![col.clone(), array_value(std::slice::from_ref(v), ty, false)]))
            })
            .into()
    }

    fn size(&self, col: Expr, n: i64, native: bool) -> Expr {
        if native {
            return cust(D, "cardinality(?) = ?", vec![col, Expr::val(n)]);
        }
        // Guarded: jsonb_array_length raises an error on a non-array document.
        cust(
            D,
            "jsonb_array_length(CASE WHEN jsonb_typeof(?) = 'array' THEN ? END) = ?",
            vec![col.clone(), col, Expr::val(n)],
        )
    }

    fn any_elem(&self, elem: FieldType, native: bool) -> Expr {
        if native {
            return Expr::cust("df_e.df_v");
        }
        Expr::cust(match elem {
            FieldType::I64 => "CAST(df_e.df_v AS bigint)",
            FieldType::F64 => "CAST(df_e.df_v AS double precision)",
            FieldType::Bool => "CAST(df_e.df_v AS boolean)",
            _ => "df_e.df_v",
        })
    }

    fn any_exists(&self, col: Expr, _elem: FieldType, native: bool, pred: Expr) -> Expr {
        let tpl = if native {
            "EXISTS (SELECT 1 FROM unnest(?) AS df_e(df_v) WHERE ?)"
        } else {
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(?) = 'array' THEN ? END) AS df_e(df_v) WHERE ?)"
        };
        if native {
            return cust(D, tpl, vec![col, pred]);
        }
        cust(D, tpl, vec![col.clone(), col, pred])
    }

    fn array_eq(&self, col: Expr, ty: FieldType, values: &[Value], native: bool) -> Expr {
        if native {
            return cust(D, &format!("? = CAST(? AS {})", native_type(ty)), vec![col, array_value(values, ty, native)]);
        }
        // jsonb equality: arrays compare element by element, in order; numbers numerically.
        cust(D, "? = ?", vec![col, array_value(values, ty, false)])
    }

    fn path_array_has(&self, col: Expr, segments: &[String], v: &Value) -> Expr {
        // jsonb `@>` with a one-element array: a top-level element of the same JSON type equal to `v`
        // (`["3"]` does not contain `[3]`, `[[1]]` does not contain `[1]`).
        let m = marks(segments.len() + 1);
        let tpl =
            format!("CASE WHEN jsonb_typeof(jsonb_extract_path({m})) = 'array' THEN jsonb_extract_path({m}) @> ? END");
        let mut args = path_args(&col, segments);
        args.extend(path_args(&col, segments));
        args.push(Expr::val(sea_query::Value::Json(Some(Box::new(serde_json::Value::Array(vec![v.to_json()]))))));
        cust(D, &tpl, args)
    }
}
