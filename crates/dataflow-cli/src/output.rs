//! Errors and exit codes of the CLI, and JSON output helpers.

use dataflow_sql::{Error, ErrorCode};

/// Exit code: the command ran and failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: the command line or an input file is wrong.
pub const EXIT_USAGE: u8 = 2;

/// A failed command: what to print on stderr and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// The DataFlow error, when there is one.
    pub error: Option<Error>,
    /// Plain text (used when `error` is `None`, or printed after it).
    pub text: String,
    /// `1` failure or `2` usage.
    pub exit: u8,
    /// Print `text` on stdout (a `--format json` report of a failure), not stderr.
    pub stdout: bool,
}

impl CliError {
    /// A usage error (exit 2) with a DataFlow error describing it.
    pub fn usage(error: Error) -> Self {
        CliError { error: Some(error), text: String::new(), exit: EXIT_USAGE, stdout: false }
    }

    /// A failure (exit 1) with plain text.
    pub fn failure_msg(text: impl Into<String>) -> Self {
        CliError { error: None, text: text.into(), exit: EXIT_FAILURE, stdout: false }
    }

    /// A failure whose report (JSON) goes to stdout.
    pub fn failure_report(text: impl Into<String>) -> Self {
        CliError { stdout: true, ..CliError::failure_msg(text) }
    }

    /// What goes to stderr.
    pub fn render(&self) -> String {
        let mut s = match &self.error {
            Some(e) => format!("error: {e:#}"),
            None => String::new(),
        };
        if !self.text.is_empty() {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(&self.text);
        }
        s
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError { error: Some(e), text: String::new(), exit: EXIT_FAILURE, stdout: false }
    }
}

/// A usage error (exit 2): `message`, with one fix.
pub fn usage(message: impl Into<String>, fix: impl Into<String>) -> CliError {
    CliError::usage(Error::new(ErrorCode::INVALID_PARAMETER, message).fix(fix))
}

/// Reads a whole (small) input file: models, workflows. Unreadable = usage error.
pub fn read_small(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read `{}`: {e}", path.display()), "check the path"))
}

/// Parses a JSON command-line argument (`--params`, `--filter`); invalid = usage error.
pub fn json_arg(text: &str, what: &str) -> Result<serde_json::Value, CliError> {
    serde_json::from_str(text).map_err(|e| {
        usage(
            format!("{what} is not valid JSON: {e}"),
            format!("quote it for the shell: {what} '{{\"age\": {{\"$gte\": 18}}}}'"),
        )
    })
}

/// Pretty JSON text.
pub fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}
