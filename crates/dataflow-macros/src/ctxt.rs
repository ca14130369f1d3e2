//! Error collection: every check pushes into one [`Ctxt`]; the errors are combined into a
//! single `syn::Error` at the end so that one `cargo check` shows every problem.

use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// Collects errors. Messages are lowercase; `help` gives the correct form.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// Records an error at `span` with a `help:` line.
    pub(crate) fn error(&mut self, span: Span, message: impl Display, help: impl Display) {
        self.errors.push(error(span, message, help));
    }

    /// Records an error covering all of `tokens` (the whole type, attribute or expression).
    pub(crate) fn error_spanned(&mut self, tokens: impl ToTokens, message: impl Display, help: impl Display) {
        self.errors.push(error_spanned(tokens, message, help));
    }

    /// Records an already-built error.
    pub(crate) fn push(&mut self, e: syn::Error) {
        self.errors.push(e);
    }

    /// All errors combined into one, or `None`.
    pub(crate) fn finish(self) -> Option<syn::Error> {
        self.errors.into_iter().reduce(|mut a, b| {
            a.combine(b);
            a
        })
    }
}

/// An error whose message ends with a `help:` line.
pub(crate) fn error(span: Span, message: impl Display, help: impl Display) -> syn::Error {
    syn::Error::new(span, format!("{message}\nhelp: {help}"))
}

/// An error covering all of `tokens`, with a `help:` line.
pub(crate) fn error_spanned(tokens: impl ToTokens, message: impl Display, help: impl Display) -> syn::Error {
    syn::Error::new_spanned(tokens, format!("{message}\nhelp: {help}"))
}

pub(crate) use dataflow_naming::closest;
