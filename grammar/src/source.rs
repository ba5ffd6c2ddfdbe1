//! Source files and spans: every AST node points back at the bytes it came from.
//!
//! A [`SourceFile`] is a named text (a `.policy` file, a Flatpak manifest, a metadata
//! keyfile, or stdin). A [`Span`] is a byte range inside one of them. Spans are plain data;
//! [`SourceFile::line_col`] turns an offset into the 1-based line and column people expect.

use std::sync::{Arc, OnceLock};

/// A named source text. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// What to call the file in diagnostics (a path, or `<stdin>`).
    pub name: Arc<str>,
    /// The whole text.
    pub text: Arc<str>,
    /// Where lines start and how many characters precede each block, built on the first
    /// [`SourceFile::line_col`] and shared by clones.
    index: Arc<OnceLock<LineIndex>>,
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.text == other.text
    }
}

impl Eq for SourceFile {}

/// Bytes per block of [`LineIndex::chars_before`].
const BLOCK: usize = 1024;

/// Turns offsets into lines and columns in logarithmic time (plus one block's scan), so
/// that positioning every finding of a large file stays linear overall.
#[derive(Debug)]
struct LineIndex {
    /// Byte offset of the start of every line, the first being 0.
    line_starts: Vec<usize>,
    /// Characters in `text[..k * BLOCK]`, for every `k`.
    chars_before: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let mut chars_before = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut count = 0;
        chars_before.push(0);
        for block in bytes.chunks(BLOCK) {
            count += chars_in(block);
            chars_before.push(count);
        }
        LineIndex {
            line_starts,
            chars_before,
        }
    }

    /// Characters in `text[..offset]` (a byte that continues a character is not one).
    fn chars_to(&self, bytes: &[u8], offset: usize) -> usize {
        let block = offset / BLOCK;
        self.chars_before[block] + chars_in(&bytes[block * BLOCK..offset])
    }
}

/// Characters that start in `bytes`: every byte that is not a UTF-8 continuation byte.
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

impl SourceFile {
    /// Makes a source file from a name and its text.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
            index: Arc::default(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset; offsets past the end
    /// are clamped to the end.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let index = self.index.get_or_init(|| LineIndex::new(&self.text));
        // The last line start at or before `offset`; the first one is 0, so there is one.
        let line = index.line_starts.partition_point(|s| *s <= offset);
        let line_start = index.line_starts[line.saturating_sub(1)];
        let bytes = self.text.as_bytes();
        // A short line prefix is counted directly; a long one from the block counts.
        let column = if offset - line_start <= BLOCK {
            chars_in(&bytes[line_start..offset])
        } else {
            index.chars_to(bytes, offset) - index.chars_to(bytes, line_start)
        };
        (line, column + 1)
    }

    /// The byte range of a 1-based line, without its line break (`\n` or `\r\n`); a line
    /// past the end is the empty range at the end.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let index = self.index.get_or_init(|| LineIndex::new(&self.text));
        let len = self.text.len();
        let Some(&start) = index.line_starts.get(line.saturating_sub(1)) else {
            return len..len;
        };
        let mut end = index
            .line_starts
            .get(line)
            .map(|next| next - 1)
            .unwrap_or(len);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
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

    #[test]
    fn line_col_counts_characters_across_index_blocks() {
        // Lines and multi-byte characters that straddle the index's 1024-byte blocks.
        let text = format!("{}\n{}x\n", "é".repeat(700), "ü".repeat(600));
        let file = SourceFile::new("x", text.as_str());
        assert_eq!(file.line_col(1400), (1, 701));
        assert_eq!(file.line_col(1401), (2, 1));
        assert_eq!(file.line_col(1401 + 1200), (2, 601));
        // An offset inside a character counts that character as begun.
        assert_eq!(file.line_col(1), (1, 2));
        assert_eq!(file, SourceFile::new("x", text.as_str()));
    }

    #[test]
    fn line_ranges_leave_out_line_breaks() {
        let file = SourceFile::new("x", "ab\r\ncd\n\nef");
        assert_eq!(file.line_range(1), 0..2);
        assert_eq!(file.line_range(2), 4..6);
        assert_eq!(file.line_range(3), 7..7);
        assert_eq!(file.line_range(4), 8..10);
        assert_eq!(file.line_range(5), 10..10);
    }
}
