//! The subcommands' implementations. Each returns the text to print or a DataFlow error.

use std::sync::Arc;

use dataflow_core::DataFlow;
use dataflow_core::migrate::Risk;
use dataflow_core::workflow::{Catalog, Workflow, WorkflowSpec};
use dataflow_sql::error::catalogue;
use dataflow_sql::filter::Filter;
use dataflow_sql::stmt::{self, Scope, SelectSpec};
use dataflow_sql::{Dialect, Error, ErrorCode, ModelSchema, Result};

use crate::Command;

/// Runs one subcommand.
pub fn run(command: Command) -> Result<String> {
    match command {
        Command::Explain { code } => explain(&code),
        Command::Debug { message } => Ok(debug(&message)),
        Command::Sql { model, filter, dialect } => sql(&model, &filter, &dialect),
        Command::Validate { file, models } => validate(&file, &models),
        Command::Analyze { file, models } => analyze(&file, &models),
        Command::Run { file, models, url, transaction } => {
            block_on(run_workflow(file, models, url, transaction, false))
        }
        Command::Perf { file, models, url } => block_on(run_workflow(file, models, url, false, true)),
        Command::Migrate { action, url, models, accept } => block_on(migrate(action, url, models, accept)),
        Command::Generate { url } => block_on(generate(url)),
    }
}

fn block_on<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        Error::new(ErrorCode::DATABASE, format!("could not start the async runtime: {e}")).with_source(e)
    })?;
    rt.block_on(f)
}

fn usage(message: impl Into<String>, fix: &str) -> Error {
    Error::new(ErrorCode::INVALID_PARAMETER, message).fix(fix)
}

fn explain(code: &str) -> Result<String> {
    let parsed = catalogue::parse_code(code)
        .ok_or_else(|| usage(format!("`{code}` is not an error code"), "codes look like DF-101"))?;
    catalogue::explain(parsed).ok_or_else(|| {
        usage(format!("{parsed} is not in the catalogue"), "run `dataflow debug \"<message>\"` to find a code")
    })
}

fn debug(message: &str) -> String {
    let ranked = catalogue::debug(message);
    if ranked.is_empty() {
        return "no DataFlow error code matches this message; paste the whole message, including [DF-xxx] if present"
            .into();
    }
    let mut out = String::new();
    for (code, score) in ranked.into_iter().take(3) {
        out.push_str(&format!("--- {code} (match {score:.2}) ---\n"));
        out.push_str(&catalogue::explain(code).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn read(path: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read `{path}`: {e}"), "check the path").with_source(e))
}

fn parse_json(text: &str, what: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| usage(format!("{what} is not valid JSON: {e}"), "pass a JSON document"))
}

/// Reads one schema or an array of schemas.
fn load_models(path: &str) -> Result<Vec<ModelSchema>> {
    let json = parse_json(&read(path)?, path)?;
    match json {
        serde_json::Value::Array(items) => items.iter().map(ModelSchema::from_json).collect(),
        one => Ok(vec![ModelSchema::from_json(&one)?]),
    }
}

fn dialects(name: &str) -> Result<Vec<Dialect>> {
    Ok(match name {
        "all" => Dialect::ALL.to_vec(),
        "postgres" | "postgresql" => vec![Dialect::Postgres],
        "mysql" | "mariadb" => vec![Dialect::MySql],
        "sqlite" => vec![Dialect::Sqlite],
        other => return Err(usage(format!("unknown dialect `{other}`"), "use postgres, mysql, sqlite or all")),
    })
}

fn sql(model: &str, filter: &str, dialect: &str) -> Result<String> {
    let models = load_models(model)?;
    let schema = models.first().ok_or_else(|| usage(format!("`{model}` holds no model"), "add a model schema"))?;
    let parsed = Filter::parse(&parse_json(filter, "--filter")?, schema)?;
    let mut out = String::new();
    for d in dialects(dialect)? {
        schema.validate_for(d)?;
        let spec = SelectSpec {
            condition: Some(parsed.to_condition(schema, d)),
            scope: Scope { include_deleted: false, tenant: None },
            order_by: &[],
            limit: None,
            offset: None,
            after: None,
            fields: None,
        };
        let s = stmt::select(schema, d, &spec);
        out.push_str(&format!("-- {d}\n{}\n-- values: {:?}\n\n", s.sql, s.values.0));
    }
    Ok(out.trim_end().to_owned())
}

fn load_workflow(file: &str, models: &str) -> Result<(WorkflowSpec, Arc<Catalog>)> {
    let catalog = Arc::new(Catalog::from_schemas(load_models(models)?)?);
    Ok((WorkflowSpec::load(file)?, catalog))
}

fn validate(file: &str, models: &str) -> Result<String> {
    let (spec, catalog) = load_workflow(file, models)?;
    let nodes = spec.nodes.len();
    let builder = dataflow_core::workflow::WorkflowBuilder::from_spec(catalog, spec);
    let errors = builder.validate();
    if errors.is_empty() { Ok(format!("{file}: valid ({nodes} nodes)")) } else { Err(Error::collected(errors)) }
}

fn analyze(file: &str, models: &str) -> Result<String> {
    let (spec, catalog) = load_workflow(file, models)?;
    let builder = dataflow_core::workflow::WorkflowBuilder::from_spec(catalog, spec);
    Ok(dataflow_core::workflow::Inspector::of_builder(&builder).show())
}

async fn run_workflow(file: String, models: String, url: String, transaction: bool, perf: bool) -> Result<String> {
    let schemas = load_models(&models)?;
    let db = DataFlow::connect(&url).await?;
    for s in schemas {
        db.register_schema(s).await?;
    }
    let workflow = Workflow::load(&file, Arc::new(Catalog::from_schemas(load_models(&models)?)?))?;
    let run = if transaction { workflow.execute_in_transaction(&db).await } else { workflow.execute(&db).await };
    let stats = db.stats();
    db.close().await;
    let output = run.map_err(|f| Error::new(f.code(), f.to_string()).node(&f.node))?;
    if perf {
        let mut out = String::from("node                 level   start(ms)  elapsed(ms)\n");
        for t in &output.timings {
            out.push_str(&format!(
                "{:<20} {:>5} {:>11.3} {:>12.3}\n",
                t.node,
                t.level,
                t.started.as_secs_f64() * 1e3,
                t.elapsed.as_secs_f64() * 1e3
            ));
        }
        out.push('\n');
        out.push_str(&stats.to_string());
        Ok(out)
    } else {
        serde_json::to_string_pretty(&output.results)
            .map_err(|e| usage(format!("could not render the results: {e}"), "report this as a bug"))
    }
}

fn parse_risk(s: &str) -> Result<Risk> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "low" => Risk::Low,
        "medium" => Risk::Medium,
        "high" => Risk::High,
        "critical" => Risk::Critical,
        other => return Err(usage(format!("unknown risk `{other}`"), "use low, medium, high or critical")),
    })
}

async fn migrate(action: String, url: String, models: Option<String>, accept: String) -> Result<String> {
    let db = DataFlow::builder(&url).auto_migrate(false).connect().await?;
    let mut out = String::new();
    match action.as_str() {
        "status" => {
            for h in db.migration_history().await? {
                out.push_str(&format!(
                    "v{} {} ({}) {} {} {}\n",
                    h.version, h.model, h.table, h.risk, h.applied_at, h.checksum
                ));
            }
            if out.is_empty() {
                out.push_str("no migrations recorded");
            }
        }
        "plan" | "apply" => {
            let path = models.ok_or_else(|| usage("`migrate plan|apply` needs --models", "--models models.json"))?;
            let accept = parse_risk(&accept)?;
            for schema in load_models(&path)? {
                let plan = db.plan_migration(&schema).await?;
                if action == "plan" {
                    out.push_str(&format!("{plan}\n"));
                } else {
                    let report = db.apply_plan(&plan, accept).await?;
                    out.push_str(&format!(
                        "{}: applied {} step(s) in {:?}; remaining:\n{}\n",
                        schema.name,
                        report.applied.len(),
                        report.duration,
                        report.remaining
                    ));
                }
            }
        }
        other => return Err(usage(format!("unknown migrate action `{other}`"), "use plan, apply or status")),
    }
    db.close().await;
    Ok(out.trim_end().to_owned())
}

async fn generate(url: String) -> Result<String> {
    let db = DataFlow::builder(&url).auto_migrate(false).connect().await?;
    let found = db.discover_schema().await?;
    db.close().await;
    let mut out = String::from("// Generated by `dataflow generate`.\n\n");
    for s in &found.models {
        out.push_str(&dataflow_core::migrate::render_rust(s));
        out.push('\n');
    }
    for (table, reason) in &found.skipped {
        out.push_str(&format!("// skipped table `{table}`: {reason}\n"));
    }
    for (table, column, ty) in &found.omitted_columns {
        out.push_str(&format!("// omitted `{table}.{column}` ({ty}): unsupported type\n"));
    }
    Ok(out)
}
