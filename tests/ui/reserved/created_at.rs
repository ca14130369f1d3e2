// Rejected: declaring `created_at`. DataFlow adds and maintains it; fetched records expose it
// read-only through `Stored<M>`, so user code can never write it.
#[dataflow::model]
pub struct Post {
    pub id: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
