//! `$regex` and case-insensitive matching that mean the same on every backend.
//!
//! A pattern is parsed once, before any SQL, with `regex-syntax` (the parser behind Rust's `regex`
//! crate, which the reference evaluator and SQLite's `regexp()` use). The parsed tree is then
//! printed back in a small subset every engine reads the same way — PostgreSQL AREs, MariaDB/MySQL
//! PCRE2 and Rust `regex`: literals (metacharacters escaped), explicit bracket classes of code-point
//! ranges, groups, alternation, greedy counted repetition and the string anchors.
//!
//! Case-insensitivity is decided here, not by the database: with `$options: "i"` (and for `$ilike`)
//! the parser applies **Unicode simple case folding** (`regex-syntax`'s `case_fold_simple`) and every
//! cased character becomes a class of its fold-equivalents (`é` → `[Éé]`, `σ` → `[Σςσ]`,
//! `k` → `[Kk\u{212A}]`). The printed pattern is then matched case-sensitively by code point
//! everywhere, so no collation, locale or `lower()` implementation is involved. Consequences
//! (documented in `docs/guide/filters.md`): `STRASSE` ~ `strasse`, `ß` ≁ `ss` (full folding is
//! not applied), `ß` ~ `ẞ`, and no Unicode normalization (precomposed `é` ≠ `e` + U+0301).

use regex_syntax::hir::{Class, Hir, HirKind, Look};

use crate::Dialect;

/// Longest `$regex` / `$ilike` pattern accepted, in bytes (hostile patterns must not cost seconds).
pub const MAX_REGEX_LEN: usize = 1024;
/// Longest pattern after case folding and class expansion, in bytes.
pub const MAX_REGEX_EXPANDED: usize = 32 * 1024;
/// Largest counted repetition (`{n,m}`) bound: PostgreSQL's limit (`DUPMAX`).
pub const MAX_REPEAT: u32 = 255;
/// Deepest group nesting in a pattern.
const NEST_LIMIT: u32 = 32;

/// A pattern that failed validation: a message and, when known, the 0-based character position of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternError {
    pub message: String,
    pub position: Option<usize>,
}

/// Parses a pattern (Rust `regex` syntax) with simple case folding when `ci`, and checks that it
/// prints within the portable subset.
pub(crate) fn parse(pattern: &str, ci: bool) -> Result<Hir, PatternError> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(PatternError {
            message: format!("the pattern is {} bytes long; at most {MAX_REGEX_LEN} are accepted", pattern.len()),
            position: Some(pattern[..floor_char_boundary(pattern, MAX_REGEX_LEN)].chars().count()),
        });
    }
    if let Some(i) = pattern.find('\0') {
        return Err(PatternError {
            message: "the pattern contains a NUL character (PostgreSQL text cannot hold it)".into(),
            position: Some(pattern[..i].chars().count()),
        });
    }
    let hir =
        regex_syntax::ParserBuilder::new().case_insensitive(ci).nest_limit(NEST_LIMIT).build().parse(pattern).map_err(
            |e| {
                let (kind, span) = match &e {
                    regex_syntax::Error::Parse(p) => (p.kind().to_string(), *p.span()),
                    regex_syntax::Error::Translate(t) => (t.kind().to_string(), *t.span()),
                    _ => (e.to_string(), regex_syntax::ast::Span::splat(regex_syntax::ast::Position::new(0, 1, 1))),
                };
                let at = floor_char_boundary(pattern, span.start.offset.min(pattern.len()));
                PatternError { message: kind, position: Some(pattern[..at].chars().count()) }
            },
        )?;
    print(&hir, Dialect::Postgres).map_err(|message| {
        // Point at the construct that is not portable, found in the syntax tree.
        let position = regex_syntax::ast::parse::Parser::new()
            .parse(pattern)
            .ok()
            .and_then(|ast| not_portable_at(&ast))
            .map(|at| pattern[..floor_char_boundary(pattern, at.min(pattern.len()))].chars().count());
        PatternError { message, position }
    })?;
    Ok(hir)
}

/// The byte offset of the first construct outside the portable subset: a word-boundary
/// assertion, a multi-line / CRLF / Unicode flag, or a repetition bound above [`MAX_REPEAT`].
fn not_portable_at(ast: &regex_syntax::ast::Ast) -> Option<usize> {
    use regex_syntax::ast::{AssertionKind, Ast, Flag, FlagsItemKind, GroupKind, RepetitionKind, RepetitionRange};
    let bad_flags = |f: &regex_syntax::ast::Flags| {
        f.items
            .iter()
            .find(|i| matches!(i.kind, FlagsItemKind::Flag(Flag::MultiLine | Flag::CRLF | Flag::Unicode)))
            .map(|i| i.span.start.offset)
    };
    match ast {
        Ast::Assertion(a) => (!matches!(
            a.kind,
            AssertionKind::StartLine | AssertionKind::EndLine | AssertionKind::StartText | AssertionKind::EndText
        ))
        .then_some(a.span.start.offset),
        Ast::Flags(f) => bad_flags(&f.flags),
        Ast::Repetition(r) => {
            let too_big = match r.op.kind {
                RepetitionKind::Range(RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n)) => n > MAX_REPEAT,
                RepetitionKind::Range(RepetitionRange::Bounded(m, n)) => m > MAX_REPEAT || n > MAX_REPEAT,
                _ => false,
            };
            if too_big { Some(r.op.span.start.offset) } else { not_portable_at(&r.ast) }
        }
        Ast::Group(g) => {
            let flags = match &g.kind {
                GroupKind::NonCapturing(f) => bad_flags(f),
                _ => None,
            };
            flags.or_else(|| not_portable_at(&g.ast))
        }
        Ast::Alternation(a) => a.asts.iter().find_map(not_portable_at),
        Ast::Concat(c) => c.asts.iter().find_map(not_portable_at),
        _ => None,
    }
}

/// Prints a parsed pattern in the portable subset for one dialect (only `$` differs: MariaDB's
/// PCRE2 `$` also matches before a final newline, so MySQL gets `\z`).
pub(crate) fn print(hir: &Hir, dialect: Dialect) -> Result<String, String> {
    let mut out = String::new();
    Printer { dialect, out: &mut out }.node(hir, true)?;
    if out.len() > MAX_REGEX_EXPANDED {
        return Err(format!(
            "the pattern expands to {} bytes after case folding and class expansion (at most {MAX_REGEX_EXPANDED}); \
             use narrower classes than \\w, \\d or \\p{{..}}",
            out.len()
        ));
    }
    Ok(out)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

struct Printer<'a> {
    dialect: Dialect,
    out: &'a mut String,
}

/// "Any character, newline included": `.` already matches `\n` on PostgreSQL, not elsewhere.
const ANY: &str = "(?:[^\\n]|\\n)";

impl Printer<'_> {
    fn node(&mut self, hir: &Hir, top: bool) -> Result<(), String> {
        match hir.kind() {
            HirKind::Empty => {
                if !top {
                    self.out.push_str("(?:)");
                }
            }
            HirKind::Literal(lit) => {
                let s = std::str::from_utf8(&lit.0)
                    .map_err(|_| "byte literals that are not UTF-8 are not portable; drop (?-u)".to_owned())?;
                for c in s.chars() {
                    push_literal(self.out, c, false);
                }
            }
            HirKind::Class(Class::Unicode(cls)) => {
                let ranges: Vec<(char, char)> = cls.ranges().iter().map(|r| (r.start(), r.end())).collect();
                self.class(&ranges)?;
            }
            HirKind::Class(Class::Bytes(cls)) => {
                if cls.ranges().iter().any(|r| r.end() > 0x7F) {
                    return Err("byte classes beyond ASCII (from (?-u)) are not portable; drop (?-u)".into());
                }
                let ranges: Vec<(char, char)> =
                    cls.ranges().iter().map(|r| (char::from(r.start()), char::from(r.end()))).collect();
                self.class(&ranges)?;
            }
            HirKind::Look(look) => match look {
                Look::Start => self.out.push('^'),
                Look::End => self.out.push_str(if self.dialect == Dialect::MySql { "\\z" } else { "$" }),
                Look::StartLF | Look::EndLF | Look::StartCRLF | Look::EndCRLF => {
                    return Err("line anchors of multi-line mode ((?m), (?R)) are not in the portable subset; \
                                ^ and $ match the start and end of the whole value"
                        .into());
                }
                _ => {
                    return Err(
                        "word boundaries (\\b, \\B, \\<, \\>, \\b{start}, ...) are not in the portable subset; \
                                match the neighbouring characters explicitly, e.g. (^|[^A-Za-z0-9_])word"
                            .into(),
                    );
                }
            },
            HirKind::Repetition(rep) => {
                if rep.min > MAX_REPEAT || rep.max.is_some_and(|m| m > MAX_REPEAT) {
                    return Err(format!("counted repetition above {MAX_REPEAT} is not portable"));
                }
                if matches!(rep.sub.kind(), HirKind::Look(_) | HirKind::Empty) {
                    return Err("a repeated assertion or empty group is not portable".into());
                }
                self.atom(&rep.sub)?;
                // Greediness cannot change whether a pattern matches, so every quantifier is printed greedy.
                match (rep.min, rep.max) {
                    (0, None) => self.out.push('*'),
                    (1, None) => self.out.push('+'),
                    (0, Some(1)) => self.out.push('?'),
                    (n, None) => self.out.push_str(&format!("{{{n},}}")),
                    (n, Some(m)) if n == m => self.out.push_str(&format!("{{{n}}}")),
                    (n, Some(m)) => self.out.push_str(&format!("{{{n},{m}}}")),
                }
            }
            HirKind::Capture(cap) => {
                self.out.push_str("(?:");
                self.node(&cap.sub, true)?;
                self.out.push(')');
            }
            HirKind::Concat(items) => {
                for h in items {
                    self.node(h, false)?;
                }
            }
            HirKind::Alternation(items) => {
                if !top {
                    self.out.push_str("(?:");
                }
                for (i, h) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push('|');
                    }
                    self.node(h, true)?;
                }
                if !top {
                    self.out.push(')');
                }
            }
        }
        if self.out.len() > MAX_REGEX_EXPANDED {
            return Err(format!(
                "the pattern expands to more than {MAX_REGEX_EXPANDED} bytes after case folding and class expansion; \
                 use narrower classes than \\w, \\d or \\p{{..}}"
            ));
        }
        Ok(())
    }

    /// A sub-pattern a quantifier can follow: one character, a class, or a group.
    fn atom(&mut self, hir: &Hir) -> Result<(), String> {
        let single = match hir.kind() {
            HirKind::Literal(l) => std::str::from_utf8(&l.0).is_ok_and(|s| s.chars().count() == 1),
            HirKind::Class(_) | HirKind::Capture(_) => true,
            _ => false,
        };
        if single {
            return self.node(hir, false);
        }
        self.out.push_str("(?:");
        self.node(hir, true)?;
        self.out.push(')');
        Ok(())
    }

    /// A class as sorted code-point ranges: one character bare, otherwise a bracket expression. A
    /// class holding NUL is printed negated (its complement), so NUL never appears in the pattern.
    fn class(&mut self, ranges: &[(char, char)]) -> Result<(), String> {
        if ranges.is_empty() {
            // Matches nothing: a negated "anything" class is not portable, an impossible lookaround
            // is not either; `[^\n]` followed by a start anchor can never match.
            self.out.push_str("(?:[^\\n]^)");
            return Ok(());
        }
        if let [(a, b)] = ranges
            && a == b
        {
            push_literal(self.out, *a, false);
            return Ok(());
        }
        if ranges[0].0 == '\0' {
            let complement = complement(ranges);
            if complement.is_empty() {
                self.out.push_str(ANY);
                return Ok(());
            }
            self.out.push_str("[^");
            push_ranges(self.out, &complement);
        } else {
            self.out.push('[');
            push_ranges(self.out, ranges);
        }
        self.out.push(']');
        Ok(())
    }
}

fn push_ranges(out: &mut String, ranges: &[(char, char)]) {
    for &(a, b) in ranges {
        push_literal(out, a, true);
        if b != a {
            if u32::from(b) > u32::from(a) + 1 {
                out.push('-');
            }
            push_literal(out, b, true);
        }
    }
}

/// The code points not in `ranges` (sorted, non-overlapping), skipping surrogates.
fn complement(ranges: &[(char, char)]) -> Vec<(char, char)> {
    let mut out = Vec::new();
    let mut next: u32 = 0;
    for &(a, b) in ranges {
        let a = u32::from(a);
        if a > next {
            push_span(&mut out, next, a - 1);
        }
        next = u32::from(b) + 1;
    }
    if next <= 0x10FFFF {
        push_span(&mut out, next, 0x10FFFF);
    }
    out
}

fn push_span(out: &mut Vec<(char, char)>, a: u32, b: u32) {
    // Split around the surrogate block, which holds no chars.
    for (lo, hi) in [(a, b.min(0xD7FF)), (a.max(0xE000), b)] {
        if lo <= hi
            && let (Some(x), Some(y)) = (char::from_u32(lo), char::from_u32(hi))
        {
            out.push((x, y));
        }
    }
}

/// One character: escaped when it is a metacharacter (outside or inside brackets) or a control
/// character with a portable escape; every other character stands for itself.
fn push_literal(out: &mut String, c: char, in_class: bool) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\\' | '[' | ']' | '^' => {
            out.push('\\');
            out.push(c);
        }
        '-' if in_class => out.push_str("\\-"),
        '.' | '+' | '*' | '?' | '(' | ')' | '|' | '{' | '}' | '$' if !in_class => {
            out.push('\\');
            out.push(c);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pattern: &str, ci: bool) -> String {
        print(&parse(pattern, ci).unwrap(), Dialect::Postgres).unwrap()
    }

    #[test]
    fn prints_the_portable_subset() {
        assert_eq!(p("^a.b$", false), "^a[^\\n]b$");
        assert_eq!(p("x(y|z)+", false), "x(?:[yz])+");
        assert_eq!(p("x(ab|cd)", false), "x(?:ab|cd)");
        assert_eq!(p("x(?:ab|cd)?", false), "x(?:ab|cd)?");
        assert_eq!(p("ab*?", false), "ab*");
        assert_eq!(p("a{2,3}", false), "a{2,3}");
        assert_eq!(p("(?:ab){2}", false), "(?:ab){2}");
        assert_eq!(p("[a-c\\]]", false), "[\\]a-c]");
        assert_eq!(p("\\.\\$", false), "\\.\\$");
        assert_eq!(p("(?s).", false), ANY);
        assert_eq!(p("é", true), "[Éé]");
        assert_eq!(p("σ", true), "[Σςσ]");
        assert_eq!(p("ß", true), "[ßẞ]");
        assert_eq!(print(&parse("a$", false).unwrap(), Dialect::MySql).unwrap(), "a\\z");
    }

    #[test]
    fn rejects_what_is_not_portable_with_a_position() {
        let e = parse("ab(c", false).unwrap_err();
        assert_eq!(e.position, Some(2), "{e:?}");
        assert_eq!(parse("a\\bword", false).unwrap_err().position, Some(1));
        assert_eq!(parse("ab(?m)^a", false).unwrap_err().position, Some(4));
        assert_eq!(parse("éx{1,300}", false).unwrap_err().position, Some(2));
        assert!(parse("(?m)^a", false).is_err());
        assert!(parse("a{300}", false).is_err());
        assert!(parse(&"a".repeat(MAX_REGEX_LEN + 1), false).is_err());
        assert!(parse("a\0", false).is_err());
        assert!(parse("\\w", false).is_ok(), "Unicode classes expand to explicit ranges");
    }
}
