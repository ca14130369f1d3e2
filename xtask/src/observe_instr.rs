//! `cargo xtask bench --observe-instructions [--ops N] [--reps R] [--backend sqlite|postgres|mysql|all]
//! [--level trace|info] [--exe PATH]`: the overhead of tracing + metrics (issue 15) in instructions,
//! which do not move with the machine's load the way time does.
//!
//! Builds the `observe` bench (`bench` profile) and runs it under valgrind (`cachegrind`, no cache
//! simulation) with `BENCH_INSTR=<backend>,<mode>,<op>,<n>` for n = 100 and n = 100 + N: the
//! difference of the two counts, divided by N, is the instructions of one operation in that mode,
//! every thread of the process included (sqlx's SQLite worker too). Modes: `off` (instrumentation
//! disabled), `on` (enabled, nobody listening), `exporter` (every DataFlow span built by a
//! registry, every metric handed to a no-op recorder; `--level info` builds the operation spans
//! only, the statement spans being DEBUG). Prints a markdown table with the ratios against `off`.
//!
//! The counts still move by a few percent from one run to the next (the sqlx SQLite worker's
//! wake-ups, the database's replies splitting differently over reads), so `--reps R` measures each
//! (backend, operation, mode) R times and reports the median per-operation count (the spread goes
//! to stderr). `--exe PATH` runs an already built bench binary instead of building one (e.g. a copy
//! of the binary before a change, to compare two builds with the same method).

use std::process::Command;

use crate::{Result, cargo, root};

/// Instructions of one `BENCH_INSTR` run of `exe`.
fn count(exe: &str, spec: &str, level: &str) -> Result<u64> {
    let out = Command::new("valgrind")
        .args(["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", exe])
        .env("BENCH_INSTR", spec)
        .env("BENCH_EXPORTER_LEVEL", level)
        .current_dir(root())
        .output()
        .map_err(|e| format!("could not run valgrind (Debian package `valgrind`): {e}"))?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("BENCH_INSTR={spec} failed under valgrind:\n{err}"));
    }
    // `==123== I   refs:      1,234,567`
    err.lines()
        .find_map(|l| l.split_once("I   refs:").map(|(_, n)| n.trim().replace(',', "")))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no `I refs` line in valgrind's output for {spec}:\n{err}"))
}

/// The median of `v` (the lower middle for an even length).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) / 2]
}

/// Builds the `observe` bench (`bench` profile) and returns its executable.
fn build() -> Result<String> {
    let build = cargo()
        .args(["bench", "--workspace", "--bench", "observe", "--no-run", "--message-format=json"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("could not build the observe bench: {e}"))?;
    if !build.status.success() {
        return Err(format!("building the observe bench failed:\n{}", String::from_utf8_lossy(&build.stderr)));
    }
    let stdout = String::from_utf8_lossy(&build.stdout);
    Ok(stdout
        .lines()
        .filter(|l| l.contains("\"name\":\"observe\""))
        .find_map(|l| l.split_once("\"executable\":\"").and_then(|(_, rest)| rest.split_once('"')).map(|(p, _)| p))
        .ok_or("cargo did not report the observe bench executable")?
        .to_owned())
}

pub fn bench(args: &[String]) -> Result {
    const USAGE: &str = "usage: cargo xtask bench --observe-instructions [--ops N] [--reps R] [--backend B] [--level trace|debug|info] [--exe PATH]";
    let mut ops: u64 = 400;
    let mut reps: usize = 1;
    let mut level = "trace".to_owned();
    let mut backends = vec!["sqlite", "postgres", "mysql"];
    let mut exe = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--observe-instructions" => {}
            "--level" => {
                level = it
                    .next()
                    .filter(|l| matches!(l.as_str(), "trace" | "debug" | "info"))
                    .ok_or("--level takes trace, debug or info")?
                    .clone()
            }
            "--ops" => {
                ops =
                    it.next().and_then(|v| v.parse().ok()).filter(|n| *n > 0).ok_or("--ops takes a positive number")?
            }
            "--reps" => {
                reps =
                    it.next().and_then(|v| v.parse().ok()).filter(|n| *n > 0).ok_or("--reps takes a positive number")?
            }
            "--exe" => exe = Some(it.next().ok_or("--exe takes the path of a built observe bench")?.clone()),
            "--backend" => backends = crate::backends_arg(it.next())?,
            other => return Err(format!("unknown argument `{other}`: {USAGE}")),
        }
    }
    let exe = match exe {
        Some(e) => e,
        None => build()?,
    };
    let base = 100;
    eprintln!("xtask: {exe}, level {level}, {ops} operations, {reps} repetition(s)");
    println!(
        "| backend | operation | off (instr/op) | on, nobody listening | on ÷ off | on + no-op exporter | exporter ÷ off |"
    );
    println!("|---|---|---|---|---|---|---|");
    for backend in backends {
        for op in ["read", "insert"] {
            let mut per_op = [0f64; 3];
            for (k, mode) in ["off", "on", "exporter"].into_iter().enumerate() {
                let mut runs = Vec::with_capacity(reps);
                for _ in 0..reps {
                    let small = count(&exe, &format!("{backend},{mode},{op},{base}"), &level)?;
                    let large = count(&exe, &format!("{backend},{mode},{op},{}", base + ops), &level)?;
                    runs.push(large.saturating_sub(small) as f64 / ops as f64);
                }
                per_op[k] = median(runs.clone());
                let runs: Vec<String> = runs.iter().map(|r| format!("{r:.0}")).collect();
                eprintln!("xtask: {backend} {op} {mode}: {:.0} instructions/op (runs: {})", per_op[k], runs.join(", "));
            }
            println!(
                "| {backend} | {op} | {:.0} | {:.0} | {:.3} | {:.0} | {:.3} |",
                per_op[0],
                per_op[1],
                per_op[1] / per_op[0],
                per_op[2],
                per_op[2] / per_op[0]
            );
        }
    }
    Ok(())
}
