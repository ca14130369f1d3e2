//! Tenant rules that need no database: the tenant-name rule, the checks that a tenant context
//! fits the model, and the refusal of `tenant_id` in user data. The runtime calls these before
//! any SQL (user guide: docs/guide/multi-tenancy.md).
//!
//! The SQL side of tenancy lives where it is built: the `tenant_id = ?` predicate and the
//! stamp on inserts in [`crate::stmt::scope`], the per-tenant unique indexes and the
//! `(tenant_id, id)` primary key in [`crate::ddl`], the per-tenant conflict targets in
//! [`crate::stmt::upsert`].

use crate::error::{Error, ErrorCode, Result};
use crate::schema::{FieldDef, FieldType, ManagedField, ModelSchema};

/// The longest tenant name, in characters (the `tenant_id` column holds 255).
pub const MAX_TENANT_LEN: usize = 128;

/// Checks a tenant name: 1 to [`MAX_TENANT_LEN`] characters, no leading or trailing whitespace,
/// no control characters. DF-613 otherwise.
///
/// ```
/// use dataflow_sql::tenant::validate_name;
/// assert!(validate_name("acme").is_ok());
/// assert!(validate_name("acme ").is_err());
/// assert!(validate_name("").is_err());
/// ```
pub fn validate_name(name: &str) -> Result<()> {
    // Fast path (checked once or twice per operation): printable ASCII, no space at either end.
    let b = name.as_bytes();
    if let (Some(first), Some(last)) = (b.first(), b.last())
        && b.len() <= MAX_TENANT_LEN
        && *first != b' '
        && *last != b' '
        && b.iter().all(|c| c.is_ascii_graphic() || *c == b' ')
    {
        return Ok(());
    }
    match why_invalid(name) {
        None => Ok(()),
        Some(why) => Err(Error::new(ErrorCode::INVALID_TENANT, format!("the tenant name {:?} {why}", shorten(name)))
            .fix(format!(
                "a tenant name is 1 to {MAX_TENANT_LEN} characters, without leading/trailing whitespace or control characters"
            ))
            .fix("check the name where it enters your application, e.g. `db.tenant(name.trim())`")),
    }
}

/// The rule of [`validate_name`] in full: why `name` is not a tenant name, if it is not.
fn why_invalid(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("is empty".to_owned())
    } else if name.chars().count() > MAX_TENANT_LEN {
        Some(format!("is {} characters long (at most {MAX_TENANT_LEN})", name.chars().count()))
    } else if name.trim() != name {
        Some("starts or ends with whitespace".to_owned())
    } else if name.chars().any(char::is_control) {
        Some("contains a control character".to_owned())
    } else {
        None
    }
}

fn shorten(name: &str) -> String {
    if name.chars().count() <= 40 { name.to_owned() } else { name.chars().take(40).collect::<String>() + "…" }
}

/// Checks that `tenant` fits `schema` before any SQL: a multi-tenant model needs one (DF-608),
/// any other model refuses one (DF-614), and the name must be valid (DF-613).
///
/// The audit trail ([`crate::audit::is_audit_log`]) takes a tenant or none: its reads are scoped
/// by its `tenant` field either way.
pub fn check_context(schema: &ModelSchema, tenant: Option<&str>) -> Result<()> {
    if crate::audit::is_audit_log(schema) {
        return tenant.map_or(Ok(()), |t| validate_name(t).map_err(|e| e.model(&schema.name)));
    }
    match (schema.options.multi_tenant, tenant) {
        (true, None) => Err(Error::new(
            ErrorCode::MISSING_TENANT,
            format!("model `{}` is multi-tenant and no tenant is set", schema.name),
        )
        .model(&schema.name)
        .fix("scope the handle to a tenant: `db.tenant(\"acme\")` (in a transaction: `tx.tenant(\"acme\")`)")
        .fix("admin code that must see every tenant: `db.all_tenants()`")),
        (false, Some(t)) => Err(Error::new(
            ErrorCode::TENANT_MISUSE,
            format!("model `{}` is not multi-tenant, but the call is scoped to tenant {t:?}", schema.name),
        )
        .model(&schema.name)
        .fix(format!(
            "call `{}` without `.tenant(..)`, or declare it `#[dataflow::model(multi_tenant)]`",
            schema.name
        ))),
        (true, Some(t)) => validate_name(t).map_err(|e| e.model(&schema.name)),
        (false, None) => Ok(()),
    }
}

/// DF-614 for a tenant switch inside a transaction bound to another tenant.
pub fn switch_error(bound: &str, wanted: &str) -> Error {
    Error::new(
        ErrorCode::TENANT_MISUSE,
        format!("the transaction is bound to tenant {bound:?} and cannot switch to {wanted:?}"),
    )
    .fix("open one transaction per tenant: `db.tenant(\"b\").transaction(..)`")
}

/// DF-614 when a write names `tenant_id` of a multi-tenant model in its data (`key` is the
/// offending key, e.g. `tenant_id` or `$set.tenant_id`). The tenant is stamped from the
/// context, never taken from data.
pub fn tenant_in_data(schema: &ModelSchema, key: &str) -> Error {
    Error::new(
        ErrorCode::TENANT_MISUSE,
        format!(
            "`{key}` in the data of a write to `{}`: the tenant comes from the context, not from data",
            schema.name
        ),
    )
    .model(&schema.name)
    .field(ManagedField::TenantId.column())
    .fix("remove `tenant_id` from the data and scope the handle: `db.tenant(\"acme\")`")
}

/// Refuses `tenant_id` among the top-level keys of a write's data, or inside an update operator
/// (`{"$set": {"tenant_id": ..}}`), on a multi-tenant model.
pub fn reject_in_data(schema: &ModelSchema, data: &serde_json::Value) -> Result<()> {
    if !schema.options.multi_tenant {
        return Ok(());
    }
    let Some(obj) = data.as_object() else { return Ok(()) };
    let col = ManagedField::TenantId.column();
    for (k, v) in obj {
        if k == col {
            return Err(tenant_in_data(schema, k));
        }
        if k.starts_with('$') && v.as_object().is_some_and(|o| o.contains_key(col)) {
            return Err(tenant_in_data(schema, &format!("{k}.{col}")));
        }
    }
    Ok(())
}

/// Whether the model's primary key is `(tenant_id, id)`: multi-tenant models whose ids are
/// chosen by the application or generated as UUIDs (String, Uuid). Such ids are per tenant:
/// tenant A can hold `"x"` while tenant B holds `"x"`.
pub fn tenant_primary_key(schema: &ModelSchema) -> bool {
    schema.options.multi_tenant && schema.id_field().is_some_and(|f| !db_generated(f))
}

/// Whether the table's primary key is `(tenant_id, id)` on `dialect`: always when ids are per
/// tenant ([`tenant_primary_key`]), and on MySQL/MariaDB also for multi-tenant models with
/// database-generated integer ids. There the ids stay table-wide (one `AUTO_INCREMENT`, kept
/// unique by the managed `UNIQUE (id)` index, which `AUTO_INCREMENT` also needs), but InnoDB
/// stores rows in primary-key order, so with the key `(tenant_id, id)` a tenant's rows are one
/// contiguous range: a scoped `ORDER BY id` list reads them in place instead of looking each row
/// up through a secondary index (docs/guide/multi-tenancy.md, "Cost").
pub fn tenant_keyed(schema: &ModelSchema, dialect: crate::Dialect) -> bool {
    tenant_primary_key(schema) || clustered_generated(schema, dialect)
}

/// The MySQL/MariaDB case of [`tenant_keyed`] alone: a multi-tenant model with
/// database-generated integer ids whose key is `(tenant_id, id)` only for row order.
pub fn clustered_generated(schema: &ModelSchema, dialect: crate::Dialect) -> bool {
    dialect == crate::Dialect::MySql && schema.options.multi_tenant && schema.id_field().is_some_and(db_generated)
}

/// Whether `id` is generated by the database (integer ids). On multi-tenant models such ids come
/// from one table-wide sequence, so a client may not choose them (see [`chosen_generated_id`]).
pub fn db_generated(id: &FieldDef) -> bool {
    matches!(id.ty, FieldType::I32 | FieldType::I64)
}

/// DF-614 when a write to a multi-tenant model with database-generated integer ids supplies the
/// id itself: such ids are global, so accepting a chosen id would reveal whether another tenant
/// holds it.
pub fn chosen_generated_id(schema: &ModelSchema, op: &str) -> Error {
    Error::new(
        ErrorCode::TENANT_MISUSE,
        format!("model `{}` is multi-tenant with database-generated integer ids; {op} cannot choose `id`", schema.name),
    )
    .model(&schema.name)
    .field("id")
    .operator(op)
    .fix("leave `id` out: the database generates it")
    .fix("to choose ids per tenant, declare `id` as String or Uuid (the key is then `(tenant_id, id)`)")
    .fix("to upsert, use a unique field as `conflict_on` (unique keys are per tenant)")
}

/// DF-614 when the cross-tenant handle (`db.all_tenants()`) addresses a record by id on a model
/// whose ids are per tenant ([`tenant_primary_key`]): the id may name a record in several tenants.
pub fn ambiguous_id(schema: &ModelSchema, op: &str) -> Error {
    Error::new(
        ErrorCode::TENANT_MISUSE,
        format!(
            "{op} by id of `{}` through `db.all_tenants()`: ids of this model are per tenant, so one id may name several records",
            schema.name
        ),
    )
    .model(&schema.name)
    .field("id")
    .operator(op)
    .fix("list them instead: `db.all_tenants().list_json(..)` with `{\"filter\": {\"id\": ..}}` (each record carries `tenant_id`)")
    .fix("or read through the owning tenant: `db.tenant(\"acme\").read(..)`")
}

/// `UPDATE <table> SET tenant_id = ? WHERE tenant_id IS NULL`: gives the rows that existed
/// before `multi_tenant` was turned on to their owner tenant (the owner is bound, never inlined).
pub fn stamp_owner(schema: &ModelSchema, dialect: crate::Dialect, owner: &str) -> crate::stmt::Sql {
    use sea_query::{Alias, Expr, ExprTrait, Query};
    let col = ManagedField::TenantId.column();
    let mut q = Query::update();
    q.table(Alias::new(schema.table.as_str()))
        .value(Alias::new(col), owner)
        .and_where(Expr::col(Alias::new(col)).is_null());
    crate::stmt::Sql::build(&q, dialect)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        for ok in ["acme", "a", "Ünïcode corp", &"x".repeat(MAX_TENANT_LEN)] {
            assert!(validate_name(ok).is_ok(), "{ok:?}");
        }
        for bad in ["", " ", "acme ", " acme", "acme\t", "ac\u{0}me", "a\nb", &"x".repeat(MAX_TENANT_LEN + 1)] {
            let e = validate_name(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::INVALID_TENANT, "{bad:?}");
        }
    }

    proptest::proptest! {
        /// The ASCII fast path of `validate_name` decides as the full rule does.
        #[test]
        fn fast_path_agrees_with_the_rule(name in "[ -~\t\n\u{0}\u{a0}é]{0,300}") {
            proptest::prop_assert_eq!(validate_name(&name).is_ok(), why_invalid(&name).is_none(), "{:?}", name);
        }
    }

    #[test]
    fn context_fits_model() {
        let mut s = ModelSchema::new("Order", vec![FieldDef::new("id", FieldType::String)]);
        assert!(check_context(&s, None).is_ok());
        assert_eq!(check_context(&s, Some("a")).unwrap_err().code(), ErrorCode::TENANT_MISUSE);
        s.options.multi_tenant = true;
        assert_eq!(check_context(&s, None).unwrap_err().code(), ErrorCode::MISSING_TENANT);
        assert!(format!("{:#}", check_context(&s, None).unwrap_err()).contains("db.tenant(\"acme\")"));
        assert_eq!(check_context(&s, Some("a ")).unwrap_err().code(), ErrorCode::INVALID_TENANT);
        assert!(check_context(&s, Some("a")).is_ok());
        assert!(tenant_primary_key(&s));
        assert!(reject_in_data(&s, &json!({"id": "x", "tenant_id": "b"})).is_err());
        assert!(reject_in_data(&s, &json!({"$set": {"tenant_id": "b"}})).is_err());
        assert!(reject_in_data(&s, &json!({"id": "x"})).is_ok());
        let st = stamp_owner(&s, crate::Dialect::Postgres, "acme");
        assert_eq!(st.sql, r#"UPDATE "orders" SET "tenant_id" = $1 WHERE "tenant_id" IS NULL"#);
    }
}
