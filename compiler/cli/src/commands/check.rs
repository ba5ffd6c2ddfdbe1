//! `portcullis check INPUT... [--format human|json|sarif] [--exceptions FILE] [--fail-on LEVEL]`:
//! parse, import and check each input; print every finding with its code and position.
//!
//! Exit 2 when an input is invalid (cannot be read, or Flatpak would refuse it), else 1
//! when a finding is at or above `--fail-on` (default `error`), else 0. Besides the
//! compiler's checks, every statement that could be read, included files' too, is
//! linted (`portcullis_verifier::lint`), even when another statement is invalid:
//! flatpak-builder-lint's finish-args codes are errors, as on Flathub; our own codes are
//! errors when critical, else warnings. `--format sarif` writes one SARIF 2.1.0 log for
//! all inputs, excepted findings as suppressions. An exceptions file maps an app id (or
//! `*`) to codes to drop, in any shape of Flathub's `exceptions.json` or our policy form;
//! exceptions that match nothing are reported as stale:
//! `{ "org.example.App": ["portcullis::check::duplicate"] }` (the short name works too).

// A `Finding` is returned at most once per input, never in a loop that matters for speed;
// keeping it unboxed keeps every caller simple.
#![allow(clippy::result_large_err)]

use std::path::Path;
use std::process::ExitCode;

use portcullis_compiler::{Code, Severity};
use portcullis_verifier::lint;

use super::audit;
use super::input::{self, EXIT_FINDINGS, EXIT_INVALID, EXIT_OK};
use crate::cli::{CheckArgs, ReportFormat};
use crate::report::{self, Finding};
use crate::sarif;

/// The code of a bad option value.
const USAGE_ERROR: &str = "portcullis::usage::invalid-option";
/// The code of the notification for an input Flatpak would refuse.
const INVALID_INPUT: &str = "portcullis::input::invalid";

/// Exceptions: Flathub's `exceptions.json` shapes or the policy-language form (see
/// `portcullis_verifier::lint::exceptions`); app id `*` applies to every app.
type Exceptions = lint::Exceptions;

fn read_exceptions(path: &Path) -> Result<Exceptions, Finding> {
    let bytes = input::read_bytes(path)?;
    let text = String::from_utf8_lossy(&bytes);
    lint::Exceptions::parse(&text).map_err(|err| {
        Finding::new(Code::SyntaxError.to_string(), Severity::Error, err.to_string())
            .with_help(
                "write `{ \"org.example.App\": { \"finish-args-home-filesystem-access\": \"reason\" } }` \
                 or `exceptions org.example.App { CODE \"reason\" }`",
            )
            .with_file(input::display_name(path))
    })
}

fn excepted(exceptions: &Exceptions, app_id: Option<&str>, code: &str) -> bool {
    let short = code.rsplit("::").next().unwrap_or(code);
    ["*", app_id.unwrap_or("*")]
        .iter()
        .any(|id| exceptions.find(id, code).is_some() || exceptions.find(id, short).is_some())
}

/// Stops the run before any input was checked: the failure on stderr, and on stdout in
/// the format asked for (a SARIF log whose invocation failed, or a JSON report), so that
/// a CI job reading either says why it failed.
fn stop(format: ReportFormat, finding: Finding) -> ExitCode {
    let stopped = [finding];
    input::eprint_findings(&stopped);
    input::stop_report(format, &stopped)
}

/// Runs `check`.
pub fn run(args: CheckArgs) -> ExitCode {
    let Some(fail_on) = Severity::from_name(&args.fail_on) else {
        let finding = Finding::new(
            USAGE_ERROR,
            Severity::Error,
            format!(
                "`--fail-on {}` is not a level",
                report::bounded(&args.fail_on)
            ),
        )
        .with_help("use error, warning or info");
        return stop(args.format, finding);
    };
    let exceptions = match args.exceptions.as_deref().map(read_exceptions).transpose() {
        Ok(e) => e.unwrap_or_default(),
        Err(finding) => return stop(args.format, finding),
    };
    let exceptions_file = args
        .exceptions
        .as_deref()
        .map(input::display_name)
        .unwrap_or_default();
    let mut log = sarif::Log::default();
    let mut all = Vec::new();
    let mut invalid = false;
    // What stopped the run, for stderr when stdout is for machines.
    let mut stops = Vec::new();
    for path in &args.inputs {
        match input::load(path) {
            Ok(loaded) => {
                if loaded.compiled.is_invalid() {
                    invalid = true;
                    let name = input::display_name(path);
                    let errors: Vec<Finding> = input::findings(&loaded.compiled.diagnostics)
                        .into_iter()
                        .filter(|f| f.severity == Severity::Error)
                        .collect();
                    let first = errors
                        .first()
                        .map(|f| format!(": {}", f.message))
                        .unwrap_or_default();
                    log.fail(
                        INVALID_INPUT,
                        &format!(
                            "`{name}` is not a valid input ({} error(s)){first}",
                            errors.len()
                        ),
                        Some(&name),
                    );
                    stops.extend(errors);
                }
                let app_id = loaded
                    .compiled
                    .document
                    .header
                    .as_ref()
                    .and_then(|h| h.id.as_ref())
                    .map(|id| id.value.clone());
                let findings = input::findings(&loaded.compiled.diagnostics);
                let kept: Vec<Finding> = findings
                    .into_iter()
                    .filter(|f| {
                        f.severity == Severity::Error
                            || !excepted(&exceptions, app_id.as_deref(), &f.code)
                    })
                    .collect();
                for f in &kept {
                    let (rule, result) = audit::sarif_of_report(f);
                    log.add_rule(rule);
                    log.results.push(result);
                }
                all.extend(kept);
                // Lints read the statements as written, so one invalid value does not
                // hide the risks of the others; an input that could not be read at all
                // has no statements, and linting it would report what is merely missing.
                let document = &loaded.compiled.document;
                if !loaded.compiled.is_invalid()
                    || document.header.is_some()
                    || !document.items.is_empty()
                {
                    all.extend(audit::check_lints(
                        &loaded,
                        &exceptions,
                        &exceptions_file,
                        &mut log,
                    ));
                }
            }
            Err(finding) => {
                invalid = true;
                let (rule, result) = audit::sarif_of_report(&finding);
                log.add_rule(rule);
                log.results.push(result);
                log.fail(&finding.code, &finding.message, finding.file.as_deref());
                stops.push(finding.clone());
                all.push(finding);
            }
        }
    }
    if args.format != ReportFormat::Human {
        input::eprint_findings(&stops);
    }
    let text = match args.format {
        ReportFormat::Json => report::render_json(&all),
        ReportFormat::Sarif => log.render(),
        _ => {
            let mut text = report::render_human(&all, report::stdout_is_terminal());
            let summary = report::Summary::of(&all);
            text.push_str(&format!(
                "{} input(s) checked: {} error(s), {} warning(s), {} info(s)\n",
                args.inputs.len(),
                summary.errors,
                summary.warnings,
                summary.infos
            ));
            text
        }
    };
    let printed = input::emit(None, text.as_bytes());
    if printed != ExitCode::from(EXIT_OK) {
        return printed;
    }
    let code = if invalid {
        EXIT_INVALID
    } else if all.iter().any(|f| f.at_least(fail_on)) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    ExitCode::from(code)
}
