//! Syntactic classification of field types. It catches the shapes that can never be a field
//! (references, tuples, maps, `Vec<Vec<_>>`, ...) with a precise message; a path it does not
//! know (an alias, a nested struct) is [`Kind::Other`] and left to the `FieldValue` const
//! assertion emitted on the type's span, which the compiler resolves.

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

use crate::ctxt::error_spanned as error;

/// The supported types, for `help:` lines.
pub(crate) const SUPPORTED: &str = "supported field types are String, i32, i64, f64, bool, \
chrono::DateTime<Utc>, chrono::NaiveDate, uuid::Uuid, rust_decimal::Decimal, serde_json::Value, \
Vec<String>, Vec<i64>, Vec<f64>, Vec<bool>, Vec<u8>, and Option<T> of these";

/// The field type as far as the syntax tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    I32,
    I64,
    F64,
    Bool,
    DateTime,
    Date,
    Uuid,
    Decimal,
    Json,
    /// `Vec<String|i64|f64|bool>`
    Array,
    /// `Vec<u8>`
    Bytes,
    /// A path the macro does not know (alias, nested struct): checked by the compiler.
    Other,
}

impl Kind {
    /// How the kind is spelled in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::String => "String",
            Kind::I32 => "i32",
            Kind::I64 => "i64",
            Kind::F64 => "f64",
            Kind::Bool => "bool",
            Kind::DateTime => "DateTime<Utc>",
            Kind::Date => "NaiveDate",
            Kind::Uuid => "Uuid",
            Kind::Decimal => "Decimal",
            Kind::Json => "serde_json::Value",
            Kind::Array => "a Vec",
            Kind::Bytes => "Vec<u8>",
            Kind::Other => "this type",
        }
    }
}

/// A classified field type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeInfo {
    pub(crate) kind: Kind,
    /// `Option<T>`
    pub(crate) nullable: bool,
}

/// Classifies a field type, or explains on the narrowest span why it cannot be a field.
pub(crate) fn classify(ty: &Type) -> syn::Result<TypeInfo> {
    match ty {
        Type::Paren(p) => classify(&p.elem),
        Type::Group(g) => classify(&g.elem),
        Type::Reference(r) => {
            let owned = match &*r.elem {
                Type::Path(p) if last_ident(p).as_deref() == Some("str") => "`String`",
                Type::Slice(_) => "`Vec<u8>` or `Vec<String|i64|f64|bool>`",
                _ => "an owned type",
            };
            Err(error(
                r,
                "references cannot be model fields: a model owns its data",
                format!("use {owned} instead; {SUPPORTED}"),
            ))
        }
        Type::Ptr(p) => Err(error(p, "raw pointers cannot be model fields", SUPPORTED)),
        Type::Tuple(t) => Err(error(
            t,
            "tuples cannot be model fields",
            format!("use one field per value, or `serde_json::Value` for structured data; {SUPPORTED}"),
        )),
        Type::Array(_) | Type::Slice(_) => Err(error(
            ty,
            "arrays and slices cannot be model fields",
            format!("use `Vec<u8>` for bytes or `Vec<String|i64|f64|bool>` for lists; {SUPPORTED}"),
        )),
        Type::Path(p) if p.qself.is_none() => classify_path(p),
        _ => Err(error(ty, format!("`{}` cannot be a model field", ty.to_token_stream()), SUPPORTED)),
    }
}

fn last_ident(p: &syn::TypePath) -> Option<String> {
    p.path.segments.last().map(|s| s.ident.to_string())
}

/// The single type argument of the last segment (`Option<T>` → `T`).
fn single_arg(p: &syn::TypePath) -> Option<&Type> {
    match &p.path.segments.last()?.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first()? {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn has_args(p: &syn::TypePath) -> bool {
    p.path.segments.iter().any(|s| !s.arguments.is_none())
}

fn path_of(ty: &Type) -> Option<&syn::TypePath> {
    match ty {
        Type::Path(p) if p.qself.is_none() => Some(p),
        Type::Paren(p) => path_of(&p.elem),
        Type::Group(g) => path_of(&g.elem),
        _ => None,
    }
}

fn classify_path(p: &syn::TypePath) -> syn::Result<TypeInfo> {
    let Some(name) = last_ident(p) else {
        return Ok(TypeInfo { kind: Kind::Other, nullable: false });
    };
    let scalar = |kind| Ok(TypeInfo { kind, nullable: false });
    match name.as_str() {
        "Option" => {
            let Some(inner) = single_arg(p) else {
                return scalar(Kind::Other);
            };
            if path_of(inner).and_then(last_ident).as_deref() == Some("Option") {
                return Err(error(
                    inner,
                    "`Option<Option<_>>` cannot be a model field: a column is either NULL or a value",
                    "use a single `Option<T>`",
                ));
            }
            let info = classify(inner)?;
            Ok(TypeInfo { kind: info.kind, nullable: true })
        }
        "Vec" => classify_vec(p),
        "HashMap" | "BTreeMap" | "IndexMap" => Err(error(
            p,
            format!("`{name}` cannot be a model field"),
            format!("use `serde_json::Value` (a JSON column) for key-value data; {SUPPORTED}"),
        )),
        "HashSet" | "BTreeSet" | "IndexSet" => Err(error(
            p,
            format!("`{name}` cannot be a model field"),
            format!("use `Vec<String|i64|f64|bool>`; {SUPPORTED}"),
        )),
        "Box" | "Rc" | "Arc" | "Cow" | "RefCell" | "Cell" | "Mutex" | "RwLock" => Err(error(
            p,
            format!("`{name}<_>` cannot be a model field"),
            format!("use the inner type directly; {SUPPORTED}"),
        )),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i128" | "isize" if !has_args(p) => {
            Err(error(
                p,
                format!("`{name}` is not a supported integer type"),
                "use `i32` or `i64` (unsigned and other widths are not portable across PostgreSQL, MySQL and SQLite)",
            ))
        }
        "f32" if !has_args(p) => Err(error(p, "`f32` is not a supported float type", "use `f64`")),
        "char" | "str" if !has_args(p) => Err(error(p, format!("`{name}` cannot be a model field"), "use `String`")),
        "NaiveDateTime" => Err(error(
            p,
            "`NaiveDateTime` cannot be a model field: timestamps are stored as UTC instants",
            "use `chrono::DateTime<chrono::Utc>`",
        )),
        "String" if !has_args(p) => scalar(Kind::String),
        "i32" if !has_args(p) => scalar(Kind::I32),
        "i64" if !has_args(p) => scalar(Kind::I64),
        "f64" if !has_args(p) => scalar(Kind::F64),
        "bool" if !has_args(p) => scalar(Kind::Bool),
        "DateTime" => scalar(Kind::DateTime),
        "NaiveDate" if !has_args(p) => scalar(Kind::Date),
        "Uuid" if !has_args(p) => scalar(Kind::Uuid),
        "Decimal" if !has_args(p) => scalar(Kind::Decimal),
        "Value" if p.path.segments.len() >= 2 && p.path.segments[p.path.segments.len() - 2].ident == "serde_json" => {
            scalar(Kind::Json)
        }
        _ => scalar(Kind::Other),
    }
}

fn classify_vec(p: &syn::TypePath) -> syn::Result<TypeInfo> {
    const ARRAYS: &str = "supported vectors are Vec<String>, Vec<i64>, Vec<f64>, Vec<bool> (arrays) and Vec<u8> (bytes); \
use `serde_json::Value` for nested or structured lists";
    let Some(elem) = single_arg(p) else {
        return Ok(TypeInfo { kind: Kind::Other, nullable: false });
    };
    let Some(ep) = path_of(elem) else {
        return Err(error(elem, format!("`Vec<{}>` cannot be a model field", elem.to_token_stream()), ARRAYS));
    };
    let ename = last_ident(ep).unwrap_or_default();
    let kind = match ename.as_str() {
        "String" | "i64" | "f64" | "bool" if !has_args(ep) => Kind::Array,
        "u8" if !has_args(ep) => Kind::Bytes,
        "Vec" => {
            return Err(error(elem, "nested vectors `Vec<Vec<_>>` cannot be model fields", ARRAYS));
        }
        "Option" => {
            return Err(error(elem, "`Vec<Option<_>>` cannot be a model field: array elements cannot be NULL", ARRAYS));
        }
        "i32" if !has_args(ep) => {
            return Err(error(elem, "`Vec<i32>` is not a supported array", format!("use `Vec<i64>`; {ARRAYS}")));
        }
        _ => {
            return Err(error(
                elem,
                format!("`Vec<{}>` cannot be a model field", elem.to_token_stream().to_string().replace(' ', "")),
                ARRAYS,
            ));
        }
    };
    Ok(TypeInfo { kind, nullable: false })
}
