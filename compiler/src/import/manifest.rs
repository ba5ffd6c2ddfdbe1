//! A flatpak-builder manifest (JSON or YAML, already read into a [`Node`] tree) to an AST
//! document: the identity keys and the `finish-args` list.
//!
//! flatpak-builder accepts `id` as well as `app-id`, and YAML manifests in the wild also
//! use `finish_args`; both spellings are read. Keys that are not about the sandbox
//! (`modules`, `cleanup`, `build-options`, …) are skipped.

use portcullis_syntax::ast::{Document, Extension, Header, HeaderKind, InputKind};
use portcullis_syntax::{Span, Spanned};

use super::args::items_from_args;
use super::tree::{Node, Value};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// Reads a manifest tree.
pub fn document(root: &Node, input: InputKind, diags: &mut Vec<Diagnostic>) -> Document {
    let mut document = Document {
        input,
        header: None,
        items: Vec::new(),
        trailing_comments: Vec::new(),
    };
    if !matches!(root.value, Value::Map(_)) {
        diags.push(
            Diagnostic::error(
                Code::NotAManifest,
                format!("a manifest is a mapping, this is {}", root.kind_name()),
            )
            .with_label(root.span, "expected `{ \"id\": …, \"finish-args\": [ … ] }`")
            .with_help("a bare list of finish-args is read as one when the file holds only a JSON array of strings"),
        );
        return document;
    }
    let mut header = Header {
        kind: Some(HeaderKind::App),
        span: Span::new(root.span.start, root.span.start),
        ..Header::default()
    };
    let id = root.get("app-id").or_else(|| root.get("id"));
    header.id = scalar(id, "app-id", diags);
    if let Some(id) = id {
        header.span = id.span;
    }
    header.runtime = scalar(root.get("runtime"), "runtime", diags);
    header.runtime_version = scalar(root.get("runtime-version"), "runtime-version", diags);
    header.sdk = scalar(root.get("sdk"), "sdk", diags);
    header.command = scalar(root.get("command"), "command", diags);
    header.base = scalar(root.get("base"), "base", diags);
    if let Some(list) = root.get("sdk-extensions") {
        header.sdk_extensions = scalar_list(list, "sdk-extensions", diags);
    }
    if let Some(map) = root.get("add-extensions") {
        header.extensions = extensions(map, diags);
    }
    document.header = Some(header);

    let args = root.get("finish-args").or_else(|| root.get("finish_args"));
    if let Some(args) = args {
        match &args.value {
            Value::Seq(elements) => document.items = items_from_args(elements),
            Value::Scalar(s) if s == "null" || s.is_empty() => {}
            _ => diags.push(
                Diagnostic::error(
                    Code::NotAManifest,
                    format!("`finish-args` must be a list, this is {}", args.kind_name()),
                )
                .with_label(args.span, "not a list of strings"),
            ),
        }
    }
    document
}

fn scalar(node: Option<&Node>, key: &str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<String>> {
    let node = node?;
    match node.as_str() {
        Some(text) => Some(Spanned::new(text.to_string(), node.inner(0, text.len()))),
        None => {
            diags.push(
                Diagnostic::error(
                    Code::NotAManifest,
                    format!("`{key}` must be a string, this is {}", node.kind_name()),
                )
                .with_label(node.span, "expected a string"),
            );
            None
        }
    }
}

fn scalar_list(node: &Node, key: &str, diags: &mut Vec<Diagnostic>) -> Vec<Spanned<String>> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(|item| scalar(Some(item), key, diags))
            .collect(),
        _ => {
            diags.push(
                Diagnostic::error(
                    Code::NotAManifest,
                    format!("`{key}` must be a list, this is {}", node.kind_name()),
                )
                .with_label(node.span, "expected a list of strings"),
            );
            Vec::new()
        }
    }
}

fn extensions(node: &Node, diags: &mut Vec<Diagnostic>) -> Vec<Extension> {
    let Value::Map(entries) = &node.value else {
        diags.push(
            Diagnostic::error(Code::NotAManifest, "`add-extensions` must be a mapping")
                .with_label(node.span, "expected `{ \"name\": { \"directory\": … } }`"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, props) in entries {
        let Some(name_text) = name.as_str() else {
            continue;
        };
        let mut extension = Extension {
            name: Spanned::new(name_text.to_string(), name.inner(0, name_text.len())),
            directory: None,
            properties: Vec::new(),
            span: name.span.join(props.span),
        };
        if let Value::Map(props) = &props.value {
            for (key, value) in props {
                let Some(key_text) = key.as_str() else {
                    continue;
                };
                let text = match &value.value {
                    Value::Scalar(s) => s.clone(),
                    Value::Seq(items) => items
                        .iter()
                        .filter_map(Node::as_str)
                        .collect::<Vec<_>>()
                        .join(";"),
                    Value::Map(_) => continue,
                };
                let value = Spanned::new(text, value.span);
                if key_text == "directory" {
                    extension.directory = Some(value);
                } else {
                    extension
                        .properties
                        .push((Spanned::new(key_text.to_string(), key.span), value));
                }
            }
        }
        extension
            .properties
            .sort_by(|a, b| a.0.value.cmp(&b.0.value));
        out.push(extension);
    }
    out
}
