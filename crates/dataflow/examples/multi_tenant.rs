//! Multi-tenancy on embedded SQLite: two tenants holding the same ids and unique keys, scoped
//! handles, a tenant-bound transaction, and the errors DataFlow raises before any SQL.
//! User guide: docs/guide/multi-tenancy.md.
//!
//! Run: `cargo run -p dataflow --example multi_tenant`

use dataflow::{DataFlow, Query};
use futures::FutureExt;
use serde_json::json;

/// An invoice; every statement on it is scoped to one tenant.
#[dataflow::model(multi_tenant)]
#[dataflow(soft_delete)]
#[derive(Debug, Clone)]
struct Invoice {
    id: String,
    #[dataflow(unique)]
    number: String,
    amount: f64,
}

#[tokio::main]
async fn main() -> dataflow::Result<()> {
    let path = std::env::temp_dir().join(format!("dataflow_multi_tenant_{}.db", std::process::id()));
    let db = DataFlow::connect(&format!("sqlite://{}", path.display())).await?;
    db.register::<Invoice>().await?;

    // Two tenants, the same id and the same unique number: the key is (tenant_id, id).
    let mut acme = db.tenant("acme");
    let mut globex = db.tenant("globex");
    acme.create(&Invoice { id: "inv-1".into(), number: "2024-001".into(), amount: 100.0 }).await?;
    globex.create(&Invoice { id: "inv-1".into(), number: "2024-001".into(), amount: 999.0 }).await?;
    acme.create_json("Invoice", &json!({"id": "inv-2", "number": "2024-002", "amount": 50.0})).await?;

    let mine = acme.list::<Invoice>(&Query::new().order_by(["id"])).await?;
    println!(
        "acme sees {:?}",
        mine.iter().map(|i| (i.id.as_str(), i.amount, i.tenant_id.as_deref())).collect::<Vec<_>>()
    );
    println!("globex counts {}", globex.count::<Invoice>(&json!({})).await?);
    // A filter naming tenant_id is ANDed with the scope: it cannot widen it.
    println!("acme asking for globex rows: {}", acme.count::<Invoice>(&json!({"tenant_id": "globex"})).await?);

    // Writes by id only reach the scoped tenant's row.
    acme.update(&Invoice { id: "inv-1".into(), number: "2024-001".into(), amount: 120.0 }).await?;
    let g = globex.read::<Invoice>("inv-1").await?.expect("globex keeps its invoice");
    println!("globex inv-1 still {}", g.amount);

    // A transaction bound to a tenant: every tx.express() carries it; switching is refused.
    let total = db
        .tenant("acme")
        .transaction(|tx| {
            async move {
                tx.express()
                    .create_json("Invoice", &json!({"id": "inv-3", "number": "2024-003", "amount": 5.0}))
                    .await?;
                let switched = tx.express().tenant("globex").count::<Invoice>(&json!({})).await;
                println!("switching tenant inside the transaction: {}", switched.unwrap_err());
                tx.express().count::<Invoice>(&json!({})).await
            }
            .boxed()
        })
        .await?;
    println!("acme now holds {total} invoices");

    // Mistakes are DF errors before any SQL.
    println!("no tenant:       {}", db.express().count::<Invoice>(&json!({})).await.unwrap_err());
    println!("padded name:     {}", db.tenant("acme ").count::<Invoice>(&json!({})).await.unwrap_err());
    let smuggled = json!({"id": "x", "number": "x", "amount": 1.0, "tenant_id": "globex"});
    println!("tenant_id in data: {}", acme.create_json("Invoice", &smuggled).await.unwrap_err());

    db.close().await;
    let _ = std::fs::remove_file(&path);
    Ok(())
}
