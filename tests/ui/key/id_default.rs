// Rejected: a default on the key. Keys are supplied or generated (integer 0 / nil Uuid), never
// defaulted to one fixed value.
#[dataflow::model]
pub struct Counter {
    #[dataflow(default = 1)]
    pub id: i64,
}

fn main() {}
