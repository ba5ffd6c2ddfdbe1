//! The portcullis policy language: grammar, parser and printer.
//!
//! `policy.pest` is the grammar. [`parse`] turns `.policy` text into an [`ast::Document`]
//! whose every node carries a [`Span`]; [`print`] writes a document back as canonical text
//! (what `portcullis fmt` and `portcullis import` print). This crate knows nothing about
//! the IR or the kernel.

#![allow(clippy::result_large_err)] // see `error`: one error per failed parse

pub mod ast;
mod diagnose;
pub mod error;
pub mod lexical;
mod parser;
pub mod print;
pub mod source;

pub use error::{ParseError, ParseErrorKind};
pub use parser::parse;
pub use print::print;
pub use source::{SourceFile, Span, Spanned};
