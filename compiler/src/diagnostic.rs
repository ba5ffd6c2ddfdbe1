//! Diagnostics: what the importers, the checker and the exporters report.
//!
//! A [`Diagnostic`] has a stable [`Code`], a [`Severity`], a message, labelled spans, an
//! optional help text and the source file the spans point into. It implements
//! [`miette::Diagnostic`], so the CLI renders it with miette; diagnostics accumulate in a
//! `Vec` instead of stopping at the first.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceCode};
use portcullis_syntax::{SourceFile, Span};

use crate::codes::Code;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; changes nothing.
    Info,
    /// Probably not what was meant, or ignored by Flatpak.
    Warning,
    /// Wrong: Flatpak refuses it, or it cannot be read.
    Error,
}

impl Severity {
    /// miette's level for this severity (info is rendered as advice).
    pub fn to_miette(self) -> miette::Severity {
        match self {
            Severity::Info => miette::Severity::Advice,
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        }
    }

    /// The lower-case word (`error`, `warning`, `info`).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `error`, `warning` or `info`.
    pub fn from_name(word: &str) -> Option<Severity> {
        match word {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// A labelled span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there.
    pub text: String,
}

/// One finding.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// How bad it is.
    pub severity: Severity,
    /// The message (lower-case, no full stop, user input in backticks).
    pub message: String,
    /// Labelled spans in [`Diagnostic::source`].
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// The file the labels point into.
    pub source: Option<SourceFile>,
    named: Option<NamedSource<Arc<str>>>,
}

impl Diagnostic {
    /// A diagnostic with no label yet.
    pub fn new(code: Code, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            source: None,
            named: None,
        }
    }

    /// An error.
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, message)
    }

    /// A warning.
    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Warning, message)
    }

    /// An informational note.
    pub fn info(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Info, message)
    }

    /// Adds a labelled span.
    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Attaches the source file the labels point into (kept if one is already set).
    pub fn in_file(mut self, file: &SourceFile) -> Diagnostic {
        if self.source.is_none() {
            self.named = Some(NamedSource::new(&file.name, file.text.clone()));
            self.source = Some(file.clone());
        }
        self
    }

    /// The first label's span, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    /// Whether this is an error that makes the input invalid (exit 2).
    pub fn is_invalid_input(&self) -> bool {
        self.severity == Severity::Error && self.code.is_invalid_input()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity.to_miette())
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.named.as_ref().map(|n| n as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.named.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|l| {
            LabeledSpan::new_with_span(Some(l.text.clone()), l.span)
        })))
    }
}

/// A list of diagnostics with helpers used everywhere in the compiler.
pub trait DiagnosticsExt {
    /// Whether any diagnostic is an error.
    fn has_errors(&self) -> bool;
}

impl DiagnosticsExt for [Diagnostic] {
    fn has_errors(&self) -> bool {
        self.iter().any(|d| d.severity == Severity::Error)
    }
}
