//! Update operators in the `fields` of Update / BulkUpdate nodes (`{"$inc": {"n": 1}}`):
//! checked with the same parser the operation uses, before anything runs. Operands that
//! contain `${...}` templates are checked when they resolve, at run time.

use dataflow_sql::changes::Changes;
use dataflow_sql::{Error, ModelSchema};
use serde_json::{Map, Value as J};

use crate::workflow::template::has_templates;

/// Reports every operator / field / operand error of a `fields` object through `push`.
pub(crate) fn check(schema: &ModelSchema, fields: &J, push: &mut dyn FnMut(Error)) {
    let Some(obj) = fields.as_object() else { return };
    // Check each top-level entry on its own so every mistake is reported, not just the first.
    for (k, v) in obj {
        let one = if k.starts_with('$') {
            match v.as_object() {
                Some(m) => {
                    let mut fixed = Map::new();
                    for (field, operand) in m {
                        if !has_templates(operand) {
                            fixed.insert(field.clone(), operand.clone());
                        } else if let Err(e) = schema.field_or_err(field) {
                            push(e.field(format!("fields.{k}.{field}")));
                        }
                    }
                    J::Object(Map::from_iter([(k.clone(), J::Object(fixed))]))
                }
                None => J::Object(Map::from_iter([(k.clone(), v.clone())])),
            }
        } else if has_templates(v) {
            if let Err(e) = schema.field_or_err(k) {
                push(e.field(format!("fields.{k}")));
            }
            continue;
        } else {
            J::Object(Map::from_iter([(k.clone(), v.clone())]))
        };
        if let Err(e) = Changes::parse(&one, schema) {
            push(e);
        }
    }
    // A field changed twice across entries (`"n": 1` and `{"$inc": {"n": 1}}`).
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in obj {
        let names: Vec<&str> = if k.starts_with('$') {
            v.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default()
        } else {
            vec![k.as_str()]
        };
        for n in names {
            if seen.contains(&n) {
                push(
                    Error::new(dataflow_sql::ErrorCode::INVALID_PARAMETER, format!("field `{n}` is changed twice"))
                        .field(format!("fields.{n}"))
                        .fix("give each field one value or one operator per update"),
                );
            }
            seen.push(n);
        }
    }
}
