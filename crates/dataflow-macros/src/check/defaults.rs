//! `default = <literal>`: the literal must fit the field's type. The check is syntactic (a
//! string literal on an `i32` field, an out-of-range integer, a malformed date or UUID); the
//! runtime re-validates the default when the schema is registered.

use syn::{Expr, Lit, UnOp};

use super::types::{Kind, TypeInfo};
use crate::ctxt::Ctxt;

/// A default literal, sign applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DefaultLit {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl DefaultLit {
    fn what(&self) -> &'static str {
        match self {
            DefaultLit::Str(_) => "a string literal",
            DefaultLit::Int(_) => "an integer literal",
            DefaultLit::Float(_) => "a float literal",
            DefaultLit::Bool(_) => "a bool literal",
        }
    }
}

/// Reads a literal (`"x"`, `42`, `-1`, `1.5`, `true`), or `None` for anything else.
pub(crate) fn literal(expr: &Expr) -> Option<DefaultLit> {
    match expr {
        Expr::Group(g) => literal(&g.expr),
        Expr::Paren(p) => literal(&p.expr),
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => Some(DefaultLit::Str(s.value())),
            Lit::Int(i) => i.base10_parse::<i128>().ok().map(DefaultLit::Int),
            Lit::Float(f) => f.base10_parse::<f64>().ok().map(DefaultLit::Float),
            Lit::Bool(b) => Some(DefaultLit::Bool(b.value)),
            _ => None,
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match literal(&u.expr)? {
            DefaultLit::Int(i) => Some(DefaultLit::Int(-i)),
            DefaultLit::Float(f) => Some(DefaultLit::Float(-f)),
            _ => None,
        },
        _ => None,
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| s.get(r).filter(|x| x.bytes().all(|c| c.is_ascii_digit()))?.parse::<u32>().ok();
    matches!((num(0..4), num(5..7), num(8..10)), (Some(_), Some(1..=12), Some(1..=31)))
}

fn is_datetime(s: &str) -> bool {
    // `YYYY-MM-DDTHH:MM:SS` then optional fraction, then `Z` or `±HH:MM`.
    let Some((date, rest)) = s.split_at_checked(10) else { return false };
    let rest = rest.strip_prefix(['T', ' ']).unwrap_or("");
    let time_ok = rest.len() >= 8 && rest.as_bytes()[2] == b':' && rest.as_bytes()[5] == b':';
    let zone_ok = rest.ends_with('Z') || rest.ends_with('z') || {
        let t = rest.as_bytes();
        t.len() >= 14 && matches!(t[t.len() - 6], b'+' | b'-') && t[t.len() - 3] == b':'
    };
    is_date(date) && time_ok && zone_ok
}

fn is_uuid(s: &str) -> bool {
    let hex = |x: &str| x.bytes().all(|c| c.is_ascii_hexdigit());
    match s.len() {
        32 => hex(s),
        36 => {
            let b = s.as_bytes();
            [8, 13, 18, 23].iter().all(|&i| b[i] == b'-') && hex(&s.replace('-', ""))
        }
        _ => false,
    }
}

fn is_decimal(s: &str) -> bool {
    let t = s.trim().strip_prefix(['-', '+']).unwrap_or(s.trim());
    let mut parts = t.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
}

/// Checks `default = <expr>` against the field's type.
pub(crate) fn check(name: &str, info: TypeInfo, expr: &Expr, cx: &mut Ctxt) {
    let Some(lit) = literal(expr) else {
        cx.error_spanned(
            expr,
            format!("`default` of `{name}` must be a literal"),
            "write a literal: `default = 0`, `default = \"draft\"`, `default = true`, `default = 1.5`",
        );
        return;
    };
    let kind = info.kind;
    let expected: Option<&str> = match (kind, &lit) {
        (Kind::String, DefaultLit::Str(_)) => None,
        (Kind::String, _) => Some("a string literal: `default = \"draft\"`"),
        (Kind::I32, DefaultLit::Int(i)) if i32::try_from(*i).is_ok() => None,
        (Kind::I32, DefaultLit::Int(_)) => {
            Some("an integer between -2147483648 and 2147483647, or declare the field `i64`")
        }
        (Kind::I64, DefaultLit::Int(i)) if i64::try_from(*i).is_ok() => None,
        (Kind::I32 | Kind::I64, _) => Some("an integer literal: `default = 0`"),
        (Kind::F64, DefaultLit::Int(_) | DefaultLit::Float(_)) => None,
        (Kind::F64, _) => Some("a number literal: `default = 0.0`"),
        (Kind::Bool, DefaultLit::Bool(_)) => None,
        (Kind::Bool, _) => Some("`default = true` or `default = false`"),
        (Kind::DateTime, DefaultLit::Str(s)) if is_datetime(s) => None,
        (Kind::DateTime, _) => Some("an RFC 3339 date-time string: `default = \"2024-01-31T12:00:00Z\"`"),
        (Kind::Date, DefaultLit::Str(s)) if is_date(s) => None,
        (Kind::Date, _) => Some("a `YYYY-MM-DD` date string: `default = \"2024-01-31\"`"),
        (Kind::Uuid, DefaultLit::Str(s)) if is_uuid(s) => None,
        (Kind::Uuid, _) => Some("a UUID string: `default = \"67e55044-10b1-426f-9247-bb680e5fe0c8\"`"),
        (Kind::Decimal, DefaultLit::Str(s)) if is_decimal(s) => None,
        (Kind::Decimal, DefaultLit::Int(_) | DefaultLit::Float(_)) => None,
        (Kind::Decimal, _) => Some("a decimal number or numeric string: `default = \"12.50\"`"),
        (Kind::Json | Kind::Other, _) => None,
        (Kind::Array | Kind::Bytes, _) => {
            cx.error_spanned(
                expr,
                format!("`default` is not supported on `{name}`: `Vec` fields have no literal default"),
                format!("remove `default`; or declare `{name}` as `Option<...>` so it may be omitted"),
            );
            return;
        }
    };
    if let Some(expected) = expected {
        let ty = if info.nullable { format!("Option<{}>", kind.name()) } else { kind.name().to_owned() };
        let message = match (&lit, kind) {
            (DefaultLit::Str(s), Kind::DateTime | Kind::Date | Kind::Uuid | Kind::Decimal) => {
                format!("`default` of `{name}` is not a valid `{}`: \"{}\"", kind.name(), s.escape_debug())
            }
            (DefaultLit::Int(i), Kind::I32 | Kind::I64) => {
                format!("`default` of `{name}` is out of range for `{ty}`: {i}")
            }
            _ => format!("`default` of `{name}` does not fit its type `{ty}`: found {}", lit.what()),
        };
        cx.error_spanned(expr, message, format!("use {expected}"));
    } else if let DefaultLit::Int(i) = lit
        && i64::try_from(i).is_err()
        && u64::try_from(i).is_err()
    {
        cx.error_spanned(expr, format!("`default` of `{name}` is out of range: {i}"), "use a 64-bit integer");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_shapes() {
        assert!(is_date("2024-01-31") && !is_date("2024-13-01") && !is_date("24-01-01"));
        assert!(is_datetime("2024-01-31T12:00:00Z") && is_datetime("2024-01-31 12:00:00.5+02:00"));
        assert!(!is_datetime("2024-01-31") && !is_datetime("2024-01-31T12:00:00"));
        assert!(is_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8") && is_uuid("67e5504410b1426f9247bb680e5fe0c8"));
        assert!(!is_uuid("67e55044-10b1-426f-9247-bb680e5fe0cx"));
        assert!(is_decimal("12.50") && is_decimal("-3") && is_decimal(".5") && !is_decimal("1e5") && !is_decimal("."));
        let neg: Expr = syn::parse_quote!(-5);
        assert_eq!(literal(&neg), Some(DefaultLit::Int(-5)));
        let call: Expr = syn::parse_quote!(foo());
        assert_eq!(literal(&call), None);
    }
}
