// Rejected: `forbid` names an operation that does not exist (a typo of `bulk_delete`).
#[dataflow::model(forbid(delete, bulk_delet))]
pub struct Invoice {
    pub id: i64,
}

fn main() {}
