//! The audit trail's table, `dataflow_audit`, as a model (`AuditEntry`), and the chunked
//! multi-row INSERT of its rows (docs/guide/protection-and-audit.md).
//!
//! The table is an ordinary append-only model so it is created and migrated like every other
//! table and is queryable through the normal API (`list_json("AuditEntry", ..)`); the runtime
//! registers it when the first model with `audit` is registered.

use crate::dialect::Dialect;
use crate::schema::{FieldDef, FieldType, IndexDef, ModelSchema};
use crate::stmt::{CopyIn, Rows, Scope, Sql, copy_in, insert_many, insert_unnest};
use crate::value::Value;

/// The audit model's name.
pub const MODEL: &str = "AuditEntry";
/// The audit table's name.
pub const TABLE: &str = "dataflow_audit";

/// The audit model's field holding the tenant of the write (not `tenant_id`: the audit table is
/// not a multi-tenant model, its rows of non-tenant models have no tenant).
pub const TENANT_FIELD: &str = "tenant";

/// Whether `schema` is the audit trail's model (`AuditEntry` on `dataflow_audit`). Reads of it
/// are scoped by the `tenant` field ([`crate::stmt::scope::predicates`]), and the API writes it
/// never: only DataFlow appends to it.
pub fn is_audit_log(schema: &ModelSchema) -> bool {
    schema.table == TABLE && schema.name == MODEL
}

/// The user fields written per audit row, in schema order after `id` (which is generated).
pub const FIELDS: [&str; 8] = ["at", "operation", "model", "record_id", "tenant", "actor", "outcome", "changes"];

/// `outcome` of a write that succeeded.
pub const OUTCOME_OK: &str = "ok";
/// `outcome` of a write refused by write protection (DF-609), recorded when enabled.
pub const OUTCOME_BLOCKED: &str = "blocked";

/// The `AuditEntry` model: `id` (generated), `at`, `operation`, `model`, `record_id`,
/// `tenant`, `actor`, `outcome`, `changes` (JSON), append-only, no managed timestamps.
pub fn schema() -> ModelSchema {
    let mut s = ModelSchema::new(
        MODEL,
        vec![
            FieldDef::new("id", FieldType::I64),
            FieldDef::new("at", FieldType::DateTime),
            FieldDef::new("operation", FieldType::String).max_len(32),
            FieldDef::new("model", FieldType::String).max_len(255),
            FieldDef::new("record_id", FieldType::String).max_len(255).nullable(),
            FieldDef::new("tenant", FieldType::String).max_len(255).nullable(),
            FieldDef::new("actor", FieldType::String).max_len(255).nullable(),
            FieldDef::new("outcome", FieldType::String).max_len(16),
            FieldDef::new("changes", FieldType::Json).nullable(),
        ],
    );
    s.table = TABLE.to_owned();
    s.options.append_only = true;
    s.options.timestamps = false;
    s.indexes = vec![IndexDef { name: None, fields: vec!["model".into(), "record_id".into()], unique: false }];
    s
}

/// One audit row: the values of [`FIELDS`], in order.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    /// When the write ran (UTC, microseconds).
    pub at: chrono::DateTime<chrono::Utc>,
    /// `Create`, `Update`, `Delete`, `HardDelete`, `Restore`, `Upsert`, `BulkCreate`, ...
    pub operation: String,
    /// The audited model's name.
    pub model: String,
    /// The record's id as text (`None` for a blocked write that names no record).
    pub record_id: Option<String>,
    /// The tenant of the handle, if any.
    pub tenant: Option<String>,
    /// The actor of the handle, if any.
    pub actor: Option<String>,
    /// [`OUTCOME_OK`] or [`OUTCOME_BLOCKED`].
    pub outcome: &'static str,
    /// The JSON text of `{"field": {"old": .., "new": ..}}` (creates: `new` only; deletes: `old`
    /// only); for a blocked write `{"error": "DF-609", "message": ..}`. Kept as text: the runtime
    /// writes it once per row and it is bound as it is (stored as JSON by the `changes` column).
    pub changes: Option<String>,
}

impl AuditRow {
    /// The bound values. `json_value`: bind `changes` as a JSON document (PostgreSQL's `jsonb`
    /// takes no text parameter in a plain `VALUES` list); otherwise as its text (SQLite and
    /// MySQL/MariaDB store JSON text, PostgreSQL's `UNNEST` form casts `text[]` to `jsonb`).
    fn values(self, json_value: bool) -> Vec<Value> {
        let opt = |s: Option<String>| s.map_or(Value::Null, Value::String);
        vec![
            Value::DateTime(self.at),
            Value::String(self.operation),
            Value::String(self.model),
            opt(self.record_id),
            opt(self.tenant),
            opt(self.actor),
            Value::String(self.outcome.to_owned()),
            match self.changes {
                None => Value::Null,
                Some(t) if json_value => match serde_json::from_str(&t) {
                    Ok(j) => Value::Json(j),
                    Err(_) => Value::String(t),
                },
                Some(t) => Value::String(t),
            },
        ]
    }
}

/// Rows from which PostgreSQL audit rows are inserted with `UNNEST`.
const UNNEST_MIN: usize = 256;
/// Rows per PostgreSQL `UNNEST` statement.
const UNNEST_CHUNK: usize = 50_000;

/// Multi-row INSERTs of `rows` into `dataflow_audit`, chunked below the dialect's bind-parameter
/// limit (a 10,000-row bulk write is a handful of statements, not 10,000). `schema` is
/// [`schema()`] (passed in so the caller's registered copy is used).
pub fn insert(schema: &ModelSchema, dialect: Dialect, rows: Vec<AuditRow>) -> Vec<Sql> {
    if rows.is_empty() {
        return Vec::new();
    }
    let now = rows[0].at;
    // PostgreSQL: one `UNNEST` statement (one array bind per column) from 256 rows on, as BulkCreate.
    let unnest = dialect == Dialect::Postgres && rows.len() >= UNNEST_MIN;
    let json_value = dialect == Dialect::Postgres && !unnest;
    let values: Vec<Vec<Value>> = rows.into_iter().map(|r| r.values(json_value)).collect();
    let r = Rows { fields: &FIELDS, rows: &values, now };
    if unnest {
        return values
            .chunks(UNNEST_CHUNK)
            .map(|part| insert_unnest(schema, &Rows { fields: &FIELDS, rows: part, now }, Scope::default()))
            .collect();
    }
    insert_many(schema, dialect, &r, Scope::default(), None)
}

/// Rows from which PostgreSQL audit rows are sent with `COPY … FROM STDIN` ([`copy`]).
pub const COPY_MIN: usize = 1_000;

/// PostgreSQL, from [`COPY_MIN`] rows on: the `COPY "dataflow_audit" (..) FROM STDIN` of `rows`
/// and the rows' values to encode with [`CopyIn::encode_row`] (`changes` as its JSON text, which
/// the `jsonb` column's input function parses). `None` below [`COPY_MIN`] or on another dialect:
/// use [`insert`] then (`rows` is emptied only when `Some` is returned).
pub fn copy<'s>(
    schema: &'s ModelSchema,
    dialect: Dialect,
    rows: &mut Vec<AuditRow>,
) -> Option<(CopyIn<'s>, Vec<Vec<Value>>)> {
    if dialect != Dialect::Postgres || rows.len() < COPY_MIN {
        return None;
    }
    // `copy_in` reads the fields and `now` only, not the rows.
    let c = copy_in(schema, &Rows { fields: &FIELDS, rows: &[], now: rows[0].at }, Scope::default())?;
    Some((c, std::mem::take(rows).into_iter().map(|r| r.values(false)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize) -> AuditRow {
        AuditRow {
            at: chrono::DateTime::UNIX_EPOCH,
            operation: "BulkCreate".into(),
            model: "Order".into(),
            record_id: Some(i.to_string()),
            tenant: None,
            actor: Some("alice".into()),
            outcome: OUTCOME_OK,
            changes: Some(serde_json::json!({"total": {"new": i}}).to_string()),
        }
    }

    #[test]
    fn schema_is_valid_on_every_backend() {
        let s = schema();
        s.validate().unwrap();
        for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            s.validate_for(d).unwrap();
        }
    }

    #[test]
    fn ten_thousand_rows_are_a_few_statements() {
        let s = schema();
        for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            let sts = insert(&s, d, (0..10_000).map(row).collect());
            assert!(!sts.is_empty() && sts.len() <= 20, "{d}: {} statements", sts.len());
            if d == Dialect::Postgres {
                assert_eq!(sts.len(), 1, "one UNNEST statement");
                assert!(sts[0].sql.contains("UNNEST"), "{}", sts[0].sql);
            } else {
                let bound: usize = sts.iter().map(|st| st.values.0.len()).sum();
                assert_eq!(bound, 10_000 * FIELDS.len(), "{d}: every value is bound, none inlined");
            }
            assert!(sts[0].sql.contains("dataflow_audit"), "{}", sts[0].sql);
        }
        assert!(insert(&s, Dialect::Sqlite, Vec::new()).is_empty());
    }

    #[test]
    fn large_postgres_sets_are_one_copy_with_changes_as_text() {
        let s = schema();
        let mut few: Vec<AuditRow> = (0..COPY_MIN - 1).map(row).collect();
        assert!(copy(&s, Dialect::Postgres, &mut few).is_none());
        assert_eq!(few.len(), COPY_MIN - 1, "rows are kept for `insert`");
        let mut many: Vec<AuditRow> = (0..COPY_MIN).map(row).collect();
        assert!(copy(&s, Dialect::MySql, &mut many).is_none() && copy(&s, Dialect::Sqlite, &mut many).is_none());
        let (c, values) = copy(&s, Dialect::Postgres, &mut many).unwrap();
        assert!(many.is_empty());
        assert_eq!(
            c.sql,
            r#"COPY "dataflow_audit" ("at", "operation", "model", "record_id", "tenant", "actor", "outcome", "changes") FROM STDIN"#
        );
        let mut line = String::new();
        c.encode_row(&values[7], &mut line);
        assert_eq!(
            line,
            "1970-01-01 00:00:00.000000+00\tBulkCreate\tOrder\t7\t\\N\talice\tok\t{\"total\":{\"new\":7}}\n"
        );
    }
}
