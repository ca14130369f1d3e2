// Rejected: the key is named `userId` (camelCase). The key must be named `id`.
#[allow(non_snake_case)]
#[dataflow::model]
pub struct User {
    pub userId: String,
    pub name: String,
}

fn main() {}
