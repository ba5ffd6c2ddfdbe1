//! Importers: Flatpak manifests (JSON with comments, YAML), metadata keyfiles and bare
//! finish-args lists, each to an [`ast::Document`] with spans into the original text.
//!
//! [`detect`] picks the form from the file name and the content; [`import`] reads a
//! non-policy form. Importers report only what stops them from reading (syntax, shape);
//! the meaning of each permission is the checker's business.

pub mod args;
pub mod json;
pub mod keyfile;
pub mod manifest;
pub mod tree;
pub mod yaml;

use portcullis_syntax::ast::{self, Document, InputKind};
use portcullis_syntax::{SourceFile, Span};

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use tree::{Node, Value};

/// Which form an input is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Form {
    /// The policy language.
    Policy,
    /// A manifest in JSON (with comments).
    ManifestJson,
    /// A manifest in YAML.
    ManifestYaml,
    /// A metadata keyfile.
    Keyfile,
    /// A bare finish-args list (JSON array, or one option per line).
    FinishArgs,
}

impl Form {
    /// The AST's input kind for this form.
    pub fn input_kind(self) -> InputKind {
        match self {
            Form::Policy => InputKind::Policy,
            Form::ManifestJson => InputKind::ManifestJson,
            Form::ManifestYaml => InputKind::ManifestYaml,
            Form::Keyfile => InputKind::Keyfile,
            Form::FinishArgs => InputKind::FinishArgs,
        }
    }
}

/// The result of reading one input.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The document (empty when the input could not be read).
    pub document: Document,
    /// What stopped or bothered the reader, with the file attached.
    pub diagnostics: Vec<Diagnostic>,
}

/// Decides the form from the file name's extension and, failing that, the content.
/// A keyfile is recognised by an `[Application]` or `[Runtime]` group.
pub fn detect(file: &SourceFile) -> Form {
    let name = file.name.to_ascii_lowercase();
    let text = &file.text;
    if name.ends_with(".policy") {
        return Form::Policy;
    }
    if has_keyfile_group(text) {
        return Form::Keyfile;
    }
    let first = first_significant(text);
    if name.ends_with(".json") || name.ends_with(".jsonc") {
        return if first == Some('[') {
            Form::FinishArgs
        } else {
            Form::ManifestJson
        };
    }
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return Form::ManifestYaml;
    }
    match first {
        Some('{') => Form::ManifestJson,
        Some('[') => Form::FinishArgs,
        _ => {
            let first_line = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'));
            // YAML first: its document marker `---` also starts with `--`.
            match first_line {
                _ if looks_like_yaml_manifest(text) => Form::ManifestYaml,
                Some(l) if l.starts_with("--") => Form::FinishArgs,
                _ => Form::Policy,
            }
        }
    }
}

fn has_keyfile_group(text: &str) -> bool {
    text.lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .any(|l| l == "[Application]" || l == "[Runtime]")
}

/// A YAML manifest by content: a `---` document marker or `%YAML` directive as the first
/// significant line, or a top-level manifest key (`app-id:`, `id:`, …) at the start of a
/// line. No finish-args line or policy statement looks like either.
fn looks_like_yaml_manifest(text: &str) -> bool {
    let first = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim_end())
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if let Some(first) = first {
        if first == "---" || first.starts_with("--- ") || first.starts_with("%YAML") {
            return true;
        }
    }
    text.lines().any(|l| {
        ["app-id:", "id:", "runtime:", "finish-args:", "modules:"]
            .iter()
            .any(|k| l.starts_with(k))
    })
}

/// The first character that is not whitespace or inside a `//` or `/* */` comment.
fn first_significant(text: &str) -> Option<char> {
    let mut rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r);
        } else {
            return rest.chars().next();
        }
    }
}

/// Reads a non-policy input. For [`Form::Policy`] use the syntax crate's parser.
pub fn import(file: &SourceFile, form: Form) -> Imported {
    let mut diagnostics = Vec::new();
    let text: &str = &file.text;
    let empty = |input| Document {
        input,
        header: None,
        items: Vec::new(),
        trailing_comments: Vec::new(),
    };
    let document = match form {
        Form::Policy => {
            diagnostics.push(Diagnostic::error(
                Code::NotAManifest,
                "policy-language text is read by the syntax parser, not an importer",
            ));
            empty(InputKind::Policy)
        }
        Form::Keyfile => keyfile::document(text, &mut diagnostics),
        Form::ManifestJson | Form::ManifestYaml => {
            let read = if form == Form::ManifestJson {
                json::parse(text)
            } else {
                yaml::parse(text)
            };
            match read {
                Ok(root) => manifest::document(&root, form.input_kind(), &mut diagnostics),
                Err(err) => {
                    diagnostics.push(syntax_error(form, err));
                    empty(form.input_kind())
                }
            }
        }
        Form::FinishArgs => finish_args(text, &mut diagnostics),
    };
    let diagnostics = diagnostics.into_iter().map(|d| d.in_file(file)).collect();
    Imported {
        document,
        diagnostics,
    }
}

fn syntax_error(form: Form, err: json::JsonError) -> Diagnostic {
    let what = match form {
        Form::ManifestYaml => "YAML",
        _ => "JSON",
    };
    Diagnostic::error(
        Code::SyntaxError,
        format!("invalid {what}: {}", err.message),
    )
    .with_label(err.span, "here")
}

/// A bare finish-args list: a JSON array of strings, or one option per line (blank lines
/// and `#` comments skipped).
fn finish_args(text: &str, diags: &mut Vec<Diagnostic>) -> Document {
    let mut document = Document {
        input: InputKind::FinishArgs,
        header: None,
        items: Vec::new(),
        trailing_comments: Vec::new(),
    };
    if first_significant(text) == Some('[') {
        match json::parse(text) {
            Ok(Node {
                value: Value::Seq(elements),
                ..
            }) => document.items = args::items_from_args(&elements),
            Ok(other) => diags.push(
                Diagnostic::error(
                    Code::NotAManifest,
                    "a finish-args list is a JSON array of strings",
                )
                .with_label(other.span, "not an array"),
            ),
            Err(err) => diags.push(syntax_error(Form::FinishArgs, err)),
        }
        return document;
    }
    let mut elements = Vec::new();
    let mut offset = 0;
    for raw_line in text.split_inclusive('\n') {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let at = start + lead;
        elements.push(Node {
            value: Value::Scalar(trimmed.to_string()),
            span: Span::new(at, at + trimmed.len()),
            verbatim_start: Some(at),
        });
    }
    document.items = args::items_from_args(&elements);
    document
}

/// An empty document of a given kind (for inputs that could not be read at all).
pub fn empty_document(input: InputKind) -> ast::Document {
    Document {
        input,
        header: None,
        items: Vec::new(),
        trailing_comments: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> SourceFile {
        SourceFile::new(name, text)
    }

    #[test]
    fn detects_forms() {
        assert_eq!(detect(&file("a.policy", "app x {}")), Form::Policy);
        assert_eq!(detect(&file("a.json", "// c\n{}")), Form::ManifestJson);
        assert_eq!(
            detect(&file("a.json", "[\"--share=ipc\"]")),
            Form::FinishArgs
        );
        assert_eq!(detect(&file("a.yml", "id: x")), Form::ManifestYaml);
        assert_eq!(
            detect(&file("metadata", "[Application]\nname=x\n")),
            Form::Keyfile
        );
        assert_eq!(
            detect(&file("-", "--share=ipc\n--socket=x11\n")),
            Form::FinishArgs
        );
        assert_eq!(detect(&file("-", "app-id: org.x.Y\n")), Form::ManifestYaml);
        for yaml in [
            "---\napp-id: org.x.Y\nfinish-args:\n  - --share=ipc\n",
            "# a comment\n---\nid: org.x.Y\n",
            "%YAML 1.2\n---\napp-id: org.x.Y\n",
        ] {
            assert_eq!(detect(&file("-", yaml)), Form::ManifestYaml, "{yaml}");
            assert_eq!(
                detect(&file("manifest", yaml)),
                Form::ManifestYaml,
                "{yaml}"
            );
        }
        assert_eq!(
            detect(&file("-", "--share=ipc\n--socket=x11\n")),
            Form::FinishArgs
        );
        assert_eq!(detect(&file("-", "app org.x.Y {\n}\n")), Form::Policy);
    }

    #[test]
    fn truncated_json_is_a_syntax_error() {
        let imported = import(
            &file("a.json", "{\"id\": \"a.b.c\", \"finish-args\": ["),
            Form::ManifestJson,
        );
        assert_eq!(imported.diagnostics[0].code, Code::SyntaxError);
        assert!(imported.diagnostics[0].source.is_some());
    }
}
