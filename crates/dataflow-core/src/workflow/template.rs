//! `${node.path}` templates inside node parameters.
//!
//! A string that is exactly one template (`"${create.id}"`) is replaced by the referenced JSON
//! value, keeping its type. A template inside a longer string (`"hello ${create.name}"`) is
//! interpolated as text (strings as-is, other values as JSON). `$${` is a literal `${`.

use dataflow_sql::{Error, ErrorCode, Result};
use serde_json::Value as J;

/// One template reference found in a node's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    /// Where in the parameters the template sits (dotted, list indexes as numbers).
    pub param: String,
    /// The referenced node id.
    pub node: String,
    /// The dotted path into that node's result (empty for the whole result).
    pub path: String,
    /// Whether the template is the whole string (typed substitution).
    pub whole: bool,
}

enum Piece<'a> {
    Text(&'a str),
    Ref(&'a str),
}

/// Splits a string into literal text and template bodies. Errors on an unclosed `${`.
fn pieces(s: &str) -> std::result::Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if i > 0 && rest.as_bytes()[i - 1] == b'$' {
            out.push(Piece::Text(&rest[..i - 1]));
            out.push(Piece::Text("${"));
            rest = &rest[i + 2..];
            continue;
        }
        out.push(Piece::Text(&rest[..i]));
        let body = &rest[i + 2..];
        let Some(end) = body.find('}') else {
            return Err(format!("unclosed template in `{s}`"));
        };
        out.push(Piece::Ref(body[..end].trim()));
        rest = &body[end + 1..];
    }
    out.push(Piece::Text(rest));
    out.retain(|p| !matches!(p, Piece::Text("")));
    Ok(out)
}

fn split_ref(body: &str) -> (&str, &str) {
    body.split_once('.').unwrap_or((body, ""))
}

fn template_error(node: &str, param: &str, msg: String) -> Error {
    Error::new(ErrorCode::TEMPLATE, msg)
        .node(node)
        .field(param)
        .fix("write templates as `${node_id.path}`, e.g. \"${create_user.id}\" or \"${list.records.0.email}\"")
}

/// Every template in a node's parameters, or DF-806 for a malformed one.
pub fn references(node: &str, params: &J) -> Result<Vec<TemplateRef>> {
    let mut out = Vec::new();
    walk(node, params, String::new(), &mut out)?;
    Ok(out)
}

fn walk(node: &str, v: &J, at: String, out: &mut Vec<TemplateRef>) -> Result<()> {
    let join = |k: &str| if at.is_empty() { k.to_owned() } else { format!("{at}.{k}") };
    match v {
        J::String(s) if s.contains("${") => {
            let ps = pieces(s).map_err(|m| template_error(node, &at, m))?;
            let whole = ps.len() == 1;
            for p in ps {
                if let Piece::Ref(body) = p {
                    let (n, path) = split_ref(body);
                    if n.is_empty() {
                        return Err(template_error(node, &at, format!("empty template `${{{body}}}` in `{s}`")));
                    }
                    out.push(TemplateRef { param: at.clone(), node: n.to_owned(), path: path.to_owned(), whole });
                }
            }
        }
        J::Object(m) => {
            for (k, x) in m {
                walk(node, x, join(k), out)?;
            }
        }
        J::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(node, x, join(&i.to_string()), out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether a value contains any template.
pub fn has_templates(v: &J) -> bool {
    match v {
        J::String(s) => s.contains("${"),
        J::Object(m) => m.values().any(has_templates),
        J::Array(a) => a.iter().any(has_templates),
        _ => false,
    }
}

/// Replaces every template using `lookup(node, path)`; DF-806 when a value is missing.
pub fn resolve(node: &str, v: &J, lookup: &dyn Fn(&str, &str) -> Option<J>) -> Result<J> {
    Ok(match v {
        J::String(s) if s.contains("${") => {
            let ps = pieces(s).map_err(|m| template_error(node, "", m))?;
            let get = |body: &str| {
                let (n, path) = split_ref(body);
                lookup(n, path).ok_or_else(|| {
                    template_error(
                        node,
                        "",
                        format!("template `${{{body}}}` did not resolve: the result of `{n}` has no value at `{path}`"),
                    )
                })
            };
            match ps.as_slice() {
                [Piece::Ref(body)] => get(body)?,
                _ => {
                    let mut out = String::new();
                    for p in &ps {
                        match p {
                            Piece::Text(t) => out.push_str(t),
                            Piece::Ref(body) => match get(body)? {
                                J::String(s) => out.push_str(&s),
                                other => out.push_str(&other.to_string()),
                            },
                        }
                    }
                    J::String(out)
                }
            }
        }
        J::Object(m) => {
            let mut o = serde_json::Map::with_capacity(m.len());
            for (k, x) in m {
                o.insert(k.clone(), resolve(node, x, lookup)?);
            }
            J::Object(o)
        }
        J::Array(a) => J::Array(a.iter().map(|x| resolve(node, x, lookup)).collect::<Result<_>>()?),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_and_resolves_templates() {
        let p =
            json!({"filter": {"id": "${create.id}"}, "fields": {"note": "hi ${create.name}, n=${count.count} $${x}"}});
        let refs = references("n", &p).unwrap();
        assert_eq!(refs.len(), 3);
        assert_eq!(
            refs[0],
            TemplateRef { param: "filter.id".into(), node: "create".into(), path: "id".into(), whole: true }
        );
        assert!(!refs[1].whole);
        let results = json!({"create": {"id": 7, "name": "Al"}, "count": {"count": 2}});
        let out = resolve("n", &p, &|n, path| super::super::spec::get_path(&results[n], path).cloned()).unwrap();
        assert_eq!(out, json!({"filter": {"id": 7}, "fields": {"note": "hi Al, n=2 ${x}"}}));
        assert_eq!(references("n", &json!({"a": "${oops"})).unwrap_err().code(), ErrorCode::TEMPLATE);
    }
}
