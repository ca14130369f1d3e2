//! `dataflow import`: stream CSV (header row), JSON Lines or a JSON array into a model's table in
//! bounded memory.
//!
//! A reader thread parses the file and sends one record at a time through a bounded channel;
//! the importer validates each record (the operation's own checks: DF-101/102/103) and inserts
//! full batches with BulkCreate (one transaction per batch). A batch the database refuses (a
//! unique or foreign key violation) is retried row by row so the bad rows can be named.
//! Memory is bounded by the batch size and the channel, never by the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dataflow_core::DataFlow;
use dataflow_sql::{Error, ErrorCode, FieldType, ModelSchema};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Value as J};
use tokio::sync::mpsc;

use crate::args::{DataFormat, ImportArgs, OnError};
use crate::output::{CliError, usage};
use crate::{database, models_file};

/// One record read from the file: where it was and either its fields or why it is unreadable.
struct Item {
    line: u64,
    record: Result<Map<String, J>, Error>,
}

/// A fatal reader error (the file cannot be read on).
enum Msg {
    Item(Item),
    Fatal(Error),
}

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

/// CSV text → the JSON value the field takes. An empty cell is NULL, except for a non-nullable
/// string field, where it is the empty string.
pub fn csv_cell(schema: &ModelSchema, f: Option<&dataflow_sql::FieldDef>, field: &str, text: &str) -> Result<J, Error> {
    let Some(f) = f else {
        return Ok(J::String(text.to_owned()));
    };
    if text.is_empty() {
        return Ok(if f.ty == FieldType::String && !f.nullable { J::String(String::new()) } else { J::Null });
    }
    let bad = |want: &str| {
        Error::new(ErrorCode::WRONG_TYPE, format!("field `{field}` expects {want}, got `{text}`"))
            .model(&schema.name)
            .field(field)
            .fix(format!("write {want} in the `{field}` column"))
    };
    let t = text.trim();
    Ok(match f.ty {
        FieldType::I32 | FieldType::I64 => t.parse::<i64>().map(J::from).map_err(|_| bad("an integer"))?,
        FieldType::F64 => t
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .ok_or_else(|| bad("a number"))?,
        FieldType::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "y" => J::Bool(true),
            "false" | "f" | "0" | "no" | "n" => J::Bool(false),
            _ => return Err(bad("true or false")),
        },
        FieldType::Json | FieldType::Array(_) => {
            serde_json::from_str(t).map_err(|_| bad("JSON text (e.g. [\"a\", \"b\"] or {\"k\": 1})"))?
        }
        FieldType::String
        | FieldType::DateTime
        | FieldType::Date
        | FieldType::Uuid
        | FieldType::Decimal
        | FieldType::Bytes => J::String(text.to_owned()),
    })
}

fn shape_err(line: u64, msg: String) -> Error {
    Error::new(ErrorCode::WRONG_SHAPE, format!("line {line}: {msg}")).fix("each record must be a JSON object")
}

fn read_csv<R: Read>(r: R, schema: &ModelSchema, tx: &mpsc::Sender<Msg>) {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(r);
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_owned()).collect(),
        Err(e) => {
            let _ = tx.blocking_send(Msg::Fatal(Error::new(
                ErrorCode::WRONG_SHAPE,
                format!("cannot read the CSV header: {e}"),
            )));
            return;
        }
    };
    let mut defs = Vec::with_capacity(headers.len());
    for h in &headers {
        match schema.any_field(h) {
            Some(f) => defs.push(f),
            None => {
                let _ = tx.blocking_send(Msg::Fatal(schema.unknown_field(h).fix("rename or remove the CSV column")));
                return;
            }
        }
    }
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => return,
            Ok(true) => {
                let line = rec.position().map_or(line, |p| p.line());
                let mut m = Map::with_capacity(headers.len());
                let mut err = None;
                for ((h, f), v) in headers.iter().zip(&defs).zip(rec.iter()) {
                    match csv_cell(schema, Some(f), h, v) {
                        Ok(j) => {
                            m.insert(h.clone(), j);
                        }
                        Err(e) => {
                            err = Some(e);
                            break;
                        }
                    }
                }
                let record = match err {
                    Some(e) => Err(e),
                    None => Ok(m),
                };
                if tx.blocking_send(Msg::Item(Item { line, record })).is_err() {
                    return;
                }
            }
            Err(e) => {
                let line = e.position().map_or(line + 1, |p| p.line());
                let err = Error::new(ErrorCode::WRONG_SHAPE, format!("line {line}: {e}"))
                    .fix("every CSV row needs as many cells as the header");
                // A row with the wrong number of cells is one bad row; anything else stops reading.
                let fatal = !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. });
                let msg = if fatal { Msg::Fatal(err) } else { Msg::Item(Item { line, record: Err(err) }) };
                if tx.blocking_send(msg).is_err() || fatal {
                    return;
                }
            }
        }
    }
}

fn read_jsonl<R: Read>(r: R, tx: &mpsc::Sender<Msg>) {
    let mut rdr = BufReader::with_capacity(1 << 16, r);
    let mut buf = String::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        line += 1;
        match rdr.read_line(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                let _ = tx.blocking_send(Msg::Fatal(Error::new(ErrorCode::WRONG_SHAPE, format!("line {line}: {e}"))));
                return;
            }
        }
        if buf.trim().is_empty() {
            continue;
        }
        let record = match serde_json::from_str::<J>(&buf) {
            Ok(J::Object(m)) => Ok(m),
            Ok(other) => Err(shape_err(line, format!("expected a JSON object, got {other}"))),
            Err(e) => Err(shape_err(line, format!("not valid JSON: {e}"))),
        };
        if tx.blocking_send(Msg::Item(Item { line, record })).is_err() {
            return;
        }
    }
}

/// Streams the elements of a top-level JSON array one by one (never the whole array in memory).
struct ArrayVisitor<'a> {
    tx: &'a mpsc::Sender<Msg>,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_> {
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
            if self.tx.blocking_send(Msg::Item(Item { line: n, record })).is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}

fn read_json_array<R: Read>(r: R, tx: &mpsc::Sender<Msg>) {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, r));
    if let Err(e) = (&mut de).deserialize_seq(ArrayVisitor { tx }) {
        let _ = tx.blocking_send(Msg::Fatal(
            Error::new(ErrorCode::WRONG_SHAPE, format!("the JSON array cannot be read on: {e}"))
                .fix("the file must hold one JSON array of objects; use --format jsonl for one object per line"),
        ));
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
    batch: Vec<(u64, J)>,
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

    /// Cheap checks before a record joins a batch (required fields). Types and unknown fields
    /// are checked by BulkCreate itself; a batch it refuses is retried row by row, which names
    /// the bad rows with the same errors.
    fn check(&self, m: &Map<String, J>) -> Result<(), Error> {
        for f in &self.schema.fields {
            let missing = matches!(m.get(&f.name), None | Some(J::Null));
            if missing && f.required_on_create() {
                return Err(Error::new(ErrorCode::MISSING_FIELD, format!("field `{}` is required", f.name))
                    .model(&self.schema.name)
                    .field(&f.name)
                    .fix(format!("give every row a `{}` value", f.name)));
            }
        }
        Ok(())
    }

    async fn add(&mut self, item: Item, batch_size: usize) -> Result<(), Error> {
        match item.record.and_then(|m| self.check(&m).map(|()| m)) {
            Ok(m) => self.batch.push((item.line, J::Object(m))),
            Err(e) => {
                if self.on_error == OnError::Stop {
                    self.flush().await?;
                }
                self.reject(item.line, &e);
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
        let batch = std::mem::take(&mut self.batch);
        let model = self.schema.name.clone();
        let res = self.express().bulk_create_json_iter(&model, batch.iter().map(|(_, j)| j)).await;
        match res {
            Ok(n) => self.imported += n,
            Err(e) if is_row_error(&e) => {
                // Name the bad rows: retry the batch row by row.
                for (line, j) in batch {
                    if self.stopped {
                        break;
                    }
                    match self.express().create_json(&model, &j).await {
                        Ok(_) => self.imported += 1,
                        Err(e) if is_row_error(&e) => self.reject(line, &e),
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
    let (tx, mut rx) = mpsc::channel::<Msg>(batch_size.clamp(64, 8192));
    let rs = schema.clone();
    let thread = std::thread::spawn(move || match format {
        DataFormat::Csv => read_csv(reader, &rs, &tx),
        DataFormat::Jsonl => read_jsonl(reader, &tx),
        DataFormat::Json => read_json_array(reader, &tx),
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
    let mut seen = 0u64;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Fatal(e) => {
                fatal = Some(e);
                break;
            }
            Msg::Item(item) => {
                seen += 1;
                if let Err(e) = imp.add(item, batch_size).await {
                    fatal = Some(e);
                    break;
                }
            }
        }
        if imp.stopped {
            break;
        }
        if seen.is_multiple_of(1024) {
            pb.set_position(read.load(Ordering::Relaxed));
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            pb.set_message(format!("{} rows, {:.0} rows/s", imp.imported, imp.imported as f64 / secs));
        }
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
