//! A YAML reader on yaml-rust2's event parser that keeps a byte span for every value.
//!
//! Scalars stay text exactly as written (`6.10` stays `6.10`), anchors and aliases are
//! resolved by copying the anchored node, comments are dropped by the scanner. The
//! parser's markers count characters; they are turned into byte offsets here.

use std::collections::HashMap;

use portcullis_syntax::Span;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::json::JsonError as ReadError;
use super::tree::{Node, Value};

/// How deep collections may nest before we refuse (deep trees are dropped recursively).
const MAX_DEPTH: usize = 200;

/// Indentation columns counted as one nesting level by the depth check (deep but shallowly
/// indented documents are still accepted up to five times [`MAX_DEPTH`] columns).
const MAX_INDENT_PER_LEVEL: usize = 5;

/// Parses one YAML document.
pub fn parse(text: &str) -> Result<Node, ReadError> {
    check_depth(text)?;
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let mut builder = Builder {
        text,
        offsets: &offsets,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(err) = parser.load(&mut builder, false) {
        let at = builder.byte(err.marker());
        return Err(ReadError {
            message: err.info().to_string(),
            span: Span::new(at, super::json::next_char_boundary(text, at)),
        });
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    builder.root.ok_or_else(|| ReadError {
        message: "the YAML document is empty".into(),
        span: Span::new(0, 0),
    })
}

fn check_depth(text: &str) -> Result<(), ReadError> {
    // Block collections nest by indentation and by indicators on one line (`- - - x`); the
    // parser recurses on both, so a line's indentation plus its indicators bounds the depth.
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let mut rest = line.trim_start();
        let mut run = (line.len() - rest.len()) / MAX_INDENT_PER_LEVEL;
        while let Some(next) = ["- ", "? ", ": ", "-\t", "?\t"]
            .iter()
            .find_map(|indicator| rest.strip_prefix(indicator))
        {
            run += 1;
            rest = next.trim_start();
        }
        if run > MAX_DEPTH {
            return Err(ReadError {
                message: "block collections nest too deeply".into(),
                span: Span::new(offset, offset + 1),
            });
        }
        offset += line.len();
    }
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ReadError {
                        message: "flow collections nest too deeply".into(),
                        span: Span::new(i, i + 1),
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'a> {
    text: &'a str,
    offsets: &'a [usize],
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<ReadError>,
}

impl Builder<'_> {
    fn byte(&self, mark: &Marker) -> usize {
        self.offsets
            .get(mark.index())
            .copied()
            .unwrap_or(self.text.len())
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }

    fn scalar(&self, value: String, style: TScalarStyle, start: usize) -> Node {
        let rest = &self.text[start.min(self.text.len())..];
        let (end, verbatim_start) = match style {
            TScalarStyle::Plain => {
                if rest.starts_with(value.as_str()) {
                    (start + value.len(), Some(start))
                } else {
                    (start + rest.find('\n').unwrap_or(rest.len()), None)
                }
            }
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                let quote = if style == TScalarStyle::SingleQuoted {
                    b'\''
                } else {
                    b'"'
                };
                let end = closing_quote(rest.as_bytes(), quote).map_or(start + 1, |e| start + e);
                let inner = self
                    .text
                    .get(start + 1..end.saturating_sub(1).max(start + 1));
                let verbatim = (inner == Some(value.as_str())).then_some(start + 1);
                (end, verbatim)
            }
            _ => (start + rest.find('\n').unwrap_or(rest.len()), None),
        };
        Node {
            value: Value::Scalar(value),
            span: Span::new(start, end),
            verbatim_start,
        }
    }
}

/// The offset just past the quote that closes the quoted scalar starting at byte 0.
fn closing_quote(bytes: &[u8], quote: u8) -> Option<usize> {
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if quote == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        // After an error nothing more is built (the parser itself keeps going).
        if self.error.is_some() {
            return;
        }
        let at = self.byte(&mark);
        let opens = matches!(event, Event::SequenceStart(..) | Event::MappingStart(..));
        if opens && self.stack.len() >= MAX_DEPTH {
            self.error = Some(ReadError {
                message: "collections nest too deeply".into(),
                span: Span::new(at, at + 1),
            });
            self.stack.clear();
            return;
        }
        match event {
            Event::Scalar(value, style, anchor, _) => {
                let node = self.scalar(value, style, at);
                self.finish(node, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                start: at,
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                start: at,
                anchor,
                entries: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        start,
                        anchor,
                        items,
                    }) => (
                        Node {
                            value: Value::Seq(items),
                            span: Span::new(start, at.max(start)),
                            verbatim_start: None,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        start,
                        anchor,
                        entries,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(entries),
                            span: Span::new(start, at.max(start)),
                            verbatim_start: None,
                        },
                        anchor,
                    ),
                    None => return,
                };
                self.finish(node, anchor);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    node.span = Span::new(at, at + 1);
                    node.verbatim_start = None;
                    self.finish(node, 0);
                }
                None => {
                    if self.error.is_none() {
                        self.error = Some(ReadError {
                            message: "an alias to an unknown anchor".into(),
                            span: Span::new(at, at + 1),
                        });
                    }
                }
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_as_written_and_aliases_resolve() {
        let text =
            "runtime-version: 6.10\nargs: &a\n  - --share=ipc # c\n  - '--socket=x11'\nmore: *a\n";
        let node = parse(text).unwrap();
        assert_eq!(node.get("runtime-version").unwrap().as_str(), Some("6.10"));
        let Value::Seq(items) = &node.get("more").unwrap().value else {
            panic!("alias did not resolve to a list")
        };
        assert_eq!(items.len(), 2);
        let Value::Seq(args) = &node.get("args").unwrap().value else {
            panic!("not a list")
        };
        assert_eq!(&text[args[0].span.start..args[0].span.end], "--share=ipc");
        assert_eq!(
            &text[args[1].span.start..args[1].span.end],
            "'--socket=x11'"
        );
        assert_eq!(
            args[1].inner(2, 8),
            Span::new(args[1].span.start + 3, args[1].span.start + 9)
        );
    }

    #[test]
    fn errors_have_positions() {
        let err = parse("a: [b, c\n").unwrap_err();
        assert!(!err.message.is_empty());
        assert!(parse("é: ü\nx: [1, 2]").is_ok());
        assert!(parse(&format!("{}x", "- ".repeat(20_000))).is_err());
        let indented: String = (0..20_000)
            .map(|i| format!("{}b:\n", " ".repeat(i)))
            .collect();
        assert!(parse(&indented).is_err());
    }
}
