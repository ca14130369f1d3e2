//! The models the scenarios use: dynamic schemas and one hand-written typed model.

use std::sync::OnceLock;

use dataflow::{FieldValue, Model, ModelSchema, Result, Value};
use dataflow_core::DataFlow;
use serde_json::json;

pub fn user() -> ModelSchema {
    ModelSchema::from_json(&json!({
        "name": "User",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "name", "type": "string"},
            {"name": "email", "type": "string", "unique": true},
            {"name": "age", "type": "i32", "nullable": true},
            {"name": "active", "type": "bool", "default": true},
            {"name": "score", "type": "f64", "nullable": true},
            {"name": "tags", "type": {"array": "string"}, "default": []},
            {"name": "profile", "type": "json", "nullable": true},
            {"name": "born", "type": "date_time", "nullable": true}
        ],
        "options": {"soft_delete": true}
    }))
    .unwrap()
}

pub fn item() -> ModelSchema {
    ModelSchema::from_json(&json!({
        "name": "Item",
        "fields": [
            {"name": "id", "type": "i64"},
            {"name": "sku", "type": "string", "unique": true},
            {"name": "qty", "type": "i32", "default": 0},
            {"name": "price", "type": "decimal", "nullable": true},
            {"name": "day", "type": "date", "nullable": true},
            {"name": "org", "type": "string", "default": "acme"},
            {"name": "slug", "type": "string", "nullable": true},
            {"name": "label", "type": "string", "nullable": true}
        ],
        "indexes": [{"fields": ["org", "slug"], "unique": true}]
    }))
    .unwrap()
}

pub fn event() -> ModelSchema {
    ModelSchema::from_json(&json!({
        "name": "Event",
        "fields": [
            {"name": "id", "type": "uuid"},
            {"name": "kind", "type": "string"},
            {"name": "payload", "type": "json", "nullable": true}
        ],
        "options": {"append_only": true}
    }))
    .unwrap()
}

/// A typed model with a hand-written `impl Model` (what `#[dataflow::model]` generates).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: i64,
    pub title: String,
    pub body: Option<String>,
    pub stars: i32,
}

impl Note {
    pub fn new(title: &str, stars: i32) -> Self {
        Note { id: 0, title: title.into(), body: None, stars }
    }
}

impl Model for Note {
    fn schema() -> &'static ModelSchema {
        static S: OnceLock<ModelSchema> = OnceLock::new();
        S.get_or_init(|| {
            ModelSchema::from_json(&json!({
                "name": "Note",
                "fields": [
                    {"name": "id", "type": "i64"},
                    {"name": "title", "type": "string", "unique": true},
                    {"name": "body", "type": "string", "nullable": true},
                    {"name": "stars", "type": "i32"}
                ]
            }))
            .unwrap()
        })
    }
    fn to_values(&self) -> Vec<Value> {
        vec![Value::I64(self.id), Value::String(self.title.clone()), self.body.to_value(), Value::I32(self.stars)]
    }
    fn from_values(values: Vec<Value>) -> Result<Self> {
        let bad = |f: &str| dataflow_sql::model::decode_error("Note", f, "value");
        let mut it = values.into_iter();
        Ok(Note {
            id: it.next().and_then(i64::from_value).ok_or_else(|| bad("id"))?,
            title: it.next().and_then(String::from_value).ok_or_else(|| bad("title"))?,
            body: it.next().and_then(Option::<String>::from_value).ok_or_else(|| bad("body"))?,
            stars: it.next().and_then(i32::from_value).ok_or_else(|| bad("stars"))?,
        })
    }
}

/// Registers every scenario model.
pub async fn register_all(db: &DataFlow) {
    db.register_schema(user()).await.unwrap();
    db.register_schema(item()).await.unwrap();
    db.register_schema(event()).await.unwrap();
    db.register::<Note>().await.unwrap();
}

/// The error code number of a result's error.
pub fn code<T: std::fmt::Debug>(r: Result<T>) -> u16 {
    r.expect_err("expected an error").code().number()
}

/// A user record.
pub fn u(id: &str, name: &str, age: Option<i32>) -> serde_json::Value {
    json!({"id": id, "name": name, "email": format!("{id}@example.com"), "age": age})
}
