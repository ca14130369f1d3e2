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

impl InsertColumns<'_> {
    /// The bound values of `rows`, row by row in column order: what [`insert_statement`] binds
    /// for the same rows (no NULL or value is ever inlined into its text).
    pub(crate) fn flat_values(
        &self,
        schema: &ModelSchema,
        dialect: Dialect,
        rows: &[Vec<Value>],
    ) -> Vec<sea_query::Value> {
        let na = schema.options.native_arrays;
        let mut out = Vec::with_capacity(rows.len() * (self.user.len() + self.managed.len()));
        for row in rows {
            for (i, f) in &self.user {
                out.push(match row.get(*i) {
                    Some(v) => v.to_sea(f.ty, dialect, na),
                    None => null_of(f.ty, dialect, na),
                });
            }
            out.extend(self.managed.iter().map(|(_, v)| v.clone()));
        }
        out
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

/// `RETURNING "id"` for PostgreSQL and SQLite.
fn returning_id() -> sea_query::ReturningClause {
    Query::returning().columns([Alias::new("id")])
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

/// The values [`insert`] binds for `rows`, without rendering the statement. The text of
/// [`insert`] depends only on the schema, the dialect, `rows.fields` and `returning` — never on
/// the values — so a caller may render it once and re-bind these values (the runtime's
/// per-model statement cache).
pub fn insert_values(schema: &ModelSchema, dialect: Dialect, rows: &Rows, scope: Scope) -> sea_query::Values {
    let cols = InsertColumns::new(schema, dialect, rows, scope);
    sea_query::Values(cols.flat_values(schema, dialect, rows.rows))
}

/// The text of the INSERT of `n` rows, derived from `one`, the render of the same INSERT with
/// one row (`per_row` placeholders in its `VALUES (..)` group): the group repeated `n` times
/// (`, ` between), PostgreSQL's `$k` renumbered per row. This is what sea-query renders for the
/// `n` rows (checked by `derived_text_is_the_full_render`), without building and rendering one
/// expression per value: for a 10,000-row BulkCreate the render was most of DataFlow's own time.
/// `None` when `one` is not of the expected shape (the caller renders in full then).
fn repeat_row_text(one: &str, dialect: Dialect, per_row: usize, n: usize) -> Option<String> {
    let start = one.find(" VALUES (")? + " VALUES ".len();
    let bytes = one.as_bytes();
    let mut depth = 0usize;
    let mut end = None;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i + 1);
                    break;
                }
            }
            // A quoted literal or identifier inside the group: not a plain placeholder list.
            b'\'' | b'"' | b'`' => return None,
            _ => {}
        }
    }
    let end = end?;
    let (prefix, group, suffix) = (&one[..start], &one[start..end], &one[end..]);
    let numbered = dialect == Dialect::Postgres;
    // The group's pieces: literal text and placeholders (`?`, or `$k` with its number).
    let mut pieces: Vec<(&str, Option<usize>)> = Vec::new();
    let (mut lit, mut i, mut seen) = (0usize, 0usize, 0usize);
    let g = group.as_bytes();
    while i < g.len() {
        if numbered && g[i] == b'$' {
            let digits = g[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let k: usize = group.get(i + 1..i + 1 + digits)?.parse().ok()?;
            pieces.push((&group[lit..i], Some(k)));
            seen += 1;
            i += 1 + digits;
            lit = i;
        } else if !numbered && g[i] == b'?' {
            pieces.push((&group[lit..i], Some(0)));
            seen += 1;
            i += 1;
            lit = i;
        } else {
            i += 1;
        }
    }
    pieces.push((&group[lit..], None));
    if seen != per_row || (numbered && pieces.iter().any(|(_, k)| k.is_some_and(|k| k == 0 || k > per_row))) {
        return None;
    }
    let mut out = String::with_capacity(prefix.len() + suffix.len() + n * (group.len() + 2 + per_row * 3));
    out.push_str(prefix);
    for r in 0..n {
        if r > 0 {
            out.push_str(", ");
        }
        for (text, k) in &pieces {
            out.push_str(text);
            match k {
                Some(k) if numbered => {
                    use std::fmt::Write;
                    let _ = write!(out, "${}", r * per_row + k);
                }
                Some(_) => out.push('?'),
                None => {}
            }
        }
    }
    out.push_str(suffix);
    Some(out)
}

/// The INSERT of `part` (`RETURNING` from `returning`, not on MySQL): the text derived from the
/// one-row render ([`repeat_row_text`]), the values bound as [`insert_statement`] binds them.
fn render_rows(
    schema: &ModelSchema,
    dialect: Dialect,
    cols: &InsertColumns,
    part: &[Vec<Value>],
    returning: Option<&dyn Fn() -> sea_query::ReturningClause>,
) -> Sql {
    let with_returning = |mut q: InsertStatement| {
        if let Some(r) = returning
            && dialect != Dialect::MySql
        {
            q.returning(r());
        }
        q
    };
    let per_row = cols.user.len() + cols.managed.len();
    if per_row > 0 && part.len() > 1 {
        let one = Sql::build(&with_returning(insert_statement(schema, dialect, cols, &part[..1])), dialect);
        if let Some(sql) = repeat_row_text(&one.sql, dialect, per_row, part.len()) {
            return Sql { sql, values: sea_query::Values(cols.flat_values(schema, dialect, part)) };
        }
    }
    Sql::build(&with_returning(insert_statement(schema, dialect, cols, part)), dialect)
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
    // Full chunks have the same row count, hence the same text: it is rendered once and reused
    // (so is the prepared statement, by the driver's statement cache); only values are built.
    let mut text: Option<(usize, String)> = None;
    chunk_ranges(dialect, rows.rows, cols.managed.len(), batch_size)
        .into_iter()
        .map(|r| {
            let part = &rows.rows[r];
            match &text {
                Some((n, sql)) if *n == part.len() => {
                    Sql { sql: sql.clone(), values: sea_query::Values(cols.flat_values(schema, dialect, part)) }
                }
                _ => {
                    let st = render_rows(schema, dialect, &cols, part, None);
                    text = Some((part.len(), st.sql.clone()));
                    st
                }
            }
        })
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
    insert_many_with(schema, dialect, rows, scope, batch_size, || returning_all(schema))
}

/// [`insert_many_returning`] whose statements return only the `id` column (in input order): what
/// a caller that needs just the generated ids reads back, without decoding the stored rows.
pub fn insert_many_returning_id(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    batch_size: Option<usize>,
) -> Vec<Sql> {
    insert_many_with(schema, dialect, rows, scope, batch_size, returning_id)
}

fn insert_many_with(
    schema: &ModelSchema,
    dialect: Dialect,
    rows: &Rows,
    scope: Scope,
    batch_size: Option<usize>,
    returning: impl Fn() -> sea_query::ReturningClause,
) -> Vec<Sql> {
    let cols = InsertColumns::new(schema, dialect, rows, scope);
    chunk_ranges(dialect, rows.rows, cols.managed.len(), batch_size)
        .into_iter()
        .map(|r| render_rows(schema, dialect, &cols, &rows.rows[r], Some(&returning)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldType;

    /// The text derived from the one-row render is, byte for byte, sea-query's render of all the
    /// rows, and binds the same values, on every dialect, with and without RETURNING, for
    /// plain, JSON, array, nullable and managed (tenant, timestamps) columns.
    #[test]
    fn derived_text_is_the_full_render() {
        let mut schema = ModelSchema::new(
            "Item",
            vec![
                FieldDef::new("id", FieldType::I64),
                FieldDef::new("name", FieldType::String).nullable(),
                FieldDef::new("doc", FieldType::Json),
                FieldDef::new("tags", FieldType::Array(crate::ArrayElem::String)).nullable(),
                FieldDef::new("at", FieldType::DateTime).nullable(),
            ],
        );
        schema.options.timestamps = true;
        schema.options.multi_tenant = true;
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let rows: Vec<Vec<Value>> = (0..12)
            .map(|i| {
                vec![
                    if i % 3 == 0 { Value::Null } else { Value::String(format!("n{i}")) },
                    Value::Json(serde_json::json!({"i": i})),
                    Value::Array(vec![Value::String("a".into())]),
                    if i % 2 == 0 { Value::Null } else { Value::DateTime(at) },
                ]
            })
            .collect();
        let fields = ["name", "doc", "tags", "at"];
        for native in [false, true] {
            schema.options.native_arrays = native;
            for d in Dialect::ALL {
                for n in [2, 3, 11] {
                    let r = Rows { fields: &fields, rows: &rows[..n], now: at };
                    let scope = Scope { tenant: Some("acme"), ..Scope::default() };
                    let cols = InsertColumns::new(&schema, d, &r, scope);
                    for ret in [false, true] {
                        let f = returning_id;
                        let got = render_rows(&schema, d, &cols, r.rows, ret.then_some(&f as &dyn Fn() -> _));
                        // sea-query's own render of `rows`, RETURNING as `render_rows` adds it.
                        let render = |rows: &[Vec<Value>]| {
                            let mut q = insert_statement(&schema, d, &cols, rows);
                            if ret && d != Dialect::MySql {
                                q.returning(returning_id());
                            }
                            Sql::build(&q, d)
                        };
                        let full = render(r.rows);
                        let one = render(&r.rows[..1]).sql;
                        let per_row = cols.user.len() + cols.managed.len();
                        assert!(
                            repeat_row_text(&one, d, per_row, n).is_some(),
                            "{d}: derived, not the fallback: {one}"
                        );
                        assert_eq!(got.sql, full.sql, "{d} n={n} returning={ret}");
                        assert_eq!(got.values, full.values, "{d} n={n} returning={ret}");
                    }
                }
            }
        }
        // Not a plain placeholder group: no derived text.
        assert_eq!(repeat_row_text("INSERT INTO t (a) VALUES ('x')", Dialect::Sqlite, 1, 2), None);
        assert_eq!(repeat_row_text("INSERT INTO t (a) VALUES ($1, $2)", Dialect::Postgres, 1, 2), None);
        assert_eq!(
            repeat_row_text("INSERT INTO t (a, b) VALUES ($1, $2) RETURNING id", Dialect::Postgres, 2, 2).as_deref(),
            Some("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING id")
        );
    }

    #[test]
    fn reused_chunk_text_binds_what_a_fresh_render_binds() {
        let mut schema = ModelSchema::new(
            "Item",
            vec![
                FieldDef::new("id", FieldType::I64),
                FieldDef::new("name", FieldType::String).nullable(),
                FieldDef::new("doc", FieldType::Json),
                FieldDef::new("at", FieldType::DateTime).nullable(),
            ],
        );
        schema.options.timestamps = true;
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        let rows: Vec<Vec<Value>> = (0..10)
            .map(|i| {
                vec![
                    if i % 3 == 0 { Value::Null } else { Value::String(format!("n{i}")) },
                    Value::Json(serde_json::json!({"i": i})),
                    if i % 2 == 0 { Value::Null } else { Value::DateTime(at) },
                ]
            })
            .collect();
        let fields = ["name", "doc", "at"];
        let r = Rows { fields: &fields, rows: &rows, now: at };
        for d in Dialect::ALL {
            let one = Rows { fields: &fields, rows: &rows[1..2], now: at };
            assert_eq!(
                insert(&schema, d, &one, Scope::default(), true).values,
                insert_values(&schema, d, &one, Scope::default())
            );
            let got = insert_many(&schema, d, &r, Scope::default(), Some(4));
            assert_eq!(got.len(), 3, "{d}");
            let cols = InsertColumns::new(&schema, d, &r, Scope::default());
            for (k, st) in got.iter().enumerate() {
                let part = &rows[k * 4..(k * 4 + 4).min(rows.len())];
                let fresh = Sql::build(&insert_statement(&schema, d, &cols, part), d);
                assert_eq!(st, &fresh, "{d} chunk {k}");
            }
        }
    }
}
