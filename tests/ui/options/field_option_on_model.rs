// Rejected: a field option (`unique`) on the struct. It belongs on a field.
#[dataflow::model]
#[dataflow(unique)]
pub struct User {
    pub id: i64,
    pub email: String,
}

fn main() {}
