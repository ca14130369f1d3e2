// Rejected: a string default on an `i32` field.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(default = "18")]
    pub age: i32,
}

fn main() {}
