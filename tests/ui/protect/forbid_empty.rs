// Rejected: `forbid()` with no operation (did the author mean something?).
#[dataflow::model(forbid())]
pub struct Invoice {
    pub id: i64,
}

fn main() {}
