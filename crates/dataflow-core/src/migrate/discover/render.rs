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
        if let Some(d) = &f.default {
            attrs.push(format!("default = {d}"));
        }
        if let Some(c) = &f.column {
            attrs.push(format!("column = {c:?}"));
        }
        if !attrs.is_empty() {
            out.push_str(&format!("    #[dataflow({})]\n", attrs.join(", ")));
        }
        let ty = rust_type(f.ty);
        let ty = if f.nullable { format!("Option<{ty}>") } else { ty.to_owned() };
        out.push_str(&format!("    pub {}: {ty},\n", f.name));
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
}
