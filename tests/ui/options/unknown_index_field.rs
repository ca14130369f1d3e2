// Rejected: an index naming a field the model does not have (`emial`).
#[dataflow::model]
#[dataflow(indexes(["emial"]))]
pub struct User {
    pub id: i64,
    pub email: String,
}

fn main() {}
