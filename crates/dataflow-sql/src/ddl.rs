//! ddl (in progress)
