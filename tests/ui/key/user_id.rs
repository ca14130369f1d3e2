// Rejected: the key is named `user_id`. DataFlow's operations address records by `id`, so the
// key must be named exactly `id`; the error points at the misnamed field.
#[dataflow::model]
pub struct User {
    pub user_id: i64,
    pub name: String,
}

fn main() {}
