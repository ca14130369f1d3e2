//! MySQL / MariaDB: `JSON_EXTRACT`/`JSON_TYPE` paths, `JSON_CONTAINS`/`JSON_OVERLAPS`/`JSON_TABLE` arrays,
//! `REGEXP` with an inline `(?i)`, and a binary no-pad collation on strings taken out of JSON.

use sea_query::{Expr, ExprTrait, LikeExpr};

use super::{Backend, PathKind, cust};
use crate::Dialect;
use crate::mysql_server::MySqlServer;
use crate::schema::FieldType;
use crate::value::Value;

/// MySQL or MariaDB: they differ in the binary collation name and in whole-array equality.
pub(crate) struct MySql {
    server: MySqlServer,
}

/// MariaDB (what the tests run).
pub(crate) static MARIADB: MySql = MySql { server: MySqlServer::MariaDb };
/// MySQL 8 (snapshot-tested).
pub(crate) static MYSQL8: MySql = MySql { server: MySqlServer::MySql8 };

const D: Dialect = Dialect::MySql;

/// `$.a.b` (segments are validated identifier-like; the path is still bound as a value).
pub(crate) fn json_path(segments: &[String]) -> String {
    let mut p = String::from("$");
    for s in segments {
        p.push('.');
        p.push_str(s);
    }
    p
}

fn array_value(values: &[Value], ty: FieldType) -> Expr {
    Expr::val(Value::Array(values.to_vec()).to_sea(ty, D, false))
}

impl Backend for MySql {
    fn dialect(&self) -> Dialect {
        D
    }

    fn json_text(&self, e: Expr) -> Expr {
        // The same case- and pad-sensitive collation the DDL gives text columns.
        cust(D, &format!("(?) COLLATE {}", self.server.collation().name()), vec![e])
    }

    fn like(&self, lhs: Expr, pattern: &str) -> Expr {
        lhs.like(LikeExpr::new(pattern).escape('\\'))
    }

    fn regex(&self, lhs: Expr, pattern: &str) -> Expr {
        cust(D, "? REGEXP ?", vec![lhs, Expr::val(pattern)])
    }

    fn path_operands(&self, segments: &[String], out: &mut Vec<sea_query::Value>) {
        out.push(json_path(segments).into());
    }

    fn contains_operands(&self, ty: FieldType, values: &[Value], _native: bool, out: &mut Vec<sea_query::Value>) {
        out.push(Value::Array(values.to_vec()).to_sea(ty, D, false));
    }

    fn path_typed(&self, col: Expr, segments: &[String], kind: PathKind) -> Expr {
        let tpl = match kind {
            PathKind::Text => {
                "CASE WHEN JSON_TYPE(JSON_EXTRACT(?, ?)) = 'STRING' THEN JSON_UNQUOTE(JSON_EXTRACT(?, ?)) END"
            }
            PathKind::Number => {
                "CASE WHEN JSON_TYPE(JSON_EXTRACT(?, ?)) IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL') \
                 THEN CAST(JSON_UNQUOTE(JSON_EXTRACT(?, ?)) AS DOUBLE) END"
            }
            PathKind::Bool => {
                "CASE WHEN JSON_TYPE(JSON_EXTRACT(?, ?)) = 'BOOLEAN' THEN JSON_UNQUOTE(JSON_EXTRACT(?, ?)) = 'true' END"
            }
        };
        let p = json_path(segments);
        cust(D, tpl, vec![col.clone(), Expr::val(p.as_str()), col, Expr::val(p)])
    }

    fn path_is_null(&self, col: Expr, segments: &[String]) -> Expr {
        cust(D, "COALESCE(JSON_TYPE(JSON_EXTRACT(?, ?)), 'NULL') = 'NULL'", vec![col, Expr::val(json_path(segments))])
    }

    fn contains(&self, col: Expr, ty: FieldType, values: &[Value], _native: bool) -> Expr {
        cust(D, "JSON_CONTAINS(?, ?)", vec![col, array_value(values, ty)])
    }

    fn overlap(&self, col: Expr, ty: FieldType, values: &[Value], _native: bool) -> Expr {
        cust(D, "JSON_OVERLAPS(?, ?)", vec![col, array_value(values, ty)])
    }

    fn size(&self, col: Expr, n: i64, _native: bool) -> Expr {
        cust(D, "(JSON_TYPE(?) = 'ARRAY' AND JSON_LENGTH(?) = ?)", vec![col.clone(), col, Expr::val(n)])
    }

    fn any_elem(&self, _elem: FieldType, _native: bool) -> Expr {
        Expr::cust("df_e.df_v")
    }

    fn any_exists(&self, col: Expr, elem: FieldType, _native: bool, pred: Expr) -> Expr {
        let tpl = match elem {
            FieldType::I64 => {
                "EXISTS (SELECT 1 FROM JSON_TABLE(?, '$[*]' COLUMNS (df_v BIGINT PATH '$')) AS df_e WHERE ?)"
            }
            FieldType::F64 => {
                "EXISTS (SELECT 1 FROM JSON_TABLE(?, '$[*]' COLUMNS (df_v DOUBLE PATH '$')) AS df_e WHERE ?)"
            }
            FieldType::Bool => {
                "EXISTS (SELECT 1 FROM JSON_TABLE(?, '$[*]' COLUMNS (df_v BOOLEAN PATH '$')) AS df_e WHERE ?)"
            }
            _ => "EXISTS (SELECT 1 FROM JSON_TABLE(?, '$[*]' COLUMNS (df_v LONGTEXT PATH '$')) AS df_e WHERE ?)",
        };
        cust(D, tpl, vec![col, pred])
    }

    fn array_eq(&self, col: Expr, ty: FieldType, values: &[Value], _native: bool) -> Expr {
        // MariaDB: structural JSON equality (arrays in order, numbers numerically, strings exactly).
        // Guarded: on MariaDB 10.11 JSON_EQUALS over a NULL row repeats the previous row's result.
        if self.server == MySqlServer::MySql8 {
            // MySQL 8 has no JSON_EQUALS; its JSON comparison is structural (arrays in order).
            return cust(D, "? = CAST(? AS JSON)", vec![col, array_value(values, ty)]);
        }
        cust(D, "CASE WHEN ? IS NOT NULL THEN JSON_EQUALS(?, ?) END", vec![col.clone(), col, array_value(values, ty)])
    }

    fn path_array_has(&self, col: Expr, segments: &[String], v: &Value) -> Expr {
        // One row per element of the array at the path; the element is read back by its index so
        // its JSON type can be checked like path `$eq` (`JSON_CONTAINS` would also look inside nested arrays).
        let elem = "JSON_EXTRACT(?, CONCAT(?, '[', df_e.df_i - 1, ']'))";
        let (pred, operand) = match v {
            Value::String(_) => (
                format!(
                    "JSON_TYPE({elem}) = 'STRING' AND JSON_UNQUOTE({elem}) COLLATE {} = ?",
                    self.server.collation().name()
                ),
                true,
            ),
            Value::Bool(b) => (
                format!(
                    "JSON_TYPE({elem}) = 'BOOLEAN' AND JSON_UNQUOTE({elem}) = '{}'",
                    if *b { "true" } else { "false" }
                ),
                false,
            ),
            _ => (
                format!(
                    "JSON_TYPE({elem}) IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL') \
                     AND CAST(JSON_UNQUOTE({elem}) AS DOUBLE) = ?"
                ),
                true,
            ),
        };
        let tpl = format!(
            "(JSON_TYPE(JSON_EXTRACT(?, ?)) = 'ARRAY' AND EXISTS (SELECT 1 FROM JSON_TABLE(JSON_EXTRACT(?, ?), \
             '$[*]' COLUMNS (df_i FOR ORDINALITY)) AS df_e WHERE {pred}))"
        );
        let p = json_path(segments);
        let mut args = vec![col.clone(), Expr::val(p.as_str()), col.clone(), Expr::val(p.as_str())];
        for _ in 0..2 {
            args.push(col.clone());
            args.push(Expr::val(p.as_str()));
        }
        if operand {
            let ty = if matches!(v, Value::String(_)) { FieldType::String } else { FieldType::F64 };
            args.push(Expr::val(v.to_sea(ty, D, false)));
        }
        cust(D, &tpl, args)
    }
}
