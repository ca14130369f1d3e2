//! Generated models: `to_values` / `into_values` / `from_values` round-trip every field type,
//! decoding errors name the field, `schema()` matches the declaration (table, types, options),
//! validates, and derived table names agree with `dataflow_sql::naming::table_name` (the macro
//! carries its own copy of that function).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use dataflow::{ArrayElem, ErrorCode, FieldType, Model, NodeType, Operation, Value};
use rust_decimal::Decimal;
use uuid::Uuid;

#[dataflow::model]
#[dataflow(soft_delete, indexes(["email"], unique(["org_id", "slug"])))]
#[derive(Debug, Clone, PartialEq)]
struct User {
    id: i64,
    org_id: i64,
    slug: String,
    #[dataflow(unique, max_len = 320)]
    email: String,
    age: Option<i32>,
    #[dataflow(default = true)]
    verified: bool,
    score: f64,
    joined: NaiveDate,
    seen: Option<DateTime<Utc>>,
    external: Uuid,
    balance: Decimal,
    tags: Vec<String>,
    counts: Vec<i64>,
    weights: Vec<f64>,
    flags: Vec<bool>,
    avatar: Vec<u8>,
    #[dataflow(column = "profile_json")]
    profile: serde_json::Value,
}

fn sample() -> User {
    User {
        id: 0,
        org_id: 7,
        slug: "alice".into(),
        email: "alice@example.com".into(),
        age: Some(31),
        verified: false,
        score: 2.5,
        joined: NaiveDate::from_ymd_opt(2024, 1, 31).unwrap(),
        seen: Some(Utc.with_ymd_and_hms(2024, 2, 1, 12, 30, 0).unwrap()),
        external: Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8),
        balance: "12.50".parse().unwrap(),
        tags: vec!["a".into(), "b".into()],
        counts: vec![1, -2],
        weights: vec![0.25],
        flags: vec![true, false],
        avatar: vec![0, 255, 7],
        profile: serde_json::json!({"city": "Oslo"}),
    }
}

#[test]
fn values_round_trip_in_schema_order() {
    let u = sample();
    let values = u.to_values();
    assert_eq!(values.len(), User::schema().fields.len());
    assert_eq!(values[0], Value::I64(0));
    assert_eq!(values[4], Value::I32(31));
    assert_eq!(values[11], Value::Array(vec![Value::String("a".into()), Value::String("b".into())]));
    assert_eq!(values[15], Value::Bytes(vec![0, 255, 7]));
    assert_eq!(User::from_values(values.clone()).unwrap(), u);
    assert_eq!(u.clone().into_values(), values);
}

#[test]
fn nulls_round_trip_for_option_fields() {
    let mut u = sample();
    u.age = None;
    u.seen = None;
    let values = u.to_values();
    assert_eq!(values[4], Value::Null);
    assert_eq!(values[8], Value::Null);
    assert_eq!(User::from_values(values).unwrap(), u);
}

#[test]
fn decoding_errors_name_the_field() {
    let mut values = sample().to_values();
    values[3] = Value::I64(5);
    let e = User::from_values(values).unwrap_err();
    assert_eq!(e.code(), ErrorCode::DECODE);
    assert!(e.message().contains("User.email"), "{e}");

    let mut values = sample().to_values();
    values[1] = Value::Null;
    let e = User::from_values(values).unwrap_err();
    assert!(e.message().contains("User.org_id"), "{e}");

    let mut values = sample().to_values();
    values.pop();
    let e = User::from_values(values).unwrap_err();
    assert_eq!(e.code(), ErrorCode::DECODE);
    assert!(e.message().contains("17 fields, got 16 values"), "{e}");
}

#[test]
fn schema_matches_the_declaration() {
    let s = User::schema();
    assert!(std::ptr::eq(s, User::schema()), "built once");
    assert_eq!(s.name, "User");
    assert_eq!(s.table, "users");
    let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "id", "org_id", "slug", "email", "age", "verified", "score", "joined", "seen", "external", "balance",
            "tags", "counts", "weights", "flags", "avatar", "profile"
        ]
    );
    let types: Vec<(FieldType, bool)> = s.fields.iter().map(|f| (f.ty, f.nullable)).collect();
    assert_eq!(
        types,
        [
            (FieldType::I64, false),
            (FieldType::I64, false),
            (FieldType::String, false),
            (FieldType::String, false),
            (FieldType::I32, true),
            (FieldType::Bool, false),
            (FieldType::F64, false),
            (FieldType::Date, false),
            (FieldType::DateTime, true),
            (FieldType::Uuid, false),
            (FieldType::Decimal, false),
            (FieldType::Array(ArrayElem::String), false),
            (FieldType::Array(ArrayElem::I64), false),
            (FieldType::Array(ArrayElem::F64), false),
            (FieldType::Array(ArrayElem::Bool), false),
            (FieldType::Bytes, false),
            (FieldType::Json, false),
        ]
    );
    let email = s.field("email").unwrap();
    assert!(email.unique && !email.index && email.max_len == Some(320));
    assert_eq!(s.field("verified").unwrap().default, Some(serde_json::json!(true)));
    assert_eq!(s.field("profile").unwrap().column(), "profile_json");
    assert!(s.options.soft_delete && s.options.timestamps && !s.options.append_only);
    assert_eq!(s.indexes.len(), 2);
    assert_eq!((s.indexes[0].fields.clone(), s.indexes[0].unique), (vec!["email".to_string()], false));
    assert_eq!((s.indexes[1].fields.clone(), s.indexes[1].unique), (vec!["org_id".into(), "slug".into()], true));
    s.validate().unwrap();
    assert!(!s.field("id").unwrap().required_on_create(), "an i64 id is generated");
}

#[test]
fn node_types_know_model_and_operation() {
    assert_eq!(<UserCreateNode as NodeType>::TYPE_NAME, "UserCreateNode");
    assert_eq!(<UserBulkDeleteNode as NodeType>::OPERATION, Operation::BulkDelete);
    let expected: Vec<String> = Operation::ALL.iter().map(|op| op.node_type_name("User")).collect();
    assert_eq!(User::NODE_TYPES.to_vec(), expected);
}

macro_rules! table_cases {
    ($($model:ident),* $(,)?) => {
        $(
            #[dataflow::model]
            struct $model {
                id: String,
            }
        )*

        #[test]
        fn derived_tables_match_dataflow_sql_naming() {
            $(
                assert_eq!(
                    $model::schema().table,
                    dataflow_sql::naming::table_name(stringify!($model)),
                    stringify!($model)
                );
                $model::schema().validate().unwrap();
            )*
        }
    };
}

table_cases!(
    Person,
    Category,
    Status,
    Address,
    Child,
    XMLParser,
    UserActivity,
    Data,
    Metadata,
    News,
    Series,
    Box,
    Day,
    OrderItem,
    HTTPRequest,
    Key,
    Church,
    Wish,
    Analysis,
    Leaf,
    Quiz,
    Matrix,
    Index,
    Mouse,
    Alias,
    Bus,
    Sheep
);

#[test]
fn feature_examples() {
    for (model, table) in [
        (User::schema(), "users"),
        (Person::schema(), "people"),
        (Category::schema(), "categories"),
        (Status::schema(), "statuses"),
        (Address::schema(), "addresses"),
        (Child::schema(), "children"),
        (XMLParser::schema(), "xml_parsers"),
        (UserActivity::schema(), "user_activities"),
        (Data::schema(), "data"),
        (Metadata::schema(), "metadata"),
        (News::schema(), "news"),
        (Series::schema(), "series"),
    ] {
        assert_eq!(model.table, table, "{}", model.name);
    }
}
