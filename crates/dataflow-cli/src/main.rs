//! `dataflow`: the DataFlow command-line tool (FEATURES §9).
//!
//! ```text
//! dataflow explain DF-101                      long form of an error code
//! dataflow debug "<pasted error message>"      which DF code it is and how to fix it
//! dataflow sql --model user.json --filter '{"age": {"$gte": 18}}' [--dialect all]
//! dataflow validate flow.yaml --models models.json
//! dataflow analyze  flow.yaml --models models.json
//! dataflow run      flow.yaml --models models.json --url sqlite://app.db [--transaction]
//! dataflow perf     flow.yaml --models models.json --url sqlite://app.db
//! dataflow migrate plan|apply|status --url URL [--models models.json] [--accept medium]
//! dataflow generate --url URL                  Rust model source for an existing database
//! ```
//!
//! `--models` is a JSON file holding one model schema or an array of them
//! (`{"name": "User", "fields": [{"name": "id", "type": "string"}, ...]}`).

mod commands;

use clap::{Parser, Subcommand};

/// The DataFlow command-line tool.
#[derive(Parser)]
#[command(name = "dataflow", version, about = "DataFlow: inspect, run and migrate DataFlow models and workflows")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
enum Command {
    /// Print the long form of an error code (title, explanation, causes, fixes with examples).
    Explain {
        /// The code, e.g. `DF-101` or `101`.
        code: String,
    },
    /// Map a pasted error message to its DF code(s) and fixes.
    Debug {
        /// The error message.
        message: String,
    },
    /// Show the SQL and bound parameters a filter produces, per dialect.
    Sql {
        /// Model schema JSON file.
        #[arg(long)]
        model: String,
        /// The filter (JSON).
        #[arg(long, default_value = "{}")]
        filter: String,
        /// `postgres`, `mysql`, `sqlite` or `all`.
        #[arg(long, default_value = "all")]
        dialect: String,
    },
    /// Validate a workflow file (JSON or YAML) against models, reporting every error.
    Validate {
        /// The workflow file.
        file: String,
        /// Models JSON file.
        #[arg(long)]
        models: String,
    },
    /// Show a workflow's nodes, connections, levels and cycles without running it.
    Analyze {
        /// The workflow file.
        file: String,
        /// Models JSON file.
        #[arg(long)]
        models: String,
    },
    /// Execute a workflow file and print node id → result as JSON.
    Run {
        /// The workflow file.
        file: String,
        /// Models JSON file.
        #[arg(long)]
        models: String,
        /// Database URL.
        #[arg(long, default_value = "sqlite://dataflow.db")]
        url: String,
        /// Run every node in one transaction.
        #[arg(long)]
        transaction: bool,
    },
    /// Execute a workflow file and print per-node timings.
    Perf {
        /// The workflow file.
        file: String,
        /// Models JSON file.
        #[arg(long)]
        models: String,
        /// Database URL.
        #[arg(long, default_value = "sqlite://dataflow.db")]
        url: String,
    },
    /// Plan, apply or list migrations.
    Migrate {
        /// `plan`, `apply` or `status`.
        action: String,
        /// Database URL.
        #[arg(long)]
        url: String,
        /// Models JSON file (for plan/apply).
        #[arg(long)]
        models: Option<String>,
        /// Highest risk `apply` accepts: low, medium, high, critical.
        #[arg(long, default_value = "low")]
        accept: String,
    },
    /// Generate Rust model source from an existing database.
    Generate {
        /// Database URL.
        #[arg(long)]
        url: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Logs on stderr when asked: DATAFLOW_LOG (or RUST_LOG) is an EnvFilter such as `dataflow::sql=debug`.
    if let Some(filter) = std::env::var("DATAFLOW_LOG").ok().or_else(|| std::env::var("RUST_LOG").ok())
        && let Err(e) = dataflow_core::observe::init_logging(&filter)
    {
        eprintln!("{e}");
    }
    match commands::run(cli.command) {
        Ok(out) => {
            println!("{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
