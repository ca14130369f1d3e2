// Rejected: declaring `deleted_at` on a `soft_delete` model, where DataFlow manages it.
#[dataflow::model]
#[dataflow(soft_delete)]
pub struct Post {
    pub id: i64,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn main() {}
