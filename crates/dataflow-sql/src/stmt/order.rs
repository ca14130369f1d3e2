//! `order_by` parsing (docs/guide/filters.md): `"field"`, `"-field"`, `{"field": "asc"|"desc"}` and lists
//! of those, validated against the schema.

use serde_json::Value as J;

use super::{Direction, OrderBy};
use crate::error::{Error, ErrorCode, Result};
use crate::{FieldType, ModelSchema};

const SHAPE: &str =
    "order_by is \"name\", \"-created_at\", {\"name\": \"asc\"} or a list of those, e.g. [\"-created_at\", \"name\"]";

fn invalid(schema: &ModelSchema, msg: String) -> Error {
    Error::new(ErrorCode::INVALID_PAGINATION, msg).model(&schema.name).fix(SHAPE)
}

/// Parses and validates `order_by`. `null` and `[]` give no keys (the statement then orders by
/// `id`). Unknown fields are DF-103 with the closest name; malformed entries, unknown
/// directions, duplicate keys and unsortable types (JSON, arrays, bytes) are DF-106.
pub fn parse_order_by(json: &J, schema: &ModelSchema) -> Result<Vec<OrderBy>> {
    let mut out: Vec<OrderBy> = Vec::new();
    match json {
        J::Null => {}
        J::String(_) | J::Object(_) => push_entry(json, schema, &mut out)?,
        J::Array(items) => {
            for item in items {
                push_entry(item, schema, &mut out)?;
            }
        }
        other => return Err(invalid(schema, format!("order_by must be a string, an object or a list, got {other}"))),
    }
    Ok(out)
}

fn push_entry(entry: &J, schema: &ModelSchema, out: &mut Vec<OrderBy>) -> Result<()> {
    match entry {
        J::String(s) => {
            let (name, direction) = match s.strip_prefix('-') {
                Some(rest) => (rest, Direction::Desc),
                None => (s.strip_prefix('+').unwrap_or(s), Direction::Asc),
            };
            push_key(name, direction, schema, out)
        }
        J::Object(map) if !map.is_empty() => {
            for (name, dir) in map {
                let direction = match dir {
                    J::String(d) if d.eq_ignore_ascii_case("asc") => Direction::Asc,
                    J::String(d) if d.eq_ignore_ascii_case("desc") => Direction::Desc,
                    J::Number(n) if n.as_i64() == Some(1) => Direction::Asc,
                    J::Number(n) if n.as_i64() == Some(-1) => Direction::Desc,
                    other => {
                        return Err(invalid(
                            schema,
                            format!("order_by direction for `{name}` must be \"asc\" or \"desc\", got {other}"),
                        )
                        .field(name));
                    }
                };
                push_key(name, direction, schema, out)?;
            }
            Ok(())
        }
        other => Err(invalid(schema, format!("invalid order_by entry {other}"))),
    }
}

fn push_key(name: &str, direction: Direction, schema: &ModelSchema, out: &mut Vec<OrderBy>) -> Result<()> {
    if name.is_empty() {
        return Err(invalid(schema, "order_by contains an empty field name".into()));
    }
    let Some(field) = schema.any_field(name) else {
        return Err(schema.unknown_field(name).operator("order_by"));
    };
    if matches!(field.ty, FieldType::Json | FieldType::Array(_) | FieldType::Bytes) {
        return Err(invalid(
            schema,
            format!("cannot order by `{name}`: {} values have no common order on every backend", field.ty.rust_name()),
        )
        .field(name));
    }
    if out.iter().any(|o| o.field == name) {
        return Err(invalid(schema, format!("order_by names `{name}` twice")).field(name));
    }
    out.push(OrderBy { field: name.to_owned(), direction });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldDef;
    use serde_json::json;

    fn schema() -> ModelSchema {
        ModelSchema::new(
            "User",
            vec![
                FieldDef::new("id", FieldType::String),
                FieldDef::new("name", FieldType::String),
                FieldDef::new("age", FieldType::I32).nullable(),
                FieldDef::new("profile", FieldType::Json),
            ],
        )
    }

    #[test]
    fn accepts_every_documented_form() {
        let s = schema();
        assert_eq!(parse_order_by(&json!("name"), &s).unwrap(), vec![OrderBy::asc("name")]);
        assert_eq!(
            parse_order_by(&json!(["-created_at", "name"]), &s).unwrap(),
            vec![OrderBy::desc("created_at"), OrderBy::asc("name")]
        );
        assert_eq!(
            parse_order_by(&json!([{"name": "asc"}, {"age": "DESC"}]), &s).unwrap(),
            vec![OrderBy::asc("name"), OrderBy::desc("age")]
        );
        assert_eq!(parse_order_by(&json!({"age": -1}), &s).unwrap(), vec![OrderBy::desc("age")]);
        assert!(parse_order_by(&json!(null), &s).unwrap().is_empty());
        assert!(parse_order_by(&json!([]), &s).unwrap().is_empty());
    }

    #[test]
    fn unknown_field_is_df103_with_closest_name() {
        let e = parse_order_by(&json!(["-nmae"]), &schema()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::UNKNOWN_FIELD);
        assert!(e.fixes().iter().any(|f| f.contains("`name`")), "{e}");
        let e = parse_order_by(&json!({"creatd_at": "asc"}), &schema()).unwrap_err();
        assert!(e.fixes().iter().any(|f| f.contains("`created_at`")), "{e}");
    }

    #[test]
    fn malformed_order_by_is_df106() {
        let s = schema();
        for bad in [
            json!(5),
            json!(true),
            json!([1]),
            json!(["-"]),
            json!([""]),
            json!({}),
            json!([{"name": "up"}]),
            json!([{"name": 2}]),
            json!(["name", "-name"]),
            json!("profile"),
            json!([["name"]]),
        ] {
            let e = parse_order_by(&bad, &s).unwrap_err();
            assert_eq!(e.code(), ErrorCode::INVALID_PAGINATION, "{bad}: {e}");
        }
    }
}
