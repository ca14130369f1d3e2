//! trybuild UI tests for `#[dataflow::model]`: every compile-fail case under `ui/<category>/`
//! (each file says what it rejects and why; the `.stderr` next to it is the reviewed message),
//! and the passing cases under `ui-pass/`. Bless with `TRYBUILD=overwrite`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/*.rs");
    t.pass("ui-pass/*.rs");
}
