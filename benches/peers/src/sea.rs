//! SeaORM 2: entities over the same three tables, on a sqlx pool built with the same options as the
//! raw baseline's (`SqlxXxxConnector::from_sqlx_xxx_pool`). Timestamps in the column's own type,
//! as for raw sqlx. Insert and update return the model (`ActiveModel::insert` / `update`).

use futures::StreamExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait, Unchanged,
};

use crate::{Op, Work};

macro_rules! entity {
    ($m:ident, $table:tt, $ts:tt) => {
        pub mod $m {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub name: String,
                pub qty: i32,
                pub score: f64,
                pub created_at: $ts,
                pub updated_at: $ts,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

macro_rules! backend {
    ($m:ident, $ts:tt, $now:expr) => {
        pub mod $m {
            use super::*;
            entity!(items, "peer_items", $ts);
            entity!(scratch, "peer_scratch", $ts);
            entity!(stream, "peer_stream", $ts);

            pub async fn run(db: &DatabaseConnection, op: Op, w: &Work) -> Result<u64, String> {
                let e = |x: sea_orm::DbErr| x.to_string();
                let mut n = 0u64;
                match op {
                    Op::Insert => {
                        for i in 0..w.n {
                            let t = $now;
                            let m = scratch::ActiveModel {
                                id: NotSet,
                                name: Set(format!("ins {i}")),
                                qty: Set((i % 100) as i32),
                                score: Set(i as f64),
                                created_at: Set(t.clone()),
                                updated_at: Set(t),
                            }
                            .insert(db)
                            .await
                            .map_err(e)?;
                            n += u64::from(m.id > 0);
                        }
                    }
                    Op::Read => {
                        for i in 0..w.n {
                            let m = items::Entity::find_by_id(w.id(i)).one(db).await.map_err(e)?;
                            n += u64::from(m.is_some_and(|m| m.qty >= 0));
                        }
                    }
                    Op::Update | Op::UpdateWhere => {
                        for i in 0..w.n {
                            let (id, qty) = w.item(i);
                            let m = items::ActiveModel {
                                id: Unchanged(id),
                                name: Set(format!("upd {i}")),
                                qty: Set(qty),
                                score: Set(i as f64),
                                created_at: NotSet,
                                updated_at: Set($now),
                            }
                            .update(db)
                            .await
                            .map_err(e)?;
                            n += u64::from(m.id == id);
                        }
                    }
                    Op::List => {
                        for _ in 0..w.n {
                            let v = items::Entity::find()
                                .filter(items::Column::Qty.gte(w.lo))
                                .filter(items::Column::Qty.lt(w.hi))
                                .order_by_asc(items::Column::Id)
                                .limit(100)
                                .all(db)
                                .await
                                .map_err(e)?;
                            n += v.len() as u64;
                        }
                    }
                    Op::Count => {
                        for _ in 0..w.n {
                            n += items::Entity::find()
                                .filter(items::Column::Qty.gte(w.lo))
                                .filter(items::Column::Qty.lt(w.hi))
                                .count(db)
                                .await
                                .map_err(e)?;
                        }
                    }
                    Op::Bulk => {
                        let t = $now;
                        let tx = db.begin().await.map_err(e)?;
                        for chunk in w.bulk.chunks(crate::CHUNK) {
                            let models = chunk.iter().map(|r| scratch::ActiveModel {
                                id: NotSet,
                                name: Set(r.name.clone()),
                                qty: Set(r.qty),
                                score: Set(r.score),
                                created_at: Set(t.clone()),
                                updated_at: Set(t.clone()),
                            });
                            n += scratch::Entity::insert_many(models).exec_without_returning(&tx).await.map_err(e)?;
                        }
                        tx.commit().await.map_err(e)?;
                    }
                    Op::Stream => {
                        let s = stream::Entity::find().order_by_asc(stream::Column::Id).stream(db).await.map_err(e)?;
                        let mut s = std::pin::pin!(s);
                        while let Some(m) = s.next().await {
                            n += u64::from(m.map_err(e)?.qty >= 0);
                        }
                    }
                }
                Ok(n)
            }
        }
    };
}

backend!(sqlite, String, dataflow_sql::value::canonical_datetime(&chrono::Utc::now()));
backend!(postgres, DateTimeUtc, chrono::Utc::now());
backend!(mysql, DateTime, chrono::Utc::now().naive_utc());
