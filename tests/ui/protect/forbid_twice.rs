// Rejected: the same operation listed twice in `forbid`.
#[dataflow::model(forbid(delete, delete))]
pub struct Invoice {
    pub id: i64,
}

fn main() {}
