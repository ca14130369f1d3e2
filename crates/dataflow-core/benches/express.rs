//! Express benchmarks (written later).

fn main() {}
