// Rejected: `unique` on the key, which is already unique (a second index would be redundant).
#[dataflow::model]
pub struct Tag {
    #[dataflow(unique)]
    pub id: String,
}

fn main() {}
