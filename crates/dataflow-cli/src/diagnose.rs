//! `dataflow explain` and `dataflow debug`.

use dataflow_sql::error::catalogue;
use serde_json::json;

use crate::args::Format;
use crate::output::{CliError, pretty, usage};

/// `dataflow explain DF-101`.
pub fn explain(code: &str) -> Result<String, CliError> {
    let parsed = catalogue::parse_code(code)
        .ok_or_else(|| usage(format!("`{code}` is not an error code"), "codes look like DF-101 (or 101)"))?;
    catalogue::explain(parsed).ok_or_else(|| {
        usage(
            format!("{parsed} is not in the catalogue"),
            "run `dataflow debug \"<message>\"` to find the code of a message",
        )
    })
}

/// `dataflow debug "<message>"`: the best matches with a confidence and their top fixes.
/// No match is a failure (exit 1).
pub fn debug(message: &str, format: Format) -> Result<String, CliError> {
    let ranked: Vec<_> = catalogue::debug(message).into_iter().take(3).collect();
    if ranked.is_empty() {
        return Err(CliError::failure_msg(
            "no DataFlow error code matches this message.\n\
             Paste the whole message (including a [DF-xxx] code if it has one), or list all codes in the guide's errors chapter.",
        ));
    }
    match format {
        Format::Json => {
            let items: Vec<_> = ranked
                .iter()
                .filter_map(|(code, score)| {
                    let e = catalogue::entry(*code)?;
                    Some(json!({
                        "code": code.to_string(),
                        "title": e.title(),
                        "confidence": (f64::from(*score) * 100.0).round() / 100.0,
                        "explanation": e.explanation,
                        "fixes": e.fixes.iter().take(3).collect::<Vec<_>>(),
                    }))
                })
                .collect();
            Ok(pretty(&json!({ "matches": items })))
        }
        Format::Text => {
            let mut out = String::new();
            for (i, (code, score)) in ranked.iter().enumerate() {
                let Some(e) = catalogue::entry(*code) else { continue };
                let label = if i == 0 { "most likely" } else { "also possible" };
                out.push_str(&format!(
                    "{code}: {} ({label}, confidence {:.0}%)\n  {}\n",
                    e.title(),
                    score * 100.0,
                    e.explanation
                ));
                out.push_str("  fixes:\n");
                for f in e.fixes.iter().take(3) {
                    out.push_str(&format!("    - {f}\n"));
                }
                out.push('\n');
            }
            out.push_str(&format!("more: dataflow explain {}", ranked[0].0));
            Ok(out)
        }
    }
}
