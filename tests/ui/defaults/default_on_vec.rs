// Rejected: a default on a `Vec` field, which has no literal form.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(default = "a")]
    pub tags: Vec<String>,
}

fn main() {}
