// Rejected: an index on `created_at` of a model with `timestamps = false`, which has no such
// column.
#[dataflow::model(timestamps = false)]
#[dataflow(indexes(["created_at"]))]
pub struct Page {
    pub id: i64,
}

fn main() {}
