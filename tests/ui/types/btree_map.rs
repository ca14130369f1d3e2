// Rejected: `BTreeMap`, for the same reason as `HashMap`.
#[dataflow::model]
pub struct Settings {
    pub id: i64,
    pub values: std::collections::BTreeMap<String, i64>,
}

fn main() {}
