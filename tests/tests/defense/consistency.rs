//! The verifier's cross-backend consistency checks over real artifacts: every stock policy
//! and corpus manifest agrees with itself, and a tampered artifact is caught.

use portcullis_backends::mounts;
use portcullis_blob::landlock::{fs_access, FsRule, FsTarget};
use portcullis_blob::mounts::PathExpr;
use portcullis_verifier::consistency::{check, Artifacts, Finding};

use super::{landlock_section, load, policies_dir, profile, stock_files};
use crate::corpus::manifests;

fn findings(path: &std::path::Path) -> Vec<Finding> {
    let (file, policy) = load(path);
    let plan = mounts::plan(&policy);
    let section = landlock_section(&policy);
    let text = profile(&file, &policy);
    check(
        &policy,
        &Artifacts {
            plan: &plan.ops,
            landlock: &section,
            apparmor: Some(&text),
        },
    )
}

#[test]
fn stock_policies_and_corpus_manifests_are_consistent() {
    let mut failures = Vec::new();
    for path in stock_files().into_iter().chain(manifests()) {
        let found = findings(&path);
        if !found.is_empty() {
            failures.push(format!("{}: {found:#?}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn tampered_artifacts_are_caught() {
    let (file, policy) = load(&policies_dir().join("examples/home-minus-secrets.policy"));
    let plan = mounts::plan(&policy);
    let mut section = landlock_section(&policy);
    section.fs.as_mut().expect("fs layer").rules.push(FsRule {
        target: FsTarget::Path {
            path: PathExpr::new("${HOME}/.ssh"),
        },
        access: fs_access::READ,
        condition: None,
        masked: vec![],
    });
    let text = profile(&file, &policy).replace("deny \"@{pc_home}/.gnupg{,/**}\" mrwlkx,", "");
    let codes: Vec<&str> = check(
        &policy,
        &Artifacts {
            plan: &plan.ops,
            landlock: &section,
            apparmor: Some(&text),
        },
    )
    .into_iter()
    .map(|f| f.code)
    .collect();
    assert!(codes.contains(&"consistency::landlock-hidden"), "{codes:?}");
    assert!(codes.contains(&"consistency::apparmor-hidden"), "{codes:?}");
}
