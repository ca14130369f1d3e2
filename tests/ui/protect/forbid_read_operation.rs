// Rejected: `forbid` lists a read; only writes can be forbidden (reads are never blocked).
#[dataflow::model(forbid(list))]
pub struct Invoice {
    pub id: i64,
}

fn main() {}
