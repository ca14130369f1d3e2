// Accepted: user aliases that shadow `Option`, `Result`, `String`, `Vec` and `Default` do not
// break the expansion, which only uses `::dataflow::__private` paths.
#![allow(dead_code)]

type Result<T> = std::result::Result<T, ()>;
struct Option;
struct Vec;
trait Default {}

#[dataflow::model]
pub struct Note {
    pub id: i64,
    pub body: String,
    pub tags: std::vec::Vec<String>,
    pub due: core::option::Option<chrono::NaiveDate>,
}

fn main() {
    let _: Result<()> = Ok(());
    use dataflow::Model;
    assert_eq!(Note::schema().fields.len(), 4);
}
