// Rejected: a misspelled model option (`soft_delet`). Unknown options are errors, never
// ignored, with the closest valid option suggested.
#[dataflow::model(soft_delet)]
pub struct User {
    pub id: i64,
}

fn main() {}
