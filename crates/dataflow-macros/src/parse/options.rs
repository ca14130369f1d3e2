//! Option receivers (darling) for `#[dataflow::model(...)]` / `#[dataflow(...)]` on the struct
//! and `#[dataflow(...)]` on fields, plus the pre-scan that reports unknown and duplicate
//! options with "did you mean" in this crate's own voice.
//!
//! Each option item is handed to darling on its own, so a bad value is reported against the
//! option it belongs to, with that option's correct form as `help:`.

use std::collections::HashMap;

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::util::SpannedValue;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, LitStr, Meta};

use super::cache::CacheOpt;
use super::forbid::ForbidList;
use super::indexes::IndexList;
use crate::ctxt::{Ctxt, closest};

/// An option: its name and its correct form (for `help:`).
pub(crate) struct OptSpec {
    pub(crate) name: &'static str,
    pub(crate) form: &'static str,
}

const fn spec(name: &'static str, form: &'static str) -> OptSpec {
    OptSpec { name, form }
}

/// Model options (docs/guide/models.md).
pub(crate) const MODEL_OPTS: &[OptSpec] = &[
    spec("table", "table = \"users\""),
    spec("soft_delete", "soft_delete"),
    spec("native_arrays", "native_arrays"),
    spec("multi_tenant", "multi_tenant"),
    spec("append_only", "append_only"),
    spec("timestamps", "timestamps = false"),
    spec("read_only", "read_only"),
    spec("forbid", "forbid(delete, bulk_delete)"),
    spec("audit", "audit"),
    spec("cache", "cache(ttl = \"30s\")"),
    spec("indexes", "indexes([\"email\"], unique([\"org_id\", \"slug\"]))"),
    spec("crate", "crate = \"::dataflow\""),
];

/// Field options (docs/guide/models.md).
pub(crate) const FIELD_OPTS: &[OptSpec] = &[
    spec("unique", "unique"),
    spec("index", "index"),
    spec("default", "default = 0"),
    spec("max_len", "max_len = 255"),
    spec("column", "column = \"user_email\""),
    spec("read_only", "read_only"),
];

/// The darling receiver for model options. Every field is optional; items are parsed one at a
/// time and merged.
#[derive(Default, FromMeta)]
#[darling(default)]
pub(crate) struct ModelArgs {
    /// `table = "..."`
    pub(crate) table: Option<LitStr>,
    /// `soft_delete`
    pub(crate) soft_delete: Option<SpannedValue<bool>>,
    /// `native_arrays`
    pub(crate) native_arrays: Option<SpannedValue<bool>>,
    /// `multi_tenant`
    pub(crate) multi_tenant: Option<SpannedValue<bool>>,
    /// `append_only`
    pub(crate) append_only: Option<SpannedValue<bool>>,
    /// `timestamps = false`
    pub(crate) timestamps: Option<SpannedValue<bool>>,
    /// `read_only`: every write refused with DF-609.
    pub(crate) read_only: Option<SpannedValue<bool>>,
    /// `forbid(delete, bulk_delete)`: operations refused with DF-609.
    pub(crate) forbid: Option<ForbidList>,
    /// `audit`: every write recorded in `dataflow_audit`.
    pub(crate) audit: Option<SpannedValue<bool>>,
    /// `cache` / `cache(ttl = "30s")`: query cache on by default.
    pub(crate) cache: Option<CacheOpt>,
    /// `indexes([...], unique([...]))`
    pub(crate) indexes: Option<IndexList>,
    /// `crate = "..."`: path of the `dataflow` facade.
    #[darling(rename = "crate")]
    pub(crate) krate: Option<syn::Path>,
}

impl ModelArgs {
    fn merge(&mut self, o: ModelArgs) {
        self.table = self.table.take().or(o.table);
        self.soft_delete = self.soft_delete.take().or(o.soft_delete);
        self.native_arrays = self.native_arrays.take().or(o.native_arrays);
        self.multi_tenant = self.multi_tenant.take().or(o.multi_tenant);
        self.append_only = self.append_only.take().or(o.append_only);
        self.timestamps = self.timestamps.take().or(o.timestamps);
        self.read_only = self.read_only.take().or(o.read_only);
        self.forbid = self.forbid.take().or(o.forbid);
        self.audit = self.audit.take().or(o.audit);
        self.cache = self.cache.take().or(o.cache);
        self.indexes = self.indexes.take().or(o.indexes);
        self.krate = self.krate.take().or(o.krate);
    }

    /// Whether a flag option is present and true; its span.
    pub(crate) fn flag(v: &Option<SpannedValue<bool>>) -> Option<Span> {
        v.as_ref().filter(|b| *b.as_ref()).map(SpannedValue::span)
    }
}

/// A `default = <literal>` value, kept as the raw expression (darling would parse a string
/// literal as an expression).
#[derive(Clone)]
pub(crate) struct DefaultExpr(pub(crate) Expr);

impl FromMeta for DefaultExpr {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        Ok(DefaultExpr(expr.clone()))
    }
}

/// The darling receiver for field options.
#[derive(Default, FromMeta)]
#[darling(default)]
pub(crate) struct FieldArgs {
    /// `unique`
    pub(crate) unique: Option<SpannedValue<bool>>,
    /// `index`
    pub(crate) index: Option<SpannedValue<bool>>,
    /// `default = <literal>`
    pub(crate) default: Option<DefaultExpr>,
    /// `max_len = n` (an integer literal; range-checked in `check`)
    pub(crate) max_len: Option<syn::LitInt>,
    /// `column = "..."`
    pub(crate) column: Option<LitStr>,
    /// `read_only`: set on create, never changed (DF-609).
    pub(crate) read_only: Option<SpannedValue<bool>>,
}

impl FieldArgs {
    fn merge(&mut self, o: FieldArgs) {
        self.unique = self.unique.take().or(o.unique);
        self.index = self.index.take().or(o.index);
        self.default = self.default.take().or(o.default);
        self.max_len = self.max_len.take().or(o.max_len);
        self.column = self.column.take().or(o.column);
        self.read_only = self.read_only.take().or(o.read_only);
    }
}

/// Where an option list sits: on the model or on a field.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Model,
    Field,
}

impl Level {
    fn specs(self) -> &'static [OptSpec] {
        match self {
            Level::Model => MODEL_OPTS,
            Level::Field => FIELD_OPTS,
        }
    }
    fn other(self) -> Level {
        match self {
            Level::Model => Level::Field,
            Level::Field => Level::Model,
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Level::Model => "model",
            Level::Field => "field",
        }
    }
}

fn valid_list(level: Level) -> String {
    level.specs().iter().map(|s| format!("`{}`", s.name)).collect::<Vec<_>>().join(", ")
}

/// Checks names (unknown, duplicate) and returns the items that are known, each once.
fn prescan(items: Vec<NestedMeta>, level: Level, cx: &mut Ctxt) -> Vec<(&'static OptSpec, NestedMeta)> {
    let mut seen: HashMap<&'static str, ()> = HashMap::new();
    let mut out = Vec::new();
    for item in items {
        let meta = match &item {
            NestedMeta::Meta(m) => m,
            NestedMeta::Lit(l) => {
                cx.error(
                    l.span(),
                    format!("unexpected literal in {} options", level.noun()),
                    format!("options are written like `#[dataflow({})]`", level.specs()[0].form),
                );
                continue;
            }
        };
        let name = meta.path().get_ident().map(ToString::to_string);
        let name_str = name.clone().unwrap_or_else(|| quote::quote!(#meta).to_string());
        let path_span = meta.path().span();
        if let Some(spec) = level.specs().iter().find(|s| Some(s.name) == name.as_deref()) {
            if seen.insert(spec.name, ()).is_some() {
                cx.error(
                    path_span,
                    format!("duplicate {} option `{}`", level.noun(), spec.name),
                    format!("give `{}` once", spec.form),
                );
                continue;
            }
            out.push((spec, item));
            continue;
        }
        if let Some(other) = level.other().specs().iter().find(|s| Some(s.name) == name.as_deref()) {
            let place = match level {
                Level::Model => "on the field: `#[dataflow(",
                Level::Field => "on the struct, after `#[dataflow::model]`: `#[dataflow(",
            };
            cx.error(
                path_span,
                format!("`{}` is a {} option, not a {} option", other.name, level.other().noun(), level.noun()),
                format!("put it {place}{})]`", other.form),
            );
            continue;
        }
        let names = level.specs().iter().map(|s| s.name);
        let help = match closest(&name_str, names) {
            Some(c) => format!("did you mean `{c}`? valid {} options: {}", level.noun(), valid_list(level)),
            None => format!("valid {} options: {}", level.noun(), valid_list(level)),
        };
        cx.error(path_span, format!("unknown {} option `{name_str}`", level.noun()), help);
    }
    out
}

/// Converts darling's errors for one option into ours: the option's name and correct form.
fn value_errors(e: darling::Error, spec: &OptSpec, item: &NestedMeta, cx: &mut Ctxt) {
    for e in e.flatten() {
        let span = if e.has_span() { e.span() } else { item.span() };
        let full = e.to_string();
        let suffix = format!(" at {}", spec.name);
        let raw = full.strip_suffix(suffix.as_str()).unwrap_or(&full);
        if spec.name == "indexes" || spec.name == "forbid" || spec.name == "cache" {
            // `IndexList`, `ForbidList` and `CacheOpt` write complete messages themselves.
            cx.push(syn::Error::new(span, raw));
            continue;
        }
        let mut msg = raw.to_owned();
        if let Some(first) = msg.get(..1) {
            msg.replace_range(..1, &first.to_lowercase());
        }
        cx.error(span, format!("invalid value for `{}`: {msg}", spec.name), format!("write `{}`", spec.form));
    }
}

/// Parses model options from all sources (attribute arguments, `#[dataflow(...)]` on the struct).
pub(crate) fn model_args(items: Vec<NestedMeta>, cx: &mut Ctxt) -> ModelArgs {
    let mut args = ModelArgs::default();
    for (spec, item) in prescan(items, Level::Model, cx) {
        match ModelArgs::from_list(std::slice::from_ref(&item)) {
            Ok(a) => args.merge(a),
            Err(e) => value_errors(e, spec, &item, cx),
        }
    }
    args
}

/// Parses field options from the field's `#[dataflow(...)]` attributes.
pub(crate) fn field_args(items: Vec<NestedMeta>, cx: &mut Ctxt) -> FieldArgs {
    let mut args = FieldArgs::default();
    for (spec, item) in prescan(items, Level::Field, cx) {
        match FieldArgs::from_list(std::slice::from_ref(&item)) {
            Ok(a) => args.merge(a),
            Err(e) => value_errors(e, spec, &item, cx),
        }
    }
    args
}

/// The items of one `#[dataflow(...)]` attribute.
pub(crate) fn attr_items(attr: &syn::Attribute, cx: &mut Ctxt, level: Level) -> Vec<NestedMeta> {
    match &attr.meta {
        Meta::List(list) => match NestedMeta::parse_meta_list(list.tokens.clone()) {
            Ok(items) => items,
            Err(e) => {
                cx.push(e);
                Vec::new()
            }
        },
        other => {
            cx.error(
                other.span(),
                "expected a list of options",
                format!("write `#[dataflow({})]`", level.specs()[0].form),
            );
            Vec::new()
        }
    }
}
