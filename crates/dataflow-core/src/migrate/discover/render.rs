//! Rust source for a discovered model (`#[dataflow::model]` struct).

use dataflow_sql::schema::ArrayElem;
use dataflow_sql::{FieldType, ModelSchema};

fn rust_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "String",
        FieldType::I32 => "i32",
        FieldType::I64 => "i64",
        FieldType::F64 => "f64",
        FieldType::Bool => "bool",
        FieldType::DateTime => "chrono::DateTime<chrono::Utc>",
        FieldType::Date => "chrono::NaiveDate",
        FieldType::Uuid => "uuid::Uuid",
        FieldType::Decimal => "rust_decimal::Decimal",
        FieldType::Json => "serde_json::Value",
        FieldType::Array(ArrayElem::String) => "Vec<String>",
        FieldType::Array(ArrayElem::I64) => "Vec<i64>",
        FieldType::Array(ArrayElem::F64) => "Vec<f64>",
        FieldType::Array(ArrayElem::Bool) => "Vec<bool>",
        FieldType::Bytes => "Vec<u8>",
    }
}

/// Rust keywords: a field with one of these names is written `r#name` (and `self`, `Self`,
/// `super`, `crate`, which cannot be raw, get a `_` suffix and an explicit `column`).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false", "fn", "for", "gen",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct",
    "trait", "true", "try", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final",
    "macro", "override", "priv", "typeof", "unsized", "virtual", "yield",
];
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];

/// The Rust field name for a column name, and whether the column must be named explicitly.
fn field_ident(name: &str) -> (String, bool) {
    if NOT_RAW.contains(&name) {
        (format!("{name}_"), true)
    } else if KEYWORDS.contains(&name) {
        (format!("r#{name}"), false)
    } else {
        (name.to_owned(), false)
    }
}

/// A `default = <literal>` the model macro accepts, or `None` when the default has no literal
/// form (JSON objects, arrays and null): those stay a database default and a comment says so.
fn default_literal(d: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    match d {
        J::String(s) => Some(format!("{s:?}")),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        J::Null | J::Array(_) | J::Object(_) => None,
    }
}

fn list(v: &[String]) -> String {
    let q: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", q.join(", "))
}

/// Renders `schema` as a `#[dataflow::model]` struct (the source `dataflow generate` prints).
pub fn render_rust(schema: &ModelSchema) -> String {
    let mut opts: Vec<String> = Vec::new();
    if dataflow_sql::naming::table_name(&schema.name) != schema.table {
        opts.push(format!("table = {:?}", schema.table));
    }
    let o = &schema.options;
    for (on, name) in [
        (o.soft_delete, "soft_delete"),
        (o.native_arrays, "native_arrays"),
        (o.multi_tenant, "multi_tenant"),
        (o.append_only, "append_only"),
    ] {
        if on {
            opts.push(name.to_owned());
        }
    }
    if !o.timestamps {
        opts.push("timestamps = false".into());
    }
    if !schema.indexes.is_empty() {
        let ix: Vec<String> = schema
            .indexes
            .iter()
            .map(|i| if i.unique { format!("unique({})", list(&i.fields)) } else { list(&i.fields) })
            .collect();
        opts.push(format!("indexes({})", ix.join(", ")));
    }
    let mut out = format!("/// Generated from table `{}`.\n#[dataflow::model]\n", schema.table);
    if !opts.is_empty() {
        out.push_str(&format!("#[dataflow({})]\n", opts.join(", ")));
    }
    out.push_str(&format!("pub struct {} {{\n", schema.name));
    for f in &schema.fields {
        let (ident, explicit_column) = field_ident(&f.name);
        let mut attrs: Vec<String> = Vec::new();
        if f.unique {
            attrs.push("unique".into());
        }
        if f.index {
            attrs.push("index".into());
        }
        if let Some(n) = f.max_len {
            attrs.push(format!("max_len = {n}"));
        }
        let mut note = None;
        if let Some(d) = &f.default {
            match default_literal(d) {
                Some(lit) => attrs.push(format!("default = {lit}")),
                None => note = Some(format!("    // database default: {d} (no literal form; set it when creating)\n")),
            }
        }
        match (&f.column, explicit_column) {
            (Some(c), _) => attrs.push(format!("column = {c:?}")),
            (None, true) => attrs.push(format!("column = {:?}", f.name)),
            (None, false) => {}
        }
        if let Some(n) = note {
            out.push_str(&n);
        }
        if !attrs.is_empty() {
            out.push_str(&format!("    #[dataflow({})]\n", attrs.join(", ")));
        }
        let ty = rust_type(f.ty);
        let ty = if f.nullable { format!("Option<{ty}>") } else { ty.to_owned() };
        out.push_str(&format!("    pub {ident}: {ty},\n"));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflow_sql::{FieldDef, IndexDef};

    #[test]
    fn renders_a_model_struct() {
        let mut s = ModelSchema::new(
            "Person",
            vec![
                FieldDef::new("id", FieldType::I64),
                FieldDef::new("email", FieldType::String).unique().max_len(120),
                FieldDef::new("age", FieldType::I32).nullable(),
                FieldDef::new("active", FieldType::Bool).with_default(serde_json::json!(true)),
            ],
        );
        s.table = "staff".into();
        s.options.timestamps = false;
        s.indexes.push(IndexDef { name: None, fields: vec!["age".into(), "active".into()], unique: true });
        let src = render_rust(&s);
        assert_eq!(
            src,
            "/// Generated from table `staff`.\n#[dataflow::model]\n\
             #[dataflow(table = \"staff\", timestamps = false, indexes(unique([\"age\", \"active\"])))]\n\
             pub struct Person {\n    pub id: i64,\n    #[dataflow(unique, max_len = 120)]\n    pub email: String,\n\
             \x20   pub age: Option<i32>,\n    #[dataflow(default = true)]\n    pub active: bool,\n}\n"
        );
    }

    /// The `default = ..` values and every field name of the generated struct, parsed the way
    /// the model macro reads them (`#[dataflow(key = <literal>, ..)]`).
    fn parse(src: &str) -> (Vec<syn::Expr>, Vec<String>) {
        use syn::punctuated::Punctuated;
        let item: syn::ItemStruct = syn::parse_str(src).unwrap_or_else(|e| panic!("{e}:\n{src}"));
        let mut defaults = Vec::new();
        for f in &item.fields {
            for a in f.attrs.iter().filter(|a| a.path().is_ident("dataflow")) {
                let metas = a
                    .parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                    .unwrap_or_else(|e| panic!("{e}:\n{src}"));
                for m in metas {
                    if let syn::Meta::NameValue(nv) = m
                        && nv.path.is_ident("default")
                    {
                        defaults.push(nv.value);
                    }
                }
            }
        }
        let names = item.fields.iter().map(|f| f.ident.as_ref().map(ToString::to_string).unwrap_or_default()).collect();
        (defaults, names)
    }

    #[test]
    fn keyword_columns_and_json_defaults_render_valid_rust() {
        let s = ModelSchema::new(
            "Thing",
            vec![
                FieldDef::new("id", FieldType::I64),
                FieldDef::new("type", FieldType::String).with_default(serde_json::json!("a \"quoted\"\u{1f} value")),
                FieldDef::new("self", FieldType::I32).with_default(serde_json::json!(-3)),
                FieldDef::new("meta", FieldType::Json).with_default(serde_json::json!({"a": [1, 2]})),
                FieldDef::new("flag", FieldType::Json).with_default(serde_json::json!(true)),
            ],
        );
        let src = render_rust(&s);
        let (defaults, names) = parse(&src);
        assert_eq!(names, ["id", "r#type", "self_", "meta", "flag"], "{src}");
        assert!(src.contains("#[dataflow(default = -3, column = \"self\")]"), "{src}");
        assert!(src.contains("// database default: {\"a\":[1,2]}"), "{src}");
        assert_eq!(defaults.len(), 3, "{src}");
        for d in &defaults {
            let lit = match d {
                syn::Expr::Unary(u) => &*u.expr,
                other => other,
            };
            assert!(matches!(lit, syn::Expr::Lit(_)), "not a literal: {}\n{src}", quote_expr(d));
        }
        let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &defaults[0] else { panic!("{src}") };
        assert_eq!(s.value(), "a \"quoted\"\u{1f} value");
    }

    fn quote_expr(e: &syn::Expr) -> String {
        format!("{e:?}")
    }
}
