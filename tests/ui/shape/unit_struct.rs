// Rejected: a unit struct. A model needs at least its primary key field.
#[dataflow::model]
pub struct Marker;

fn main() {}
