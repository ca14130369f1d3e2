//! `dataflow export`: a model's records (optionally filtered) as CSV or JSON Lines, streamed.

use std::io::Write;

use futures::StreamExt;
use serde_json::{Value as J, json};

use crate::args::{DataFormat, ExportArgs};
use crate::output::{CliError, json_arg, usage};
use crate::{database, models_file};

fn cell(v: &J) -> String {
    match v {
        J::Null => String::new(),
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `dataflow export`.
pub async fn export(a: ExportArgs) -> Result<String, CliError> {
    let url = database::require(&a.db)?;
    let schema =
        models_file::select(models_file::load(&a.models.models)?, a.models.model.as_deref(), &a.models.models)?;
    if a.format == DataFormat::Json {
        return Err(usage("export writes csv or jsonl", "--format csv or --format jsonl"));
    }
    let filter = match &a.filter {
        Some(f) => json_arg(f, "--filter")?,
        None => json!({}),
    };
    let db = database::connect_existing(&url).await?;
    let res = async {
        db.register_schema(schema.clone()).await?;
        let out: Box<dyn Write> = match &a.output {
            Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(|e| {
                dataflow_sql::Error::new(
                    dataflow_sql::ErrorCode::INVALID_PARAMETER,
                    format!("cannot create `{}`: {e}", p.display()),
                )
            })?)),
            None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        };
        let ex = match a.tenant.as_deref() {
            Some(t) => db.express().tenant(t),
            None => db.express(),
        };
        let params = json!({ "filter": filter, "order_by": ["id"] });
        let mut stream = std::pin::pin!(ex.list_stream_json(&schema.name, &params));
        let cols: Vec<String> = schema.all_fields().iter().map(|f| f.name.clone()).collect();
        let mut n = 0u64;
        let io = |e: std::io::Error| {
            dataflow_sql::Error::new(dataflow_sql::ErrorCode::DATABASE, format!("write failed: {e}"))
        };
        match a.format {
            DataFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&cols).map_err(|e| io(e.into()))?;
                while let Some(r) = stream.next().await {
                    let r = r?;
                    w.write_record(cols.iter().map(|c| cell(r.get(c).unwrap_or(&J::Null))))
                        .map_err(|e| io(e.into()))?;
                    n += 1;
                }
                w.flush().map_err(io)?;
            }
            _ => {
                let mut w = out;
                while let Some(r) = stream.next().await {
                    let r = r?;
                    serde_json::to_writer(&mut w, &r).map_err(|e| io(e.into()))?;
                    w.write_all(b"\n").map_err(io)?;
                    n += 1;
                }
                w.flush().map_err(io)?;
            }
        }
        Ok::<u64, dataflow_sql::Error>(n)
    }
    .await;
    db.close().await;
    let n = res?;
    Ok(match &a.output {
        Some(p) => format!("exported {n} record(s) of `{}` to {}", schema.name, p.display()),
        None => String::new(),
    })
}
