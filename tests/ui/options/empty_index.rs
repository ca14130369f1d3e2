// Rejected: an index without fields.
#[dataflow::model]
#[dataflow(indexes([]))]
pub struct Page {
    pub id: i64,
}

fn main() {}
