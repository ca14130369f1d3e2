//! The `#[dataflow::model]` macro.
