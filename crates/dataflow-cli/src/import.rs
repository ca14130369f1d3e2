//! `dataflow import`: stream CSV (header row), JSON Lines or a JSON array into a model's table in
//! bounded memory.
//!
//! A reader thread parses the file and turns every record into a typed row (one
//! `Option<Value>` per field, in schema order): CSV cells through one converter per column chosen
//! once from the header, JSON objects through the dynamic API's `json_row`. It runs the cheap
//! per-row checks there (DF-101/102/103) and sends rows in chunks through a bounded channel. The
//! importer inserts full batches with `Express::bulk_create_rows` (one transaction per batch, the
//! BulkCreate validation, tenant, protection and audit). A batch the database refuses (a unique
//! or foreign key violation) is retried row by row so the bad rows can be named. Memory is bounded
//! by the batch size and the channel, never by the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dataflow_core::DataFlow;
use dataflow_core::express::dynamic::json_row;
use dataflow_sql::{Error, ErrorCode, FieldDef, FieldType, ManagedField, ModelSchema, Value};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Value as J};
use tokio::sync::mpsc;

use crate::args::{DataFormat, ImportArgs, OnError};
use crate::output::{CliError, usage};
use crate::{database, models_file};

/// One typed row: a slot per user field, in schema order (`None`: not supplied).
type Row = Vec<Option<Value>>;

/// A row that passed the reader's checks, with a copy kept for the row-by-row retry of a batch
/// the database refuses (made on the reader thread, off the inserting task).
struct Good {
    line: u64,
    row: Row,
    spare: Row,
}

/// One record read from the file: where it was and either its row or why it is unreadable.
enum Item {
    Good(Good),
    Bad(u64, Error),
}

/// What the reader sends: a chunk of records, or a fatal error (the file cannot be read on).
enum Msg {
    Items(Vec<Item>),
    Fatal(Error),
}

/// Records per message: the channel's synchronisation is paid per chunk, not per row.
const CHUNK: usize = 512;

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The format from `--format` or the extension.
pub fn format_of(path: &Path, given: Option<DataFormat>) -> Result<DataFormat, CliError> {
    if let Some(f) = given {
        return Ok(f);
    }
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => Ok(DataFormat::Csv),
        Some("jsonl" | "ndjson") => Ok(DataFormat::Jsonl),
        Some("json") => Ok(DataFormat::Json),
        _ => Err(usage(
            format!("cannot tell the format of `{}` from its extension", path.display()),
            "pass --format csv, --format jsonl or --format json",
        )),
    }
}

/// How a CSV cell becomes a value, decided once per column from the field's type.
#[derive(Clone, Copy)]
enum Conv {
    Str,
    I32,
    I64,
    F64,
    Bool,
    /// JSON text: `json`, arrays and bytes (as `export` writes them).
    JsonText,
    /// Text parsed like a JSON string of the type: date-time, date, UUID, decimal.
    Text,
}

/// What an empty cell means for a column, decided once from the field.
#[derive(Clone, Copy)]
enum Empty {
    /// NULL (nullable fields).
    Null,
    /// The empty string (non-nullable string fields).
    Blank,
    /// Not supplied: the default, a generated `id`, or DF-101 for a required field.
    Absent,
    /// The JSON document `null` (non-nullable JSON fields without a default).
    JsonNull,
}

/// A CSV column mapped onto a field.
struct Column {
    slot: usize,
    def: FieldDef,
    conv: Conv,
    empty: Empty,
    /// Whether converted values need [`Value::check`] (a `max_len`).
    check_len: bool,
}

impl Column {
    fn new(schema: &ModelSchema, slot: usize) -> Column {
        let def = schema.fields[slot].clone();
        let conv = match def.ty {
            FieldType::String => Conv::Str,
            FieldType::I32 => Conv::I32,
            FieldType::I64 => Conv::I64,
            FieldType::F64 => Conv::F64,
            FieldType::Bool => Conv::Bool,
            FieldType::Json | FieldType::Array(_) | FieldType::Bytes => Conv::JsonText,
            FieldType::DateTime | FieldType::Date | FieldType::Uuid | FieldType::Decimal => Conv::Text,
        };
        let empty = if def.nullable {
            Empty::Null
        } else if def.ty == FieldType::String {
            Empty::Blank
        } else if def.ty == FieldType::Json && def.default.is_none() {
            Empty::JsonNull
        } else {
            Empty::Absent
        };
        let check_len = def.max_len.is_some();
        Column { slot, def, conv, empty, check_len }
    }

    fn bad(&self, schema: &ModelSchema, want: &str, text: &str) -> Error {
        let field = &self.def.name;
        Error::new(ErrorCode::WRONG_TYPE, format!("field `{field}` expects {want}, got `{text}`"))
            .model(&schema.name)
            .field(field)
            .fix(format!("write {want} in the `{field}` column"))
    }

    /// CSV text → the field's value. `Ok(None)`: not supplied (see [`Empty`]).
    fn convert(&self, schema: &ModelSchema, text: &str) -> Result<Option<Value>, Error> {
        if text.is_empty() {
            return Ok(match self.empty {
                Empty::Null => Some(Value::Null),
                Empty::Blank => Some(Value::String(String::new())),
                Empty::Absent => None,
                Empty::JsonNull => Some(Value::Json(J::Null)),
            });
        }
        let t = text.trim();
        let v = match self.conv {
            Conv::Str => Value::String(text.to_owned()),
            Conv::I64 => Value::I64(t.parse().map_err(|_| self.bad(schema, "an integer", text))?),
            Conv::I32 => match t.parse::<i64>() {
                Ok(n) => Value::I32(i32::try_from(n).map_err(|_| self.bad(schema, self.def.ty.expected(), text))?),
                Err(_) => return Err(self.bad(schema, "an integer", text)),
            },
            Conv::F64 => match t.parse::<f64>() {
                Ok(x) if x.is_finite() => Value::F64(x),
                _ => return Err(self.bad(schema, "a number", text)),
            },
            Conv::Bool => match t {
                "true" | "t" | "1" | "yes" | "y" => Value::Bool(true),
                "false" | "f" | "0" | "no" | "n" => Value::Bool(false),
                _ => match t.to_ascii_lowercase().as_str() {
                    "true" | "t" | "1" | "yes" | "y" => Value::Bool(true),
                    "false" | "f" | "0" | "no" | "n" => Value::Bool(false),
                    _ => return Err(self.bad(schema, "true or false", text)),
                },
            },
            Conv::JsonText => {
                let want = match self.def.ty {
                    FieldType::Bytes => "a JSON array of bytes (e.g. [0, 127, 255])",
                    _ => "JSON text (e.g. [\"a\", \"b\"] or {\"k\": 1})",
                };
                let j: J = serde_json::from_str(t).map_err(|_| self.bad(schema, want, text))?;
                if j.is_null() {
                    return Ok(Some(Value::from_json(&j, &self.def).map_err(|e| e.or_model(&schema.name))?));
                }
                Value::from_json_typed(&j, self.def.ty).ok_or_else(|| self.bad(schema, self.def.ty.expected(), text))?
            }
            Conv::Text => Value::from_json_typed(&J::String(t.to_owned()), self.def.ty)
                .ok_or_else(|| self.bad(schema, self.def.ty.expected(), text))?,
        };
        if self.check_len {
            v.check(&self.def).map_err(|e| e.model(&schema.name))?;
        }
        Ok(Some(v))
    }
}

/// The header → one entry per CSV column: the field it fills, or `None` for a managed column
/// (`created_at`, ...), which the database fills (ignored with a warning, as on every write).
/// Unknown columns (DF-103), a `tenant_id` column of a multi-tenant model and a repeated column
/// stop the import before any row is read.
fn csv_columns(schema: &ModelSchema, headers: &csv::StringRecord) -> Result<Vec<Option<Column>>, Error> {
    let mut cols = Vec::with_capacity(headers.len());
    let mut seen = vec![false; schema.fields.len()];
    for h in headers.iter().map(str::trim) {
        if let Some(slot) = schema.fields.iter().position(|f| f.name == h) {
            if std::mem::replace(&mut seen[slot], true) {
                return Err(Error::new(ErrorCode::WRONG_SHAPE, format!("the CSV header names `{h}` twice"))
                    .model(&schema.name)
                    .field(h)
                    .fix("keep one column per field"));
            }
            cols.push(Some(Column::new(schema, slot)));
        } else if schema.managed_fields().iter().any(|m| m.column() == h) {
            if h == ManagedField::TenantId.column() {
                return Err(Error::new(
                    ErrorCode::TENANT_MISUSE,
                    format!("the CSV has a `{h}` column, but the tenant of `{}` comes from --tenant", schema.name),
                )
                .model(&schema.name)
                .field(h)
                .fix("remove the `tenant_id` column and pass --tenant <id> (one import per tenant)"));
            }
            tracing::warn!(target: "dataflow::sql", model = %schema.name, field = %h, "managed column in the CSV ignored");
            cols.push(None);
        } else {
            return Err(schema.unknown_field(h).fix("rename or remove the CSV column"));
        }
    }
    Ok(cols)
}

/// DF-101 for a required field the row leaves out (or NULL), before the row joins a batch.
fn check_required(schema: &ModelSchema, row: &Row) -> Result<(), Error> {
    for (f, v) in schema.fields.iter().zip(row) {
        if matches!(v, None | Some(Value::Null)) && f.required_on_create() {
            return Err(Error::new(ErrorCode::MISSING_FIELD, format!("field `{}` is required", f.name))
                .model(&schema.name)
                .field(&f.name)
                .fix(format!("give every row a `{}` value", f.name)));
        }
    }
    Ok(())
}

/// Buffers the reader's records and sends them in chunks.
struct Sender<'a> {
    tx: &'a mpsc::Sender<Msg>,
    buf: Vec<Item>,
    schema: &'a ModelSchema,
}

impl Sender<'_> {
    /// Queues a converted record (checks required fields); `false` when the importer is gone.
    fn row(&mut self, line: u64, row: Result<Row, Error>) -> bool {
        let item = match row.and_then(|r| check_required(self.schema, &r).map(|()| r)) {
            Ok(row) => Item::Good(Good { line, spare: row.clone(), row }),
            Err(e) => Item::Bad(line, e),
        };
        self.buf.push(item);
        self.buf.len() < CHUNK || self.send()
    }

    fn send(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(Msg::Items(chunk)).is_ok()
    }

    /// Sends what is queued, then the fatal error.
    fn fatal(&mut self, e: Error) {
        if self.send() {
            let _ = self.tx.blocking_send(Msg::Fatal(e));
        }
    }
}

fn shape_err(line: u64, msg: String) -> Error {
    Error::new(ErrorCode::WRONG_SHAPE, format!("line {line}: {msg}")).fix("each record must be a JSON object")
}

fn read_csv<R: Read>(r: R, out: &mut Sender<'_>) {
    let schema = out.schema;
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(r);
    let cols = match rdr.headers() {
        Ok(h) => match csv_columns(schema, h) {
            Ok(c) => c,
            Err(e) => return out.fatal(e),
        },
        Err(e) => {
            return out.fatal(Error::new(ErrorCode::WRONG_SHAPE, format!("cannot read the CSV header: {e}")));
        }
    };
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => {
                out.send();
                return;
            }
            Ok(true) => {
                let line = rec.position().map_or(line, |p| p.line());
                let mut row: Row = vec![None; schema.fields.len()];
                let mut res = Ok(());
                for (c, text) in cols.iter().zip(rec.iter()) {
                    if let Some(c) = c {
                        match c.convert(schema, text) {
                            Ok(v) => row[c.slot] = v,
                            Err(e) => {
                                res = Err(e);
                                break;
                            }
                        }
                    }
                }
                if !out.row(line, res.map(|()| row)) {
                    return;
                }
            }
            Err(e) => {
                let line = e.position().map_or(line + 1, |p| p.line());
                let err = Error::new(ErrorCode::WRONG_SHAPE, format!("line {line}: {e}"))
                    .fix("every CSV row needs as many cells as the header");
                // A row with the wrong number of cells is one bad row; anything else stops reading.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    return out.fatal(err);
                }
                if !out.row(line, Err(err)) {
                    return;
                }
            }
        }
    }
}

/// A JSON record → a typed row, with the dynamic API's checks (DF-102/103, managed fields, tenant).
fn json_record(schema: &ModelSchema, record: Result<Map<String, J>, Error>) -> Result<Row, Error> {
    json_row(schema, &J::Object(record?))
}

fn read_jsonl<R: Read>(r: R, out: &mut Sender<'_>) {
    let mut rdr = BufReader::with_capacity(1 << 16, r);
    let mut buf = String::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        line += 1;
        match rdr.read_line(&mut buf) {
            Ok(0) => {
                out.send();
                return;
            }
            Ok(_) => {}
            Err(e) => return out.fatal(Error::new(ErrorCode::WRONG_SHAPE, format!("line {line}: {e}"))),
        }
        if buf.trim().is_empty() {
            continue;
        }
        let record = match serde_json::from_str::<J>(&buf) {
            Ok(J::Object(m)) => Ok(m),
            Ok(other) => Err(shape_err(line, format!("expected a JSON object, got {other}"))),
            Err(e) => Err(shape_err(line, format!("not valid JSON: {e}"))),
        };
        let row = json_record(out.schema, record);
        if !out.row(line, row) {
            return;
        }
    }
}

/// Streams the elements of a top-level JSON array one by one (never the whole array in memory).
struct ArrayVisitor<'a, 'b> {
    out: &'a mut Sender<'b>,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0u64;
        while let Some(v) = seq.next_element::<J>()? {
            n += 1;
            let record = match v {
                J::Object(m) => Ok(m),
                other => {
                    Err(Error::new(ErrorCode::WRONG_SHAPE, format!("record {n}: expected a JSON object, got {other}")))
                }
            };
            let row = json_record(self.out.schema, record);
            if !self.out.row(n, row) {
                return Ok(());
            }
        }
        Ok(())
    }
}

fn read_json_array<R: Read>(r: R, out: &mut Sender<'_>) {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, r));
    match (&mut de).deserialize_seq(ArrayVisitor { out: &mut *out }) {
        Ok(()) => {
            out.send();
        }
        Err(e) => out.fatal(
            Error::new(ErrorCode::WRONG_SHAPE, format!("the JSON array cannot be read on: {e}"))
                .fix("the file must hold one JSON array of objects; use --format jsonl for one object per line"),
        ),
    }
}

/// A rejected row for the report.
struct Rejected {
    line: u64,
    code: String,
    message: String,
}

struct Importer<'a> {
    db: &'a DataFlow,
    schema: &'a ModelSchema,
    tenant: Option<&'a str>,
    on_error: OnError,
    batch: Vec<Good>,
    imported: u64,
    rejected: Vec<Rejected>,
    stopped: bool,
}

impl Importer<'_> {
    fn express(&self) -> dataflow_core::Express<'_> {
        match self.tenant {
            Some(t) => self.db.express().tenant(t),
            None => self.db.express(),
        }
    }

    fn reject(&mut self, line: u64, e: &Error) {
        let shown = e.to_string();
        let first = shown.lines().next().unwrap_or_default();
        let message = first.strip_prefix(&format!("[{}] ", e.code())).unwrap_or(first).to_owned();
        self.rejected.push(Rejected { line, code: e.code().to_string(), message });
        if self.on_error == OnError::Stop {
            self.stopped = true;
        }
    }

    async fn add(&mut self, item: Item, batch_size: usize) -> Result<(), Error> {
        match item {
            Item::Good(g) => self.batch.push(g),
            Item::Bad(line, e) => {
                if self.on_error == OnError::Stop {
                    self.flush().await?;
                }
                self.reject(line, &e);
            }
        }
        if self.batch.len() >= batch_size {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Error> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut batch = std::mem::take(&mut self.batch);
        let model = self.schema.name.clone();
        let rows = batch.iter_mut().map(|g| std::mem::take(&mut g.row));
        let res = self.express().bulk_create_rows(&model, rows).await;
        match res {
            Ok(n) => self.imported += n,
            Err(e) if is_row_error(&e) => {
                // Name the bad rows: retry the batch row by row (from the reader's copies).
                for g in batch {
                    if self.stopped {
                        break;
                    }
                    match self.express().bulk_create_rows(&model, [g.spare]).await {
                        Ok(n) => self.imported += n,
                        Err(e) if is_row_error(&e) => self.reject(g.line, &e),
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

/// Errors caused by one row's data (as opposed to the connection or the schema).
fn is_row_error(e: &Error) -> bool {
    let n = e.code().number();
    (100..200).contains(&n) || (501..=504).contains(&n) || n == 510
}

fn progress(total: Option<u64>, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let pb = match total {
        Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr_with_hz(5)).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} {msg} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(5)).with_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bytes} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

fn write_report(path: &Path, rejected: &[Rejected]) -> Result<(), CliError> {
    let fail =
        |e: &dyn std::fmt::Display| CliError::failure_msg(format!("cannot write the report `{}`: {e}", path.display()));
    let mut w = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
    w.write_record(["line", "code", "message"]).map_err(|e| fail(&e))?;
    for r in rejected {
        w.write_record([r.line.to_string().as_str(), &r.code, &r.message]).map_err(|e| fail(&e))?;
    }
    w.flush().map_err(|e| fail(&e))
}

fn default_report(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".rejected.csv");
    PathBuf::from(s)
}

/// `dataflow import`.
pub async fn import(a: ImportArgs) -> Result<String, CliError> {
    let url = database::require(&a.db)?;
    let schema =
        models_file::select(models_file::load(&a.models.models)?, a.models.model.as_deref(), &a.models.models)?;
    let format = format_of(&a.file, a.format)?;
    let file =
        File::open(&a.file).map_err(|e| usage(format!("cannot open `{}`: {e}", a.file.display()), "check the path"))?;
    let total = file.metadata().ok().map(|m| m.len()).filter(|n| *n > 0);
    let batch_size = usize::try_from(a.batch_size).unwrap_or(usize::MAX);

    let db = DataFlow::connect(&url).await?;
    if let Err(e) = db.register_schema(schema.clone()).await {
        db.close().await;
        return Err(e.into());
    }

    let read = Arc::new(AtomicU64::new(0));
    let reader = Counting { inner: file, read: read.clone() };
    // At most ~8,192 rows (in chunks) wait between the reader and the importer.
    let (tx, mut rx) = mpsc::channel::<Msg>(batch_size.clamp(64, 8192).div_ceil(CHUNK).max(2));
    let rs = schema.clone();
    let thread = std::thread::spawn(move || {
        let mut out = Sender { tx: &tx, buf: Vec::with_capacity(CHUNK), schema: &rs };
        match format {
            DataFormat::Csv => read_csv(reader, &mut out),
            DataFormat::Jsonl => read_jsonl(reader, &mut out),
            DataFormat::Json => read_json_array(reader, &mut out),
        }
    });

    use std::io::IsTerminal;
    let pb = progress(total, a.no_progress || !std::io::stderr().is_terminal());
    let started = Instant::now();
    let mut imp = Importer {
        db: &db,
        schema: &schema,
        tenant: a.tenant.as_deref(),
        on_error: a.on_error,
        batch: Vec::with_capacity(batch_size.min(100_000)),
        imported: 0,
        rejected: Vec::new(),
        stopped: false,
    };
    let mut fatal: Option<Error> = None;
    'read: while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Fatal(e) => {
                fatal = Some(e);
                break;
            }
            Msg::Items(items) => {
                for item in items {
                    if let Err(e) = imp.add(item, batch_size).await {
                        fatal = Some(e);
                        break 'read;
                    }
                    if imp.stopped {
                        break 'read;
                    }
                }
            }
        }
        pb.set_position(read.load(Ordering::Relaxed));
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        pb.set_message(format!("{} rows, {:.0} rows/s", imp.imported, imp.imported as f64 / secs));
    }
    if fatal.is_none()
        && !imp.stopped
        && let Err(e) = imp.flush().await
    {
        fatal = Some(e);
    }
    drop(rx);
    let _ = thread.join();
    pb.finish_and_clear();
    db.close().await;

    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 { imp.imported as f64 / secs } else { 0.0 };
    let mut summary = format!(
        "imported {} row(s) into `{}` (table `{}`) in {:.2} s ({:.0} rows/s); rejected {}",
        imp.imported,
        schema.name,
        schema.table,
        secs,
        rate,
        imp.rejected.len()
    );
    if !imp.rejected.is_empty() {
        let path = a.report.clone().unwrap_or_else(|| default_report(&a.file));
        write_report(&path, &imp.rejected)?;
        summary.push_str(&format!(" (listed in {})", path.display()));
        let first = &imp.rejected[0];
        summary.push_str(&format!("\nfirst rejected: line {} [{}] {}", first.line, first.code, first.message));
    }
    if let Some(e) = fatal {
        return Err(CliError { text: summary, ..CliError::from(e) });
    }
    if imp.stopped {
        return Err(CliError::failure_msg(format!(
            "{summary}\nstopped at the first bad row (--on-error stop); rows before it are imported. Use --on-error skip to import the rest."
        )));
    }
    Ok(summary)
}
