// Rejected: `max_len = "255"` (a string, not an integer).
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(max_len = "255")]
    pub name: String,
}

fn main() {}
