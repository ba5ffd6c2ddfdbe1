//! The ABI report: what a kernel at each Landlock ABI (0, no Landlock, to 7) enforces of a
//! policy's Landlock section, and whether the launch is aborted there because a required
//! feature is missing.
//!
//! The table of which ABI brings which feature is the blob's ([`Feature::since`]); the
//! executor reports from the same table at launch, so what `emit --text` predicts is what
//! the executor says.

use portcullis_blob::landlock::{fs_access, Feature, LandlockSection, Outcome};

/// The newest Landlock ABI portcullis knows.
pub const NEWEST_ABI: u32 = 7;

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AbiLine {
    /// Enforced, skipped and missing features at this ABI.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Filesystem rights the section grants somewhere that this ABI cannot express (so it
    /// neither restricts nor grants them: the kernel leaves them unrestricted).
    pub unhandled_rights: Vec<&'static str>,
    /// What the reader should know about this ABI for this section.
    pub notes: Vec<&'static str>,
}

/// The report for ABI 0 to [`NEWEST_ABI`].
pub fn abi_report(section: &LandlockSection) -> Vec<AbiLine> {
    let used = section
        .fs
        .as_ref()
        .map(|fs| fs.rules.iter().fold(0, |acc, rule| acc | rule.access))
        .unwrap_or(0);
    (0..=NEWEST_ABI)
        .map(|abi| {
            let outcome = section.outcome_at(abi);
            let unhandled = if abi == 0 { 0 } else { used & !fs_access::known_at(abi) };
            let mut notes = Vec::new();
            if abi == 0 && section.fs.is_some() && outcome.launches() {
                notes.push("no landlock: only the mount plan confines the filesystem");
            }
            if abi == 0 && outcome.missing_required.contains(&Feature::DenyMasks) {
                notes.push("deny masks need landlock: the mount plan alone hides only what exists at launch");
            }
            if abi == 1 && section.fs.is_some() {
                notes.push("renames and links across directories always fail (no refer right)");
            }
            if (1..3).contains(&abi) && used & fs_access::TRUNCATE != 0 {
                notes.push("truncate is not mediated: files opened for writing can be truncated anywhere they are visible");
            }
            if (3..5).contains(&abi) && used & fs_access::IOCTL_DEV != 0 {
                notes.push("device ioctls are not mediated");
            }
            if abi < Feature::TcpPorts.since() && section.net.is_some() && outcome.launches() {
                notes.push("tcp ports are not restricted");
            }
            if abi < Feature::ScopeAbstractUnix.since() && section.scope_abstract_unix.is_some() && outcome.launches() {
                notes.push("host abstract unix sockets stay reachable when the network namespace is shared");
            }
            AbiLine {
                outcome,
                unhandled_rights: fs_access::names(unhandled),
                notes,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_blob::landlock::{FsLayer, NetLayer, Ports, Requirement, ScopeLayer};

    fn section(net_level: Requirement) -> LandlockSection {
        LandlockSection {
            fs: Some(FsLayer {
                level: Requirement::BestEffort,
                rules: vec![portcullis_blob::landlock::FsRule {
                    target: portcullis_blob::landlock::FsTarget::Path {
                        path: portcullis_blob::mounts::PathExpr::new("/tmp"),
                    },
                    access: fs_access::READ | fs_access::WRITE,
                    condition: None,
                    masked: vec![],
                }],
            }),
            net: Some(NetLayer {
                level: net_level,
                connect: vec![Ports {
                    first: 8443,
                    last: 8443,
                }],
                bind: vec![],
            }),
            scope_abstract_unix: Some(ScopeLayer {
                level: Requirement::BestEffort,
            }),
            scope_signal: Some(ScopeLayer {
                level: Requirement::Required,
            }),
        }
    }

    #[test]
    fn every_abi_gets_a_line_and_newer_abis_enforce_more() {
        let report = abi_report(&section(Requirement::BestEffort));
        assert_eq!(report.len(), 8);
        for pair in report.windows(2) {
            for feature in &pair[0].outcome.enforced {
                assert!(
                    pair[1].outcome.enforced.contains(feature),
                    "abi {} loses {feature:?}",
                    pair[1].outcome.abi
                );
            }
        }
        assert!(
            report[7].outcome.skipped.is_empty() && report[7].outcome.missing_required.is_empty()
        );
    }

    #[test]
    fn required_features_abort_below_their_abi() {
        let report = abi_report(&section(Requirement::Required));
        // Signal scoping is required: ABI 0 to 5 abort, 6 and 7 launch.
        for line in &report {
            assert_eq!(
                line.outcome.launches(),
                line.outcome.abi >= 6,
                "abi {}",
                line.outcome.abi
            );
        }
        assert_eq!(
            report[3].outcome.missing_required,
            [Feature::TcpPorts, Feature::ScopeSignal]
        );
        assert_eq!(report[4].outcome.missing_required, [Feature::ScopeSignal]);
        assert_eq!(report[5].outcome.skipped, [Feature::ScopeAbstractUnix]);
    }

    #[test]
    fn old_abis_report_rights_they_cannot_express() {
        let report = abi_report(&section(Requirement::BestEffort));
        assert_eq!(report[1].unhandled_rights, ["refer", "truncate"]);
        assert_eq!(report[2].unhandled_rights, ["truncate"]);
        assert!(report[3].unhandled_rights.is_empty());
        assert!(report[1].notes.iter().any(|n| n.contains("renames")));
        assert!(report[0].outcome.enforced.is_empty());
    }
}
