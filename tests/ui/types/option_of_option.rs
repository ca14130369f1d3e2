// Rejected: `Option<Option<_>>`. A column is NULL or a value; there is no third state.
#[dataflow::model]
pub struct Profile {
    pub id: i64,
    pub nickname: Option<Option<String>>,
}

fn main() {}
