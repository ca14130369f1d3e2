// Rejected: a model option (`soft_delete`) on a field. It belongs on the struct.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(soft_delete)]
    pub email: String,
}

fn main() {}
