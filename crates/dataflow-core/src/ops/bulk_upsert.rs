//! BulkUpsert: `ON CONFLICT` / `ON DUPLICATE KEY UPDATE` in chunks inside one transaction.
//!
//! Inserted vs updated: PostgreSQL reports `xmax = 0` per returned row; on SQLite and MySQL the
//! runtime counts the table (in scope, deleted rows included) before and after, inside the
//! transaction. Duplicate conflict keys in one call: the last row wins.

use dataflow_sql::stmt::{self, OnConflict, Rows};
use dataflow_sql::{Dialect, FieldDef, FieldType, Operation, Result, Value};

use super::{Ctx, InputRow, Prepared, insert_fields, prepare_insert};
use crate::db::pool::Conn;

/// What to do with an existing row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictResolution {
    /// Update it (default).
    Update,
    /// Keep it unchanged.
    Skip,
}

/// Counts of a bulk upsert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// Records received.
    pub processed: u64,
    /// Records inserted.
    pub inserted: u64,
    /// Records updated.
    pub updated: u64,
    /// Records left unchanged (`skip`) or dropped as earlier duplicates of a key.
    pub skipped: u64,
}

impl UpsertCounts {
    /// inserted + updated + skipped.
    pub fn total(&self) -> u64 {
        self.inserted + self.updated + self.skipped
    }
}

/// Upserts all rows atomically.
pub(crate) async fn bulk_upsert(
    conn: &mut Conn<'_>,
    cx: &Ctx<'_>,
    rows: Vec<InputRow>,
    conflict_on: &[&str],
    resolution: ConflictResolution,
    update_fields: Option<&[&str]>,
) -> Result<UpsertCounts> {
    cx.refuse_append_only(Operation::BulkUpsert)?;
    cx.check()?;
    let s = cx.schema();
    super::check_conflict_target(s, conflict_on)?;
    if let Some(u) = update_fields {
        for f in u {
            s.field_or_err(f)?;
        }
    }
    if resolution == ConflictResolution::Update {
        // The fields an existing row gets: `update_fields`, or every non-key field.
        let written: Vec<&str> = match update_fields {
            Some(u) => u.to_vec(),
            None => {
                s.fields.iter().map(|f| f.name.as_str()).filter(|n| *n != "id" && !conflict_on.contains(n)).collect()
            }
        };
        cx.protect_fields(written)?;
    }
    let processed = rows.len() as u64;
    let prepared = rows.into_iter().map(|r| prepare_insert(cx, r)).collect::<Result<Vec<_>>>()?;
    let (with, without): (Vec<Prepared>, Vec<Prepared>) = prepared.into_iter().partition(|p| p.with_id);
    let mut counts = UpsertCounts { processed, ..Default::default() };
    let count_rows = cx.dialect != Dialect::Postgres;
    let mut tx = conn.begin().await?;
    {
        let mut c = tx.conn();
        let before = if count_rows { super::count::count(&mut c, cx, None, true).await? } else { 0 };
        let now = super::now();
        let on = match resolution {
            ConflictResolution::Update => OnConflict::Update(update_fields),
            ConflictResolution::Skip => OnConflict::Skip,
        };
        let mut distinct = 0u64;
        let mut pg_inserted = 0u64;
        let mut pg_returned = 0u64;
        for (with_id, group) in [(true, with), (false, without)] {
            if group.is_empty() {
                continue;
            }
            let fields = insert_fields(s, with_id);
            let all: Vec<Vec<Value>> = group.into_iter().map(|p| p.values).collect();
            let keep = stmt::last_wins(&Rows { fields: &fields, rows: &all, now }, conflict_on);
            let rows: Vec<Vec<Value>> = if keep.len() == all.len() {
                all
            } else {
                let mut all: Vec<Option<Vec<Value>>> = all.into_iter().map(Some).collect();
                keep.iter().filter_map(|i| all[*i].take()).collect()
            };
            distinct += rows.len() as u64;
            let r = Rows { fields: &fields, rows: &rows, now };
            let returning = cx.dialect == Dialect::Postgres;
            let sts = stmt::upsert_distinct(s, cx.dialect, &r, cx.scope(false), conflict_on, on, returning);
            // MySQL 8: row alias instead of the deprecated VALUES(col).
            let sts = if cx.dialect == Dialect::MySql { cx.server.upsert(sts) } else { sts };
            let before = if cx.audited() {
                crate::audit::by_keys(&mut c, cx, &fields, &rows, conflict_on).await?
            } else {
                Vec::new()
            };
            if cx.dialect == Dialect::Postgres {
                let mut cols: Vec<FieldDef> = cx.e.cols.to_vec();
                cols.push(FieldDef::new(stmt::INSERTED_COLUMN, FieldType::Bool));
                for st in sts {
                    for row in c.fetch_all(st.into(), &cols, s).await? {
                        pg_returned += 1;
                        if matches!(row.last(), Some(Value::Bool(true))) {
                            pg_inserted += 1;
                        }
                    }
                }
            } else {
                for st in sts {
                    c.execute(st.into(), s).await?;
                }
            }
            if cx.audited() {
                let after = crate::audit::by_keys(&mut c, cx, &fields, &rows, conflict_on).await?;
                crate::audit::changed(&mut c, cx, &before, &after).await?;
            }
        }
        let dropped = processed - distinct;
        if count_rows {
            let after = super::count::count(&mut c, cx, None, true).await?;
            counts.inserted = after.saturating_sub(before);
        } else {
            counts.inserted = pg_inserted;
        }
        let existing = distinct.saturating_sub(counts.inserted);
        match resolution {
            ConflictResolution::Update => {
                counts.updated = if count_rows { existing } else { pg_returned - pg_inserted };
                counts.skipped = dropped;
            }
            ConflictResolution::Skip => counts.skipped = existing + dropped,
        }
    }
    tx.commit().await?;
    Ok(counts)
}
