// Rejected: `Vec<i32>`. Integer arrays are `Vec<i64>` (one element type per backend array).
#[dataflow::model]
pub struct Scores {
    pub id: i64,
    pub values: Vec<i32>,
}

fn main() {}
