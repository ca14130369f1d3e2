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
