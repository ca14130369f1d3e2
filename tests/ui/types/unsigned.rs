// Rejected: `u32`. Unsigned integers are not portable across PostgreSQL, MySQL and SQLite.
#[dataflow::model]
pub struct Stock {
    pub id: i64,
    pub quantity: u32,
}

fn main() {}
