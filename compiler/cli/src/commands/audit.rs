//! `portcullis audit INPUT [--format human|json|dot]`: the reviewer's report.
//!
//! Effective permissions after merging, the known escape paths with their chains
//! ("known escape found via …", never a safety verdict), the other risks, and every lint
//! finding with its stable code, severity and position in the manifest or policy. `dot`
//! draws the risk graph. Exit 0 with a report, 2 when the input is invalid.
//!
//! The pieces other subcommands reuse live here too: [`Sources`] turns IR origins into
//! file positions, [`lint_input`] runs the lints on a loaded input.

use std::path::PathBuf;
use std::process::ExitCode;

use portcullis_compiler::diagnostic::DiagnosticsExt;
use portcullis_compiler::import::{self, Form};
use portcullis_compiler::{driver, Code, Compiled, Diagnostic, Options};
use portcullis_ir::{Origin, Policy};
use portcullis_syntax::ast::{Document, Item, ItemKind};
use portcullis_syntax::{SourceFile, Span};
use portcullis_verifier::lint::{self, FinishArg, FinishArgs};
use portcullis_verifier::risk::{self, Assessment, Path};
use portcullis_verifier::Severity;
use serde_json::{json, Value};

use super::input::{self, EXIT_INVALID};
use crate::cli::{AuditArgs, AuditFormat};
use crate::report;
use crate::sarif::{self, Location};

/// The texts origins point into: the input itself and the files it includes.
pub struct Sources {
    files: Vec<Option<SourceFile>>,
}

impl Sources {
    /// Index 0 is the input; included files are read from disk (a file that cannot be
    /// read loses its positions, not its findings).
    pub fn new(main: &SourceFile, policy: Option<&Policy>) -> Sources {
        Sources::from_names(main, policy.map(|p| &p.sources[..]).unwrap_or(&[]))
    }

    /// As [`Sources::new`], from the names of the sources in their order (the first,
    /// the input's, is `main`).
    pub fn from_names(main: &SourceFile, names: &[String]) -> Sources {
        let mut files = vec![Some(main.clone())];
        for name in names.iter().skip(1) {
            files.push(
                std::fs::read_to_string(name)
                    .ok()
                    .map(|text| SourceFile::new(name.as_str(), text)),
            );
        }
        Sources { files }
    }

    /// The file, line and column of an origin.
    pub fn locate(&self, origin: Origin) -> Option<Location> {
        if origin.is_implicit() {
            return None;
        }
        let file = self.files.get(origin.source as usize)?.as_ref()?;
        let (line, column) = file.line_col(origin.start as usize);
        let (end_line, end_column) = file.line_col(origin.end as usize);
        Some(Location {
            file: file.name.to_string(),
            line,
            column,
            end_line,
            end_column,
        })
    }
}

/// How deep includes may nest, as in the compiler.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Collects the finish-args of a document and of the files it includes, the way the
/// compiler resolves them, numbering the included files as the compiler numbers
/// `Policy::sources` (the input 0, then each include depth-first in statement order).
struct IncludeWalk {
    options: Options,
    names: Vec<String>,
    stack: Vec<PathBuf>,
    args: Vec<FinishArg>,
    /// Where the input's errors point: those statements are not linted.
    invalid: Vec<Span>,
    /// Whether an invalid statement was left out (the input did declare permissions).
    skipped: bool,
    /// The compiled policy's sources, when there is a policy.
    known: Option<Vec<String>>,
}

fn canonical(name: &str) -> PathBuf {
    std::fs::canonicalize(name).unwrap_or_else(|_| PathBuf::from(name))
}

impl IncludeWalk {
    fn items(&mut self, document: &Document, from: &SourceFile, source: u32, includes: bool) {
        for item in &document.items {
            if source == 0 && points_at(&self.invalid, item) {
                // The statement's own error says what is wrong with it.
                self.skipped = true;
                continue;
            }
            match &item.kind {
                ItemKind::Include { path } if includes => self.include(&path.value, from),
                _ => self.args.extend(FinishArg::of_item(item, source)),
            }
        }
    }

    fn resolve(&self, path: &str, from: &SourceFile) -> Option<PathBuf> {
        let relative = std::path::Path::new(path);
        let mut candidates = Vec::new();
        if relative.is_absolute() {
            candidates.push(relative.to_path_buf());
        } else {
            let base = std::path::Path::new(&*from.name)
                .parent()
                .unwrap_or(std::path::Path::new("."));
            candidates.push(base.join(relative));
            if let Some(dir) = &self.options.policies_dir {
                candidates.push(dir.join(relative));
            }
        }
        candidates.into_iter().find(|c| c.is_file())
    }

    /// An include the compiler refuses (missing, cyclic, too deep, unreadable) adds
    /// nothing: the compiler reports it.
    fn include(&mut self, path: &str, from: &SourceFile) {
        // With a policy, every include succeeded and the compiler's own numbering names
        // the file: the next source is this include's.
        let known = self
            .known
            .as_ref()
            .map(|names| names.get(self.names.len()).map(PathBuf::from));
        let Some(resolved) = known.unwrap_or_else(|| self.resolve(path, from)) else {
            return;
        };
        let canonical_path = canonical(&resolved.to_string_lossy());
        if self.stack.contains(&canonical_path) || self.stack.len() > MAX_INCLUDE_DEPTH {
            return;
        }
        let Ok(Ok(text)) = std::fs::read(&resolved).map(String::from_utf8) else {
            return;
        };
        let file = SourceFile::new(resolved.to_string_lossy().to_string(), text);
        let form = import::detect(&file);
        let (document, diags) = driver::read(&file, form);
        if diags.has_errors() {
            return;
        }
        let source = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(file.name.to_string());
        self.stack.push(canonical_path);
        self.items(&document, &file, source, form == Form::Policy);
        self.stack.pop();
    }
}

/// The finish-args view of an input with the statements of every file it includes, in
/// statement order, so that lints find the same whether a grant is written inline or
/// included; and the names of the sources its origins point into. Statements an error
/// points at are left out: the others are still linted.
fn expanded_view(file: &SourceFile, compiled: &Compiled) -> (FinishArgs, Vec<String>) {
    let mut view = FinishArgs::from_document(&compiled.document, 0);
    let mut walk = IncludeWalk {
        options: input::options(),
        names: vec![file.name.to_string()],
        stack: vec![canonical(&file.name)],
        args: Vec::new(),
        invalid: error_spans(file, compiled),
        skipped: false,
        known: compiled.policy.as_ref().map(|p| p.sources.clone()),
    };
    walk.items(&compiled.document, file, 0, true);
    view.args = walk.args;
    view.defined = !view.args.is_empty() || walk.skipped;
    (view, walk.names)
}

/// Where the errors in the input itself point.
fn error_spans(file: &SourceFile, compiled: &Compiled) -> Vec<Span> {
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.severity == portcullis_compiler::Severity::Error)
        .filter(|d| d.source.as_ref().is_none_or(|s| s.name == file.name))
        .flat_map(|d| d.labels.iter().map(|l| l.span))
        .collect()
}

/// Whether one of `spans` lies inside the statement.
fn points_at(spans: &[Span], item: &Item) -> bool {
    spans
        .iter()
        .any(|s| s.start >= item.span.start && s.end <= item.span.end)
}

/// The policy of the statements that could be read, for an input that is invalid as a
/// whole: the input with every statement an error points at blanked out (offsets kept,
/// so positions stay true), compiled again. `None` when that still fails (a manifest's
/// list cannot lose an element this way, an invalid header stays invalid).
fn readable_policy(file: &SourceFile, compiled: &Compiled) -> Option<Policy> {
    let bad = error_spans(file, compiled);
    let mut text = file.text.as_bytes().to_vec();
    let mut blanked = false;
    for item in &compiled.document.items {
        let (start, end) = (item.span.start, item.span.end);
        if end > text.len() || !points_at(&bad, item) {
            continue;
        }
        blanked = true;
        for byte in &mut text[start..end] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    }
    if !blanked {
        return None;
    }
    // A span that splits a character only makes this fail, quietly.
    let text = String::from_utf8(text).ok()?;
    let options = Options {
        form: Some(compiled.form),
        ..input::options()
    };
    portcullis_compiler::compile(&SourceFile::new(file.name.to_string(), text), &options).policy
}

/// The lint findings of a loaded input: the finish-args view of its document and of the
/// files it includes, with the sources their positions point into. Every statement that
/// could be read is linted, even when another one is invalid.
pub fn lint_input(
    file: &SourceFile,
    compiled: &Compiled,
) -> (Option<String>, Vec<lint::Finding>, Sources) {
    let (view, names) = expanded_view(file, compiled);
    let sources = Sources::from_names(file, &names);
    let app_id = view.app_id.clone();
    let mut findings = lint::lint(&view);
    if compiled.form == Form::Policy {
        // A policy that grants nothing is Flatpak's default sandbox, not a manifest
        // that forgot its finish-args: that Flathub submission rule does not apply.
        findings.retain(|f| f.code != "finish-args-not-defined");
    }
    (app_id, findings, sources)
}

/// The `check` level of a lint finding. On Flatpak's own forms (manifests, keyfiles,
/// finish-args lists) flatpak-builder-lint's codes are errors, the same gate as Flathub.
/// Everywhere else, and for our own codes, only a critical risk is an error: Flathub's
/// submission rules are advice for a policy written in our language.
fn check_severity(f: &lint::Finding, form: Form) -> portcullis_compiler::Severity {
    use portcullis_compiler::Severity as Level;
    match f.severity {
        _ if f.fblint && form != Form::Policy => Level::Error,
        Severity::Critical => Level::Error,
        Severity::Info => Level::Info,
        _ => Level::Warning,
    }
}

/// A lint finding in the common report model, positioned in its file.
fn to_report(
    f: &lint::Finding,
    form: Form,
    file: &SourceFile,
    sources: &Sources,
) -> report::Finding {
    let level = check_severity(f, form);
    let message = format!("{} risk: {}", f.severity, f.message);
    let mut out = if f.origin.source == 0 && !f.origin.is_implicit() {
        let span = Span::new(f.origin.start as usize, f.origin.end as usize);
        // The diagnostic only carries the position and the source text to the common
        // renderer; the code is replaced by the lint's own below.
        let diag = Diagnostic::new(Code::SyntaxError, level, message)
            .with_label(span, f.code.clone())
            .with_help(f.help)
            .in_file(file);
        report::Finding::from_diagnostic(&diag)
    } else {
        let mut plain = report::Finding::new(f.code.clone(), level, message).with_help(f.help);
        if let Some(l) = sources.locate(f.origin) {
            plain = plain.with_file(l.file);
            plain.line = Some(l.line);
            plain.column = Some(l.column);
        }
        plain
    };
    out.code = f.code.clone();
    out
}

/// The lint part of `check` for one loaded input: findings not covered by an exception
/// (for the human and JSON reports), stale exceptions of the input's app, and every
/// finding, suppressed ones included, added to the SARIF log.
pub fn check_lints(
    loaded: &input::Loaded,
    exceptions: &lint::Exceptions,
    exceptions_file: &str,
    log: &mut sarif::Log,
) -> Vec<report::Finding> {
    let policy = loaded.compiled.policy.as_ref();
    let (app_id, mut findings, sources) = lint_input(&loaded.file, &loaded.compiled);
    let readable = match policy {
        Some(_) => None,
        None => readable_policy(&loaded.file, &loaded.compiled),
    };
    if let Some(p) = policy.or(readable.as_ref()) {
        lint::apply_risk(&mut findings, &risk::assess(p));
    }
    let stale = match app_id.as_deref() {
        Some(app) => lint::apply_exceptions(&mut findings, app, exceptions),
        None => Vec::new(),
    };
    log.add_lints(&findings, |o| sources.locate(o));
    let mut out: Vec<report::Finding> = findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| to_report(f, loaded.compiled.form, &loaded.file, &sources))
        .collect();
    let Some(rule) = lint::rules::rule_for("portcullis-stale-exception") else {
        return out;
    };
    for e in stale {
        let message = format!(
            "exception `{}` for `{}` matches no finding of `{}`",
            e.code, e.app_id, loaded.file.name
        );
        let mut f = report::Finding::new(
            rule.id,
            portcullis_compiler::Severity::Warning,
            message.clone(),
        )
        .with_help(rule.help)
        .with_file(exceptions_file);
        f.line = Some(e.line);
        f.column = Some(e.column);
        out.push(f);
        log.add_rule(sarif::lint_rule(rule));
        log.results.push(sarif::Finding {
            rule_id: rule.id.to_string(),
            code: rule.id.to_string(),
            level: "warning",
            message,
            location: Some(Location {
                file: exceptions_file.to_string(),
                line: e.line,
                column: e.column,
                end_line: e.line,
                end_column: e.column + e.code.chars().count(),
            }),
            anchor: format!("{} {}", e.app_id, e.code),
            suppressed: None,
        });
    }
    out
}

/// A compiler finding of `check` as a SARIF rule and result.
pub fn sarif_of_report(f: &report::Finding) -> (sarif::Rule, sarif::Finding) {
    use portcullis_compiler::Severity as Level;
    let level = match f.severity {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "note",
    };
    let rule = sarif::Rule {
        id: f.code.clone(),
        short: format!(
            "portcullis check `{}`",
            f.code.rsplit("::").next().unwrap_or(&f.code)
        ),
        help: f.help.clone().unwrap_or_else(|| f.message.clone()),
        help_uri: None,
        level,
        security_severity: None,
    };
    let location = match (&f.file, f.line, f.column) {
        (Some(file), Some(line), Some(column)) => {
            let end = f.labels.first();
            Some(Location {
                file: file.clone(),
                line,
                column,
                end_line: end.map(|_| line).unwrap_or(line),
                end_column: end
                    .map(|l| column + (l.end - l.start))
                    .unwrap_or(column + 1),
            })
        }
        _ => None,
    };
    let result = sarif::Finding {
        rule_id: f.code.clone(),
        code: f.code.clone(),
        level,
        message: f.message.clone(),
        location,
        anchor: f.message.clone(),
        suppressed: None,
    };
    (rule, result)
}

fn at(sources: &Sources, origin: Origin) -> Value {
    match sources.locate(origin) {
        Some(l) => json!({ "file": l.file, "line": l.line, "column": l.column }),
        None => Value::Null,
    }
}

fn path_json(p: &Path, sources: &Sources) -> Value {
    json!({
        "message": format!("known escape found via `{}`", p.grant),
        "grant": p.grant,
        "position": at(sources, p.origin),
        "chain": p.chain.iter().map(|s| json!({ "to": s.to, "reason": s.reason, "reference": s.reference })).collect::<Vec<_>>(),
        "impact": p.impact,
        "severity": p.severity,
    })
}

/// Effective permissions after merging, one list per kind, in Flatpak's order.
pub fn permissions(policy: &Policy) -> Vec<(&'static str, Vec<String>)> {
    let ctx = &policy.context;
    let on = |enabled: bool| enabled;
    let mut out = vec![
        (
            "share",
            ctx.shares
                .iter()
                .filter(|(_, s)| on(s.enabled))
                .map(|(k, _)| k.to_string())
                .collect(),
        ),
        (
            "socket",
            ctx.sockets
                .iter()
                .filter(|(_, s)| s.enabled)
                .map(|(k, _)| k.to_string())
                .collect(),
        ),
        (
            "device",
            ctx.devices
                .iter()
                .filter(|(_, s)| s.enabled)
                .map(|(k, _)| k.to_string())
                .collect(),
        ),
        (
            "allow",
            ctx.features
                .iter()
                .filter(|(_, s)| s.enabled)
                .map(|(k, _)| k.to_string())
                // portcullis's own `allow io-uring` lives beyond the context.
                .chain(policy.beyond.io_uring.map(|_| "io-uring".to_string()))
                .collect(),
        ),
        (
            "filesystem",
            ctx.filesystems
                .iter()
                .filter(|(k, _)| **k != portcullis_ir::fs::FsKey::HostReset)
                .map(|(k, e)| match e.mode.suffix() {
                    Some(suffix) => format!("{k}{suffix}"),
                    None => format!("!{k}"),
                })
                .collect(),
        ),
        ("persist", ctx.persistent.keys().cloned().collect()),
    ];
    for (word, map) in [
        ("session-bus", &ctx.session_bus),
        ("system-bus", &ctx.system_bus),
        ("a11y-bus", &ctx.a11y_bus),
    ] {
        out.push((
            word,
            map.iter()
                .map(|(n, e)| format!("{} {n}", e.policy.name()))
                .collect(),
        ));
    }
    out.push((
        "env",
        ctx.env
            .iter()
            .map(|(k, e)| match &e.value {
                Some(v) => format!("{k}={v}"),
                None => format!("unset {k}"),
            })
            .collect(),
    ));
    let b = &policy.beyond;
    let mut beyond = Vec::new();
    if let Some(n) = &b.network {
        let ports =
            |l: &[portcullis_ir::beyond::PortRange]| portcullis_ir::beyond::describe_ports(l, ",");
        beyond.push(format!("network connect tcp {}", ports(&n.connect)));
        beyond.push(format!("network bind tcp {}", ports(&n.bind)));
        // UDP is outside Landlock's port rules: say which way it goes.
        beyond.push(if n.udp_none {
            "network udp none".to_string()
        } else {
            "network udp unrestricted".to_string()
        });
    }
    beyond.extend(b.deny.iter().map(|d| format!("deny {}", d.path)));
    if !b.deny.is_empty() {
        // Masks are held by Landlock and never degrade to the mount plan alone.
        beyond.push(
            "deny masks held by landlock (required: no landlock, no launch; \
             nothing new directly in the directories above a mask)"
                .to_string(),
        );
    }
    beyond.extend(b.device_nodes.iter().map(|d| {
        format!(
            "device-node {}{}",
            d.path,
            if d.writable { "" } else { ":ro" }
        )
    }));
    beyond.extend(
        b.bus_rules
            .iter()
            .map(|r| format!("dbus-{:?} {}={}", r.kind, r.name, r.rule).to_lowercase()),
    );
    for (name, limit) in [
        ("memory", b.limits.memory),
        ("processes", b.limits.processes),
        ("open-files", b.limits.open_files),
        ("cpu-time", b.limits.cpu_time),
        ("cpu-share", b.limits.cpu_share),
    ] {
        if let Some(l) = limit {
            let how = portcullis_blob::limits::mechanism(name);
            beyond.push(format!("limit {name} {} ({how})", l.value));
        }
    }
    out.push(("beyond-flatpak", beyond));
    out.retain(|(_, v)| !v.is_empty());
    out
}

/// The audit report as JSON.
pub fn report_json(
    name: &str,
    policy: &Policy,
    assessment: &Assessment,
    findings: &[lint::Finding],
    sources: &Sources,
) -> Value {
    let perms: serde_json::Map<String, Value> = permissions(policy)
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut counts = serde_json::Map::new();
    for s in Severity::ALL.iter().rev() {
        counts.insert(
            s.name().into(),
            json!(findings.iter().filter(|f| f.severity == *s).count()),
        );
    }
    json!({
        "input": name,
        "app_id": policy.identity.id,
        "verdict": "this report lists known escape paths and risks; it is not a safety verdict",
        "permissions": perms,
        "escapes": assessment.escapes().map(|p| path_json(p, sources)).collect::<Vec<_>>(),
        "risks": assessment.paths.iter().filter(|p| !p.escape).map(|p| {
            let mut v = path_json(p, sources);
            v["message"] = json!(format!("`{}` can {}", p.grant, p.impact));
            v
        }).collect::<Vec<_>>(),
        "findings": findings.iter().map(|f| {
            let mut v = json!({
                "code": f.code,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "help": f.help,
                "flatpak_builder_lint": f.fblint,
                "position": at(sources, f.origin),
            });
            if let Some(reason) = &f.suppressed {
                v["suppressed"] = json!(reason);
            }
            v
        }).collect::<Vec<_>>(),
        "summary": counts,
    })
}

fn position(sources: &Sources, origin: Origin) -> String {
    sources
        .locate(origin)
        .map(|l| format!("{}:{}:{}", l.file, l.line, l.column))
        .unwrap_or_else(|| "(implicit)".into())
}

/// The audit report for people: escapes first, then risks, permissions and findings.
pub fn report_human(
    name: &str,
    policy: &Policy,
    assessment: &Assessment,
    findings: &[lint::Finding],
    sources: &Sources,
) -> String {
    let mut out = format!("audit of {} ({name})\n", policy.app_id());
    let escapes: Vec<&Path> = assessment.escapes().collect();
    if escapes.is_empty() {
        out.push_str(
            "\nno known escape found (escapes are unbounded: this is not a safety verdict)\n",
        );
    } else {
        out.push_str(&format!("\nknown escapes ({}):\n", escapes.len()));
        for p in escapes {
            out.push_str(&format!(
                "  CRITICAL known escape found via `{}` at {}\n",
                p.grant,
                position(sources, p.origin)
            ));
            for step in &p.chain {
                out.push_str(&format!(
                    "    → {}\n      because {} [{}]\n",
                    step.to, step.reason, step.reference
                ));
            }
        }
    }
    let risks: Vec<&Path> = assessment.paths.iter().filter(|p| !p.escape).collect();
    if !risks.is_empty() {
        out.push_str(&format!("\nother risks ({}):\n", risks.len()));
        for p in risks {
            out.push_str(&format!(
                "  {:<8} `{}` can {} ({})\n",
                p.severity.name().to_uppercase(),
                p.grant,
                p.impact,
                position(sources, p.origin)
            ));
        }
    }
    out.push_str("\neffective permissions:\n");
    for (kind, values) in permissions(policy) {
        out.push_str(&format!("  {kind:<15} {}\n", values.join(", ")));
    }
    out.push_str(&format!("\nfindings ({}):\n", findings.len()));
    for f in findings {
        let suppressed = f
            .suppressed
            .as_ref()
            .map(|r| format!(" [excepted: {r}]"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:<8} {} {}\n           {}{suppressed}\n",
            f.severity.name(),
            position(sources, f.origin),
            f.code,
            f.message
        ));
    }
    out
}

/// Runs `audit`.
pub fn run(args: AuditArgs) -> ExitCode {
    let loaded = match input::load(&args.input) {
        Ok(l) => l,
        Err(finding) => {
            input::eprint_findings(&[finding]);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let Some(policy) = loaded.compiled.policy.as_ref() else {
        input::eprint_findings(&input::findings(&loaded.compiled.diagnostics));
        return ExitCode::from(EXIT_INVALID);
    };
    let name = input::display_name(&args.input);
    let sources = Sources::new(&loaded.file, Some(policy));
    let assessment = risk::assess(policy);
    let (_, mut findings, _) = lint_input(&loaded.file, &loaded.compiled);
    lint::apply_risk(&mut findings, &assessment);
    let text = match args.format {
        AuditFormat::Human => report_human(&name, policy, &assessment, &findings, &sources),
        AuditFormat::Json => {
            // INVARIANT: a JSON value always serialises.
            serde_json::to_string_pretty(&report_json(
                &name,
                policy,
                &assessment,
                &findings,
                &sources,
            ))
            .unwrap_or_default()
                + "\n"
        }
        AuditFormat::Dot => risk::dot::render(&assessment.graph, policy.app_id()),
    };
    input::emit(None, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use portcullis_compiler::{compile, Options};

    use super::*;

    #[test]
    fn json_report_lists_escapes_with_chain_and_position() {
        let file = SourceFile::new(
            "app.yaml",
            "id: a.b.C\nfinish-args:\n  - --share=ipc\n  - --talk-name=org.freedesktop.Flatpak\n  - --socket=x11\n",
        );
        let compiled = compile(&file, &Options::default());
        let policy = compiled.policy.as_ref().expect("compiles");
        let sources = Sources::new(&file, Some(policy));
        let assessment = risk::assess(policy);
        let (app, mut findings, _) = lint_input(&file, &compiled);
        lint::apply_risk(&mut findings, &assessment);
        assert_eq!(app.as_deref(), Some("a.b.C"));
        let report = report_json("app.yaml", policy, &assessment, &findings, &sources);
        let escape = &report["escapes"][0];
        assert_eq!(
            escape["message"],
            "known escape found via `talk-name org.freedesktop.Flatpak`"
        );
        assert_eq!(escape["position"]["line"], 4);
        assert_eq!(escape["chain"].as_array().map(Vec::len), Some(2));
        assert_eq!(report["risks"][0]["grant"], "socket x11");
        assert_eq!(report["permissions"]["socket"][0], "x11");
        let text = report_human("app.yaml", policy, &assessment, &findings, &sources);
        assert!(text.contains(
            "CRITICAL known escape found via `talk-name org.freedesktop.Flatpak` at app.yaml:4:5"
        ));
        assert!(!text.contains("safe"), "never a safety verdict: {text}");
    }
}
