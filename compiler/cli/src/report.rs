//! The common finding model of every reporting subcommand (`check` now; `audit`, `diff` and
//! `verify` later) and its renderers: human (miette's graphical report) and JSON.
//!
//! A [`Finding`] is plain data (code, severity, message, help, file, line and column,
//! byte span, labels) so that any subcommand can make one, from a compiler diagnostic or
//! from its own analysis. It implements [`miette::Diagnostic`], which is how the human
//! renderer draws the source snippet with labels.

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use portcullis_compiler::{Diagnostic, Severity};
use portcullis_syntax::SourceFile;
use serde::Serialize;
use std::fmt;
use std::io::IsTerminal;

use crate::snippet::Snippet;

/// A labelled byte range in a finding's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingLabel {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in characters) of `start`.
    pub column: usize,
    /// What the label says.
    pub text: String,
}

/// One reported finding.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Stable code (`portcullis::check::unknown-value`).
    pub code: String,
    /// `error`, `warning` or `info`.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The file, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line of the primary label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column of the primary label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Byte range `[start, end)` of the primary label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<(usize, usize)>,
    /// Every label, the primary one first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<FindingLabel>,
    #[serde(skip)]
    source: Option<SourceFile>,
}

impl Finding {
    /// A finding without a file or position.
    pub fn new(code: impl Into<String>, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            code: code.into(),
            severity,
            message: bound_quotes(&message.into()),
            help: None,
            file: None,
            line: None,
            column: None,
            span: None,
            labels: Vec::new(),
            source: None,
        }
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(bound_quotes(&help.into()));
        self
    }

    /// Names the file the finding is about (without a position).
    pub fn with_file(mut self, file: impl Into<String>) -> Finding {
        self.file = Some(file.into());
        self
    }

    /// A finding from a compiler diagnostic, positions resolved against its file.
    pub fn from_diagnostic(diag: &Diagnostic) -> Finding {
        let mut finding = Finding::new(diag.code.to_string(), diag.severity, diag.message.clone());
        finding.help = diag.help.as_deref().map(bound_quotes);
        if let Some(file) = &diag.source {
            finding.file = Some(file.name.to_string());
            finding.labels = diag
                .labels
                .iter()
                .map(|l| {
                    let (line, column) = file.line_col(l.span.start);
                    FindingLabel {
                        start: l.span.start,
                        end: l.span.end,
                        line,
                        column,
                        text: bound_quotes(&l.text),
                    }
                })
                .collect();
            if let Some(first) = finding.labels.first() {
                finding.line = Some(first.line);
                finding.column = Some(first.column);
                finding.span = Some((first.start, first.end));
            }
            finding.source = Some(file.clone());
        }
        finding
    }

    /// Whether the finding is at or above a severity.
    pub fn at_least(&self, level: Severity) -> bool {
        self.severity >= level
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Finding {}

/// A finding as miette draws it: its source cut to a bounded [`Snippet`].
struct Drawn<'a> {
    finding: &'a Finding,
    snippet: Option<Snippet>,
}

impl fmt::Debug for Drawn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.finding, f)
    }
}

impl fmt::Display for Drawn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.finding, f)
    }
}

impl std::error::Error for Drawn<'_> {}

impl miette::Diagnostic for Drawn<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.finding.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.finding.severity.to_miette())
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.finding
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.snippet.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let snippet = self.snippet.as_ref()?;
        Some(Box::new(snippet.labels()))
    }
}

/// Renders findings for people: a miette report each (colours only on a terminal), with
/// `file:line:column` for findings that have no source text at hand. Each report shows a
/// bounded window of its file (see [`Snippet`]), so the output grows linearly with the
/// findings whatever the length of the lines.
pub fn render_human(findings: &[Finding], colour: bool) -> String {
    let theme = if colour {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for finding in findings {
        let snippet = finding
            .source
            .as_ref()
            .and_then(|file| Snippet::new(file, &finding.labels));
        if snippet.is_none() {
            if let Some(file) = &finding.file {
                out.push_str(file);
                if let (Some(line), Some(column)) = (finding.line, finding.column) {
                    out.push_str(&format!(":{line}:{column}"));
                }
                out.push_str(": ");
            }
        }
        let left_out = snippet
            .as_ref()
            .map(|s| s.left_out.clone())
            .unwrap_or_default();
        let drawn = Drawn { finding, snippet };
        if handler.render_report(&mut out, &drawn).is_err() {
            out.push_str(&format!("{}: {}\n", finding.code, finding.message));
        }
        for label in left_out {
            let file = finding.file.as_deref().unwrap_or("");
            out.push_str(&format!(
                "  note: {} at {file}:{}:{}\n",
                label.text, label.line, label.column
            ));
        }
    }
    out
}

/// Longest user value echoed whole in a message, in characters.
pub const ECHO_LIMIT: usize = 120;

/// A user value to echo in a message: itself when short, else its start, `…` and its
/// length, so that a 100,000-character value does not make a 100 KB message.
pub fn bounded(value: &str) -> String {
    match value.char_indices().nth(ECHO_LIMIT) {
        None => value.to_string(),
        Some((cut, _)) => format!("{}… ({} characters)", &value[..cut], value.chars().count()),
    }
}

/// A message with every backticked span longer than [`ECHO_LIMIT`] shortened by
/// [`bounded`]; messages quote user input in backticks.
pub fn bound_quotes(text: &str) -> String {
    if text.len() <= ECHO_LIMIT {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len().min(4 * ECHO_LIMIT));
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd parts are inside backticks; a long unquoted part is ours, but bound it too.
        if part.chars().nth(ECHO_LIMIT).is_some() && (i % 2 == 1 || part.len() > 8 * ECHO_LIMIT) {
            out.push_str(&bounded(part));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Whether standard output is a terminal (for colour).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether standard error is a terminal (for colour).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Counts of findings by severity.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Summary {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Infos.
    pub infos: usize,
}

impl Summary {
    /// Counts the findings.
    pub fn of(findings: &[Finding]) -> Summary {
        let mut summary = Summary::default();
        for finding in findings {
            match finding.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
        summary
    }
}

/// Renders findings as JSON: `{ "findings": [...], "summary": {...} }`.
pub fn render_json(findings: &[Finding]) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        findings: &'a [Finding],
        summary: Summary,
    }
    let report = Report {
        findings,
        summary: Summary::of(findings),
    };
    // INVARIANT: the report holds only strings, numbers and plain structs; serialising
    // it to a string cannot fail.
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}
