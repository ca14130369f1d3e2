//! `dataflow validate` and `dataflow analyze`: workflow checks without a database.

use std::path::Path;
use std::sync::Arc;

use dataflow_core::workflow::{Catalog, Inspector, WorkflowBuilder, WorkflowSpec};
use dataflow_sql::Error;
use serde_json::{Value as J, json};

use crate::args::Format;
use crate::models_file;
use crate::output::{CliError, pretty};

/// The workflow file and the catalog of its models' node types.
pub fn load(file: &Path, models: &Path) -> Result<(WorkflowSpec, Arc<Catalog>), CliError> {
    let catalog = Arc::new(Catalog::from_schemas(models_file::load(models)?).map_err(CliError::usage)?);
    let spec = WorkflowSpec::load(file).map_err(CliError::usage)?;
    Ok((spec, catalog))
}

/// An error as JSON: code, message, fixes, and the errors collected under it.
pub fn error_json(e: &Error) -> J {
    let c = e.context();
    json!({
        "code": e.code().to_string(),
        "message": e.message(),
        "model": c.model, "field": c.field, "node": c.node,
        "fixes": e.fixes(),
        "related": e.related().iter().map(error_json).collect::<Vec<_>>(),
    })
}

/// `dataflow validate`: every error at once; invalid = exit 1.
pub fn validate(file: &Path, models: &Path, format: Format) -> Result<String, CliError> {
    let (spec, catalog) = load(file, models)?;
    let nodes = spec.nodes.len();
    let errors = WorkflowBuilder::from_spec(catalog, spec).validate();
    let name = file.display();
    match format {
        Format::Json => {
            let doc = json!({
                "file": name.to_string(),
                "valid": errors.is_empty(),
                "nodes": nodes,
                "errors": errors.iter().map(error_json).collect::<Vec<_>>(),
            });
            if errors.is_empty() { Ok(pretty(&doc)) } else { Err(CliError::failure_report(pretty(&doc))) }
        }
        Format::Text if errors.is_empty() => Ok(format!("{name}: valid ({nodes} nodes)")),
        Format::Text => Err(CliError::from(Error::collected(errors))),
    }
}

/// `dataflow analyze`: nodes, connections, levels and cycles.
pub fn analyze(file: &Path, models: &Path, format: Format) -> Result<String, CliError> {
    let (spec, catalog) = load(file, models)?;
    let nodes: Vec<J> = spec.nodes.iter().map(|n| json!({"id": n.id, "type": n.node_type})).collect();
    let builder = WorkflowBuilder::from_spec(catalog, spec);
    let ins = Inspector::of_builder(&builder);
    match format {
        Format::Text => Ok(ins.show()),
        Format::Json => {
            let edges: Vec<J> = ins
                .connections()
                .iter()
                .map(|e| {
                    let via = match e.via {
                        dataflow_core::workflow::Via::Connection(_) => "connection",
                        dataflow_core::workflow::Via::Template => "template",
                    };
                    json!({"from": e.from, "output": e.output, "to": e.to, "param": e.param, "via": via})
                })
                .collect();
            let broken: Vec<J> = ins.validate_connections().into_iter().map(error_json).collect();
            Ok(pretty(&json!({
                "nodes": nodes,
                "connections": edges,
                "levels": ins.levels(),
                "cycles": ins.detect_cycles(),
                "broken_connections": broken,
            })))
        }
    }
}
