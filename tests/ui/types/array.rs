// Rejected: a fixed-size array. Bytes are `Vec<u8>`, lists `Vec<String|i64|f64|bool>`.
#[dataflow::model]
pub struct Key {
    pub id: i64,
    pub bytes: [u8; 32],
}

fn main() {}
