// Rejected: the same field option twice.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(column = "mail", column = "email_address")]
    pub email: String,
}

fn main() {}
