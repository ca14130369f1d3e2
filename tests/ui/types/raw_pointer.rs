// Rejected: a raw pointer. It has no database representation.
#[dataflow::model]
pub struct Handle {
    pub id: i64,
    pub ptr: *const u8,
}

fn main() {}
