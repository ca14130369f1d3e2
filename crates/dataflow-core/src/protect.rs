//! Write protection (docs/guide/protection-and-audit.md): read-only at instance, model,
//! operation and field level, plus a write window (writes allowed only inside a UTC time range)
//! read from an injectable [`Clock`].
//!
//! Every check here is pure: a blocked write fails with DF-609 before a connection is taken and
//! before any SQL runs. The instance, window, model and operation levels are checked once per
//! operation at the `with_conn!` choke point of `express.rs`; the field level where the written
//! fields are known (`ops::update::check_changes` / `check_set`, bulk upsert).

mod clock;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveTime;
use dataflow_sql::{Error, ErrorCode, ModelSchema, Operation, Result};

pub use self::clock::{Clock, ManualClock, SystemClock};

/// Which level of write protection refused a write (named in the DF-609 message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// The whole instance is read-only (`DataFlowBuilder::read_only`).
    Instance,
    /// The write ran outside the instance's write window (`DataFlowBuilder::write_window`).
    Window,
    /// The model is read-only (`#[dataflow::model(read_only)]`, `"read_only": true`, or a rule).
    Model,
    /// The model forbids this operation (`forbid(..)`).
    Operation,
    /// The write changes a read-only field (`#[dataflow(read_only)]`).
    Field,
}

impl Level {
    /// `instance`, `window`, `model`, `operation`, `field` (as in the DF-609 message: "model-level").
    pub const fn name(self) -> &'static str {
        match self {
            Level::Instance => "instance",
            Level::Window => "window",
            Level::Model => "model",
            Level::Operation => "operation",
            Level::Field => "field",
        }
    }

    /// The level a DF-609 error names, read back from its message; `None` for other errors.
    pub fn of(e: &Error) -> Option<Level> {
        if e.code() != ErrorCode::WRITE_PROTECTED {
            return None;
        }
        [Level::Instance, Level::Window, Level::Model, Level::Operation, Level::Field]
            .into_iter()
            .find(|l| e.message().contains(&format!("({}-level write protection)", l.name())))
    }
}

/// A daily UTC time range inside which writes are allowed: `start <= now < end`; when `start`
/// is after `end` the range wraps midnight (`22:00..06:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteWindow {
    start: NaiveTime,
    end: NaiveTime,
}

impl WriteWindow {
    /// The window `start..end` (UTC). DF-405 when `start == end` (an empty window would refuse
    /// every write; use `read_only(true)` for that).
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<WriteWindow> {
        if start == end {
            return Err(Error::new(
                ErrorCode::INVALID_CONFIG,
                format!("write window {start}..{end} is empty: start and end are the same time"),
            )
            .fix("give two different UTC times, e.g. WriteWindow::parse(\"09:00\", \"17:00\")")
            .fix("to refuse every write use `.read_only(true)`"));
        }
        Ok(WriteWindow { start, end })
    }

    /// The window from `"HH:MM"` (or `"HH:MM:SS"`) UTC strings; DF-405 when a time does not parse.
    pub fn parse(start: &str, end: &str) -> Result<WriteWindow> {
        let t = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M").or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S")).map_err(|_| {
                Error::new(ErrorCode::INVALID_CONFIG, format!("write window time `{s}` is not a UTC time"))
                    .fix("write times as \"HH:MM\" or \"HH:MM:SS\" in UTC, e.g. \"09:00\"")
            })
        };
        WriteWindow::new(t(start)?, t(end)?)
    }

    /// Whether writes are allowed at `t` (UTC time of day).
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end { self.start <= t && t < self.end } else { t >= self.start || t < self.end }
    }

    /// Start (UTC).
    pub fn start(&self) -> NaiveTime {
        self.start
    }

    /// End (UTC, exclusive).
    pub fn end(&self) -> NaiveTime {
        self.end
    }
}

/// Protection rules for one model set on the instance (beside the model's own options).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelRules {
    /// Refuse every write to the model.
    pub read_only: bool,
    /// Refuse these operations.
    pub forbid: Vec<Operation>,
    /// Fields set on create and never changed afterwards.
    pub read_only_fields: Vec<String>,
}

impl ModelRules {
    /// No rules.
    pub fn new() -> Self {
        ModelRules::default()
    }
    /// Builder: the model is read-only.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }
    /// Builder: refuse `ops`.
    pub fn forbid(mut self, ops: impl IntoIterator<Item = Operation>) -> Self {
        self.forbid.extend(ops);
        self
    }
    /// Builder: `field` is read-only after create.
    pub fn read_only_field(mut self, field: impl Into<String>) -> Self {
        self.read_only_fields.push(field.into());
        self
    }
}

/// The write protection of one instance (`Config::protection`). Default: nothing protected,
/// blocked writes not audited, the system clock.
#[derive(Debug, Clone)]
pub struct Protection {
    /// Instance level: every write fails with DF-609.
    pub read_only: bool,
    /// Writes allowed only inside this daily UTC range.
    pub window: Option<WriteWindow>,
    /// Rules per model name, beside the models' own options.
    pub models: BTreeMap<String, ModelRules>,
    /// Record blocked writes on audited models in `dataflow_audit` (`outcome = "blocked"`).
    /// Off by default: with it on, a blocked write on an audited model runs exactly one
    /// statement (the audit INSERT) instead of none.
    pub audit_blocked: bool,
    /// The clock the write window reads (inject a [`ManualClock`] in tests).
    pub clock: Arc<dyn Clock>,
}

impl Default for Protection {
    fn default() -> Self {
        Protection {
            read_only: false,
            window: None,
            models: BTreeMap::new(),
            audit_blocked: false,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The operation a write entry point counts as for `forbid` (`HardDelete` is a Delete,
/// `Restore` an Update); `None` for reads.
pub(crate) fn operation_of(op: &str) -> Option<Operation> {
    match op {
        "HardDelete" => Some(Operation::Delete),
        "Restore" => Some(Operation::Update),
        other => Operation::from_name(other).filter(|o| o.writes()),
    }
}

fn blocked(schema: &ModelSchema, op: &str, level: Level, why: String) -> Error {
    Error::new(
        ErrorCode::WRITE_PROTECTED,
        format!("{op} of `{}` blocked: {why} ({}-level write protection)", schema.name, level.name()),
    )
    .model(&schema.name)
    .operator(op)
}

impl Protection {
    /// Whether anything at all is protected (the fast path skips every check when not).
    fn any(&self) -> bool {
        self.read_only || self.window.is_some() || !self.models.is_empty()
    }

    /// The instance, window, model and operation levels for `op` (an entry point name such as
    /// `Create`, `HardDelete`, `Restore`); reads always pass. No SQL.
    pub fn check(&self, schema: &ModelSchema, op: &str) -> Result<()> {
        self.check_levels(schema, op, true)
    }

    /// [`Protection::check`] without the write window (whose answer depends on when the write
    /// runs): what workflow validation can know before a run.
    pub fn check_static(&self, schema: &ModelSchema, op: &str) -> Result<()> {
        self.check_levels(schema, op, false)
    }

    fn check_levels(&self, schema: &ModelSchema, op: &str, window: bool) -> Result<()> {
        let Some(kind) = operation_of(op) else { return Ok(()) };
        let o = &schema.options;
        if !self.any() && !o.read_only && o.forbid.is_empty() {
            return Ok(());
        }
        if self.read_only {
            return Err(blocked(schema, op, Level::Instance, "this DataFlow instance is read-only".into())
                .fix("lift it: build the instance without `.read_only(true)` (`Config::protection.read_only = false`)")
                .fix("or use a second, writable instance for writes"));
        }
        if let Some(w) = self.window.as_ref().filter(|_| window) {
            let now = self.clock.now();
            if !w.contains(now.time()) {
                return Err(blocked(
                    schema,
                    op,
                    Level::Window,
                    format!(
                        "writes are allowed only between {} and {} UTC and it is {} UTC",
                        w.start().format("%H:%M:%S"),
                        w.end().format("%H:%M:%S"),
                        now.format("%H:%M:%S")
                    ),
                )
                .fix("retry inside the write window")
                .fix("or widen or remove it: `.write_window(..)` on the builder (`Config::protection.window`)"));
            }
        }
        let rules = self.models.get(&schema.name);
        if o.read_only {
            return Err(blocked(schema, op, Level::Model, format!("model `{}` is read-only", schema.name))
                .fix("lift it: remove `read_only` from `#[dataflow::model(..)]` (dynamic models: `\"read_only\": false` in `options`)"));
        }
        if rules.is_some_and(|r| r.read_only) {
            return Err(blocked(schema, op, Level::Model, format!("model `{}` is read-only", schema.name)).fix(
                format!(
                    "lift it: drop the `read_only` rule of `{}` on the builder (`.protect_model(..)`)",
                    schema.name
                ),
            ));
        }
        if o.forbid.contains(&kind) {
            return Err(blocked(
                schema,
                op,
                Level::Operation,
                format!("model `{}` forbids {}", schema.name, kind.name()),
            )
            .fix(format!("lift it: remove `{}` from `forbid(..)` on the model", snake(kind.name()))));
        }
        if rules.is_some_and(|r| r.forbid.contains(&kind)) {
            return Err(blocked(
                schema,
                op,
                Level::Operation,
                format!("model `{}` forbids {}", schema.name, kind.name()),
            )
            .fix(format!(
                "lift it: remove {} from the builder rule of `{}` (`.protect_model(..)`)",
                kind.name(),
                schema.name
            )));
        }
        Ok(())
    }

    /// The field level: DF-609 when `fields` (written by an update) include a read-only field.
    pub fn check_fields<'f>(
        &self,
        schema: &ModelSchema,
        op: &str,
        fields: impl IntoIterator<Item = &'f str>,
    ) -> Result<()> {
        let rules = self.models.get(&schema.name);
        for name in fields {
            let on_model = schema.field(name).is_some_and(|f| f.read_only);
            let by_rule = rules.is_some_and(|r| r.read_only_fields.iter().any(|f| f == name));
            if on_model || by_rule {
                let lift = if on_model {
                    format!(
                        "or lift it: remove `#[dataflow(read_only)]` from `{name}` (dynamic models: `\"read_only\": false` on the field)"
                    )
                } else {
                    format!(
                        "or lift it: drop `{name}` from the builder rule of `{}` (`.protect_model(..)`)",
                        schema.name
                    )
                };
                return Err(blocked(
                    schema,
                    op,
                    Level::Field,
                    format!("field `{name}` is read-only: it is set on create and never changed"),
                )
                .field(name)
                .fix(format!(
                    "leave `{name}` out of the update, e.g. `update_by_id::<M>(id, Changes::new().set(\"other\", v))`"
                ))
                .fix(lift));
            }
        }
        Ok(())
    }
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
