// Rejected: `max_len = 0`, which would allow only the empty string.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(max_len = 0)]
    pub name: String,
}

fn main() {}
