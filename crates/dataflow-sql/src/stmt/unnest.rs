//! The PostgreSQL `UNNEST` form of a bulk insert: one array bind per column, however many rows.
//!
//! ```sql
//! INSERT INTO "t" ("name", "age", "created_at", "updated_at")
//! SELECT "v0", CASE WHEN "n1" THEN NULL ELSE "v1" END, $4::timestamptz, $4::timestamptz
//! FROM UNNEST($1::text[], $2::integer[], $3::boolean[]) AS "u"("v0", "v1", "n1")
//! ```
//!
//! sea-query-sqlx binds an array as `Vec<T>` and cannot carry NULL elements, so every nullable
//! column (or any column holding a NULL) gets a second `boolean[]` bind, the NULL mask, and its
//! NULL positions hold a placeholder value of the element type that the `CASE` discards.
//! JSON values travel as `text[]` and are cast `::jsonb`; native-array fields travel as JSON
//! text and are rebuilt with `ARRAY(SELECT .. FROM jsonb_array_elements_text(..))`.
//! The text is assembled by hand (sea-query cannot alias UNNEST's columns) from schema
//! identifiers only; every value is bound.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_query::{ArrayType, Value as S};

use super::insert::InsertColumns;
use super::{Rows, Scope, Sql, quote};
use crate::schema::{ArrayElem, ManagedField};
use crate::value::Value;
use crate::{Dialect, FieldDef, FieldType, ModelSchema};

const PG: Dialect = Dialect::Postgres;

/// How one field travels: array element type, SQL array cast, and a placeholder for NULLs.
fn carrier(ty: FieldType) -> (ArrayType, &'static str, S) {
    match ty {
        FieldType::String => (ArrayType::String, "text[]", S::String(Some(String::new()))),
        FieldType::I32 => (ArrayType::Int, "integer[]", S::Int(Some(0))),
        FieldType::I64 => (ArrayType::BigInt, "bigint[]", S::BigInt(Some(0))),
        FieldType::F64 => (ArrayType::Double, "double precision[]", S::Double(Some(0.0))),
        FieldType::Bool => (ArrayType::Bool, "boolean[]", S::Bool(Some(false))),
        FieldType::DateTime => {
            (ArrayType::ChronoDateTimeUtc, "timestamptz[]", S::ChronoDateTimeUtc(Some(DateTime::<Utc>::UNIX_EPOCH)))
        }
        FieldType::Date => (ArrayType::ChronoDate, "date[]", S::ChronoDate(Some(NaiveDate::default()))),
        FieldType::Uuid => (ArrayType::Uuid, "uuid[]", S::Uuid(Some(uuid::Uuid::nil()))),
        FieldType::Decimal => (ArrayType::Decimal, "numeric[]", S::Decimal(Some(Decimal::ZERO))),
        FieldType::Json | FieldType::Array(_) => (ArrayType::String, "text[]", S::String(Some("null".into()))),
        FieldType::Bytes => (ArrayType::Bytes, "bytea[]", S::Bytes(Some(Vec::new()))),
    }
}

/// One element, in the carrier's type; `None` for NULL (or a value of another type).
fn element(v: &Value, f: &FieldDef) -> Option<S> {
    Some(match (f.ty, v) {
        (_, Value::Null) => return None,
        (FieldType::Json, Value::Json(j)) => S::String(Some(j.to_string())),
        (FieldType::Array(_), Value::Array(_)) => S::String(Some(v.to_json().to_string())),
        (FieldType::I64, Value::I32(i)) => S::BigInt(Some(i64::from(*i))),
        (ty, v) => {
            let s = v.to_sea(ty, PG, false);
            let (_, _, placeholder) = carrier(ty);
            if std::mem::discriminant(&s) != std::mem::discriminant(&placeholder) {
                return None;
            }
            s
        }
    })
}

/// The SELECT expression that turns the unnested value `v` back into the column's type.
fn select_expr(f: &FieldDef, v: &str, native_arrays: bool) -> String {
    match f.ty {
        FieldType::Array(elem) if native_arrays => {
            let cast = match elem {
                ArrayElem::String => "text",
                ArrayElem::I64 => "bigint",
                ArrayElem::F64 => "double precision",
                ArrayElem::Bool => "boolean",
            };
            format!("ARRAY(SELECT \"e\"::{cast} FROM jsonb_array_elements_text({v}::jsonb) AS \"a\"(\"e\"))")
        }
        FieldType::Json | FieldType::Array(_) => format!("{v}::jsonb"),
        _ => v.to_owned(),
    }
}

/// PostgreSQL only: `INSERT INTO t (cols) SELECT .. FROM UNNEST($1::type[], ..)` — one bind per
/// column (plus one NULL mask per nullable column and one bind per distinct managed value),
/// independent of the number of rows. Native-array fields need `native_arrays` on the schema;
/// without it arrays are stored as JSONB, like [`super::insert`] does.
pub fn insert_unnest(schema: &ModelSchema, rows: &Rows, scope: Scope) -> Sql {
    let cols = InsertColumns::new(schema, PG, rows, scope);
    let native = schema.options.native_arrays;
    let mut values: Vec<S> = Vec::new();
    let mut unnest_args: Vec<String> = Vec::new();
    let mut aliases: Vec<String> = Vec::new();
    let mut select: Vec<String> = Vec::new();
    for (k, (i, f)) in cols.user.iter().enumerate() {
        let (at, cast, placeholder) = carrier(f.ty);
        let elems: Vec<Option<S>> = rows.rows.iter().map(|r| r.get(*i).and_then(|v| element(v, f))).collect();
        let masked = f.nullable || elems.iter().any(Option::is_none);
        // The NULL mask first, so the elements can move into their array (no second copy).
        let mask: Option<Vec<S>> = masked.then(|| elems.iter().map(|e| S::Bool(Some(e.is_none()))).collect());
        let v = quote(PG, &format!("v{k}"));
        values.push(S::Array(
            at,
            Some(Box::new(elems.into_iter().map(|e| e.unwrap_or_else(|| placeholder.clone())).collect())),
        ));
        unnest_args.push(format!("${}::{cast}", values.len()));
        aliases.push(v.clone());
        let mut expr = select_expr(f, &v, native);
        if let Some(mask) = mask {
            let n = quote(PG, &format!("n{k}"));
            values.push(S::Array(ArrayType::Bool, Some(Box::new(mask))));
            unnest_args.push(format!("${}::boolean[]", values.len()));
            aliases.push(n.clone());
            expr = format!("CASE WHEN {n} THEN NULL ELSE {expr} END");
        }
        select.push(expr);
    }
    let mut now_param: Option<usize> = None;
    for (m, v) in &cols.managed {
        let p = match m {
            ManagedField::CreatedAt | ManagedField::UpdatedAt => *now_param.get_or_insert_with(|| {
                values.push(v.clone());
                values.len()
            }),
            _ => {
                values.push(v.clone());
                values.len()
            }
        };
        let cast = if matches!(m, ManagedField::TenantId) { "text" } else { "timestamptz" };
        select.push(format!("${p}::{cast}"));
    }
    let names: Vec<String> = cols.names().iter().map(|c| quote(PG, c)).collect();
    let mut sql =
        format!("INSERT INTO {} ({}) SELECT {}", quote(PG, &schema.table), names.join(", "), select.join(", "));
    if unnest_args.is_empty() {
        // Only managed columns: one row per input row all the same.
        values.push(S::BigInt(Some(i64::try_from(rows.rows.len()).unwrap_or(i64::MAX))));
        sql.push_str(&format!(" FROM generate_series(1, ${}::bigint)", values.len()));
    } else {
        sql.push_str(&format!(" FROM UNNEST({}) AS \"u\"({})", unnest_args.join(", "), aliases.join(", ")));
    }
    Sql { sql, values: sea_query::Values(values) }
}

/// [`insert_unnest`] followed by `RETURNING <select_columns>` (the stored rows, in input order).
pub fn insert_unnest_returning(schema: &ModelSchema, rows: &Rows, scope: Scope) -> Sql {
    let mut sql = insert_unnest(schema, rows, scope);
    let cols: Vec<String> = super::select_columns(schema, None).iter().map(|f| quote(PG, f.column())).collect();
    sql.sql.push_str(" RETURNING ");
    sql.sql.push_str(&cols.join(", "));
    sql
}

/// [`insert_unnest`] followed by `RETURNING "id"` (the ids of the stored rows, in input order).
pub fn insert_unnest_returning_id(schema: &ModelSchema, rows: &Rows, scope: Scope) -> Sql {
    let mut sql = insert_unnest(schema, rows, scope);
    sql.sql.push_str(" RETURNING ");
    sql.sql.push_str(&quote(PG, "id"));
    sql
}
