// Rejected: `append_only` with `soft_delete`. An append-only model refuses deletes, and soft
// delete is a delete.
#[dataflow::model(append_only, soft_delete)]
pub struct AuditEvent {
    pub id: i64,
    pub action: String,
}

fn main() {}
