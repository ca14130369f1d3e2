// Rejected: `max_len` on an `i32` field. A length limit only applies to strings.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(max_len = 3)]
    pub age: i32,
}

fn main() {}
