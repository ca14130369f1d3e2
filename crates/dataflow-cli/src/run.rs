//! `dataflow run`: execute a workflow file against `--database` and print node id -> result.
//! Kept in its own file: `run`'s inputs and failure printing evolve separately.

use std::sync::Arc;

use dataflow_core::workflow::{Catalog, Workflow};
use dataflow_sql::Error;

use crate::args::RunArgs;
use crate::output::{CliError, pretty, usage};
use crate::{database, models_file};

/// `dataflow run`.
pub async fn run(a: RunArgs) -> Result<String, CliError> {
    let url = database::require(&a.db)?;
    let schemas = models_file::load(&a.models)?;
    let protection = dataflow_core::protect::Protection { read_only: a.read_only, ..Default::default() };
    let catalog =
        Arc::new(Catalog::from_schemas(schemas.clone()).map_err(CliError::usage)?.with_protection(protection));
    let workflow = Workflow::load(&a.file, catalog).map_err(CliError::usage)?;
    let inputs = resolve_inputs(&a, &workflow)?;
    if let Some(t) = a.tenant.as_deref() {
        dataflow_sql::tenant::validate_name(t).map_err(CliError::usage)?;
    }
    let db = dataflow_core::DataFlow::builder(&url).read_only(a.read_only).connect().await?;
    for s in schemas {
        db.register_schema(s).await?;
    }
    // The audit rows of the run name the actor (docs/guide/protection-and-audit.md).
    let db = match a.actor.as_deref() {
        Some(actor) => db.as_actor(actor),
        None => db,
    };
    let out = if a.transaction {
        match a.tenant.as_deref() {
            Some(t) => workflow.execute_in_transaction_with_as(&db, inputs, t).await,
            None => workflow.execute_in_transaction_with(&db, inputs).await,
        }
    } else {
        workflow.execute_with_as(&db, inputs, a.tenant.as_deref()).await
    };
    db.close().await;
    let mut output = out.map_err(failure_report)?;
    // Results in the file's node order (nodes of one level finish in any order).
    let order = dataflow_core::workflow::WorkflowSpec::load(&a.file).map(|s| s.nodes).unwrap_or_default();
    let mut results = serde_json::Map::new();
    for n in order {
        if let Some(v) = output.results.remove(&n.id) {
            results.insert(n.id, v);
        }
    }
    results.append(&mut output.results);
    Ok(pretty(&serde_json::Value::Object(results)))
}

/// The inputs as one JSON object: `--inputs-file` first, then the `--input` pairs (typed by the
/// workflow's declarations).
fn resolve_inputs(a: &RunArgs, workflow: &Workflow) -> Result<serde_json::Value, CliError> {
    let mut m = match &a.inputs_file {
        Some(path) => {
            let shown = path.display();
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read `{shown}`: {e}"), "check the --inputs-file path"))?;
            match serde_json::from_str(&text) {
                Ok(serde_json::Value::Object(m)) => m,
                Ok(other) => {
                    return Err(usage(
                        format!("`{shown}` must hold a JSON object of inputs, got {other}"),
                        "write {\"tier\": \"gold\", \"qty\": 3}",
                    ));
                }
                Err(e) => return Err(usage(format!("`{shown}` is not valid JSON: {e}"), "fix the JSON")),
            }
        }
        None => serde_json::Map::new(),
    };
    for pair in &a.input {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| usage(format!("`--input {pair}` is not key=value"), "write --input tier=gold"))?;
        m.insert(k.trim().to_owned(), workflow.input_from_str(k.trim(), v));
    }
    Ok(serde_json::Value::Object(m))
}

/// A failed run as one error: the failing node and its cause, what completed (with results)
/// and what was skipped. The text carries the DF-803 code once (the error's own prefix).
fn failure_report(f: dataflow_core::workflow::WorkflowFailure) -> CliError {
    let text = f.to_string();
    let body = text.strip_prefix(&format!("[{}] ", f.code())).unwrap_or(&text).to_owned();
    if f.partial.results.is_empty() {
        return Error::new(f.code(), body).node(&f.node).into();
    }
    let results = serde_json::to_string_pretty(&f.partial.results).unwrap_or_default();
    Error::new(f.code(), format!("{body}\n  results of the completed nodes:\n{results}")).node(&f.node).into()
}
