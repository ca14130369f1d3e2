//! The one DataFlow error type, with stable `DF-xxx` codes.
//!
//! Ranges: 1xx parameters, 2xx connections, 3xx migrations, 4xx configuration, 5xx runtime,
//! 6xx models, 7xx nodes, 8xx workflows, 9xx validation. Every error names what it concerns
//! (model, field, node, operator), says why, and carries at least one fix.

pub mod catalogue;

use std::fmt;

/// A stable error code, displayed as `DF-101`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u16);

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $num:literal, $title:literal;)*) => {
        impl ErrorCode {
            $($(#[$doc])* pub const $name: ErrorCode = ErrorCode($num);)*

            /// Every code the project uses, in numeric order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode($num)),*];

            /// A short title for the code, or `None` for a code that is not in the catalogue.
            pub fn title(self) -> Option<&'static str> {
                match self.0 {
                    $($num => Some($title),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// A required field or parameter is missing.
    MISSING_FIELD = 101, "Missing required field";
    /// A value does not fit the field's type.
    WRONG_TYPE = 102, "Value has the wrong type";
    /// A field name is not in the model.
    UNKNOWN_FIELD = 103, "Unknown field";
    /// An operator is not a filter operator, or does not apply to the field's type.
    UNKNOWN_OPERATOR = 104, "Unknown or inapplicable filter operator";
    /// A filter is malformed (empty `$and`, `$in` with a non-list, ...).
    INVALID_FILTER = 105, "Malformed filter";
    /// `order_by`, `limit`, `offset` or a cursor is invalid.
    INVALID_PAGINATION = 106, "Invalid ordering or pagination";
    /// Parameters have the wrong shape for the operation.
    WRONG_SHAPE = 107, "Parameters have the wrong shape";
    /// A destructive bulk operation has an empty filter and no `confirmed: true`.
    UNCONFIRMED_DESTRUCTIVE = 108, "Destructive operation needs confirmation";
    /// A parameter value is out of range or otherwise invalid.
    INVALID_PARAMETER = 109, "Invalid parameter";
    /// A connection references a node that does not exist.
    CONNECTION_UNKNOWN_NODE = 201, "Connection references an unknown node";
    /// A connection's source output path does not exist.
    CONNECTION_BAD_OUTPUT = 202, "Connection output path does not exist";
    /// A connection's types are incompatible.
    CONNECTION_TYPE_MISMATCH = 203, "Connection types are incompatible";
    /// A node is connected to itself.
    CONNECTION_SELF = 204, "Node connected to itself";
    /// One input parameter is supplied by two connections.
    CONNECTION_DUPLICATE_INPUT = 205, "Input supplied twice";
    /// A migration step was not applied automatically because of its risk.
    MIGRATION_NEEDS_APPROVAL = 301, "Migration needs explicit approval";
    /// A migration failed while applying.
    MIGRATION_FAILED = 302, "Migration failed";
    /// The migration lock could not be acquired in time.
    MIGRATION_LOCK_TIMEOUT = 303, "Migration lock timeout";
    /// The live table does not match the model (existing_schema_mode).
    SCHEMA_MISMATCH = 304, "Live schema does not match the model";
    /// The connection URL is invalid or names an unsupported backend.
    INVALID_URL = 401, "Invalid database URL";
    /// A model option is not supported on this backend.
    UNSUPPORTED_ON_BACKEND = 402, "Option not supported on this backend";
    /// The database could not be reached.
    CONNECTION_FAILED = 403, "Could not connect to the database";
    /// The instance was closed.
    CLOSED = 404, "DataFlow instance is closed";
    /// A configuration value (an environment variable such as `DATAFLOW_POOL_SIZE`) is invalid.
    INVALID_CONFIG = 405, "Invalid configuration value";
    /// A unique constraint was violated.
    UNIQUE_VIOLATION = 501, "Unique constraint violated";
    /// A foreign key constraint was violated.
    FOREIGN_KEY_VIOLATION = 502, "Foreign key constraint violated";
    /// A NOT NULL constraint was violated.
    NOT_NULL_VIOLATION = 503, "NOT NULL constraint violated";
    /// A CHECK constraint was violated.
    CHECK_VIOLATION = 504, "CHECK constraint violated";
    /// The transaction could not be serialized; retry it.
    SERIALIZATION_FAILURE = 505, "Serialization failure";
    /// The transaction was chosen as a deadlock victim; retry it.
    DEADLOCK = 506, "Deadlock detected";
    /// The connection to the database was lost.
    CONNECTION_LOST = 507, "Connection lost";
    /// No connection became free within the acquire timeout.
    POOL_TIMEOUT = 508, "Connection pool timeout";
    /// Any other database error.
    DATABASE = 509, "Database error";
    /// A stored value could not be decoded into the model's type.
    DECODE = 510, "Could not decode a stored value";
    /// An identifier (table, column, index) is invalid.
    INVALID_IDENTIFIER = 601, "Invalid identifier";
    /// The model definition is invalid.
    INVALID_MODEL = 602, "Invalid model definition";
    /// The model name is already registered on this instance.
    DUPLICATE_MODEL = 603, "Model already registered";
    /// The model is not registered on this instance.
    UNKNOWN_MODEL = 604, "Model not registered";
    /// The model is append-only and refuses this operation.
    APPEND_ONLY = 605, "Append-only model refuses the operation";
    /// The model's options conflict.
    CONFLICTING_OPTIONS = 606, "Conflicting model options";
    /// An upsert's conflict target is not a unique key.
    CONFLICT_TARGET_NOT_UNIQUE = 607, "Conflict target is not a unique key";
    /// A multi-tenant model was used without a tenant.
    MISSING_TENANT = 608, "Multi-tenant model used without a tenant";
    /// A write was blocked by read-only protection.
    WRITE_PROTECTED = 609, "Write blocked by read-only protection";
    /// The node type is not registered.
    UNKNOWN_NODE_TYPE = 701, "Unknown node type";
    /// The node's parameters are invalid.
    INVALID_NODE_PARAMS = 702, "Invalid node parameters";
    /// The record was not found.
    NOT_FOUND = 703, "Record not found";
    /// The workflow graph contains a cycle.
    WORKFLOW_CYCLE = 801, "Workflow contains a cycle";
    /// A node in the workflow is unreachable or its inputs are never supplied.
    WORKFLOW_UNREACHABLE = 802, "Unreachable node or unsupplied input";
    /// A workflow node failed during execution.
    WORKFLOW_NODE_FAILED = 803, "Workflow node failed";
    /// A workflow file could not be read or parsed.
    WORKFLOW_FILE = 804, "Invalid workflow file";
    /// A duplicate node id in a workflow.
    DUPLICATE_NODE_ID = 805, "Duplicate node id";
    /// A template `${node.path}` could not be resolved.
    TEMPLATE = 806, "Unresolvable template";
    /// Validation failed (several errors collected).
    VALIDATION = 901, "Validation failed";
    /// An Update was given flat fields instead of `filter` + `fields`.
    UPDATE_SHAPE = 902, "Update needs `filter` and `fields`";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DF-{:03}", self.0)
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

    /// Attaches the underlying cause.
    pub fn source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
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
        if let Some(fix) = i.fixes.first() {
            write!(f, "\n  fix: {fix}")?;
        }
        for r in &i.related {
            write!(f, "\n  - {}", r.to_string().replace('\n', "\n    "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// The closest candidate to `name` by edit distance, for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

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
        assert!(s.contains("model `User`") && s.contains("did you mean `email`?"), "{s}");
    }

    #[test]
    fn closest_finds_typos_and_rejects_noise() {
        assert_eq!(closest("emial", ["name", "email", "age"]), Some("email"));
        assert_eq!(closest("zzzzzzzz", ["name", "email"]), None);
        assert_eq!(ErrorCode::NOT_FOUND.to_string(), "DF-703");
        assert_eq!(ErrorCode(703).title(), Some("Record not found"));
    }
}
