//! `portcullis verify BLOB [--policy INPUT] [--trust PATH]... [--format human|json|sarif]`: translation
//! validation of a compiled blob against the policy it should mean (the policy recorded in
//! the blob unless `--policy` names one).
//!
//! Each section is checked by the verifier, never by the backend that produced it. The
//! seccomp section gets the static checks and translation validation over every syscall
//! number and argument partition; the D-Bus section is re-read as xdg-dbus-proxy reads it;
//! the identity, the namespaces, the mount plan and the cross-backend consistency have
//! their checks in [`sections`]. Further sections add their checker to [`section_checks`].
//! Exit code 0 when every check passed, 1 on findings, 2 when the blob or the policy cannot
//! be read.

use std::path::Path;
use std::process::ExitCode;

use portcullis_blob::{Arch as BlobArch, Blob};
use portcullis_compiler::Severity;
use portcullis_ir::seccomp::{Arch, Features};
use portcullis_ir::Policy;
use portcullis_verifier::bpf::validate::Mismatch;
use portcullis_verifier::bpf::{decode, validate};

use super::input::{self, EXIT_FINDINGS, EXIT_INVALID, EXIT_OK};
use crate::cli::{ReportFormat, VerifyArgs};
use crate::report::{self, Finding};

#[path = "verify_sections.rs"]
mod sections;

/// How many seccomp mismatches are listed one by one; the rest are counted.
const MISMATCHES_LISTED: usize = 20;

/// What one section's check found, and a one-line summary of what it covered.
pub struct SectionResult {
    /// The section's name.
    pub section: &'static str,
    /// What was checked (for the human report).
    pub summary: String,
    /// What is wrong.
    pub findings: Vec<Finding>,
}

/// The checks run on a decoded blob, in order. A new section's checker is one more entry.
fn section_checks() -> Vec<fn(&Blob, &Policy) -> SectionResult> {
    vec![
        sections::identity,
        sections::namespaces,
        sections::mount_plan,
        seccomp,
        sections::consistency,
        sections::device_nodes,
        super::verify_dbus::dbus,
    ]
}

/// `verify`.
pub fn run(args: VerifyArgs) -> ExitCode {
    let bytes = match input::read_blob_bytes(&args.blob) {
        Ok(bytes) => bytes,
        Err(finding) => {
            input::eprint_findings(std::slice::from_ref(&finding));
            return input::stop_report(args.format, &[finding]);
        }
    };
    let name = input::display_name(&args.blob);
    let blob = match Blob::decode(&bytes) {
        Ok(blob) => blob,
        Err(err) => {
            eprintln!("error: `{name}` is not a valid blob: {err}");
            let finding = finding(
                "invalid-blob",
                format!("`{name}` is not a valid blob: {err}"),
                "compile the policy again with `portcullis compile`",
            )
            .with_file(name.clone());
            return input::stop_report(args.format, &[finding]);
        }
    };
    let policy = match load_policy(&blob, args.policy.as_deref(), &name) {
        Ok(policy) => policy,
        // The reason is on stderr already (exit 2).
        Err(_) => return input::stop_report(args.format, &[]),
    };
    let mut results: Vec<SectionResult> = section_checks()
        .into_iter()
        .map(|check| check(&blob, &policy))
        .collect();
    results.push(signature(&bytes, &args.trust));
    let findings: Vec<Finding> = results.iter().flat_map(|r| r.findings.clone()).collect();
    let text = match args.format {
        ReportFormat::Human => human(&results, &name),
        ReportFormat::Json => report::render_json(&findings),
        ReportFormat::Sarif => sarif(&findings),
    };
    print!("{text}");
    if findings.iter().any(|f| f.at_least(Severity::Error)) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::from(EXIT_OK)
    }
}

/// The signature: reported always; with `--trust`, a blob those keys (and the ones
/// trusted here) do not vouch for is a finding.
fn signature(bytes: &[u8], trust: &[std::path::PathBuf]) -> SectionResult {
    let mut findings = Vec::new();
    let summary = match super::keys::status(bytes, trust) {
        Ok(status) => {
            if !trust.is_empty() && !status.vouched {
                findings.push(finding(
                    "signature",
                    status.summary.clone(),
                    "sign the blob with a trusted key: `portcullis compile INPUT -o BLOB --sign KEY`",
                ));
            }
            status.summary
        }
        Err(err) => {
            findings.push(finding(
                "signature",
                err.clone(),
                "`--trust` takes a public-key file or a directory of *.pub keys",
            ));
            err
        }
    };
    SectionResult {
        section: "signature",
        summary,
        findings,
    }
}

fn load_policy(blob: &Blob, path: Option<&Path>, name: &str) -> Result<Policy, ExitCode> {
    match path {
        Some(path) => input::policy(path).map(|(_, policy, _)| policy),
        None => serde_json::from_slice(&blob.policy).map_err(|err| {
            eprintln!("error: the policy recorded in `{name}` cannot be read: {err}");
            eprintln!("  help: pass the policy with `--policy INPUT`");
            ExitCode::from(EXIT_INVALID)
        }),
    }
}

fn finding(code: &str, message: String, help: &str) -> Finding {
    Finding::new(
        format!("portcullis::verify::{code}"),
        Severity::Error,
        message,
    )
    .with_help(help)
}

/// The seccomp section: static checks, then translation validation.
fn seccomp(blob: &Blob, policy: &Policy) -> SectionResult {
    let target = match blob.arch {
        BlobArch::X86_64 => Arch::X86_64,
        BlobArch::Aarch64 => Arch::Aarch64,
    };
    let features = Features::from_policy(policy);
    let bytes: Vec<u8> = blob.seccomp.iter().flat_map(|i| i.to_bytes()).collect();
    let mut findings = Vec::new();
    // INVARIANT: the blob holds whole 8-byte records.
    let program = decode(&bytes).expect("whole records");
    if program.is_empty() {
        findings.push(finding(
            "seccomp-missing",
            "the blob carries no seccomp filter".into(),
            "recompile the policy with `portcullis compile`",
        ));
        return SectionResult {
            section: "seccomp",
            summary: "no program".into(),
            findings,
        };
    }
    let report = validate(&program, features, target);
    for f in &report.findings {
        findings.push(finding(
            "seccomp-static",
            f.to_string(),
            "the program is malformed; recompile the policy",
        ));
    }
    for m in report.mismatches.iter().take(MISMATCHES_LISTED) {
        findings.push(finding(
            "seccomp-mismatch",
            mismatch_line(m),
            "the filter does not mean what the policy says; recompile it",
        ));
    }
    let listed = report.mismatches.len().min(MISMATCHES_LISTED) as u64;
    if report.mismatch_count > listed {
        findings.push(finding(
            "seccomp-mismatch",
            format!(
                "… and {} more probes where the filter and the policy disagree",
                report.mismatch_count - listed
            ),
            "the filter does not mean what the policy says; recompile it",
        ));
    }
    SectionResult {
        section: "seccomp",
        summary: format!(
            "{} instructions for {target}, {} probes against the policy's decision",
            program.len(),
            report.probes
        ),
        findings,
    }
}

/// One mismatch on one line: syscall, architecture, arguments in hex, expected and got.
fn mismatch_line(m: &Mismatch) -> String {
    let arch = Arch::from_audit(m.arch)
        .map(|a| a.name().to_string())
        .unwrap_or_else(|| format!("arch {:#010x}", m.arch));
    let name = match m.syscall {
        Some(name) => format!("{name} (nr {})", m.nr),
        None => format!("syscall nr {}", m.nr),
    };
    let args: Vec<String> = m.args.iter().map(|a| format!("{a:#x}")).collect();
    format!(
        "{name} on {arch} with args ({}): expected {}, got {}",
        args.join(", "),
        m.expected,
        m.got
    )
}

fn human(results: &[SectionResult], name: &str) -> String {
    let mut out = String::new();
    for r in results {
        let verdict = if r.findings.is_empty() {
            "ok"
        } else {
            "FAILED"
        };
        out.push_str(&format!(
            "{name}: {}: {verdict} ({})\n",
            r.section, r.summary
        ));
        for f in &r.findings {
            out.push_str(&format!("  {}: {}\n", f.code, f.message));
        }
    }
    out
}

/// A minimal SARIF 2.1.0 log of the findings.
fn sarif(findings: &[Finding]) -> String {
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": f.code,
                "level": "error",
                "message": {"text": f.message},
            })
        })
        .collect();
    let log = serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "portcullis verify"}},
            "results": results,
        }],
    });
    // INVARIANT: a `serde_json::Value` always serialises.
    format!("{}\n", serde_json::to_string_pretty(&log).expect("json"))
}
