//! Classification of sqlx errors into DataFlow's `DF-5xx` codes.
//!
//! Every database error becomes a [`dataflow_sql::Error`] with a stable code (unique violation,
//! foreign key, not null, check, serialization failure, deadlock, connection lost, pool
//! timeout), the model it concerns, the columns involved when they can be told, and the sqlx
//! error as its `source()`.

use dataflow_sql::{Error, ErrorCode, ModelSchema};

/// Classifies a sqlx error, naming the model and (for constraint violations) the columns.
pub fn classify(err: sqlx::Error, schema: Option<&ModelSchema>) -> Error {
    let e = classify_inner(&err, schema);
    let e = match schema {
        Some(s) => e.or_model(&s.name),
        None => e,
    };
    e.with_source(err)
}

fn classify_inner(err: &sqlx::Error, schema: Option<&ModelSchema>) -> Error {
    use sqlx::error::ErrorKind;
    match err {
        sqlx::Error::PoolTimedOut => Error::new(
            ErrorCode::POOL_TIMEOUT,
            "no database connection became free within the acquire timeout",
        )
        .fix("raise the pool size with `DataFlow::builder(url).max_connections(n)` or the timeout with `.acquire_timeout(..)`")
        .fix("make sure transactions and streams are finished promptly so connections return to the pool"),
        sqlx::Error::PoolClosed => {
            Error::new(ErrorCode::CLOSED, "the DataFlow instance was closed").fix("create a new instance with `DataFlow::connect(url)`")
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => {
            Error::new(ErrorCode::CONNECTION_LOST, format!("the connection to the database was lost: {err}"))
                .fix("check that the database server is running and reachable; the operation can be retried")
        }
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let msg = db.message().to_owned();
            let constraint = db.constraint().map(str::to_owned);
            let cols = schema.map(|s| columns_in(s, constraint.as_deref().unwrap_or(""), &msg)).unwrap_or_default();
            let named = if cols.is_empty() { String::new() } else { format!(" on ({})", cols.join(", ")) };
            let cname = constraint.as_deref().map(|c| format!(" `{c}`")).unwrap_or_default();
            let mysql_number = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().map(|e| e.number());
            let lower = msg.to_lowercase();
            let mut e = match db.kind() {
                ErrorKind::UniqueViolation => Error::new(
                    ErrorCode::UNIQUE_VIOLATION,
                    format!("unique constraint{cname} violated{named}: {msg}"),
                )
                .fix("use a different value, or use `upsert` to update the existing record"),
                ErrorKind::ForeignKeyViolation => Error::new(
                    ErrorCode::FOREIGN_KEY_VIOLATION,
                    format!("foreign key constraint{cname} violated{named}: {msg}"),
                )
                .fix("make sure the referenced record exists (or delete dependent records first)"),
                ErrorKind::NotNullViolation => Error::new(
                    ErrorCode::NOT_NULL_VIOLATION,
                    format!("NOT NULL constraint{cname} violated{named}: {msg}"),
                )
                .fix("supply a value for the column or make the field an `Option<T>`"),
                ErrorKind::CheckViolation => {
                    Error::new(ErrorCode::CHECK_VIOLATION, format!("CHECK constraint{cname} violated{named}: {msg}"))
                        .fix("supply a value that satisfies the constraint")
                }
                _ if code == "40001" && mysql_number != Some(1213) => {
                    Error::new(ErrorCode::SERIALIZATION_FAILURE, format!("could not serialize the transaction: {msg}"))
                        .fix("retry the transaction")
                }
                _ if code == "40P01" || mysql_number == Some(1213) || lower.contains("deadlock") => {
                    Error::new(ErrorCode::DEADLOCK, format!("deadlock detected: {msg}")).fix("retry the transaction")
                }
                _ if mysql_number == Some(1205) || code == "5" || code == "6" || lower.contains("database is locked") => {
                    Error::new(ErrorCode::SERIALIZATION_FAILURE, format!("the database is busy or locked: {msg}"))
                        .fix("retry the operation; keep write transactions short")
                }
                _ if mysql_number == Some(1048) => {
                    Error::new(ErrorCode::NOT_NULL_VIOLATION, format!("NOT NULL constraint violated{named}: {msg}"))
                        .fix("supply a value for the column")
                }
                _ if code == "57P01" || code.starts_with("08") => {
                    Error::new(ErrorCode::CONNECTION_LOST, format!("the connection to the database was lost: {msg}"))
                        .fix("check the database server; the operation can be retried")
                }
                _ => Error::new(ErrorCode::DATABASE, format!("database error{}: {msg}", if code.is_empty() { String::new() } else { format!(" {code}") }))
                    .fix("see the database's message above"),
            };
            if let Some(c) = cols.first() {
                e = e.field(c.clone());
            }
            e
        }
        other => Error::new(ErrorCode::DATABASE, format!("database error: {other}")).fix("see the underlying error"),
    }
}

/// The field names whose columns appear in a constraint name or an error message.
fn columns_in(schema: &ModelSchema, constraint: &str, message: &str) -> Vec<String> {
    // Composite unique indexes first: their name is ours (`uq_<table>_<cols>`).
    for ix in schema.indexes.iter().filter(|ix| ix.unique) {
        let name = ix.name.clone().unwrap_or_else(|| dataflow_sql::ddl::index_name(schema, &ix.fields, true));
        if !name.is_empty() && (constraint == name || message.contains(&name)) {
            return ix.fields.clone();
        }
    }
    let hay = format!("{constraint} {message}");
    let mut found: Vec<(usize, String)> = Vec::new();
    for f in schema.all_fields() {
        let col = f.column().to_owned();
        let patterns = [
            format!("{}.{}", schema.table, col),
            format!("{}_{}_key", schema.table, col),
            format!("'{col}'"),
            format!("({col})"),
            format!("{}_{}", schema.table, col),
        ];
        if let Some(pos) = patterns.iter().filter_map(|p| hay.find(p.as_str())).min() {
            found.push((pos, f.name.clone()));
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    found.into_iter().map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflow_sql::{FieldDef, FieldType};

    #[test]
    fn columns_are_found_in_constraint_messages() {
        let s = ModelSchema::new(
            "User",
            vec![FieldDef::new("id", FieldType::String), FieldDef::new("email", FieldType::String).unique()],
        );
        assert_eq!(columns_in(&s, "", "UNIQUE constraint failed: users.email"), vec!["email"]);
        assert_eq!(columns_in(&s, "users_email_key", "duplicate key value"), vec!["email"]);
        assert!(classify(sqlx::Error::PoolTimedOut, Some(&s)).code() == ErrorCode::POOL_TIMEOUT);
    }
}
