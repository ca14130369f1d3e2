//! Migration plans: ordered steps, each with its SQL for the connection's dialect, a risk level
//! and, where cheap, what it would do to existing rows.

use std::fmt;

use dataflow_sql::{Dialect, Error, ErrorCode, ModelSchema};

/// How dangerous a migration step is (docs/guide/migrations.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    /// Cannot lose data or fail on existing rows: create table, add nullable column, add column
    /// with a default, add index (and a unique index over rows that have no duplicates).
    Low,
    /// Changes constraints existing rows must satisfy, or renames: add NOT NULL column with
    /// backfill, add unique constraint, rename with `renamed_from`, drop index, set NOT NULL.
    Medium,
    /// Can lose or rewrite data: drop column, change column type.
    High,
    /// Drop or rename a table (never planned automatically).
    Critical,
}

impl Risk {
    /// `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`.
    pub const fn name(self) -> &'static str {
        match self {
            Risk::Low => "LOW",
            Risk::Medium => "MEDIUM",
            Risk::High => "HIGH",
            Risk::Critical => "CRITICAL",
        }
    }

    /// The Rust path of the variant (for messages that show code).
    pub const fn path(self) -> &'static str {
        match self {
            Risk::Low => "Risk::Low",
            Risk::Medium => "Risk::Medium",
            Risk::High => "Risk::High",
            Risk::Critical => "Risk::Critical",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// Create the table and its indexes.
    CreateTable,
    /// Add a nullable column or one with a default.
    AddColumn {
        /// Column name.
        column: String,
    },
    /// Add a NOT NULL column without a default; existing rows get the type's zero value.
    AddRequiredColumn {
        /// Column name.
        column: String,
    },
    /// Rename a column (declared with `renamed_from`).
    RenameColumn {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Create an index.
    AddIndex {
        /// Index name.
        name: String,
        /// Unique index.
        unique: bool,
    },
    /// Make a column NOT NULL.
    SetNotNull {
        /// Column name.
        column: String,
    },
    /// Allow NULL in a column.
    DropNotNull {
        /// Column name.
        column: String,
    },
    /// Change a column's type.
    ChangeType {
        /// Column name.
        column: String,
        /// Live type.
        from: String,
        /// Wanted type.
        to: String,
    },
    /// Drop a column the model no longer declares.
    DropColumn {
        /// Column name.
        column: String,
    },
    /// Drop an index the model no longer declares.
    DropIndex {
        /// Index name.
        name: String,
    },
    /// Make the primary key `(tenant_id, id)`: a multi-tenant model's ids become per tenant
    /// (docs/guide/multi-tenancy.md).
    TenantPrimaryKey,
    /// SQLite: rebuild the table (create new, copy, drop old, rename) to apply the listed
    /// changes that SQLite cannot make in place, in one transaction.
    RebuildTable {
        /// The folded changes.
        changes: Vec<StepKind>,
    },
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What the step does.
    pub kind: StepKind,
    /// Its risk.
    pub risk: Risk,
    /// A sentence saying what it does and to which data.
    pub description: String,
    /// The statements, in order, for the plan's dialect.
    pub sql: Vec<String>,
    /// Rows concerned, when counted: NULLs for a new NOT NULL, duplicate groups for a new unique
    /// index, non-NULL values in a dropped or retyped column, rows backfilled.
    pub affected_rows: Option<u64>,
    /// Whether the model cannot work without this step (a missing column, a type or
    /// nullability mismatch). Dropping columns or indexes the model no longer declares is not
    /// required: it is reported, never blocks registration, and is applied only explicitly.
    pub required: bool,
}

/// The steps that bring a live table in line with a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The model's name.
    pub model: String,
    /// The table.
    pub table: String,
    /// The dialect the SQL is for.
    pub dialect: Dialect,
    /// Ordered steps (empty: the table already matches).
    pub steps: Vec<Step>,
    /// The model the plan was made for.
    pub schema: ModelSchema,
}

impl Plan {
    /// True when the table already matches the model.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The highest risk of any step.
    pub fn max_risk(&self) -> Option<Risk> {
        self.steps.iter().map(|s| s.risk).max()
    }

    /// Every statement in order: the dry-run output.
    pub fn sql(&self) -> Vec<String> {
        self.steps.iter().flat_map(|s| s.sql.iter().cloned()).collect()
    }

    /// Steps the caller must approve before the model can be used (required and above LOW).
    pub fn blocking(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.required && s.risk > Risk::Low)
    }

    /// The DF-301 error that reports the steps needing approval, their SQL and how to apply them.
    pub fn approval_error(&self) -> Error {
        let blocking: Vec<&Step> = self.blocking().collect();
        let max = blocking.iter().map(|s| s.risk).max().unwrap_or(Risk::Medium);
        let mut msg = format!(
            "the table `{}` of model `{}` needs {} migration step(s) that are not applied automatically:",
            self.table,
            self.model,
            blocking.len()
        );
        for s in &blocking {
            msg.push_str(&format!("\n  [{}] {}", s.risk, s.description));
            for q in &s.sql {
                msg.push_str(&format!("\n      {q};"));
            }
        }
        Error::new(ErrorCode::MIGRATION_NEEDS_APPROVAL, msg)
            .model(&self.model)
            .fix(format!(
                "review the plan, then apply it: `let plan = db.plan_migration(&schema).await?; db.apply_plan(&plan, {}).await?;`",
                max.path()
            ))
            .fix("or run the SQL above yourself, or change the model back to match the table")
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return write!(f, "-- {} (`{}`, {}): up to date", self.model, self.table, self.dialect);
        }
        writeln!(f, "-- {} (`{}`, {}): {} step(s)", self.model, self.table, self.dialect, self.steps.len())?;
        for s in &self.steps {
            writeln!(f, "-- [{}] {}", s.risk, s.description)?;
            for q in &s.sql {
                writeln!(f, "{q};")?;
            }
        }
        Ok(())
    }
}

/// FNV-1a 64 of the LF-normalised SQL (`\r\n` and `\r` become `\n`, trailing whitespace trimmed
/// per line), as 16 hex digits. A checksum to spot edited history, not a security hash.
pub fn checksum(statements: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for st in statements {
        let norm = st.replace("\r\n", "\n").replace('\r', "\n");
        for line in norm.lines() {
            for b in line.trim_end().bytes().chain(std::iter::once(b'\n')) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        h = (h ^ u64::from(b';')).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_ignores_line_endings() {
        let a = checksum(&["CREATE TABLE t (\n a INT\n)".into()]);
        let b = checksum(&["CREATE TABLE t (\r\n a INT  \r\n)".into()]);
        assert_eq!(a, b);
        assert_ne!(a, checksum(&["CREATE TABLE t (\n b INT\n)".into()]));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn risks_are_ordered() {
        assert!(Risk::Low < Risk::Medium && Risk::Medium < Risk::High && Risk::High < Risk::Critical);
    }
}
