// Rejected: a model with many mistakes. Every one is reported in the same compile, each on its
// own token: the unknown option, the option conflict, the misnamed key, the reserved field,
// the unsupported types, the bad default, `max_len` on an integer and the duplicate column.
use std::collections::HashMap;

#[dataflow::model(append_only, soft_delete, tabel = "x")]
pub struct Everything {
    pub everything_id: i64,
    pub created_at: String,
    pub attrs: HashMap<String, String>,
    pub grid: Vec<Vec<i64>>,
    #[dataflow(default = "many")]
    pub count: i64,
    #[dataflow(max_len = 10)]
    pub age: i32,
    pub name: String,
    #[dataflow(column = "name")]
    pub alias: String,
}

fn main() {}
