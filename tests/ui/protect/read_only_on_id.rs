// Rejected: `read_only` on the primary key, which no update can change anyway.
#[dataflow::model]
pub struct Invoice {
    #[dataflow(read_only)]
    pub id: i64,
}

fn main() {}
