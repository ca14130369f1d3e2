//! The dynamic [`Value`]: one type for every supported field type, validated against a
//! field's type and converted to `sea_query::Value` per dialect.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::Dialect;
use crate::error::{Error, ErrorCode, Result};
use crate::schema::{ArrayElem, FieldDef, FieldType};

/// A value of one of DataFlow's field types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// `bool`
    Bool(bool),
    /// `i32`
    I32(i32),
    /// `i64`
    I64(i64),
    /// `f64`
    F64(f64),
    /// `String`
    String(String),
    /// `DateTime<Utc>`
    DateTime(DateTime<Utc>),
    /// `NaiveDate`
    Date(NaiveDate),
    /// `Uuid`
    Uuid(Uuid),
    /// `Decimal`
    Decimal(Decimal),
    /// `serde_json::Value`
    Json(serde_json::Value),
    /// `Vec<String|i64|f64|bool>`: elements are `String`, `I64`, `F64` or `Bool`.
    Array(Vec<Value>),
    /// `Vec<u8>`
    Bytes(Vec<u8>),
}

/// The canonical SQLite text form of a UTC instant: fixed width, so text order is time order
/// (`%Y-%m-%dT%H:%M:%S%.6fZ`). Written digit by digit for years 0–9999: chrono's `format`
/// parses its format string on every call, about 8,000 instructions per value — most of the
/// cost of the timestamps of a SQLite bulk write. Other years and leap seconds take chrono's
/// formatter (the same text; checked by `canonical_datetime_is_chronos_format`).
pub fn canonical_datetime(dt: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let (year, nanos) = (dt.year(), dt.nanosecond());
    let Ok(year) = u32::try_from(year) else { return dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string() };
    if year > 9999 || nanos >= 1_000_000_000 {
        return dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    }
    let mut out = String::with_capacity(27);
    let mut put = |v: u32, width: u32, sep: Option<char>| {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + ((v / 10u32.pow(p)) % 10) as u8));
        }
        if let Some(c) = sep {
            out.push(c);
        }
    };
    put(year, 4, Some('-'));
    put(dt.month(), 2, Some('-'));
    put(dt.day(), 2, Some('T'));
    put(dt.hour(), 2, Some(':'));
    put(dt.minute(), 2, Some(':'));
    put(dt.second(), 2, Some('.'));
    put(nanos / 1000, 6, Some('Z'));
    out
}

fn wrong(field: &FieldDef, got: &serde_json::Value) -> Error {
    let shown = match got {
        serde_json::Value::String(s) if s.len() > 40 => format!("a string ({} bytes)", s.len()),
        other => {
            let s = other.to_string();
            if s.len() > 60 { format!("{}…", &s[..s.char_indices().nth(60).map_or(s.len(), |(i, _)| i)]) } else { s }
        }
    };
    Error::new(ErrorCode::WRONG_TYPE, format!("field `{}` expects {}, got {shown}", field.name, field.ty.expected()))
        .field(&field.name)
        .fix(format!("pass {} for `{}` (type {})", field.ty.expected(), field.name, field.ty.rust_name()))
}

impl Value {
    /// Converts JSON into a value of `field`'s type, or fails with DF-102 naming the field and
    /// the expected type. `null` is accepted only for nullable fields.
    pub fn from_json(json: &serde_json::Value, field: &FieldDef) -> Result<Value> {
        if json.is_null() {
            return if field.nullable {
                Ok(Value::Null)
            } else if field.ty == FieldType::Json {
                // The JSON document `null` (a NOT NULL JSON column cannot hold SQL NULL).
                Ok(Value::Json(serde_json::Value::Null))
            } else {
                Value::Null.check(field).map(|()| Value::Null)
            };
        }
        let v = Self::from_json_typed(json, field.ty).ok_or_else(|| wrong(field, json))?;
        v.check(field)?;
        Ok(v)
    }

    /// Checks a value already of `field`'s type against the field's constraints: nullability
    /// (JSON fields take `null` as a document) and `max_len` (DF-102).
    pub fn check(&self, field: &FieldDef) -> Result<()> {
        if self.is_null() && !field.nullable && field.ty != FieldType::Json {
            return Err(Error::new(ErrorCode::WRONG_TYPE, format!("field `{}` is not nullable, got null", field.name))
                .field(&field.name)
                .fix(format!(
                    "pass {} or declare the field as Option<{}>",
                    field.ty.expected(),
                    field.ty.rust_name()
                )));
        }
        if let (Value::String(s), Some(n)) = (self, field.max_len)
            && s.chars().count() > n as usize
        {
            return Err(Error::new(
                ErrorCode::WRONG_TYPE,
                format!("field `{}` allows at most {n} characters, got {}", field.name, s.chars().count()),
            )
            .field(&field.name)
            .fix(format!("shorten the value or raise `max_len` above {n}")));
        }
        Ok(())
    }

    /// Converts a non-null JSON value into `ty`, or `None` when it does not fit.
    pub fn from_json_typed(json: &serde_json::Value, ty: FieldType) -> Option<Value> {
        use serde_json::Value as J;
        Some(match (ty, json) {
            (FieldType::String, J::String(s)) => Value::String(s.clone()),
            (FieldType::I32, J::Number(n)) => Value::I32(i32::try_from(n.as_i64()?).ok()?),
            (FieldType::I64, J::Number(n)) => Value::I64(n.as_i64()?),
            (FieldType::F64, J::Number(n)) => Value::F64(n.as_f64()?),
            (FieldType::Bool, J::Bool(b)) => Value::Bool(*b),
            (FieldType::DateTime, J::String(s)) => Value::DateTime(parse_datetime(s)?),
            (FieldType::Date, J::String(s)) => Value::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?),
            (FieldType::Uuid, J::String(s)) => Value::Uuid(Uuid::parse_str(s).ok()?),
            (FieldType::Decimal, J::String(s)) => Value::Decimal(s.trim().parse().ok()?),
            (FieldType::Decimal, J::Number(n)) => Value::Decimal(n.to_string().parse().ok()?),
            (FieldType::Json, j) => Value::Json(j.clone()),
            (FieldType::Array(elem), J::Array(items)) => {
                Value::Array(items.iter().map(|j| Self::from_json_elem(j, elem)).collect::<Option<Vec<_>>>()?)
            }
            (FieldType::Bytes, J::Array(items)) => Value::Bytes(
                items.iter().map(|j| j.as_u64().and_then(|n| u8::try_from(n).ok())).collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }

    /// Converts one array element.
    pub fn from_json_elem(json: &serde_json::Value, elem: ArrayElem) -> Option<Value> {
        use serde_json::Value as J;
        Some(match (elem, json) {
            (ArrayElem::String, J::String(s)) => Value::String(s.clone()),
            (ArrayElem::I64, J::Number(n)) => Value::I64(n.as_i64()?),
            (ArrayElem::F64, J::Number(n)) => Value::F64(n.as_f64()?),
            (ArrayElem::Bool, J::Bool(b)) => Value::Bool(*b),
            _ => return None,
        })
    }

    /// The JSON form of the value (date-times as RFC 3339 UTC, decimals as strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::I32(i) => J::from(*i),
            Value::I64(i) => J::from(*i),
            Value::F64(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::DateTime(d) => J::String(d.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
            Value::Uuid(u) => J::String(u.to_string()),
            Value::Decimal(d) => J::String(d.to_string()),
            Value::Json(j) => j.clone(),
            Value::Array(a) => J::Array(a.iter().map(Value::to_json).collect()),
            Value::Bytes(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
        }
    }

    /// [`Value::to_json`] consuming the value: strings, JSON documents and arrays move into the
    /// result instead of being copied (decoded rows → JSON records).
    pub fn into_json(self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::String(s) => J::String(s),
            Value::Json(j) => j,
            Value::Array(a) => J::Array(a.into_iter().map(Value::into_json).collect()),
            other => other.to_json(),
        }
    }

    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Converts to the `sea_query::Value` bound for a column of type `ty` on `dialect`.
    /// `native_arrays` selects PostgreSQL arrays instead of JSON for array fields.
    pub fn to_sea(&self, ty: FieldType, dialect: Dialect, native_arrays: bool) -> sea_query::Value {
        use sea_query::Value as S;
        match self {
            Value::Null => null_of(ty, dialect, native_arrays),
            Value::Bool(b) => S::Bool(Some(*b)),
            Value::I32(i) => S::Int(Some(*i)),
            Value::I64(i) => S::BigInt(Some(*i)),
            Value::F64(f) => S::Double(Some(*f)),
            Value::String(s) => S::String(Some(s.clone())),
            Value::DateTime(d) => dialect.backend().datetime(&crate::portable::truncate_micros(d)),
            Value::Date(d) => dialect.backend().date(d),
            Value::Uuid(u) => dialect.backend().uuid(u),
            Value::Decimal(d) => dialect.backend().decimal(d),
            Value::Json(j) => dialect.backend().json(j.clone()),
            Value::Array(items) => dialect.backend().array(items, ty, native_arrays, self.to_json()),
            Value::Bytes(b) => S::Bytes(Some(b.clone())),
        }
    }
}

/// A typed NULL for a column of type `ty`.
pub fn null_of(ty: FieldType, dialect: Dialect, native_arrays: bool) -> sea_query::Value {
    dialect.backend().typed_null(ty, native_arrays)
}

/// Parses an ISO-8601 / RFC 3339 date-time. A value without offset is taken as UTC.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc());
        }
    }
    if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(d.with_timezone(&Utc));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The digit-by-digit text is chrono's `%Y-%m-%dT%H:%M:%S%.6fZ`, for every instant chrono
        /// can hold (years −262143..=262142, leap seconds included).
        #[test]
        fn canonical_datetime_is_chronos_format(secs in -8_334_601_228_800i64..8_210_266_876_799i64, nanos in 0u32..2_000_000_000) {
            if let Some(dt) = DateTime::from_timestamp(secs, nanos) {
                proptest::prop_assert_eq!(canonical_datetime(&dt), dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            }
        }
    }

    #[test]
    fn canonical_datetime_edges() {
        for (secs, nanos) in [
            (0, 0),
            (-62_167_219_200, 0),
            (253_402_300_799, 999_999_999),
            (1_700_000_000, 123_456_789),
            (59, 1_500_000_000),
        ] {
            let dt = DateTime::from_timestamp(secs, nanos).unwrap();
            assert_eq!(canonical_datetime(&dt), dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(), "{secs} {nanos}");
        }
    }
    use serde_json::json;

    #[test]
    fn json_values_validate_against_field_types() {
        let age = FieldDef::new("age", FieldType::I32);
        assert_eq!(Value::from_json(&json!(5), &age).unwrap(), Value::I32(5));
        let e = Value::from_json(&json!("abc"), &age).unwrap_err();
        assert_eq!(e.code(), ErrorCode::WRONG_TYPE);
        assert!(e.to_string().contains("`age`"), "{e}");
        assert!(Value::from_json(&json!(1u64 << 40), &age).is_err());
        assert!(Value::from_json(&json!(null), &age).is_err());
        assert_eq!(Value::from_json(&json!(null), &age.clone().nullable()).unwrap(), Value::Null);
        let at = FieldDef::new("at", FieldType::DateTime);
        let v = Value::from_json(&json!("2024-01-31T13:00:00+01:00"), &at).unwrap();
        assert_eq!(v.to_json(), json!("2024-01-31T12:00:00Z"));
        let Value::DateTime(d) = v else { panic!() };
        assert_eq!(canonical_datetime(&d), "2024-01-31T12:00:00.000000Z");
        let dec = FieldDef::new("p", FieldType::Decimal);
        assert_eq!(Value::from_json(&json!("12.50"), &dec).unwrap().to_json(), json!("12.50"));
        let tags = FieldDef::new("tags", FieldType::Array(ArrayElem::String));
        assert!(Value::from_json(&json!(["a", 1]), &tags).is_err());
        let s = FieldDef::new("s", FieldType::String).max_len(3);
        assert!(Value::from_json(&json!("abcd"), &s).is_err());
        assert!(Value::from_json(&json!("åbc"), &s).is_ok());
    }
}
