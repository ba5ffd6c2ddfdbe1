//! Findings a new-user trial missed or got wrong, end to end through the `portcullis`
//! binary: grants that come in through `include`, lints next to an invalid value, X11
//! with a Wayland alternative, and the overrides Flatpak hides under `filesystem host`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::executor::workspace_bin;

fn portcullis(dir: &Path, args: &[&str]) -> Output {
    Command::new(workspace_bin("portcullis"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("portcullis runs")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write the input");
}

/// `check --format json`: the exit code and every finding's (code, severity, file, line).
fn check(dir: &Path, input: &str) -> (i32, Vec<(String, String, String, u64)>) {
    let out = portcullis(dir, &["check", input, "--format", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let findings = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), findings)
}

fn codes(findings: &[(String, String, String, u64)]) -> Vec<(String, String)> {
    let mut out: Vec<_> = findings
        .iter()
        .map(|(c, s, _, _)| (c.clone(), s.clone()))
        .collect();
    out.sort();
    out
}

#[test]
fn check_lints_included_grants_as_if_written_inline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let grants = "  filesystem host\n  talk-name org.freedesktop.Flatpak\n";
    write(
        dir.path(),
        "frag.policy",
        &format!("fragment {{\n{grants}}}\n"),
    );
    write(
        dir.path(),
        "incf.policy",
        "app x.y.Z {\n  include \"frag.policy\"\n}\n",
    );
    write(
        dir.path(),
        "inline.policy",
        &format!("app x.y.Z {{\n{grants}}}\n"),
    );
    let (inline_rc, inline) = check(dir.path(), "inline.policy");
    let (included_rc, included) = check(dir.path(), "incf.policy");
    assert_eq!(inline_rc, 1, "{inline:?}");
    assert_eq!(included_rc, 1, "{included:?}");
    assert_eq!(codes(&included), codes(&inline));
    assert_eq!(
        inline.iter().filter(|f| f.1 == "error").count(),
        2,
        "{inline:?}"
    );
    let spawn = included
        .iter()
        .find(|f| f.0 == "finish-args-flatpak-spawn-access")
        .expect("the included talk-name is linted");
    assert!(spawn.2.ends_with("frag.policy"), "{spawn:?}");
    assert_eq!(spawn.3, 3, "the line in the included file");
}

#[test]
fn an_invalid_value_does_not_hide_the_other_statements_risks() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "typo.policy",
        "app x.y.Z {\n  socket wayladn\n  own-name org.freedesktop.*\n}\n",
    );
    let (rc, findings) = check(dir.path(), "typo.policy");
    assert_eq!(rc, 2, "still invalid: {findings:?}");
    assert!(
        findings
            .iter()
            .any(|f| f.0 == "portcullis::check::unknown-value" && f.3 == 2),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.0 == "finish-args-own-name-wildcard-org.freedesktop"
                && f.1 == "error"
                && f.3 == 3),
        "the escape is reported as critical: {findings:?}"
    );

    write(
        dir.path(),
        "bad.metadata",
        "[Application]\nname=x.y.Z\n\n[Session Bus Policy]\norg..bad=talk\norg.freedesktop.Flatpak=talk\n",
    );
    let (rc, findings) = check(dir.path(), "bad.metadata");
    assert_eq!(rc, 2, "{findings:?}");
    assert!(
        findings
            .iter()
            .any(|f| f.0 == "finish-args-flatpak-spawn-access" && f.1 == "error" && f.3 == 6),
        "{findings:?}"
    );
}

#[test]
fn x11_with_wayland_is_not_reported_as_without_a_wayland_alternative() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "x.policy",
        "app x.y.Z {\n  socket x11\n  socket wayland\n}\n",
    );
    write(dir.path(), "only.policy", "app x.y.Z {\n  socket x11\n}\n");
    let (_, both) = check(dir.path(), "x.policy");
    assert!(both.iter().all(|f| f.0 != "portcullis-x11"), "{both:?}");
    assert!(
        both.iter()
            .any(|f| f.0 == "finish-args-contains-both-x11-and-wayland"),
        "{both:?}"
    );
    let (_, only) = check(dir.path(), "only.policy");
    assert!(only.iter().any(|f| f.0 == "portcullis-x11"), "{only:?}");
}

#[test]
fn audit_of_host_and_home_does_not_claim_the_hidden_overrides() {
    let dir = tempfile::tempdir().expect("temp dir");
    for key in ["host", "home"] {
        let name = format!("{key}.yaml");
        write(
            dir.path(),
            &name,
            &format!("id: x.y.Z\nfinish-args:\n  - --filesystem={key}\n"),
        );
        for format in ["human", "json", "dot"] {
            let out = portcullis(dir.path(), &["audit", &name, "--format", format]);
            assert!(out.status.success(), "{key} {format}");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                !text.contains(".local/share/flatpak"),
                "{key} {format}: Flatpak hides ~/.local/share/flatpak: {text}"
            );
        }
        let out = portcullis(dir.path(), &["audit", &name, "--format", "json"]);
        let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        let escapes = report["escapes"].as_array().expect("escapes");
        assert_eq!(
            escapes.len(),
            1,
            "autostart and shell files remain: {report}"
        );
    }
}
