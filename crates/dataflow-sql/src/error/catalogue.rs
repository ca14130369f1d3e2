//! The error catalogue: every `DF-xxx` code with its title, an explanation, likely causes and
//! fixes with example code. [`explain`] renders the long form (`dataflow explain DF-101`);
//! [`debug`] maps a pasted error message to the codes it most likely is
//! (`dataflow debug "<message>"`).

use std::fmt::Write as _;

use super::{Error, ErrorCode};

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The code.
    pub code: ErrorCode,
    /// What the error means, in a sentence or two.
    pub explanation: &'static str,
    /// Likely causes, most common first.
    pub causes: &'static [&'static str],
    /// Fixes, each with example code where it helps.
    pub fixes: &'static [&'static str],
    /// Lowercase phrases that identify the error in a pasted message (database texts included).
    pub keywords: &'static [&'static str],
}

impl Entry {
    /// The code's title.
    pub fn title(&self) -> &'static str {
        self.code.title().unwrap_or("")
    }
}

macro_rules! entries {
    ($($code:ident { $expl:literal, causes: [$($c:literal),* $(,)?], fixes: [$($f:literal),* $(,)?], keys: [$($k:literal),* $(,)?] $(,)? })*) => {
        /// Every catalogue entry, in numeric order.
        pub static ENTRIES: &[Entry] = &[$(Entry {
            code: ErrorCode::$code,
            explanation: $expl,
            causes: &[$($c),*],
            fixes: &[$($f),*],
            keywords: &[$($k),*],
        }),*];
    };
}

entries! {
    MISSING_FIELD {
        "A value the operation needs was not supplied: a required field of the record (not nullable, no default, not a generated id) or a required node parameter such as `id`, `filter` or `data`.",
        causes: ["the field is not `Option<T>` and has no `#[dataflow(default = ..)]`", "a workflow node's input is neither set in its params nor supplied by a connection", "a record inside `data` of a bulk operation lacks the field"],
        fixes: ["pass the field: `db.express().create_json(\"User\", &json!({\"id\": \"u1\", \"name\": \"Alice\"}))`", "make the field optional (`pub age: Option<i32>`) or give it a default (`#[dataflow(default = true)]`)", "connect it in a workflow: `builder.add_connection(\"create\", \"id\", \"read\", \"id\")`"],
        keys: ["is required", "missing required", "required field", "neither set nor supplied", "missing field"],
    }
    WRONG_TYPE {
        "A value does not fit the field's type: a string for an integer, null for a non-nullable field, a string longer than `max_len`, an integer out of range.",
        causes: ["JSON numbers sent as strings (\"42\") or the reverse", "`null` for a field that is not `Option<T>`", "a date that is not ISO-8601 (`2024-01-31`, `2024-01-31T12:00:00Z`)"],
        fixes: ["send the JSON type the field expects: `{\"age\": 42}` not `{\"age\": \"42\"}`", "declare the field `Option<T>` if it may be missing", "format dates as ISO-8601: `chrono::Utc::now().to_rfc3339()`"],
        keys: ["expects", "is not nullable", "got null", "at most", "wrong type", "invalid type", "mismatched types"],
    }
    UNKNOWN_FIELD {
        "A name is not a field of the model (or not a parameter of the node). DataFlow never ignores unknown names: a typo would otherwise silently drop data or widen a filter.",
        causes: ["a typo (`emial` for `email`)", "a field that exists in the database but not in the model", "a parameter of another operation (`filters` for `filter`)"],
        fixes: ["use the name from the \"did you mean\" hint", "add the field to the model: `pub nickname: Option<String>`", "list the model's fields with `db.schema(\"User\")?.fields`"],
        keys: ["has no field", "has no parameter", "unknown field", "no such column", "unknown column", "did you mean"],
    }
    UNKNOWN_OPERATOR {
        "A filter or update uses an operator that does not exist, or one that does not apply to the field's type (`$regex` on an integer, `$all` on a non-array, `$inc` on a string, `$push` on a non-array).",
        causes: ["a typo (`$gte` written `$ge`)", "a Mongo operator DataFlow does not support", "a string operator on a number field"],
        fixes: ["use a supported operator: `{\"age\": {\"$gte\": 18}}`", "see docs/guide/filters.md for the operator list; `$regex` applies to string fields only", "update operators: `$set`, `$unset`, `$inc`/`$mul` (numbers), `$min`/`$max` (numbers, dates), `$push`/`$pull` (arrays) — see docs/guide/concurrency.md"],
        keys: ["unknown operator", "operator", "not applicable", "does not apply"],
    }
    INVALID_FILTER {
        "A filter is malformed: not an object, `$and`/`$or` with an empty list, `$in` with a non-list, a bad JSON path, or an Update/find-one filter that does not identify the record it must.",
        causes: ["`{\"$or\": []}` (fails closed instead of matching everything)", "`{\"status\": {\"$in\": \"active\"}}` (a string, not a list)", "an Update whose filter is not `{\"id\": ..}` or a unique field"],
        fixes: ["`{\"status\": {\"$in\": [\"active\", \"new\"]}}`", "`{\"$or\": [{\"a\": 1}, {\"b\": 2}]}`", "for Update: `{\"filter\": {\"id\": \"u1\"}, \"fields\": {..}}`; use BulkUpdate for several records"],
        keys: ["filter", "malformed", "must identify one record", "non-empty filter", "$in", "$and", "$or"],
    }
    INVALID_PAGINATION {
        "`order_by`, `limit`, `offset` or a keyset cursor is invalid: an unknown field in `order_by`, a negative limit, or a cursor that does not match the ordering.",
        causes: ["`order_by` naming a field that does not exist", "a cursor from a list with a different `order_by`"],
        fixes: ["`{\"order_by\": [\"-created_at\", \"name\"], \"limit\": 20}`", "pass `after` back exactly as `next_cursor` returned it, with the same `order_by`"],
        keys: ["order_by", "limit", "offset", "cursor", "pagination"],
    }
    WRONG_SHAPE {
        "The parameters have the wrong shape for the operation: Create takes the record's fields flat; Update takes `filter` + `fields`; bulk operations take `data` lists.",
        causes: ["`{\"data\": {..}}` or `{\"fields\": {..}}` passed to Create", "a single object passed where a list is expected"],
        fixes: ["Create: `json!({\"id\": \"u1\", \"name\": \"Alice\"})`", "BulkCreate: `json!({\"data\": [{\"id\": \"u1\"}, {\"id\": \"u2\"}]})`"],
        keys: ["takes the record's fields flat", "wrong shape", "must be a json object", "expects an object"],
    }
    UNCONFIRMED_DESTRUCTIVE {
        "A BulkUpdate or BulkDelete has a filter that matches every possible record (`{}`, or by its meaning: `$startswith \"\"`, `$gte i64::MIN` on a NOT NULL field, `$or` of `true` and `false`, ...), or, with the opt-in full-table guard, touched every record of the table and was rolled back. DataFlow refuses to run it unless `confirmed: true` says it is intended.",
        causes: ["an empty filter built from optional search inputs that were all absent", "`{\"$and\": [{}]}`, `{\"name\": {\"$like\": \"%\"}}`, `{\"$or\": [{\"s\": null}, {\"s\": {\"$ne\": null}}]}`", "`DataFlow::builder(url).full_table_guard(n)` and a filter that matches every current record"],
        fixes: ["narrow the filter: `{\"filter\": {\"status\": \"stale\"}}`", "confirm: `json!({\"filter\": {}, \"confirmed\": true})`"],
        keys: ["confirmed", "matches every record", "destructive"],
    }
    INVALID_PARAMETER {
        "A parameter value is out of range or not one of the allowed values (a negative `limit`, `batch_size: 0`, an unknown `conflict_resolution`).",
        causes: ["a negative or zero count", "a misspelt choice (`conflict_resolution: \"ignore\"`)"],
        fixes: ["`{\"limit\": 10, \"offset\": 0}`", "`{\"conflict_resolution\": \"skip\"}` (or `\"update\"`)"],
        keys: ["expects a non-negative integer", "expects one of", "invalid parameter", "out of range"],
    }
    CONNECTION_UNKNOWN_NODE {
        "A workflow connection names a source or target node id that is not in the workflow.",
        causes: ["a typo in the node id", "the connection was added before (or without) the node"],
        fixes: ["use the id given to `add_node`: `b.add_node(\"UserCreateNode\", \"create\", ..).add_connection(\"create\", \"id\", \"read\", \"id\")`"],
        keys: ["references node", "not in the workflow", "connection"],
    }
    CONNECTION_BAD_OUTPUT {
        "A connection's output path does not exist in the source node's result shape (docs/guide/operations.md), or at run time the result has no value there (e.g. `records.0` of an empty list).",
        causes: ["using `id` on a List result (use `records.0.id`)", "using `record.id` on a Create result (Create returns the record itself: `id`)", "an index into an empty list at run time"],
        fixes: ["Create/Read/Update: `\"id\"`, `\"email\"`; List: `\"records.0.id\"`; Upsert: `\"record.id\"`; Count: `\"count\"`", "inspect shapes without running: `Inspector::of_builder(&b).show()`"],
        keys: ["output", "does not exist", "has no key", "has no value"],
    }
    CONNECTION_TYPE_MISMATCH {
        "A connection passes a value whose type cannot fit the target parameter (a list into an id, a string field into an integer field).",
        causes: ["connecting `records` (a list) instead of `records.0.id`", "connecting a text field to a numeric field"],
        fixes: ["connect a scalar of the right type: `b.add_connection(\"list\", \"records.0.id\", \"read\", \"id\")`"],
        keys: ["expects", "but parameter", "incompatible", "type mismatch"],
    }
    CONNECTION_SELF {
        "A node is connected to itself (by a connection or a `${node..}` template naming its own id); a node cannot consume its own result.",
        causes: ["a copy-pasted connection whose source was not changed"],
        fixes: ["add a second node that reads the first one's result"],
        keys: ["to itself", "refers to the node itself"],
    }
    CONNECTION_DUPLICATE_INPUT {
        "One input parameter is supplied twice: by two connections, or by a connection and the node's static params. The result would depend on order, so it is refused.",
        causes: ["two upstream nodes both connected to the same parameter", "a parameter both set in params and connected"],
        fixes: ["keep one source per parameter; combine values in an earlier node if you need both"],
        keys: ["supplied twice", "also supplied by"],
    }
    MIGRATION_NEEDS_APPROVAL {
        "A schema change is riskier than auto-migration applies (MEDIUM or higher: NOT NULL without default, drops, renames, type changes). It is reported with its SQL and applied only when you name the risk.",
        causes: ["a field changed type or became required", "a field was removed from the model"],
        fixes: ["review the plan's SQL, then apply it explicitly naming the accepted risk", "make the new field `Option<T>` or give it a default so the step is LOW risk"],
        keys: ["migration", "approval", "risk"],
    }
    MIGRATION_FAILED {
        "A migration step failed while applying; the history table records it and later calls fail fast with the original error.",
        causes: ["existing data violates a new constraint (NULLs in a column made NOT NULL, duplicates under a new unique index)"],
        fixes: ["clean the data (the plan says how many rows are affected), then apply again"],
        keys: ["migration failed", "could not apply"],
    }
    MIGRATION_LOCK_TIMEOUT {
        "Another process held the migration lock longer than the timeout.",
        causes: ["several instances starting at once against one database", "a crashed migration holding a session lock", "a crashed holder's lease row that has not expired yet (`MigrationLock::Lease`, `Compat` mode)"],
        fixes: ["retry; start one instance first, or raise the lock timeout (`DataFlowBuilder::migration_lock_timeout`)", "a lease is taken over once it expires (`lease_duration`, default 30 s); see docs/guide/scaling.md"],
        keys: ["lock timeout", "migration lock", "get_lock", "lease"],
    }
    SCHEMA_MISMATCH {
        "In `existing_schema_mode` the live table does not match the model; every mismatch is listed.",
        causes: ["the model and the database drifted (column types, nullability, missing columns)"],
        fixes: ["adjust the model to the table, or generate it: `dataflow generate --url <db>`"],
        keys: ["does not match", "mismatch", "existing_schema_mode"],
    }
    INVALID_URL {
        "The database URL is malformed or names an unsupported scheme.",
        causes: ["a scheme other than postgres://, mysql://, mariadb://, sqlite://", "`sqlite:memory:` instead of `sqlite::memory:`"],
        fixes: ["`DataFlow::connect(\"postgres://user:pass@localhost:5432/app\")`", "`DataFlow::connect(\"sqlite::memory:\")`"],
        keys: ["invalid url", "unsupported scheme", "database url"],
    }
    UNSUPPORTED_ON_BACKEND {
        "A model option only works on some backends (e.g. `native_arrays` is PostgreSQL only).",
        causes: ["a model written for PostgreSQL registered on SQLite or MySQL"],
        fixes: ["remove the option, or use it only with PostgreSQL"],
        keys: ["not supported on", "postgresql only", "unsupported"],
    }
    CONNECTION_FAILED {
        "The database could not be reached when connecting.",
        causes: ["the server is down or on another host/port", "wrong credentials or database name", "TLS required by the server"],
        fixes: ["check the URL and that the server accepts connections: `psql <url>` / `mysql -h ..`"],
        keys: ["could not connect", "connection refused", "password authentication failed", "access denied", "unknown database"],
    }
    CLOSED {
        "The DataFlow instance was closed with `close()`; its pool no longer hands out connections.",
        causes: ["using a clone of the handle after `close()`"],
        fixes: ["create a new instance: `DataFlow::connect(url).await?`"],
        keys: ["was closed", "pool closed", "poolclosed", "closed pool", "pool has been closed"],
    }
    INVALID_CONFIG {
        "A configuration value could not be used: an environment variable read by `DataFlow::from_env()` (or `Config::from_env_map`) is not a number, a duration, a boolean or a known log filter.",
        causes: ["`DATAFLOW_POOL_SIZE=ten` or `0`", "`DATAFLOW_ACQUIRE_TIMEOUT=soon`", "`DATAFLOW_AUTO_MIGRATE=maybe`", "`DATAFLOW_SLOW_QUERY_MS=-5`"],
        fixes: ["fix or unset the variable named in the message; `dataflow explain DF-405` lists the accepted forms", "pool size: a whole number >= 1; timeouts: `30`, `30s`, `500ms` or `2m`; booleans: true/false/1/0/yes/no/on/off"],
        keys: ["invalid configuration", "dataflow_pool_size", "dataflow_acquire_timeout", "dataflow_auto_migrate", "dataflow_slow_query_ms", "dataflow_log"],
    }
    UNIQUE_VIOLATION {
        "An insert or update would create a second row with the same value of a unique key.",
        causes: ["creating a record whose id or unique field already exists", "two concurrent creates of the same key"],
        fixes: ["use upsert: `db.express().upsert_json(\"User\", &json!({\"where\": {\"email\": e}, \"create\": {..}, \"update\": {..}}))`", "check first with `find_one`"],
        keys: ["unique constraint", "duplicate key", "duplicate entry", "unique constraint failed", "violates unique"],
    }
    FOREIGN_KEY_VIOLATION {
        "A row refers to a row that does not exist (or is still referenced when deleted).",
        causes: ["creating a child before its parent", "deleting a parent that still has children"],
        fixes: ["create the referenced record first (a workflow connection orders it)", "delete dependent records first"],
        keys: ["foreign key", "violates foreign key", "a foreign key constraint fails"],
    }
    NOT_NULL_VIOLATION {
        "The database refused NULL in a NOT NULL column.",
        causes: ["the table has a NOT NULL column the model does not know or declares nullable"],
        fixes: ["supply the value, or make the model match the table (`Option<T>` only for nullable columns)"],
        keys: ["not null constraint", "null value in column", "cannot be null", "not null constraint failed"],
    }
    CHECK_VIOLATION {
        "A CHECK constraint of the table rejected the value.",
        causes: ["a database-side rule the model does not express"],
        fixes: ["supply a value that satisfies the constraint"],
        keys: ["check constraint", "violates check"],
    }
    SERIALIZATION_FAILURE {
        "The transaction conflicted with a concurrent one (or SQLite was busy) and must be retried.",
        causes: ["concurrent writes to the same rows under SERIALIZABLE/REPEATABLE READ", "SQLite `database is locked`"],
        fixes: ["run it with `db.transaction_with(Isolation::Serializable, ..)` or `transaction_with(RetryPolicy::default(), ..)`, which re-runs the closure", "for counters use an update operator (`{\"$inc\": {\"n\": 1}}`): one statement, nothing to retry", "keep write transactions short"],
        keys: ["could not serialize", "serialization failure", "database is locked", "busy", "lock wait timeout"],
    }
    DEADLOCK {
        "The database picked this transaction as a deadlock victim.",
        causes: ["two transactions updating the same rows in different orders"],
        fixes: ["run the transaction with `db.transaction_with(RetryPolicy::default(), ..)`, which re-runs it", "update or lock rows in a consistent order (e.g. by id)"],
        keys: ["deadlock", "deadlock detected", "deadlock found"],
    }
    CONNECTION_LOST {
        "The connection broke during an operation.",
        causes: ["server restart, network failure, idle timeout on a proxy"],
        fixes: ["retry the operation; check the server and network"],
        keys: ["connection lost", "broken pipe", "connection reset", "terminating connection", "server has gone away"],
    }
    POOL_TIMEOUT {
        "No pooled connection became free within the acquire timeout.",
        causes: ["too many concurrent operations for the pool size", "transactions or streams held open too long"],
        fixes: ["`DataFlow::builder(url).max_connections(20)`", "finish transactions and drop streams promptly"],
        keys: ["pool timed out", "pooltimedout", "acquire timeout", "pool timeout", "timed out while waiting for an open connection"],
    }
    DATABASE {
        "Any other database error, with the database's own message.",
        causes: ["see the database's message"],
        fixes: ["read the message; `dataflow sql` shows the SQL an operation generates"],
        keys: ["database error", "syntax error"],
    }
    DECODE {
        "A stored value could not be decoded into the model's field type.",
        causes: ["the column holds data another program wrote in another format", "the model's field type differs from the column"],
        fixes: ["make the field type match the column (see the migration report)"],
        keys: ["could not decode", "decode", "is not a valid"],
    }
    COMMIT_OUTCOME_UNKNOWN {
        "Commit outcome unknown: check before retrying. The connection was lost while the database was committing a write (the COMMIT of a transaction, or a single statement that commits by itself). The database may have applied the write or not; unlike DF-507 (connection lost before the write), retrying blindly can apply it twice.",
        causes: ["the server was restarted or the session was killed during COMMIT", "a network failure or proxy timeout while the commit's answer was on its way"],
        fixes: ["read the record(s) back, or check an idempotency key, before retrying", "make the write idempotent (upsert on a unique key, or BulkUpsert) so that retrying after an unknown outcome is safe"],
        keys: ["outcome unknown", "during commit", "may or may not have been applied"],
    }
    TABLE_NOT_FOUND {
        "The statement names a table the database does not have: the model was never registered (registering creates its table), it was registered against another database or schema, or the table was dropped or renamed.",
        causes: ["`auto_migrate(false)` or `existing_schema_mode` against a database where the table was never created", "a different database/schema in the URL than the one that holds the table", "the table name differs from the derived one (`User` -> `users`); set `#[dataflow(table = \"..\")]`"],
        fixes: ["register the model on this database: `db.register::<User>().await?` (or `dataflow migrate apply --database <url> --models models.json`)", "check the URL's database name and the model's table: `dataflow migrate plan --database <url> --models models.json`"],
        keys: ["relation \"", "does not exist", "no such table", "doesn't exist", "table '", "undefined table", "table not found", "base table or view not found"],
    }
    INVALID_IDENTIFIER {
        "A table, column or index name is not a valid identifier (`^[A-Za-z_][A-Za-z0-9_]*$`, length limits). DataFlow rejects rather than escapes.",
        causes: ["a table or column name with spaces, dashes or quotes", "a name longer than 63 bytes"],
        fixes: ["`#[dataflow(table = \"user_accounts\")]`, `#[dataflow(column = \"full_name\")]`"],
        keys: ["identifier", "invalid name"],
    }
    INVALID_MODEL {
        "The model definition is invalid: no `id`, an id of an unsupported type, reserved or duplicate names, defaults that do not fit.",
        causes: ["a primary key named `user_id` instead of `id`", "declaring `created_at` yourself"],
        fixes: ["`pub id: String` (or i32, i64, Uuid)", "remove managed fields: `created_at`, `updated_at`, `deleted_at` are added for you"],
        keys: ["primary key", "invalid model", "reserved"],
    }
    DUPLICATE_MODEL {
        "A model of this name is already registered on this instance.",
        causes: ["calling `register` twice", "a typed and a dynamic model with the same name"],
        fixes: ["register each model once per instance; use a second `DataFlow` instance for a different schema"],
        keys: ["already registered"],
    }
    UNKNOWN_MODEL {
        "The model is not registered on this instance (models are per instance).",
        causes: ["forgetting `db.register::<User>().await?`", "registering on another instance"],
        fixes: ["`db.register::<User>().await?` before using it"],
        keys: ["is not registered", "not registered on this instance"],
    }
    APPEND_ONLY {
        "The model is append-only: Update, Delete, Upsert and their bulk forms are refused before any SQL. The audit trail (`AuditEntry`) refuses every write through the API, Create and BulkCreate included: only DataFlow appends to it.",
        causes: ["an audit/event model used with a mutating operation", "a Create, Update or Delete of `AuditEntry` rows"],
        fixes: ["insert a new record instead", "remove `append_only` from the model if records must change", "audit a model with `#[dataflow::model(audit)]`; read the trail with list/count/find_one"],
        keys: ["append-only", "append_only"],
    }
    CONFLICTING_OPTIONS {
        "Two model options cannot be combined.",
        causes: ["e.g. `timestamps = false` with an option that needs them"],
        fixes: ["remove one of the options"],
        keys: ["conflicting", "cannot be combined"],
    }
    CONFLICT_TARGET_NOT_UNIQUE {
        "An upsert's `conflict_on` is not the primary key, a unique field or a unique index; nothing is written.",
        causes: ["upserting on a non-unique field such as `name`"],
        fixes: ["`{\"conflict_on\": [\"email\"]}` with `#[dataflow(unique)] pub email: String`", "add `unique([\"org_id\", \"slug\"])` to the model's indexes"],
        keys: ["conflict target", "not a unique key", "no unique or exclusion constraint"],
    }
    MISSING_TENANT {
        "A multi-tenant model was used without a tenant context.",
        causes: ["calling `db.express()` instead of `db.tenant(\"acme\")`", "a transaction opened without a tenant (`tx.tenant(\"acme\")` binds one)"],
        fixes: ["`db.tenant(\"acme\").list_json(\"Order\", &json!({}))`", "in a transaction: `tx.tenant(\"acme\").create(&order)`", "workflows: `wf.execute_as(&db, Some(\"acme\"))` or `wf.execute_in_transaction_as(&db, \"acme\")`", "CLI: `dataflow run --tenant acme ...`"],
        keys: ["no tenant is set"],
    }
    WRITE_PROTECTED {
        "A write was refused by write protection before any SQL ran. The message names the level that blocked it: the instance (`read_only` in `Config`/builder), the write window (writes allowed only inside a UTC time range), the model (`#[dataflow::model(read_only)]`, `\"read_only\": true` or a builder rule), the operation (`forbid(..)` on the model) or a field (`#[dataflow(read_only)]`: set on create, never changed). See docs/guide/protection-and-audit.md.",
        causes: ["writing through an instance built with `.read_only(true)`", "writing outside the instance's write window", "writing to a model marked `read_only`", "an operation the model forbids (`forbid(delete, bulk_delete)`)", "an Update, BulkUpdate or Upsert that changes a `read_only` field"],
        fixes: ["lift the level named in the message: build the instance without `.read_only(true)`, widen or remove `.write_window(..)`, remove `read_only` / the operation from `forbid(..)` on the model", "for a read-only field, leave it out of the update: `update_by_id::<M>(id, Changes::new().set(\"other\", v))`", "workflows: the validator reports the same error for a node whose model or operation is protected"],
        keys: ["read-only", "read only", "write protected", "blocked", "write window", "forbid", "protection"],
    }
    INVALID_TENANT {
        "A tenant name must be 1 to 128 characters, without leading or trailing whitespace and without control characters (docs/guide/multi-tenancy.md).",
        causes: ["`db.tenant(\"\")`", "`db.tenant(\"acme \")` (a trailing space would create a second, invisible tenant)", "a name longer than 128 characters"],
        fixes: ["trim and check the tenant name where it enters your application: `db.tenant(name.trim())`"],
        keys: ["tenant name"],
    }
    TENANT_MISUSE {
        "A tenant was used where it does not apply, so DataFlow refuses instead of guessing (docs/guide/multi-tenancy.md).",
        causes: ["`.tenant(\"acme\")` on a model without `multi_tenant`", "`tx.express().tenant(\"b\")` in a transaction bound to tenant `a`", "`tenant_id` in the data of a write: it is stamped from the tenant context", "a write, `read_for_update` or `transaction` through the read-only `db.all_tenants()`", "reading a per-tenant (String/Uuid) id through `db.all_tenants()`"],
        fixes: ["drop `.tenant(..)` for models that are not multi-tenant, or add `multi_tenant` to the model", "open one transaction per tenant", "remove `tenant_id` from the data; use `db.tenant(\"acme\")`", "write through the owning tenant: `db.tenant(\"acme\")`; on `db.all_tenants()` list with a filter on `id`"],
        keys: ["not multi-tenant", "bound to tenant", "tenant_id"],
    }
    TENANT_OWNER_REQUIRED {
        "`multi_tenant` was turned on for a table that already has rows; DataFlow must be told which tenant owns them (docs/guide/multi-tenancy.md).",
        causes: ["adding `multi_tenant` to a model whose table has data"],
        fixes: ["once, before `register`: `db.enable_tenancy_for::<Order>(\"acme\").await?` (dynamic models: `db.enable_tenancy(&schema, \"acme\")`)", "or move the rows elsewhere and empty the table"],
        keys: ["owner tenant", "existing rows"],
    }
    UNKNOWN_NODE_TYPE {
        "A workflow names a node type that is not registered on the instance. Node types are `<Model><Operation>Node`.",
        causes: ["a typo (`UserCreatNode`)", "the model was not registered before building the workflow"],
        fixes: ["`db.register::<User>().await?` then `WorkflowBuilder::new(&db)`", "use one of the eleven operations: `UserCreateNode`, `UserListNode`, `UserBulkUpsertNode`, ..."],
        keys: ["node type", "is not registered", "unknown node type"],
    }
    INVALID_NODE_PARAMS {
        "A node's parameters are not an object, or a node id is invalid.",
        causes: ["params passed as a list or string", "a node id with dots or spaces"],
        fixes: ["`b.add_node(\"UserReadNode\", \"read_user\", json!({\"id\": \"u1\"}))`"],
        keys: ["must be a json object", "not a valid node id", "params"],
    }
    NOT_FOUND {
        "The record does not exist (or is soft-deleted and `include_deleted` was not set).",
        causes: ["a wrong id", "the record was deleted"],
        fixes: ["Read with `{\"raise_on_not_found\": false}` to get `{\"found\": false}` instead", "`{\"include_deleted\": true}` for soft-deleted records"],
        keys: ["not found", "no record"],
    }
    WORKFLOW_CYCLE {
        "The workflow's connections or templates form a cycle; workflows must be acyclic. The message names the cycle node by node.",
        causes: ["connecting a later node back into an earlier one", "a template referring to a node downstream of itself"],
        fixes: ["remove one edge of the cycle; `Inspector::of_builder(&b).detect_cycles()` lists them"],
        keys: ["cycle", "acyclic"],
    }
    WORKFLOW_UNREACHABLE {
        "A node can never run because it depends on a cycle.",
        causes: ["a node downstream of a cycle"],
        fixes: ["break the cycle; then every node is reachable from the nodes without inputs"],
        keys: ["can never run", "unreachable"],
    }
    WORKFLOW_NODE_FAILED {
        "A node failed while the workflow ran. The error names the node and its cause; the results of the nodes that completed are returned with it, and nodes that depend on the failed one did not run. In a transaction, everything was rolled back.",
        causes: ["the node's operation failed (see the cause's own code, e.g. DF-501)", "a connection found no value at run time (e.g. `records.0` of an empty list)"],
        fixes: ["look at the cause; `WorkflowFailure::partial` holds the completed results", "use `execute_in_transaction` for all-or-nothing runs"],
        keys: ["workflow node", "failed", "node failed"],
    }
    WORKFLOW_FILE {
        "A workflow file could not be read or parsed, or it has unknown keys.",
        causes: ["a JSON/YAML syntax error", "`node_type` instead of `type`, `source` instead of `from`"],
        fixes: ["`{\"nodes\": [{\"id\": \"c\", \"type\": \"UserCreateNode\", \"params\": {..}}], \"connections\": [{\"from\": \"c\", \"output\": \"id\", \"to\": \"r\", \"param\": \"id\"}]}`"],
        keys: ["workflow file", "invalid workflow", "yaml", "json", "unknown field `"],
    }
    DUPLICATE_NODE_ID {
        "Two nodes of a workflow have the same id.",
        causes: ["a copy-pasted `add_node`"],
        fixes: ["give each node its own id"],
        keys: ["used more than once", "duplicate node"],
    }
    TEMPLATE {
        "A `${node.path}` template is malformed, names an unknown node, or did not resolve.",
        causes: ["an unclosed `${`", "a node id typo inside the template", "a path that does not exist in the result"],
        fixes: ["`\"${create_user.id}\"`, `\"${list.records.0.email}\"`; write `$${` for a literal `${`"],
        keys: ["template", "${"],
    }
    CODE_NODE_FAILED {
        "A code node (an async Rust function registered with `catalog.register_fn` or `catalog.register`) returned an error, or a result without an output it declares.",
        causes: ["the node's own code rejected its inputs", "a declared output key is missing from the returned object"],
        fixes: ["look at the message: it is the node's own error; the results of the nodes that completed are on the failure (`WorkflowFailure::partial`)"],
        keys: ["code node"],
    }
    WORKFLOW_INPUT {
        "A workflow input is missing, not declared, or of the wrong type; inputs are checked before any node runs.",
        causes: ["a required input was not passed", "a typo in the input name", "a string passed for an integer input"],
        fixes: ["declare inputs in the workflow: `inputs: [{name: tier, type: string, default: basic}]`", "pass them: `workflow.execute_with(&db, json!({\"tier\": \"gold\"}))` or `dataflow run flow.yaml --input tier=gold`"],
        keys: ["workflow input", "${inputs."],
    }
    SCRIPT {
        "A `ScriptNode`'s script did not compile, raised an error, or hit a sandbox limit (operations, string/array/map size, call depth, time).",
        causes: ["a syntax error", "an endless loop", "a value that grows without bound", "a variable used before it is set"],
        fixes: ["the message names the node and the line and column in the script", "keep scripts small: move heavy work into a Rust code node (`catalog.register_fn`)"],
        keys: ["script", "rhai"],
    }
    VALIDATION {
        "Several validation errors collected at once (collect-all mode); each is listed with its own code.",
        causes: ["see the listed errors"],
        fixes: ["fix each listed error; `builder.validate()` returns them without building"],
        keys: ["validation error(s)"],
    }
    UPDATE_SHAPE {
        "An Update was given the record's fields flat; Update takes `filter` (which record) and `fields` (what to change).",
        causes: ["passing `{\"id\": \"u1\", \"name\": \"Bob\"}` to an Update node, as one would to Create"],
        fixes: ["`json!({\"filter\": {\"id\": \"u1\"}, \"fields\": {\"name\": \"Bob\"}})`"],
        keys: ["takes `filter` and `fields`", "flat fields", "not flat"],
    }
}

/// The catalogue entry of a code.
pub fn entry(code: ErrorCode) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.code == code)
}

/// Parses `DF-101`, `df101` or `101`.
pub fn parse_code(s: &str) -> Option<ErrorCode> {
    let t = s.trim();
    let digits = t
        .strip_prefix("DF-")
        .or_else(|| t.strip_prefix("df-"))
        .or_else(|| t.strip_prefix("DF"))
        .or_else(|| t.strip_prefix("df"))
        .unwrap_or(t);
    digits.parse::<u16>().ok().and_then(ErrorCode::from_number)
}

/// The long form of a code (`dataflow explain DF-101`): title, explanation, causes, fixes.
pub fn explain(code: ErrorCode) -> Option<String> {
    let e = entry(code)?;
    let mut s = format!("{code}: {}\n\n{}\n", e.title(), e.explanation);
    if !e.causes.is_empty() {
        s.push_str("\nLikely causes:\n");
        for c in e.causes {
            let _ = writeln!(s, "  - {c}");
        }
    }
    if !e.fixes.is_empty() {
        s.push_str("\nFixes:\n");
        for f in e.fixes {
            let _ = writeln!(s, "  - {f}");
        }
    }
    Some(s)
}

impl Error {
    /// The long form: the error as displayed, then its code's explanation, causes and fixes.
    pub fn long_form(&self) -> String {
        let mut s = format!("{self:#}");
        s.push('\n');
        for (i, f) in self.fixes().iter().enumerate().skip(1) {
            if i == 1 {
                s.push_str("  more fixes:\n");
            }
            let _ = writeln!(s, "    - {f}");
        }
        if let Some(x) = explain(self.code()) {
            s.push('\n');
            s.push_str(&x);
        }
        s
    }

    /// The catalogue entry of this error's code.
    pub fn entry(&self) -> Option<&'static Entry> {
        entry(self.code())
    }
}

/// Maps a pasted error message to the codes it most likely is, best first, with a score in
/// `(0, 1]`. A `DF-xxx` code in the message scores 1.0; otherwise keywords of each entry
/// (DataFlow's own wording and the databases' messages) are matched.
pub fn debug(message: &str) -> Vec<(ErrorCode, f32)> {
    let lower = message.to_lowercase();
    let mut out: Vec<(ErrorCode, f32)> = Vec::new();
    // Explicit codes first.
    let bytes = lower.as_bytes();
    let mut i = 0;
    while let Some(p) = lower[i..].find("df-") {
        let start = i + p + 3;
        let end = bytes[start..].iter().take_while(|b| b.is_ascii_digit()).count() + start;
        if end > start
            && let Some(code) = lower[start..end].parse::<u16>().ok().and_then(ErrorCode::from_number)
            && entry(code).is_some()
            && !out.iter().any(|(c, _)| *c == code)
        {
            out.push((code, 1.0));
        }
        i = start;
    }
    let mut scored: Vec<(ErrorCode, f32)> = ENTRIES
        .iter()
        .filter(|e| !out.iter().any(|(c, _)| *c == e.code))
        .filter_map(|e| {
            let hits: Vec<&&str> = e.keywords.iter().filter(|k| lower.contains(**k)).collect();
            if hits.is_empty() {
                return None;
            }
            // Longer (more specific) phrases weigh more; several hits add up, capped below 1.
            let weight: usize = hits.iter().map(|k| k.len().min(30)).sum();
            Some((e.code, (weight as f32 / 25.0).min(0.95)))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.extend(scored);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_entry_with_fixes() {
        for code in ErrorCode::ALL {
            let e = entry(*code).unwrap_or_else(|| panic!("{code} has no catalogue entry"));
            assert!(!e.explanation.is_empty() && !e.causes.is_empty() && !e.fixes.is_empty(), "{code}");
            assert!(!e.keywords.is_empty(), "{code}");
        }
        assert_eq!(ENTRIES.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn explain_and_long_form() {
        let x = explain(ErrorCode::UPDATE_SHAPE).unwrap();
        assert!(x.starts_with("DF-902: Update needs `filter` and `fields`"), "{x}");
        assert!(x.contains("\"filter\": {\"id\": \"u1\"}"), "{x}");
        assert_eq!(parse_code("DF-101"), Some(ErrorCode::MISSING_FIELD));
        assert_eq!(parse_code("df703"), Some(ErrorCode::NOT_FOUND));
        let e = Error::new(ErrorCode::UNKNOWN_FIELD, "model `User` has no field `emial`")
            .fix("did you mean `email`?")
            .fix("b");
        let l = e.long_form();
        assert!(l.starts_with("[DF-103] model `User` has no field `emial`"), "{l}");
        assert!(l.contains("more fixes:\n    - b") && l.contains("Likely causes:"), "{l}");
    }

    #[test]
    fn debug_maps_messages_to_codes() {
        assert_eq!(debug("Error: [DF-805] node id `a` is used more than once")[0], (ErrorCode::DUPLICATE_NODE_ID, 1.0));
        let pg = debug("duplicate key value violates unique constraint \"users_email_key\"");
        assert_eq!(pg[0].0, ErrorCode::UNIQUE_VIOLATION, "{pg:?}");
        let my = debug("Duplicate entry 'a@x' for key 'users.email'");
        assert_eq!(my[0].0, ErrorCode::UNIQUE_VIOLATION, "{my:?}");
        assert_eq!(debug("deadlock detected")[0].0, ErrorCode::DEADLOCK);
        assert_eq!(debug("SQLITE_BUSY: database is locked")[0].0, ErrorCode::SERIALIZATION_FAILURE);
        assert!(debug("zzz qqq").is_empty());
        // sqlx's `PoolTimedOut` (Debug and Display forms) is a pool timeout, not a closed instance.
        for m in
            ["Error: PoolTimedOut", "pool timed out while waiting for an open connection", "sqlx::Error::PoolTimedOut"]
        {
            assert_eq!(debug(m)[0].0, ErrorCode::POOL_TIMEOUT, "{m}: {:?}", debug(m));
        }
        assert_eq!(debug("Error: PoolClosed")[0].0, ErrorCode::CLOSED);
        assert_eq!(debug("attempted to acquire a connection on a closed pool")[0].0, ErrorCode::CLOSED);
    }

    #[test]
    fn debug_maps_the_common_database_messages() {
        let cases: &[(&str, ErrorCode)] = &[
            ("pool timed out while waiting for an open connection", ErrorCode::POOL_TIMEOUT),
            ("error returned from database: relation \"users\" does not exist", ErrorCode::TABLE_NOT_FOUND),
            ("error returned from database: (code: 1) no such table: users", ErrorCode::TABLE_NOT_FOUND),
            (
                "error returned from database: 1146 (42S02): Table 'test.users' doesn't exist",
                ErrorCode::TABLE_NOT_FOUND,
            ),
            ("error returned from database: deadlock detected", ErrorCode::DEADLOCK),
            ("1213 (40001): Deadlock found when trying to get lock; try restarting transaction", ErrorCode::DEADLOCK),
            ("1205 (HY000): Lock wait timeout exceeded; try restarting transaction", ErrorCode::SERIALIZATION_FAILURE),
            ("error returned from database: (code: 5) database is locked", ErrorCode::SERIALIZATION_FAILURE),
            ("error communicating with database: Connection refused (os error 111)", ErrorCode::CONNECTION_FAILED),
        ];
        for (msg, want) in cases {
            let got = debug(msg);
            assert_eq!(got.first().map(|g| g.0), Some(*want), "{msg}: {got:?}");
        }
    }
}
