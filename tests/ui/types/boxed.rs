// Rejected: `Box<String>`. Smart pointers add nothing to a column; use the inner type.
#[dataflow::model]
pub struct Doc {
    pub id: i64,
    pub body: Box<String>,
}

fn main() {}
