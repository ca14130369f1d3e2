//! The soft-delete and tenant scope: the ONE place where these predicates are built.
//!
//! Every statement that reads or changes existing rows (`select`, `select_by_id`, `count`,
//! `update`, `delete`, `soft_delete`, `restore`) combines its condition with [`where_clause`],
//! and every insert stamps `tenant_id` through `tenant_value`.
//!
//! The audit trail's model (`AuditEntry`, [`crate::audit::is_audit_log`]) is scoped by its
//! `tenant` field: a scope with a tenant sees only that tenant's audit rows, a scope without one
//! only the rows of writes made without a tenant. Only [`Scope::all_tenants`] lifts the tenant
//! predicates (the runtime's explicit admin handle, `db.all_tenants()`).

use sea_query::{Alias, Condition, Expr, ExprTrait};

#[cfg(test)]
use crate::Dialect;
use crate::ModelSchema;
use crate::error::Result;
use crate::schema::ManagedField;

/// Soft-delete and tenant predicates for one statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope<'a> {
    /// Include soft-deleted rows (`deleted_at IS NOT NULL`). Ignored for models without
    /// `soft_delete`.
    pub include_deleted: bool,
    /// The tenant of a `multi_tenant` model. Ignored for other models. A multi-tenant model
    /// without a tenant fails closed: reads match nothing and inserts write NULL (rejected by the
    /// NOT NULL column); call [`check`] first to get a proper DF-608 error.
    pub tenant: Option<&'a str>,
    /// Every tenant's rows: no tenant predicate at all (multi-tenant models and the audit trail).
    /// Set only by the explicit cross-tenant admin handle; inserts are refused before SQL there.
    pub all_tenants: bool,
}

impl<'a> Scope<'a> {
    /// Scope for a tenant.
    pub fn tenant(tenant: &'a str) -> Self {
        Scope { include_deleted: false, tenant: Some(tenant), all_tenants: false }
    }

    /// Scope over every tenant (no tenant predicate).
    pub fn all_tenants() -> Self {
        Scope { include_deleted: false, tenant: None, all_tenants: true }
    }

    /// This scope, including soft-deleted rows.
    pub fn with_deleted(mut self) -> Self {
        self.include_deleted = true;
        self
    }
}

/// An unqualified column reference. `name` must come from the schema.
pub(crate) fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

/// Fails with DF-608 when a multi-tenant model is used without a tenant, DF-613 for an invalid
/// tenant name and DF-614 for a tenant on a model that is not multi-tenant
/// ([`crate::tenant::check_context`]).
/// A scope over [`Scope::all_tenants`] needs no tenant.
pub fn check(schema: &ModelSchema, scope: Scope) -> Result<()> {
    if scope.all_tenants && scope.tenant.is_none() {
        return Ok(());
    }
    crate::tenant::check_context(schema, scope.tenant)
}

/// The scope predicates alone: `deleted_at IS NULL` (soft-delete models, unless
/// `include_deleted`), `tenant_id = ?` (multi-tenant models) and, on the audit trail,
/// `tenant = ?` or `tenant IS NULL`. Empty when none applies.
pub fn predicates(schema: &ModelSchema, scope: Scope) -> Condition {
    let mut c = Condition::all();
    if scope.all_tenants {
        // The explicit cross-tenant handle: no tenant predicate.
    } else if crate::audit::is_audit_log(schema) {
        let t = col(crate::audit::TENANT_FIELD);
        c = c.add(match scope.tenant {
            Some(v) => t.eq(v),
            None => t.is_null(),
        });
    } else if schema.options.multi_tenant {
        c = match scope.tenant {
            Some(t) => c.add(col(ManagedField::TenantId.column()).eq(t)),
            // Fail closed: no tenant matches nothing.
            None => c.add(Expr::cust("1 = 0")),
        };
    }
    if schema.options.soft_delete && !scope.include_deleted {
        c = c.add(col(ManagedField::DeletedAt.column()).is_null());
    }
    c
}

/// The full WHERE condition of a statement: the caller's condition AND the scope predicates.
pub fn where_clause(schema: &ModelSchema, condition: Option<Condition>, scope: Scope) -> Condition {
    let mut c = Condition::all();
    if let Some(cond) = condition.filter(|c| !c.is_empty()) {
        c = c.add(cond);
    }
    let p = predicates(schema, scope);
    if !p.is_empty() { c.add(p) } else { c }
}

/// The `tenant_id` value stamped on inserts, when the model is multi-tenant.
pub(crate) fn tenant_value(schema: &ModelSchema, scope: Scope) -> Option<sea_query::Value> {
    schema.options.multi_tenant.then(|| sea_query::Value::String(scope.tenant.map(str::to_owned)))
}

/// Renders a scope-only WHERE for tests and diagnostics.
#[cfg(test)]
pub(crate) fn render(schema: &ModelSchema, scope: Scope, dialect: Dialect) -> String {
    let mut q = sea_query::Query::select();
    q.expr(Expr::val(1));
    let p = predicates(schema, scope);
    if !p.is_empty() {
        q.cond_where(p);
    }
    super::Sql::build(&q, dialect).sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FieldDef, FieldType};

    fn schema(soft: bool, tenant: bool) -> ModelSchema {
        let mut s = ModelSchema::new("User", vec![FieldDef::new("id", FieldType::String)]);
        s.options.soft_delete = soft;
        s.options.multi_tenant = tenant;
        s
    }

    #[test]
    fn scope_predicates_depend_on_options() {
        let none = render(&schema(false, false), Scope::default(), Dialect::Postgres);
        assert_eq!(none, "SELECT $1");
        let soft = render(&schema(true, false), Scope::default(), Dialect::Postgres);
        assert_eq!(soft, r#"SELECT $1 WHERE "deleted_at" IS NULL"#);
        let soft_incl = render(&schema(true, false), Scope::default().with_deleted(), Dialect::Postgres);
        assert_eq!(soft_incl, "SELECT $1");
        let both = render(&schema(true, true), Scope::tenant("acme"), Dialect::MySql);
        assert_eq!(both, "SELECT ? WHERE `tenant_id` = ? AND `deleted_at` IS NULL");
        let no_tenant = render(&schema(false, true), Scope::default(), Dialect::Sqlite);
        assert_eq!(no_tenant, "SELECT ? WHERE 1 = 0");
        assert!(check(&schema(false, true), Scope::default()).is_err());
        assert!(check(&schema(false, true), Scope::tenant("t")).is_ok());
        assert!(check(&schema(false, false), Scope::default()).is_ok());
        assert!(check(&schema(false, false), Scope::tenant("t")).is_err());
        let all = render(&schema(true, true), Scope::all_tenants(), Dialect::Postgres);
        assert_eq!(all, r#"SELECT $1 WHERE "deleted_at" IS NULL"#);
        assert!(check(&schema(false, true), Scope::all_tenants()).is_ok());
    }

    #[test]
    fn audit_trail_is_scoped_by_its_tenant_field() {
        let a = crate::audit::schema();
        assert_eq!(render(&a, Scope::tenant("acme"), Dialect::Postgres), r#"SELECT $1 WHERE "tenant" = $2"#);
        assert_eq!(render(&a, Scope::default(), Dialect::MySql), "SELECT ? WHERE `tenant` IS NULL");
        assert_eq!(render(&a, Scope::all_tenants(), Dialect::Sqlite), "SELECT ?");
        assert!(check(&a, Scope::tenant("acme")).is_ok());
        assert!(check(&a, Scope::default()).is_ok());
        assert_eq!(check(&a, Scope::tenant("acme ")).unwrap_err().code(), crate::ErrorCode::INVALID_TENANT);
        // A user model with a `tenant` field is not the audit trail.
        let mut u = ModelSchema::new(
            "Log",
            vec![FieldDef::new("id", FieldType::I64), FieldDef::new("tenant", FieldType::String)],
        );
        u.table = "logs".into();
        assert_eq!(render(&u, Scope::tenant("acme"), Dialect::Postgres), "SELECT $1");
    }
}
