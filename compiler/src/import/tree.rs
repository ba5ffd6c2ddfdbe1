//! The small document tree that the JSON and YAML readers share: scalars as written,
//! sequences and mappings, every node with its byte span.
//!
//! Scalars keep their text exactly as written (numbers are not converted), so a YAML
//! `runtime-version: 6.10` is the string `6.10`. [`Node::inner`] maps an offset inside a
//! scalar's value to a span in the file when the value was written without escapes.

use portcullis_syntax::Span;

/// A value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string, number, boolean or null, as text.
    Scalar(String),
    /// A list.
    Seq(Vec<Node>),
    /// A mapping, in source order (duplicate keys kept).
    Map(Vec<(Node, Node)>),
}

/// A value with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// The whole node, quotes included.
    pub span: Span,
    /// For scalars written without escapes: where the value's first byte is.
    pub verbatim_start: Option<usize>,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` in a mapping (the last one when repeated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The span of the bytes `[from, to)` of a scalar's value, or the whole node when the
    /// value was written with escapes.
    pub fn inner(&self, from: usize, to: usize) -> Span {
        match self.verbatim_start {
            Some(start) => Span::new(start + from, start + to),
            None => self.span,
        }
    }

    /// A short word for the node's kind (for messages).
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Scalar(_) => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}
