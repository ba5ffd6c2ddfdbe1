//! The Flatpak metadata keyfile (GKeyFile format) to an AST document.
//!
//! Groups read: `[Application]`/`[Runtime]`, `[Context]`, `[Session Bus Policy]`,
//! `[System Bus Policy]`, `[Environment]`, `[Policy SUBSYSTEM]`, `[USB Devices]` and
//! `[Extension NAME]`. GKeyFile escapes (`\s \n \t \r \\`, and `\;` inside lists) are
//! undone; Flatpak's own filesystem escapes (`\:`) stay in the element for the checker.
//! Embedded NUL bytes are refused (CVE-2021-43860 hid permissions behind one). As in
//! Flatpak, `unset-environment` is applied after `[Environment]`, and
//! `[Accessibility Bus Policy]` is not read back.

use portcullis_syntax::ast::{
    Bus, BusPolicyWord, Dialect, Document, Extension, Header, HeaderKind, InputKind, Item, ItemKind,
};
use portcullis_syntax::{Span, Spanned};

use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// One `key=value` line.
struct Entry {
    key: String,
    key_span: Span,
    /// The raw value (escapes still in) and where it starts.
    raw: String,
    raw_start: usize,
    line: Span,
}

/// One `[group]` with its entries.
struct Group {
    name: String,
    span: Span,
    entries: Vec<Entry>,
}

/// Reads a keyfile.
pub fn document(text: &str, diags: &mut Vec<Diagnostic>) -> Document {
    let mut document = Document {
        input: InputKind::Keyfile,
        header: None,
        items: Vec::new(),
        trailing_comments: Vec::new(),
    };
    if let Some(at) = text.find('\0') {
        diags.push(
            Diagnostic::error(Code::BinaryInput, "the keyfile contains a NUL byte")
                .with_label(Span::new(at, at + 1), "NUL byte here")
                .with_help("Flatpak refuses metadata with embedded NUL bytes: they were used to hide permissions (CVE-2021-43860)"),
        );
        return document;
    }
    let text_without_bom = text.strip_prefix('\u{feff}');
    let bom = text.len() - text_without_bom.map_or(text.len(), str::len);
    let Some(groups) = groups(text, bom, diags) else {
        return document;
    };
    let mut env_items = Vec::new();
    let mut unset_items = Vec::new();
    for group in &groups {
        match group.name.as_str() {
            "Application" | "Runtime" => {
                let header = document.header.get_or_insert_with(Header::default);
                header.kind = Some(if group.name == "Application" {
                    HeaderKind::App
                } else {
                    HeaderKind::Runtime
                });
                header.span = group.span;
                for entry in &group.entries {
                    let value = Some(spanned_value(entry));
                    match entry.key.as_str() {
                        "name" => header.id = value,
                        "runtime" => header.runtime = value,
                        "sdk" => header.sdk = value,
                        "command" => header.command = value,
                        _ => {}
                    }
                }
            }
            "Context" => {
                for entry in &group.entries {
                    if entry.key == "unset-environment" {
                        for (elem, span) in list(entry) {
                            unset_items.push(item(
                                ItemKind::UnsetEnv {
                                    name: Spanned::new(elem, span),
                                },
                                span,
                            ));
                        }
                        continue;
                    }
                    context_entry(entry, &mut document.items, diags);
                }
            }
            "Session Bus Policy" | "System Bus Policy" => {
                let bus = if group.name.starts_with("Session") {
                    Bus::Session
                } else {
                    Bus::System
                };
                for entry in &group.entries {
                    let value = unescape(&entry.raw);
                    let policy = match value.trim() {
                        "none" => BusPolicyWord::None,
                        "see" => BusPolicyWord::See,
                        "talk" => BusPolicyWord::Talk,
                        "own" => BusPolicyWord::Own,
                        other => {
                            diags.push(
                                Diagnostic::warning(
                                    Code::InvalidBusPolicy,
                                    format!("unknown bus policy `{other}`, the entry is ignored"),
                                )
                                .with_label(value_span(entry), "not none, see, talk or own")
                                .with_help("Flatpak ignores entries whose value it does not know"),
                            );
                            continue;
                        }
                    };
                    document.items.push(item(
                        ItemKind::BusName {
                            bus,
                            policy,
                            name: Spanned::new(entry.key.clone(), entry.key_span),
                        },
                        entry.line,
                    ));
                }
            }
            "Accessibility Bus Policy" => diags.push(
                Diagnostic::warning(
                    Code::IgnoredGroup,
                    "`[Accessibility Bus Policy]` is not read back by Flatpak",
                )
                .with_label(group.span, "ignored")
                .with_help("Flatpak writes this group but never loads it; use `--a11y-own-name` on the command line"),
            ),
            "Environment" => {
                for entry in &group.entries {
                    let raw = format!("{}={}", entry.key, unescape(&entry.raw));
                    env_items.push(item(
                        ItemKind::Env {
                            raw: Spanned::new(raw, entry.line),
                        },
                        entry.line,
                    ));
                }
            }
            "USB Devices" => {
                for entry in &group.entries {
                    let hidden = match entry.key.as_str() {
                        "enumerable-devices" => false,
                        "hidden-devices" => true,
                        _ => continue,
                    };
                    for (elem, span) in list(entry) {
                        document.items.push(item(
                            ItemKind::Usb {
                                hidden,
                                query: Spanned::new(elem, span),
                            },
                            span,
                        ));
                    }
                }
            }
            name => {
                if let Some(subsystem) = name.strip_prefix("Policy ") {
                    for entry in &group.entries {
                        for (elem, span) in list(entry) {
                            let (remove, value) = match elem.strip_prefix('!') {
                                Some(v) => (true, v.to_string()),
                                None => (false, elem),
                            };
                            let raw = format!("{subsystem}.{}={value}", entry.key);
                            document.items.push(item(
                                ItemKind::GenericPolicy {
                                    remove,
                                    raw: Spanned::new(raw, span),
                                },
                                span,
                            ));
                        }
                    }
                } else if let Some(ext) = name.strip_prefix("Extension ") {
                    let header = document.header.get_or_insert_with(Header::default);
                    header.extensions.push(extension(ext, group));
                }
            }
        }
    }
    document.items.extend(env_items);
    document.items.extend(unset_items);
    document
}

fn extension(name: &str, group: &Group) -> Extension {
    let name_start = group.span.start + 1 + "Extension ".len();
    let mut ext = Extension {
        name: Spanned::new(
            name.to_string(),
            Span::new(name_start, name_start + name.len()),
        ),
        directory: None,
        properties: Vec::new(),
        span: group.span,
    };
    for entry in &group.entries {
        let value = spanned_value(entry);
        if entry.key == "directory" {
            ext.directory = Some(value);
        } else {
            ext.properties
                .push((Spanned::new(entry.key.clone(), entry.key_span), value));
        }
    }
    ext.properties.sort_by(|a, b| a.0.value.cmp(&b.0.value));
    ext
}

fn context_entry(entry: &Entry, items: &mut Vec<Item>, diags: &mut Vec<Diagnostic>) {
    type Make = fn(bool, Spanned<String>) -> ItemKind;
    let make: Make = match entry.key.as_str() {
        "shared" => |negated, value| ItemKind::Share { negated, value },
        "sockets" => |negated, value| ItemKind::Socket { negated, value },
        "devices" => |negated, value| ItemKind::Device { negated, value },
        "features" => |negated, value| ItemKind::Allow { negated, value },
        "filesystems" => |negated, value| ItemKind::Filesystem {
            negated,
            value,
            except: Vec::new(),
        },
        "persistent" => |_, path| ItemKind::Persist { path },
        _ => {
            diags.push(
                Diagnostic::warning(
                    Code::UnknownOption,
                    format!("unknown key `{}` in `[Context]`, ignored", entry.key),
                )
                .with_label(entry.key_span, "not a Flatpak context key")
                .with_help("the keys are shared, sockets, devices, features, filesystems, persistent and unset-environment"),
            );
            return;
        }
    };
    let negatable = entry.key != "persistent";
    for (elem, span) in list(entry) {
        let (negated, value, value_span) = match elem.strip_prefix('!') {
            Some(rest) if negatable => (
                true,
                rest.to_string(),
                Span::new((span.start + 1).min(span.end), span.end),
            ),
            _ => (false, elem, span),
        };
        items.push(item(make(negated, Spanned::new(value, value_span)), span));
    }
}

fn item(kind: ItemKind, span: Span) -> Item {
    Item {
        kind,
        span,
        dialect: Dialect::Keyfile,
        leading_comments: Vec::new(),
    }
}

fn value_span(entry: &Entry) -> Span {
    Span::new(entry.raw_start, entry.raw_start + entry.raw.len())
}

fn spanned_value(entry: &Entry) -> Spanned<String> {
    Spanned::new(unescape(&entry.raw), value_span(entry))
}

/// Splits a list value at unescaped `;`, unescapes each element and returns it with the
/// span of its raw text. Empty elements (the trailing `;`) are dropped.
fn list(entry: &Entry) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    let bytes = entry.raw.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i <= bytes.len() {
        if i == bytes.len() || bytes[i] == b';' {
            let raw = &entry.raw[start..i];
            if !raw.trim().is_empty() {
                let span = Span::new(entry.raw_start + start, entry.raw_start + i);
                out.push((unescape(raw), span));
            }
            start = i + 1;
            i += 1;
        } else if bytes[i] == b'\\' {
            i += 2;
        } else {
            i += 1;
        }
    }
    out
}

/// Undoes GKeyFile escapes. An escape Flatpak reads itself (`\:`) is kept as written.
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(';') => out.push(';'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits the text into groups of entries; `None` (with a diagnostic) when a line is
/// neither a comment, a group header nor `key=value`.
fn groups(text: &str, bom: usize, diags: &mut Vec<Diagnostic>) -> Option<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut offset = bom;
    let mut ok = true;
    for raw_line in text[bom..].split_inclusive('\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let line_span = Span::new(line_start + lead, line_start + line.len());
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            match rest.trim_end().strip_suffix(']') {
                Some(name) if !name.contains(['[', ']']) => {
                    groups.push(Group {
                        name: name.to_string(),
                        span: line_span,
                        entries: Vec::new(),
                    });
                    continue;
                }
                _ => {}
            }
        }
        let Some(eq) = trimmed.find('=') else {
            diags.push(
                Diagnostic::error(
                    Code::SyntaxError,
                    "a keyfile line must be `[group]`, `key=value` or a `#` comment",
                )
                .with_label(line_span, "not a keyfile line"),
            );
            ok = false;
            continue;
        };
        let Some(group) = groups.last_mut() else {
            diags.push(
                Diagnostic::error(Code::SyntaxError, "a key before the first `[group]`")
                    .with_label(line_span, "no group yet"),
            );
            ok = false;
            continue;
        };
        let key = trimmed[..eq].trim_end();
        let value_part = &trimmed[eq + 1..];
        let value = value_part.trim_start();
        let value_start = line_start + lead + eq + 1 + (value_part.len() - value.len());
        if key.is_empty() {
            diags.push(
                Diagnostic::error(Code::SyntaxError, "an entry without a key")
                    .with_label(line_span, "empty key"),
            );
            ok = false;
            continue;
        }
        // Localised keys (`name[de]=…`) are not about permissions.
        if key.ends_with(']') && key.contains('[') {
            continue;
        }
        group.entries.push(Entry {
            key: key.to_string(),
            key_span: Span::new(line_start + lead, line_start + lead + key.len()),
            raw: value.to_string(),
            raw_start: value_start,
            line: line_span,
        });
    }
    ok.then_some(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_groups_lists_and_escapes() {
        let text = "[Application]\nname=org.x.Y\n\n[Context]\nshared=network;!ipc;\nfilesystems=/srv/a\\\\:b;home;\n[Environment]\nA=1\n[Context]\nunset-environment=A;\n";
        let mut diags = Vec::new();
        let doc = document(text, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            doc.header.as_ref().unwrap().id.as_ref().unwrap().value,
            "org.x.Y"
        );
        let kinds: Vec<_> = doc.items.iter().map(|i| &i.kind).collect();
        assert!(
            matches!(kinds[1], ItemKind::Share { negated: true, value } if value.value == "ipc")
        );
        assert!(
            matches!(kinds[2], ItemKind::Filesystem { value, .. } if value.value == "/srv/a\\:b")
        );
        assert!(matches!(kinds[4], ItemKind::Env { raw } if raw.value == "A=1"));
        assert!(matches!(kinds[5], ItemKind::UnsetEnv { .. }));
    }

    #[test]
    fn refuses_nul_and_garbage() {
        let mut diags = Vec::new();
        document("[Context]\nshared=network\0;ipc\n", &mut diags);
        assert_eq!(diags[0].code, Code::BinaryInput);
        let mut diags = Vec::new();
        document("[Application]\nnot a line\n", &mut diags);
        assert_eq!(diags[0].code, Code::SyntaxError);
    }
}
