//! Lints on the finish-args view: flatpak-builder-lint's codes, our own codes, and
//! exceptions.
//!
//! * [`fblint`] re-implements every finish-args check of flatpak-builder-lint with the same
//!   codes, so Flathub's exceptions and reviewers' habits carry over;
//! * [`own`] adds the escapes and traps it misses (`portcullis-*` codes);
//! * [`rules`] is the one registry of every rule family (severity, summary, help), used
//!   for messages and for SARIF rule metadata;
//! * [`exceptions`] reads Flathub's `exceptions.json` and our policy-language form.
//!
//! Unlike the linter, every finding keeps the origin of the option that caused it, and
//! findings carry a severity instead of being all errors.
//!
//! Parity with flatpak-builder-lint 3b7a092 is tested code by code on the shared corpus
//! (368 records and 60 verbatim manifests, with and without Flathub's exceptions): the
//! finish-args codes are identical. Deliberate differences, all outside the codes:
//! * one finding per code *and option* (the linter keeps one per code), so each
//!   position is reported; code sets are equal;
//! * `finish-args-not-defined` fires when the input has no permission statement at all;
//!   the linter also fires for a missing key but not for an empty `finish-args: []`, a
//!   difference the importer's document cannot show (no corpus manifest has either);
//! * severities replace "everything is an error", and `:ro` options take the rule's
//!   read-only severity; `check` still treats every linter code as an error;
//! * the linter's own exceptions are not built in: pass Flathub's file with
//!   `--exceptions`.

pub mod exceptions;
pub mod fblint;
pub mod own;
pub mod rules;
pub mod view;

use std::collections::HashSet;

use portcullis_ir::Origin;

pub use exceptions::{Exception, Exceptions, ExceptionsError};
pub use view::{FinishArg, FinishArgs, Subject};

use crate::severity::Severity;

/// One lint finding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The stable code (`finish-args-home-filesystem-access`, `portcullis-x11`).
    pub code: String,
    /// The rule family id (equal to the code unless the code is generated).
    pub rule: &'static str,
    /// How bad it is; `:ro` options get the rule's read-only severity.
    pub severity: Severity,
    /// What was found, for people.
    pub message: String,
    /// What to do instead.
    pub help: &'static str,
    /// Whether flatpak-builder-lint reports the same code.
    pub fblint: bool,
    /// The option that caused it, as written.
    pub option: Option<String>,
    /// Where it was written.
    pub origin: Origin,
    /// The reason of the exception that suppresses it, if any.
    pub suppressed: Option<String>,
}

/// Runs every lint on one input. One finding per code and option (an option repeated
/// with the same code reports once), sorted by position and code.
pub fn lint(view: &FinishArgs) -> Vec<Finding> {
    let mut hits = fblint::check(view);
    hits.extend(own::check(view));
    let mut findings: Vec<Finding> = Vec::new();
    // What was reported already: a set, so that many options stay linear.
    let mut seen: HashSet<(String, Origin, Option<String>)> = HashSet::with_capacity(hits.len());
    for hit in hits {
        if !seen.insert((hit.code.clone(), hit.origin, hit.option.clone())) {
            continue;
        }
        findings.push(finding(hit));
    }
    findings.sort_by(|a, b| {
        (a.origin.source, a.origin.start, &a.code).cmp(&(b.origin.source, b.origin.start, &b.code))
    });
    findings
}

fn finding(hit: fblint::Hit) -> Finding {
    let rule = rules::rule_for(&hit.code);
    let read_only = hit
        .option
        .as_deref()
        .is_some_and(|o| own::split_mode(o).1 == Some("ro"));
    let (id, severity, summary, help, fblint) = match rule {
        Some(r) => (
            r.id,
            if read_only { r.ro_severity } else { r.severity },
            r.summary,
            r.help,
            r.origin == rules::Origin::Fblint,
        ),
        // INVARIANT: every code the checks emit has a family in the registry (tested in
        // `every_emitted_code_has_a_rule`); a missing one still reports, as medium.
        None => ("unknown", Severity::Medium, "", "", false),
    };
    let message = match &hit.option {
        Some(option) => format!("{summary} (`{option}`)"),
        None => summary.to_string(),
    };
    Finding {
        code: hit.code,
        rule: id,
        severity,
        message,
        help,
        fblint,
        option: hit.option,
        origin: hit.origin,
        suppressed: None,
    }
}

/// Raises each finding to the risk of the grant written by the same statement: a
/// `finish-args-unnecessary-xdg-data-flatpak-create-access` on
/// `xdg-data/flatpak/overrides:create` is an escape, so it is critical.
pub fn apply_risk(findings: &mut [Finding], assessment: &crate::risk::Assessment) {
    for f in findings.iter_mut() {
        if let Some(risk) = assessment
            .paths
            .iter()
            .filter(|p| p.origin == f.origin)
            .map(|p| p.severity)
            .max()
        {
            f.severity = f.severity.max(risk);
        }
    }
}

/// Marks the findings an exception covers and returns the stale exceptions of the app.
pub fn apply_exceptions<'a>(
    findings: &mut [Finding],
    app_id: &str,
    exceptions: &'a Exceptions,
) -> Vec<&'a Exception> {
    for f in findings.iter_mut() {
        if let Some(e) = exceptions.find(app_id, &f.code) {
            f.suppressed = Some(e.reason.clone());
        }
    }
    let active: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    exceptions.stale(app_id, &active)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_emitted_code_has_a_rule_and_read_only_lowers_severity() {
        let args = [
            "--filesystem=home:ro",
            "--filesystem=~/.config/autostart:ro",
            "--filesystem=xdg-config/autostart",
            "--socket=x11",
            "--device=all",
            "--talk-name=org.freedesktop.Flatpak",
            "--own-name=org.foo.*",
            "--filesystem=xdg-data/flatpak:ro",
        ];
        let view = FinishArgs::from_strings(Some("a.b.C"), &args, Origin::default());
        let findings = lint(&view);
        assert!(
            findings.iter().all(|f| f.rule != "unknown"),
            "{findings:#?}"
        );
        let sev = |code: &str| findings.iter().find(|f| f.code == code).map(|f| f.severity);
        assert_eq!(
            sev("finish-args-autostart-filesystem-access"),
            Some(Severity::Low)
        );
        assert_eq!(sev("portcullis-autostart-write"), Some(Severity::Critical));
        assert_eq!(
            sev("finish-args-flatpak-spawn-access"),
            Some(Severity::Critical)
        );
        assert_eq!(sev("portcullis-flatpak-overrides-write"), None, "read-only");
    }

    #[test]
    fn exceptions_suppress_and_stale_ones_are_returned() {
        let view =
            FinishArgs::from_strings(Some("a.b.C"), &["--filesystem=home"], Origin::default());
        let mut findings = lint(&view);
        let ex = Exceptions::parse(
            r#"{"a.b.C": {"stable": {"finish-args-home-filesystem-access": "why", "finish-args-x11-without-ipc": "old", "appstream-missing-screenshots": "n/a"}}}"#,
        )
        .unwrap();
        let stale = apply_exceptions(&mut findings, "a.b.C", &ex);
        assert_eq!(findings[0].suppressed.as_deref(), Some("why"));
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].code, "finish-args-x11-without-ipc");
    }
}
