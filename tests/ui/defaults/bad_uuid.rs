// Rejected: a `Uuid` default that is not a UUID.
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(default = "not-a-uuid")]
    pub org: uuid::Uuid,
}

fn main() {}
