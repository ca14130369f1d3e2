//! SQLite: `json_type`/`json_extract` paths, `json_each` arrays, GLOB for case-sensitive LIKE,
//! and the `regexp(pattern, value)` function the runtime registers for `REGEXP` and `$ilike`.

use sea_query::{Condition, Expr};

use super::mysql::json_path;
use super::{Backend, PathKind, cust, like_to_glob};
use crate::Dialect;
use crate::schema::FieldType;
use crate::value::Value;

pub(crate) struct Sqlite;

const D: Dialect = Dialect::Sqlite;

fn elem_sea(v: &Value, ty: FieldType) -> sea_query::Value {
    let ety = match ty {
        FieldType::Array(e) => crate::filter::parse::elem_type(e),
        other => other,
    };
    v.to_sea(ety, D, false)
}

fn elem_value(v: &Value, ty: FieldType) -> Expr {
    Expr::val(elem_sea(v, ty))
}

impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        D
    }

    fn decimal(&self, e: Expr) -> Expr {
        cust(D, "CAST(? AS NUMERIC)", vec![e])
    }

    /// SQLite's LIKE ignores ASCII case, so `$like` is rendered as an equivalent GLOB (case-sensitive).
    fn like(&self, lhs: Expr, pattern: &str) -> Expr {
        cust(D, "? GLOB ?", vec![lhs, Expr::val(self.like_operand(pattern))])
    }

    fn like_operand(&self, pattern: &str) -> sea_query::Value {
        like_to_glob(pattern).into()
    }

    fn path_operands(&self, segments: &[String], out: &mut Vec<sea_query::Value>) {
        out.push(json_path(segments).into());
    }

    fn contains_operands(&self, ty: FieldType, values: &[Value], _native: bool, out: &mut Vec<sea_query::Value>) {
        out.extend(values.iter().map(|v| elem_sea(v, ty)));
    }

    fn regex(&self, lhs: Expr, pattern: &str) -> Expr {
        cust(D, "? REGEXP ?", vec![lhs, Expr::val(pattern)])
    }

    fn path_typed(&self, col: Expr, segments: &[String], kind: PathKind) -> Expr {
        let tpl = match kind {
            PathKind::Text => "CASE WHEN json_type(?, ?) = 'text' THEN json_extract(?, ?) END",
            PathKind::Number => {
                "CASE WHEN json_type(?, ?) IN ('integer', 'real') THEN CAST(json_extract(?, ?) AS REAL) END"
            }
            PathKind::Bool => "CASE WHEN json_type(?, ?) IN ('true', 'false') THEN json_extract(?, ?) END",
        };
        let p = json_path(segments);
        cust(D, tpl, vec![col.clone(), Expr::val(p.as_str()), col, Expr::val(p)])
    }

    fn path_is_null(&self, col: Expr, segments: &[String]) -> Expr {
        cust(D, "COALESCE(json_type(?, ?), 'null') = 'null'", vec![col, Expr::val(json_path(segments))])
    }

    fn contains(&self, col: Expr, ty: FieldType, values: &[Value], _native: bool) -> Expr {
        values
            .iter()
            .fold(Condition::all(), |c, v| {
                c.add(cust(
                    D,
                    "EXISTS (SELECT 1 FROM json_each(?) AS df_e WHERE df_e.value = ?)",
                    vec![col.clone(), elem_value(v, ty)],
                ))
            })
            .into()
    }

    fn overlap(&self, col: Expr, ty: FieldType, values: &[Value], _native: bool) -> Expr {
        let tpl = format!(
            "EXISTS (SELECT 1 FROM json_each(?) AS df_e WHERE df_e.value IN ({}))",
            vec!["?"; values.len()].join(", ")
        );
        let args = std::iter::once(col).chain(values.iter().map(|v| elem_value(v, ty))).collect();
        cust(D, &tpl, args)
    }

    fn size(&self, col: Expr, n: i64, _native: bool) -> Expr {
        cust(D, "(json_type(?) = 'array' AND json_array_length(?) = ?)", vec![col.clone(), col, Expr::val(n)])
    }

    fn any_elem(&self, _elem: FieldType, _native: bool) -> Expr {
        Expr::cust("df_e.value")
    }

    fn any_exists(&self, col: Expr, _elem: FieldType, _native: bool, pred: Expr) -> Expr {
        cust(D, "EXISTS (SELECT 1 FROM json_each(?) AS df_e WHERE ?)", vec![col, pred])
    }

    fn array_eq(&self, col: Expr, ty: FieldType, values: &[Value], _native: bool) -> Expr {
        // Same length, and no position where the elements differ (numbers compare numerically).
        let tpl = "(json_type(?) = 'array' AND json_array_length(?) = ? AND NOT EXISTS (SELECT 1 FROM json_each(?) AS df_a \
                   JOIN json_each(?) AS df_b ON df_a.key = df_b.key WHERE df_a.value IS NOT df_b.value))";
        let n = i64::try_from(values.len()).unwrap_or(i64::MAX);
        let arr = Expr::val(Value::Array(values.to_vec()).to_sea(ty, D, false));
        cust(D, tpl, vec![col.clone(), col.clone(), Expr::val(n), col, arr])
    }

    fn path_array_has(&self, col: Expr, segments: &[String], v: &Value) -> Expr {
        let (pred, operand) = match v {
            Value::String(_) => ("df_e.type = 'text' AND df_e.value = ?", true),
            Value::Bool(true) => ("df_e.type = 'true'", false),
            Value::Bool(false) => ("df_e.type = 'false'", false),
            _ => ("df_e.type IN ('integer', 'real') AND df_e.value = ?", true),
        };
        let tpl =
            format!("(json_type(?, ?) = 'array' AND EXISTS (SELECT 1 FROM json_each(?, ?) AS df_e WHERE {pred}))");
        let p = json_path(segments);
        let mut args = vec![col.clone(), Expr::val(p.as_str()), col, Expr::val(p)];
        if operand {
            let ty = if matches!(v, Value::String(_)) { FieldType::String } else { FieldType::F64 };
            args.push(Expr::val(v.to_sea(ty, D, false)));
        }
        cust(D, &tpl, args)
    }
}
