// Rejected: a misspelled `audit` model option gets a "did you mean".
#[dataflow::model(audti)]
pub struct Invoice {
    pub id: i64,
}

fn main() {}
