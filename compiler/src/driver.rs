//! The compiler driver: any input to a checked [`Policy`], with every diagnostic.
//!
//! `compile` detects the form, parses or imports the text, lowers the document (resolving
//! includes relative to the including file, then in the repository's `policies/`
//! directory), runs the document-wide checks and returns the policy when no error was
//! found.

use std::path::{Path, PathBuf};

use portcullis_ir::{Beyond, Context, Policy};
use portcullis_syntax::ast::Document;
use portcullis_syntax::{SourceFile, Spanned};

use crate::check::{self, conflicts};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, DiagnosticsExt};
use crate::import::{self, Form};
use crate::lower::{identity, Includes, Lowering};

/// How deep includes may nest.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Compiler options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Where stock fragments live (the repository's `policies/`); searched for includes
    /// after the including file's directory.
    pub policies_dir: Option<PathBuf>,
    /// Force a form instead of detecting it.
    pub form: Option<Form>,
}

/// What compiling one input gives.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The input's form.
    pub form: Form,
    /// The document as read (empty when it could not be read).
    pub document: Document,
    /// The policy, present when there is no error.
    pub policy: Option<Policy>,
    /// Every finding, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    /// Whether an error makes the input invalid (exit 2).
    pub fn is_invalid(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_invalid_input)
    }
}

/// Reads a document in any form: the policy language through the syntax crate, the rest
/// through the importers.
pub fn read(file: &SourceFile, form: Form) -> (Document, Vec<Diagnostic>) {
    if form == Form::Policy {
        return match parse_policy(file) {
            Ok(document) => (document, Vec::new()),
            Err(diags) => (import::empty_document(form.input_kind()), diags),
        };
    }
    let imported = import::import(file, form);
    (imported.document, imported.diagnostics)
}

fn parse_policy(file: &SourceFile) -> Result<Document, Vec<Diagnostic>> {
    portcullis_syntax::parse(file).map_err(|err| vec![parse_error(file, &err)])
}

/// A policy-language parse error as a diagnostic, with the parser's own code
/// (`portcullis::parse::<kind>`).
pub fn parse_error(file: &SourceFile, err: &portcullis_syntax::ParseError) -> Diagnostic {
    let mut diag = Diagnostic::error(Code::of_parse_error(err.kind), err.message.clone())
        .with_label(err.span, err.label.clone())
        .with_help(err.help.clone());
    if let Some((span, text)) = &err.related {
        diag = diag.with_label(*span, text.clone());
    }
    diag.in_file(file)
}

/// Compiles one input.
pub fn compile(file: &SourceFile, options: &Options) -> Compiled {
    let form = options.form.unwrap_or_else(|| import::detect(file));
    let (document, mut diagnostics) = read(file, form);
    if diagnostics.has_errors() {
        return Compiled {
            form,
            document,
            policy: None,
            diagnostics,
        };
    }
    let mut session = Session {
        options,
        sources: vec![file.name.to_string()],
        stack: vec![canonical(&file.name)],
    };
    let mut lowering = Lowering::new(file, 0);
    let identity = identity::lower(&mut lowering, document.header.as_ref(), document.input);
    lowering.items(&document.items, &mut session);
    let mut findings = conflicts::check(&lowering.facts, &lowering.context);
    findings.extend(check::beyond::check(&lowering.beyond));
    diagnostics.append(&mut lowering.diags);
    diagnostics.extend(findings.into_iter().map(|d| d.in_file(file)));
    let policy = (!diagnostics.has_errors()).then_some(Policy {
        identity,
        context: lowering.context,
        beyond: lowering.beyond,
        sources: session.sources,
    });
    Compiled {
        form,
        document,
        policy,
        diagnostics,
    }
}

/// Merges one `flatpak override` file (a keyfile of `[Context]`, bus policies,
/// `[Environment]`, …) over `policy` with Flatpak's merge rules
/// (`flatpak_context_merge`, the same [`Context::merge`] includes use): the file is
/// lowered on its own as a keyfile, then it decides every bit and key it mentions, and
/// its `!host:reset` first clears every lower filesystem key. Its items get origins in
/// `file`, which is appended to the policy's sources. Returns the file's findings; an
/// error among them means nothing was merged.
pub fn apply_override(policy: &mut Policy, file: &SourceFile) -> Vec<Diagnostic> {
    let (document, mut diagnostics) = read(file, Form::Keyfile);
    if diagnostics.has_errors() {
        return diagnostics.into_iter().map(|d| d.in_file(file)).collect();
    }
    let source = u32::try_from(policy.sources.len()).unwrap_or(u32::MAX);
    let mut lowering = Lowering::new(file, source);
    lowering.items(&document.items, &mut crate::lower::NoIncludes);
    diagnostics.extend(lowering.diags);
    if !diagnostics.has_errors() {
        policy.sources.push(file.name.to_string());
        policy.context.merge(&lowering.context);
    }
    diagnostics.into_iter().map(|d| d.in_file(file)).collect()
}

/// Puts a runtime's metadata under `policy` as `flatpak run` does
/// (`flatpak_app_compute_permissions`): the runtime's keyfile is loaded first and its
/// permissions reset (`flatpak_context_reset_permissions`), so only its environment
/// (`[Environment]`, `unset-environment`) is inherited, and the app's own entries decide
/// every variable they name. Returns the file's findings; with an error nothing changes.
/// The file becomes a source of the policy only when it gives a variable.
pub fn apply_runtime_metadata(policy: &mut Policy, file: &SourceFile) -> Vec<Diagnostic> {
    let (document, mut diagnostics) = read(file, Form::Keyfile);
    if diagnostics.has_errors() {
        return diagnostics.into_iter().map(|d| d.in_file(file)).collect();
    }
    let source = u32::try_from(policy.sources.len()).unwrap_or(u32::MAX);
    let mut lowering = Lowering::new(file, source);
    lowering.items(&document.items, &mut crate::lower::NoIncludes);
    diagnostics.extend(lowering.diags);
    if !diagnostics.has_errors() && !lowering.context.env.is_empty() {
        policy.sources.push(file.name.to_string());
        let mut env = lowering.context.env;
        env.extend(std::mem::take(&mut policy.context.env));
        policy.context.env = env;
    }
    diagnostics.into_iter().map(|d| d.in_file(file)).collect()
}

struct Session<'a> {
    options: &'a Options,
    sources: Vec<String>,
    stack: Vec<PathBuf>,
}

fn canonical(name: &str) -> PathBuf {
    std::fs::canonicalize(name).unwrap_or_else(|_| PathBuf::from(name))
}

impl Session<'_> {
    fn resolve(&self, path: &str, from: &SourceFile) -> Option<PathBuf> {
        let relative = Path::new(path);
        let mut candidates = Vec::new();
        if relative.is_absolute() {
            candidates.push(relative.to_path_buf());
        } else {
            let base = Path::new(&*from.name).parent().unwrap_or(Path::new("."));
            candidates.push(base.join(relative));
            if let Some(dir) = &self.options.policies_dir {
                candidates.push(dir.join(relative));
            }
        }
        candidates.into_iter().find(|c| c.is_file())
    }
}

impl Includes for Session<'_> {
    fn include(
        &mut self,
        path: &Spanned<String>,
        from: &SourceFile,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(Context, Beyond)> {
        let fail = |message: String, help: &str| {
            Diagnostic::error(Code::InvalidInclude, message)
                .with_label(path.span, "included here")
                .with_help(help.to_string())
                .in_file(from)
        };
        let Some(resolved) = self.resolve(&path.value, from) else {
            diags.push(fail(
                format!("cannot find `{}` to include", path.value),
                "includes are looked up next to the including file, then in the policies directory",
            ));
            return None;
        };
        let canonical_path = canonical(&resolved.to_string_lossy());
        if self.stack.contains(&canonical_path) {
            diags.push(fail(
                format!("`{}` includes itself", path.value),
                "remove the cycle",
            ));
            return None;
        }
        if self.stack.len() > MAX_INCLUDE_DEPTH {
            diags.push(fail(
                "includes nest too deeply".into(),
                "flatten the includes",
            ));
            return None;
        }
        let text = match std::fs::read(&resolved).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                diags.push(fail(
                    format!("`{}` is not UTF-8 text", path.value),
                    "include policy-language files",
                ));
                return None;
            }
            Err(err) => {
                diags.push(fail(
                    format!("cannot read `{}`: {err}", path.value),
                    "check the path",
                ));
                return None;
            }
        };
        // Only policy-language files are included: a manifest, keyfile or finish-args list
        // would be merged with another dialect's meaning, and any other file is a mistake.
        let file = SourceFile::new(resolved.to_string_lossy().to_string(), text);
        let form = import::detect(&file);
        if form != Form::Policy {
            let what = match form {
                Form::ManifestJson | Form::ManifestYaml => "a Flatpak manifest",
                Form::Keyfile => "a metadata keyfile",
                _ => "a finish-args list",
            };
            diags.push(fail(
                format!("`{}` is {what}, not a policy-language file", path.value),
                "include only policy-language files; turn the file into one with `portcullis import`",
            ));
            return None;
        }
        let named_policy = resolved.extension().is_some_and(|e| e == "policy");
        let (document, mut read_diags) = read(&file, form);
        // Without the `.policy` name, a file counts as policy language only when it parses
        // and has its `app`/`runtime`/`fragment` block (any text parses as statements).
        let has_block = document.header.as_ref().is_some_and(|h| h.kind.is_some());
        if read_diags.has_errors() || (!named_policy && !has_block) {
            if named_policy {
                diags.append(&mut read_diags);
            } else {
                diags.push(fail(
                    format!("`{}` is not a policy-language file", path.value),
                    "include only policy-language files (`.policy`)",
                ));
            }
            return None;
        }
        diags.append(&mut read_diags);
        let source = u32::try_from(self.sources.len()).unwrap_or(u32::MAX);
        self.sources.push(file.name.to_string());
        self.stack.push(canonical_path);
        let mut lowering = Lowering::new(&file, source);
        lowering.items(&document.items, self);
        self.stack.pop();
        let failed = lowering.diags.has_errors();
        diags.append(&mut lowering.diags);
        (!failed).then_some((lowering.context, lowering.beyond))
    }
}
