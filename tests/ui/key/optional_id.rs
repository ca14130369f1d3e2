// Rejected: `Option<i64>` as the key. Every record has a key; "not yet generated" is spelled
// `id: 0` (or a nil Uuid), not `None`.
#[dataflow::model]
pub struct Task {
    pub id: Option<i64>,
    pub title: String,
}

fn main() {}
