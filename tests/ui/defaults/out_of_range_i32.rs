// Rejected: a default that does not fit in `i32`.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(default = 3000000000)]
    pub points: i32,
}

fn main() {}
