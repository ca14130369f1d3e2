// Rejected: two fields mapped to one column (`email`) after `column = "..."`.
#[dataflow::model]
pub struct User {
    pub id: i64,
    pub email: String,
    #[dataflow(column = "email")]
    pub contact: String,
}

fn main() {}
