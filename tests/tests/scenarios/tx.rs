//! Transaction scenarios: commit, rollback, savepoints, operations inside.

use dataflow::{Error, ErrorCode};
use dataflow_core::DataFlow;
use futures::FutureExt;
use serde_json::json;

use super::models::{Note, register_all, u};

pub async fn transaction_commits(db: &DataFlow) {
    register_all(db).await;
    let n = db
        .transaction(|tx| {
            async move {
                tx.express().create_json("User", &u("t1", "A", None)).await?;
                tx.express().create(&Note::new("in tx", 2)).await?;
                tx.express().count_json("User", &json!({})).await
            }
            .boxed()
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(db.express().read_json("User", &json!("t1")).await.unwrap().is_some());
    assert_eq!(db.express().count::<Note>(&json!({})).await.unwrap(), 1);
}

pub async fn transaction_rolls_back_on_err(db: &DataFlow) {
    register_all(db).await;
    let r: dataflow::Result<()> = db
        .transaction(|tx| {
            async move {
                tx.express().create_json("User", &u("t1", "A", None)).await?;
                tx.express().bulk_create_json("Item", &json!([{"sku": "x"}, {"sku": "y"}])).await?;
                Err(Error::new(ErrorCode::INVALID_PARAMETER, "abort"))
            }
            .boxed()
        })
        .await;
    assert_eq!(r.unwrap_err().code().number(), 109);
    assert_eq!(db.express().count_json("User", &json!({})).await.unwrap(), 0);
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
}

pub async fn nested_transaction_is_savepoint(db: &DataFlow) {
    register_all(db).await;
    db.transaction(|tx| {
        async move {
            tx.express().create_json("User", &u("outer", "A", None)).await?;
            let inner: dataflow::Result<()> = tx
                .transaction(|tx2| {
                    async move {
                        tx2.express().create_json("User", &u("inner", "B", None)).await?;
                        Err(Error::new(ErrorCode::INVALID_PARAMETER, "inner abort"))
                    }
                    .boxed()
                })
                .await;
            assert!(inner.is_err());
            tx.transaction(|tx2| {
                async move { tx2.express().create_json("User", &u("inner2", "C", None)).await.map(drop) }.boxed()
            })
            .await?;
            Ok(())
        }
        .boxed()
    })
    .await
    .unwrap();
    assert!(db.express().read_json("User", &json!("outer")).await.unwrap().is_some());
    assert!(db.express().read_json("User", &json!("inner")).await.unwrap().is_none());
    assert!(db.express().read_json("User", &json!("inner2")).await.unwrap().is_some());
}

pub async fn failed_bulk_inside_transaction(db: &DataFlow) {
    register_all(db).await;
    let r: dataflow::Result<()> = db
        .transaction(|tx| {
            async move {
                tx.express().create_json("Item", &json!({"sku": "keep"})).await?;
                tx.express().bulk_create_json("Item", &json!([{"sku": "z"}, {"sku": "keep"}])).await?;
                Ok(())
            }
            .boxed()
        })
        .await;
    assert_eq!(r.unwrap_err().code().number(), 501);
    assert_eq!(db.express().count_json("Item", &json!({})).await.unwrap(), 0);
}
