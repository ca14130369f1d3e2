// Accepted: the model alongside the usual derives and serde attributes, in either order
// relative to `#[dataflow::model]`; doc comments on fields are kept.
use dataflow::Model;

/// A user.
#[dataflow::model]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The key.
    pub id: i64,
    #[serde(default)]
    #[dataflow(unique)]
    pub display_name: String,
}

#[derive(Debug, Clone, Default)]
#[dataflow::model]
#[dataflow(table = "things")]
pub struct Thing {
    pub id: String,
}

fn main() {
    let u = User { id: 1, display_name: "A".into() };
    let json = serde_json::to_string(&u).unwrap();
    assert_eq!(json, r#"{"id":1,"displayName":"A"}"#);
    assert_eq!(u.clone(), u);
    assert!(User::schema().field("display_name").unwrap().unique);
    assert_eq!(Thing::schema().table, "things");
    let _ = format!("{:?}", Thing::default());
}
