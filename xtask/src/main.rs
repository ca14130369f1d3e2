//! `cargo xtask`: the project's own automation.
//!
//! ```text
//! cargo xtask ci                                   fmt, clippy, all tests on all backends, soak 10 s, docs, cargo-deny
//! cargo xtask test [--backend sqlite|postgres|mysql|all] [-- <cargo test args>]
//! cargo xtask db up                                start local PostgreSQL/MariaDB if down, create test databases
//! cargo xtask bless                                rewrite trybuild .stderr and insta snapshots
//! cargo xtask bench                                run the benchmarks (see docs/benchmarks.md)
//! cargo xtask bench --peers [--quick]              DataFlow vs raw sqlx, SeaORM and Diesel (benches/peers)
//! cargo xtask docs                                 regenerate docs/guide/errors.md from the error catalogue
//! cargo xtask soak [--secs N]                      load test: 64 tasks, three backends (default 30 s)
//! ```

use std::process::{Command, ExitCode};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => test(&args[1..]),
        Some("db") if args.get(1).map(String::as_str) == Some("up") => db_up(),
        Some("bless") => bless(),
        Some("bench") => bench(&args[1..]),
        Some("docs") => docs(),
        Some("soak") => soak(&args[1..]),
        _ => Err(
            "usage: cargo xtask <ci | test [--backend sqlite|postgres|mysql|all] | db up | bless | bench | docs | soak [--secs N]>"
                .into(),
        ),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives one level below the root").into()
}

fn run(cmd: &mut Command) -> Result {
    eprintln!("$ {cmd:?}");
    let status = cmd.current_dir(root()).status().map_err(|e| format!("could not run {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed with {status}")) }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status().is_ok_and(|s| s.success())
}

fn ci() -> Result {
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    db_up()?;
    // CI=true makes an unreachable PostgreSQL/MySQL a failure, not a skip.
    run_tests("all", &[], true)?;
    // A short load run: no lost increments, no unclassified errors, every acknowledged write kept.
    soak(&["--secs".into(), "10".into()])?;
    run(cargo().args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    if succeeds(cargo().args(["deny", "--version"])) {
        run(cargo().args(["deny", "check", "bans", "licenses", "sources"]))?;
    } else {
        return Err("cargo-deny is not installed: run `cargo install --locked cargo-deny` (.ci/run does)".into());
    }
    eprintln!("xtask ci: all green");
    Ok(())
}

fn test(args: &[String]) -> Result {
    let mut backend = "all".to_owned();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--backend" => backend = it.next().ok_or("--backend needs a value")?.clone(),
            "--" => rest.extend(it.by_ref().cloned()),
            other => rest.push(other.to_owned()),
        }
    }
    if !["sqlite", "postgres", "mysql", "all"].contains(&backend.as_str()) {
        return Err(format!("unknown backend `{backend}`: use sqlite, postgres, mysql or all"));
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    run_tests(&backend, &rest, ci)
}

fn run_tests(backend: &str, extra: &[String], ci: bool) -> Result {
    let backends = if backend == "all" { "sqlite,postgres,mysql" } else { backend };
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--lib", "--bins", "--tests", "--examples"])
        .args(extra)
        .env("DATAFLOW_TEST_BACKENDS", backends);
    if ci {
        cmd.env("CI", "true");
    }
    run(&mut cmd)?;
    // Doc tests (not part of --all-targets).
    let mut doc = cargo();
    doc.args(["test", "--workspace", "--doc"]).env("DATAFLOW_TEST_BACKENDS", backends);
    run(&mut doc)
}

fn bless() -> Result {
    run(cargo()
        .args(["test", "--workspace", "--lib", "--tests"])
        .env("TRYBUILD", "overwrite")
        .env("INSTA_UPDATE", "always")
        .env("DATAFLOW_TEST_BACKENDS", "sqlite"))
}

/// Regenerates `docs/guide/errors.md` from the catalogue (the `errors_doc` test compares them in CI).
fn docs() -> Result {
    run(cargo().args(["test", "-p", "dataflow-sql", "--test", "errors_doc"]).env("DATAFLOW_UPDATE_DOCS", "1"))
}

/// `cargo xtask soak --secs N`: 64 tasks of mixed operations for N seconds on SQLite,
/// PostgreSQL and MariaDB (`tests/src/bin/soak.rs`); fails on a lost increment, an unclassified
/// error or an acknowledged write missing at the end. Unreachable servers fail (CI=true).
fn soak(args: &[String]) -> Result {
    let secs = match args {
        [] => "30".to_owned(),
        [flag, n] if flag == "--secs" && n.parse::<u64>().is_ok() => n.clone(),
        _ => return Err("usage: cargo xtask soak [--secs N]".into()),
    };
    run(cargo().args(["run", "-p", "dataflow-tests", "--bin", "soak", "--", "--secs", &secs]).env("CI", "true"))
}

fn bench(args: &[String]) -> Result {
    if args.iter().any(|a| a == "--peers") {
        return bench_peers(args);
    }
    run(cargo().args(["bench", "--workspace"]).args(args))
}

/// `cargo xtask bench --peers [--quick]`: the side-by-side benchmark of issue 13 (raw sqlx, DataFlow
/// typed and dynamic, SeaORM 2, Diesel 2.3 on SQLite, PostgreSQL and MariaDB). It is a separate
/// workspace (`benches/peers`, own lockfile and target directory) so its dependency tree never
/// enters the main one; `cargo xtask ci` does not build it. Prints a markdown table (also written
/// to `benches/peers/target/peers.md`); copy it into docs/benchmarks.md.
fn bench_peers(args: &[String]) -> Result {
    let mut mode = "full";
    for a in args {
        match a.as_str() {
            "--peers" => {}
            "--quick" => mode = "quick",
            "--full" => mode = "full",
            other => {
                return Err(format!("unknown argument `{other}`: usage: cargo xtask bench --peers [--quick|--full]"));
            }
        }
    }
    let dir = root().join("benches/peers");
    let target = dir.join("target");
    let out = target.join("peers.md");
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env("PEERS_MODE", mode)
        .env("PEERS_OUT", &out);
    // Built with the root toolchain; leave a caller's job limit (CARGO_BUILD_JOBS) alone.
    run(&mut cmd)?;
    eprintln!("xtask: peer benchmark table written to {}", out.display());
    Ok(())
}

/// Starts PostgreSQL and MariaDB when they are down and creates the `test` databases.
fn db_up() -> Result {
    let pg_up = || succeeds(Command::new("pg_isready").args(["-h", "127.0.0.1", "-p", "5432"]));
    if !pg_up() {
        eprintln!("xtask: starting PostgreSQL");
        let versions = std::fs::read_dir("/etc/postgresql").map_err(|e| format!("no PostgreSQL installed: {e}"))?;
        for v in versions.flatten() {
            let v = v.file_name().to_string_lossy().into_owned();
            let _ = run(Command::new("pg_ctlcluster").args(["--skip-systemctl-redirect", &v, "main", "start"]));
        }
        wait_for("PostgreSQL", pg_up)?;
    }
    let my_up = || succeeds(Command::new("mysqladmin").args(["-h", "127.0.0.1", "-uroot", "ping"]));
    if !my_up() {
        eprintln!("xtask: starting MariaDB");
        run(Command::new("start-stop-daemon").args([
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            "/usr/sbin/mariadbd",
        ]))?;
        wait_for("MariaDB", my_up)?;
    }
    let has_pg_test =
        succeeds(Command::new("psql").args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", "SELECT 1"]));
    if !has_pg_test {
        run(Command::new("psql").args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            "CREATE DATABASE test",
        ]))?;
    }
    run(Command::new("mysql").args(["-h", "127.0.0.1", "-uroot", "-e", "CREATE DATABASE IF NOT EXISTS test"]))?;
    eprintln!("xtask: PostgreSQL and MariaDB are up; databases ready");
    Ok(())
}

fn wait_for(what: &str, up: impl Fn() -> bool) -> Result {
    for _ in 0..60 {
        if up() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    Err(format!("{what} did not come up within 30 s"))
}
