// Rejected: a lifetime parameter. A model owns its data (records are read from the database),
// so it cannot borrow. The `&'a str` field is reported too.
#[dataflow::model]
pub struct View<'a> {
    pub id: i64,
    pub name: &'a str,
}

fn main() {}
