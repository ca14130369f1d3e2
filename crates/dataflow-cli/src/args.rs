//! The command line: clap subcommands, their arguments and value enums.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The DataFlow command-line tool.
#[derive(Parser)]
#[command(
    name = "dataflow",
    version,
    about = "DataFlow: inspect, run, migrate, import and export DataFlow models and workflows",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error. Logging: RUST_LOG=dataflow=debug or -v/-vv/-vvv."
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of the reporting commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// SQL dialects for `dataflow sql`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// PostgreSQL.
    #[value(alias = "postgresql")]
    Postgres,
    /// MySQL / MariaDB.
    #[value(alias = "mariadb")]
    Mysql,
    /// SQLite.
    Sqlite,
    /// All three.
    All,
}

/// The eleven operations (plus restore and hard delete of soft-deleted records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum OpArg {
    /// Create one record.
    Create,
    /// Read one record by id.
    Read,
    /// Update one record (`filter` + `fields`).
    Update,
    /// Delete one record by id.
    Delete,
    /// List records (`filter`, `order_by`, `limit`, `offset`, `after`).
    List,
    /// Count records (`filter`).
    Count,
    /// Insert or update one record (`where`, `create`, `update`).
    Upsert,
    /// Insert many records (`data`).
    BulkCreate,
    /// Update many records (`filter` + `fields`).
    BulkUpdate,
    /// Delete many records (`filter` or `ids`).
    BulkDelete,
    /// Insert or update many records (`data`, `conflict_on`).
    BulkUpsert,
}

/// Highest migration risk `migrate apply` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RiskArg {
    /// Only LOW steps (create table, add nullable column, add index).
    Low,
    /// Up to MEDIUM (NOT NULL with backfill, unique constraints, declared renames).
    Medium,
    /// Up to HIGH (drop column, change type).
    High,
    /// Everything.
    Critical,
}

/// What `dataflow generate` emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenerateLang {
    /// Rust source with `#[dataflow::model]` structs.
    Rust,
    /// The models file format (JSON).
    Json,
    /// The models file format (YAML).
    Yaml,
}

/// File formats of `import` / `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    /// CSV with a header row.
    Csv,
    /// JSON Lines: one object per line.
    Jsonl,
    /// One JSON array of objects (import only; streamed).
    Json,
}

/// What `import` does with a row that cannot be imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnError {
    /// Stop at the first bad row (rows of earlier batches stay imported); exit 1.
    Stop,
    /// Skip bad rows, write them to the report file, import the rest.
    Skip,
}

/// Where the models come from and which one is meant.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// Models file (JSON or YAML; see the guide's "Models file" chapter).
    #[arg(long, value_name = "FILE")]
    pub models: PathBuf,
    /// The model's name; required when the file holds more than one model.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}

/// `--database URL`, defaulting to `DATABASE_URL`.
#[derive(Args, Clone, Debug)]
pub struct DatabaseArg {
    /// Database URL (postgres://, mysql://, mariadb://, sqlite://FILE). Defaults to $DATABASE_URL.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database: Option<String>,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Print the long form of an error code (title, explanation, causes, fixes).
    Explain {
        /// The code, e.g. `DF-101` or `101`.
        code: String,
    },
    /// Map a pasted error message to its DF code(s), with a confidence and the top fixes.
    Debug {
        /// The error message.
        message: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show the SQL and bound values an operation produces, per dialect (no database needed).
    Sql(SqlArgs),
    /// Validate a workflow file (JSON or YAML) against models, reporting every error.
    Validate {
        /// The workflow file.
        file: PathBuf,
        /// Models file.
        #[arg(long, value_name = "FILE")]
        models: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show a workflow's nodes, connections, levels and cycles without running it.
    Analyze {
        /// The workflow file.
        file: PathBuf,
        /// Models file.
        #[arg(long, value_name = "FILE")]
        models: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Execute a workflow file and print node id -> result as JSON.
    Run(RunArgs),
    /// Execute a workflow file and print per-node timings, totals and percentages.
    Perf(PerfArgs),
    /// Plan, apply or list migrations.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Generate Rust models or a models file from an existing database.
    Generate(GenerateArgs),
    /// Work with the models file format.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Load CSV / JSON Lines / a JSON array into a model's table.
    Import(ImportArgs),
    /// Write a model's records as CSV or JSON Lines.
    Export(ExportArgs),
}

/// `dataflow sql`.
#[derive(Args)]
pub struct SqlArgs {
    /// Models.
    #[command(flatten)]
    pub models: ModelArgs,
    /// The operation.
    #[arg(long, value_enum, default_value = "list")]
    pub op: OpArg,
    /// The operation's parameters (JSON), as a workflow node takes them.
    #[arg(long, value_name = "JSON")]
    pub params: Option<String>,
    /// Shorthand for `--params '{"filter": ..}'` (List, Count, BulkUpdate, BulkDelete).
    #[arg(long, value_name = "JSON")]
    pub filter: Option<String>,
    /// Dialect.
    #[arg(long, value_enum, default_value = "all")]
    pub dialect: DialectArg,
    /// Tenant id for multi-tenant models.
    #[arg(long)]
    pub tenant: Option<String>,
}

/// `dataflow run`.
#[derive(Args)]
pub struct RunArgs {
    /// The workflow file.
    pub file: PathBuf,
    /// Models file.
    #[arg(long, value_name = "FILE")]
    pub models: PathBuf,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Run every node in one transaction.
    #[arg(long)]
    pub transaction: bool,
    /// Tenant id for multi-tenant models.
    #[arg(long)]
    pub tenant: Option<String>,
    /// A workflow input, `key=value` (repeatable); text for `string` inputs, JSON otherwise.
    #[arg(long = "input", value_name = "KEY=VALUE")]
    pub input: Vec<String>,
    /// A JSON file with an object of workflow inputs (`--input` values win).
    #[arg(long = "inputs-file", value_name = "FILE")]
    pub inputs_file: Option<PathBuf>,
    /// Refuse every write (DF-609): write nodes fail validation before anything runs.
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Who runs the workflow: recorded as `actor` in the audit rows of audited models.
    #[arg(long)]
    pub actor: Option<String>,
}

/// `dataflow perf`.
#[derive(Args)]
pub struct PerfArgs {
    /// The workflow file.
    pub file: PathBuf,
    /// Models file.
    #[arg(long, value_name = "FILE")]
    pub models: PathBuf,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dataflow migrate ...`.
#[derive(Subcommand)]
pub enum MigrateCommand {
    /// Show what would change (SQL, risk, affected rows); never writes.
    Plan(MigratePlanArgs),
    /// Apply the plan up to the accepted risk.
    Apply(MigrateApplyArgs),
    /// List recorded migration runs with status and duration; never writes.
    Status(MigrateStatusArgs),
}

/// `dataflow migrate plan`.
#[derive(Args)]
pub struct MigratePlanArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Models file.
    #[arg(long, value_name = "FILE")]
    pub models: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dataflow migrate apply`.
#[derive(Args)]
pub struct MigrateApplyArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Models file.
    #[arg(long, value_name = "FILE")]
    pub models: PathBuf,
    /// Highest risk to apply.
    #[arg(long, value_enum, default_value = "low")]
    pub accept: RiskArg,
}

/// `dataflow migrate status`.
#[derive(Args)]
pub struct MigrateStatusArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dataflow generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// What to emit.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: GenerateLang,
}

/// `dataflow schema ...`.
#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Write the models file for an existing database's tables.
    Export(SchemaExportArgs),
}

/// `dataflow schema export`.
#[derive(Args)]
pub struct SchemaExportArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// `json` or `yaml`.
    #[arg(long, value_enum, default_value = "json")]
    pub format: GenerateLang,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// `dataflow import`.
#[derive(Args)]
pub struct ImportArgs {
    /// The data file.
    pub file: PathBuf,
    /// Models.
    #[command(flatten)]
    pub models: ModelArgs,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// Input format; guessed from the extension (.csv, .jsonl/.ndjson, .json) when absent.
    #[arg(long, value_enum)]
    pub format: Option<DataFormat>,
    /// Rows per INSERT batch.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,
    /// What to do with a row that cannot be imported.
    #[arg(long, value_enum, default_value = "stop")]
    pub on_error: OnError,
    /// Report file of rejected rows (line, DF code, message as CSV); default `<file>.rejected.csv`.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Tenant id for multi-tenant models.
    #[arg(long)]
    pub tenant: Option<String>,
    /// No progress bar (also off when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

/// `dataflow export`.
#[derive(Args)]
pub struct ExportArgs {
    /// Models.
    #[command(flatten)]
    pub models: ModelArgs,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArg,
    /// `csv` or `jsonl`.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: DataFormat,
    /// Filter (JSON), as List takes it.
    #[arg(long, value_name = "JSON")]
    pub filter: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Tenant id for multi-tenant models.
    #[arg(long)]
    pub tenant: Option<String>,
}
