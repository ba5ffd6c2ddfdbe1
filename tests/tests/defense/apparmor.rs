//! The real `apparmor_parser` accepts every generated profile: the stock policies' and the
//! Flathub corpus manifests'. This kernel has no AppArmor, so parsing and compiling is the
//! check (`-Q` skips loading, `-K` and `-T` the cache); a broken profile must fail it.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{load, profile, stock_files};
use crate::corpus::manifests;

/// `apparmor_parser`'s verdict on a profile text: `Ok` or its error output.
fn parse(text: &str) -> Result<(), String> {
    let mut child = Command::new("apparmor_parser")
        .args(["-Q", "-K", "-T"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apparmor_parser is installed (Debian package `apparmor`)");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text.as_bytes())
        .expect("write the profile");
    let out = child.wait_with_output().expect("apparmor_parser runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn the_parser_rejects_a_broken_profile() {
    let (file, policy) = load(&stock_files()[0]);
    let broken = profile(&file, &policy).replace("deny capability,", "deny capability bogus,");
    assert!(parse(&broken).is_err());
}

#[test]
fn every_stock_policy_profile_parses() {
    let mut failures = Vec::new();
    for path in stock_files() {
        let (file, policy) = load(&path);
        if let Err(err) = parse(&profile(&file, &policy)) {
            failures.push(format!("{}: {err}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_corpus_manifest_profile_parses() {
    let paths = manifests();
    assert!(!paths.is_empty());
    let mut failures = Vec::new();
    for path in &paths {
        let (file, policy) = load(path);
        if let Err(err) = parse(&profile(&file, &policy)) {
            failures.push(format!("{}: {err}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
