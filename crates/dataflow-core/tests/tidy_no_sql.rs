//! Tidy check of the boundary in docs/ARCHITECTURE.md: dataflow-core executes SQL but builds
//! none. Every string literal in `src/**/*.rs` (outside `#[cfg(test)]` code and `tests.rs`
//! files) that contains an SQL keyword must be on the allow-list below — which holds only
//! messages that *name* SQL, never statement text. Statement text belongs in dataflow-sql.

use std::path::{Path, PathBuf};

/// SQL keywords (case-sensitive: statements are written in upper case; prose is not).
const KEYWORDS: &[&str] = &[
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "CREATE TABLE",
    "CREATE INDEX",
    "CREATE UNIQUE",
    "ALTER TABLE",
    "DROP TABLE",
    "DROP INDEX",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "PRAGMA",
    "GET_LOCK",
    "RELEASE_LOCK",
    "pg_advisory",
    "pg_try_advisory",
    "information_schema",
    "pg_catalog",
    "sqlite_master",
    "RETURNING",
    "ON CONFLICT",
    "ON DUPLICATE KEY",
    " WHERE ",
    " FROM ",
];

/// `(file under src/, literal)` pairs that may contain a keyword: error texts naming a statement.
const ALLOWED: &[(&str, &str)] = &[
    ("ops/create.rs", "INSERT ... RETURNING returned no row"),
    ("migrate/lock.rs", " (pg_advisory_lock)"),
    ("migrate/lock.rs", " (GET_LOCK)"),
    ("migrate/lock.rs", " (BEGIN IMMEDIATE)"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") && p.file_name().is_some_and(|n| n != "tests.rs") {
            out.push(p);
        }
    }
}

/// The string literals of one line of Rust (`"..."` with escapes, `r"..."`, `r#"..."#`), with
/// a flag telling whether a literal is still open at the end of the line.
fn literals(src: &str) -> Vec<String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                // Line comment (doc comments included): skip to the end of the line.
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('"' must not open a string) or a lifetime.
                if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else {
                    i += 1;
                }
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#')) && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) => {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let start = j + 1;
                let end = src[start..].find(&close).map_or(b.len(), |e| start + e);
                out.push(src[start..end].to_owned());
                i = end + close.len();
            }
            b'"' => {
                let mut s = String::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                        if b.get(i) == Some(&b'\n') {
                            // Line continuation: skip the newline and leading white space.
                            while i + 1 < b.len() && b[i + 1].is_ascii_whitespace() {
                                i += 1;
                            }
                        } else if let Some(c) = b.get(i) {
                            s.push(*c as char);
                        }
                    } else {
                        s.push(b[i] as char);
                    }
                    i += 1;
                }
                out.push(s);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

#[test]
fn core_builds_no_sql() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {} files under {}", files.len(), src.display());
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // Unit tests sit at the end of a file, behind `#[cfg(test)]`; they may assert on SQL.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        for lit in literals(code) {
            if KEYWORDS.iter().any(|k| lit.contains(k)) && !ALLOWED.contains(&(rel.as_str(), lit.as_str())) {
                found.push(format!("{rel}: {lit:?}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL text in dataflow-core (build it in dataflow-sql, or add an error message to ALLOWED):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_sees_sql_in_every_literal_form() {
    let src = "let a = \"SELECT 1\"; let b = r#\"DROP TABLE \"t\"\"#; // \"COMMIT\"\nlet c = '\"'; let d = \"x\\\n   BEGIN\";";
    let l = literals(src);
    assert_eq!(l, ["SELECT 1", "DROP TABLE \"t\"", "xBEGIN"]);
}
