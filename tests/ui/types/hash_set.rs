// Rejected: `HashSet`. Sets are stored as arrays: use `Vec<String|i64|f64|bool>`.
#[dataflow::model]
pub struct Doc {
    pub id: i64,
    pub tags: std::collections::HashSet<String>,
}

fn main() {}
