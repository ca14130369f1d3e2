//! Parse: the struct and its options into a [`Model`]. Shape errors (enums, tuple structs,
//! generics, ...) and option errors are reported here; cross-field rules are in `check`.

mod cache;
mod forbid;
mod indexes;
mod options;

pub(crate) use options::{FieldArgs, ModelArgs};

use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, GenericParam, Ident, Type, Visibility};

use crate::check::types::{TypeInfo, classify};
use crate::ctxt::Ctxt;
use options::Level;

const STRUCT_FORM: &str = "declare a struct with named fields: `pub struct User { pub id: i64, pub name: String }`";

/// A parsed model.
pub(crate) struct Model {
    /// The struct's name.
    pub(crate) ident: Ident,
    /// The model name (`ident` without `r#`).
    pub(crate) name: String,
    /// The struct's visibility, inherited by the node types.
    pub(crate) vis: Visibility,
    /// Model options.
    pub(crate) args: ModelArgs,
    /// Fields, in declaration order (empty when the item is not a struct with named fields).
    pub(crate) fields: Vec<Field>,
    /// Whether the item is a struct with named fields (otherwise only the node types are emitted).
    pub(crate) is_struct: bool,
}

/// A parsed field.
pub(crate) struct Field {
    /// The field's identifier.
    pub(crate) ident: Ident,
    /// The field name (`ident` without `r#`).
    pub(crate) name: String,
    /// The declared type.
    pub(crate) ty: Type,
    /// The syntactic classification, `None` when the type was rejected.
    pub(crate) info: Option<TypeInfo>,
    /// Field options.
    pub(crate) args: FieldArgs,
}

fn is_dataflow_attr(a: &Attribute) -> bool {
    a.path().is_ident("dataflow")
}

fn is_model_attr(a: &Attribute) -> bool {
    let segs: Vec<String> = a.path().segments.iter().map(|s| s.ident.to_string()).collect();
    segs == ["dataflow", "model"]
}

/// Removes the `#[dataflow(...)]` helper attributes (and a repeated `#[dataflow::model]`) so the
/// struct can be re-emitted unchanged otherwise.
pub(crate) fn strip_helper_attrs(input: &mut DeriveInput) {
    input.attrs.retain(|a| !is_dataflow_attr(a) && !is_model_attr(a));
    let strip_fields = |fields: &mut Fields| {
        for f in fields.iter_mut() {
            f.attrs.retain(|a| !is_dataflow_attr(a));
        }
    };
    match &mut input.data {
        Data::Struct(s) => strip_fields(&mut s.fields),
        Data::Enum(e) => e.variants.iter_mut().for_each(|v| strip_fields(&mut v.fields)),
        Data::Union(u) => u.fields.named.iter_mut().for_each(|f| f.attrs.retain(|a| !is_dataflow_attr(a))),
    }
}

/// Parses the attribute arguments and the struct.
pub(crate) fn parse(attr: TokenStream, input: &DeriveInput, cx: &mut Ctxt) -> Model {
    let mut items = match NestedMeta::parse_meta_list(attr) {
        Ok(items) => items,
        Err(e) => {
            cx.push(e);
            Vec::new()
        }
    };
    for a in &input.attrs {
        if is_dataflow_attr(a) {
            items.extend(options::attr_items(a, cx, Level::Model));
        } else if is_model_attr(a) {
            cx.error_spanned(a, "`#[dataflow::model]` is applied twice", "remove the second `#[dataflow::model]`");
        }
    }
    let args = options::model_args(items, cx);
    check_generics(input, cx);

    let mut model = Model {
        ident: input.ident.clone(),
        name: input.ident.unraw().to_string(),
        vis: input.vis.clone(),
        args,
        fields: Vec::new(),
        is_struct: false,
    };
    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(n) => n,
            Fields::Unnamed(u) => {
                cx.error_spanned(u, "tuple structs cannot be models: every column needs a field name", STRUCT_FORM);
                return model;
            }
            Fields::Unit => {
                cx.error(input.ident.span(), "unit structs cannot be models: a model needs fields", STRUCT_FORM);
                return model;
            }
        },
        Data::Enum(e) => {
            cx.error(
                e.enum_token.span(),
                "`#[dataflow::model]` applies to structs, not enums",
                format!("{STRUCT_FORM}; to store an enum's value in a model, use a `String` field"),
            );
            return model;
        }
        Data::Union(u) => {
            cx.error(u.union_token.span(), "`#[dataflow::model]` applies to structs, not unions", STRUCT_FORM);
            return model;
        }
    };
    model.is_struct = true;
    for f in &named.named {
        let Some(ident) = f.ident.clone() else { continue };
        let mut items = Vec::new();
        for a in f.attrs.iter().filter(|a| is_dataflow_attr(a)) {
            items.extend(options::attr_items(a, cx, Level::Field));
        }
        let args = options::field_args(items, cx);
        let info = match classify(&f.ty) {
            Ok(i) => Some(i),
            Err(e) => {
                cx.push(e);
                None
            }
        };
        model.fields.push(Field { name: ident.unraw().to_string(), ident, ty: f.ty.clone(), info, args });
    }
    model
}

fn check_generics(input: &DeriveInput, cx: &mut Ctxt) {
    for p in &input.generics.params {
        match p {
            GenericParam::Lifetime(l) => cx.error(
                l.lifetime.span(),
                format!("lifetime parameter `{}` is not supported: a model owns its data", l.lifetime),
                "remove the lifetime and use owned field types (`String` instead of `&str`)",
            ),
            GenericParam::Type(t) => cx.error(
                t.ident.span(),
                format!("generic models are not supported: `{}` is a type parameter", t.ident),
                "declare one concrete struct per model; every column type must be known at compile time",
            ),
            GenericParam::Const(c) => cx.error(
                c.ident.span(),
                format!("generic models are not supported: `{}` is a const parameter", c.ident),
                "declare one concrete struct per model",
            ),
        }
    }
    if input.generics.params.is_empty()
        && let Some(w) = &input.generics.where_clause
    {
        cx.error_spanned(w, "`where` clauses are not supported on models", "remove the `where` clause");
    }
}
