// Rejected: declaring `tenant_id`. It is managed by `multi_tenant`, which stamps it from the
// tenant context and scopes every statement; a hand-written one would bypass that.
#[dataflow::model]
pub struct Invoice {
    pub id: i64,
    pub tenant_id: String,
}

fn main() {}
