// Rejected: the attribute applied twice, which would generate every impl twice.
#[dataflow::model]
#[dataflow::model]
pub struct User {
    pub id: i64,
}

fn main() {}
