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
    let catalog = Arc::new(Catalog::from_schemas(schemas.clone()).map_err(CliError::usage)?);
    let workflow = Workflow::load(&a.file, catalog).map_err(CliError::usage)?;
    if a.transaction && a.tenant.is_some() {
        return Err(usage("--transaction and --tenant cannot be combined yet", "run without --transaction"));
    }
    let db = dataflow_core::DataFlow::connect(&url).await?;
    for s in schemas {
        db.register_schema(s).await?;
    }
    let out = if a.transaction {
        workflow.execute_in_transaction(&db).await
    } else {
        workflow.execute_as(&db, a.tenant.as_deref()).await
    };
    db.close().await;
    let mut output = out.map_err(|f| Error::new(f.code(), f.to_string()).node(&f.node))?;
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
