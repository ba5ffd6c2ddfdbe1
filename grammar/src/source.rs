//! Source files and spans: every AST node points back at the bytes it came from.
//!
//! A [`SourceFile`] is a named text (a `.policy` file, a Flatpak manifest, a metadata
//! keyfile, or stdin). A [`Span`] is a byte range inside one of them. Spans are plain data;
//! [`SourceFile::line_col`] turns an offset into the 1-based line and column people expect.

use std::sync::Arc;

/// A named source text. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// What to call the file in diagnostics (a path, or `<stdin>`).
    pub name: Arc<str>,
    /// The whole text.
    pub text: Arc<str>,
}

impl SourceFile {
    /// Makes a source file from a name and its text.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset; offsets past the end
    /// are clamped to the end.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let mut line = 1;
        let mut line_start = 0;
        for (idx, byte) in self.text.as_bytes()[..offset].iter().enumerate() {
            if *byte == b'\n' {
                line += 1;
                line_start = idx + 1;
            }
        }
        // Count characters, not bytes, for the column; fall back to bytes on a split char.
        let column = self
            .text
            .get(line_start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - line_start);
        (line, column + 1)
    }

    /// A miette source with this file's name, for rendering diagnostics.
    pub fn named_source(&self) -> miette::NamedSource<String> {
        miette::NamedSource::new(&self.name, self.text.to_string())
    }
}

/// A byte range `[start, end)` in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new(span.start.into(), span.len())
    }
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Spanned<T> {
    /// The value as written (after unquoting).
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let file = SourceFile::new("x", "ab\ncdé\nf");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(7), (2, 4));
        assert_eq!(file.line_col(8), (3, 1));
        assert_eq!(file.line_col(1000), (3, 2));
    }
}
