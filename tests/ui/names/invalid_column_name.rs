// Rejected: a column name with a dash.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(column = "e-mail")]
    pub email: String,
}

fn main() {}
