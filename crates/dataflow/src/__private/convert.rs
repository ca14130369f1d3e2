//! `Model::{to_values, into_values, from_columns}` through three non-generic functions (issue 13).
//!
//! The generated bodies only list the fields: `to_values` passes `&[&self.a, &self.b, ..]` as
//! `&dyn FieldRef`, `into_values` and `from_columns` pass `&mut [&mut slot_a, ..]` as
//! `&mut dyn FieldSlot`, where a slot is an `Option<T>` local. The loops, the `?` per field and
//! the unwind clean-up they need are compiled here, once, instead of once per model in the
//! user's crate; per field *type* only the small `FieldRef` / `FieldSlot` methods are
//! instantiated (shared by every model). The traits are implemented for `T: Field<'a>`, so the
//! generated impls still reach the field types only through their `Field<'__df>` predicates
//! (see [`Field`]): an unsupported type stays one error.

use chrono::{DateTime, NaiveDate, Utc};
use dataflow_sql::{Columns, Error, ErrorCode, Record, Result, Value, ValueColumns};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::Field;

/// A field borrowed for `Model::to_values`.
pub trait FieldRef<'a> {
    /// `FieldValue::to_value`.
    fn value(&self) -> Value;
}

impl<'a, T: Field<'a>> FieldRef<'a> for T {
    fn value(&self) -> Value {
        Field::to_value(self)
    }
}

/// A field's value on its way out of (`into_values`) or into (`from_columns`) a model: an
/// `Option<T>` local of the generated method.
pub trait FieldSlot<'a> {
    /// Takes the value out (`FieldValue::into_value`); `Value::Null` when the slot is empty.
    fn take_value(&mut self) -> Value;
    /// Decodes the next column of `c` into the slot.
    fn read(&mut self, c: &mut dyn Columns, model: &'static str, field: &'static str) -> Result<()>;
}

impl<'a, T: Field<'a>> FieldSlot<'a> for Option<T> {
    fn take_value(&mut self) -> Value {
        match self.take() {
            Some(v) => v.into_value(),
            None => Value::Null,
        }
    }

    fn read(&mut self, c: &mut dyn Columns, model: &'static str, field: &'static str) -> Result<()> {
        *self = Some(T::read(c, model, field)?);
        Ok(())
    }
}

/// `Model::to_values`: the fields' values in order.
#[inline(never)]
pub fn to_values(fields: &[&dyn FieldRef<'_>]) -> Record {
    fields.iter().map(|f| f.value()).collect()
}

/// `Model::into_values`: the values of the filled slots, in order, without clones.
#[inline(never)]
pub fn into_values(slots: &mut [&mut dyn FieldSlot<'_>]) -> Record {
    slots.iter_mut().map(|s| s.take_value()).collect()
}

/// `Model::from_columns`: decodes the next columns of `columns` into the empty slots, in field
/// order. The error is DF-510 naming the model and the first field whose column does not
/// decode (the later slots stay empty).
#[inline(never)]
pub fn from_columns(
    model: &'static str,
    columns: &mut dyn Columns,
    names: &[&'static str],
    slots: &mut [&mut dyn FieldSlot<'_>],
) -> Result<()> {
    for (slot, name) in slots.iter_mut().zip(names) {
        slot.read(columns, model, name)?;
    }
    Ok(())
}

/// [`from_columns`] over values: DF-510 for a wrong number of values, else as `from_columns`.
pub fn from_values(
    model: &'static str,
    values: Record,
    names: &[&'static str],
    slots: &mut [&mut dyn FieldSlot<'_>],
) -> Result<()> {
    let mut columns = ValueColumns::new(model, values, slots.len())?;
    from_columns(model, &mut columns, names, slots)
}

/// The error of a generated `from_columns` that did not get all its fields: [`from_columns`]'s
/// error, or (cannot happen: after `Ok` every slot is filled) a DF-510 instead of a panic.
#[cold]
#[inline(never)]
pub fn decode_failed(model: &'static str, result: Result<()>) -> Error {
    match result {
        Err(e) => e,
        Ok(()) => Error::new(ErrorCode::DECODE, format!("model `{model}`: a field was not decoded")).model(model),
    }
}

/// Compiles the per-type conversion code (`FieldRef::value`, `FieldSlot::{read, take_value}`
/// and what they call, such as `FieldValue::next_column`) here, once, for every supported field
/// type. Unoptimized builds share generic instances between crates (rustc's `share-generics`,
/// on by default in the `dev` profile), so a user's crate links to these instead of compiling
/// them again. Never called; it only has to exist.
#[doc(hidden)]
pub fn share_field_instances(c: &mut dyn Columns, out: &mut Record) -> Result<()> {
    macro_rules! each {
        ($($t:ty),* $(,)?) => {$(
            each!(@one $t);
            each!(@one Option<$t>);
        )*};
        (@one $t:ty) => {{
            let mut slot: Option<$t> = None;
            FieldSlot::read(&mut slot, c, "", "")?;
            if let Some(v) = &slot {
                out.push(FieldRef::value(v));
            }
            out.push(FieldSlot::take_value(&mut slot));
        }};
    }
    each!(
        String,
        bool,
        i32,
        i64,
        f64,
        DateTime<Utc>,
        NaiveDate,
        Uuid,
        Decimal,
        serde_json::Value,
        Vec<u8>,
        Vec<String>,
        Vec<i64>,
        Vec<f64>,
        Vec<bool>,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_slots() {
        let (a, b): (i64, Option<String>) = (7, Some("x".into()));
        let vals = to_values(&[&a, &b]);
        assert_eq!(vals, vec![Value::I64(7), Value::String("x".into())]);
        let (mut sa, mut sb) = (Some(a), Some(b));
        let owned = into_values(&mut [&mut sa, &mut sb]);
        assert_eq!(owned, vals);
        assert!(sa.is_none() && sb.is_none());
        let (mut ra, mut rb): (Option<i64>, Option<Option<String>>) = (None, None);
        from_values("M", vec![Value::I64(7), Value::Null], &["a", "b"], &mut [&mut ra, &mut rb]).unwrap();
        assert_eq!((ra, rb), (Some(7), Some(None)));
    }

    #[test]
    fn decode_errors_name_the_first_bad_field_and_stop() {
        let (mut ra, mut rb, mut rc): (Option<i64>, Option<bool>, Option<String>) = (None, None, None);
        let e = from_values(
            "M",
            vec![Value::I64(1), Value::String("no".into()), Value::Bool(true)],
            &["a", "b", "c"],
            &mut [&mut ra, &mut rb, &mut rc],
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::DECODE);
        assert!(e.message().contains("`M.b`"), "{}", e.message());
        assert_eq!((ra, rb, rc), (Some(1), None, None));
        let e = from_values("M", vec![Value::I64(1)], &["a", "b"], &mut [&mut ra, &mut rb]).unwrap_err();
        assert!(e.message().contains("has 2 fields, got 1 values"), "{}", e.message());
    }
}
