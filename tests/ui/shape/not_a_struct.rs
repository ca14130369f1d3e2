// Rejected: the attribute on a function. Only structs with named fields can be models.
#[dataflow::model]
fn user() {}

fn main() {}
