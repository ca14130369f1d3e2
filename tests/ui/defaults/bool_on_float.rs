// Rejected: a bool default on an `f64` field.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(default = false)]
    pub score: f64,
}

fn main() {}
