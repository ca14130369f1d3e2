// Rejected: a default that is an expression, not a literal. Defaults are stored in the schema
// (and in DDL), so they must be constants.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(default = String::new())]
    pub name: String,
}

fn main() {}
