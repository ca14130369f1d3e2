//! DataFlow runtime.
