//! Const assertions on each field type's span: the compiler checks `T: FieldValue` (and, for an
//! `id` whose type the macro cannot classify, `T: IdValue`); both traits carry
//! `#[diagnostic::on_unimplemented]` naming the supported types.

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;

use crate::check::types::Kind;
use crate::parse::Model;

/// One assertion per field.
pub(super) fn assertions(m: &Model, p: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    for f in &m.fields {
        let ty = &f.ty;
        out.extend(quote_spanned! {ty.span()=>
            const _: () = #p::assert_field_value::<#ty>();
        });
        if f.name == "id" && f.info.is_some_and(|i| i.kind == Kind::Other) {
            out.extend(quote_spanned! {ty.span()=>
                const _: () = #p::assert_id_value::<#ty>();
            });
        }
    }
    out
}
