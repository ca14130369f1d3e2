//! `Model::schema()`: the static [`ModelSchema`], described as constants and built once by the runtime. Field types and
//! nullability come from `<T as FieldValue>::{TYPE, NULLABLE}` (through `FieldSpec::of::<T>`), so the macro never maps
//! types.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::check::defaults::{DefaultLit, literal};
use crate::naming::table_name;
use crate::parse::{Field, Model, ModelArgs};

fn default_tokens(lit: &DefaultLit, p: &TokenStream) -> TokenStream {
    match lit {
        DefaultLit::Str(s) => quote!(#p::DefaultLit::Str(#s)),
        DefaultLit::Int(i) => match i64::try_from(*i) {
            Ok(v) => {
                let v = Literal::i64_suffixed(v);
                quote!(#p::DefaultLit::I64(#v))
            }
            Err(_) => {
                let v = Literal::u64_suffixed(u64::try_from(*i).unwrap_or(u64::MAX));
                quote!(#p::DefaultLit::U64(#v))
            }
        },
        DefaultLit::Float(f) => {
            let v = Literal::f64_suffixed(*f);
            quote!(#p::DefaultLit::F64(#v))
        }
        DefaultLit::Bool(b) => quote!(#p::DefaultLit::Bool(#b)),
    }
}

/// One `FieldSpec` (constants only: the schema is data, built by the runtime).
fn field_def(f: &Field, p: &TokenStream) -> TokenStream {
    let ty = &f.ty;
    let name = &f.name;
    let mut sets = Vec::new();
    if let Some(c) = &f.args.column {
        let c = c.value();
        sets.push(quote!(column: #p::Some(#c)));
    }
    if ModelArgs::flag(&f.args.unique).is_some() {
        sets.push(quote!(unique: true));
    }
    if ModelArgs::flag(&f.args.index).is_some() {
        sets.push(quote!(index: true));
    }
    if ModelArgs::flag(&f.args.read_only).is_some() {
        sets.push(quote!(read_only: true));
    }
    if let Some(lit) = f.args.default.as_ref().and_then(|d| literal(&d.0)) {
        let v = default_tokens(&lit, p);
        sets.push(quote!(default: #p::Some(#v)));
    }
    if let Some(n) = f.args.max_len.as_ref().and_then(|n| n.base10_parse::<u32>().ok()) {
        sets.push(quote!(max_len: #p::Some(#n)));
    }
    let new = quote_spanned!(ty.span()=> #p::FieldSpec::of::<#ty>(#name));
    if sets.is_empty() { new } else { quote!(#p::FieldSpec { #(#sets,)* ..#new }) }
}

fn options(m: &Model, p: &TokenStream) -> Option<TokenStream> {
    let a = &m.args;
    let mut sets = Vec::new();
    for (flag, name) in [
        (&a.soft_delete, quote!(soft_delete)),
        (&a.native_arrays, quote!(native_arrays)),
        (&a.multi_tenant, quote!(multi_tenant)),
        (&a.append_only, quote!(append_only)),
        (&a.read_only, quote!(read_only)),
        (&a.audit, quote!(audit)),
    ] {
        if ModelArgs::flag(flag).is_some() {
            sets.push(quote!(#name: true));
        }
    }
    if a.timestamps.as_ref().is_some_and(|t| !*t.as_ref()) {
        sets.push(quote!(timestamps: false));
    }
    if let Some(f) = &a.forbid {
        let ops = f.0.iter().map(|v| syn::Ident::new(v, proc_macro2::Span::call_site()));
        sets.push(quote!(forbid: #p::Vec::from([#(#p::Operation::#ops),*])));
    }
    if let Some(c) = &a.cache {
        let c = c.ttl_ms.map_or_else(|| quote!(#p::ModelCache::new()), |ms| quote!(#p::ModelCache::ttl_ms(#ms)));
        sets.push(quote!(cache: #p::Some(#c)));
    }
    (!sets.is_empty()).then(|| quote!(__s.options = #p::ModelOptions { #(#sets,)* ..#p::Default::default() };))
}

fn indexes(m: &Model, p: &TokenStream) -> Option<TokenStream> {
    let list = m.args.indexes.as_ref()?;
    let defs = list.0.iter().map(|ix| {
        let fields = ix.fields.iter().map(syn::LitStr::value);
        let unique = ix.unique;
        quote! {
            #p::IndexDef {
                name: #p::None,
                fields: #p::Vec::from([#(#p::String::from(#fields)),*]),
                unique: #unique,
            }
        }
    });
    Some(quote!(__s.indexes = #p::Vec::from([#(#defs),*]);))
}

/// The `schema()` method: a static table (an inline `const`, so it is data, not code) handed to the runtime's `schema()`, which builds the
/// `ModelSchema` once. Options and indexes (rare) go through a small `fn` of the model.
pub(super) fn schema_fn(m: &Model, p: &TokenStream) -> TokenStream {
    let name = &m.name;
    let table = m.args.table.as_ref().map_or_else(|| table_name(&m.name), syn::LitStr::value);
    let fields = m.fields.iter().map(|f| field_def(f, p));
    let options = options(m, p);
    let indexes = indexes(m, p);
    let extra = if options.is_some() || indexes.is_some() {
        quote!(#p::Some({
            fn __extra(__s: &mut #p::ModelSchema) {
                #options
                #indexes
            }
            __extra
        }))
    } else {
        quote!(#p::None)
    };
    quote! {
        fn schema() -> &'static #p::ModelSchema {
            static __SCHEMA: #p::OnceLock<#p::ModelSchema> = #p::OnceLock::new();
            #p::schema(&__SCHEMA, &#p::SchemaDef {
                name: #name,
                table: #table,
                fields: const { &[#(#fields),*] },
                extra: #extra,
            })
        }
    }
}
