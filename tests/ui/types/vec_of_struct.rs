// Rejected: `Vec` of a struct. Only Vec<String|i64|f64|bool> (arrays) and Vec<u8> (bytes)
// map to columns; the error points at the element type.
pub struct Line {
    pub sku: String,
}

#[dataflow::model]
pub struct Order {
    pub id: i64,
    pub lines: Vec<Line>,
}

fn main() {}
