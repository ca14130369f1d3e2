//! `ScriptNode`: a small script inside a workflow file (the equivalent of a code node for
//! workflows that cannot carry Rust), in the embedded, sandboxed [Rhai](https://rhai.rs)
//! language.
//!
//! ```yaml
//! - id: price
//!   type: ScriptNode
//!   params:
//!     script: |
//!       let total = qty * unit_price;
//!       let label = "order of " + qty;
//!     qty: "${inputs.qty}"
//!     unit_price: 2.5
//! ```
//!
//! Every parameter except `script` is bound as a variable. The result is the object the script
//! evaluates to, if it ends in an object map (`#{total: 3, label: "x"}`); otherwise an object of
//! the variables the script defined at its top level (`{"total": .., "label": ..}`), with the
//! final value under `result` when there is one.
//!
//! The sandbox: no `import` (the engine is built without modules), no `eval`, no file system,
//! network or process access (Rhai has none), `print`/`debug` go to tracing. Limits
//! ([`ScriptLimits`]): operations, string/array/map sizes, call depth, expression depth and
//! wall time. Scripts compile when the workflow is validated: a syntax error is a DF-809 before
//! anything runs, naming the node and the line and column.

use std::cell::Cell;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dataflow_sql::{Error, ErrorCode, Result};
use rhai::{AST, Dynamic, Engine, EvalAltResult, Position, Scope};
use serde_json::{Map, Value as J};

/// The sandbox limits every script runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptLimits {
    /// Maximum number of operations (each expression step counts).
    pub max_operations: u64,
    /// Maximum length of a string, in bytes.
    pub max_string_size: usize,
    /// Maximum number of elements in an array (nested arrays count too).
    pub max_array_size: usize,
    /// Maximum number of entries in an object map.
    pub max_map_size: usize,
    /// Maximum function call depth.
    pub max_call_levels: usize,
    /// Maximum wall time of one run.
    pub max_time: Duration,
}

/// The limits used by `ScriptNode`.
pub const LIMITS: ScriptLimits = ScriptLimits {
    max_operations: 1_000_000,
    max_string_size: 1 << 20,
    max_array_size: 100_000,
    max_map_size: 10_000,
    max_call_levels: 32,
    max_time: Duration::from_secs(2),
};

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut e = Engine::new();
        e.set_max_operations(LIMITS.max_operations)
            .set_max_string_size(LIMITS.max_string_size)
            .set_max_array_size(LIMITS.max_array_size)
            .set_max_map_size(LIMITS.max_map_size)
            .set_max_call_levels(LIMITS.max_call_levels)
            .set_max_expr_depths(64, 32)
            .set_max_variables(1_000)
            .set_max_functions(100);
        e.disable_symbol("eval");
        e.on_print(|s| tracing::debug!(target: "dataflow::script", "{s}"));
        e.on_debug(|s, _, pos| tracing::debug!(target: "dataflow::script", %pos, "{s}"));
        e.on_progress(|_| {
            let late = DEADLINE.with(|d| d.get().is_some_and(|t| Instant::now() > t));
            late.then(|| Dynamic::from("time limit"))
        });
        e
    })
}

/// A compiled script (cheap to clone).
#[derive(Debug, Clone)]
pub struct Script {
    ast: Arc<AST>,
}

fn at(pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// Whether a parameter name can be a script variable.
pub(crate) fn valid_variable(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Script {
    /// Compiles a script; DF-809 with the position on a syntax error.
    pub fn compile(node: &str, source: &str) -> Result<Script> {
        engine().compile(source).map(|ast| Script { ast: Arc::new(ast) }).map_err(|e| {
            Error::new(
                ErrorCode::SCRIPT,
                format!("the script of node `{node}` does not compile{}: {}", at(e.position()), e.err_type()),
            )
            .node(node)
            .field("script")
            .fix("scripts are Rhai: `let total = qty * price;` — statements end with `;`, strings use double quotes")
        })
    }

    /// Runs the script with `vars` bound as variables (synchronously, under [`LIMITS`]).
    pub fn run(&self, node: &str, vars: &Map<String, J>) -> Result<J> {
        let mut scope = Scope::new();
        for (k, v) in vars {
            let d = rhai::serde::to_dynamic(v).map_err(|e| script_error(node, &e))?;
            scope.push_dynamic(k.as_str(), d);
        }
        let bound = scope.len();
        DEADLINE.with(|d| d.set(Some(Instant::now() + LIMITS.max_time)));
        let out = engine().eval_ast_with_scope::<Dynamic>(&mut scope, &self.ast);
        DEADLINE.with(|d| d.set(None));
        let out = out.map_err(|e| script_error(node, &e))?;
        if out.is_map() {
            return to_json(node, &out);
        }
        let mut m = Map::new();
        for (name, _, value) in scope.iter().skip(bound) {
            m.insert(name.to_owned(), to_json(node, &value)?);
        }
        if !out.is_unit() {
            m.insert("result".into(), to_json(node, &out)?);
        }
        Ok(J::Object(m))
    }
}

fn to_json(node: &str, d: &Dynamic) -> Result<J> {
    rhai::serde::from_dynamic::<J>(d).map_err(|e| script_error(node, &e))
}

fn script_error(node: &str, e: &EvalAltResult) -> Error {
    let pos = at(e.position());
    let (what, fix) = match e {
        EvalAltResult::ErrorTooManyOperations(..) => (
            format!("stopped after {} operations (an endless loop?)", LIMITS.max_operations),
            "scripts may run at most 1,000,000 operations; move heavy work into a Rust code node",
        ),
        EvalAltResult::ErrorTerminated(..) => (
            format!("stopped after {:?} (time limit)", LIMITS.max_time),
            "scripts may run at most 2 seconds; move heavy work into a Rust code node",
        ),
        EvalAltResult::ErrorDataTooLarge(what, ..) => (
            format!("{what} too large (sandbox memory limit)"),
            "strings are limited to 1 MiB, arrays to 100,000 elements, maps to 10,000 entries",
        ),
        EvalAltResult::ErrorStackOverflow(..) => {
            ("call depth limit reached".to_owned(), "functions may nest at most 32 calls deep")
        }
        other => {
            let mut msg = other.to_string();
            if let Some(i) = msg.find(" (line ") {
                msg.truncate(i);
            }
            (msg, "check the script; parameters other than `script` are its variables")
        }
    };
    Error::new(ErrorCode::SCRIPT, format!("the script of node `{node}` failed{pos}: {what}"))
        .node(node)
        .field("script")
        .fix(fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(src: &str, vars: J) -> Result<J> {
        Script::compile("s", src)?.run("s", vars.as_object().unwrap())
    }

    #[test]
    fn arithmetic_strings_objects() {
        let out = run("let total = qty * price; let label = \"n=\" + qty;", json!({"qty": 3, "price": 2.5})).unwrap();
        assert_eq!(out, json!({"total": 7.5, "label": "n=3"}));
        assert_eq!(run("#{a: 1, b: [x, \"y\"]}", json!({"x": true})).unwrap(), json!({"a": 1, "b": [true, "y"]}));
        assert_eq!(run("x + 1", json!({"x": 41})).unwrap(), json!({"result": 42}));
    }

    #[test]
    fn limits_and_errors_are_df_809_with_position() {
        let e = run("let x = 0;\nloop { x += 1; }", json!({})).unwrap_err();
        assert_eq!(e.code(), ErrorCode::SCRIPT);
        // The operation limit, or on a very slow machine the time limit, stops it.
        assert!(e.message().contains("stopped after"), "{e}");
        let e = run("let s = \"xx\";\nloop { s += s; }", json!({})).unwrap_err();
        assert!(e.message().contains("too large"), "{e}");
        let e = run("let a = [1];\nloop { a += a; }", json!({})).unwrap_err();
        assert!(e.message().contains("too large"), "{e}");
        let e = Script::compile("n", "let x = ;").unwrap_err();
        assert!(e.message().contains("node `n` does not compile at line 1"), "{e}");
        let e = run("let y = 1;\nlet x = nope + 1;", json!({})).unwrap_err();
        assert!(e.message().contains("line 2"), "{e}");
        let e = run("eval(\"1\")", json!({})).unwrap_err();
        assert_eq!(e.code(), ErrorCode::SCRIPT);
        let e = Script::compile("n", "import \"x\" as y;").map(|_| ()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::SCRIPT);
        // No file system, network or process functions exist in the sandbox.
        for call in
            ["open_file(\"/etc/passwd\")", "read_file(\"/etc/passwd\")", "http_get(\"http://x\")", "system(\"ls\")"]
        {
            let e = run(call, json!({})).unwrap_err();
            assert!(e.message().contains("Function not found"), "{call}: {e}");
        }
    }
}
