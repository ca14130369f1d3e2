//! `dataflow`: the DataFlow command-line tool. The user guide's CLI chapter
//! (`docs/guide/cli.md`) documents every subcommand; `dataflow <command> --help` prints the same.
//!
//! Exit codes: `0` success, `1` the command ran and failed (a DataFlow error, a failed workflow,
//! rejected rows under `--on-error stop`, `debug` without a match), `2` usage (bad arguments,
//! unreadable or invalid input files, an ambiguous `--model`).
//!
//! Each subcommand lives in its own module: `diagnose` (explain, debug), `sql`, `workflow_cmds`
//! (validate, analyze), `run` (run), `perf`, `migrate`, `generate` (generate, schema export),
//! `import`, `export`. `models_file` reads the models format, `database` resolves `--database`.

mod args;
mod database;
mod diagnose;
mod export;
mod generate;
mod import;
mod migrate;
mod models_file;
mod output;
mod perf;
mod run;
mod sql;
mod workflow_cmds;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command, MigrateCommand, SchemaCommand};
use crate::output::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    match dispatch(cli.command) {
        Ok(out) => {
            if !out.is_empty() {
                println!("{}", out.trim_end());
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.stdout => {
            println!("{}", e.render().trim_end());
            ExitCode::from(e.exit)
        }
        Err(e) => {
            eprintln!("{}", e.render());
            ExitCode::from(e.exit)
        }
    }
}

/// `RUST_LOG` wins; otherwise `-v` raises the level from `warn` (info, debug, trace).
fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    // DATAFLOW_LOG (the library's variable) wins over RUST_LOG.
    let from_env = std::env::var("DATAFLOW_LOG").ok().and_then(|f| EnvFilter::try_new(f).ok());
    let filter = from_env.or_else(|| EnvFilter::try_from_default_env().ok()).unwrap_or_else(|| {
        EnvFilter::new(match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        })
    });
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(true).try_init();
}

fn dispatch(command: Command) -> Result<String, CliError> {
    match command {
        Command::Explain { code } => diagnose::explain(&code),
        Command::Debug { message, format } => diagnose::debug(&message, format),
        Command::Sql(a) => sql::sql(&a),
        Command::Validate { file, models, format } => workflow_cmds::validate(&file, &models, format),
        Command::Analyze { file, models, format } => workflow_cmds::analyze(&file, &models, format),
        Command::Run(a) => block_on(run::run(a)),
        Command::Perf(a) => block_on(perf::perf(a)),
        Command::Migrate(m) => match m {
            MigrateCommand::Plan(a) => block_on(migrate::plan(a)),
            MigrateCommand::Apply(a) => block_on(migrate::apply(a)),
            MigrateCommand::Status(a) => block_on(migrate::status(a)),
        },
        Command::Generate(a) => block_on(generate::generate(a)),
        Command::Schema(SchemaCommand::Export(a)) => block_on(generate::schema_export(a)),
        Command::Import(a) => block_on(import::import(a)),
        Command::Export(a) => block_on(export::export(a)),
    }
}

fn block_on<T>(f: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure_msg(format!("could not start the async runtime: {e}")))?;
    rt.block_on(f)
}
