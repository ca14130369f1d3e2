// Rejected: `table = users` (a path, not a string literal).
#[dataflow::model(table = users)]
pub struct User {
    pub id: i64,
}

fn main() {}
