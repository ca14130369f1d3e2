//! Key conditions the operations combine with filters: `id = ?`, `id IN (...)` and the
//! conjunction of a conflict key's `field = ?` / `field IS NULL`.

use sea_query::{Alias, Condition, Expr, ExprTrait};

use crate::{Dialect, FieldDef, ModelSchema, Value};

fn bind(schema: &ModelSchema, dialect: Dialect, f: &FieldDef, v: &Value) -> sea_query::Value {
    v.to_sea(f.ty, dialect, schema.options.native_arrays)
}

/// `<field> = ?`
pub fn eq(schema: &ModelSchema, dialect: Dialect, f: &FieldDef, v: &Value) -> Condition {
    Condition::all().add(Expr::col(Alias::new(f.column())).eq(bind(schema, dialect, f, v)))
}

/// `<field> IN (?, ...)`
pub fn is_in(schema: &ModelSchema, dialect: Dialect, f: &FieldDef, vs: &[Value]) -> Condition {
    Condition::all().add(Expr::col(Alias::new(f.column())).is_in(vs.iter().map(|v| bind(schema, dialect, f, v))))
}

/// The conjunction of `field = ?` (`field IS NULL` for a null value) over `pairs`.
pub fn eq_all(schema: &ModelSchema, dialect: Dialect, pairs: &[(&FieldDef, &Value)]) -> Condition {
    let mut c = Condition::all();
    for (f, v) in pairs {
        c = c.add(if v.is_null() {
            Expr::col(Alias::new(f.column())).is_null()
        } else {
            Expr::col(Alias::new(f.column())).eq(bind(schema, dialect, f, v))
        });
    }
    c
}
