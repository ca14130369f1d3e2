// Rejected: a non-ASCII struct name: the model name and the table derived from it must be SQL
// identifiers.
#[dataflow::model]
pub struct Café {
    pub id: i64,
}

fn main() {}
