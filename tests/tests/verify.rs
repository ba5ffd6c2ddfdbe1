//! `portcullis verify` end to end, through the real binary: a blob compiled from a policy
//! verifies against it (every stock policy), a blob that grants more than the policy fails
//! in each section that differs (identity, namespaces, mount plan, seccomp), a seccomp
//! mismatch is one readable line and the listing is capped; and a zero-byte or garbled
//! `*.blob` is refused by `verify`, `explain` and `run` alike instead of being read as an
//! empty policy.
//!
//! Uses the binaries from the target directory: `cargo build --workspace --bins` first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `portcullis` binary next to this test binary (`<target>/<profile>/deps/..`).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = profile_dir.join("portcullis");
    assert!(
        path.exists(),
        "`{}` is missing: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

fn portcullis(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("portcullis starts")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-verify-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

const BIG: &str = "app com.example.Big {\n    filesystem host\n    device all\n    share network\n    socket x11\n}\n";

/// Compiles `policy` (text) into `name.blob` in `dir`.
fn compile(dir: &Path, name: &str, policy: &str) -> PathBuf {
    let source = dir.join(format!("{name}.policy"));
    std::fs::write(&source, policy).expect("write policy");
    let blob = dir.join(format!("{name}.blob"));
    let out = portcullis(
        dir,
        &[
            "compile",
            source.to_str().expect("utf-8"),
            "-o",
            blob.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "compile: {}", stderr(&out));
    blob
}

#[test]
fn every_stock_policy_verifies_against_its_own_blob() {
    let dir = scratch("stock");
    let root = repo_root().join("policies");
    let mut inputs = vec![root.join("flatpak-default.policy")];
    for sub in ["examples", "runtimes"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(sub))
            .expect("policies")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "policy"))
            .collect();
        files.sort();
        inputs.extend(files);
    }
    for (i, input) in inputs.iter().enumerate() {
        let blob = dir.join(format!("{i}.blob"));
        let out = portcullis(
            &root,
            &[
                "compile",
                input.to_str().expect("utf-8"),
                "-o",
                blob.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            input.display(),
            stderr(&out)
        );
        for policy in [None, Some(input)] {
            let mut args = vec!["verify", blob.to_str().expect("utf-8")];
            if let Some(policy) = policy {
                args.extend(["--policy", policy.to_str().expect("utf-8")]);
            }
            let out = portcullis(&root, &args);
            let text = stdout(&out);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}:\n{text}{}",
                input.display(),
                stderr(&out)
            );
            for section in [
                "identity",
                "namespaces",
                "mounts",
                "seccomp",
                "consistency",
                "dbus",
            ] {
                assert!(
                    text.contains(&format!(": {section}: ok")),
                    "{section} missing:\n{text}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_blob_granting_more_than_the_policy_fails_verification() {
    let dir = scratch("big");
    let blob = compile(&dir, "big", BIG);
    let small = dir.join("small.policy");
    std::fs::write(&small, "app com.example.Big {\n}\n").expect("write");
    let out = portcullis(
        &dir,
        &[
            "verify",
            blob.to_str().expect("utf-8"),
            "--policy",
            small.to_str().expect("utf-8"),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("namespaces: FAILED"), "{text}");
    assert!(
        text.contains(
            "portcullis::verify::namespaces: the blob shares the host's network namespace"
        ),
        "{text}"
    );
    assert!(text.contains("mounts: FAILED"), "{text}");
    assert!(
        text.contains("portcullis::verify::mounts::exposed"),
        "{text}"
    );
    assert!(text.contains("identity: ok"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_blob_for_another_app_fails_verification() {
    let dir = scratch("id");
    let blob = compile(&dir, "bar", "app com.example.Bar {\n}\n");
    let other = dir.join("other.policy");
    std::fs::write(&other, "app com.example.Other {\n}\n").expect("write");
    let out = portcullis(
        &dir,
        &[
            "verify",
            blob.to_str().expect("utf-8"),
            "--policy",
            other.to_str().expect("utf-8"),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("portcullis::verify::identity-app-id: the blob is for app `com.example.Bar` but the policy is for `com.example.Other`"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn seccomp_mismatches_are_one_line_each_and_capped() {
    let dir = scratch("seccomp");
    let blob = compile(
        &dir,
        "devel",
        "app com.example.Devel {\n    allow devel\n}\n",
    );
    let plain = dir.join("plain.policy");
    std::fs::write(&plain, "app com.example.Devel {\n}\n").expect("write");
    let out = portcullis(
        &dir,
        &[
            "verify",
            blob.to_str().expect("utf-8"),
            "--policy",
            plain.to_str().expect("utf-8"),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("portcullis::verify::seccomp-mismatch"))
        .collect();
    assert!(!lines.is_empty(), "{text}");
    assert!(lines.len() <= 21, "{} mismatch lines:\n{text}", lines.len());
    // Every line after a section header is a finding: nothing spills over several lines.
    for line in text.lines() {
        assert!(
            line.contains(": ok (")
                || line.contains(": FAILED (")
                || line.starts_with("  portcullis::verify::"),
            "a line that is neither a section nor a finding: `{line}`\n{text}"
        );
    }
    let listed: Vec<&&str> = lines.iter().filter(|l| !l.contains("… and ")).collect();
    for line in &listed {
        assert!(line.contains(" with args (0x"), "{line}");
        assert!(line.contains(": expected "), "{line}");
        assert!(line.contains(", got "), "{line}");
    }
    if lines.len() == 21 {
        assert!(lines[20].contains("… and "), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_or_garbled_blob_file_is_refused_everywhere() {
    let dir = scratch("empty");
    std::fs::write(dir.join("empty.blob"), b"").expect("write");
    std::fs::write(dir.join("garbled.blob"), b"not a blob at all\n").expect("write");
    std::fs::write(dir.join("short"), b"PCULB").expect("write");
    for name in ["empty.blob", "garbled.blob", "short"] {
        for args in [
            vec!["explain", name],
            vec!["verify", name],
            vec!["run", name, "--", "true"],
        ] {
            let out = portcullis(&dir, &args);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?}: {}{}",
                stdout(&out),
                stderr(&out)
            );
            assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A blob compiled without port rules (Flatpak's filter: MPTCP, SCTP and TCP Fast Open
/// pass, io_uring allowed) fails verification against a policy that has them and refuses
/// io_uring: the seccomp section names `socket`, the send calls and io_uring.
#[test]
fn a_filter_without_the_port_rule_hardening_fails_verification() {
    let dir = scratch("ports");
    let blob = compile(
        &dir,
        "open",
        "app com.example.Ports {\n    share network\n    allow io-uring\n}\n",
    );
    let strict = dir.join("strict.policy");
    std::fs::write(
        &strict,
        "app com.example.Ports {\n    share network\n    network { connect tcp 443; bind none }\n}\n",
    )
    .expect("write");
    let out = portcullis(
        &dir,
        &[
            "verify",
            blob.to_str().expect("utf-8"),
            "--policy",
            strict.to_str().expect("utf-8"),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("seccomp: FAILED"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("seccomp-mismatch") && l.contains("socket")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
