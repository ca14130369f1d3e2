use super::*;
use dataflow_sql::{FieldDef, FieldType};

fn schema(name: &str) -> ModelSchema {
    ModelSchema::new(name, vec![FieldDef::new("id", FieldType::I64)])
}

#[test]
fn hits_misses_and_fingerprints() {
    let c = SchemaCache::default();
    let s = schema("User");
    let fp = fingerprint(&s, Dialect::Sqlite);
    assert!(matches!(c.lookup("users", fp), Lookup::Miss));
    c.insert_verified("users", fp);
    assert!(matches!(c.lookup("users", fp), Lookup::Hit));
    // A changed schema is a miss.
    let mut s2 = s.clone();
    s2.fields.push(FieldDef::new("name", FieldType::String).nullable());
    assert!(matches!(c.lookup("users", fingerprint(&s2, Dialect::Sqlite)), Lookup::Miss));
    assert_ne!(fp, fingerprint(&s, Dialect::Postgres));
    let m = c.metrics();
    assert_eq!((m.hits, m.misses, m.size), (1, 2, 1));
    assert!((m.hit_rate - 1.0 / 3.0).abs() < 1e-9);
}

#[test]
fn size_bound_evicts_least_recently_used() {
    let c = SchemaCache::new(CacheConfig { max_size: 2, ..CacheConfig::default() });
    c.insert_verified("a", 1);
    c.insert_verified("b", 2);
    assert!(matches!(c.lookup("a", 1), Lookup::Hit)); // a is now more recent than b
    c.insert_verified("c", 3);
    assert_eq!(c.len(), 2);
    assert!(matches!(c.lookup("b", 2), Lookup::Miss));
    assert!(matches!(c.lookup("a", 1), Lookup::Hit));
    assert_eq!(c.metrics().evictions, 1);
}

#[test]
fn ttl_expires_entries() {
    let c = SchemaCache::new(CacheConfig { ttl: Some(Duration::from_millis(30)), ..CacheConfig::default() });
    c.insert_verified("a", 1);
    assert!(matches!(c.lookup("a", 1), Lookup::Hit));
    std::thread::sleep(Duration::from_millis(60));
    assert!(matches!(c.lookup("a", 1), Lookup::Miss));
    assert_eq!(c.len(), 0);
}

#[test]
fn failures_fail_fast_with_the_original_error_until_invalidated() {
    let c = SchemaCache::default();
    let e = Error::new(ErrorCode::MIGRATION_FAILED, "boom at `ALTER TABLE`").model("User").fix("fix it");
    c.insert_failure("users", 7, &e);
    match c.lookup("users", 7) {
        Lookup::Failed(again) => {
            assert_eq!(again.code(), ErrorCode::MIGRATION_FAILED);
            assert_eq!(again.message(), "boom at `ALTER TABLE`");
            assert_eq!(again.fixes(), ["fix it"]);
        }
        other => panic!("expected a remembered failure, got {other:?}"),
    }
    assert_eq!(c.metrics().failures, 1);
    c.invalidate("users");
    assert!(matches!(c.lookup("users", 7), Lookup::Miss));
}

#[test]
fn thread_safe_under_concurrent_use() {
    let c = std::sync::Arc::new(SchemaCache::new(CacheConfig { max_size: 50, ..CacheConfig::default() }));
    let hs: Vec<_> = (0..4)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..500_u64 {
                    let k = format!("t{}", (i + t) % 80);
                    if matches!(c.lookup(&k, i % 3), Lookup::Miss) {
                        c.insert_verified(&k, i % 3);
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let m = c.metrics();
    assert!(m.size <= 50);
    assert_eq!(m.hits + m.misses, 2000);
}
