//! `to_values` / `into_values` / `from_values`: typed conversion to and from the runtime's
//! `Vec<Value>` in field order, through `FieldValue` (no JSON).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::parse::Model;

/// The three conversion methods.
pub(super) fn conversions(m: &Model, p: &TokenStream) -> TokenStream {
    let model = &m.name;
    let count = m.fields.len();
    let to = m.fields.iter().map(|f| {
        let (ty, ident) = (&f.ty, &f.ident);
        quote_spanned!(ty.span()=> <#ty as #p::Field<'__df>>::to_value(&self.#ident))
    });
    let idents: Vec<_> = m.fields.iter().map(|f| &f.ident).collect();
    let locals: Vec<_> = (0..count).map(|i| format_ident!("__f{}", i)).collect();
    let into = m.fields.iter().zip(&locals).map(|(f, local)| {
        let ty = &f.ty;
        quote_spanned!(ty.span()=> <#ty as #p::Field<'__df>>::into_value(#local))
    });
    let from = m.fields.iter().map(|f| {
        let (ty, ident, name) = (&f.ty, &f.ident, &f.name);
        let read = quote_spanned!(ty.span()=> <#ty as #p::Field<'__df>>::read(&mut __r, #name)?);
        quote!(#ident: #read)
    });
    quote! {
        fn to_values(&self) -> #p::Record {
            #p::Vec::from([#(#to),*])
        }

        fn into_values(self) -> #p::Record {
            let Self { #(#idents: #locals),* } = self;
            #p::Vec::from([#(#into),*])
        }

        fn from_values(__values: #p::Record) -> #p::Result<Self> {
            let mut __r = #p::FieldReader::new(#model, __values, #count)?;
            #p::Ok(Self { #(#from),* })
        }
    }
}
