//! Helper process for the multi-process migration test: connects to the URL in `argv[1]` and
//! registers the dynamic model whose JSON is `argv[2]`. Prints `ok` and exits 0 on success;
//! prints the error and exits 1 otherwise.
//!
//! `DF_WORKER_LEASE_MS=<ms>`: use the lease-row migration lock (advisory locks off) with that
//! lease duration; `DF_WORKER_LOCK_TIMEOUT_MS=<ms>`: how long to wait for another holder.

use std::time::Duration;

use dataflow_core::DataFlow;
use dataflow_sql::ModelSchema;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(model)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: migrate_worker <url> <model-json>");
        std::process::exit(2);
    };
    let result = async {
        let json: serde_json::Value = serde_json::from_str(model).map_err(|e| e.to_string())?;
        let schema = ModelSchema::from_json(&json).map_err(|e| e.to_string())?;
        let mut b = DataFlow::builder(url);
        if let Some(ms) = std::env::var("DF_WORKER_LEASE_MS").ok().and_then(|v| v.parse().ok()) {
            b = b.migration_lock(dataflow_core::MigrationLock::Lease).lease_duration(Duration::from_millis(ms));
        }
        if let Some(ms) = std::env::var("DF_WORKER_LOCK_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()) {
            b = b.migration_lock_timeout(Duration::from_millis(ms));
        }
        let db = b.connect().await.map_err(|e| e.to_string())?;
        let r = db.register_schema(schema).await.map_err(|e| e.to_string());
        db.close().await;
        r
    }
    .await;
    match result {
        Ok(()) => println!("ok"),
        Err(e) => {
            println!("error: {e}");
            std::process::exit(1);
        }
    }
}
