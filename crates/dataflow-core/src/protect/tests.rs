use chrono::{NaiveTime, TimeZone, Utc};
use dataflow_sql::{FieldDef, FieldType};

use super::*;

fn schema() -> ModelSchema {
    ModelSchema::new(
        "Invoice",
        vec![FieldDef::new("id", FieldType::I64), FieldDef::new("number", FieldType::String).read_only()],
    )
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

#[test]
fn window_contains_and_wraps_midnight() {
    let w = WriteWindow::parse("09:00", "17:00").unwrap();
    assert!(w.contains(t(9, 0)) && w.contains(t(16, 59)));
    assert!(!w.contains(t(17, 0)) && !w.contains(t(8, 59)));
    let night = WriteWindow::parse("22:00", "06:00").unwrap();
    assert!(night.contains(t(23, 0)) && night.contains(t(5, 59)));
    assert!(!night.contains(t(6, 0)) && !night.contains(t(12, 0)));
    assert_eq!(WriteWindow::parse("9", "10").unwrap_err().code(), ErrorCode::INVALID_CONFIG);
    assert_eq!(WriteWindow::parse("10:00", "10:00").unwrap_err().code(), ErrorCode::INVALID_CONFIG);
}

#[test]
fn every_level_names_itself_and_reads_pass() {
    let s = schema();
    let mut p = Protection { read_only: true, ..Protection::default() };
    let e = p.check(&s, "Create").unwrap_err();
    assert_eq!(Level::of(&e), Some(Level::Instance));
    assert!(e.fixes()[0].contains(".read_only(true)"), "{e:#}");
    for read in ["Read", "List", "Count", "FindOne", "Other"] {
        p.check(&s, read).unwrap();
    }
    p.read_only = false;
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 18, 30, 0).unwrap()));
    p.window = Some(WriteWindow::parse("09:00", "17:00").unwrap());
    p.clock = clock.clone();
    let e = p.check(&s, "HardDelete").unwrap_err();
    assert_eq!(Level::of(&e), Some(Level::Window));
    assert!(e.message().contains("18:30:00 UTC"), "{e}");
    clock.set(Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap());
    p.check(&s, "HardDelete").unwrap();
    p.models.insert("Invoice".into(), ModelRules::new().forbid([Operation::Delete]));
    let e = p.check(&s, "HardDelete").unwrap_err();
    assert_eq!(Level::of(&e), Some(Level::Operation));
    p.check(&s, "Update").unwrap();
    let e = p.check_fields(&s, "Update", ["number"]).unwrap_err();
    assert_eq!((Level::of(&e), e.context().field.as_deref()), (Some(Level::Field), Some("number")));
    p.check_fields(&s, "Update", ["id"]).unwrap();
    let mut ro = s.clone();
    ro.options.read_only = true;
    assert_eq!(Level::of(&p.check(&ro, "Restore").unwrap_err()), Some(Level::Model));
    let mut forbid = s.clone();
    forbid.options.forbid = vec![Operation::BulkDelete];
    let e = Protection::default().check(&forbid, "BulkDelete").unwrap_err();
    assert!(e.fixes()[0].contains("`bulk_delete`"), "{e:#}");
}
