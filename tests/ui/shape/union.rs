// Rejected: `#[dataflow::model]` on a union. Unions have no per-field storage to map to columns.
#[dataflow::model]
pub union Bits {
    a: i64,
    b: f64,
}

fn main() {}
