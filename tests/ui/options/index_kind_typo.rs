// Rejected: `uniq([...])` inside `indexes`; the unique form is `unique([...])`.
#[dataflow::model]
#[dataflow(indexes(uniq(["org_id", "slug"])))]
pub struct Page {
    pub id: i64,
    pub org_id: i64,
    pub slug: String,
}

fn main() {}
