//! INSERT statements: one row (with RETURNING where the dialect has it) and chunked multi-row.
//!
//! MySQL/MariaDB has no RETURNING: the runtime re-reads the row by `id` (client-supplied, or
//! `LAST_INSERT_ID()` for generated integer ids — for a multi-row insert that is the id of the
//! first row, the others follow consecutively with the default `innodb_autoinc_lock_mode`).

use sea_query::{Alias, Expr, InsertStatement, Query};

use super::chunk::chunk_ranges;
use super::scope::tenant_value;
use super::{Rows, Scope, Sql, select_columns};
use crate::schema::ManagedField;
use crate::value::{Value, null_of};
use crate::{Dialect, FieldDef, ModelSchema};

/// The written columns: the user fields of `rows` (unknown names dropped), then the managed
/// columns stamped on insert (`tenant_id`, `created_at`, `updated_at`).
pub(crate) struct InsertColumns<'s> {
    /// (index into the row, field) for each user column.
    pub user: Vec<(usize, &'s FieldDef)>,
    /// Managed columns with their (constant) values.
    pub managed: Vec<(ManagedField, sea_query::Value)>,
}

impl<'s> InsertColumns<'s> {
    pub(crate) fn new(schema: &'s ModelSchema, dialect: Dialect, rows: &Rows, scope: Scope) -> Self {
        let user = rows.fields.iter().enumerate().filter_map(|(i, n)| schema.field(n).map(|f| (i, f))).collect();
        let mut managed = Vec::new();
        if let Some(t) = tenant_value(schema, scope) {
            managed.push((ManagedField::TenantId, t));
        }
        if schema.options.timestamps {
            let now = Value::DateTime(rows.now).to_sea(crate::FieldType::DateTime, dialect, false);
            managed.push((ManagedField::CreatedAt, now.clone()));
            managed.push((ManagedField::UpdatedAt, now));
        }
        InsertColumns { user, managed }
    }

    /// Column names, in order.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.user.iter().map(|(_, f)| f.column()).chain(self.managed.iter().map(|(m, _)| m.column())).collect()
    }

    /// The bound values of one row, in column order.
    pub(crate) fn row_values(&self, schema: &ModelSchema, dialect: Dialect, row: &[Value]) -> Vec<Expr> {
        let na = schema.options.native_arrays;
        self.user
            .iter()
            .map(|(i, f)| match row.get(*i) {
                Some(v) => Expr::val(v.to_sea(f.ty, dialect, na)),
                None => Expr::val(null_of(f.ty, dialect, na)),
            })
            .chain(self.managed.iter().map(|(_, v)| Expr::val(v.clone())))
            .collect()
    }
}

/// An INSERT of `rows.rows[range]` (no RETURNING, no conflict clause).
pub(crate) fn insert_statement(
    schema: &ModelSchema,
    dialect: Dialect,
    cols: &InsertColumns,
    rows: &[Vec<Value>],
) -> InsertStatement {
    let mut q = Query::insert();
    q.into_table(Alias::new(schema.table.as_str()));
    let names = cols.names();
    if names.is_empty() {
        q.or_default_values();
        return q;
    }
    q.columns(names.into_iter().map(Alias::new));
    for row in rows {
        // Every row yields exactly one value per column, so `values` cannot fail.
        let _ = q.values(cols.row_values(schema, dialect, row));
    }
    q
}

/// `RETURNING <select_columns>` for PostgreSQL and SQLite.
pub(crate) fn returning_all(schema: &ModelSchema) -> sea_query::ReturningClause {
    Query::returning().columns(select_columns(schema, None).iter().map(|f| Alias::new(f.column())).collect::<Vec<_>>())
}

/// A single INSERT of every row in `rows` (normally one). With `returning`, PostgreSQL and
/// SQLite append `RETURNING <select_columns>`; MySQL never does (see the module docs).
pub fn insert(schema: &ModelSchema, dialect: Dialect, rows: &Rows, scope: Scope, returning: bool) -> Sql {
    let cols = InsertColumns::new(schema, dialect, rows, scope);
    let mut q = insert_statement(schema, dialect, &cols, rows.rows);
    if returning && dialect != Dialect::MySql {
        q.returning(returning_all(schema));
    }
    Sql::build(&q, dialect)
}

/// Multi-row INSERTs of all rows, chunked under the bind limit ([`super::rows_per_chunk`]),
/// `batch_size` (when `Some` and non-zero) and, on MySQL, [`super::MYSQL_PACKET_BUDGET`].
/// No rows: no statements.
pub fn insert_many(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    batch_size: Option<usize>,
) -> Vec<Sql> {
    let cols = InsertColumns::new(schema, dialect, rows, scope);
    chunk_ranges(dialect, rows.rows, cols.managed.len(), batch_size)
        .into_iter()
        .map(|r| Sql::build(&insert_statement(schema, dialect, &cols, &rows.rows[r]), dialect))
        .collect()
}

/// [`insert_many`] whose statements return the stored rows (`RETURNING <select_columns>`) on
/// PostgreSQL and SQLite, in input order; on MySQL identical to [`insert_many`] (re-read by id).
pub fn insert_many_returning(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    batch_size: Option<usize>,
) -> Vec<Sql> {
    let cols = InsertColumns::new(schema, dialect, rows, scope);
    chunk_ranges(dialect, rows.rows, cols.managed.len(), batch_size)
        .into_iter()
        .map(|r| {
            let mut q = insert_statement(schema, dialect, &cols, &rows.rows[r]);
            if dialect != Dialect::MySql {
                q.returning(returning_all(schema));
            }
            Sql::build(&q, dialect)
        })
        .collect()
}
