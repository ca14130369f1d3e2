//! Baseline for `dataflow import` (docs/benchmarks.md): inserts N generated rows shaped like the
//! import benchmark's CSV with the typed `bulk_create_iter`, and prints rows/s.
//!
//! Run: `cargo run --release -p dataflow --example bulk_create_baseline -- sqlite:///tmp/b.db 1000000`

use dataflow::DataFlow;

/// The same columns as the import benchmark's `users.csv`.
#[dataflow::model]
#[dataflow(table = "users")]
#[derive(Debug, Clone)]
struct User {
    id: String,
    name: String,
    #[dataflow(unique)]
    email: String,
    age: Option<i32>,
    #[dataflow(default = true)]
    active: bool,
}

#[tokio::main]
async fn main() -> dataflow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "sqlite::memory:".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let db = DataFlow::connect(&url).await?;
    db.register::<User>().await?;
    let rows = (0..n).map(|i| User {
        id: format!("u{i}"),
        name: format!("N{i}"),
        email: format!("e{i}@x"),
        age: Some((i % 90) as i32),
        active: i % 2 == 0,
    });
    let started = std::time::Instant::now();
    let inserted = db.express().bulk_create_iter(rows).await?;
    let secs = started.elapsed().as_secs_f64();
    println!("bulk_create_iter: {inserted} rows in {secs:.2} s ({:.0} rows/s)", inserted as f64 / secs);
    db.close().await;
    Ok(())
}
