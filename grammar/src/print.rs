//! The printer: a document as canonical policy text (`portcullis fmt`, `portcullis import`).
//!
//! The canonical form: the header block first (`app ID {`), its identity statements in a
//! fixed order (runtime, runtime-version, sdk, sdk-extensions, base, command, extensions),
//! then one statement per item in document order, 4-space indent, a blank line between
//! kinds of statement. Consecutive network rules and limits share one `network { … }` or
//! `limits { … }` block. Comments are kept: an item's own-line comments above it, a comment
//! that ended its line at the end of its line again. Values are written bare when the
//! grammar reads them back whole and quoted otherwise, so `parse(print(d))` gives `d` back
//! (spans aside) and printing is idempotent.

use crate::ast::{
    Bus, BusPolicyWord, Document, Extension, Header, HeaderKind, Item, ItemKind, RequirementWord,
};
use crate::lexical::{quote, render_value};
use crate::source::{SourceFile, Spanned};

const INDENT: &str = "    ";
/// Lists longer than this many columns are broken after their commas.
const WIDTH: usize = 100;

/// Prints a document in the canonical format.
pub fn print(doc: &Document) -> String {
    let mut p = Printer::default();
    match &doc.header {
        Some(header) if header.kind.is_some() => p.block_document(doc, header),
        Some(header) => {
            p.comments(&header.comments, 0);
            let wrote_header = p.header_fields(header, 0);
            if wrote_header && !doc.items.is_empty() {
                p.blank();
            }
            p.items(&doc.items, 0);
            p.trailing(&doc.trailing_comments, 0);
        }
        None => {
            p.items(&doc.items, 0);
            p.trailing(&doc.trailing_comments, 0);
        }
    }
    p.out
}

#[derive(Default)]
struct Printer {
    out: String,
}

impl Printer {
    /// Writes `text` at `depth`; a multi-line text (a wrapped list) gets the indent on
    /// every line.
    fn line(&mut self, depth: usize, text: &str) {
        for line in text.split('\n') {
            for _ in 0..depth {
                self.out.push_str(INDENT);
            }
            self.out.push_str(line);
            self.out.push('\n');
        }
    }

    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn comments(&mut self, comments: &[Spanned<String>], depth: usize) {
        for comment in comments {
            for text in comment_lines(&comment.value) {
                self.line(depth, &text);
            }
        }
    }

    fn trailing(&mut self, comments: &[Spanned<String>], depth: usize) {
        if comments.is_empty() {
            return;
        }
        self.blank();
        self.comments(comments, depth);
    }

    fn block_document(&mut self, doc: &Document, header: &Header) {
        // Comments written inside the block but before any identity statement would be
        // read back as the first item's, so a header without identity statements keeps
        // all its comments above the block.
        let has_fields = has_fields(header);
        let (before, inside): (Vec<_>, Vec<_>) = header
            .comments
            .iter()
            .cloned()
            .partition(|c| !has_fields || c.span.end <= header.span.start);
        let (inner_trailing, after): (Vec<_>, Vec<_>) = doc
            .trailing_comments
            .iter()
            .cloned()
            .partition(|c| c.span.start < header.span.end);
        self.comments(&before, 0);
        let keyword = match header.kind {
            Some(HeaderKind::Runtime) => "runtime",
            Some(HeaderKind::Fragment) => "fragment",
            _ => "app",
        };
        match &header.id {
            Some(id) => self.line(0, &format!("{keyword} {} {{", render_value(&id.value))),
            None => self.line(0, &format!("{keyword} {{")),
        }
        self.comments(&inside, 1);
        if self.header_fields(header, 1) && !doc.items.is_empty() {
            self.blank();
        }
        self.items(&doc.items, 1);
        self.trailing(&inner_trailing, 1);
        self.line(0, "}");
        self.trailing(&after, 0);
    }

    /// Writes the identity statements; says whether it wrote any.
    fn header_fields(&mut self, header: &Header, depth: usize) -> bool {
        let mut wrote = false;
        let single = [
            ("runtime", &header.runtime),
            ("runtime-version", &header.runtime_version),
            ("sdk", &header.sdk),
        ];
        for (word, value) in single {
            if let Some(value) = value {
                self.line(depth, &format!("{word} {}", render_value(&value.value)));
                wrote = true;
            }
        }
        if !header.sdk_extensions.is_empty() {
            self.list(depth, "sdk-extensions", &header.sdk_extensions);
            wrote = true;
        }
        for (word, value) in [("base", &header.base), ("command", &header.command)] {
            if let Some(value) = value {
                self.line(depth, &format!("{word} {}", render_value(&value.value)));
                wrote = true;
            }
        }
        for extension in &header.extensions {
            self.extension(extension, depth);
            wrote = true;
        }
        wrote
    }

    /// `word a, b, c`, broken after the commas when it would be too wide.
    fn list(&mut self, depth: usize, word: &str, values: &[Spanned<String>]) {
        let rendered: Vec<String> = values.iter().map(|v| render_value(&v.value)).collect();
        self.line(depth, &wrap_list(depth, word, &rendered));
    }

    fn extension(&mut self, extension: &Extension, depth: usize) {
        let name = render_value(&extension.name.value);
        if extension.directory.is_none() && extension.properties.is_empty() {
            self.line(depth, &format!("extension {name}"));
            return;
        }
        self.line(depth, &format!("extension {name} {{"));
        if let Some(directory) = &extension.directory {
            self.line(
                depth + 1,
                &format!("directory {}", render_value(&directory.value)),
            );
        }
        for (key, value) in &extension.properties {
            let line = format!(
                "{} {}",
                render_value(&key.value),
                render_value(&value.value)
            );
            self.line(depth + 1, &line);
        }
        self.line(depth, "}");
    }

    fn items(&mut self, items: &[Item], depth: usize) {
        let mut idx = 0;
        let mut previous: Option<u8> = None;
        while idx < items.len() {
            let item = &items[idx];
            let category = category(&item.kind);
            let (own_line, _) = split_comments(item);
            if previous.is_some_and(|p| p != category || !own_line.is_empty()) {
                self.blank();
            }
            previous = Some(category);
            let group_len = match item.kind {
                ItemKind::NetworkRule { .. } | ItemKind::Limit { .. } => items[idx..]
                    .iter()
                    .take_while(|next| {
                        category_of_group(&next.kind) == category_of_group(&item.kind)
                    })
                    .count(),
                _ => 1,
            };
            if group_len > 1
                || matches!(
                    item.kind,
                    ItemKind::NetworkRule { .. } | ItemKind::Limit { .. }
                )
            {
                self.group(&items[idx..idx + group_len], depth);
            } else {
                self.comments(own_line, depth);
                let text = statement(item, depth);
                self.with_trailing(depth, &text, item);
            }
            idx += group_len;
        }
    }

    fn with_trailing(&mut self, depth: usize, text: &str, item: &Item) {
        match split_comments(item).1 {
            Some(comment) => {
                let lines = comment_lines(&comment.value);
                let first = lines.first().cloned().unwrap_or_else(|| "#".to_string());
                self.line(depth, &format!("{text}  {first}"));
                for extra in lines.iter().skip(1) {
                    self.line(depth, extra);
                }
            }
            None => self.line(depth, text),
        }
    }

    /// `network { … }` or `limits { … }` holding consecutive rules.
    fn group(&mut self, group: &[Item], depth: usize) {
        let word = match group[0].kind {
            ItemKind::NetworkRule { .. } => "network",
            _ => "limits",
        };
        let last = group.len() - 1;
        let one_line = group.iter().enumerate().all(|(idx, item)| {
            let (own, trailing) = split_comments(item);
            (idx == 0 || own.is_empty()) && (idx == last || trailing.is_none())
        });
        self.comments(split_comments(&group[0]).0, depth);
        if one_line {
            let rules: Vec<String> = group.iter().map(rule).collect();
            let text = format!("{word} {{ {} }}", rules.join("; "));
            self.with_trailing(depth, &text, &group[last]);
            return;
        }
        self.line(depth, &format!("{word} {{"));
        for (idx, item) in group.iter().enumerate() {
            if idx > 0 {
                self.comments(split_comments(item).0, depth + 1);
            }
            self.with_trailing(depth + 1, &rule(item), item);
        }
        self.line(depth, "}");
    }
}

fn has_fields(header: &Header) -> bool {
    header.runtime.is_some()
        || header.runtime_version.is_some()
        || header.sdk.is_some()
        || !header.sdk_extensions.is_empty()
        || header.base.is_some()
        || header.command.is_some()
        || !header.extensions.is_empty()
}

/// `head a, b, c` on one line, or broken after each comma with the continuation lines
/// indented two levels deeper when the line would be wider than [`WIDTH`].
fn wrap_list(depth: usize, head: &str, values: &[String]) -> String {
    let one_line = format!("{head} {}", values.join(", "));
    if depth * INDENT.len() + one_line.len() <= WIDTH || values.len() < 2 {
        return one_line;
    }
    let continuation = format!(",\n{INDENT}{INDENT}");
    format!("{head} {}", values.join(&continuation))
}

/// `# text` lines for a comment (one per line of its text).
fn comment_lines(value: &str) -> Vec<String> {
    value
        .split(['\n', '\r'])
        .map(|line| {
            let line = line.trim_end();
            if line.is_empty() {
                "#".to_string()
            } else {
                format!("# {line}")
            }
        })
        .collect()
}

/// An item's comments split into those above it and the one at the end of its line.
/// A comment counts as end-of-line when it was written after the item.
fn split_comments(item: &Item) -> (&[Spanned<String>], Option<&Spanned<String>>) {
    let comments = item.leading_comments.as_slice();
    match comments.split_last() {
        Some((last, rest)) if !item.span.is_empty() && last.span.start >= item.span.end => {
            (rest, Some(last))
        }
        _ => (comments, None),
    }
}

/// Statement families; a blank line separates two families.
fn category(kind: &ItemKind) -> u8 {
    match kind {
        ItemKind::Include { .. } => 0,
        ItemKind::Share { .. }
        | ItemKind::Socket { .. }
        | ItemKind::Device { .. }
        | ItemKind::Allow { .. } => 1,
        ItemKind::Filesystem { .. } | ItemKind::Persist { .. } => 2,
        ItemKind::Env { .. } | ItemKind::UnsetEnv { .. } => 3,
        ItemKind::BusName { .. } => 4,
        ItemKind::GenericPolicy { .. } => 5,
        ItemKind::Usb { .. } => 6,
        ItemKind::NetworkRule { .. } | ItemKind::Limit { .. } => category_of_group(kind),
        ItemKind::DeviceNode { .. } => 9,
        ItemKind::BusRule { .. } => 10,
        ItemKind::Require { .. } => 11,
        ItemKind::OtherOption { .. } => 12,
        ItemKind::Unknown { .. } => 13,
    }
}

fn category_of_group(kind: &ItemKind) -> u8 {
    match kind {
        ItemKind::NetworkRule { .. } => 7,
        ItemKind::Limit { .. } => 8,
        _ => u8::MAX,
    }
}

/// One rule inside `network { … }` or `limits { … }`.
fn rule(item: &Item) -> String {
    match &item.kind {
        ItemKind::NetworkRule { direction, ports } => {
            let direction = render_value(&direction.value);
            if ports.is_empty() {
                return format!("{direction} none");
            }
            let ports: Vec<String> = ports
                .iter()
                .map(|p| match p.value {
                    (low, high) if low == high => low.to_string(),
                    (low, high) => format!("{low}-{high}"),
                })
                .collect();
            format!("{direction} tcp {}", ports.join(", "))
        }
        ItemKind::Limit { name, value } => {
            format!(
                "{} {}",
                render_value(&name.value),
                render_value(&value.value)
            )
        }
        _ => statement(item, 0),
    }
}

/// The statement word of a bus-name rule.
fn bus_name_word(bus: Bus, policy: BusPolicyWord) -> String {
    let prefix = match bus {
        Bus::Session => "",
        Bus::System => "system-",
        Bus::Accessibility => "a11y-",
    };
    let level = match policy {
        BusPolicyWord::None => "no-talk",
        BusPolicyWord::See => "see",
        BusPolicyWord::Talk => "talk",
        BusPolicyWord::Own => "own",
    };
    format!("{prefix}{level}-name")
}

/// One item as a statement line (without comments).
fn statement(item: &Item, depth: usize) -> String {
    let plain =
        |word: &str, value: &Spanned<String>| format!("{word} {}", render_value(&value.value));
    let either = |negated: bool, yes: &str, no: &str, value: &Spanned<String>| {
        plain(if negated { no } else { yes }, value)
    };
    match &item.kind {
        ItemKind::Share { negated, value } => either(*negated, "share", "unshare", value),
        ItemKind::Socket { negated, value } => either(*negated, "socket", "nosocket", value),
        ItemKind::Device { negated, value } => either(*negated, "device", "nodevice", value),
        ItemKind::Allow { negated, value } => either(*negated, "allow", "disallow", value),
        ItemKind::Filesystem {
            negated,
            value,
            except,
        } => {
            let text = either(*negated, "filesystem", "nofilesystem", value);
            if except.is_empty() {
                return text;
            }
            let paths: Vec<String> = except.iter().map(|p| render_value(&p.value)).collect();
            wrap_list(depth, &format!("{text} except"), &paths)
        }
        ItemKind::Persist { path } => plain("persist", path),
        ItemKind::Env { raw } => plain("env", raw),
        ItemKind::UnsetEnv { name } => plain("unset-env", name),
        ItemKind::BusName { bus, policy, name } => plain(&bus_name_word(*bus, *policy), name),
        ItemKind::GenericPolicy { remove, raw } => {
            either(*remove, "add-policy", "remove-policy", raw)
        }
        ItemKind::Usb { hidden, query } => either(*hidden, "usb", "nousb", query),
        ItemKind::Include { path } => format!("include {}", quote(&path.value)),
        ItemKind::NetworkRule { .. } => format!("network {{ {} }}", rule(item)),
        ItemKind::Limit { .. } => format!("limits {{ {} }}", rule(item)),
        ItemKind::DeviceNode { path } => plain("device-node", path),
        ItemKind::BusRule {
            bus,
            broadcast,
            raw,
        } => {
            let prefix = match bus {
                Bus::Session => "",
                Bus::System => "system-",
                Bus::Accessibility => "a11y-",
            };
            let kind = if *broadcast { "broadcast" } else { "call" };
            plain(&format!("{prefix}dbus-{kind}"), raw)
        }
        ItemKind::Require { feature, level } => {
            let level = match level {
                RequirementWord::Required => "required",
                RequirementWord::BestEffort => "best-effort",
            };
            format!("require {} {level}", render_value(&feature.value))
        }
        ItemKind::OtherOption { raw } => plain("option", raw),
        ItemKind::Unknown { raw } => {
            if reads_back_as_unknown(&raw.value) {
                raw.value.clone()
            } else {
                plain("unknown", raw)
            }
        }
    }
}

/// Whether an unknown statement can be written as it was and still read back as the same
/// unknown statement (a misspelt word does; text from an importer may not).
fn reads_back_as_unknown(raw: &str) -> bool {
    if raw.contains(['\n', '\r', '#']) {
        return false;
    }
    let file = SourceFile::new("<unknown>", raw);
    match crate::parse(&file) {
        Ok(doc) => {
            doc.header.is_none()
                && doc.trailing_comments.is_empty()
                && matches!(doc.items.as_slice(),
                    [Item { kind: ItemKind::Unknown { raw: back }, leading_comments, .. }]
                        if back.value == raw && leading_comments.is_empty())
        }
        Err(_) => false,
    }
}
