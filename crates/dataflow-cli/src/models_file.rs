//! The models file: one documented JSON/YAML format for models outside Rust (the guide's
//! "Models file" chapter). Unknown keys are rejected with a "did you mean" hint; field types are
//! spelled as in the guide (`string`, `i32`, `i64`, `f64`, `bool`, `datetime`, `date`, `uuid`,
//! `decimal`, `json`, `bytes`, `array<string>`, `array<i64>`, `array<f64>`, `array<bool>`).
//!
//! The file holds `{"models": [..]}`, a list of models, or one model.

use std::path::Path;

use dataflow_sql::{Error, ErrorCode, ModelSchema};
use serde_json::{Map, Value as J, json};

use crate::output::{CliError, read_small};

const MODEL_KEYS: &[&str] = &["name", "table", "fields", "options", "indexes"];
const FIELD_KEYS: &[&str] =
    &["name", "column", "type", "nullable", "unique", "index", "default", "max_len", "renamed_from", "read_only"];
const OPTION_KEYS: &[&str] = &[
    "soft_delete",
    "native_arrays",
    "multi_tenant",
    "append_only",
    "timestamps",
    "read_only",
    "forbid",
    "audit",
    "cache",
];
const INDEX_KEYS: &[&str] = &["name", "fields", "unique"];
/// Field type spellings of the models file.
pub const TYPES: &[&str] = &[
    "string",
    "i32",
    "i64",
    "f64",
    "bool",
    "datetime",
    "date",
    "uuid",
    "decimal",
    "json",
    "bytes",
    "array<string>",
    "array<i64>",
    "array<f64>",
    "array<bool>",
];

fn bad(path: &str, msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::INVALID_MODEL, format!("{path}: {}", msg.into()))
}

fn check_keys(obj: &Map<String, J>, allowed: &[&str], at: &str) -> Result<(), Error> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            let mut e = bad(at, format!("unknown key `{k}`"));
            if let Some(c) = dataflow_sql::error::closest(k, allowed.iter().copied()) {
                e = e.fix(format!("did you mean `{c}`?"));
            }
            return Err(e.fix(format!("allowed keys here: {}", allowed.join(", "))));
        }
    }
    Ok(())
}

/// A documented type spelling → the serde form of `FieldType`.
fn type_to_serde(t: &J, at: &str) -> Result<J, Error> {
    let Some(s) = t.as_str() else {
        // The serde form `{"array": "string"}` is accepted as written by older tools.
        if let Some(o) = t.as_object()
            && let Some(J::String(elem)) = o.get("array")
            && o.len() == 1
        {
            return type_to_serde(&J::String(format!("array<{elem}>")), at);
        }
        return Err(bad(at, format!("`type` must be a string, got {t}")).fix(format!("one of: {}", TYPES.join(", "))));
    };
    let norm = s.trim().to_ascii_lowercase().replace(' ', "");
    let norm = if norm == "date_time" { "datetime".to_owned() } else { norm };
    if !TYPES.contains(&norm.as_str()) {
        let mut e = bad(at, format!("unknown field type `{s}`"));
        if let Some(c) = dataflow_sql::error::closest(&norm, TYPES.iter().copied()) {
            e = e.fix(format!("did you mean `{c}`?"));
        }
        return Err(e.fix(format!("field types: {}", TYPES.join(", "))));
    }
    Ok(if norm == "datetime" {
        json!("date_time")
    } else if let Some(elem) = norm.strip_prefix("array<").and_then(|r| r.strip_suffix('>')) {
        json!({ "array": elem })
    } else {
        J::String(norm)
    })
}

/// The serde form of a `FieldType` → its documented spelling.
fn type_to_doc(t: &J) -> J {
    match t {
        J::String(s) if s == "date_time" => json!("datetime"),
        J::Object(o) => match o.get("array").and_then(J::as_str) {
            Some(e) => J::String(format!("array<{e}>")),
            None => t.clone(),
        },
        other => other.clone(),
    }
}

/// Checks one model object of the file and converts it to a validated schema.
pub fn model_from_json(j: &J, at: &str) -> Result<ModelSchema, Error> {
    let obj = j.as_object().ok_or_else(|| {
        bad(at, "a model must be an object")
            .fix("{\"name\": \"User\", \"fields\": [{\"name\": \"id\", \"type\": \"string\"}]}")
    })?;
    let at = match obj.get("name").and_then(J::as_str) {
        Some(n) => format!("{at} (model `{n}`)"),
        None => at.to_owned(),
    };
    check_keys(obj, MODEL_KEYS, &at)?;
    let mut out = obj.clone();
    if let Some(J::Array(fields)) = obj.get("fields") {
        let mut conv = Vec::with_capacity(fields.len());
        for (i, f) in fields.iter().enumerate() {
            let fo = f.as_object().ok_or_else(|| bad(&at, format!("fields[{i}] must be an object")))?;
            let fat = match fo.get("name").and_then(J::as_str) {
                Some(n) => format!("{at} field `{n}`"),
                None => format!("{at} fields[{i}]"),
            };
            check_keys(fo, FIELD_KEYS, &fat)?;
            let mut fo = fo.clone();
            let t = fo
                .get("type")
                .ok_or_else(|| bad(&fat, "has no `type`").fix(format!("one of: {}", TYPES.join(", "))))?;
            let t = type_to_serde(t, &fat)?;
            fo.insert("type".into(), t);
            conv.push(J::Object(fo));
        }
        out.insert("fields".into(), J::Array(conv));
    }
    if let Some(o) = obj.get("options") {
        let oo = o.as_object().ok_or_else(|| bad(&at, "`options` must be an object"))?;
        check_keys(oo, OPTION_KEYS, &format!("{at} options"))?;
    }
    if let Some(J::Array(ix)) = obj.get("indexes") {
        for (i, x) in ix.iter().enumerate() {
            if let Some(xo) = x.as_object() {
                check_keys(xo, INDEX_KEYS, &format!("{at} indexes[{i}]"))?;
            }
        }
    }
    ModelSchema::from_json(&J::Object(out)).map_err(|e| {
        let mut n = Error::new(e.code(), format!("{at}: {}", e.message()));
        for f in e.fixes() {
            n = n.fix(f.clone());
        }
        n
    })
}

/// A schema → its models-file form (documented type spellings, defaults omitted).
pub fn model_to_json(s: &ModelSchema) -> J {
    let mut j = serde_json::to_value(s).unwrap_or(J::Null);
    if let Some(fields) = j.get_mut("fields").and_then(J::as_array_mut) {
        for f in fields {
            if let Some(fo) = f.as_object_mut() {
                if let Some(t) = fo.get("type").map(type_to_doc) {
                    fo.insert("type".into(), t);
                }
                for k in ["nullable", "unique", "index"] {
                    if fo.get(k) == Some(&J::Bool(false)) {
                        fo.remove(k);
                    }
                }
            }
        }
    }
    if let Some(o) = j.as_object_mut() {
        if o.get("indexes").and_then(J::as_array).is_some_and(Vec::is_empty) {
            o.remove("indexes");
        }
        if o.get("options") == serde_json::to_value(dataflow_sql::ModelOptions::default()).ok().as_ref() {
            o.remove("options");
        }
    }
    j
}

/// Parses the text of a models file (JSON, or YAML when `yaml`).
pub fn parse(text: &str, yaml: bool, label: &str) -> Result<Vec<ModelSchema>, CliError> {
    let doc: J = if yaml {
        serde_yaml::from_str(text).map_err(|e| {
            CliError::usage(
                bad(label, format!("is not valid YAML: {e}")).fix("see the guide's \"Models file\" chapter"),
            )
        })?
    } else {
        serde_json::from_str(text).map_err(|e| {
            CliError::usage(
                bad(label, format!("is not valid JSON: {e}")).fix("see the guide's \"Models file\" chapter"),
            )
        })?
    };
    let items: Vec<J> = match doc {
        J::Array(items) => items,
        J::Object(o) if o.contains_key("models") => {
            if let Some(k) = o.keys().find(|k| *k != "models") {
                return Err(CliError::usage(
                    bad(label, format!("unknown top-level key `{k}`")).fix("the top level holds only `models`"),
                ));
            }
            match o.get("models") {
                Some(J::Array(items)) => items.clone(),
                _ => return Err(CliError::usage(bad(label, "`models` must be a list"))),
            }
        }
        one => vec![one],
    };
    let mut out: Vec<ModelSchema> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let s = model_from_json(item, &format!("{label} models[{i}]")).map_err(CliError::usage)?;
        if out.iter().any(|o| o.name == s.name) {
            return Err(CliError::usage(bad(label, format!("model `{}` is defined twice", s.name))));
        }
        out.push(s);
    }
    if out.is_empty() {
        return Err(CliError::usage(bad(label, "holds no model").fix("add {\"name\": .., \"fields\": [..]}")));
    }
    Ok(out)
}

/// Reads a models file; `.yaml`/`.yml` are YAML, anything else JSON.
pub fn load(path: &Path) -> Result<Vec<ModelSchema>, CliError> {
    let text = read_small(path)?;
    let yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    parse(&text, yaml, &path.display().to_string())
}

/// The model named `name`, or the only model of the file. Several models and no name, or an
/// unknown name, is a usage error listing the names: never silently the first.
pub fn select(models: Vec<ModelSchema>, name: Option<&str>, path: &Path) -> Result<ModelSchema, CliError> {
    let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    match name {
        Some(n) => models.into_iter().find(|m| m.name == n).ok_or_else(|| {
            let mut e = Error::new(ErrorCode::UNKNOWN_MODEL, format!("`{}` has no model `{n}`", path.display()));
            if let Some(c) = dataflow_sql::error::closest(n, names.iter().map(String::as_str)) {
                e = e.fix(format!("did you mean `{c}`?"));
            }
            CliError::usage(e.fix(format!("models in the file: {}", names.join(", "))))
        }),
        None if models.len() == 1 => Ok(models.into_iter().next().unwrap_or_else(|| unreachable!())),
        None => Err(CliError::usage(
            Error::new(
                ErrorCode::UNKNOWN_MODEL,
                format!("`{}` holds {} models; say which one with --model", path.display(), names.len()),
            )
            .fix(format!("--model {} (models: {})", names[0], names.join(", "))),
        )),
    }
}
