// Rejected: `HashMap`. Key-value data goes in a `serde_json::Value` (JSON column).
use std::collections::HashMap;

#[dataflow::model]
pub struct Settings {
    pub id: i64,
    pub values: HashMap<String, String>,
}

fn main() {}
