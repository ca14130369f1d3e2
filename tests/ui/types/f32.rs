// Rejected: `f32`. Floating-point columns are `f64` (DOUBLE PRECISION / DOUBLE / REAL).
#[dataflow::model]
pub struct Sensor {
    pub id: i64,
    pub value: f32,
}

fn main() {}
