//! SARIF 2.1.0 output for `check` and `diff`, ready for GitHub code scanning.
//!
//! One run per invocation: the tool with its rule metadata (id, short and full
//! description, help text and URI, default level, `security-severity`), and one result
//! per finding with its `ruleId`, level, message, physical location (file, start and end
//! line and column, in Unicode code points), a stable fingerprint, and — for findings an
//! exceptions file covers — an external suppression with the exception's reason.
//!
//! Every failure that stops a run (an input that cannot be read or that Flatpak would
//! refuse, a bad option) is also a `toolExecutionNotifications` entry of the run's one
//! invocation, whose `executionSuccessful` is then false: a CI job that fails says why.
//!
//! Fingerprints hash the rule id, the code, the file and the option text, not the line,
//! so moving a statement does not make code scanning report it as new.

use portcullis_ir::Origin;
use portcullis_verifier::{diff, lint};
use serde_json::{json, Value};

/// One rule as SARIF reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The `ruleId` results refer to.
    pub id: String,
    /// One line.
    pub short: String,
    /// What to do.
    pub help: String,
    /// Documentation, when there is a public page.
    pub help_uri: Option<String>,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    /// GitHub's `security-severity` (0.0–10.0), for security findings.
    pub security_severity: Option<f32>,
}

/// Where a result is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file as given on the command line.
    pub file: String,
    /// 1-based start line.
    pub line: usize,
    /// 1-based start column (code points).
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based end column, exclusive.
    pub end_column: usize,
}

/// One result.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The rule it belongs to.
    pub rule_id: String,
    /// The full code (equal to the rule id unless generated, e.g. `finish-args-own-name-org.x`).
    pub code: String,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    /// What was found.
    pub message: String,
    /// Where, when known.
    pub location: Option<Location>,
    /// Text that identifies the finding independently of its line (the option as written).
    pub anchor: String,
    /// The exception's reason, when an exceptions file covers the finding.
    pub suppressed: Option<String>,
}

/// A notification about the run itself (see [`Invocation`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// The code of the failure (`portcullis::input::read-error`).
    pub code: String,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    /// What happened.
    pub message: String,
    /// The file it is about, when there is one.
    pub file: Option<String>,
}

/// How the run went: SARIF's `invocations[0]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// False when a failure stopped the run (exit 2).
    pub successful: bool,
    /// Why, and anything else about the run.
    pub notifications: Vec<Notification>,
}

impl Default for Invocation {
    fn default() -> Invocation {
        Invocation {
            successful: true,
            notifications: Vec::new(),
        }
    }
}

/// FNV-1a, 64 bits: a small, stable, dependency-free hash for fingerprints.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// A repository-relative URI for a path (forward slashes, no leading `./`).
fn uri(file: &str) -> String {
    let file = file.replace('\\', "/");
    file.strip_prefix("./").unwrap_or(&file).to_string()
}

/// The SARIF log as pretty JSON, for a run that went through.
pub fn render(rules: &[Rule], findings: &[Finding]) -> String {
    render_run(rules, findings, &Invocation::default())
}

/// The SARIF log as pretty JSON, with how the run went.
pub fn render_run(rules: &[Rule], findings: &[Finding], invocation: &Invocation) -> String {
    let rule_index = |id: &str| rules.iter().position(|r| r.id == id);
    let rules_json: Vec<Value> = rules
        .iter()
        .map(|r| {
            let mut rule = json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.short },
                "fullDescription": { "text": r.short },
                "help": { "text": r.help },
                "defaultConfiguration": { "level": r.level },
                "properties": { "tags": ["security"] },
            });
            if let Some(uri) = &r.help_uri {
                rule["helpUri"] = json!(uri);
            }
            if let Some(s) = r.security_severity {
                rule["properties"]["security-severity"] = json!(format!("{s:.1}"));
            }
            rule
        })
        .collect();
    let mut artifacts: Vec<String> = findings
        .iter()
        .filter_map(|f| f.location.as_ref().map(|l| uri(&l.file)))
        .collect();
    artifacts.sort();
    artifacts.dedup();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": f.level,
                "message": { "text": f.message },
                "partialFingerprints": {
                    "portcullisFindingHash/v1": fingerprint(&[
                        &f.rule_id,
                        &f.code,
                        f.location.as_ref().map(|l| l.file.as_str()).unwrap_or(""),
                        &f.anchor,
                    ]),
                },
                "properties": { "code": f.code },
            });
            if let Some(i) = rule_index(&f.rule_id) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(l) = &f.location {
                let file = uri(&l.file);
                let mut artifact = json!({ "uri": file });
                if let Some(i) = artifacts.iter().position(|a| *a == file) {
                    artifact["index"] = json!(i);
                }
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": {
                            "startLine": l.line,
                            "startColumn": l.column,
                            "endLine": l.end_line,
                            "endColumn": l.end_column,
                        },
                    },
                }]);
            }
            if let Some(reason) = &f.suppressed {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": reason,
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "portcullis",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://docs.flathub.org/linter",
                    "rules": rules_json,
                },
            },
            "invocations": [invocation_json(invocation)],
            "columnKind": "unicodeCodePoints",
            "artifacts": artifacts.iter().map(|a| json!({ "location": { "uri": a } })).collect::<Vec<_>>(),
            "results": results,
        }],
    });
    // INVARIANT: the log is built from strings and numbers only; serialising cannot fail.
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

fn invocation_json(invocation: &Invocation) -> Value {
    let notifications: Vec<Value> = invocation
        .notifications
        .iter()
        .map(|n| {
            let mut note = json!({
                "level": n.level,
                "message": { "text": n.message },
                "descriptor": { "id": n.code },
            });
            if let Some(file) = &n.file {
                note["locations"] = json!([{
                    "physicalLocation": { "artifactLocation": { "uri": uri(file) } },
                }]);
            }
            note
        })
        .collect();
    json!({
        "executionSuccessful": invocation.successful,
        "toolExecutionNotifications": notifications,
    })
}

/// The SARIF level of one of our severities: critical and high are errors, medium and
/// low warnings, info a note.
pub fn level(severity: portcullis_verifier::Severity) -> &'static str {
    use portcullis_verifier::Severity as S;
    match severity {
        S::Critical | S::High => "error",
        S::Medium | S::Low => "warning",
        S::Info => "note",
    }
}

/// GitHub's `security-severity` score for one of our severities.
pub fn security_severity(severity: portcullis_verifier::Severity) -> f32 {
    use portcullis_verifier::Severity as S;
    match severity {
        S::Critical => 9.5,
        S::High => 7.5,
        S::Medium => 5.0,
        S::Low => 2.0,
        S::Info => 0.0,
    }
}

/// Rules and results gathered over many inputs, rendered once.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// Every rule a result refers to, in first-use order.
    pub rules: Vec<Rule>,
    /// Every result, in input order.
    pub results: Vec<Finding>,
    /// How the run went.
    pub invocation: Invocation,
}

impl Log {
    /// Adds a rule unless one with the same id is there.
    pub fn add_rule(&mut self, rule: Rule) {
        if !self.rules.iter().any(|r| r.id == rule.id) {
            self.rules.push(rule);
        }
    }

    /// Adds lint findings with their rules.
    pub fn add_lints(
        &mut self,
        findings: &[lint::Finding],
        locate: impl Fn(Origin) -> Option<Location>,
    ) {
        let (rules, results) = from_lint(findings, locate);
        for rule in rules {
            self.add_rule(rule);
        }
        self.results.extend(results);
    }

    /// Records a failure that stops the run (the exit status will be 2).
    pub fn fail(&mut self, code: &str, message: &str, file: Option<&str>) {
        self.invocation.successful = false;
        self.invocation.notifications.push(Notification {
            code: code.to_string(),
            level: "error",
            message: message.to_string(),
            file: file.map(str::to_string),
        });
    }

    /// The SARIF log.
    pub fn render(&self) -> String {
        render_run(&self.rules, &self.results, &self.invocation)
    }
}

/// The SARIF rule of a lint family, from the registry.
pub fn lint_rule(rule: &lint::rules::Rule) -> Rule {
    Rule {
        id: rule.id.to_string(),
        short: rule.summary.to_string(),
        help: rule.help.to_string(),
        help_uri: lint::rules::help_uri(rule),
        level: level(rule.severity),
        security_severity: Some(security_severity(rule.severity)),
    }
}

/// Lint findings as SARIF results, with the rules they use; `locate` turns an origin into
/// a position.
pub fn from_lint(
    findings: &[lint::Finding],
    locate: impl Fn(Origin) -> Option<Location>,
) -> (Vec<Rule>, Vec<Finding>) {
    let mut rules: Vec<Rule> = Vec::new();
    let mut results = Vec::new();
    for f in findings {
        if !rules.iter().any(|r| r.id == f.rule) {
            if let Some(rule) = lint::rules::RULES.iter().find(|r| r.id == f.rule) {
                rules.push(lint_rule(rule));
            }
        }
        results.push(Finding {
            rule_id: f.rule.to_string(),
            code: f.code.clone(),
            level: level(f.severity),
            message: format!("{}: {}", f.code, f.message),
            location: locate(f.origin),
            anchor: f.option.clone().unwrap_or_default(),
            suppressed: f.suppressed.clone(),
        });
    }
    (rules, results)
}

/// A semantic diff as SARIF: new escapes and escalations as errors or warnings (at the
/// change's risk), reductions as notes, each located in the file its statement is in.
pub fn from_diff(
    d: &diff::Diff,
    old: impl Fn(Origin) -> Option<Location>,
    new: impl Fn(Origin) -> Option<Location>,
) -> String {
    let rule = |id: &str, short: &str, level, sev| Rule {
        id: id.into(),
        short: short.into(),
        help: "review the change; exit status 1 when its risk is at or above `--fail-on`".into(),
        help_uri: None,
        level,
        security_severity: Some(sev),
    };
    let rules = vec![
        rule(
            "portcullis-diff-escalation",
            "the new policy grants more",
            "error",
            7.5,
        ),
        rule(
            "portcullis-diff-new-escape",
            "the new policy has a known escape the old one had not",
            "error",
            9.5,
        ),
        rule(
            "portcullis-diff-reduction",
            "the new policy grants less",
            "note",
            0.0,
        ),
    ];
    let mut findings = Vec::new();
    for p in &d.escapes_added {
        findings.push(Finding {
            rule_id: "portcullis-diff-new-escape".into(),
            code: "portcullis-diff-new-escape".into(),
            level: "error",
            message: format!("known escape found via `{}`: {}", p.grant, p.chain_text()),
            location: new(p.origin),
            anchor: p.grant.clone(),
            suppressed: None,
        });
    }
    for c in d.changes.iter().filter(|c| c.class != diff::Class::Neutral) {
        let escalation = c.class == diff::Class::Escalation;
        let id = if escalation {
            "portcullis-diff-escalation"
        } else {
            "portcullis-diff-reduction"
        };

        findings.push(Finding {
            rule_id: id.into(),
            code: id.into(),
            level: if escalation {
                level(c.gate_level().unwrap_or(portcullis_verifier::Severity::Low))
            } else {
                "note"
            },
            message: format!(
                "{} `{}`: {} → {} (risk {} → {})",
                c.class.name(),
                c.item,
                c.old.as_deref().unwrap_or("absent"),
                c.new.as_deref().unwrap_or("absent"),
                risk_word(c.risk_before),
                risk_word(c.risk_after)
            ),
            location: c
                .origin
                .and_then(|o| if c.in_new { new(o) } else { old(o) }),
            anchor: c.item.clone(),
            suppressed: None,
        });
    }
    render(&rules, &findings)
}

fn risk_word(s: Option<portcullis_verifier::Severity>) -> &'static str {
    s.map(|s| s.name()).unwrap_or("none")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_separate_parts() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        assert_eq!(fingerprint(&[]), "cbf29ce484222325");
    }

    #[test]
    fn results_point_at_rules_and_files() {
        let rules = [Rule {
            id: "r".into(),
            short: "s".into(),
            help: "h".into(),
            help_uri: None,
            level: "error",
            security_severity: Some(9.5),
        }];
        let findings = [Finding {
            rule_id: "r".into(),
            code: "r".into(),
            level: "error",
            message: "m".into(),
            location: Some(Location {
                file: "./a/b.json".into(),
                line: 3,
                column: 5,
                end_line: 3,
                end_column: 9,
            }),
            anchor: "--x".into(),
            suppressed: Some("why".into()),
        }];
        let log: Value = serde_json::from_str(&render(&rules, &findings)).unwrap();
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["ruleIndex"], 0);
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "a/b.json"
        );
        assert_eq!(result["suppressions"][0]["justification"], "why");
        assert_eq!(
            log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"],
            "9.5"
        );
        assert_eq!(
            log["runs"][0]["invocations"][0]["executionSuccessful"],
            true
        );
    }

    #[test]
    fn a_failed_run_says_why() {
        let mut failed = Log::default();
        failed.fail("c", "`x` is not UTF-8 text", Some("./x"));
        let log: Value = serde_json::from_str(&failed.render()).unwrap();
        let invocation = &log["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        let note = &invocation["toolExecutionNotifications"][0];
        assert_eq!(note["level"], "error");
        assert_eq!(note["message"]["text"], "`x` is not UTF-8 text");
        assert_eq!(note["descriptor"]["id"], "c");
        assert_eq!(
            note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "x"
        );
    }
}
