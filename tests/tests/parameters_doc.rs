//! `docs/guide/parameters.md` is generated from the parameter contract
//! (`dataflow_core::contract::reference_markdown`): this test fails when the file is out of
//! date. Rewrite it with `BLESS=1 cargo test -p dataflow-tests --test parameters_doc`.

#[test]
fn parameter_reference_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/guide/parameters.md");
    let want = dataflow_core::contract::reference_markdown();
    if std::env::var("BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/guide/parameters.md is out of date with the parameter contract; \
         run `BLESS=1 cargo test -p dataflow-tests --test parameters_doc` and commit the file"
    );
}
