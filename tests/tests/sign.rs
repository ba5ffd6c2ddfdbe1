//! Signed blobs end to end (issue 14): `portcullis keygen`, `compile --sign`, and
//! `portcullis-exec --trust` / the trust directory refusing, before any effect, a blob
//! that is unsigned, signed by another key, revoked, or altered after signing — with
//! every byte of the blob tried, the checksum recomputed as an attacker would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use portcullis_blob::blob::HEADER_LEN;
use portcullis_blob::sha256;

use crate::defense::policies_dir;
use crate::executor::{workspace_bin, As, Stage};

use portcullis_tests::output::describe as text;

fn portcullis(args: &[&str]) -> Output {
    Command::new(workspace_bin("portcullis"))
        .args(args)
        .env_remove("PORTCULLIS_TRUST_DIR")
        .output()
        .expect("portcullis runs")
}

/// A key pair `name` and `name.pub` in `dir`.
fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(name);
    let out = portcullis(&["keygen", "-o", key.to_str().unwrap(), "--comment", name]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let public = dir.join(format!("{name}.pub"));
    std::fs::set_permissions(&public, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    (key, public)
}

fn compile(dir: &Path, name: &str, sign: Option<&Path>) -> PathBuf {
    let out_path = dir.join(name);
    let policy = policies_dir().join("flatpak-default.policy");
    let mut args = vec![
        "compile".to_string(),
        policy.to_string_lossy().into(),
        "-o".into(),
        out_path.to_string_lossy().into(),
    ];
    if let Some(key) = sign {
        args.extend(["--sign".into(), key.to_string_lossy().into()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = portcullis(&refs);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::set_permissions(
        &out_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    out_path
}

/// Runs the staged executor with `--trust` options before the blob; the command
/// leaves a trace file when it runs.
fn launch(
    stage: &Stage,
    who: As,
    trust: &[&Path],
    blob: &Path,
    env: &[(&str, &str)],
) -> (Output, bool) {
    let trace = stage.dir.path().join("ran");
    let _ = std::fs::remove_file(&trace);
    let mut args: Vec<String> = Vec::new();
    for t in trust {
        args.extend(["--trust".into(), t.to_string_lossy().into()]);
    }
    args.extend([
        blob.to_string_lossy().into(),
        "--".into(),
        "/bin/true".into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = stage.run_with_env(who, env, &refs);
    // `true` leaves no trace; whether it ran is its status (0) versus the refusal (125).
    let ran = out.status.code() == Some(0);
    (out, ran)
}

fn rechecksum(bytes: &mut [u8]) {
    let sum = sha256::digest(&[&bytes[..HEADER_LEN - 32], &bytes[HEADER_LEN..]]);
    bytes[HEADER_LEN - 32..HEADER_LEN].copy_from_slice(&sum);
}

#[test]
fn signed_blobs_launch_and_everything_else_is_refused() {
    let Some(stage) = Stage::new() else { return };
    let dir = stage.dir.path();
    let (key, public) = keygen(dir, "integrator");
    let (_, other_public) = keygen(dir, "someone-else");
    let signed = compile(dir, "signed.blob", Some(&key));
    let unsigned = compile(dir, "unsigned.blob", None);
    // Signing is deterministic.
    let again = compile(dir, "again.blob", Some(&key));
    assert_eq!(
        std::fs::read(&signed).unwrap(),
        std::fs::read(&again).unwrap()
    );

    for who in [As::Caller, As::Nobody] {
        let (out, ran) = launch(&stage, who, &[&public], &signed, &[]);
        assert!(ran, "{who:?}: {}", text(&out));
        let (out, ran) = launch(&stage, who, &[&public], &unsigned, &[]);
        assert!(
            !ran && out.status.code() == Some(125),
            "{who:?}: {}",
            text(&out)
        );
        assert!(text(&out).contains("not signed"), "{}", text(&out));
        let (out, ran) = launch(&stage, who, &[&other_public], &signed, &[]);
        assert!(
            !ran && out.status.code() == Some(125),
            "{who:?}: {}",
            text(&out)
        );
        assert!(text(&out).contains("not trusted here"), "{}", text(&out));
    }
}

#[test]
fn every_byte_flipped_is_refused_before_any_effect() {
    let Some(stage) = Stage::new() else { return };
    let dir = stage.dir.path();
    let (key, public) = keygen(dir, "integrator");
    let signed = std::fs::read(compile(dir, "signed.blob", Some(&key))).unwrap();
    // One offset in the header, one in each section, and the signature's last byte.
    let mut offsets = vec![12usize, 33];
    let mut at = HEADER_LEN;
    while at < signed.len() {
        let len = u32::from_le_bytes(signed[at + 2..at + 6].try_into().unwrap()) as usize;
        offsets.push(at); // the tag
        if len > 0 {
            offsets.push(at + 6 + len / 2); // inside the body
        }
        at += 6 + len;
    }
    offsets.push(signed.len() - 1);
    for offset in offsets {
        let mut edited = signed.clone();
        edited[offset] ^= 0x04;
        rechecksum(&mut edited);
        let path = stage.write_blob("edited.blob", &edited);
        let (out, ran) = launch(&stage, As::Caller, &[&public], &path, &[]);
        assert!(
            !ran && out.status.code() == Some(125),
            "byte {offset}: {}",
            text(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("read blob") || stderr.contains("signature: refused"),
            "byte {offset}: the message names the reason: {stderr}"
        );
    }
}

#[test]
fn the_trust_directory_makes_signatures_mandatory_and_revokes() {
    let Some(stage) = Stage::new() else { return };
    let dir = stage.dir.path();
    let (key, public) = keygen(dir, "integrator");
    let signed = compile(dir, "signed.blob", Some(&key));
    let unsigned = compile(dir, "unsigned.blob", None);
    let trusted = dir.join("trusted.d");
    std::fs::create_dir(&trusted).unwrap();
    std::fs::set_permissions(
        &trusted,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let env = [("PORTCULLIS_TRUST_DIR", trusted.to_str().unwrap())];
    // An empty trust directory: unsigned blobs run, with a note.
    let (out, ran) = launch(&stage, As::Nobody, &[], &unsigned, &env);
    assert!(ran, "{}", text(&out));
    assert!(
        text(&out).contains("running an unsigned blob"),
        "{}",
        text(&out)
    );
    // A key in it: every launch must be signed by a trusted key.
    std::fs::copy(&public, trusted.join("integrator.pub")).unwrap();
    let (out, ran) = launch(&stage, As::Nobody, &[], &unsigned, &env);
    assert!(!ran && out.status.code() == Some(125), "{}", text(&out));
    let (out, ran) = launch(&stage, As::Nobody, &[], &signed, &env);
    assert!(ran, "{}", text(&out));
    // Revoked.
    let id = std::fs::read_to_string(&public).unwrap();
    let id = id.split_whitespace().nth(1).unwrap().to_string();
    std::fs::write(trusted.join("revoked"), format!("{id} key leaked\n")).unwrap();
    let (out, ran) = launch(&stage, As::Nobody, &[], &signed, &env);
    assert!(!ran && out.status.code() == Some(125), "{}", text(&out));
    assert!(
        text(&out).contains("revoked (key leaked)"),
        "{}",
        text(&out)
    );
}

#[test]
fn verify_and_explain_report_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "integrator");
    let (_, other) = keygen(dir.path(), "other");
    let signed = compile(dir.path(), "signed.blob", Some(&key));
    let unsigned = compile(dir.path(), "unsigned.blob", None);
    let out = portcullis(&["explain", signed.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("signature: signed by key "),
        "{}",
        text(&out)
    );
    let out = portcullis(&[
        "verify",
        signed.to_str().unwrap(),
        "--trust",
        public.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("trusted here"), "{}", text(&out));
    for (blob, trust) in [(&signed, &other), (&unsigned, &public)] {
        let out = portcullis(&[
            "verify",
            blob.to_str().unwrap(),
            "--trust",
            trust.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            text(&out).contains("portcullis::verify::signature"),
            "{}",
            text(&out)
        );
    }
    // keygen never overwrites, and the secret key is private.
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );
    let out = portcullis(&["keygen", "-o", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
