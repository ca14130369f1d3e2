//! Expand: the checked [`Model`] into the struct's trait impls, the eleven node types and the
//! const assertions. Impls sit inside `const _: () = { ... };`, reach the runtime only through
//! `<crate>::__private` (`::dataflow` unless `crate = "..."`), and use `__`-prefixed locals.

mod assert;
mod convert;
mod nodes;
mod schema;

use proc_macro2::TokenStream;
use quote::quote;

use crate::parse::Model;

pub(crate) use nodes::node_structs;

/// The path of the `__private` module of the facade.
pub(crate) fn private_path(m: &Model) -> TokenStream {
    match &m.args.krate {
        Some(p) => quote!(#p::__private),
        None => quote!(::dataflow::__private),
    }
}

/// Everything generated for a valid model, except the struct itself and the node structs.
pub(crate) fn impls(m: &Model) -> TokenStream {
    // One short name for the runtime path inside the block: fewer tokens to produce and parse.
    let full = private_path(m);
    let p = quote!(__dfp);
    let ident = &m.ident;
    let schema_fn = schema::schema_fn(m, &p);
    let conversions = convert::conversions(m, &p);
    let bounds = assert::where_clause(m, &p);
    let node_impls = nodes::node_impls(m, &p);
    let assertions = assert::assertions(m, &p);
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            use #full as __dfp;
            #assertions

            #[automatically_derived]
            impl<'__df> #p::Model for #ident #bounds {
                #schema_fn
                #conversions
            }

            #node_impls
        };
    }
}
