//! Type support checked by the compiler. Each field gets an assertion on its type's span
//! (`T: FieldValue`, and `T: IdValue` for an `id` the macro cannot classify); both traits carry
//! `#[diagnostic::on_unimplemented]` naming the supported types, so an unsupported type is one
//! error, on the type.
//!
//! The generated impls are generic over `'__df`, require `T: Field<'__df>` for each field type
//! and use the field types only through that trait. Because the predicates mention the impl's
//! lifetime parameter they are not "trivial" bounds: an unsupported type leaves the impls
//! unusable instead of making every use inside them a second error.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::check::types::Kind;
use crate::parse::{Field, Model};

fn needs_id_check(f: &Field) -> bool {
    f.name == "id" && f.info.is_some_and(|i| i.kind == Kind::Other)
}

/// The field assertions, one statement per field spanned on its type, in a single `const` (one
/// body for the compiler to check instead of one per field).
pub(super) fn assertions(m: &Model, p: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    for f in &m.fields {
        let ty = &f.ty;
        out.extend(quote_spanned!(ty.span()=> #p::assert_field_value::<#ty>();));
        if needs_id_check(f) {
            out.extend(quote_spanned!(ty.span()=> #p::assert_id_value::<#ty>();));
        }
    }
    quote!(const _: () = { #out };)
}

/// The `where` clause of the `Model` impl (which is generic over `'__df`): one predicate per
/// distinct field type (a repeated type adds nothing but work for the compiler).
pub(super) fn where_clause(m: &Model, p: &TokenStream) -> TokenStream {
    let mut seen = std::collections::HashSet::new();
    let mut preds = Vec::new();
    for f in &m.fields {
        let ty = &f.ty;
        if seen.insert(ty.to_token_stream().to_string()) {
            preds.push(quote_spanned!(ty.span()=> #ty: #p::Field<'__df>));
        }
        if needs_id_check(f) {
            preds.push(quote_spanned!(ty.span()=> #ty: #p::IdField<'__df>));
        }
    }
    quote!(where #(#preds),*)
}
