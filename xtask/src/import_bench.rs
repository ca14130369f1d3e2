//! `cargo xtask bench --import [--rows N] [--backend sqlite|postgres|mysql|all]`: the 1,000,000-row
//! `dataflow import` benchmark of docs/benchmarks.md, reproducible from one command.
//!
//! Builds the release CLI and the `bulk_create_baseline` example, writes a CSV of N rows
//! (`id,name,email,age,active`, email unique) and its models file under `target/import-bench/`,
//! then runs, per backend, the baseline (typed `bulk_create_iter` of the same rows in one call)
//! and `dataflow import` (batches of 5,000), alternating, each on an empty table, each under
//! `/usr/bin/time` for the peak RSS. Prints one markdown row per run and the ratio of the medians.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, cargo, root, run, succeeds};

const ROUNDS: usize = 3;

pub fn bench_import(args: &[String]) -> Result {
    let mut rows: usize = 1_000_000;
    let mut backends = vec!["sqlite"];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--import" => {}
            "--rows" => {
                rows = it.next().and_then(|v| v.parse().ok()).ok_or("--rows takes a positive number")?;
            }
            "--backend" => backends = crate::backends_arg(it.next())?,
            other => {
                return Err(format!(
                    "unknown argument `{other}`: usage: cargo xtask bench --import [--rows N] [--backend sqlite|postgres|mysql|all]"
                ));
            }
        }
    }
    if !Path::new("/usr/bin/time").exists() {
        return Err("`/usr/bin/time` (Debian package `time`) is needed for the peak RSS".into());
    }
    // The `bench` profile (release + line tables) over the whole workspace, the same build as
    // `cargo bench --workspace`: one set of optimized dependencies serves every benchmark.
    run(cargo().args(["build", "--profile", "bench", "--workspace", "--bins", "--examples", "--benches"]))?;
    let dir = root().join("target/import-bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let csv = dir.join(format!("users_{rows}.csv"));
    if !csv.exists() {
        write_csv(&csv, rows)?;
    }
    let models = dir.join("models.json");
    std::fs::write(
        &models,
        r#"{"models": [{"name": "User", "table": "users", "fields": [
  {"name": "id", "type": "string"}, {"name": "name", "type": "string"},
  {"name": "email", "type": "string", "unique": true}, {"name": "age", "type": "i32", "nullable": true},
  {"name": "active", "type": "bool", "default": true}]}]}"#,
    )
    .map_err(|e| e.to_string())?;
    let release = root().join("target/release");
    let cli = release.join("dataflow");
    let baseline = release.join("examples/bulk_create_baseline");

    println!("| backend | run | rows | seconds | rows/s | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for backend in backends {
        let mut base_rates = Vec::new();
        let mut imp_rates = Vec::new();
        for _ in 0..ROUNDS {
            let url = fresh_database(backend, &dir)?;
            let (secs, rss) =
                timed(Command::new(&baseline).arg(&url).arg(rows.to_string()), &dir.join("baseline.out"))?;
            println!(
                "| {backend} | bulk_create_iter | {rows} | {secs:.2} | {:.0} | {} MB |",
                rows as f64 / secs,
                rss / 1024
            );
            base_rates.push(rows as f64 / secs);
            let url = fresh_database(backend, &dir)?;
            let (secs, rss) = timed(
                Command::new(&cli)
                    .arg("import")
                    .arg(&csv)
                    .arg("--models")
                    .arg(&models)
                    .arg("--database")
                    .arg(&url)
                    .args(["--batch-size", "5000", "--no-progress"]),
                &dir.join("import.out"),
            )?;
            println!(
                "| {backend} | dataflow import | {rows} | {secs:.2} | {:.0} | {} MB |",
                rows as f64 / secs,
                rss / 1024
            );
            imp_rates.push(rows as f64 / secs);
        }
        let ratio = median(&mut imp_rates) / median(&mut base_rates);
        println!("| {backend} | **import ÷ bulk_create_iter (medians of {ROUNDS})** | | | **{ratio:.2}** | |");
    }
    Ok(())
}

fn write_csv(path: &Path, rows: usize) -> Result {
    let f = std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    let mut go = || -> std::io::Result<()> {
        writeln!(w, "id,name,email,age,active")?;
        for i in 0..rows {
            writeln!(w, "u{i},N{i},e{i}@x,{},{}", i % 90, i % 2 == 0)?;
        }
        w.flush()
    };
    go().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// An empty database for one run: a new SQLite file, or the `dataflow_import_bench` database
/// dropped and created again on the local PostgreSQL / MariaDB.
fn fresh_database(backend: &str, dir: &Path) -> Result<String> {
    const DB: &str = "dataflow_import_bench";
    match backend {
        "sqlite" => {
            let file: PathBuf = dir.join("import.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            Ok(format!("sqlite://{}", file.display()))
        }
        "postgres" => {
            for sql in [format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"), format!("CREATE DATABASE {DB}")] {
                run(Command::new("psql").args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", &sql]))?;
            }
            Ok(format!("postgres://postgres@127.0.0.1:5432/{DB}"))
        }
        _ => {
            let sql = format!("DROP DATABASE IF EXISTS {DB}; CREATE DATABASE {DB}");
            if !succeeds(Command::new("mysql").args(["-h", "127.0.0.1", "-uroot", "-e", &sql])) {
                return Err("cannot reset the MariaDB benchmark database".into());
            }
            Ok(format!("mysql://root@127.0.0.1:3306/{DB}"))
        }
    }
}

/// Runs `cmd` under `/usr/bin/time`; returns wall seconds and peak RSS in KiB.
fn timed(cmd: &mut Command, out: &Path) -> Result<(f64, u64)> {
    let mut t = Command::new("/usr/bin/time");
    t.args(["-f", "%e %M", "-o"]).arg(out).arg(cmd.get_program()).args(cmd.get_args());
    let status = t.current_dir(root()).status().map_err(|e| format!("could not run {t:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{t:?} failed with {status}"));
    }
    let text = std::fs::read_to_string(out).map_err(|e| e.to_string())?;
    let mut parts = text.split_whitespace();
    let secs = parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| format!("unreadable time output: {text}"))?;
    let rss = parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| format!("unreadable time output: {text}"))?;
    Ok((secs, rss))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
