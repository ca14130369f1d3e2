// Accepted: the query-cache opt-in, bare (the instance's TTL) and with a TTL in each unit; the
// schema carries it.
use std::time::Duration;

use dataflow::{Model, ModelCache};

#[dataflow::model(cache)]
pub struct Product {
    pub id: String,
}

#[dataflow::model]
#[dataflow(cache(ttl = "1500ms"), soft_delete)]
pub struct Price {
    pub id: i64,
}

#[dataflow::model(cache(ttl = "2m"))]
pub struct Rate {
    pub id: i64,
}

#[dataflow::model]
pub struct Order {
    pub id: i64,
}

fn main() {
    assert_eq!(Product::schema().options.cache, Some(ModelCache { ttl: None }));
    assert_eq!(Price::schema().options.cache.and_then(|c| c.ttl), Some(Duration::from_millis(1500)));
    assert!(Price::schema().options.soft_delete);
    assert_eq!(Rate::schema().options.cache.and_then(|c| c.ttl), Some(Duration::from_secs(120)));
    assert_eq!(Order::schema().options.cache, None);
    Product::schema().validate().unwrap();
}
