// Rejected: `forbid(..)` on a `read_only` model is redundant (every write is already refused),
// so one of the two is a mistake.
#[dataflow::model(read_only, forbid(delete))]
pub struct Country {
    pub id: String,
}

fn main() {}
