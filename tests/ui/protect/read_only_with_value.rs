// Rejected: `read_only` given a non-boolean value.
#[dataflow::model]
pub struct Invoice {
    pub id: i64,
    #[dataflow(read_only = "yes")]
    pub number: String,
}

fn main() {}
