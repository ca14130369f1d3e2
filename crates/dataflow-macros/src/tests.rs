//! Expansion snapshots: representative models expanded through [`model_inner`] and
//! pretty-printed with prettyplease. Review a changed snapshot with `cargo insta review`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model_inner;

fn expand(attr: TokenStream, item: TokenStream) -> String {
    let out = model_inner(attr, item);
    match syn::parse2::<syn::File>(out.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(e) => panic!("expansion is not valid Rust ({e}):\n{out}"),
    }
}

#[test]
fn minimal_model() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            pub struct User {
                pub id: i64,
                pub name: String,
            }
        }
    ));
}

#[test]
fn every_option() {
    insta::assert_snapshot!(expand(
        quote!(table = "people_v2", multi_tenant),
        quote! {
            /// A person.
            #[derive(Debug, Clone)]
            #[dataflow(soft_delete, native_arrays, timestamps = false)]
            #[dataflow(indexes(["org_id"], unique(["org_id", "slug"])))]
            pub(crate) struct Person {
                pub id: uuid::Uuid,
                pub org_id: i64,
                pub slug: String,
                #[dataflow(unique, max_len = 320, column = "email_address")]
                pub email: String,
                #[dataflow(index)]
                pub age: Option<i32>,
                #[dataflow(default = true)]
                pub verified: bool,
                #[dataflow(default = -1.5)]
                pub score: f64,
                #[dataflow(default = "draft")]
                pub status: String,
                pub tags: Vec<String>,
            }
        }
    ));
}

#[test]
fn crate_override_and_raw_identifiers() {
    insta::assert_snapshot!(expand(
        quote!(crate = "my_app::db"),
        quote! {
            struct Event {
                id: String,
                r#type: String,
                payload: serde_json::Value,
            }
        }
    ));
}

#[test]
fn errors_keep_the_struct_and_node_types() {
    insta::assert_snapshot!(expand(
        quote!(tabel = "x"),
        quote! {
            pub struct Order {
                pub order_id: i64,
                #[dataflow(unique)]
                pub created_at: String,
            }
        }
    ));
}

#[test]
fn all_errors_are_collected() {
    let out = model_inner(
        quote!(soft_delete, append_only, bogus),
        quote! {
            struct Thing<'a> {
                id: Option<i64>,
                name: &'a str,
                #[dataflow(max_len = 3)]
                age: i32,
                #[dataflow(default = "x")]
                n: i64,
                created_at: String,
            }
        },
    )
    .to_string();
    let count = out.matches("compile_error").count();
    assert_eq!(count, 8, "{out}");
}

/// The size of one expansion of the model `cargo xtask bench --macro-compile` generates (9
/// fields of the documented types, with field options), as pretty-printed lines, tokens and
/// items. Printed with `--nocapture` (docs/benchmarks.md quotes it); the bounds keep the
/// expansion from silently growing back.
#[test]
fn expansion_size() {
    let out = model_inner(
        quote!(),
        quote! {
            #[derive(Debug, Clone)]
            pub struct Model0 {
                pub id: i64,
                pub name: String,
                #[dataflow(unique, max_len = 320)]
                pub email: String,
                #[dataflow(index)]
                pub age: Option<i32>,
                #[dataflow(default = true)]
                pub active: bool,
                pub score: f64,
                pub tags: Vec<String>,
                pub extra: serde_json::Value,
                pub seen: chrono::DateTime<chrono::Utc>,
            }
        },
    );
    fn tokens(ts: TokenStream) -> usize {
        ts.into_iter()
            .map(|t| match t {
                proc_macro2::TokenTree::Group(g) => 2 + tokens(g.stream()),
                _ => 1,
            })
            .sum()
    }
    let token_count = tokens(out.clone());
    let file: syn::File = syn::parse2(out).expect("valid Rust");
    let text = prettyplease::unparse(&file);
    let lines = text.lines().count();
    let count = |needle: &str| text.lines().filter(|l| l.trim_start().starts_with(needle)).count();
    let (structs, impls, fns, types, consts) =
        (count("pub struct"), count("impl"), count("fn "), count("pub type"), count("const "));
    let derives = text.matches("#[derive(").count();
    println!(
        "expansion of a 9-field model: {lines} lines, {token_count} tokens; {structs} structs, {types} type aliases, \
         {impls} impls, {fns} fns, {consts} consts, {derives} derive attributes"
    );
    assert!(lines < 380 && token_count < 2500, "the expansion grew: {lines} lines, {token_count} tokens\n{text}");
}
