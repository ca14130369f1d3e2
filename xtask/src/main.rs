//! `cargo xtask`: the project's own automation.
//!
//! ```text
//! cargo xtask ci                                   fmt, clippy, all tests on all backends, soak 10 s, docs, cargo-deny
//! cargo xtask test [--backend sqlite|postgres|mysql|all] [-- <cargo test args>]
//! cargo xtask db up                                start local PostgreSQL/MariaDB (and a PostgreSQL streaming
//!                                                  replica on 127.0.0.1:5433) if down, create test databases
//! cargo xtask bless                                rewrite trybuild .stderr and insta snapshots
//! cargo xtask bench                                run the benchmarks (see docs/benchmarks.md)
//! cargo xtask bench --peers [--quick]              DataFlow vs raw sqlx, SeaORM and Diesel (benches/peers)
//! cargo xtask bench --sqlite-driver [--quick]      sqlx SqlitePool vs rusqlite execution paths (benches/sqlite-driver)
//! cargo xtask bench --import [--rows N] [--backend B]  `dataflow import` of a CSV vs `bulk_create_iter`
//! cargo xtask bench --macro-compile [--runs N]     compile time of 50 `#[dataflow::model]`s vs plain structs
//! cargo xtask bench --observe-instructions [--ops N] [--reps R] [--backend B] [--level L] [--exe PATH]
//!                                                  tracing + metrics overhead in instructions (valgrind)
//! cargo xtask docs                                 regenerate docs/guide/errors.md from the error catalogue
//! cargo xtask soak [--secs N]                      load test: 64 tasks, three backends (default 30 s)
//! ```

use std::process::{Command, ExitCode};

mod import_bench;
mod macro_compile;
mod observe_instr;

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
    if args.iter().any(|a| a == "--sqlite-driver") {
        return bench_sqlite_driver(args);
    }
    if args.iter().any(|a| a == "--import") {
        return import_bench::bench_import(args);
    }
    if args.iter().any(|a| a == "--macro-compile") {
        return macro_compile::bench(args);
    }
    if args.iter().any(|a| a == "--observe-instructions") {
        return observe_instr::bench(args);
    }
    run(cargo().args(["bench", "--workspace"]).args(args))
}

/// `cargo xtask bench --peers [--quick]`: the side-by-side benchmark of issue 13 (raw sqlx, DataFlow
/// typed and dynamic, SeaORM 2, Diesel 2.3 on SQLite, PostgreSQL and MariaDB). It is a separate
/// workspace (`benches/peers`, own lockfile and target directory) so its dependency tree never
/// enters the main one; `cargo xtask ci` does not build it. Prints a markdown table (also written
/// to `benches/peers/target/peers.md`); copy it into docs/benchmarks.md.
fn bench_peers(args: &[String]) -> Result {
    bench_workspace(args, "peers", "PEERS", "peer benchmark table")
}

/// `cargo xtask bench --sqlite-driver [--quick]`: the SQLite execution path study of issue 13 (sqlx's
/// `SqlitePool` vs rusqlite in the calling thread, on a dedicated connection thread and via
/// `spawn_blocking`). A separate workspace like `--peers` (`benches/sqlite-driver`, own lockfile and
/// target directory). Prints markdown tables (also written to
/// `benches/sqlite-driver/target/sqlite-driver.md`).
fn bench_sqlite_driver(args: &[String]) -> Result {
    bench_workspace(args, "sqlite-driver", "SD", "SQLite driver table")
}

/// Runs the separate benchmark workspace `benches/<name>` (`cargo xtask bench --<name>
/// [--quick|--full]`) in release, with its own target directory; the mode and the path of the
/// markdown output go in `<ENV>_MODE` / `<ENV>_OUT`, the output being `benches/<name>/target/<name>.md`.
fn bench_workspace(args: &[String], name: &str, env: &str, what: &str) -> Result {
    let flag = format!("--{name}");
    let mut mode = "full";
    for a in args {
        match a.as_str() {
            "--quick" => mode = "quick",
            "--full" => mode = "full",
            f if f == flag => {}
            other => {
                return Err(format!("unknown argument `{other}`: usage: cargo xtask bench {flag} [--quick|--full]"));
            }
        }
    }
    let dir = root().join("benches").join(name);
    let target = dir.join("target");
    let out = target.join(format!("{name}.md"));
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env(format!("{env}_MODE"), mode)
        .env(format!("{env}_OUT"), &out);
    // Built with the root toolchain; leave a caller's job limit (CARGO_BUILD_JOBS) alone.
    run(&mut cmd)?;
    eprintln!("xtask: {what} written to {}", out.display());
    Ok(())
}

/// The value of `--backend`: `sqlite`, `postgres`, `mysql`, or `all` for the three.
fn backends_arg(value: Option<&String>) -> Result<Vec<&'static str>> {
    match value.map(String::as_str) {
        Some("all") => Ok(vec!["sqlite", "postgres", "mysql"]),
        Some("sqlite") => Ok(vec!["sqlite"]),
        Some("postgres") => Ok(vec!["postgres"]),
        Some("mysql") => Ok(vec!["mysql"]),
        _ => Err("--backend takes sqlite, postgres, mysql or all".into()),
    }
}

/// Starts PostgreSQL (and its streaming replica), MariaDB and Redis when they are down and
/// creates the `test` databases.
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
    replica_up()?;
    // Redis: the shared query cache's tests (tests/tests/query_cache.rs) need it under CI.
    let redis_up = || succeeds(Command::new("redis-cli").args(["-h", "127.0.0.1", "-p", "6379", "ping"]));
    if !redis_up() {
        eprintln!("xtask: starting Redis");
        run(Command::new("redis-server").args(["--bind", "127.0.0.1", "--port", "6379", "--daemonize", "yes"]))?;
        wait_for("Redis", redis_up)?;
    }
    eprintln!("xtask: PostgreSQL (+ replica on port {REPLICA_PORT}), MariaDB and Redis are up; databases ready");
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

/// Port of the local PostgreSQL streaming replica (`DATAFLOW_TEST_POSTGRES_REPLICA_URL` in tests).
const REPLICA_PORT: &str = "5433";
/// Data directory of the replica cluster (owned by the `postgres` OS user).
const REPLICA_DIR: &str = "/var/lib/postgresql/dataflow-replica";
/// `cluster_name` of the replica: its walreceiver's `application_name` in `pg_stat_replication`.
const REPLICA_NAME: &str = "dataflow_replica";

/// Starts the PostgreSQL hot standby of 127.0.0.1:5432 on 127.0.0.1:5433 when it is not
/// streaming: restarts an existing one, or (re)creates it with `pg_basebackup -R`. Idempotent.
/// The primary is never restarted: it only gets a `host replication all 127.0.0.1/32 trust`
/// line in its pg_hba.conf and a configuration reload when that line is missing.
fn replica_up() -> Result {
    if replica_streaming() {
        return Ok(());
    }
    let bin = pg_bin_dir()?;
    ensure_replication_hba()?;
    let dir = std::path::Path::new(REPLICA_DIR);
    if dir.join("standby.signal").exists() {
        eprintln!("xtask: starting the PostgreSQL replica in {REPLICA_DIR}");
        let _ = run(&mut as_postgres(
            &format!("{bin}/pg_ctl"),
            &["-D", REPLICA_DIR, "-l", &log_file(), "-w", "-t", "30", "start"],
        ));
        if wait_for("the PostgreSQL replica to stream", replica_streaming).is_ok() {
            return Ok(());
        }
        eprintln!("xtask: the existing replica does not stream from the primary; recreating it");
        let _ = run(&mut as_postgres(&format!("{bin}/pg_ctl"), &["-D", REPLICA_DIR, "-m", "immediate", "stop"]));
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("could not remove {REPLICA_DIR}: {e}"))?;
    }
    eprintln!("xtask: creating the PostgreSQL replica with pg_basebackup");
    run(&mut as_postgres(
        &format!("{bin}/pg_basebackup"),
        &["-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-D", REPLICA_DIR, "-R", "-X", "stream"],
    ))?;
    let conf = format!(
        "# DataFlow test replica (written by `cargo xtask db up`): a hot standby of 127.0.0.1:5432.\n\
         port = {REPLICA_PORT}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '/tmp'\n\
         cluster_name = '{REPLICA_NAME}'\nhot_standby = on\nhot_standby_feedback = on\n\
         shared_buffers = 32MB\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
    );
    let hba = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n";
    for (name, text) in [("postgresql.conf", conf.as_str()), ("pg_hba.conf", hba), ("pg_ident.conf", "")] {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("could not write {}: {e}", p.display()))?;
    }
    if is_root() {
        run(Command::new("chown").args(["-R", "postgres:postgres", REPLICA_DIR]))?;
    }
    run(&mut as_postgres(
        &format!("{bin}/pg_ctl"),
        &["-D", REPLICA_DIR, "-l", &log_file(), "-w", "-t", "60", "start"],
    ))?;
    wait_for("the PostgreSQL replica to stream", replica_streaming)
}

fn log_file() -> String {
    format!("{REPLICA_DIR}/replica.log")
}

/// Whether the replica accepts connections, is in recovery and streams from the primary.
fn replica_streaming() -> bool {
    let in_recovery = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            REPLICA_PORT,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-Atc",
            "SELECT pg_is_in_recovery()",
        ])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "t");
    let query = format!(
        "SELECT count(*) FROM pg_stat_replication WHERE application_name = '{REPLICA_NAME}' AND state = 'streaming'"
    );
    in_recovery
        && Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres", "-Atc", &query])
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "1")
}

/// Adds `host replication all 127.0.0.1/32 trust` to the primary's pg_hba.conf if no
/// replication line is there, and reloads the configuration (no restart).
fn ensure_replication_hba() -> Result {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atc", "SHOW hba_file"])
        .output()
        .map_err(|e| format!("could not run psql: {e}"))?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("could not read pg_hba.conf `{path}`: {e}"))?;
    let has = text.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() >= 4 && f[0] == "host" && f[1] == "replication" && (f[3] == "127.0.0.1/32" || f[3] == "all")
    });
    if !has {
        eprintln!("xtask: allowing loopback replication connections in {path} (reload, no restart)");
        let mut t = text;
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t.push_str("host replication all 127.0.0.1/32 trust\n");
        std::fs::write(&path, t).map_err(|e| format!("could not write {path}: {e}"))?;
        run(Command::new("psql").args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            "SELECT pg_reload_conf()",
        ]))?;
    }
    Ok(())
}

/// `/usr/lib/postgresql/<version>/bin` of the installed server (the first in /etc/postgresql).
fn pg_bin_dir() -> Result<String> {
    let mut versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .map_err(|e| format!("no PostgreSQL installed: {e}"))?
        .flatten()
        .map(|v| v.file_name().to_string_lossy().into_owned())
        .collect();
    versions.sort();
    let v = versions.first().ok_or("no PostgreSQL cluster in /etc/postgresql")?;
    Ok(format!("/usr/lib/postgresql/{v}/bin"))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args` as the `postgres` OS user (PostgreSQL refuses to run as root).
fn as_postgres(program: &str, args: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}
