// Accepted: every supported field type, plain and as `Option<T>`, with each of the four key
// types; the schema reports the matching `FieldType` and nullability.
use chrono::{DateTime, NaiveDate, Utc};
use dataflow::{ArrayElem, FieldType, Model};
use rust_decimal::Decimal;
use uuid::Uuid;

#[dataflow::model]
pub struct Everything {
    pub id: i64,
    pub s: String,
    pub i: i32,
    pub l: i64,
    pub f: f64,
    pub b: bool,
    pub at: DateTime<Utc>,
    pub day: NaiveDate,
    pub uid: Uuid,
    pub amount: Decimal,
    pub doc: serde_json::Value,
    pub names: Vec<String>,
    pub counts: Vec<i64>,
    pub weights: Vec<f64>,
    pub flags: Vec<bool>,
    pub blob: Vec<u8>,
    pub o_s: Option<String>,
    pub o_i: Option<i32>,
    pub o_l: Option<i64>,
    pub o_f: Option<f64>,
    pub o_b: Option<bool>,
    pub o_at: Option<chrono::DateTime<chrono::Utc>>,
    pub o_day: Option<NaiveDate>,
    pub o_uid: Option<uuid::Uuid>,
    pub o_amount: Option<rust_decimal::Decimal>,
    pub o_doc: Option<serde_json::Value>,
    pub o_names: Option<Vec<String>>,
    pub o_blob: Option<Vec<u8>>,
}

#[dataflow::model]
pub struct StringKey {
    pub id: String,
}

#[dataflow::model]
pub struct SmallKey {
    pub id: i32,
}

#[dataflow::model]
pub struct UuidKey {
    pub id: uuid::Uuid,
}

type Key = i64;

#[dataflow::model]
pub struct AliasedKey {
    pub id: Key,
}

fn main() {
    let s = Everything::schema();
    let ty = |n: &str| s.field(n).map(|f| (f.ty, f.nullable));
    assert_eq!(ty("s"), Some((FieldType::String, false)));
    assert_eq!(ty("i"), Some((FieldType::I32, false)));
    assert_eq!(ty("at"), Some((FieldType::DateTime, false)));
    assert_eq!(ty("amount"), Some((FieldType::Decimal, false)));
    assert_eq!(ty("flags"), Some((FieldType::Array(ArrayElem::Bool), false)));
    assert_eq!(ty("blob"), Some((FieldType::Bytes, false)));
    assert_eq!(ty("o_day"), Some((FieldType::Date, true)));
    assert_eq!(ty("o_names"), Some((FieldType::Array(ArrayElem::String), true)));
    assert_eq!(s.fields.len(), 28);
    assert_eq!(StringKey::schema().id_field().map(|f| f.ty), Some(FieldType::String));
    assert_eq!(SmallKey::schema().id_field().map(|f| f.ty), Some(FieldType::I32));
    assert_eq!(UuidKey::schema().id_field().map(|f| f.ty), Some(FieldType::Uuid));
    assert_eq!(AliasedKey::schema().id_field().map(|f| f.ty), Some(FieldType::I64));
    for schema in [s, StringKey::schema(), SmallKey::schema(), UuidKey::schema(), AliasedKey::schema()] {
        schema.validate().unwrap();
    }
}
