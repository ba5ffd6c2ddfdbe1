//! The parser: `.policy` text to an [`ast::Document`] with spans.
//!
//! pest does the recognising (`policy.pest`); this module walks the parse tree and builds
//! the AST: one [`Item`] per value of a comma list, each with its own span, comments kept
//! on the item they stand before (or the item whose line they end), header statements
//! gathered into the [`Header`]. A pest failure is handed to [`crate::diagnose`], which
//! explains it in the language's words.

use crate::ast::{
    Bus, BusPolicyWord, Dialect, Document, Extension, Header, HeaderKind, InputKind, Item,
    ItemKind, RequirementWord,
};
use crate::diagnose;
use crate::error::{ParseError, ParseErrorKind};
use crate::lexical;
use crate::source::{SourceFile, Span, Spanned};
use pest::iterators::Pair;
use pest::Parser as _;

/// The pest parser generated from `policy.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "policy.pest"]
pub(crate) struct PolicyGrammar;

/// Parses a `.policy` file into a document. Every item gets [`Dialect::Policy`]. Unknown
/// values and unknown statement words are kept for the checker; only text that does not
/// follow the grammar is an error.
pub fn parse(file: &SourceFile) -> Result<Document, ParseError> {
    let text: &str = &file.text;
    let mut pairs = PolicyGrammar::parse(Rule::document, text)
        .map_err(|err| diagnose::from_pest(file, &err))?;
    let mut builder = Builder::new(file);
    if let Some(document) = pairs.next() {
        for pair in document.into_inner() {
            builder.top_level(pair)?;
        }
    }
    Ok(builder.finish())
}

/// Where a comment at the end of a line belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Nothing,
    Header,
    Item(usize),
}

/// The header fields that may be given once.
const SINGLE_FIELDS: [&str; 5] = ["runtime", "runtime-version", "sdk", "command", "base"];

struct Builder<'f> {
    file: &'f SourceFile,
    header: Option<Header>,
    items: Vec<Item>,
    /// Own-line comments waiting for the statement they stand before.
    pending: Vec<Spanned<String>>,
    trailing: Vec<Spanned<String>>,
    /// Where the last statement ended and what it produced, for end-of-line comments.
    last_end: usize,
    last_target: Target,
    /// The block of this file, once seen: its kind word and the span of its head.
    block: Option<(String, Span)>,
    inside_block: bool,
    /// The first statement outside any block, for "statements must go inside the block".
    first_loose: Option<Span>,
    /// First span of each single-valued header field, for duplicate errors.
    seen_fields: Vec<(&'static str, Span)>,
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

impl<'f> Builder<'f> {
    fn new(file: &'f SourceFile) -> Self {
        Builder {
            file,
            header: None,
            items: Vec::new(),
            pending: Vec::new(),
            trailing: Vec::new(),
            last_end: 0,
            last_target: Target::Nothing,
            block: None,
            inside_block: false,
            first_loose: None,
            seen_fields: Vec::new(),
        }
    }

    fn finish(mut self) -> Document {
        self.trailing.append(&mut self.pending);
        Document {
            input: InputKind::Policy,
            header: self.header,
            items: self.items,
            trailing_comments: self.trailing,
        }
    }

    fn error(
        &self,
        kind: ParseErrorKind,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> ParseError {
        ParseError::new(self.file, kind, span, message, label, help)
    }

    // --- structure -------------------------------------------------------------------

    fn top_level(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        match pair.as_rule() {
            Rule::block => self.block(pair),
            Rule::line => self.line(pair),
            _ => Ok(()),
        }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let Some(kind_pair) = inner.next() else {
            return Ok(());
        };
        let kind_word = kind_pair.as_str().to_string();
        let head = span_of(&kind_pair);
        if self.inside_block {
            let outer = self
                .block
                .as_ref()
                .map_or("app".to_string(), |b| b.0.clone());
            return Err(self.error(
                ParseErrorKind::ExtraBlock,
                head,
                format!("a `{kind_word}` block cannot be inside the `{outer}` block"),
                "nested block",
                format!(
                    "a file holds one block; to reuse a fragment, write `include \"FILE\"` inside the `{outer}` block"
                ),
            ));
        }
        if let Some((first_word, first_span)) = &self.block {
            return Err(self
                .error(
                    ParseErrorKind::ExtraBlock,
                    head,
                    format!("a second `{kind_word}` block in one file"),
                    "second block",
                    "a file describes one sandbox: move the second block to a file of its own",
                )
                .with_related(*first_span, format!("the `{first_word}` block is here")));
        }
        if let Some(loose) = self.first_loose {
            return Err(self
                .error(
                    ParseErrorKind::OutsideBlock,
                    loose,
                    format!("statement outside the `{kind_word}` block"),
                    "outside any block",
                    format!("move this statement inside the `{kind_word}` block"),
                )
                .with_related(head, format!("the `{kind_word}` block starts here")));
        }
        let kind = match kind_word.as_str() {
            "runtime" => HeaderKind::Runtime,
            "fragment" => HeaderKind::Fragment,
            _ => HeaderKind::App,
        };
        let mut header = self.header.take().unwrap_or_default();
        header.kind = Some(kind);
        header.span = span;
        header.comments.append(&mut self.pending);
        self.header = Some(header);
        self.block = Some((kind_word, head));
        self.last_target = Target::Header;
        self.last_end = head.end;
        self.inside_block = true;
        for part in inner {
            match part.as_rule() {
                Rule::quoted | Rule::bare => {
                    let id = self.value(part)?;
                    self.last_end = id.span.end;
                    if let Some(header) = self.header.as_mut() {
                        header.id = Some(id);
                    }
                }
                Rule::open => self.last_end = span_of(&part).end,
                Rule::block_body => {
                    for entry in part.into_inner() {
                        match entry.as_rule() {
                            Rule::block => self.block(entry)?,
                            Rule::line => self.line(entry)?,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        self.inside_block = false;
        self.trailing.append(&mut self.pending);
        self.last_target = Target::Nothing;
        self.last_end = span.end;
        Ok(())
    }

    fn line(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        for part in pair.into_inner() {
            if part.as_rule() == Rule::comment {
                self.comment(part);
                continue;
            }
            let span = span_of(&part);
            if !self.inside_block {
                if let Some((word, head)) = &self.block {
                    return Err(self
                        .error(
                            ParseErrorKind::OutsideBlock,
                            span,
                            format!("statement after the `{word}` block"),
                            "outside the block",
                            format!("move this statement inside the `{word}` block"),
                        )
                        .with_related(*head, format!("the `{word}` block starts here")));
                }
                self.first_loose.get_or_insert(span);
            }
            self.statement(part)?;
            self.last_end = span.end;
        }
        Ok(())
    }

    /// Keeps a comment: at the end of a statement's line it belongs to that statement,
    /// on a line of its own to the next one.
    fn comment(&mut self, pair: Pair<'_, Rule>) {
        let span = span_of(&pair);
        let raw = pair.as_str();
        let body = raw.strip_prefix('#').unwrap_or(raw);
        let body = body.strip_prefix(' ').unwrap_or(body).trim_end();
        let comment = Spanned::new(body.to_string(), span);
        let text: &str = &self.file.text;
        let same_line = text
            .get(self.last_end.min(span.start)..span.start)
            .is_some_and(|between| !between.contains('\n'));
        match (same_line, self.last_target) {
            (true, Target::Item(idx)) => self.items[idx].leading_comments.push(comment),
            (true, Target::Header) => {
                if let Some(header) = self.header.as_mut() {
                    header.comments.push(comment);
                }
            }
            _ => self.pending.push(comment),
        }
    }

    fn push_item(&mut self, kind: ItemKind, span: Span) {
        let leading_comments = std::mem::take(&mut self.pending);
        self.items.push(Item {
            kind,
            span,
            dialect: Dialect::Policy,
            leading_comments,
        });
        self.last_target = Target::Item(self.items.len() - 1);
    }

    // --- values ----------------------------------------------------------------------

    fn value(&self, pair: Pair<'_, Rule>) -> Result<Spanned<String>, ParseError> {
        let span = span_of(&pair);
        if pair.as_rule() != Rule::quoted {
            return Ok(Spanned::new(pair.as_str().to_string(), span));
        }
        let raw = pair.as_str();
        let inner = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(raw);
        lexical::unquote(inner)
            .map(|value| Spanned::new(value, span))
            .map_err(|bad| {
                let start = span.start + 1 + bad.offset;
                let bad_span = Span::new(start, start + bad.len);
                let text = self
                    .file
                    .text
                    .get(bad_span.start..bad_span.end)
                    .unwrap_or("\\");
                self.error(
                    ParseErrorKind::BadEscape,
                    bad_span,
                    format!("unknown escape `{text}` in a quoted string"),
                    "unknown escape",
                    "inside quotes write `\\\\` for a backslash and `\\\"` for a quote; \
                     `\\n`, `\\t`, `\\r` and `\\u{…}` are the other escapes",
                )
            })
    }

    /// The values of a `value_list` (or of the values directly inside `pair`).
    fn values(&self, pair: Pair<'_, Rule>) -> Result<Vec<Spanned<String>>, ParseError> {
        pair.into_inner()
            .filter(|p| matches!(p.as_rule(), Rule::quoted | Rule::bare))
            .map(|p| self.value(p))
            .collect()
    }

    // --- statements ------------------------------------------------------------------

    fn statement(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        match pair.as_rule() {
            Rule::header_statement => self.header_statement(pair),
            Rule::extension_statement => self.extension_statement(pair),
            Rule::flag_statement | Rule::list_statement => self.list_statement(pair),
            Rule::filesystem_statement => self.filesystem_statement(pair),
            Rule::network_statement => self.network_statement(pair),
            Rule::limits_statement => self.limits_statement(pair),
            Rule::require_statement => self.require_statement(pair),
            Rule::unknown_statement => {
                let span = span_of(&pair);
                let raw = Spanned::new(pair.as_str().trim_end().to_string(), span);
                self.push_item(ItemKind::Unknown { raw }, span);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn header_mut(&mut self, span: Span) -> &mut Header {
        let header = self.header.get_or_insert_with(|| Header {
            span,
            ..Header::default()
        });
        if header.kind.is_none() {
            header.span = if header.span.is_empty() {
                span
            } else {
                header.span.join(span)
            };
        }
        header
    }

    fn header_statement(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let Some(kw) = inner.next() else {
            return Ok(());
        };
        let word = kw.as_str();
        let Some(list) = inner.next() else {
            return Ok(());
        };
        let mut values = self.values(list)?;
        let pending = std::mem::take(&mut self.pending);
        self.header_mut(span).comments.extend(pending);
        self.last_target = Target::Header;
        if word == "sdk-extensions" {
            self.header_mut(span).sdk_extensions.append(&mut values);
            return Ok(());
        }
        if values.len() > 1 {
            return Err(self.error(
                ParseErrorKind::TooManyValues,
                values[1].span,
                format!("`{word}` takes one value"),
                "second value",
                format!("write a single `{word}`; only `sdk-extensions` and permission statements take lists"),
            ));
        }
        let field = SINGLE_FIELDS
            .iter()
            .copied()
            .find(|f| *f == word)
            .unwrap_or("runtime");
        if let Some((_, first)) = self.seen_fields.iter().find(|(f, _)| *f == field) {
            return Err(self
                .error(
                    ParseErrorKind::Duplicate,
                    span,
                    format!("`{word}` is given twice"),
                    "second one",
                    format!("keep one `{word}` line"),
                )
                .with_related(*first, "first one"));
        }
        self.seen_fields.push((field, span));
        let value = values.pop();
        let header = self.header_mut(span);
        let slot = match field {
            "runtime-version" => &mut header.runtime_version,
            "sdk" => &mut header.sdk,
            "command" => &mut header.command,
            "base" => &mut header.base,
            _ => &mut header.runtime,
        };
        *slot = value;
        Ok(())
    }

    fn extension_statement(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        let span = span_of(&pair);
        let mut name = None;
        let mut directory: Option<Spanned<String>> = None;
        let mut properties = Vec::new();
        let mut comments = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::quoted | Rule::bare => name = Some(self.value(part)?),
                Rule::extension_block => {
                    for entry in part.into_inner() {
                        match entry.as_rule() {
                            Rule::comment => {
                                let raw = entry.as_str();
                                let body = raw.strip_prefix('#').unwrap_or(raw);
                                let body = body.strip_prefix(' ').unwrap_or(body).trim_end();
                                comments.push(Spanned::new(body.to_string(), span_of(&entry)));
                            }
                            Rule::extension_property => {
                                let prop_span = span_of(&entry);
                                let mut kv = self.values(entry)?.into_iter();
                                let (Some(key), Some(value)) = (kv.next(), kv.next()) else {
                                    continue;
                                };
                                if key.value == "directory" {
                                    if directory.is_some() {
                                        return Err(self.error(
                                            ParseErrorKind::Duplicate,
                                            prop_span,
                                            "`directory` is given twice",
                                            "second one",
                                            "an extension is mounted in one directory: keep one `directory`",
                                        ));
                                    }
                                    directory = Some(value);
                                } else {
                                    properties.push((key, value));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let Some(name) = name else {
            return Ok(());
        };
        properties.sort_by(|a, b| a.0.value.cmp(&b.0.value));
        let pending = std::mem::take(&mut self.pending);
        let header = self.header_mut(span);
        header.comments.extend(pending);
        header.comments.append(&mut comments);
        header.extensions.push(Extension {
            name,
            directory,
            properties,
            span,
        });
        self.last_target = Target::Header;
        Ok(())
    }

    fn list_statement(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        let start = pair.as_span().start();
        let mut inner = pair.into_inner();
        let Some(kw) = inner.next() else {
            return Ok(());
        };
        let word = kw.as_str().to_string();
        let Some(list) = inner.next() else {
            return Ok(());
        };
        for (idx, value) in self.values(list)?.into_iter().enumerate() {
            let span = if idx == 0 {
                Span::new(start, value.span.end)
            } else {
                value.span
            };
            let kind = list_item(&word, value);
            self.push_item(kind, span);
        }
        Ok(())
    }

    fn filesystem_statement(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        let start = pair.as_span().start();
        let mut negated = false;
        let mut first = true;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::filesystem_kw => negated = part.as_str() == "nofilesystem",
                Rule::filesystem_entry => {
                    let entry_span = span_of(&part);
                    let mut value = None;
                    let mut except = Vec::new();
                    for piece in part.into_inner() {
                        match piece.as_rule() {
                            Rule::quoted | Rule::bare => value = Some(self.value(piece)?),
                            Rule::value_list => except = self.values(piece)?,
                            _ => {}
                        }
                    }
                    let Some(value) = value else { continue };
                    let span = if first {
                        Span::new(start, entry_span.end)
                    } else {
                        entry_span
                    };
                    first = false;
                    self.push_item(
                        ItemKind::Filesystem {
                            negated,
                            value,
                            except,
                        },
                        span,
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Runs `rule` over each rule of a `{ … }` block (keeping its comments) or over the
    /// single rule written without braces.
    fn rules_of(
        &mut self,
        pair: Pair<'_, Rule>,
        rule: Rule,
        mut build: impl FnMut(&mut Self, Pair<'_, Rule>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        for part in pair.into_inner() {
            if part.as_rule() == rule {
                build(self, part)?;
                continue;
            }
            if !matches!(part.as_rule(), Rule::network_block | Rule::limits_block) {
                continue;
            }
            for entry in part.into_inner() {
                match entry.as_rule() {
                    Rule::comment => self.comment(entry),
                    r if r == rule => {
                        let end = entry.as_span().end();
                        build(self, entry)?;
                        self.last_end = end;
                    }
                    Rule::open => {
                        self.last_end = entry.as_span().end();
                        self.last_target = Target::Nothing;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn network_statement(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        self.rules_of(pair, Rule::network_rule, |this, rule| {
            let span = span_of(&rule);
            let mut direction = None;
            let mut ports = Vec::new();
            for part in rule.into_inner() {
                match part.as_rule() {
                    Rule::quoted | Rule::bare => direction = Some(this.value(part)?),
                    Rule::port_list => {
                        for port in part.into_inner() {
                            ports.push(this.port(port)?);
                        }
                    }
                    _ => {}
                }
            }
            if let Some(direction) = direction {
                this.push_item(ItemKind::NetworkRule { direction, ports }, span);
            }
            Ok(())
        })
    }

    fn port(&self, pair: Pair<'_, Rule>) -> Result<Spanned<(u16, u16)>, ParseError> {
        let span = span_of(&pair);
        let text = pair.as_str();
        let (low, high) = text.split_once('-').unwrap_or((text, text));
        let number = |s: &str| {
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<u16>().ok()
            } else {
                None
            }
        };
        match (number(low), number(high)) {
            (Some(low), Some(high)) => Ok(Spanned::new((low, high), span)),
            _ => Err(self.error(
                ParseErrorKind::BadPort,
                span,
                format!("`{text}` is not a port"),
                "not a port number",
                "write a port number from 0 to 65535, or a range such as `8000-8080`",
            )),
        }
    }

    fn limits_statement(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        self.rules_of(pair, Rule::limit_rule, |this, rule| {
            let span = span_of(&rule);
            let mut values = this.values(rule)?.into_iter();
            if let (Some(name), Some(value)) = (values.next(), values.next()) {
                this.push_item(ItemKind::Limit { name, value }, span);
            }
            Ok(())
        })
    }

    fn require_statement(&mut self, pair: Pair<'_, Rule>) -> Result<(), ParseError> {
        let span = span_of(&pair);
        let mut feature = None;
        let mut level = RequirementWord::Required;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::quoted | Rule::bare => feature = Some(self.value(part)?),
                Rule::requirement_level => {
                    level = if part.as_str() == "best-effort" {
                        RequirementWord::BestEffort
                    } else {
                        RequirementWord::Required
                    }
                }
                _ => {}
            }
        }
        if let Some(feature) = feature {
            self.push_item(ItemKind::Require { feature, level }, span);
        }
        Ok(())
    }
}

/// The item a list-statement word makes of one value.
fn list_item(word: &str, value: Spanned<String>) -> ItemKind {
    let bus_name = |bus, policy| ItemKind::BusName {
        bus,
        policy,
        name: value.clone(),
    };
    let bus_rule = |bus, broadcast| ItemKind::BusRule {
        bus,
        broadcast,
        raw: value.clone(),
    };
    match word {
        "share" | "unshare" => ItemKind::Share {
            negated: word == "unshare",
            value,
        },
        "socket" | "nosocket" => ItemKind::Socket {
            negated: word == "nosocket",
            value,
        },
        "device" | "nodevice" => ItemKind::Device {
            negated: word == "nodevice",
            value,
        },
        "allow" | "disallow" => ItemKind::Allow {
            negated: word == "disallow",
            value,
        },
        "device-node" => ItemKind::DeviceNode { path: value },
        "persist" => ItemKind::Persist { path: value },
        "env" => ItemKind::Env { raw: value },
        "unset-env" => ItemKind::UnsetEnv { name: value },
        "talk-name" => bus_name(Bus::Session, BusPolicyWord::Talk),
        "own-name" => bus_name(Bus::Session, BusPolicyWord::Own),
        "see-name" => bus_name(Bus::Session, BusPolicyWord::See),
        "no-talk-name" => bus_name(Bus::Session, BusPolicyWord::None),
        "system-talk-name" => bus_name(Bus::System, BusPolicyWord::Talk),
        "system-own-name" => bus_name(Bus::System, BusPolicyWord::Own),
        "system-see-name" => bus_name(Bus::System, BusPolicyWord::See),
        "system-no-talk-name" => bus_name(Bus::System, BusPolicyWord::None),
        "a11y-talk-name" => bus_name(Bus::Accessibility, BusPolicyWord::Talk),
        "a11y-own-name" => bus_name(Bus::Accessibility, BusPolicyWord::Own),
        "a11y-see-name" => bus_name(Bus::Accessibility, BusPolicyWord::See),
        "a11y-no-talk-name" => bus_name(Bus::Accessibility, BusPolicyWord::None),
        "add-policy" | "remove-policy" => ItemKind::GenericPolicy {
            remove: word == "remove-policy",
            raw: value,
        },
        "usb" | "nousb" => ItemKind::Usb {
            hidden: word == "nousb",
            query: value,
        },
        "include" => ItemKind::Include { path: value },
        "dbus-call" => bus_rule(Bus::Session, false),
        "dbus-broadcast" => bus_rule(Bus::Session, true),
        "system-dbus-call" => bus_rule(Bus::System, false),
        "system-dbus-broadcast" => bus_rule(Bus::System, true),
        "a11y-dbus-call" => bus_rule(Bus::Accessibility, false),
        "a11y-dbus-broadcast" => bus_rule(Bus::Accessibility, true),
        "option" => ItemKind::OtherOption { raw: value },
        // INVARIANT: the grammar's `flag_kw` and `list_kw` list exactly the words above
        // plus `unknown`.
        _ => ItemKind::Unknown { raw: value },
    }
}
