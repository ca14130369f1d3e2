// Rejected: an integer default on a `String` field.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(default = 0)]
    pub status: String,
}

fn main() {}
