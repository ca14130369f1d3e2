// Rejected: a generic model. Every column type must be known when the macro expands.
#[dataflow::model]
pub struct Boxed<T> {
    pub id: i64,
    pub value: T,
}

fn main() {}
