//! `dataflow perf`: run a workflow and report per-node timings, totals and percentages.

use std::sync::Arc;

use dataflow_core::workflow::{Catalog, Workflow};
use dataflow_sql::Error;
use serde_json::json;

use crate::args::{Format, PerfArgs};
use crate::output::{CliError, pretty};
use crate::{database, models_file};

/// `dataflow perf`.
pub async fn perf(a: PerfArgs) -> Result<String, CliError> {
    let url = database::require(&a.db)?;
    let schemas = models_file::load(&a.models)?;
    let catalog = Arc::new(Catalog::from_schemas(schemas.clone()).map_err(CliError::usage)?);
    let workflow = Workflow::load(&a.file, catalog).map_err(CliError::usage)?;
    let db = dataflow_core::DataFlow::connect(&url).await?;
    for s in schemas {
        db.register_schema(s).await?;
    }
    let started = std::time::Instant::now();
    let out = workflow.execute(&db).await;
    let wall = started.elapsed();
    let stats = db.stats();
    db.close().await;
    let mut output = out.map_err(|f| Error::new(f.code(), f.to_string()).node(&f.node))?;
    // By level, then in the file's node order (nodes of one level finish in any order).
    let order: Vec<String> = dataflow_core::workflow::WorkflowSpec::load(&a.file)
        .map(|s| s.nodes.into_iter().map(|n| n.id).collect())
        .unwrap_or_default();
    let pos = |id: &str| order.iter().position(|n| n == id).unwrap_or(usize::MAX);
    output.timings.sort_by_key(|t| (t.level, pos(&t.node)));
    let busy: f64 = output.timings.iter().map(|t| t.elapsed.as_secs_f64()).sum();
    let wall_ms = wall.as_secs_f64() * 1e3;
    let pct = |x: f64| if busy > 0.0 { x / busy * 100.0 } else { 0.0 };
    match a.format {
        Format::Json => {
            let nodes: Vec<_> = output
                .timings
                .iter()
                .map(|t| {
                    json!({
                        "node": t.node, "level": t.level,
                        "start_ms": t.started.as_secs_f64() * 1e3,
                        "elapsed_ms": t.elapsed.as_secs_f64() * 1e3,
                        "percent": pct(t.elapsed.as_secs_f64()),
                    })
                })
                .collect();
            Ok(pretty(&json!({"nodes": nodes, "total_node_ms": busy * 1e3, "wall_ms": wall_ms})))
        }
        Format::Text => {
            let mut s = format!("{:<24} {:>5} {:>10} {:>12} {:>7}\n", "node", "level", "start(ms)", "elapsed(ms)", "%");
            for t in &output.timings {
                s.push_str(&format!(
                    "{:<24} {:>5} {:>10.3} {:>12.3} {:>6.1}%\n",
                    t.node,
                    t.level,
                    t.started.as_secs_f64() * 1e3,
                    t.elapsed.as_secs_f64() * 1e3,
                    pct(t.elapsed.as_secs_f64())
                ));
            }
            s.push_str(&format!(
                "total: {} node(s), {:.3} ms in nodes, {:.3} ms wall clock (levels run their nodes concurrently)\n",
                output.timings.len(),
                busy * 1e3,
                wall_ms
            ));
            // Per-operation totals and percentiles, slowest statements (`db.stats()`).
            s.push('\n');
            s.push_str(&stats.to_string());
            Ok(s)
        }
    }
}
