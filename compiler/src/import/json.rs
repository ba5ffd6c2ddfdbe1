//! A JSON reader that keeps a byte span for every value and accepts the `//` and `/* */`
//! comments flatpak-builder accepts (json-glib is lenient about them).
//!
//! Recursive descent with a depth limit, so that deeply nested garbage gets a diagnostic
//! instead of a stack overflow. Numbers, booleans and null are kept as the text written.

use portcullis_syntax::Span;

use super::tree::{Node, Value};

/// How deep arrays and objects may nest.
const MAX_DEPTH: usize = 200;

/// A syntax error at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// Parses a whole JSON text (one value, comments and whitespace around it).
pub fn parse(text: &str) -> Result<Node, JsonError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        // A byte-order mark is not part of the value (editors on Windows write one).
        pos: if text.starts_with('\u{feff}') { 3 } else { 0 },
    };
    reader.skip_trivia()?;
    let node = reader.value(0)?;
    reader.skip_trivia()?;
    if reader.pos < reader.bytes.len() {
        return Err(reader.error_here("unexpected text after the JSON value"));
    }
    Ok(node)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn error_here(&self, message: &str) -> JsonError {
        let end = next_char_boundary(self.text, self.pos);
        JsonError {
            message: message.to_string(),
            span: Span::new(self.pos, end),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_trivia(&mut self) -> Result<(), JsonError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => match self.bytes.get(self.pos + 1) {
                    Some(b'/') => {
                        while let Some(b) = self.peek() {
                            if b == b'\n' {
                                break;
                            }
                            self.pos += 1;
                        }
                    }
                    Some(b'*') => {
                        let start = self.pos;
                        self.pos += 2;
                        loop {
                            match self.peek() {
                                None => {
                                    return Err(JsonError {
                                        message: "unterminated `/*` comment".into(),
                                        span: Span::new(start, start + 2),
                                    })
                                }
                                Some(b'*') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                                    self.pos += 2;
                                    break;
                                }
                                Some(_) => self.pos += 1,
                            }
                        }
                    }
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error_here("values nest too deeply"));
        }
        match self.peek() {
            None => Err(self.error_here("unexpected end of input: a value was expected")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.word("true"),
            Some(b'f') => self.word("false"),
            Some(b'n') => self.word("null"),
            Some(_) => Err(self.error_here("a JSON value was expected here")),
        }
    }

    fn word(&mut self, word: &str) -> Result<Node, JsonError> {
        let start = self.pos;
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(Node {
                value: Value::Scalar(word.to_string()),
                span: Span::new(start, self.pos),
                verbatim_start: Some(start),
            })
        } else {
            Err(self.error_here("a JSON value was expected here"))
        }
    }

    fn number(&mut self) -> Result<Node, JsonError> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.text[start..self.pos];
        if text.parse::<f64>().is_err() {
            return Err(JsonError {
                message: format!("`{text}` is not a number"),
                span: Span::new(start, self.pos),
            });
        }
        Ok(Node {
            value: Value::Scalar(text.to_string()),
            span: Span::new(start, self.pos),
            verbatim_start: Some(start),
        })
    }

    fn string(&mut self) -> Result<Node, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut verbatim = true;
        loop {
            let Some(b) = self.peek() else {
                return Err(JsonError {
                    message: "unterminated string".into(),
                    span: Span::new(start, start + 1),
                });
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    verbatim = false;
                    let esc_start = self.pos;
                    self.pos += 1;
                    let Some(e) = self.peek() else { continue };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let c = self.unicode_escape(esc_start)?;
                            out.push(c);
                        }
                        _ => {
                            return Err(JsonError {
                                message: "unknown escape in a string".into(),
                                span: Span::new(esc_start, self.pos),
                            })
                        }
                    }
                }
                b'\n' => {
                    return Err(JsonError {
                        message: "unterminated string (a raw newline inside a string)".into(),
                        span: Span::new(start, self.pos),
                    })
                }
                _ => {
                    let end = next_char_boundary(self.text, self.pos);
                    out.push_str(&self.text[self.pos..end]);
                    self.pos = end;
                }
            }
        }
        Ok(Node {
            value: Value::Scalar(out),
            span: Span::new(start, self.pos),
            verbatim_start: verbatim.then_some(start + 1),
        })
    }

    fn hex4(&mut self, esc_start: usize) -> Result<u32, JsonError> {
        let digits = self.text.get(self.pos..self.pos + 4);
        match digits.and_then(|d| u32::from_str_radix(d, 16).ok()) {
            Some(v) if digits.is_some_and(|d| d.bytes().all(|b| b.is_ascii_hexdigit())) => {
                self.pos += 4;
                Ok(v)
            }
            _ => Err(JsonError {
                message: "`\\u` needs four hex digits".into(),
                span: Span::new(esc_start, self.pos),
            }),
        }
    }

    fn unicode_escape(&mut self, esc_start: usize) -> Result<char, JsonError> {
        let first = self.hex4(esc_start)?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.bytes[self.pos..].starts_with(b"\\u") {
                self.pos += 2;
                let second = self.hex4(esc_start)?;
                if !(0xDC00..0xE000).contains(&second) {
                    return Err(JsonError {
                        message: "invalid surrogate pair".into(),
                        span: Span::new(esc_start, self.pos),
                    });
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            } else {
                first
            }
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| JsonError {
            message: "a `\\u` escape that is not a character".into(),
            span: Span::new(esc_start, self.pos),
        })
    }

    fn array(&mut self, depth: usize) -> Result<Node, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_trivia()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(container(Value::Seq(items), start, self.pos));
        }
        loop {
            self.skip_trivia()?;
            // flatpak-builder (json-glib) tolerates a trailing comma; so do we.
            if self.peek() == Some(b']') && !items.is_empty() {
                self.pos += 1;
                break;
            }
            items.push(self.value(depth + 1)?);
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.error_here("unexpected end of input: `]` was expected")),
                _ => return Err(self.error_here("`,` or `]` was expected")),
            }
        }
        Ok(container(Value::Seq(items), start, self.pos))
    }

    fn object(&mut self, depth: usize) -> Result<Node, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_trivia()?;
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(b'"') => {}
                None => return Err(self.error_here("unexpected end of input: `}` was expected")),
                _ => return Err(self.error_here("a quoted key or `}` was expected")),
            }
            let key = self.string()?;
            self.skip_trivia()?;
            if self.peek() != Some(b':') {
                return Err(self.error_here("`:` was expected after the key"));
            }
            self.pos += 1;
            self.skip_trivia()?;
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.error_here("unexpected end of input: `}` was expected")),
                _ => return Err(self.error_here("`,` or `}` was expected")),
            }
        }
        Ok(container(Value::Map(entries), start, self.pos))
    }
}

fn container(value: Value, start: usize, end: usize) -> Node {
    Node {
        value,
        span: Span::new(start, end),
        verbatim_start: None,
    }
}

/// The byte offset just after the character at `pos` (or `pos` at the end).
pub(crate) fn next_char_boundary(text: &str, pos: usize) -> usize {
    if pos >= text.len() {
        return text.len();
    }
    let mut end = pos + 1;
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_and_comments() {
        let text = "// c\n{ \"a\": [\"x\", 1.50, true] /* y */ }";
        let node = parse(text).unwrap();
        let a = node.get("a").unwrap();
        let Value::Seq(items) = &a.value else {
            panic!("not a list")
        };
        assert_eq!(items[0].as_str(), Some("x"));
        assert_eq!(&text[items[0].span.start..items[0].span.end], "\"x\"");
        assert_eq!(items[1].as_str(), Some("1.50"));
        assert_eq!(items[0].inner(0, 1), Span::new(14, 15));
    }

    #[test]
    fn reports_truncation() {
        let err = parse("{\"a\": [\"x\",").unwrap_err();
        assert!(err.message.contains("end of input"));
        assert!(parse("[1,]").is_ok());
        assert!(parse("\u{feff}{\"a\": 1}").is_ok());
        assert!(parse("[,]").is_err());
        assert!(parse("\"\\u12\"").is_err());
        assert!(parse(&"[".repeat(10_000)).is_err());
    }
}
