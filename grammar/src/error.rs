//! Parse errors: what went wrong, where, and what to write instead.
//!
//! A [`ParseError`] is a `miette` diagnostic with a stable code
//! (`portcullis::parse::<kind>`), a label on the offending span and help in the words of
//! the language, never in the grammar's rule names. Errors found by pest are translated in
//! [`crate::diagnose`]; errors found while building the AST are made in [`crate::parser`].
//!
//! The error is returned once per failed parse, so its size does not matter for speed;
//! the crate allows `clippy::result_large_err` rather than hiding the fields behind a box.

use crate::source::{SourceFile, Span};
use std::fmt;

/// The kinds of parse error; each is a stable code `portcullis::parse::<kind>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// A token that cannot stand where it is.
    Unexpected,
    /// A statement word with no value after it.
    MissingValue,
    /// The file ends inside a `{ … }` block.
    UnclosedBlock,
    /// A `}` with no block to close.
    StrayBrace,
    /// A quoted string that is not closed on its line.
    UnclosedString,
    /// An unknown escape in a quoted string.
    BadEscape,
    /// A header statement that takes one value got several.
    TooManyValues,
    /// A header statement given twice.
    Duplicate,
    /// A statement outside the file's `app`/`runtime`/`fragment` block.
    OutsideBlock,
    /// A block inside another, or a second block in one file.
    ExtraBlock,
    /// A port that is not a number 0–65535 or a range of them.
    BadPort,
}

impl ParseErrorKind {
    /// The part of the code after `portcullis::parse::`.
    pub fn code(self) -> &'static str {
        match self {
            ParseErrorKind::Unexpected => "unexpected",
            ParseErrorKind::MissingValue => "missing-value",
            ParseErrorKind::UnclosedBlock => "unclosed-block",
            ParseErrorKind::StrayBrace => "stray-brace",
            ParseErrorKind::UnclosedString => "unclosed-string",
            ParseErrorKind::BadEscape => "bad-escape",
            ParseErrorKind::TooManyValues => "too-many-values",
            ParseErrorKind::Duplicate => "duplicate",
            ParseErrorKind::OutsideBlock => "outside-block",
            ParseErrorKind::ExtraBlock => "extra-block",
            ParseErrorKind::BadPort => "bad-port",
        }
    }
}

/// A policy file that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// What kind of error (the stable code).
    pub kind: ParseErrorKind,
    /// The one-line message.
    pub message: String,
    /// Where it went wrong.
    pub span: Span,
    /// The text of the label on `span`.
    pub label: String,
    /// What to do about it.
    pub help: String,
    /// A second place worth pointing at (the block a `}` is missing for, the first
    /// `runtime` when a second one is given).
    pub related: Option<(Span, String)>,
    /// The file and the code string, for rendering.
    rendering: Box<Rendering>,
}

#[derive(Debug)]
struct Rendering {
    source_code: miette::NamedSource<String>,
    /// `portcullis::parse::<kind>`, kept so that `code()` can lend it out.
    code: String,
}

impl ParseError {
    /// A new error of `kind` at `span` in `file`.
    pub fn new(
        file: &SourceFile,
        kind: ParseErrorKind,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        ParseError {
            kind,
            message: message.into(),
            span,
            label: label.into(),
            help: help.into(),
            related: None,
            rendering: Box::new(Rendering {
                source_code: file.named_source(),
                code: format!("portcullis::parse::{}", kind.code()),
            }),
        }
    }

    /// The same error with a second labelled place.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related = Some((span, label.into()));
        self
    }
}

impl miette::Diagnostic for ParseError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.rendering.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.rendering.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let primary = miette::LabeledSpan::new_primary_with_span(
            Some(self.label.clone()),
            miette::SourceSpan::from(self.span),
        );
        let related = self.related.as_ref().map(|(span, label)| {
            miette::LabeledSpan::new_with_span(Some(label.clone()), miette::SourceSpan::from(*span))
        });
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}
