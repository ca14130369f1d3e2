//! DataFlow, typed (`#[dataflow::model]` structs, `Stored<M>` out) and dynamic (JSON in and out).

use dataflow::{DataFlow, Query};
use futures::StreamExt;
use serde_json::json;

use crate::{Op, Work};

/// The point-operation table (read, update, list, count).
#[dataflow::model]
#[dataflow(table = "peer_items")]
#[derive(Debug, Clone)]
pub struct PeerItem {
    pub id: i64,
    pub name: String,
    pub qty: i32,
    pub score: f64,
}

/// Insert one and bulk insert write here (emptied before every bulk run, untimed).
#[dataflow::model]
#[dataflow(table = "peer_scratch")]
#[derive(Debug, Clone)]
pub struct PeerScratch {
    pub id: i64,
    pub name: String,
    pub qty: i32,
    pub score: f64,
}

/// The rows streamed back (seeded once).
#[dataflow::model]
#[dataflow(table = "peer_stream")]
#[derive(Debug, Clone)]
pub struct PeerStream {
    pub id: i64,
    pub name: String,
    pub qty: i32,
    pub score: f64,
}

fn e(x: dataflow::Error) -> String {
    x.to_string()
}

fn list_query(w: &Work) -> Query {
    Query::new().filter(json!({"qty": {"$gte": w.lo, "$lt": w.hi}})).order_by(["id"]).limit(100)
}

/// Typed Express.
pub async fn typed(db: &DataFlow, op: Op, w: &Work) -> Result<u64, String> {
    let mut ex = db.express();
    let mut n = 0u64;
    match op {
        Op::Insert => {
            for i in 0..w.n {
                let r = ex
                    .create(&PeerScratch { id: 0, name: format!("ins {i}"), qty: (i % 100) as i32, score: i as f64 })
                    .await
                    .map_err(e)?;
                n += u64::from(r.id > 0);
            }
        }
        Op::Read => {
            for i in 0..w.n {
                let r = ex.read::<PeerItem>(w.id(i)).await.map_err(e)?;
                n += u64::from(r.is_some_and(|r| r.qty >= 0));
            }
        }
        Op::Update => {
            for i in 0..w.n {
                let (id, qty) = w.item(i);
                let rec = PeerItem { id, name: format!("upd {i}"), qty, score: i as f64 };
                n += u64::from(ex.update(&rec).await.map_err(e)?.is_some());
            }
        }
        Op::UpdateWhere => {
            for i in 0..w.n {
                let (id, qty) = w.item(i);
                let r = ex
                    .update_where::<PeerItem>(
                        &json!({"id": id}),
                        &json!({"name": format!("upw {i}"), "qty": qty, "score": i as f64}),
                    )
                    .await
                    .map_err(e)?;
                n += u64::from(r.is_some());
            }
        }
        Op::List => {
            let q = list_query(w);
            for _ in 0..w.n {
                n += ex.list::<PeerItem>(&q).await.map_err(e)?.len() as u64;
            }
        }
        Op::Count => {
            let f = json!({"qty": {"$gte": w.lo, "$lt": w.hi}});
            for _ in 0..w.n {
                n += ex.count::<PeerItem>(&f).await.map_err(e)?;
            }
        }
        Op::Bulk => {
            let rows = w.bulk.iter().map(|r| PeerScratch { id: 0, name: r.name.clone(), qty: r.qty, score: r.score });
            n = ex.bulk_create_iter(rows).await.map_err(e)?;
        }
        Op::Stream => {
            let q = Query::new();
            let mut s = std::pin::pin!(ex.list_stream::<PeerStream>(&q));
            while let Some(r) = s.next().await {
                n += u64::from(r.map_err(e)?.qty >= 0);
            }
        }
    }
    Ok(n)
}

/// Dynamic Express (JSON in, JSON out).
pub async fn dynamic(db: &DataFlow, op: Op, w: &Work) -> Result<u64, String> {
    let mut ex = db.express();
    let mut n = 0u64;
    match op {
        Op::Insert => {
            for i in 0..w.n {
                let r = ex
                    .create_json("PeerScratch", &json!({"name": format!("ins {i}"), "qty": i % 100, "score": i as f64}))
                    .await
                    .map_err(e)?;
                n += u64::from(r["id"].as_i64().is_some());
            }
        }
        Op::Read => {
            for i in 0..w.n {
                let r = ex.read_json("PeerItem", &json!(w.id(i))).await.map_err(e)?;
                n += u64::from(r.is_some());
            }
        }
        Op::Update | Op::UpdateWhere => {
            for i in 0..w.n {
                let (id, qty) = w.item(i);
                let r = ex
                    .update_json(
                        "PeerItem",
                        &json!({"id": id}),
                        &json!({"name": format!("upd {i}"), "qty": qty, "score": i as f64}),
                    )
                    .await
                    .map_err(e)?;
                n += u64::from(r.is_some());
            }
        }
        Op::List => {
            let p = json!({"filter": {"qty": {"$gte": w.lo, "$lt": w.hi}}, "order_by": ["id"], "limit": 100});
            for _ in 0..w.n {
                let r = ex.list_json("PeerItem", &p).await.map_err(e)?;
                n += r["records"].as_array().map_or(0, |a| a.len() as u64);
            }
        }
        Op::Count => {
            let f = json!({"qty": {"$gte": w.lo, "$lt": w.hi}});
            for _ in 0..w.n {
                n += ex.count_json("PeerItem", &f).await.map_err(e)?;
            }
        }
        Op::Bulk => {
            let data: Vec<serde_json::Value> =
                w.bulk.iter().map(|r| json!({"name": r.name, "qty": r.qty, "score": r.score})).collect();
            let r = ex.bulk_create_json("PeerScratch", &serde_json::Value::Array(data)).await.map_err(e)?;
            n = r["inserted"].as_u64().unwrap_or(0);
        }
        Op::Stream => {
            let p = json!({});
            let mut s = std::pin::pin!(ex.list_stream_json("PeerStream", &p));
            while let Some(r) = s.next().await {
                n += u64::from(r.map_err(e)?["qty"].is_number());
            }
        }
    }
    Ok(n)
}
