//! Snapshots of `emit --backend mounts --text` for every stock policy and for hand-built
//! IRs, and the verifier's model run over each of those plans on the oracle's machine.

use std::path::Path;

use portcullis_backends::mounts::{plan, text};
use portcullis_compiler::{compile, Options};
use portcullis_ir::Policy;
use portcullis_syntax::SourceFile;
use portcullis_verifier::mounts::check;

use super::host::{oracle_fs, oracle_values};
use super::ir::from_flatpak_args;

fn policies_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// Compiles a stock policy file.
pub fn stock(path: &Path) -> Policy {
    let text = std::fs::read_to_string(path).expect("policy file");
    let file = SourceFile::new(path.display().to_string(), text);
    let options = Options {
        policies_dir: Some(policies_dir()),
        ..Options::default()
    };
    let compiled = compile(&file, &options);
    compiled.policy.unwrap_or_else(|| {
        panic!(
            "{} does not compile: {:?}",
            path.display(),
            compiled.diagnostics
        )
    })
}

fn verify_on_oracle_host(policy: &Policy, name: &str) {
    let planned = plan(policy);
    let app = policy.app_id();
    let findings = check(
        &planned.ops,
        policy,
        &oracle_values(app),
        &oracle_fs(app, ""),
    )
    .expect("the plan expands on the oracle's machine");
    assert!(findings.is_empty(), "{name}: {findings:#?}");
}

#[test]
fn stock_policy_plans() {
    insta::glob!("../../../policies", "**/*.policy", |path| {
        let policy = stock(path);
        verify_on_oracle_host(&policy, &path.display().to_string());
        insta::assert_snapshot!(text::render(&plan(&policy)));
    });
}

#[test]
fn hand_built_plans() {
    for (name, args) in [
        ("flatpak-default", ""),
        ("everything", "--share=network --share=ipc --socket=x11 --socket=wayland --socket=pulseaudio --socket=ssh-auth --socket=pcsc --socket=cups --socket=gpg-agent --device=dri --device=kvm --device=shm --allow=devel --filesystem=host:ro --filesystem=home --filesystem=xdg-config/git:ro --filesystem=/opt/data:create --nofilesystem=~/.ssh --persist=.cache"),
        ("fallback-x11", "--socket=fallback-x11 --socket=wayland --device=all --allow=per-app-dev-shm"),
        ("refused", "--filesystem=/usr/share --filesystem=/run --filesystem=/etc/passwd --filesystem=xdg-download/.. --persist=../escape --filesystem=/tmp"),
    ] {
        let policy = from_flatpak_args("org.example.App", args);
        verify_on_oracle_host(&policy, name);
        insta::assert_snapshot!(name, text::render(&plan(&policy)));
    }
}
