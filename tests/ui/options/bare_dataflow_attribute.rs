// Rejected: `#[dataflow]` without a list of options.
#[dataflow::model]
pub struct Page {
    pub id: i64,
    #[dataflow]
    pub title: String,
}

fn main() {}
