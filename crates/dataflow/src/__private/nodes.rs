//! The eleven node types of a model as one generic type: `#[dataflow::model]` emits
//! `pub type UserCreateNode = Node<User, op::Create>;` and a constant of the same name (so
//! `UserCreateNode` is also a value, as a unit struct would be), and every impl lives here, once,
//! instead of eleven structs with four derives and a `NodeType` impl per model (issue 13).

use std::fmt;
use std::marker::PhantomData;

use dataflow_sql::{Model, NodeType, Operation};

/// A model's node type names, in `Operation::ALL` order (implemented by `#[dataflow::model]`).
/// Not a subtrait of [`Model`], so the generated impl needs none of `Model`'s field-type
/// predicates (fewer obligations to check per model); the `NodeType` impl requires both.
pub trait ModelNodes {
    /// `UserCreateNode`, ..., `UserBulkUpsertNode`.
    const NODE_TYPES: [&'static str; 11];
}

/// An operation marker of [`Node`].
pub trait Op {
    /// The operation.
    const OPERATION: Operation;
    /// Its position in `Operation::ALL`.
    const INDEX: usize;
}

/// The operation markers.
pub mod op {
    use super::{Op, Operation};

    macro_rules! ops {
        ($($i:literal $name:ident),*) => {$(
            #[doc = concat!("The `", stringify!($name), "` operation.")]
            #[derive(Debug, Clone, Copy)]
            pub enum $name {}
            impl Op for $name {
                const OPERATION: Operation = Operation::$name;
                const INDEX: usize = $i;
            }
        )*};
    }
    ops!(0 Create, 1 Read, 2 Update, 3 Delete, 4 List, 5 Count, 6 Upsert, 7 BulkCreate, 8 BulkUpdate, 9 BulkDelete, 10 BulkUpsert);
}

/// The workflow node type of operation `O` on model `M` (`UserCreateNode` is
/// `Node<User, op::Create>`): a zero-sized value implementing [`NodeType`].
pub struct Node<M, O>(PhantomData<fn() -> (M, O)>);

impl<M, O> Node<M, O> {
    /// The node value (what `UserCreateNode` names as an expression).
    pub const NEW: Self = Node(PhantomData);
}

impl<M, O> Clone for Node<M, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, O> Copy for Node<M, O> {}

impl<M, O> Default for Node<M, O> {
    fn default() -> Self {
        Node::NEW
    }
}

impl<M: ModelNodes, O: Op> fmt::Debug for Node<M, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(M::NODE_TYPES[O::INDEX])
    }
}

impl<M: Model + ModelNodes, O: Op> NodeType for Node<M, O> {
    type Model = M;
    const OPERATION: Operation = O::OPERATION;
    const TYPE_NAME: &'static str = M::NODE_TYPES[O::INDEX];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_indexes_follow_operation_all() {
        fn check<O: Op>() {
            assert_eq!(Operation::ALL[O::INDEX], O::OPERATION);
        }
        check::<op::Create>();
        check::<op::Read>();
        check::<op::Update>();
        check::<op::Delete>();
        check::<op::List>();
        check::<op::Count>();
        check::<op::Upsert>();
        check::<op::BulkCreate>();
        check::<op::BulkUpdate>();
        check::<op::BulkDelete>();
        check::<op::BulkUpsert>();
    }
}
