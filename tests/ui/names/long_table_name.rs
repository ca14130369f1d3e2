// Rejected: a 64-byte table name; PostgreSQL truncates identifiers beyond 63 bytes.
#[dataflow::model(table = "a_table_name_that_is_much_too_long_for_postgres_identifier_limit")]
pub struct User {
    pub id: i64,
}

fn main() {}
