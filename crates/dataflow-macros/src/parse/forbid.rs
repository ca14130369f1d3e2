//! `forbid(delete, bulk_delete)`: the write operations a model refuses with DF-609
//! (docs/guide/protection-and-audit.md). Operation names are written in snake_case.

use darling::FromMeta;
use syn::punctuated::Punctuated;
use syn::{Ident, Meta, Token};

use crate::ctxt::{closest, error};

const FORM: &str = "forbid(delete, bulk_delete)";

/// The write operations, as written in `forbid(..)`, and their `Operation` variant names.
const WRITES: [(&str, &str); 8] = [
    ("create", "Create"),
    ("update", "Update"),
    ("delete", "Delete"),
    ("upsert", "Upsert"),
    ("bulk_create", "BulkCreate"),
    ("bulk_update", "BulkUpdate"),
    ("bulk_delete", "BulkDelete"),
    ("bulk_upsert", "BulkUpsert"),
];

/// The parsed `forbid(...)` option: `Operation` variant names, each once.
#[derive(Clone, Default)]
pub(crate) struct ForbidList(pub(crate) Vec<&'static str>);

fn valid() -> String {
    WRITES.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

impl FromMeta for ForbidList {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let Meta::List(list) = item else {
            return Err(error(
                syn::spanned::Spanned::span(item),
                "`forbid` needs a list of write operations",
                format!("write `{FORM}`"),
            )
            .into());
        };
        let idents = list
            .parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated)
            .map_err(|e| error(e.span(), "`forbid` lists operation names", format!("write `{FORM}`")))?;
        if idents.is_empty() {
            return Err(error(list.delimiter.span().join(), "`forbid` is empty", format!("write `{FORM}`")).into());
        }
        let mut out = Vec::new();
        for id in idents {
            let name = id.to_string();
            match WRITES.iter().find(|(n, _)| *n == name) {
                Some((_, variant)) if out.contains(variant) => {
                    return Err(
                        error(id.span(), format!("`{name}` is listed twice in `forbid`"), "list it once").into()
                    );
                }
                Some((_, variant)) => out.push(*variant),
                None if ["read", "list", "count"].contains(&name.as_str()) => {
                    return Err(error(
                        id.span(),
                        format!("`{name}` does not write; `forbid` lists write operations"),
                        format!("remove `{name}`; valid operations: {}", valid()),
                    )
                    .into());
                }
                None => {
                    let help = match closest(&name, WRITES.iter().map(|(n, _)| *n)) {
                        Some(c) => format!("did you mean `{c}`? valid operations: {}", valid()),
                        None => format!("valid operations: {}", valid()),
                    };
                    return Err(error(id.span(), format!("unknown operation `{name}` in `forbid`"), help).into());
                }
            }
        }
        Ok(ForbidList(out))
    }
}
