//! Bounded source snippets for the human renderer.
//!
//! miette draws a finding's labels under the lines they are on. Given the whole file it
//! reads from the start of the text for every label (quadratic over many findings), copies
//! whole lines (a minified manifest is one line of megabytes) and panics on a label past
//! column 65,535. A [`Snippet`] is what miette gets instead: only the lines the labels are
//! on, each cut to a window of [`WINDOW`] bytes around its first label with `…` where text
//! was left out, the labels moved to the snippet's offsets, and the real line and column
//! kept for the `[file:line:column]` header. Its size does not depend on the file's, so
//! rendering is linear in the number of findings.
//!
//! Labels more than [`MAX_LINES`] lines away from the primary one are not drawn; the
//! renderer lists them as `file:line:column` notes.

use std::ops::Range;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use portcullis_syntax::SourceFile;

use crate::report::FindingLabel;

/// Bytes of one line shown around its first label.
pub const WINDOW: usize = 160;
/// Bytes shown before the first label of a cut line.
const BEFORE: usize = 48;
/// Lines one snippet may span.
pub const MAX_LINES: usize = 12;
/// What stands for text that was left out.
const ELLIPSIS: &str = "…";

/// A few lines of a file, cut to windows, with labels in its own offsets.
#[derive(Debug)]
pub struct Snippet {
    name: String,
    text: String,
    /// 0-based line of the snippet's first line in the file.
    first_line: usize,
    /// The drawn labels, in snippet offsets.
    labels: Vec<LabeledSpan>,
    /// Snippet offset of each drawn label's start with its real 0-based line and column.
    starts: Vec<(usize, usize, usize)>,
    /// The labels left out, for notes.
    pub left_out: Vec<FindingLabel>,
}

/// One cut line: `text[lo..hi]` of the file, at `at` in the snippet.
struct Piece {
    lo: usize,
    hi: usize,
    at: usize,
}

impl Piece {
    /// The snippet offset of a file offset on this line (clamped to what is shown).
    fn map(&self, offset: usize) -> usize {
        self.at + offset.clamp(self.lo, self.hi) - self.lo
    }
}

/// The largest char boundary of `text` at or below `at`.
fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl Snippet {
    /// The snippet of `labels` (the primary one first) in `file`; `None` without labels.
    pub fn new(file: &SourceFile, labels: &[FindingLabel]) -> Option<Snippet> {
        let primary = labels.first()?;
        let text: &str = &file.text;
        let end_line = |l: &FindingLabel| file.line_col(l.end.max(l.start)).0;
        // The lines shown: the primary label's, widened by every label that keeps the
        // span within MAX_LINES lines.
        let mut top = primary.line;
        let mut bottom = end_line(primary).min(top + MAX_LINES - 1);
        let mut drawn = Vec::new();
        let mut left_out = Vec::new();
        for label in labels {
            let (start, end) = (label.line, end_line(label));
            let new_top = top.min(start);
            let new_bottom = bottom.max(end);
            if new_bottom - new_top < MAX_LINES {
                top = new_top;
                bottom = new_bottom;
                drawn.push(label);
            } else if std::ptr::eq(label, primary) {
                // A primary label over more lines than a snippet holds: draw its start.
                drawn.push(label);
            } else {
                left_out.push(label.clone());
            }
        }
        // One line of context on each side, as miette shows.
        // The empty "line" after a final line break is not one.
        let last_line = file.line_col(text.len()).0 - usize::from(text.ends_with('\n'));
        let shown_top = top.saturating_sub(1).max(1);
        let shown_bottom = (bottom + 1).min(last_line).max(bottom);
        let mut out = String::new();
        let mut pieces: Vec<Piece> = Vec::new();
        for line in shown_top..=shown_bottom {
            let Range { start: ls, end: le } = file.line_range(line);
            // The first label position on this line decides where a long line is cut.
            let anchor = drawn
                .iter()
                .flat_map(|l| [l.start, l.end])
                .filter(|at| (ls..=le).contains(at))
                .min()
                .unwrap_or(ls);
            let (lo, hi) = if le - ls <= WINDOW {
                (ls, le)
            } else {
                let lo = floor_boundary(text, anchor.saturating_sub(BEFORE).max(ls));
                let hi = floor_boundary(text, (lo + WINDOW).min(le));
                (lo, hi)
            };
            if lo > ls {
                out.push_str(ELLIPSIS);
            }
            pieces.push(Piece {
                lo,
                hi,
                at: out.len(),
            });
            out.push_str(&text[lo..hi]);
            if hi < le {
                out.push_str(ELLIPSIS);
            }
            out.push('\n');
        }
        let piece = |offset: usize| {
            let line = file.line_col(offset).0.clamp(top, bottom);
            &pieces[line - shown_top]
        };
        let mut spans = Vec::new();
        let mut starts = Vec::new();
        for (i, label) in drawn.iter().enumerate() {
            let start = piece(label.start).map(label.start);
            let end = piece(label.end.max(label.start))
                .map(label.end.max(label.start))
                .max(start);
            let span = SourceSpan::from(start..end);
            spans.push(if i == 0 {
                LabeledSpan::new_primary_with_span(Some(label.text.clone()), span)
            } else {
                LabeledSpan::new_with_span(Some(label.text.clone()), span)
            });
            starts.push((start, label.line - 1, label.column - 1));
        }
        Some(Snippet {
            name: file.name.to_string(),
            text: out,
            first_line: shown_top - 1,
            labels: spans,
            starts,
            left_out,
        })
    }

    /// The labels to draw, in the snippet's offsets.
    pub fn labels(&self) -> impl Iterator<Item = LabeledSpan> + '_ {
        self.labels.iter().cloned()
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        // A label's own position is the file's; any other keeps the snippet's column.
        let column = self
            .starts
            .iter()
            .find(|(at, _, _)| *at == span.offset() && context_lines_before == 0)
            .map(|(_, _, column)| *column)
            .unwrap_or(inner.column());
        let line = self
            .starts
            .iter()
            .find(|(at, _, _)| *at == span.offset() && context_lines_before == 0)
            .map(|(_, line, _)| *line)
            .unwrap_or(self.first_line + inner.line());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            line,
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use portcullis_compiler::{Code, Diagnostic};
    use portcullis_syntax::{SourceFile, Span};

    use crate::report::{render_human, Finding};

    fn finding(file: &SourceFile, labels: &[(usize, usize, &str)]) -> Finding {
        let mut diag = Diagnostic::error(Code::UnknownValue, "bad value");
        for (start, end, text) in labels {
            diag = diag.with_label(Span::new(*start, *end), *text);
        }
        Finding::from_diagnostic(&diag.in_file(file))
    }

    #[test]
    fn a_label_far_along_one_line_is_drawn_in_a_window() {
        // Past column 65,535 miette's own rendering of the whole line panics.
        let text = format!("[{}\"bogus\"]", "\"x\", ".repeat(20_000));
        let at = text.find("bogus").unwrap();
        let file = SourceFile::new("one-line.json", text.as_str());
        let out = render_human(&[finding(&file, &[(at, at + 5, "here")])], false);
        assert!(
            out.contains(&format!("[one-line.json:1:{}]", at + 1)),
            "{out}"
        );
        assert!(out.contains(" │ …"), "{out}");
        assert!(out.contains("\"x\", \"bogus\"]"), "{out}");
        assert!(out.len() < 2_000, "{} bytes", out.len());
        // The underline is under the value.
        let lines: Vec<&str> = out.lines().collect();
        let code = lines.iter().find(|l| l.contains("bogus")).unwrap();
        let mark = lines.iter().find(|l| l.contains('┬')).unwrap();
        let column = mark.chars().position(|c| c == '─').unwrap();
        let under: String = code.chars().skip(column).take(5).collect();
        assert_eq!(under, "bogus");
    }

    #[test]
    fn output_grows_linearly_with_findings_on_one_line() {
        let text = format!("[{}]", "\"value\", ".repeat(50_000));
        let file = SourceFile::new("one-line.json", text.as_str());
        let findings: Vec<Finding> = (0..2_000)
            .map(|i| {
                let at = 1 + i * 25 * 9;
                finding(&file, &[(at, at + 7, "here")])
            })
            .collect();
        let out = render_human(&findings, false);
        // A few hundred bytes each, not the 450 KB line each time.
        assert!(out.len() < 2_000 * 1_000, "{} bytes", out.len());
        assert_eq!(out.matches("× bad value").count(), 2_000);
    }

    #[test]
    fn labels_far_apart_are_noted_not_drawn() {
        let text = "a = 1\n".repeat(100);
        let file = SourceFile::new("f", text.as_str());
        let out = render_human(
            &[finding(
                &file,
                &[(600 - 6, 600 - 1, "later"), (0, 5, "first")],
            )],
            false,
        );
        assert!(out.contains("[f:100:1]"), "{out}");
        assert!(out.contains("note: first at f:1:1"), "{out}");
        assert!(!out.contains("  1 │"), "{out}");
        assert!(out.lines().count() < 20, "{out}");
    }

    #[test]
    fn a_label_at_the_end_of_a_file_is_drawn() {
        for text in ["app x {\n", "app x {", "", "\n\n"] {
            let file = SourceFile::new("f", text);
            let out = render_human(&[finding(&file, &[(text.len(), text.len(), "end")])], false);
            assert!(out.contains("bad value"), "{out}");
        }
    }
}
