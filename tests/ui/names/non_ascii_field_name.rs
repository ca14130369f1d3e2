// Rejected: a non-ASCII field name: field names are column names and JSON keys.
#[dataflow::model]
pub struct User {
    pub id: i64,
    pub größe: i32,
}

fn main() {}
