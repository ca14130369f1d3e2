// Rejected: a reference field (`&'static str`). Models own their data; use `String`.
#[dataflow::model]
pub struct Label {
    pub id: i64,
    pub text: &'static str,
}

fn main() {}
