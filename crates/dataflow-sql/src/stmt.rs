//! stmt (in progress)
