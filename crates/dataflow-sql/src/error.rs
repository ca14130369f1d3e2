//! The one DataFlow error type, with stable `DF-xxx` codes.
//!
//! Ranges: 1xx parameters, 2xx connections, 3xx migrations, 4xx configuration, 5xx runtime,
//! 6xx models, 7xx nodes, 8xx workflows, 9xx validation. Every error names what it concerns
//! (model, field, node, operator), says why, and carries at least one fix.

pub mod catalogue;

use std::fmt;

/// A stable error code, displayed as `DF-101`.
///
/// Opaque: a code is one of the associated constants (every code is in the catalogue).
/// Use [`ErrorCode::as_str`] (`"DF-101"`) or [`ErrorCode::number`] (`101`) to show or store it,
/// [`ErrorCode::from_number`] to read one back, and [`ErrorCode::kind`] to match on its kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(u16);

/// What kind of failure an error is: the cases callers commonly handle, coarser than
/// [`ErrorCode`]. New kinds may be added, so a `match` needs a `_` arm.
///
/// ```
/// use dataflow_sql::{Error, ErrorCode, ErrorKind};
/// let e = Error::new(ErrorCode::NOT_FOUND, "no `User` with id `u1`");
/// match e.kind() {
///     ErrorKind::NotFound => {}
///     _ => unreachable!(),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The record does not exist (DF-703).
    NotFound,
    /// A unique constraint was violated (DF-501).
    UniqueViolation,
    /// Another constraint was violated: foreign key, NOT NULL, CHECK (DF-502..DF-504).
    Constraint,
    /// The transaction lost a race (serialization failure, deadlock); retrying may succeed (DF-505, DF-506).
    Conflict,
    /// The input was rejected before any SQL ran: parameters, filters, tenant, protection (DF-1xx, DF-605,
    /// DF-608, DF-609, DF-901, DF-902).
    Validation,
    /// The database could not be reached, the connection was lost, the pool timed out or the instance is
    /// closed (DF-401, DF-403, DF-404, DF-507, DF-508).
    Connection,
    /// A migration needs approval, failed, timed out on the lock or the live schema differs (DF-3xx).
    Migration,
    /// The model definition or its options are invalid or unsupported (DF-402, DF-6xx).
    Model,
    /// A workflow, its nodes or their connections are invalid or failed (DF-2xx, DF-7xx, DF-8xx).
    Workflow,
    /// Any other database error, a stored value that could not be decoded, or a missing table
    /// (DF-509, DF-510, DF-511).
    Database,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $num:literal, $kind:ident, $title:literal;)*) => {
        impl ErrorCode {
            $($(#[$doc])* pub const $name: ErrorCode = ErrorCode($num);)*

            /// Every code the project uses, in numeric order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode($num)),*];

            /// The code for a number (`101`), or `None` for a number that is not a DataFlow code.
            pub const fn from_number(n: u16) -> Option<ErrorCode> {
                match n {
                    $($num => Some(ErrorCode($num)),)*
                    _ => None,
                }
            }

            /// The code as text: `"DF-101"`.
            pub const fn as_str(self) -> &'static str {
                match self.0 {
                    $($num => concat!("DF-", stringify!($num)),)*
                    _ => "DF-???",
                }
            }

            /// A short title for the code.
            pub const fn title(self) -> Option<&'static str> {
                match self.0 {
                    $($num => Some($title),)*
                    _ => None,
                }
            }

            /// The kind of failure this code is.
            pub const fn kind(self) -> ErrorKind {
                match self.0 {
                    $($num => ErrorKind::$kind,)*
                    _ => ErrorKind::Database,
                }
            }
        }
    };
}

impl ErrorCode {
    /// The number of the code: `101` for `DF-101`.
    pub const fn number(self) -> u16 {
        self.0
    }
}

codes! {
    /// A required field or parameter is missing.
    MISSING_FIELD = 101, Validation, "Missing required field";
    /// A value does not fit the field's type.
    WRONG_TYPE = 102, Validation, "Value has the wrong type";
    /// A field name is not in the model.
    UNKNOWN_FIELD = 103, Validation, "Unknown field";
    /// An operator is not a filter operator, or does not apply to the field's type.
    UNKNOWN_OPERATOR = 104, Validation, "Unknown or inapplicable filter operator";
    /// A filter is malformed (empty `$and`, `$in` with a non-list, ...).
    INVALID_FILTER = 105, Validation, "Malformed filter";
    /// `order_by`, `limit`, `offset` or a cursor is invalid.
    INVALID_PAGINATION = 106, Validation, "Invalid ordering or pagination";
    /// Parameters have the wrong shape for the operation.
    WRONG_SHAPE = 107, Validation, "Parameters have the wrong shape";
    /// A destructive bulk operation's filter matches every possible record (or, with the full-table
    /// guard, every current record) and `confirmed: true` is missing.
    UNCONFIRMED_DESTRUCTIVE = 108, Validation, "Destructive operation needs confirmation";
    /// A parameter value is out of range or otherwise invalid.
    INVALID_PARAMETER = 109, Validation, "Invalid parameter";
    /// A connection references a node that does not exist.
    CONNECTION_UNKNOWN_NODE = 201, Workflow, "Connection references an unknown node";
    /// A connection's source output path does not exist.
    CONNECTION_BAD_OUTPUT = 202, Workflow, "Connection output path does not exist";
    /// A connection's types are incompatible.
    CONNECTION_TYPE_MISMATCH = 203, Workflow, "Connection types are incompatible";
    /// A node is connected to itself.
    CONNECTION_SELF = 204, Workflow, "Node connected to itself";
    /// One input parameter is supplied by two connections.
    CONNECTION_DUPLICATE_INPUT = 205, Workflow, "Input supplied twice";
    /// A migration step was not applied automatically because of its risk.
    MIGRATION_NEEDS_APPROVAL = 301, Migration, "Migration needs explicit approval";
    /// A migration failed while applying.
    MIGRATION_FAILED = 302, Migration, "Migration failed";
    /// The migration lock could not be acquired in time.
    MIGRATION_LOCK_TIMEOUT = 303, Migration, "Migration lock timeout";
    /// The live table does not match the model (existing_schema_mode).
    SCHEMA_MISMATCH = 304, Migration, "Live schema does not match the model";
    /// The connection URL is invalid or names an unsupported backend.
    INVALID_URL = 401, Connection, "Invalid database URL";
    /// A model option is not supported on this backend.
    UNSUPPORTED_ON_BACKEND = 402, Model, "Option not supported on this backend";
    /// The database could not be reached.
    CONNECTION_FAILED = 403, Connection, "Could not connect to the database";
    /// The instance was closed.
    CLOSED = 404, Connection, "DataFlow instance is closed";
    /// A configuration value (an environment variable such as `DATAFLOW_POOL_SIZE`) is invalid.
    INVALID_CONFIG = 405, Connection, "Invalid configuration value";
    /// A unique constraint was violated.
    UNIQUE_VIOLATION = 501, UniqueViolation, "Unique constraint violated";
    /// A foreign key constraint was violated.
    FOREIGN_KEY_VIOLATION = 502, Constraint, "Foreign key constraint violated";
    /// A NOT NULL constraint was violated.
    NOT_NULL_VIOLATION = 503, Constraint, "NOT NULL constraint violated";
    /// A CHECK constraint was violated.
    CHECK_VIOLATION = 504, Constraint, "CHECK constraint violated";
    /// The transaction could not be serialized; retry it.
    SERIALIZATION_FAILURE = 505, Conflict, "Serialization failure";
    /// The transaction was chosen as a deadlock victim; retry it.
    DEADLOCK = 506, Conflict, "Deadlock detected";
    /// The connection to the database was lost.
    CONNECTION_LOST = 507, Connection, "Connection lost";
    /// No connection became free within the acquire timeout.
    POOL_TIMEOUT = 508, Connection, "Connection pool timeout";
    /// Any other database error.
    DATABASE = 509, Database, "Database error";
    /// A stored value could not be decoded into the model's type.
    DECODE = 510, Database, "Could not decode a stored value";
    /// The connection was lost while a write was being committed: it may or may not have been applied.
    COMMIT_OUTCOME_UNKNOWN = 511, Connection, "Commit outcome unknown";
    /// The table (or relation) the statement names does not exist in the database.
    TABLE_NOT_FOUND = 512, Database, "Table does not exist";
    /// An identifier (table, column, index) is invalid.
    INVALID_IDENTIFIER = 601, Model, "Invalid identifier";
    /// The model definition is invalid.
    INVALID_MODEL = 602, Model, "Invalid model definition";
    /// The model name is already registered on this instance.
    DUPLICATE_MODEL = 603, Model, "Model already registered";
    /// The model is not registered on this instance.
    UNKNOWN_MODEL = 604, Model, "Model not registered";
    /// The model is append-only and refuses this operation.
    APPEND_ONLY = 605, Validation, "Append-only model refuses the operation";
    /// The model's options conflict.
    CONFLICTING_OPTIONS = 606, Model, "Conflicting model options";
    /// An upsert's conflict target is not a unique key.
    CONFLICT_TARGET_NOT_UNIQUE = 607, Model, "Conflict target is not a unique key";
    /// A multi-tenant model was used without a tenant.
    MISSING_TENANT = 608, Validation, "Multi-tenant model used without a tenant";
    /// A write was blocked by read-only protection.
    WRITE_PROTECTED = 609, Validation, "Write blocked by read-only protection";
    /// A tenant name is empty, too long, padded with whitespace or holds control characters.
    INVALID_TENANT = 613, Validation, "Invalid tenant name";
    /// A tenant was used where it does not apply: on a model that is not multi-tenant, as a
    /// switch inside a transaction bound to another tenant, or as `tenant_id` in user data.
    TENANT_MISUSE = 614, Validation, "Tenant used where it does not apply";
    /// `multi_tenant` was turned on for a table with rows and no owner tenant was given.
    TENANT_OWNER_REQUIRED = 615, Migration, "Existing rows need an owner tenant";
    /// The node type is not registered.
    UNKNOWN_NODE_TYPE = 701, Workflow, "Unknown node type";
    /// The node's parameters are invalid.
    INVALID_NODE_PARAMS = 702, Workflow, "Invalid node parameters";
    /// The record was not found.
    NOT_FOUND = 703, NotFound, "Record not found";
    /// The workflow graph contains a cycle.
    WORKFLOW_CYCLE = 801, Workflow, "Workflow contains a cycle";
    /// A node in the workflow is unreachable or its inputs are never supplied.
    WORKFLOW_UNREACHABLE = 802, Workflow, "Unreachable node or unsupplied input";
    /// A workflow node failed during execution.
    WORKFLOW_NODE_FAILED = 803, Workflow, "Workflow node failed";
    /// A workflow file could not be read or parsed.
    WORKFLOW_FILE = 804, Workflow, "Invalid workflow file";
    /// A duplicate node id in a workflow.
    DUPLICATE_NODE_ID = 805, Workflow, "Duplicate node id";
    /// A template `${node.path}` could not be resolved.
    TEMPLATE = 806, Workflow, "Unresolvable template";
    /// A code node (Rust code registered on the catalog) failed or broke its declared outputs.
    CODE_NODE_FAILED = 807, Workflow, "Code node failed";
    /// A workflow input is missing, unknown, or of the wrong type.
    WORKFLOW_INPUT = 808, Workflow, "Invalid workflow input";
    /// A scripted node's script does not compile, fails, or exceeds a sandbox limit.
    SCRIPT = 809, Workflow, "Script error";
    /// Validation failed (several errors collected).
    VALIDATION = 901, Validation, "Validation failed";
    /// An Update was given flat fields instead of `filter` + `fields`.
    UPDATE_SHAPE = 902, Validation, "Update needs `filter` and `fields`";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an error happened: the model, field, node and operator it concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The model's name.
    pub model: Option<String>,
    /// The field or parameter name.
    pub field: Option<String>,
    /// The workflow node id.
    pub node: Option<String>,
    /// The filter operator or operation.
    pub operator: Option<String>,
}

/// The DataFlow error: a code, a message, its context, fixes and an optional source.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    code: ErrorCode,
    message: String,
    context: Context,
    fixes: Vec<String>,
    related: Vec<Error>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `Result<T, dataflow::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with a code and a message that says what happened and why.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                code,
                message: message.into(),
                context: Context::default(),
                fixes: Vec::new(),
                related: Vec::new(),
                source: None,
            }),
        }
    }

    /// Sets the model this error concerns.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.inner.context.model = Some(model.into());
        self
    }

    /// Sets the field (or parameter) this error concerns.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.inner.context.field = Some(field.into());
        self
    }

    /// Sets the workflow node this error concerns.
    pub fn node(mut self, node: impl Into<String>) -> Self {
        self.inner.context.node = Some(node.into());
        self
    }

    /// Sets the operator or operation this error concerns.
    pub fn operator(mut self, operator: impl Into<String>) -> Self {
        self.inner.context.operator = Some(operator.into());
        self
    }

    /// Adds a fix (how to correct the mistake, ideally with example code).
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.inner.fixes.push(fix.into());
        self
    }

    /// Attaches the underlying cause (returned by [`std::error::Error::source`]).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Box::new(source));
        self
    }

    /// Wraps several errors (collect-all validation) into one `DF-901` error.
    pub fn collected(errors: Vec<Error>) -> Self {
        let mut e = Error::new(ErrorCode::VALIDATION, format!("{} validation error(s)", errors.len()));
        e.inner.related = errors;
        e
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.inner.code
    }

    /// The kind of failure, for `match`ing the common cases.
    pub fn kind(&self) -> ErrorKind {
        self.inner.code.kind()
    }

    /// The message (without code and context).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The context: model, field, node, operator.
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    /// The suggested fixes, best first.
    pub fn fixes(&self) -> &[String] {
        &self.inner.fixes
    }

    /// Errors collected under this one (collect-all validation).
    pub fn related(&self) -> &[Error] {
        &self.inner.related
    }

    /// Fills in the model if the error does not name one yet.
    pub fn or_model(mut self, model: &str) -> Self {
        if self.inner.context.model.is_none() {
            self.inner.context.model = Some(model.to_owned());
        }
        self
    }

    /// Fills in the node if the error does not name one yet.
    pub fn or_node(mut self, node: &str) -> Self {
        if self.inner.context.node.is_none() {
            self.inner.context.node = Some(node.to_owned());
        }
        self
    }
}

/// One line: `[DF-103] message (model `User`, field `emial`)`, then the collected errors after
/// `: `, separated by `; `. The alternate form (`{:#}`) adds the first fix and puts each collected
/// error on its own line; [`Error::long_form`] adds every fix and the code's catalogue entry.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        write!(f, "[{}] {}", i.code, i.message)?;
        let c = &i.context;
        let mut parts = Vec::new();
        if let Some(m) = &c.model {
            parts.push(format!("model `{m}`"));
        }
        if let Some(x) = &c.field {
            parts.push(format!("field `{x}`"));
        }
        if let Some(x) = &c.operator {
            parts.push(format!("operator `{x}`"));
        }
        if let Some(x) = &c.node {
            parts.push(format!("node `{x}`"));
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        if f.alternate() {
            if let Some(fix) = i.fixes.first() {
                write!(f, "\n  fix: {fix}")?;
            }
            for r in &i.related {
                write!(f, "\n  - {}", format!("{r:#}").replace('\n', "\n    "))?;
            }
        } else {
            for (n, r) in i.related.iter().enumerate() {
                f.write_str(if n == 0 { ": " } else { "; " })?;
                fmt::Display::fmt(r, f)?;
            }
        }
        Ok(())
    }
}

/// The structure: code, kind, message, context, fixes, collected errors and source.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("code", &i.code).field("kind", &i.code.kind()).field("message", &i.message);
        if i.context != Context::default() {
            d.field("context", &i.context);
        }
        if !i.fixes.is_empty() {
            d.field("fixes", &i.fixes);
        }
        if !i.related.is_empty() {
            d.field("related", &i.related);
        }
        if let Some(s) = &i.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// The closest candidate to `name` by edit distance, for "did you mean" hints.
pub use dataflow_naming::closest;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_code_context_and_fix() {
        let e = Error::new(ErrorCode::UNKNOWN_FIELD, "unknown field `emial`")
            .model("User")
            .field("emial")
            .fix("did you mean `email`?");
        let s = e.to_string();
        assert!(s.starts_with("[DF-103] unknown field `emial`"), "{s}");
        assert!(s.contains("model `User`") && !s.contains('\n'), "{s}");
        let long = format!("{e:#}");
        assert!(long.contains("\n  fix: did you mean `email`?"), "{long}");
        let d = format!("{e:?}");
        assert!(d.starts_with("Error { code: DF-103, kind: Validation, message:"), "{d}");
        let all = Error::collected(vec![e, Error::new(ErrorCode::MISSING_FIELD, "b")]);
        assert_eq!(all.kind(), ErrorKind::Validation);
        assert!(!all.to_string().contains('\n') && all.to_string().contains("; [DF-101] b"), "{all}");
    }

    #[test]
    fn closest_finds_typos_and_rejects_noise() {
        assert_eq!(closest("emial", ["name", "email", "age"]), Some("email"));
        assert_eq!(closest("zzzzzzzz", ["name", "email"]), None);
        assert_eq!(ErrorCode::NOT_FOUND.to_string(), "DF-703");
        assert_eq!(ErrorCode::from_number(703).and_then(ErrorCode::title), Some("Record not found"));
        assert_eq!(ErrorCode::NOT_FOUND.as_str(), "DF-703");
        assert_eq!(ErrorCode::NOT_FOUND.number(), 703);
        assert_eq!(ErrorCode::from_number(999), None);
        for c in ErrorCode::ALL {
            assert_eq!(c.as_str(), format!("DF-{:03}", c.number()));
        }
    }
}
