//! `indexes(["email"], unique(["org_id", "slug"]))`: model-level indexes. The items are not
//! meta items (`["email"]` is an array), so this option has its own parser behind darling's
//! `FromMeta`.

use darling::FromMeta;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Meta, Token, bracketed, parenthesized};

use crate::ctxt::{closest, error};

const FORM: &str = "indexes([\"email\"], unique([\"org_id\", \"slug\"]))";

/// One index: its field names (as written, with spans) and whether it is unique.
#[derive(Clone)]
pub(crate) struct IndexSpec {
    pub(crate) fields: Vec<LitStr>,
    pub(crate) unique: bool,
}

/// The parsed `indexes(...)` option.
#[derive(Clone, Default)]
pub(crate) struct IndexList(pub(crate) Vec<IndexSpec>);

fn field_list(input: ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
    if !input.peek(syn::token::Bracket) {
        return Err(error(input.span(), "expected a list of field names in `[...]`", format!("write `{FORM}`")));
    }
    let content;
    let brackets = bracketed!(content in input);
    let fields: Punctuated<LitStr, Token![,]> = Punctuated::parse_terminated(&content)
        .map_err(|e| error(e.span(), "index fields must be string literals", format!("write `{FORM}`")))?;
    if fields.is_empty() {
        return Err(error(brackets.span.join(), "an index needs at least one field", format!("write `{FORM}`")));
    }
    Ok(fields.into_iter().collect())
}

impl Parse for IndexSpec {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(syn::Ident) {
            let kw: syn::Ident = input.parse()?;
            if kw != "unique" {
                let help = match closest(&kw.to_string(), ["unique"]) {
                    Some(c) => format!("did you mean `{c}`? write `{FORM}`"),
                    None => {
                        format!("a plain index is `[\"field\"]`, a unique one `unique([\"field\", ...])`: `{FORM}`")
                    }
                };
                return Err(error(kw.span(), format!("unknown index kind `{kw}`"), help));
            }
            if !input.peek(syn::token::Paren) {
                return Err(error(kw.span(), "`unique` needs a list of fields", format!("write `{FORM}`")));
            }
            let content;
            parenthesized!(content in input);
            let fields = field_list(&content)?;
            if !content.is_empty() {
                return Err(error(content.span(), "unexpected tokens after the field list", format!("write `{FORM}`")));
            }
            return Ok(IndexSpec { fields, unique: true });
        }
        Ok(IndexSpec { fields: field_list(input)?, unique: false })
    }
}

impl FromMeta for IndexList {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let Meta::List(list) = item else {
            return Err(error(
                syn::spanned::Spanned::span(item),
                "`indexes` needs a list of indexes",
                format!("write `{FORM}`"),
            )
            .into());
        };
        let items =
            list.parse_args_with(Punctuated::<IndexSpec, Token![,]>::parse_terminated).map_err(darling::Error::from)?;
        if items.is_empty() {
            return Err(error(list.delimiter.span().join(), "`indexes` is empty", format!("write `{FORM}`")).into());
        }
        Ok(IndexList(items.into_iter().collect()))
    }
}
