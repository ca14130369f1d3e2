// Rejected: a table name that is not an SQL identifier. Identifiers are validated, never
// quoted or escaped, so injection through a name is impossible.
#[dataflow::model(table = "user accounts; drop table x")]
pub struct User {
    pub id: i64,
}

fn main() {}
