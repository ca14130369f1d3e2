// Accepted: the write-protection and audit options (model `read_only`, `forbid(..)`, `audit`;
// field `read_only`); the schema carries each one.
use dataflow::{Model, Operation};

#[dataflow::model(audit, forbid(delete, bulk_delete))]
pub struct Invoice {
    pub id: i64,
    #[dataflow(read_only, unique)]
    pub number: String,
    pub total: i64,
}

#[dataflow::model]
#[dataflow(read_only)]
pub struct Country {
    pub id: String,
    pub name: String,
}

fn main() {
    let s = Invoice::schema();
    assert!(s.options.audit && !s.options.read_only);
    assert_eq!(s.options.forbid, [Operation::Delete, Operation::BulkDelete]);
    assert!(s.field("number").unwrap().read_only && !s.field("total").unwrap().read_only);
    s.validate().unwrap();
    assert!(Country::schema().options.read_only && !Country::schema().options.audit);
}
