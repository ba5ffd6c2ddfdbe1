//! The Landlock backend: the IR and the mount plan to the blob's Landlock section.
//!
//! * [`fs`] mirrors the mount plan as `PathBeneath` rules: what the plan binds read-only is
//!   readable, what it binds writable is writable, devices get `ioctl` only where the plan
//!   keeps device nodes usable, and nothing else is granted; deny masks are listed on the
//!   rules around them, and the executor grants the tree around each masked path (a
//!   required feature: see `FsRule::masked`);
//! * the TCP layer (ABI 4) comes from the policy's `network` block: both bind and connect are
//!   handled, so an empty list means none;
//! * the scopes (ABI 6) confine abstract UNIX sockets and signals to the sandbox's domain;
//! * [`report`] says what each Landlock ABI (0 to 7) would enforce, and whether a launch
//!   would be aborted for a required feature;
//! * [`text`] renders the section and the report for people (`emit --backend landlock --text`).
//!
//! Pure and deterministic: the same policy and plan always give the same section.

pub mod fs;
pub mod report;
pub mod text;

use portcullis_blob::landlock::{LandlockSection, NetLayer, Ports, Requirement, ScopeLayer};
use portcullis_blob::mounts::MountOp;
use portcullis_ir::beyond::{Level, PortRange};
use portcullis_ir::Policy;

/// The IR's level as the blob's requirement; `None` for a layer that is off.
pub fn requirement(level: Level) -> Option<Requirement> {
    match level {
        Level::Off => None,
        Level::BestEffort => Some(Requirement::BestEffort),
        Level::Required => Some(Requirement::Required),
    }
}

/// Sorted, merged port ranges (overlapping and adjacent ranges become one).
pub fn merge_ports(ranges: &[PortRange]) -> Vec<Ports> {
    let mut sorted: Vec<(u16, u16)> = ranges
        .iter()
        .map(|r| (r.first.min(r.last), r.first.max(r.last)))
        .collect();
    sorted.sort_unstable();
    let mut out: Vec<Ports> = Vec::new();
    for (first, last) in sorted {
        match out.last_mut() {
            Some(prev) if u32::from(first) <= u32::from(prev.last) + 1 => {
                prev.last = prev.last.max(last);
            }
            _ => out.push(Ports { first, last }),
        }
    }
    out
}

/// The Landlock section of `policy`, whose mount plan is `plan`.
pub fn section(policy: &Policy, plan: &[MountOp]) -> LandlockSection {
    let needs = &policy.beyond.requirements;
    // Deny masks are held by the filesystem rules (see `FsRule::masked`): a policy with
    // masks always gets the layer, even if it was turned off.
    let fs_level = requirement(needs.landlock)
        .or_else(|| (!policy.beyond.deny.is_empty()).then_some(Requirement::Required));
    let fs = fs_level.map(|level| fs::layer(plan, level));
    let net = match (&policy.beyond.network, requirement(needs.landlock_network)) {
        (Some(rules), Some(level)) => Some(NetLayer {
            level,
            connect: merge_ports(&rules.connect),
            bind: merge_ports(&rules.bind),
        }),
        _ => None,
    };
    LandlockSection {
        fs,
        net,
        scope_abstract_unix: requirement(needs.scope_abstract_unix)
            .map(|level| ScopeLayer { level }),
        scope_signal: requirement(needs.scope_signal).map(|level| ScopeLayer { level }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(first: u16, last: u16) -> PortRange {
        PortRange { first, last }
    }

    #[test]
    fn port_ranges_are_sorted_and_merged() {
        let merged = merge_ports(&[
            range(443, 443),
            range(80, 80),
            range(81, 90),
            range(85, 100),
            range(65535, 65535),
        ]);
        assert_eq!(
            merged,
            [
                Ports {
                    first: 80,
                    last: 100
                },
                Ports {
                    first: 443,
                    last: 443
                },
                Ports {
                    first: 65535,
                    last: 65535
                }
            ]
        );
    }

    #[test]
    fn deny_masks_keep_the_filesystem_layer_and_require_it() {
        let mut policy = Policy::default();
        policy.beyond.requirements.landlock = Level::Off;
        policy.beyond.deny.push(portcullis_ir::beyond::DenyMask {
            path: "~/.ssh".to_string(),
            origin: Default::default(),
        });
        let plan = [
            MountOp::Bind {
                source: portcullis_blob::mounts::PathExpr::new("${HOME}"),
                dest: portcullis_blob::mounts::PathExpr::new("${HOME}"),
                flags: Default::default(),
            },
            MountOp::Mask {
                dest: portcullis_blob::mounts::PathExpr::new("${HOME}/.ssh"),
            },
        ];
        let masked = section(&policy, &plan);
        let fs = masked.fs.as_ref().expect("a mask keeps the layer");
        assert_eq!(fs.level, Requirement::Required);
        assert_eq!(fs.masks().len(), 1);
        assert!(!masked.outcome_at(0).launches());
    }

    #[test]
    fn layers_follow_the_requirement_levels() {
        let mut policy = Policy::default();
        let plain = section(&policy, &[]);
        assert!(plain.fs.is_some());
        assert!(plain.net.is_none(), "no network block, no port rules");
        assert_eq!(
            plain.scope_signal,
            Some(ScopeLayer {
                level: Requirement::BestEffort
            })
        );

        policy.beyond.network = Some(portcullis_ir::beyond::NetworkRules {
            connect: vec![range(8443, 8443)],
            bind: vec![],
            udp_none: false,
            origin: Default::default(),
        });
        policy.beyond.requirements.landlock = Level::Off;
        policy.beyond.requirements.scope_signal = Level::Off;
        let net = section(&policy, &[]);
        assert!(net.fs.is_none());
        assert!(net.scope_signal.is_none());
        let layer = net.net.expect("port rules");
        assert_eq!(layer.level, Requirement::Required);
        assert_eq!(
            layer.connect,
            [Ports {
                first: 8443,
                last: 8443
            }]
        );
        assert!(layer.bind.is_empty());
    }
}
