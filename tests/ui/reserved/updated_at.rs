// Rejected: declaring `updated_at`, even with `timestamps = false`: the name stays reserved so
// that turning timestamps on later cannot collide with a user column.
#[dataflow::model(timestamps = false)]
pub struct Post {
    pub id: i64,
    pub updated_at: String,
}

fn main() {}
