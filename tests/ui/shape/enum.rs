// Rejected: `#[dataflow::model]` on an enum. A model is a table row with named columns; an
// enum has no fixed set of fields. (An enum's value can be stored in a `String` field.)
#[dataflow::model]
pub enum Status {
    Active,
    Banned,
}

fn main() {}
