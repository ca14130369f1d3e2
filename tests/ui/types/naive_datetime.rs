// Rejected: `NaiveDateTime`. Timestamps are instants in UTC on every backend.
#[dataflow::model]
pub struct Meeting {
    pub id: i64,
    pub starts: chrono::NaiveDateTime,
}

fn main() {}
