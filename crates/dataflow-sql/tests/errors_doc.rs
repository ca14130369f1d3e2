//! `docs/guide/errors.md` is generated from the error catalogue, so it cannot drift: this test
//! renders the catalogue and compares it with the file. After changing a code or its entry,
//! regenerate the page with `cargo xtask docs` (which runs this test with
//! `DATAFLOW_UPDATE_DOCS=1`).

use std::fmt::Write as _;
use std::path::PathBuf;

use dataflow_sql::ErrorCode;
use dataflow_sql::error::catalogue;

fn range_title(n: u16) -> &'static str {
    match n / 100 {
        1 => "1xx: parameters and values",
        2 => "2xx: workflow connections",
        3 => "3xx: migrations",
        4 => "4xx: configuration and connecting",
        5 => "5xx: runtime and database errors",
        6 => "6xx: models",
        7 => "7xx: nodes",
        8 => "8xx: workflows",
        _ => "9xx: validation",
    }
}

/// Backticks inside table cells or headings are kept; `|` is escaped for tables.
fn render() -> String {
    let mut s = String::from(
        "# Errors\n\n\
         <!-- Generated from crates/dataflow-sql/src/error/catalogue.rs by `cargo xtask docs`; do not edit by hand. -->\n\n\
         Every DataFlow error has a stable code `DF-xxx`, names what it concerns (model, field, node,\n\
         operator), says why, and carries at least one fix. `error.code()` gives the code,\n\
         `error.kind()` a coarse category to `match` on (`ErrorKind::NotFound`, `Conflict`, ...), and\n\
         `format!(\"{error:#}\")` the message with its first fix and any collected errors.\n\n\
         From the shell, `dataflow explain DF-101` prints one entry of this page and\n\
         `dataflow debug \"<message>\"` finds the code of a pasted message (including the databases' own\n\
         messages such as `relation \"users\" does not exist`).\n\n\
         | code | title |\n|---|---|\n",
    );
    for code in ErrorCode::ALL {
        let title = code.title().unwrap_or_default();
        let anchor = code.as_str().to_lowercase();
        let _ = writeln!(s, "| [{}](#{anchor}) | {} |", code.as_str(), title.replace('|', "\\|"));
    }
    let mut range = 0;
    for code in ErrorCode::ALL {
        let n = code.number();
        if n / 100 != range {
            range = n / 100;
            let _ = write!(s, "\n## {}\n", range_title(n));
        }
        let e = catalogue::entry(*code).expect("every code has a catalogue entry");
        let _ = write!(s, "\n### {}\n\n**{}**\n\n{}\n", code.as_str(), e.title(), e.explanation);
        s.push_str("\nLikely causes:\n\n");
        for c in e.causes {
            let _ = writeln!(s, "- {c}");
        }
        s.push_str("\nFixes:\n\n");
        for f in e.fixes {
            let _ = writeln!(s, "- {f}");
        }
    }
    s
}

#[test]
fn errors_page_matches_the_catalogue() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/guide/errors.md");
    let want = render();
    if std::env::var("DATAFLOW_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &want).expect("write docs/guide/errors.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/guide/errors.md is out of date with the error catalogue: run `cargo xtask docs` and commit the result"
    );
}
