// Rejected: a `NaiveDate` default that is not a `YYYY-MM-DD` date (month 13).
#[dataflow::model]
pub struct User {
    pub id: i64,
    #[dataflow(default = "2024-13-01")]
    pub joined: chrono::NaiveDate,
}

fn main() {}
