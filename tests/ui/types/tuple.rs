// Rejected: a tuple field. One column holds one value; use separate fields.
#[dataflow::model]
pub struct Point {
    pub id: i64,
    pub xy: (f64, f64),
}

fn main() {}
