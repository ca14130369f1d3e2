// Rejected: the same model option twice, here once in the attribute's arguments and once in
// `#[dataflow(...)]` (which value would win?).
#[dataflow::model(table = "people")]
#[dataflow(table = "persons")]
pub struct Person {
    pub id: i64,
}

fn main() {}
