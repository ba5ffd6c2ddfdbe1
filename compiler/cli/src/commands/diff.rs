//! `portcullis diff OLD NEW [--format human|json|sarif] [--fail-on LEVEL]`: the semantic
//! permission diff.
//!
//! Both inputs are compiled and compared after normalisation ([`portcullis_verifier::diff`]);
//! each change is an escalation, a reduction or neutral, with the item's risk before and
//! after and Flatpak's own verdict. Exit 1 when an escalation's risk is at or above
//! `--fail-on` (default `low`; a new escape counts as critical), 2 on invalid input,
//! else 0.

use std::process::ExitCode;

use portcullis_verifier::diff::{self, Class, Diff};
use portcullis_verifier::Severity;
use serde_json::json;

use super::audit::Sources;
use super::input::{self, EXIT_FINDINGS, EXIT_INVALID, EXIT_OK};
use crate::cli::{DiffArgs, ReportFormat};
use crate::sarif;

fn risk(s: Option<Severity>) -> &'static str {
    s.map(|s| s.name()).unwrap_or("none")
}

fn human(d: &Diff, old: &str, new: &str) -> String {
    let (e, r, n) = d.counts();
    let mut out = format!("diff {old} → {new}: {e} escalation(s), {r} reduction(s), {n} neutral\n");
    out.push_str(&format!(
        "overall risk: {} → {}; Flatpak would {}ask for new permissions\n",
        risk(d.risk_before),
        risk(d.risk_after),
        if d.flatpak_adds_permissions() {
            ""
        } else {
            "not "
        }
    ));
    for p in &d.escapes_added {
        out.push_str(&format!(
            "  NEW ESCAPE known escape found via `{}`: {}\n",
            p.grant,
            p.chain_text()
        ));
    }
    for p in &d.escapes_removed {
        out.push_str(&format!("  escape removed: `{}`\n", p.grant));
    }
    for c in &d.changes {
        let sign = match c.class {
            Class::Escalation => "+",
            Class::Reduction => "-",
            Class::Neutral => "=",
        };
        out.push_str(&format!(
            "  {sign} {:<10} {:<45} {} → {}  (risk {} → {})\n",
            c.class.name(),
            c.item,
            c.old.as_deref().unwrap_or("absent"),
            c.new.as_deref().unwrap_or("absent"),
            risk(c.risk_before),
            risk(c.risk_after),
        ));
        if let Some(note) = &c.note {
            out.push_str(&format!("      {note}\n"));
        }
    }
    out
}

/// Runs `diff`.
pub fn run(args: DiffArgs) -> ExitCode {
    let Some(fail_on) = Severity::from_name(&args.fail_on) else {
        eprintln!(
            "portcullis: `--fail-on {}` is not a level: use critical, high, medium, low or info",
            crate::report::bounded(&args.fail_on)
        );
        return ExitCode::from(EXIT_INVALID);
    };
    let (old_file, old, _) = match input::policy_or_errors(&args.old) {
        Ok(x) => x,
        Err(errors) => return input::stop_report(args.format, &errors),
    };
    let (new_file, new, _) = match input::policy_or_errors(&args.new) {
        Ok(x) => x,
        Err(errors) => return input::stop_report(args.format, &errors),
    };
    let d = diff::diff(&old, &new);
    let (old_name, new_name) = (
        input::display_name(&args.old),
        input::display_name(&args.new),
    );
    let text = match args.format {
        ReportFormat::Human => human(&d, &old_name, &new_name),
        ReportFormat::Json => {
            let value = json!({
                "old": old_name,
                "new": new_name,
                "risk_before": d.risk_before,
                "risk_after": d.risk_after,
                "flatpak_adds_permissions": d.flatpak_adds_permissions(),
                "max_escalation": d.max_escalation(),
                "escapes_added": d.escapes_added,
                "escapes_removed": d.escapes_removed,
                "changes": d.changes,
            });
            // INVARIANT: a JSON value always serialises.
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        ReportFormat::Sarif => {
            let (old_sources, new_sources) = (
                Sources::new(&old_file, Some(&old)),
                Sources::new(&new_file, Some(&new)),
            );
            sarif::from_diff(&d, |o| old_sources.locate(o), |o| new_sources.locate(o))
        }
    };
    let printed = input::emit(None, text.as_bytes());
    if printed != ExitCode::from(EXIT_OK) {
        return printed;
    }
    match d.max_escalation() {
        Some(level) if level >= fail_on => ExitCode::from(EXIT_FINDINGS),
        _ => ExitCode::from(EXIT_OK),
    }
}

#[cfg(test)]
mod tests {
    use portcullis_compiler::{compile, Options};
    use portcullis_syntax::SourceFile;

    use super::*;

    fn load(name: &str, text: &str) -> (SourceFile, portcullis_ir::Policy) {
        let file = SourceFile::new(name, text);
        let policy = compile(&file, &Options::default())
            .policy
            .expect("compiles");
        (file, policy)
    }

    #[test]
    fn diff_sarif_points_into_the_right_file() {
        let (of, old) = load(
            "old.json",
            r#"{"id": "a.b.C", "finish-args": ["--share=ipc", "--filesystem=home"]}"#,
        );
        let (nf, new) = load(
            "new.json",
            r#"{"id": "a.b.C", "finish-args": ["--share=ipc", "--talk-name=org.freedesktop.Flatpak"]}"#,
        );
        let d = diff::diff(&old, &new);
        let (os, ns) = (Sources::new(&of, Some(&old)), Sources::new(&nf, Some(&new)));
        let log: serde_json::Value =
            serde_json::from_str(&sarif::from_diff(&d, |o| os.locate(o), |o| ns.locate(o)))
                .expect("json");
        let results = log["runs"][0]["results"].as_array().expect("results");
        let uri = |rule: &str| {
            results
                .iter()
                .find(|r| r["ruleId"] == rule)
                .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone())
        };
        assert_eq!(uri("portcullis-diff-new-escape"), Some("new.json".into()));
        assert_eq!(uri("portcullis-diff-reduction"), Some("old.json".into()));
        assert_eq!(d.max_escalation(), Some(Severity::Critical));
        assert!(human(&d, "old.json", "new.json").contains("NEW ESCAPE known escape found via"));
    }
}
