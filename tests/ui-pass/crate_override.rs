// Accepted: `crate = "..."` when the facade is reachable under another path (a re-export), and
// raw identifiers as field names.
mod db {
    pub use ::dataflow::*;
}

use db::Model;

#[db::model(crate = "crate::db")]
pub struct Event {
    pub id: String,
    pub r#type: String,
}

fn main() {
    let s = Event::schema();
    assert_eq!(s.field("type").map(|f| f.column()), Some("type"));
    let e = Event { id: "e1".into(), r#type: "click".into() };
    let back = Event::from_values(e.to_values()).unwrap();
    assert_eq!(back.r#type, "click");
}
