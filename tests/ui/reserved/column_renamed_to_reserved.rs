// Rejected: a field renamed onto a managed column with `column = "created_at"`.
#[dataflow::model]
pub struct Post {
    pub id: i64,
    #[dataflow(column = "created_at")]
    pub made: String,
}

fn main() {}
