// Rejected: `DateTime<Local>`. Only `DateTime<Utc>` is a field type; the compiler's
// `FieldValue` check reports it on the field's type.
#[dataflow::model]
pub struct Meeting {
    pub id: i64,
    pub starts: chrono::DateTime<chrono::Local>,
}

fn main() {}
