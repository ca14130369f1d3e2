// Rejected: no primary key. The key must be a field named `id`.
#[dataflow::model]
pub struct Note {
    pub title: String,
    pub body: String,
}

fn main() {}
