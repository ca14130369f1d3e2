//! Row decoding, once (issue 13): a sqlx row is read column by column through [`RowRef`], a
//! [`Columns`] cursor over the row in [`FieldDef`] order, straight into its target — the
//! dynamic `Vec<Value>` ([`Values`], what the query cache keeps), a JSON object ([`Json`], the
//! dynamic API) or a typed record ([`Typed`]: `M::from_columns`, no `Vec<Value>` per row).
//! No JSON text is produced; JSON and array columns are parsed from the driver's JSON/text value.

use std::marker::PhantomData;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dataflow_sql::model::value_as;
use dataflow_sql::value::parse_datetime;
use dataflow_sql::{ArrayElem, Columns, Error, FieldDef, FieldType, Model, Result, Value};
use rust_decimal::Decimal;
use serde_json::{Map, Value as J};
use sqlx::Row;
use uuid::Uuid;

use crate::db::registry::ModelEntry;
use crate::express::Stored;

#[cold]
#[inline(never)]
fn bad(field: &FieldDef, why: &dyn std::fmt::Display) -> Error {
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
    r.map_err(|e| bad(field, &e))
}

fn json_array(field: &FieldDef, elem: ArrayElem, j: J) -> Result<Value> {
    Value::from_json_typed(&j, FieldType::Array(elem))
        .ok_or_else(|| bad(field, &"stored JSON is not the expected array"))
}

fn datetime_text(field: &FieldDef, s: &str) -> Result<DateTime<Utc>> {
    parse_datetime(s).ok_or_else(|| bad(field, &"unparsable date-time"))
}

/// A non-string column stored as text (borrowed from the row: no copy before parsing).
fn parse_text(field: &FieldDef, s: &str) -> Result<Value> {
    Ok(match field.ty {
        FieldType::String => Value::String(s.to_owned()),
        FieldType::DateTime => Value::DateTime(datetime_text(field, s)?),
        FieldType::Date => Value::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| bad(field, &e))?),
        FieldType::Uuid => Value::Uuid(Uuid::parse_str(s).map_err(|e| bad(field, &e))?),
        FieldType::Decimal => Value::Decimal(s.trim().parse::<Decimal>().map_err(|e| bad(field, &e))?),
        FieldType::Json => Value::Json(serde_json::from_str(s).map_err(|e| bad(field, &e))?),
        FieldType::Array(elem) => json_array(field, elem, serde_json::from_str(s).map_err(|e| bad(field, &e))?)?,
        _ => return Err(bad(field, &"unexpected text value")),
    })
}

/// One backend's row: the decoder of column `i` as field `f`, per type.
pub(crate) trait BackendRow: Row {
    /// Any column, as a dynamic value (`Value::Null` for NULL).
    fn value(&self, i: usize, f: &FieldDef, native_arrays: bool) -> Result<Value>;
    /// An `i32` column.
    fn i32(&self, i: usize, f: &FieldDef) -> Result<Option<i32>>;
    /// An `i64` column.
    fn i64(&self, i: usize, f: &FieldDef) -> Result<Option<i64>>;
    /// An `f64` column.
    fn f64(&self, i: usize, f: &FieldDef) -> Result<Option<f64>>;
    /// A `bool` column.
    fn bool(&self, i: usize, f: &FieldDef) -> Result<Option<bool>>;
    /// A string column.
    fn string(&self, i: usize, f: &FieldDef) -> Result<Option<String>>;
    /// A date-time column.
    fn datetime(&self, i: usize, f: &FieldDef) -> Result<Option<DateTime<Utc>>>;
    /// A JSON column.
    fn json(&self, i: usize, f: &FieldDef) -> Result<Option<J>>;
}

/// The getters every backend decodes the same way.
macro_rules! common_getters {
    () => {
        fn i32(&self, i: usize, f: &FieldDef) -> Result<Option<i32>> {
            opt(f, self.try_get_unchecked::<Option<i32>, _>(i))
        }
        fn i64(&self, i: usize, f: &FieldDef) -> Result<Option<i64>> {
            opt(f, self.try_get_unchecked::<Option<i64>, _>(i))
        }
        fn f64(&self, i: usize, f: &FieldDef) -> Result<Option<f64>> {
            opt(f, self.try_get_unchecked::<Option<f64>, _>(i))
        }
        fn bool(&self, i: usize, f: &FieldDef) -> Result<Option<bool>> {
            opt(f, self.try_get_unchecked::<Option<bool>, _>(i))
        }
        fn string(&self, i: usize, f: &FieldDef) -> Result<Option<String>> {
            opt(f, self.try_get_unchecked::<Option<String>, _>(i))
        }
    };
}

impl BackendRow for sqlx::postgres::PgRow {
    common_getters!();

    fn datetime(&self, i: usize, f: &FieldDef) -> Result<Option<DateTime<Utc>>> {
        opt(f, self.try_get_unchecked::<Option<DateTime<Utc>>, _>(i))
    }

    fn json(&self, i: usize, f: &FieldDef) -> Result<Option<J>> {
        opt(f, self.try_get_unchecked::<Option<J>, _>(i))
    }

    fn value(&self, i: usize, f: &FieldDef, native_arrays: bool) -> Result<Value> {
        let v = match f.ty {
            FieldType::String => self.string(i, f)?.map(Value::String),
            FieldType::I32 => self.i32(i, f)?.map(Value::I32),
            FieldType::I64 => self.i64(i, f)?.map(Value::I64),
            FieldType::F64 => self.f64(i, f)?.map(Value::F64),
            FieldType::Bool => self.bool(i, f)?.map(Value::Bool),
            FieldType::DateTime => self.datetime(i, f)?.map(Value::DateTime),
            FieldType::Date => opt(f, self.try_get_unchecked::<Option<NaiveDate>, _>(i))?.map(Value::Date),
            FieldType::Uuid => opt(f, self.try_get_unchecked::<Option<Uuid>, _>(i))?.map(Value::Uuid),
            FieldType::Decimal => opt(f, self.try_get_unchecked::<Option<Decimal>, _>(i))?.map(Value::Decimal),
            FieldType::Json => self.json(i, f)?.map(Value::Json),
            FieldType::Bytes => opt(f, self.try_get_unchecked::<Option<Vec<u8>>, _>(i))?.map(Value::Bytes),
            FieldType::Array(elem) if native_arrays => match elem {
                ArrayElem::String => opt(f, self.try_get_unchecked::<Option<Vec<String>>, _>(i))?
                    .map(|v| Value::Array(v.into_iter().map(Value::String).collect())),
                ArrayElem::I64 => opt(f, self.try_get_unchecked::<Option<Vec<i64>>, _>(i))?
                    .map(|v| Value::Array(v.into_iter().map(Value::I64).collect())),
                ArrayElem::F64 => opt(f, self.try_get_unchecked::<Option<Vec<f64>>, _>(i))?
                    .map(|v| Value::Array(v.into_iter().map(Value::F64).collect())),
                ArrayElem::Bool => opt(f, self.try_get_unchecked::<Option<Vec<bool>>, _>(i))?
                    .map(|v| Value::Array(v.into_iter().map(Value::Bool).collect())),
            },
            FieldType::Array(elem) => match self.json(i, f)? {
                Some(j) => Some(json_array(f, elem, j)?),
                None => None,
            },
        };
        Ok(v.unwrap_or(Value::Null))
    }
}

impl BackendRow for sqlx::mysql::MySqlRow {
    common_getters!();

    fn datetime(&self, i: usize, f: &FieldDef) -> Result<Option<DateTime<Utc>>> {
        Ok(opt(f, self.try_get_unchecked::<Option<NaiveDateTime>, _>(i))?.map(|n| n.and_utc()))
    }

    fn json(&self, i: usize, f: &FieldDef) -> Result<Option<J>> {
        match opt(f, self.try_get_unchecked::<Option<&[u8]>, _>(i))? {
            Some(b) => Ok(Some(serde_json::from_slice(b).map_err(|e| bad(f, &e))?)),
            None => Ok(None),
        }
    }

    fn value(&self, i: usize, f: &FieldDef, _native_arrays: bool) -> Result<Value> {
        let v = match f.ty {
            FieldType::String => self.string(i, f)?.map(Value::String),
            FieldType::I32 => self.i32(i, f)?.map(Value::I32),
            FieldType::I64 => self.i64(i, f)?.map(Value::I64),
            FieldType::F64 => self.f64(i, f)?.map(Value::F64),
            FieldType::Bool => self.bool(i, f)?.map(Value::Bool),
            FieldType::DateTime => self.datetime(i, f)?.map(Value::DateTime),
            FieldType::Date => opt(f, self.try_get_unchecked::<Option<NaiveDate>, _>(i))?.map(Value::Date),
            FieldType::Decimal => opt(f, self.try_get_unchecked::<Option<Decimal>, _>(i))?.map(Value::Decimal),
            FieldType::Bytes => opt(f, self.try_get_unchecked::<Option<Vec<u8>>, _>(i))?.map(Value::Bytes),
            FieldType::Uuid | FieldType::Json | FieldType::Array(_) => {
                match opt(f, self.try_get_unchecked::<Option<&[u8]>, _>(i))? {
                    Some(b) => Some(parse_text(f, std::str::from_utf8(b).map_err(|e| bad(f, &e))?)?),
                    None => None,
                }
            }
        };
        Ok(v.unwrap_or(Value::Null))
    }
}

impl BackendRow for sqlx::sqlite::SqliteRow {
    common_getters!();

    /// Parsed from the text borrowed from the row (no `String` per value).
    fn datetime(&self, i: usize, f: &FieldDef) -> Result<Option<DateTime<Utc>>> {
        match opt(f, self.try_get_unchecked::<Option<&str>, _>(i))? {
            Some(s) => Ok(Some(datetime_text(f, s)?)),
            None => Ok(None),
        }
    }

    fn json(&self, i: usize, f: &FieldDef) -> Result<Option<J>> {
        match opt(f, self.try_get_unchecked::<Option<&str>, _>(i))? {
            Some(s) => Ok(Some(serde_json::from_str(s).map_err(|e| bad(f, &e))?)),
            None => Ok(None),
        }
    }

    fn value(&self, i: usize, f: &FieldDef, _native_arrays: bool) -> Result<Value> {
        let v = match f.ty {
            FieldType::I32 => self.i32(i, f)?.map(Value::I32),
            FieldType::I64 => self.i64(i, f)?.map(Value::I64),
            FieldType::F64 => self.f64(i, f)?.map(Value::F64),
            FieldType::Bool => self.bool(i, f)?.map(Value::Bool),
            FieldType::Bytes => opt(f, self.try_get_unchecked::<Option<Vec<u8>>, _>(i))?.map(Value::Bytes),
            FieldType::String => self.string(i, f)?.map(Value::String),
            _ => match opt(f, self.try_get_unchecked::<Option<&str>, _>(i))? {
                Some(s) => Some(parse_text(f, s)?),
                None => None,
            },
        };
        Ok(v.unwrap_or(Value::Null))
    }
}

/// One sqlx row as a [`Columns`] cursor: column `i` is decoded as `cols[i]`.
pub(crate) struct RowRef<'r, R> {
    row: &'r R,
    cols: &'r [FieldDef],
    native_arrays: bool,
    next: usize,
}

impl<'r, R: BackendRow> RowRef<'r, R> {
    /// A cursor at the row's first column.
    pub(crate) fn new(row: &'r R, cols: &'r [FieldDef], native_arrays: bool) -> Self {
        RowRef { row, cols, native_arrays, next: 0 }
    }

    /// The next column's index and field.
    fn column(&mut self) -> Result<(usize, &'r FieldDef)> {
        let i = self.next;
        let f = self.cols.get(i).ok_or_else(|| {
            Error::new(
                dataflow_sql::ErrorCode::DECODE,
                format!("the row has {} columns, more were read", self.cols.len()),
            )
        })?;
        self.next += 1;
        Ok((i, f))
    }
}

/// A typed getter: the backend's direct decoder when the column has the expected type, else
/// the dynamic value converted (DF-510 naming the field when it does not fit).
macro_rules! getter {
    ($name:ident, $get:ident, $ty:ty, $ft:pat) => {
        fn $name(&mut self) -> Result<Option<$ty>> {
            let (i, f) = self.column()?;
            if matches!(f.ty, $ft) {
                self.row.$get(i, f)
            } else {
                value_as(self.row.value(i, f, self.native_arrays)?).map_err(|e| e.field(&f.name))
            }
        }
    };
}

impl<R: BackendRow> Columns for RowRef<'_, R> {
    fn next_value(&mut self) -> Result<Value> {
        let (i, f) = self.column()?;
        self.row.value(i, f, self.native_arrays)
    }

    getter!(next_i32, i32, i32, FieldType::I32);
    getter!(next_i64, i64, i64, FieldType::I64);
    getter!(next_f64, f64, f64, FieldType::F64);
    getter!(next_bool, bool, bool, FieldType::Bool);
    getter!(next_string, string, String, FieldType::String);
    getter!(next_datetime, datetime, DateTime<Utc>, FieldType::DateTime);
    getter!(next_json, json, J, FieldType::Json);
}

/// What one row decodes into.
pub(crate) trait Decode: Sync {
    /// The decoded row.
    type Out: Send;
    /// Decodes the row the cursor is at the start of.
    fn decode<R: BackendRow>(&self, row: &mut RowRef<'_, R>) -> Result<Self::Out>;

    /// Whether the rows to decode are full rows without the managed `tenant_id` column
    /// (`ModelEntry::cols_without_tenant`): the decoder knows the tenant from its scope, so the
    /// statement need not select it.
    fn omits_tenant(&self) -> bool {
        false
    }
}

/// The dynamic row: `Vec<Value>` in `cols` order (cached reads, cursors, writes).
pub(crate) struct Values;

impl Decode for Values {
    type Out = Vec<Value>;
    fn decode<R: BackendRow>(&self, row: &mut RowRef<'_, R>) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(row.cols.len());
        for _ in 0..row.cols.len() {
            out.push(row.next_value()?);
        }
        Ok(out)
    }
}

/// A JSON object keyed by field name (managed columns by column name): the dynamic API's
/// record, the same as `row_json` of the [`Values`] row.
pub(crate) struct Json;

impl Decode for Json {
    type Out = Map<String, J>;
    fn decode<R: BackendRow>(&self, row: &mut RowRef<'_, R>) -> Result<Map<String, J>> {
        let cols = row.cols;
        let mut m = Map::with_capacity(cols.len() + 1);
        for f in cols {
            m.insert(f.name.clone(), row.next_value()?.into_json());
        }
        Ok(m)
    }
}

/// A typed record ([`Stored::decode`]): the model's fields through `M::from_columns`, then the
/// managed columns.
pub(crate) struct Typed<M> {
    e: Arc<ModelEntry>,
    tenant: Option<Arc<str>>,
    /// Whether the rows hold the `tenant_id` column (a `RETURNING` row: every column), the
    /// tenant then a hint to share ([`Typed::full`]).
    tenant_column: bool,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> Typed<M> {
    /// The decoder of `M` rows registered as `e` read through a handle scoped to `tenant`.
    /// Unscoped, the rows are full rows (`e.cols`). Scoped, every row the statement returns has
    /// `tenant_id = tenant` (it is in the statement's scope), so the statement does not select
    /// the column ([`Decode::omits_tenant`], `e.cols_without_tenant`) and every
    /// `Stored::tenant_id` shares the handle's tenant: no column sent, decoded or allocated per
    /// row (issue 14).
    pub(crate) fn scoped(e: &Arc<ModelEntry>, tenant: Option<&Arc<str>>) -> Self {
        Typed { e: Arc::clone(e), tenant: tenant.cloned(), tenant_column: false, model: PhantomData }
    }

    /// This decoder for full rows (`e.cols`, `tenant_id` included, as a `RETURNING` row has
    /// them): a row of the scope's tenant shares it.
    pub(crate) fn full(&self) -> Self {
        Typed { e: Arc::clone(&self.e), tenant: self.tenant.clone(), tenant_column: true, model: PhantomData }
    }

    /// A full row already read as values (`e.cols`).
    pub(crate) fn decode_values(&self, row: Vec<dataflow_sql::Value>) -> Result<Stored<M>> {
        Stored::from_row(&self.e, row, self.tenant.as_ref())
    }
}

impl<M: Model> Decode for Typed<M> {
    type Out = Stored<M>;
    fn decode<R: BackendRow>(&self, row: &mut RowRef<'_, R>) -> Result<Stored<M>> {
        Stored::decode(&self.e, row, self.tenant.as_ref(), self.tenant_column)
    }

    fn omits_tenant(&self) -> bool {
        self.tenant.is_some() && !self.tenant_column
    }
}

/// Decodes every row.
pub(crate) fn all<R: BackendRow, D: Decode>(
    rows: &[R],
    cols: &[FieldDef],
    native_arrays: bool,
    d: &D,
) -> Result<Vec<D::Out>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(d.decode(&mut RowRef::new(r, cols, native_arrays))?);
    }
    Ok(out)
}

/// Decodes one row.
pub(crate) fn one<R: BackendRow, D: Decode>(row: &R, cols: &[FieldDef], native_arrays: bool, d: &D) -> Result<D::Out> {
    d.decode(&mut RowRef::new(row, cols, native_arrays))
}

impl<M> crate::observe::trace::Observed for Stored<M> {
    fn rows(&self) -> u64 {
        1
    }
}

impl crate::observe::trace::Observed for Map<String, J> {
    fn rows(&self) -> u64 {
        1
    }
}

/// A List decoded by `ops::list::list_as`: its columns and rows.
impl<T> crate::observe::trace::Observed for (Arc<[FieldDef]>, Vec<T>) {
    fn rows(&self) -> u64 {
        self.1.len() as u64
    }
}
