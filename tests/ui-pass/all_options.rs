// Accepted: every model and field option, given both as attribute arguments and as
// `#[dataflow(...)]` on the struct; the schema carries each one.
use dataflow::Model;

#[dataflow::model(table = "org_pages", multi_tenant)]
#[dataflow(soft_delete, native_arrays, timestamps = false)]
#[dataflow(indexes(["org_id"], unique(["org_id", "slug"]), ["tenant_id", "deleted_at"]))]
pub struct Page {
    pub id: i64,
    pub org_id: i64,
    pub slug: String,
    #[dataflow(unique, max_len = 200)]
    pub title: String,
    #[dataflow(index, column = "page_rank")]
    pub rank: Option<i32>,
    #[dataflow(default = true)]
    pub visible: bool,
    #[dataflow(default = -1)]
    pub weight: i64,
    #[dataflow(default = 0.5)]
    pub ratio: f64,
    #[dataflow(default = "draft")]
    pub state: String,
    #[dataflow(default = "2024-01-31")]
    pub published: chrono::NaiveDate,
    #[dataflow(default = "2024-01-31T12:00:00Z")]
    pub reviewed: Option<chrono::DateTime<chrono::Utc>>,
    #[dataflow(default = "12.50")]
    pub price: rust_decimal::Decimal,
    #[dataflow(default = "67e55044-10b1-426f-9247-bb680e5fe0c8")]
    pub owner: uuid::Uuid,
    pub keywords: Vec<String>,
}

#[dataflow::model(append_only)]
pub struct AuditEvent {
    pub id: i64,
    pub action: String,
}

#[dataflow::model(native_arrays)]
pub struct NoArrays {
    pub id: String,
}

fn main() {
    let s = Page::schema();
    assert_eq!(s.table, "org_pages");
    assert!(s.options.multi_tenant && s.options.soft_delete && s.options.native_arrays);
    assert!(!s.options.timestamps && !s.options.append_only);
    assert_eq!(s.indexes.len(), 3);
    assert!(s.indexes[1].unique && s.indexes[1].fields == ["org_id", "slug"]);
    let title = s.field("title").unwrap();
    assert!(title.unique && title.max_len == Some(200));
    let rank = s.field("rank").unwrap();
    assert!(rank.index && rank.nullable && rank.column() == "page_rank");
    assert_eq!(s.field("visible").unwrap().default, Some(serde_json::json!(true)));
    assert_eq!(s.field("weight").unwrap().default, Some(serde_json::json!(-1)));
    assert_eq!(s.field("ratio").unwrap().default, Some(serde_json::json!(0.5)));
    assert_eq!(s.field("state").unwrap().default, Some(serde_json::json!("draft")));
    s.validate().unwrap();
    assert!(AuditEvent::schema().options.append_only);
    assert!(NoArrays::schema().options.native_arrays);
}
