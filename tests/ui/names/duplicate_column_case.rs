// Rejected: columns that differ only in case (`Email` / `email`): databases compare unquoted
// identifiers case-insensitively.
#[dataflow::model]
pub struct User {
    pub id: i64,
    pub email: String,
    #[dataflow(column = "Email")]
    pub contact: String,
}

fn main() {}
