//! The checks `portcullis verify` runs on the sections other than seccomp and D-Bus: the
//! identity (the blob's app id against the policy's), the namespaces (`net` and `ipc`
//! unshared unless the policy shares them), the mount plan (replayed on the verifier's
//! model for both described hosts, `portcullis_verifier::mounts::verify_static`) and the
//! cross-backend consistency of the plan and the Landlock section
//! (`portcullis_verifier::consistency`). The AppArmor profile is not in the blob, so the
//! consistency check sees the plan and the Landlock section only. The device-node section
//! must list exactly the policy's single device nodes, so that the executor checks each of
//! them.
//!
//! Like every verify check, these re-read the artifacts; no backend code is called.

use portcullis_blob::Blob;
use portcullis_compiler::Severity;
use portcullis_ir::context::Share;
use portcullis_ir::Policy;
use portcullis_verifier::consistency::{self, Artifacts};
use portcullis_verifier::mounts;

use super::SectionResult;
use crate::report::Finding;

fn finding(code: &str, message: String, help: &str) -> Finding {
    Finding::new(
        format!("portcullis::verify::{code}"),
        Severity::Error,
        message,
    )
    .with_help(help)
}

/// The identity section: the app id the executor will use must be the policy's.
pub fn identity(blob: &Blob, policy: &Policy) -> SectionResult {
    let expected = policy.app_id();
    let mut findings = Vec::new();
    if blob.app_id != expected {
        findings.push(finding(
            "identity-app-id",
            format!(
                "the blob is for app `{}` but the policy is for `{expected}`",
                blob.app_id
            ),
            "compile the policy this blob should carry with `portcullis compile`",
        ));
    }
    SectionResult {
        section: "identity",
        summary: format!("app `{}`", blob.app_id),
        findings,
    }
}

/// The namespaces section: a new network namespace unless `share=network`, a new IPC
/// namespace unless `share=ipc`.
pub fn namespaces(blob: &Blob, policy: &Policy) -> SectionResult {
    let mut findings = Vec::new();
    for (word, share, unshared) in [
        ("network", Share::Network, blob.namespaces.net),
        ("ipc", Share::Ipc, blob.namespaces.ipc),
    ] {
        let shared = policy.context.has_share(share);
        if shared == unshared {
            let message = if shared {
                format!(
                    "the policy shares {word} but the blob gives the app a new {word} namespace"
                )
            } else {
                format!("the blob shares the host's {word} namespace but the policy does not share {word}")
            };
            findings.push(finding(
                "namespaces",
                message,
                "the namespaces do not mean what the policy says; recompile it",
            ));
        }
    }
    let word = |new: bool| if new { "new" } else { "host's" };
    SectionResult {
        section: "namespaces",
        summary: format!(
            "network: {}, ipc: {}",
            word(blob.namespaces.net),
            word(blob.namespaces.ipc)
        ),
        findings,
    }
}

/// The mount plan, replayed on the verifier's model against the policy's grants.
pub fn mount_plan(blob: &Blob, policy: &Policy) -> SectionResult {
    let findings = mounts::verify_static(&blob.mounts, policy)
        .into_iter()
        .map(|f| {
            finding(
                f.code,
                f.message,
                "the mount plan does not mean what the policy says; recompile it",
            )
        })
        .collect();
    SectionResult {
        section: "mounts",
        summary: format!("{} operations on two described hosts", blob.mounts.len()),
        findings,
    }
}

/// The mount plan, the Landlock section and the network rules tell the same story.
pub fn consistency(blob: &Blob, policy: &Policy) -> SectionResult {
    let artifacts = Artifacts {
        plan: &blob.mounts,
        landlock: &blob.landlock,
        apparmor: None,
    };
    let findings = consistency::check(policy, &artifacts)
        .into_iter()
        .map(|f| {
            finding(
                f.code,
                f.message,
                "the artifacts disagree with each other or with the policy; recompile it",
            )
        })
        .collect();
    SectionResult {
        section: "consistency",
        summary: "mount plan, landlock and network rules; no apparmor profile in a blob".into(),
        findings,
    }
}

/// The device-node section (blob 1.1): exactly the host paths of the policy's single
/// device nodes, each once, sorted, so that the executor refuses every one of them that is
/// not a character or block device.
pub fn device_nodes(blob: &Blob, policy: &Policy) -> SectionResult {
    let mut expected: Vec<&str> = policy
        .beyond
        .device_nodes
        .iter()
        .map(|n| n.path.as_str())
        .collect();
    expected.sort_unstable();
    expected.dedup();
    let found: Vec<&str> = blob.device_nodes.iter().map(|p| p.as_str()).collect();
    let mut findings = Vec::new();
    if found != expected {
        findings.push(finding(
            "device-nodes",
            format!(
                "the blob checks the device nodes [{}] but the policy grants [{}]",
                found.join(", "),
                expected.join(", ")
            ),
            "a granted node the executor does not check could be a directory; recompile the policy",
        ));
    }
    SectionResult {
        section: "device nodes",
        summary: format!("{} checked at launch", found.len()),
        findings,
    }
}
