// Rejected: `Vec<Vec<_>>`. Arrays are one level deep on every backend; nested lists are JSON.
#[dataflow::model]
pub struct Matrix {
    pub id: i64,
    pub rows: Vec<Vec<f64>>,
}

fn main() {}
