//! Row decoding: one sqlx row into `Vec<Value>`, column by column, by [`FieldDef`] and dialect.
//! No JSON text is produced; JSON and array columns are parsed from the driver's JSON/text value.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dataflow_sql::value::parse_datetime;
use dataflow_sql::{ArrayElem, Error, FieldDef, FieldType, Result, Value};
use rust_decimal::Decimal;
use sqlx::Row;
use uuid::Uuid;

fn bad(field: &FieldDef, why: impl std::fmt::Display) -> Error {
    // The model is filled in by the caller (`or_model`), which knows it.
    Error::new(
        dataflow_sql::ErrorCode::DECODE,
        format!("stored value of field `{}` is not a valid {}", field.name, field.ty.rust_name()),
    )
    .field(&field.name)
    .fix("check that the column's type matches the model (see the migration report)")
    .fix(format!("driver said: {why}"))
}

fn opt<T>(field: &FieldDef, r: std::result::Result<Option<T>, sqlx::Error>) -> Result<Option<T>> {
    r.map_err(|e| bad(field, e))
}

fn json_array(field: &FieldDef, elem: ArrayElem, j: serde_json::Value) -> Result<Value> {
    Value::from_json_typed(&j, FieldType::Array(elem))
        .ok_or_else(|| bad(field, "stored JSON is not the expected array"))
}

/// A non-string column stored as text (borrowed from the row: no copy before parsing).
fn parse_text(field: &FieldDef, s: &str) -> Result<Value> {
    Ok(match field.ty {
        FieldType::String => Value::String(s.to_owned()),
        FieldType::DateTime => Value::DateTime(parse_datetime(s).ok_or_else(|| bad(field, "unparsable date-time"))?),
        FieldType::Date => Value::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| bad(field, e))?),
        FieldType::Uuid => Value::Uuid(Uuid::parse_str(s).map_err(|e| bad(field, e))?),
        FieldType::Decimal => Value::Decimal(s.trim().parse::<Decimal>().map_err(|e| bad(field, e))?),
        FieldType::Json => Value::Json(serde_json::from_str(s).map_err(|e| bad(field, e))?),
        FieldType::Array(elem) => json_array(field, elem, serde_json::from_str(s).map_err(|e| bad(field, e))?)?,
        _ => return Err(bad(field, "unexpected text value")),
    })
}

/// Decodes a PostgreSQL row.
pub fn pg_row(row: &sqlx::postgres::PgRow, cols: &[FieldDef], native_arrays: bool) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(cols.len());
    for (i, f) in cols.iter().enumerate() {
        let v = match f.ty {
            FieldType::String => opt(f, row.try_get_unchecked::<Option<String>, _>(i))?.map(Value::String),
            FieldType::I32 => opt(f, row.try_get_unchecked::<Option<i32>, _>(i))?.map(Value::I32),
            FieldType::I64 => opt(f, row.try_get_unchecked::<Option<i64>, _>(i))?.map(Value::I64),
            FieldType::F64 => opt(f, row.try_get_unchecked::<Option<f64>, _>(i))?.map(Value::F64),
            FieldType::Bool => opt(f, row.try_get_unchecked::<Option<bool>, _>(i))?.map(Value::Bool),
            FieldType::DateTime => opt(f, row.try_get_unchecked::<Option<DateTime<Utc>>, _>(i))?.map(Value::DateTime),
            FieldType::Date => opt(f, row.try_get_unchecked::<Option<NaiveDate>, _>(i))?.map(Value::Date),
            FieldType::Uuid => opt(f, row.try_get_unchecked::<Option<Uuid>, _>(i))?.map(Value::Uuid),
            FieldType::Decimal => opt(f, row.try_get_unchecked::<Option<Decimal>, _>(i))?.map(Value::Decimal),
            FieldType::Json => opt(f, row.try_get_unchecked::<Option<serde_json::Value>, _>(i))?.map(Value::Json),
            FieldType::Bytes => opt(f, row.try_get_unchecked::<Option<Vec<u8>>, _>(i))?.map(Value::Bytes),
            FieldType::Array(elem) if native_arrays => match elem {
                ArrayElem::String => opt(f, row.try_get_unchecked::<Option<Vec<String>>, _>(i))?
                    .map(|v| Value::Array(v.into_iter().map(Value::String).collect())),
                ArrayElem::I64 => opt(f, row.try_get_unchecked::<Option<Vec<i64>>, _>(i))?
                    .map(|v| Value::Array(v.into_iter().map(Value::I64).collect())),
                ArrayElem::F64 => opt(f, row.try_get_unchecked::<Option<Vec<f64>>, _>(i))?
                    .map(|v| Value::Array(v.into_iter().map(Value::F64).collect())),
                ArrayElem::Bool => opt(f, row.try_get_unchecked::<Option<Vec<bool>>, _>(i))?
                    .map(|v| Value::Array(v.into_iter().map(Value::Bool).collect())),
            },
            FieldType::Array(elem) => match opt(f, row.try_get_unchecked::<Option<serde_json::Value>, _>(i))? {
                Some(j) => Some(json_array(f, elem, j)?),
                None => None,
            },
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

/// Decodes a MySQL/MariaDB row.
pub fn mysql_row(row: &sqlx::mysql::MySqlRow, cols: &[FieldDef]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(cols.len());
    for (i, f) in cols.iter().enumerate() {
        let v = match f.ty {
            FieldType::String => opt(f, row.try_get_unchecked::<Option<String>, _>(i))?.map(Value::String),
            FieldType::I32 => opt(f, row.try_get_unchecked::<Option<i32>, _>(i))?.map(Value::I32),
            FieldType::I64 => opt(f, row.try_get_unchecked::<Option<i64>, _>(i))?.map(Value::I64),
            FieldType::F64 => opt(f, row.try_get_unchecked::<Option<f64>, _>(i))?.map(Value::F64),
            FieldType::Bool => opt(f, row.try_get_unchecked::<Option<bool>, _>(i))?.map(Value::Bool),
            FieldType::DateTime => {
                opt(f, row.try_get_unchecked::<Option<NaiveDateTime>, _>(i))?.map(|n| Value::DateTime(n.and_utc()))
            }
            FieldType::Date => opt(f, row.try_get_unchecked::<Option<NaiveDate>, _>(i))?.map(Value::Date),
            FieldType::Decimal => opt(f, row.try_get_unchecked::<Option<Decimal>, _>(i))?.map(Value::Decimal),
            FieldType::Bytes => opt(f, row.try_get_unchecked::<Option<Vec<u8>>, _>(i))?.map(Value::Bytes),
            FieldType::Uuid | FieldType::Json | FieldType::Array(_) => {
                match opt(f, row.try_get_unchecked::<Option<&[u8]>, _>(i))? {
                    Some(b) => Some(parse_text(f, std::str::from_utf8(b).map_err(|e| bad(f, e))?)?),
                    None => None,
                }
            }
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

/// Decodes a SQLite row.
pub fn sqlite_row(row: &sqlx::sqlite::SqliteRow, cols: &[FieldDef]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(cols.len());
    for (i, f) in cols.iter().enumerate() {
        let v = match f.ty {
            FieldType::I32 => opt(f, row.try_get_unchecked::<Option<i32>, _>(i))?.map(Value::I32),
            FieldType::I64 => opt(f, row.try_get_unchecked::<Option<i64>, _>(i))?.map(Value::I64),
            FieldType::F64 => opt(f, row.try_get_unchecked::<Option<f64>, _>(i))?.map(Value::F64),
            FieldType::Bool => opt(f, row.try_get_unchecked::<Option<bool>, _>(i))?.map(Value::Bool),
            FieldType::Bytes => opt(f, row.try_get_unchecked::<Option<Vec<u8>>, _>(i))?.map(Value::Bytes),
            FieldType::String => opt(f, row.try_get_unchecked::<Option<String>, _>(i))?.map(Value::String),
            _ => match opt(f, row.try_get_unchecked::<Option<&str>, _>(i))? {
                Some(s) => Some(parse_text(f, s)?),
                None => None,
            },
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}
