//! The command line: `emit --backend seccomp` (raw and `--text`) and `verify` on blobs,
//! including blobs whose seccomp section was tampered with.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use portcullis_blob::{Blob, SockFilter};
use portcullis_ir::seccomp::{Action, Arch, Features};
use portcullis_verifier::bpf::{decode, validate};

use super::support::bytes;

/// The `portcullis` binary next to this test binary's directory.
fn portcullis() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let path = dir.join("portcullis");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        path.display()
    );
    path
}

fn stock(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .join(name)
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(portcullis())
        .args(args)
        .output()
        .expect("portcullis runs")
}

const DEVEL_KEYFILE: &str = "[Application]\nname=org.test.Devel\nruntime=org.freedesktop.Platform/x86_64/24.08\nsdk=org.freedesktop.Sdk/x86_64/24.08\n\n[Context]\nfeatures=devel;multiarch;\n";

#[test]
fn emit_writes_the_raw_program_bwrap_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("filter.bpf");
    let o = run(&[
        "emit".as_ref(),
        stock("flatpak-default.policy").as_os_str(),
        "--backend".as_ref(),
        "seccomp".as_ref(),
        "--arch".as_ref(),
        "x86_64".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written = std::fs::read(&out).expect("written");
    assert_eq!(written, bytes(Features::default(), Arch::X86_64));
    let program = decode(&written).expect("records");
    assert!(validate(&program, Features::default(), Arch::X86_64).passed());
}

#[test]
fn emit_text_lists_features_rules_and_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keyfile = dir.path().join("metadata");
    std::fs::write(&keyfile, DEVEL_KEYFILE).expect("keyfile");
    let o = run(&[
        "emit".as_ref(),
        keyfile.as_os_str(),
        "--backend".as_ref(),
        "seccomp".as_ref(),
        "--arch".as_ref(),
        "aarch64".as_ref(),
        "--text".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).expect("utf-8");
    assert!(text.starts_with("# seccomp filter for aarch64"), "{text}");
    assert!(text.contains("# sections: aarch64, arm"));
    assert!(text.contains("# features: devel, multiarch"));
    assert!(text.contains("[hardening: socket-families-under-multiarch]"));
    assert!(text.contains("; AUDIT_ARCH_ARM"));
    assert!(text.contains("nr >= ioctl") || text.contains("nr == ioctl"));
    assert!(
        !text.contains("ptrace                   ERRNO"),
        "devel allows ptrace"
    );
}

#[test]
fn emit_refuses_unreadable_input_with_exit_2() {
    let o = run(&[
        "emit".as_ref(),
        "/nonexistent/policy".as_ref(),
        "--backend".as_ref(),
        "seccomp".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

fn compiled_blob(dir: &Path) -> PathBuf {
    let blob = dir.join("app.blob");
    let o = run(&[
        "compile".as_ref(),
        stock("flatpak-default.policy").as_os_str(),
        "-o".as_ref(),
        blob.as_os_str(),
        "--arch".as_ref(),
        "x86_64".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    blob
}

#[test]
fn verify_passes_a_compiled_blob() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blob = compiled_blob(dir.path());
    let o = run(&["verify".as_ref(), blob.as_os_str()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("seccomp: ok"));
}

#[test]
fn verify_fails_a_blob_whose_filter_allows_tiocsti() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = compiled_blob(dir.path());
    let mut blob = Blob::decode(&std::fs::read(&path).expect("blob")).expect("decodes");
    // The ioctl block: `ld a1.lo` followed by the TIOCSTI test; its EPERM becomes ALLOW.
    let at = blob
        .seccomp
        .windows(2)
        .position(|w| w[0].code == 0x20 && w[0].k == 24 && w[1].k == 0x5412)
        .expect("ioctl block");
    let eperm = Action::Errno(1).to_ret();
    for insn in blob.seccomp[at..].iter_mut() {
        if insn.code == 0x06 && insn.k == eperm {
            *insn = SockFilter {
                k: Action::Allow.to_ret(),
                ..*insn
            };
            break;
        }
    }
    std::fs::write(&path, blob.encode()).expect("rewritten");
    let o = run(&[
        "verify".as_ref(),
        path.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    assert!(findings
        .iter()
        .all(|f| f["code"] == "portcullis::verify::seccomp-mismatch"));
    assert!(findings[0]["message"]
        .as_str()
        .expect("message")
        .starts_with("ioctl (nr "));
}

#[test]
fn verify_against_another_policy_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blob = compiled_blob(dir.path());
    let keyfile = dir.path().join("metadata");
    std::fs::write(&keyfile, DEVEL_KEYFILE).expect("keyfile");
    let o = run(&[
        "verify".as_ref(),
        blob.as_os_str(),
        "--policy".as_ref(),
        keyfile.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("seccomp: FAILED"), "{text}");
    // The devel policy allows ptrace; the default filter refuses it.
    assert!(text.contains("ptrace (nr "), "{text}");
}

#[test]
fn verify_refuses_a_file_that_is_not_a_blob_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("filter.bpf");
    std::fs::write(&path, bytes(Features::default(), Arch::X86_64)).expect("written");
    let o = run(&["verify".as_ref(), path.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
}
