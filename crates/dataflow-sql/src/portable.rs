//! The portable value range: the values every backend (PostgreSQL, MariaDB/MySQL, SQLite)
//! stores and reads back equal. A write outside it is refused with DF-102 before any SQL runs,
//! naming the model, the field and the range, so nothing is acknowledged and then lost.
//!
//! | type | portable range |
//! |---|---|
//! | `bool`, `i32`, `i64`, `Uuid` | every value |
//! | `f64` | finite values (no NaN, no ±∞) |
//! | `String` | at most [`MAX_TEXT_BYTES`] UTF-8 bytes, no U+0000; at most [`MAX_INDEXED_CHARS`] characters when indexed without `max_len` |
//! | `DateTime<Utc>` | `0001-01-01T00:00:00Z` ..= `9999-12-31T23:59:59.999999Z`, no leap second; stored with microsecond precision (finer digits are truncated, the same on every backend) |
//! | `NaiveDate` | `0001-01-01` ..= `9999-12-31` |
//! | `Decimal` | at most [`DECIMAL_MAX_SCALE`] digits after the point (trailing zeros do not count), absolute value below 10^[`DECIMAL_MAX_INTEGER_DIGITS`] |
//! | `serde_json::Value` | nested at most [`MAX_JSON_DEPTH`] arrays/objects deep, no U+0000 in strings or keys, numbers that survive PostgreSQL's `jsonb` (plain decimal) form, text at most [`MAX_TEXT_BYTES`] |
//! | `Vec<..>` | elements in the range of their type (stored as JSON except PostgreSQL native arrays) |
//! | `Vec<u8>` | at most [`MAX_TEXT_BYTES`] bytes |
//!
//! Why these bounds: MariaDB's `DATETIME`/`DATE` end at year 9999 and its JSON validator stops at
//! depth 32; SQLite stores date-times as fixed-width text (4-digit years); MariaDB's column is
//! `DECIMAL(38,10)`; PostgreSQL refuses U+0000 in `TEXT`/`jsonb` and prints `jsonb` numbers
//! without exponent; MariaDB's default `max_allowed_packet` is 16 MiB.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rust_decimal::Decimal;

use crate::error::{Error, ErrorCode, Result};
use crate::schema::{FieldDef, FieldType, ModelSchema};
use crate::value::Value;

/// Largest `String`, `Vec<u8>` or serialized JSON value, in bytes (15 MiB): MariaDB's column
/// (`MEDIUMTEXT`, 16 MiB) and its default `max_allowed_packet` (16 MiB) hold it with room for the
/// statement; PostgreSQL and SQLite hold far more.
pub const MAX_TEXT_BYTES: usize = 15 * 1024 * 1024;

/// Longest string, in characters, of an indexed `String` field without `max_len` (the
/// `VARCHAR(255)` MariaDB needs to index it).
pub const MAX_INDEXED_CHARS: usize = 255;

/// Deepest nesting of arrays/objects in a JSON value (MariaDB's JSON validator refuses 32).
pub const MAX_JSON_DEPTH: usize = 31;

/// Most digits after the decimal point of a `Decimal` (MariaDB's `DECIMAL(38,10)`).
pub const DECIMAL_MAX_SCALE: u32 = 10;

/// Most digits before the decimal point of a `Decimal` (MariaDB's `DECIMAL(38,10)`).
pub const DECIMAL_MAX_INTEGER_DIGITS: u32 = 28;

/// First and last portable year of `DateTime` and `NaiveDate` values.
pub const YEARS: (i32, i32) = (1, 9999);

/// Largest `limit`/`offset` every backend accepts (`BIGINT` on PostgreSQL and SQLite).
pub const MAX_LIMIT: u64 = i64::MAX as u64;

/// The portable range of a field type, in words (used in errors and docs).
pub fn range_of(field: &FieldDef, schema: &ModelSchema) -> String {
    match field.ty {
        FieldType::F64 => "finite numbers (NaN and ±infinity are not portable)".into(),
        FieldType::String => match field.max_len {
            Some(n) => format!("at most {n} characters, at most {MAX_TEXT_BYTES} UTF-8 bytes, no U+0000"),
            None if indexed(field, schema) => {
                format!("at most {MAX_INDEXED_CHARS} characters (indexed field without `max_len`), no U+0000")
            }
            None => format!("at most {MAX_TEXT_BYTES} UTF-8 bytes, no U+0000"),
        },
        FieldType::DateTime => "0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999Z without leap seconds".into(),
        FieldType::Date => "0001-01-01 ..= 9999-12-31".into(),
        FieldType::Decimal => format!(
            "at most {DECIMAL_MAX_INTEGER_DIGITS} digits before and {DECIMAL_MAX_SCALE} after the decimal point"
        ),
        FieldType::Json => format!(
            "JSON nested at most {MAX_JSON_DEPTH} levels, no U+0000 in strings, numbers that keep their value in \
             plain decimal form, at most {MAX_TEXT_BYTES} bytes"
        ),
        FieldType::Array(_) => "elements in their type's range (finite numbers, strings without U+0000)".into(),
        FieldType::Bytes => format!("at most {MAX_TEXT_BYTES} bytes"),
        FieldType::Bool | FieldType::I32 | FieldType::I64 | FieldType::Uuid => "every value".into(),
    }
}

/// Whether a string field is indexed (own flag, model index or primary key).
fn indexed(field: &FieldDef, schema: &ModelSchema) -> bool {
    field.unique || field.index || field.name == "id" || schema.indexes.iter().any(|ix| ix.fields.contains(&field.name))
}

/// Checks that `v` lies in the portable range of `field`: DF-102 naming model, field and range
/// otherwise. `Null` passes (nullability is checked elsewhere).
pub fn check(schema: &ModelSchema, field: &FieldDef, v: &Value) -> Result<()> {
    match why_not(schema, field, v) {
        None => Ok(()),
        Some(why) => Err(Error::new(
            ErrorCode::WRONG_TYPE,
            format!("value of field `{}` of model `{}` is outside the portable range: {why}", field.name, schema.name),
        )
        .model(&schema.name)
        .field(&field.name)
        .fix(format!("pass a value in the portable range of `{}`: {}", field.name, range_of(field, schema)))
        .fix("see docs/guide/values.md for the range every backend stores and reads back equal")),
    }
}

/// Why `v` is outside the portable range of `field`, or `None` when it is inside.
fn why_not(schema: &ModelSchema, field: &FieldDef, v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Bool(_) | Value::I32(_) | Value::I64(_) | Value::Uuid(_) => None,
        Value::F64(f) => float(*f),
        Value::String(s) => {
            if let Some(w) = text(s) {
                return Some(w);
            }
            if field.ty == FieldType::String && field.max_len.is_none() && indexed(field, schema) {
                let n = s.chars().count();
                if n > MAX_INDEXED_CHARS {
                    return Some(format!(
                        "{n} characters, an indexed string without `max_len` holds at most {MAX_INDEXED_CHARS}"
                    ));
                }
            }
            None
        }
        Value::DateTime(d) => datetime(d),
        Value::Date(d) => date(d),
        Value::Decimal(d) => decimal(d),
        Value::Json(j) => json(j),
        Value::Array(items) => items.iter().find_map(|x| match x {
            Value::F64(f) => float(*f).or_else(|| json_number(*f)),
            Value::String(s) => text(s),
            _ => None,
        }),
        Value::Bytes(b) => (b.len() > MAX_TEXT_BYTES).then(|| format!("{} bytes, more than {MAX_TEXT_BYTES}", b.len())),
    }
}

fn float(f: f64) -> Option<String> {
    (!f.is_finite()).then(|| format!("{f} is not a finite number"))
}

fn text(s: &str) -> Option<String> {
    if s.len() > MAX_TEXT_BYTES {
        return Some(format!("{} bytes, more than {MAX_TEXT_BYTES}", s.len()));
    }
    s.contains('\0').then(|| "the string contains U+0000 (NUL), which PostgreSQL cannot store".to_owned())
}

fn year_ok(y: i32) -> bool {
    (YEARS.0..=YEARS.1).contains(&y)
}

fn datetime(d: &DateTime<Utc>) -> Option<String> {
    if !year_ok(d.year()) {
        return Some(format!("year {} is outside {}..={}", d.year(), YEARS.0, YEARS.1));
    }
    (d.nanosecond() >= 1_000_000_000).then(|| "a leap second (second 60) is not portable".to_owned())
}

fn date(d: &NaiveDate) -> Option<String> {
    (!year_ok(d.year())).then(|| format!("year {} is outside {}..={}", d.year(), YEARS.0, YEARS.1))
}

fn decimal(d: &Decimal) -> Option<String> {
    let n = d.normalize();
    if n.scale() > DECIMAL_MAX_SCALE {
        return Some(format!("{d} has {} digits after the point, at most {DECIMAL_MAX_SCALE} are portable", n.scale()));
    }
    let limit = Decimal::from_i128_with_scale(10i128.pow(DECIMAL_MAX_INTEGER_DIGITS), 0);
    (n.abs() >= limit).then(|| format!("{d} has more than {DECIMAL_MAX_INTEGER_DIGITS} digits before the point"))
}

fn json(j: &serde_json::Value) -> Option<String> {
    if let Some(w) = json_walk(j, 0) {
        return Some(w);
    }
    let len = j.to_string().len();
    (len > MAX_TEXT_BYTES).then(|| format!("the JSON text has {len} bytes, more than {MAX_TEXT_BYTES}"))
}

fn json_walk(j: &serde_json::Value, depth: usize) -> Option<String> {
    use serde_json::Value as J;
    match j {
        J::Null | J::Bool(_) => None,
        J::Number(n) => n.as_f64().filter(|_| n.is_f64()).and_then(json_number),
        J::String(s) => s.contains('\0').then(|| "a JSON string contains U+0000 (NUL)".to_owned()),
        J::Array(_) | J::Object(_) if depth + 1 > MAX_JSON_DEPTH => {
            Some(format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"))
        }
        J::Array(a) => a.iter().find_map(|x| json_walk(x, depth + 1)),
        J::Object(o) => o.iter().find_map(|(k, x)| {
            if k.contains('\0') { Some("a JSON key contains U+0000 (NUL)".to_owned()) } else { json_walk(x, depth + 1) }
        }),
    }
}

/// A JSON float must keep its value when written in plain decimal notation (how PostgreSQL's
/// `jsonb` returns numbers) and parsed back.
fn json_number(f: f64) -> Option<String> {
    let plain = format!("{f}");
    let back = serde_json::from_str::<serde_json::Value>(&plain).ok().and_then(|v| v.as_f64());
    (back != Some(f)).then(|| format!("the number {f:e} does not keep its value in plain decimal form"))
}

/// Truncates a date-time to whole microseconds (toward the past), the precision every backend
/// stores; applied before a date-time is bound so all backends store the same instant.
pub fn truncate_micros(d: &DateTime<Utc>) -> DateTime<Utc> {
    let ns = d.nanosecond();
    d.with_nanosecond(ns - ns % 1_000).unwrap_or(*d)
}

/// Checks `limit` and `offset` against the range every backend accepts (DF-106).
pub fn check_page(schema: &ModelSchema, limit: Option<u64>, offset: Option<u64>) -> Result<()> {
    for (key, v) in [("limit", limit), ("offset", offset)] {
        if let Some(n) = v
            && n > MAX_LIMIT
        {
            return Err(Error::new(
                ErrorCode::INVALID_PAGINATION,
                format!(
                    "`{key}` of a List of `{}` is {n}, above the largest every backend accepts ({MAX_LIMIT})",
                    schema.name
                ),
            )
            .model(&schema.name)
            .field(key)
            .fix(format!("pass a `{key}` between 0 and {MAX_LIMIT} (i64::MAX)"))
            .fix("omit `limit` to read every record"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s() -> ModelSchema {
        ModelSchema::new("T", vec![FieldDef::new("id", FieldType::I64)])
    }

    fn err(f: &FieldDef, v: Value) -> String {
        check(&s(), f, &v).unwrap_err().to_string()
    }

    #[test]
    fn edges_of_every_type() {
        let schema = s();
        let f = FieldDef::new("x", FieldType::F64);
        assert!(err(&f, Value::F64(f64::NAN)).contains("portable"));
        assert!(check(&schema, &f, &Value::F64(f64::INFINITY)).is_err());
        assert!(check(&schema, &f, &Value::F64(f64::MAX)).is_ok());
        let d = FieldDef::new("at", FieldType::DateTime);
        let y10k = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        assert!(err(&d, Value::DateTime(y10k)).contains("`at`"));
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
        assert!(check(&schema, &d, &Value::DateTime(leap.and_utc())).is_err());
        let dec = FieldDef::new("p", FieldType::Decimal);
        assert!(check(&schema, &dec, &Value::Decimal("0.12345678901234567890".parse().unwrap())).is_err());
        assert!(check(&schema, &dec, &Value::Decimal("0.12345678900000000000".parse().unwrap())).is_ok());
        assert!(check(&schema, &dec, &Value::Decimal(Decimal::MAX)).is_err());
        assert!(check(&schema, &dec, &Value::Decimal("9999999999999999999999999999".parse().unwrap())).is_ok());
        let j = FieldDef::new("j", FieldType::Json);
        let mut deep = json!(1);
        for _ in 0..MAX_JSON_DEPTH {
            deep = json!([deep]);
        }
        assert!(check(&schema, &j, &Value::Json(deep.clone())).is_ok());
        assert!(check(&schema, &j, &Value::Json(json!({ "a": deep }))).is_err());
        assert!(check(&schema, &j, &Value::Json(json!(1.7976931348623157e308))).is_ok());
        assert!(check(&schema, &j, &Value::Json(json!(0.1))).is_ok());
        assert!(check(&schema, &j, &Value::Json(json!({"a": "x\u{0}"}))).is_err());
        let t = FieldDef::new("t", FieldType::String);
        assert!(check(&schema, &t, &Value::String("a\0b".into())).is_err());
        let u = FieldDef::new("u", FieldType::String).unique();
        assert!(check(&schema, &u, &Value::String("x".repeat(256))).is_err());
        assert!(check(&schema, &t, &Value::String("x".repeat(256))).is_ok());
    }

    #[test]
    fn pagination_range() {
        assert!(check_page(&s(), Some(MAX_LIMIT), Some(0)).is_ok());
        let e = check_page(&s(), None, Some(MAX_LIMIT + 1)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::INVALID_PAGINATION);
    }

    #[test]
    fn truncation_floors() {
        let d = NaiveDate::from_ymd_opt(1969, 12, 31).unwrap().and_hms_nano_opt(23, 59, 59, 999_999_999).unwrap();
        assert_eq!(truncate_micros(&d.and_utc()).nanosecond(), 999_999_000);
    }
}
