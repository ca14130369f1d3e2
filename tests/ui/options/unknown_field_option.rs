// Rejected: a misspelled field option (`uniqe`), with the closest valid option suggested.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(uniqe)]
    pub email: String,
}

fn main() {}
