//! `to_values` / `into_values` / `from_columns`: typed conversion to the runtime's
//! `Vec<Value>` and from a row's columns (`dyn Columns`: a database row straight into the
//! fields, or values through `Model::from_values`'s default) in field order, through
//! `FieldValue` (no JSON).
//!
//! The bodies only list the fields and call one non-generic runtime function each
//! (`__private::{to_values, into_values, from_columns}`, over `&dyn FieldRef` / `&mut dyn
//! FieldSlot`): no `?` and no unwind clean-up per field in the user's crate (issue 13).
//! The slots are one tuple of `Option<T>`; `from_columns` matches the runtime's result and that
//! tuple together and moves the values into the struct in one arm, with no calls in between, so
//! the error paths drop the tuple whole (one drop call, not a clean-up ladder per field).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::parse::Model;

/// The three conversion methods.
pub(super) fn conversions(m: &Model, p: &TokenStream) -> TokenStream {
    let model = &m.name;
    let idents: Vec<_> = m.fields.iter().map(|f| &f.ident).collect();
    let names = m.fields.iter().map(|f| &f.name);
    let index: Vec<_> = (0..m.fields.len()).map(syn::Index::from).collect();
    let locals: Vec<_> = (0..m.fields.len()).map(|i| format_ident!("__f{}", i)).collect();
    let slot_types = m.fields.iter().map(|f| {
        let ty = &f.ty;
        quote_spanned!(ty.span()=> #p::Option<#ty>)
    });
    let nones = m.fields.iter().map(|_| quote!(#p::None));
    quote! {
        fn to_values(&self) -> #p::Record {
            #p::to_values(&[#(&self.#idents),*])
        }

        fn into_values(self) -> #p::Record {
            let mut __s = (#(#p::Some(self.#idents),)*);
            #p::into_values(&mut [#(&mut __s.#index),*])
        }

        fn from_columns(__columns: &mut dyn #p::Columns) -> #p::Result<Self> {
            let mut __s: (#(#slot_types,)*) = (#(#nones,)*);
            let __r = #p::from_columns(#model, __columns, &[#(#names),*], &mut [#(&mut __s.#index),*]);
            match (__r, __s) {
                (#p::Ok(()), (#(#p::Some(#locals),)*)) => #p::Ok(Self { #(#idents: #locals),* }),
                (__r, __s) => {
                    { let __dropped = __s; }
                    #p::Err(#p::decode_failed(#model, __r))
                }
            }
        }
    }
}
