//! `portcullis check INPUT... [--format human|json] [--exceptions FILE] [--fail-on LEVEL]`:
//! parse, import and check each input; print every finding with its code and position.
//!
//! Exit 2 when an input is invalid (cannot be read, or Flatpak would refuse it), else 1
//! when a finding is at or above `--fail-on` (default `error`), else 0. An exceptions file
//! maps an app id (or `*`) to codes to drop, in the shape of Flathub's `exceptions.json`:
//! `{ "org.example.App": ["portcullis::check::duplicate"] }` (the short name works too).

// A `Finding` is returned at most once per input, never in a loop that matters for speed;
// keeping it unboxed keeps every caller simple.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use portcullis_compiler::{Code, Severity};

use super::input::{self, EXIT_FINDINGS, EXIT_INVALID, EXIT_OK};
use crate::cli::{CheckArgs, ReportFormat};
use crate::report::{self, Finding};

/// Codes to drop, by app id (`*` for every app).
type Exceptions = BTreeMap<String, Vec<String>>;

fn read_exceptions(path: &Path) -> Result<Exceptions, Finding> {
    let bytes = input::read_bytes(path)?;
    serde_json::from_slice(&bytes).map_err(|err| {
        Finding::new(
            Code::SyntaxError.to_string(),
            Severity::Error,
            format!("the exceptions file is not a JSON object of code lists: {err}"),
        )
        .with_help("write `{ \"org.example.App\": [\"portcullis::check::duplicate\"] }`")
        .with_file(input::display_name(path))
    })
}

fn excepted(exceptions: &Exceptions, app_id: Option<&str>, code: &str) -> bool {
    let short = code.rsplit("::").next().unwrap_or(code);
    ["*", app_id.unwrap_or("*")]
        .iter()
        .filter_map(|id| exceptions.get(*id))
        .flatten()
        .any(|c| c == code || c == short)
}

/// Runs `check`.
pub fn run(args: CheckArgs) -> ExitCode {
    let Some(fail_on) = Severity::from_name(&args.fail_on) else {
        eprintln!(
            "portcullis: `--fail-on {}` is not a level: use error, warning or info",
            args.fail_on
        );
        return ExitCode::from(EXIT_INVALID);
    };
    if args.format == ReportFormat::Sarif {
        eprintln!(
            "portcullis: `check --format sarif` is not available in this build; use human or json"
        );
        return ExitCode::from(EXIT_INVALID);
    }
    let exceptions = match args.exceptions.as_deref().map(read_exceptions).transpose() {
        Ok(e) => e.unwrap_or_default(),
        Err(finding) => {
            input::eprint_findings(&[finding]);
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let mut all = Vec::new();
    let mut invalid = false;
    for path in &args.inputs {
        match input::load(path) {
            Ok(loaded) => {
                invalid |= loaded.compiled.is_invalid();
                let app_id = loaded
                    .compiled
                    .document
                    .header
                    .as_ref()
                    .and_then(|h| h.id.as_ref())
                    .map(|id| id.value.clone());
                let findings = input::findings(&loaded.compiled.diagnostics);
                all.extend(findings.into_iter().filter(|f| {
                    f.severity == Severity::Error
                        || !excepted(&exceptions, app_id.as_deref(), &f.code)
                }));
            }
            Err(finding) => {
                invalid = true;
                all.push(finding);
            }
        }
    }
    let text = match args.format {
        ReportFormat::Json => report::render_json(&all),
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
