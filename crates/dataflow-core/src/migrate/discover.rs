//! Schema discovery: turn the tables of an existing database into dynamic [`ModelSchema`]s
//! (the original's `discover_schema` / `register_schema_as_models`) and render Rust model source
//! for them (`dataflow generate`).

mod render;

use dataflow_sql::{Dialect, FieldDef, FieldType, IndexDef, ModelOptions, ModelSchema, Result};

pub use self::render::render_rust;
use super::introspect::{self, LiveColumn, LiveTable};
use crate::db::pool::Conn;

/// The result of discovery.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// One validated dynamic model per usable table.
    pub models: Vec<ModelSchema>,
    /// Tables that cannot be models, with the reason (no `id` column, unsupported column types).
    pub skipped: Vec<(String, String)>,
    /// Columns left out of a model (unsupported type, but nullable or defaulted), as
    /// `(table, column, type)`.
    pub omitted_columns: Vec<(String, String, String)>,
}

/// Discovers every user table.
pub async fn discover(conn: &mut Conn<'_>) -> Result<Discovery> {
    let d = conn.dialect();
    let mut out = Discovery::default();
    for t in introspect::tables(conn).await? {
        let Some(live) = introspect::table(conn, &t).await? else { continue };
        match to_schema(&live, d, &mut out.omitted_columns) {
            Ok(s) => out.models.push(s),
            Err(reason) => out.skipped.push((t, reason)),
        }
    }
    Ok(out)
}

/// `users` -> `User`, `order_items` -> `OrderItem`, `people` -> `Person`.
pub fn model_name(table: &str) -> String {
    let parts: Vec<&str> = table.split('_').filter(|p| !p.is_empty()).collect();
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let w = if i + 1 == n { singular(p) } else { (*p).to_owned() };
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn singular(w: &str) -> String {
    let lower = w.to_ascii_lowercase();
    for (pl, sg) in [("people", "person"), ("children", "child"), ("men", "man"), ("women", "woman")] {
        if lower == pl {
            return sg.into();
        }
    }
    if ["data", "metadata", "news", "series", "status"].contains(&lower.as_str()) {
        return w.into();
    }
    if let Some(stem) = w.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suf in ["sses", "shes", "ches", "xes", "uses"] {
        if w.ends_with(suf) {
            return w[..w.len() - 2].to_owned();
        }
    }
    if w.ends_with('s') && !w.ends_with("ss") {
        return w[..w.len() - 1].to_owned();
    }
    w.into()
}

/// The field type (and max_len, native array flag) for a live type: the backend's mapping
/// (`Backend::discover_type`).
fn field_type(d: Dialect, t: &str) -> Option<(FieldType, Option<u32>, bool)> {
    d.backend().discover_type(t).map(|t| (t.ty, t.max_len, t.native_array))
}

/// A default literal the model can carry (numbers, booleans, quoted strings); others are dropped.
fn default_json(c: &LiveColumn, ty: FieldType) -> Option<serde_json::Value> {
    let raw = c.default.as_deref()?.trim();
    // PostgreSQL: `'abc'::text`; MariaDB: `'abc'`; SQLite: `'abc'`.
    let raw = match raw.find("::") {
        Some(i) if raw.starts_with('\'') => &raw[..i],
        _ => raw,
    };
    let raw = raw.trim_matches(|c| c == '(' || c == ')');
    let v = if let Some(s) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        serde_json::Value::String(s.replace("''", "'"))
    } else if raw.eq_ignore_ascii_case("true") {
        serde_json::Value::Bool(true)
    } else if raw.eq_ignore_ascii_case("false") {
        serde_json::Value::Bool(false)
    } else if let Ok(i) = raw.parse::<i64>() {
        if ty == FieldType::Bool { serde_json::Value::Bool(i != 0) } else { i.into() }
    } else if let Ok(f) = raw.parse::<f64>() {
        serde_json::Number::from_f64(f).map(serde_json::Value::Number)?
    } else {
        return None;
    };
    let probe = FieldDef::new("x", ty);
    dataflow_sql::Value::from_json(&v, &probe).ok().map(|_| v)
}

/// One live table as a dynamic model, or the reason it cannot be one.
pub fn to_schema(
    live: &LiveTable,
    d: Dialect,
    omitted: &mut Vec<(String, String, String)>,
) -> std::result::Result<ModelSchema, String> {
    let has = |n: &str| live.column(n).is_some();
    let mut options = ModelOptions {
        timestamps: has("created_at") && has("updated_at"),
        soft_delete: has("deleted_at"),
        multi_tenant: has("tenant_id"),
        ..ModelOptions::default()
    };
    if (has("created_at") || has("updated_at")) && !options.timestamps {
        return Err("has only one of `created_at` / `updated_at`, which DataFlow manages as a pair".into());
    }
    let managed = ["created_at", "updated_at", "deleted_at", "tenant_id"];
    let mut fields = Vec::new();
    for c in &live.columns {
        if managed.contains(&c.name.as_str()) {
            continue;
        }
        let Some((ty, max_len, native)) = field_type(d, &c.data_type) else {
            if c.nullable || c.default.is_some() {
                omitted.push((live.name.clone(), c.name.clone(), c.data_type.clone()));
                continue;
            }
            return Err(format!("column `{}` has type {}, which no DataFlow field type maps to", c.name, c.data_type));
        };
        options.native_arrays |= native;
        let mut f = FieldDef::new(c.name.clone(), ty);
        f.nullable = c.nullable && c.name != "id";
        f.max_len = max_len;
        if c.name != "id" {
            f.default = default_json(c, ty);
        }
        let single = |unique: bool| {
            live.indexes
                .iter()
                .any(|i| !i.primary && i.unique == unique && i.columns.len() == 1 && i.columns[0] == c.name)
        };
        f.unique = c.name != "id" && single(true);
        f.index = c.name != "id" && !f.unique && single(false);
        fields.push(f);
    }
    let Some(id) = fields.iter().position(|f| f.name == "id") else {
        return Err("has no `id` column (DataFlow models need the primary key `id`)".into());
    };
    if !live.column("id").is_some_and(|c| c.primary_key) {
        return Err("its `id` column is not the primary key".into());
    }
    let idf = fields.remove(id);
    fields.insert(0, idf);
    let indexes = live
        .indexes
        .iter()
        .filter(|i| !i.primary && i.columns.len() > 1)
        // The managed tenant index (`dataflow_sql::ddl::wanted_indexes`) comes with `multi_tenant`.
        .filter(|i| !(options.multi_tenant && !i.unique && i.columns == ["tenant_id", "id"]))
        .map(|i| IndexDef { name: Some(i.name.clone()), fields: i.columns.clone(), unique: i.unique })
        .collect();
    let schema = ModelSchema { name: model_name(&live.name), table: live.name.clone(), fields, options, indexes };
    schema.validate().map_err(|e| e.message().to_owned())?;
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_become_model_names() {
        assert_eq!(model_name("users"), "User");
        assert_eq!(model_name("order_items"), "OrderItem");
        assert_eq!(model_name("people"), "Person");
        assert_eq!(model_name("categories"), "Category");
        assert_eq!(model_name("addresses"), "Address");
        assert_eq!(model_name("statuses"), "Status");
        assert_eq!(model_name("news"), "News");
    }

    #[test]
    fn live_types_map_to_field_types() {
        assert_eq!(field_type(Dialect::Postgres, "character varying(80)"), Some((FieldType::String, Some(80), false)));
        assert_eq!(field_type(Dialect::MySql, "char(36)"), Some((FieldType::Uuid, None, false)));
        assert_eq!(field_type(Dialect::MySql, "tinyint(1)"), Some((FieldType::Bool, None, false)));
        assert_eq!(field_type(Dialect::MySql, "int(11)"), Some((FieldType::I32, None, false)));
        assert_eq!(field_type(Dialect::Sqlite, "varchar(40)"), Some((FieldType::String, Some(40), false)));
        assert_eq!(field_type(Dialect::Sqlite, "integer"), Some((FieldType::I64, None, false)));
        assert_eq!(field_type(Dialect::Postgres, "point"), None);
    }
}
