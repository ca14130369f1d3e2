// Accepted: the eleven node types are public unit structs, nameable by type, implementing
// `NodeType` with their model, operation and registered name; a private model gets private
// node types (visibility is inherited).
use dataflow::{Model, NodeType, Operation};

#[dataflow::model]
pub struct UserActivity {
    pub id: i64,
}

mod inner {
    #[dataflow::model]
    pub(crate) struct Person {
        pub id: String,
    }
}

fn name_of<N: NodeType>(_: N) -> &'static str {
    N::TYPE_NAME
}

fn model_table<N: NodeType>() -> &'static str {
    &<N::Model as Model>::schema().table
}

fn main() {
    assert_eq!(name_of(UserActivityCreateNode), "UserActivityCreateNode");
    assert_eq!(<UserActivityBulkUpsertNode as NodeType>::OPERATION, Operation::BulkUpsert);
    assert_eq!(model_table::<UserActivityListNode>(), "user_activities");
    assert_eq!(model_table::<inner::PersonReadNode>(), "people");
    let names: Vec<String> = Operation::ALL.iter().map(|op| op.node_type_name("UserActivity")).collect();
    assert_eq!(UserActivity::NODE_TYPES.to_vec(), names);
    let node: UserActivityCountNode = Default::default();
    assert_eq!(name_of(node), "UserActivityCountNode");
    let _ = format!("{:?}", inner::PersonBulkDeleteNode);
    for n in inner::Person::NODE_TYPES {
        assert_eq!(Operation::parse_node_type(n).map(|(m, _)| m), Some("Person"));
    }
}
