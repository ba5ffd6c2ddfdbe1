//! The bundle: one policy and every backend's artifact, assembled into a [`Blob`].
//!
//! Pure and deterministic like the backends it calls: the same policy and architecture
//! give the same bytes. Namespaces come straight from the policy (`share=network` and
//! `share=ipc` keep the host's), the policy itself is recorded as JSON for `verify`.

use portcullis_blob::{Arch, Blob, Namespaces, SockFilter};
use portcullis_ir::context::Share;
use portcullis_ir::seccomp::Arch as SeccompArch;
use portcullis_ir::Policy;

use crate::mounts::Warning;
use crate::seccomp::SeccompError;
use crate::{dbus, landlock, limits, mounts, seccomp};

/// The compiler version recorded in every blob.
pub const COMPILER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A blob and what the mount backend left out on the way.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The blob.
    pub blob: Blob,
    /// Grants the mount plan refused or dropped.
    pub warnings: Vec<Warning>,
}

/// Why a policy could not be bundled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    /// The seccomp program could not be built.
    #[error("seccomp: {0}")]
    Seccomp(#[from] SeccompError),
    /// The policy record could not be written.
    #[error("policy record: {0}")]
    Record(String),
}

fn seccomp_arch(arch: Arch) -> SeccompArch {
    match arch {
        Arch::X86_64 => SeccompArch::X86_64,
        Arch::Aarch64 => SeccompArch::Aarch64,
    }
}

/// Compiles `policy` for `arch` into a blob.
pub fn bundle(policy: &Policy, arch: Arch) -> Result<Bundle, BundleError> {
    let plan = mounts::plan(policy);
    let program = seccomp::compile_policy(policy, seccomp_arch(arch))?
        .into_iter()
        .map(|i| SockFilter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let record = serde_json::to_vec(policy).map_err(|e| BundleError::Record(e.to_string()))?;
    let blob = Blob {
        arch,
        compiler_version: COMPILER_VERSION.to_string(),
        app_id: policy.app_id().to_string(),
        policy: record,
        namespaces: Namespaces {
            ipc: !policy.context.has_share(Share::Ipc),
            net: !policy.context.has_share(Share::Network),
        },
        landlock: landlock::section(policy, &plan.ops),
        limits: limits::section(policy),
        dbus: dbus::section(policy),
        mounts: plan.ops,
        seccomp: program,
        env: plan.env,
        device_nodes: mounts::devices::single_nodes(policy),
    };
    Ok(Bundle {
        blob,
        warnings: plan.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_ir::context::Setting;
    use portcullis_ir::Origin;

    fn app() -> Policy {
        let mut policy = Policy::default();
        policy.identity.id = Some("org.test.App".into());
        policy
    }

    #[test]
    fn the_same_policy_gives_the_same_bytes() {
        let a = bundle(&app(), Arch::X86_64).unwrap().blob.encode();
        let b = bundle(&app(), Arch::X86_64).unwrap().blob.encode();
        assert_eq!(a, b);
        assert_eq!(Blob::decode(&a).unwrap().app_id, "org.test.App");
    }

    #[test]
    fn shares_keep_the_host_namespaces() {
        let blob = bundle(&app(), Arch::X86_64).unwrap().blob;
        assert_eq!(
            blob.namespaces,
            Namespaces {
                ipc: true,
                net: true
            }
        );
        assert!(!blob.seccomp.is_empty());
        assert!(!blob.mounts.is_empty());

        let mut shared = app();
        for share in [Share::Network, Share::Ipc] {
            shared.context.shares.insert(
                share,
                Setting {
                    enabled: true,
                    origin: Origin::default(),
                },
            );
        }
        let blob = bundle(&shared, Arch::Aarch64).unwrap().blob;
        assert_eq!(
            blob.namespaces,
            Namespaces {
                ipc: false,
                net: false
            }
        );
        assert_eq!(blob.arch, Arch::Aarch64);
    }
}
