// Rejected: `forbid` without its list of operations.
#[dataflow::model(forbid)]
pub struct Invoice {
    pub id: i64,
}

fn main() {}
