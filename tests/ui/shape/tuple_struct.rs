// Rejected: a tuple struct. Every column needs a name, and tuple fields have none.
#[dataflow::model]
pub struct Pair(pub i64, pub String);

fn main() {}
