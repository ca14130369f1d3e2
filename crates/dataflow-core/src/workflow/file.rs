//! Workflows as JSON or YAML files. Loading goes through the same validation as the builder.

use std::path::Path;
use std::sync::Arc;

use dataflow_sql::{Error, ErrorCode, Result};

use super::builder::{Workflow, WorkflowBuilder};
use super::catalog::Catalog;
use super::spec::WorkflowSpec;

/// A workflow file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

impl Format {
    /// The format for a file extension (`.json`, `.yaml`, `.yml`).
    pub fn from_path(path: &Path) -> Result<Format> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Ok(Format::Json),
            Some("yaml" | "yml") => Ok(Format::Yaml),
            _ => Err(Error::new(
                ErrorCode::WORKFLOW_FILE,
                format!("cannot tell the format of `{}` from its extension", path.display()),
            )
            .fix("name workflow files `*.json`, `*.yaml` or `*.yml`")),
        }
    }
}

fn file_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::WORKFLOW_FILE, format!("invalid workflow {what}: {e}")).fix(
        "a workflow is {\"name\": .., \"nodes\": [{\"id\": \"create\", \"type\": \"UserCreateNode\", \"params\": {..}}], \"connections\": [{\"from\": \"create\", \"output\": \"id\", \"to\": \"read\", \"param\": \"id\"}]}",
    )
}

impl WorkflowSpec {
    /// Parses a workflow from text in a format (DF-804 on syntax errors or unknown keys).
    pub fn parse(text: &str, format: Format) -> Result<WorkflowSpec> {
        match format {
            Format::Json => serde_json::from_str(text).map_err(|e| file_error("JSON", e)),
            Format::Yaml => serde_yaml::from_str(text).map_err(|e| file_error("YAML", e)),
        }
    }

    /// Renders the workflow in a format.
    pub fn render(&self, format: Format) -> Result<String> {
        match format {
            Format::Json => serde_json::to_string_pretty(self).map_err(|e| file_error("JSON", e)),
            Format::Yaml => serde_yaml::to_string(self).map_err(|e| file_error("YAML", e)),
        }
    }

    /// Reads a `.json` / `.yaml` / `.yml` file.
    pub fn load(path: impl AsRef<Path>) -> Result<WorkflowSpec> {
        let path = path.as_ref();
        let format = Format::from_path(path)?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(ErrorCode::WORKFLOW_FILE, format!("cannot read `{}`: {e}", path.display()))
                .fix("check the path and permissions")
        })?;
        Self::parse(&text, format).map_err(|e| e.field(path.display().to_string()))
    }
}

impl Workflow {
    /// Parses and validates (fail-fast) a workflow from text.
    pub fn parse(text: &str, format: Format, catalog: impl Into<Arc<Catalog>>) -> Result<Workflow> {
        WorkflowBuilder::from_spec(catalog, WorkflowSpec::parse(text, format)?).build()
    }

    /// Loads and validates (fail-fast) a workflow file; the format comes from the extension.
    pub fn load(path: impl AsRef<Path>, catalog: impl Into<Arc<Catalog>>) -> Result<Workflow> {
        WorkflowBuilder::from_spec(catalog, WorkflowSpec::load(path)?).build()
    }

    /// The workflow as JSON text.
    pub fn to_json(&self) -> Result<String> {
        self.spec().render(Format::Json)
    }

    /// The workflow as YAML text.
    pub fn to_yaml(&self) -> Result<String> {
        self.spec().render(Format::Yaml)
    }

    /// Writes the workflow to a `.json` / `.yaml` / `.yml` file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let text = self.spec().render(Format::from_path(path)?)?;
        std::fs::write(path, text).map_err(|e| {
            Error::new(ErrorCode::WORKFLOW_FILE, format!("cannot write `{}`: {e}", path.display()))
                .fix("check the path and permissions")
        })
    }
}
