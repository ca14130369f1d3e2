// Rejected: a nested struct field. The macro cannot know what `Address` is, so the compiler
// checks it against `FieldValue` on the field's type; the message lists the supported types.
pub struct Address {
    pub city: String,
}

#[dataflow::model]
pub struct Customer {
    pub id: i64,
    pub address: Address,
}

fn main() {}
