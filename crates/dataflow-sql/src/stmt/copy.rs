//! The PostgreSQL `COPY … FROM STDIN` form of a bulk insert (text format).
//!
//! ```sql
//! COPY "t" ("name", "age", "created_at", "updated_at") FROM STDIN
//! ```
//!
//! The statement text holds schema identifiers only; every value travels in the COPY data,
//! one line per row, columns separated by a tab, encoded by [`CopyIn::encode_row`] in
//! PostgreSQL's text format: `\N` for NULL, and backslash, newline, carriage return and tab
//! escaped with a backslash in every value (so a string `\N` or one holding a tab stays a
//! string). The server parses each value with the column type's input function, as it does a
//! text literal, so the stored values are those the `UNNEST` form ([`super::insert_unnest`])
//! stores; `tests/tests/bulk_copy.rs` checks that on a live server.
//!
//! Native-array fields (PostgreSQL `text[]` etc.) are not encoded here: [`copy_in`] returns
//! `None` for such models (and for rows without any column), and the caller keeps `UNNEST`.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use super::insert::InsertColumns;
use super::{Rows, Scope, quote};
use crate::schema::ManagedField;
use crate::value::Value;
use crate::{Dialect, FieldType, ModelSchema};

const PG: Dialect = Dialect::Postgres;

/// A `COPY … FROM STDIN` statement and the encoder of its data lines.
pub struct CopyIn<'s> {
    /// `COPY "table" ("col", ..) FROM STDIN` (text format, tab-separated, `\N` for NULL).
    pub sql: String,
    cols: InsertColumns<'s>,
    /// The managed columns' values, already encoded (the same on every line).
    managed: String,
}

/// PostgreSQL only: the `COPY … FROM STDIN` statement writing `rows.fields` (and the managed
/// columns stamped on insert, with `rows.now` and the scope's tenant), or `None` when the
/// model has native-array fields (`native_arrays`) or no column is written — use
/// [`super::insert_unnest`] then. `rows.rows` is not read: encode each row with
/// [`CopyIn::encode_row`].
pub fn copy_in<'s>(schema: &'s ModelSchema, rows: &Rows, scope: Scope) -> Option<CopyIn<'s>> {
    if schema.options.native_arrays && schema.fields.iter().any(|f| matches!(f.ty, FieldType::Array(_))) {
        return None;
    }
    let cols = InsertColumns::new(schema, PG, rows, scope);
    let names = cols.names();
    if names.is_empty() {
        return None;
    }
    let list: Vec<String> = names.iter().map(|c| quote(PG, c)).collect();
    let sql = format!("COPY {} ({}) FROM STDIN", quote(PG, &schema.table), list.join(", "));
    let mut managed = String::new();
    for (m, v) in &cols.managed {
        managed.push('\t');
        match (m, v) {
            (ManagedField::TenantId, sea_query::Value::String(Some(t))) => escape_into(&mut managed, t),
            (ManagedField::CreatedAt | ManagedField::UpdatedAt, _) => datetime_into(&mut managed, &rows.now),
            _ => managed.push_str("\\N"),
        }
    }
    Some(CopyIn { sql, cols, managed })
}

impl CopyIn<'_> {
    /// Appends one data line (ending in `\n`) for `row` — the values of `rows.fields` in order,
    /// a missing value as NULL — followed by the managed columns.
    pub fn encode_row(&self, row: &[Value], out: &mut String) {
        for (k, (i, _)) in self.cols.user.iter().enumerate() {
            if k > 0 {
                out.push('\t');
            }
            match row.get(*i) {
                Some(v) => value_into(out, v),
                None => out.push_str("\\N"),
            }
        }
        if self.cols.user.is_empty() {
            // The managed part starts with a separator; drop it on a line without user columns.
            out.push_str(self.managed.strip_prefix('\t').unwrap_or(&self.managed));
        } else {
            out.push_str(&self.managed);
        }
        out.push('\n');
    }
}

/// One value in COPY text form (what PostgreSQL's input function for the column type reads).
fn value_into(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("\\N"),
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::I32(i) => {
            let _ = write!(out, "{i}");
        }
        Value::I64(i) => {
            let _ = write!(out, "{i}");
        }
        Value::F64(x) => float_into(out, *x),
        Value::String(s) => escape_into(out, s),
        Value::DateTime(d) => datetime_into(out, &crate::portable::truncate_micros(d)),
        Value::Date(d) => date_into(out, d),
        Value::Uuid(u) => {
            let _ = write!(out, "{}", u.hyphenated());
        }
        Value::Decimal(d) => {
            let _ = write!(out, "{d}");
        }
        // JSON documents and (JSONB-stored) arrays: their JSON text, as `UNNEST` sends it.
        Value::Json(j) => escape_into(out, &j.to_string()),
        Value::Array(_) => escape_into(out, &v.to_json().to_string()),
        // bytea's hex input form `\x0a1b..`; the backslash itself is escaped for COPY.
        Value::Bytes(b) => {
            out.push_str("\\\\x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

/// A float that the server reads back bit for bit: the shortest round-trip form, and
/// PostgreSQL's spellings of the special values.
fn float_into(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        let _ = write!(out, "{x:?}");
    }
}

/// Text with COPY's escapes: backslash, newline, carriage return and tab (the delimiter).
fn escape_into(out: &mut String, s: &str) {
    if !s.contains(['\\', '\n', '\r', '\t']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
}

/// `YYYY-MM-DD` in ISO form; years before 1 AD as `YYYY-MM-DD BC` (chrono's year 0 is 1 BC).
fn ymd_into(out: &mut String, year: i32, month: u32, day: u32) -> bool {
    let bc = year <= 0;
    let y = if bc { 1 - i64::from(year) } else { i64::from(year) };
    let _ = write!(out, "{y:04}-{month:02}-{day:02}");
    bc
}

fn date_into(out: &mut String, d: &NaiveDate) {
    if ymd_into(out, d.year(), d.month(), d.day()) {
        out.push_str(" BC");
    }
}

/// A UTC instant with microseconds and an explicit `+00` offset (independent of the session's
/// `TimeZone` and `DateStyle`).
fn datetime_into(out: &mut String, d: &DateTime<Utc>) {
    let bc = ymd_into(out, d.year(), d.month(), d.day());
    let _ = write!(
        out,
        " {:02}:{:02}:{:02}.{:06}+00",
        d.hour(),
        d.minute(),
        d.second(),
        d.timestamp_subsec_micros().min(999_999)
    );
    if bc {
        out.push_str(" BC");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldDef;
    use crate::stmt::Scope;

    fn schema() -> ModelSchema {
        let mut s = ModelSchema::new(
            "Item",
            vec![
                FieldDef::new("id", FieldType::I64),
                FieldDef::new("name", FieldType::String).nullable(),
                FieldDef::new("n", FieldType::F64),
                FieldDef::new("at", FieldType::DateTime),
                FieldDef::new("day", FieldType::Date),
                FieldDef::new("raw", FieldType::Bytes),
                FieldDef::new("doc", FieldType::Json),
            ],
        );
        s.options.timestamps = false;
        s
    }

    #[test]
    fn statement_quotes_identifiers_and_lines_escape_values() {
        let s = schema();
        let fields = ["name", "n", "at", "day", "raw", "doc"];
        let at = DateTime::parse_from_rfc3339("2024-02-29T23:59:59.1234567Z").unwrap().with_timezone(&Utc);
        let rows = vec![vec![
            Value::String("a\tb\nc\\N\r".into()),
            Value::F64(f64::NEG_INFINITY),
            Value::DateTime(at),
            Value::Date(NaiveDate::from_ymd_opt(0, 3, 1).unwrap()),
            Value::Bytes(vec![0, 0xff, b'\\']),
            Value::Json(serde_json::json!({"k": "tab\there"})),
        ]];
        let r = Rows { fields: &fields, rows: &rows, now: at };
        let c = copy_in(&s, &r, Scope::default()).unwrap();
        assert_eq!(c.sql, r#"COPY "items" ("name", "n", "at", "day", "raw", "doc") FROM STDIN"#);
        let mut out = String::new();
        c.encode_row(&rows[0], &mut out);
        assert_eq!(
            out,
            "a\\tb\\nc\\\\N\\r\t-Infinity\t2024-02-29 23:59:59.123456+00\t0001-03-01 BC\t\\\\x00ff5c\t{\"k\":\"tab\\\\there\"}\n"
        );
        let mut out = String::new();
        c.encode_row(&[Value::Null, Value::F64(0.1), Value::DateTime(at)], &mut out);
        assert!(out.starts_with("\\N\t0.1\t2024-02-29 23:59:59.123456+00\t\\N\t\\N\t\\N\n"), "{out}");
    }
}
