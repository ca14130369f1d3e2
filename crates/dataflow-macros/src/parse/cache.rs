//! `cache` / `cache(ttl = "30s")`: the model's Read/List/Count/FindOne results go through the
//! query cache by default (docs/guide/scaling.md, "Query cache"), with the instance's TTL or
//! this one. The TTL is checked here, so a bad one is a compile error on its literal.

use darling::FromMeta;
use darling::ast::NestedMeta;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta};

use crate::ctxt::{closest, error};

const FORM: &str = "cache` or `cache(ttl = \"30s\")";

/// The parsed `cache` option: the TTL in milliseconds, if given.
#[derive(Clone, Copy, Default)]
pub(crate) struct CacheOpt {
    pub(crate) ttl_ms: Option<u64>,
}

/// Milliseconds of a TTL literal: a whole number with a unit (`500ms`, `30s`, `5m`, `1h`),
/// greater than zero. The same rules as `dataflow_sql::schema::parse_ttl` (this crate depends
/// on no runtime crate).
fn ttl_ms(s: &str) -> Result<u64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a duration"))?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "" => return Err(format!("`{s}` has no unit")),
        u => return Err(format!("`{s}` has an unknown unit `{u}`")),
    };
    match ms {
        Some(0) => Err("a cache TTL of zero would never serve a cached result".to_owned()),
        Some(ms) => Ok(ms),
        None => Err(format!("`{s}` is too long")),
    }
}

impl FromMeta for CacheOpt {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let list = match item {
            Meta::Path(_) => return Ok(CacheOpt::default()),
            Meta::List(l) => l,
            Meta::NameValue(nv) => {
                return Err(error(
                    nv.value.span(),
                    "`cache` takes no value",
                    format!("write `{FORM}` (leave `cache` out to not cache by default)"),
                )
                .into());
            }
        };
        let items = NestedMeta::parse_meta_list(list.tokens.clone())
            .map_err(|e| error(e.span(), "`cache(..)` takes `ttl = \"..\"`", format!("write `{FORM}`")))?;
        if items.is_empty() {
            return Err(error(list.delimiter.span().join(), "`cache()` is empty", format!("write `{FORM}`")).into());
        }
        let mut out = CacheOpt::default();
        for it in &items {
            let nv = match it {
                NestedMeta::Meta(Meta::NameValue(nv)) if nv.path.is_ident("ttl") => nv,
                NestedMeta::Meta(m) => {
                    let name = m.path().get_ident().map(ToString::to_string).unwrap_or_default();
                    let help = match closest(&name, ["ttl"]) {
                        Some(c) if name != c => format!("did you mean `{c}`? write `{FORM}`"),
                        _ => format!("write `{FORM}`"),
                    };
                    let what = if name == "ttl" {
                        "`ttl` needs a value".to_owned()
                    } else {
                        format!("unknown `cache` setting `{name}`")
                    };
                    return Err(error(m.span(), what, help).into());
                }
                NestedMeta::Lit(l) => {
                    return Err(error(l.span(), "`cache(..)` takes `ttl = \"..\"`", format!("write `{FORM}`")).into());
                }
            };
            if out.ttl_ms.is_some() {
                return Err(error(nv.path.span(), "`ttl` is given twice", "give `ttl` once").into());
            }
            let Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) = &nv.value else {
                return Err(error(
                    nv.value.span(),
                    "the cache TTL must be a string with a unit",
                    "write `ttl = \"30s\"` (units: `ms`, `s`, `m`, `h`)",
                )
                .into());
            };
            let ms = ttl_ms(&s.value()).map_err(|why| {
                error(
                    s.span(),
                    format!("invalid cache TTL: {why}"),
                    "write a whole number with a unit: `\"500ms\"`, `\"30s\"`, `\"5m\"`, `\"1h\"`",
                )
            })?;
            out.ttl_ms = Some(ms);
        }
        Ok(out)
    }
}
