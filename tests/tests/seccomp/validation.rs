//! Translation validation of the backend's output for every feature set and target, and
//! the performance shape the backend promises (checked as instruction counts, not time).

use portcullis_ir::seccomp::{Arch, Features, SeccompData};
use portcullis_verifier::bpf::{check, run, validate};

use super::support::program;

/// Every feature set (Flatpak's four bits, port rules with and without `udp none`,
/// io_uring allowed or not) on one target.
fn every_feature_set_validates_on(target: Arch) {
    for features in Features::all() {
        let report = validate(&program(features, target), features, target);
        assert!(
            report.findings.is_empty(),
            "{target} {features:?}: {:?}",
            report.findings
        );
        assert_eq!(
            report.mismatch_count,
            0,
            "{target} {features:?}: {}",
            report
                .mismatches
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(report.probes > 4000, "too few probes: {}", report.probes);
    }
}

#[test]
fn every_feature_set_validates_on_x86_64() {
    every_feature_set_validates_on(Arch::X86_64);
}

#[test]
fn every_feature_set_validates_on_aarch64() {
    every_feature_set_validates_on(Arch::Aarch64);
}

#[test]
fn the_filter_of_one_feature_set_fails_validation_as_another() {
    let target = Arch::X86_64;
    let devel = super::support::features(&["devel"]);
    let report = validate(&program(devel, target), Features::default(), target);
    assert!(report.mismatch_count > 0);
    assert!(report
        .mismatches
        .iter()
        .any(|m| m.syscall == Some("ptrace") && m.expected == "ERRNO(EPERM)" && m.got == "ALLOW"));
}

#[test]
fn static_checks_pass_for_every_feature_set() {
    for target in [Arch::X86_64, Arch::Aarch64] {
        for features in Features::all() {
            assert_eq!(check(&program(features, target)), vec![]);
        }
    }
}

/// The mean instructions per syscall over every x86_64 table entry stays far below
/// Flatpak's (about 37): the search tree's depth, not a linear chain.
#[test]
fn dispatch_is_logarithmic() {
    let prog = program(Features::default(), Arch::X86_64);
    let table = Arch::X86_64.table();
    let total: usize = table
        .iter()
        .map(|&(nr, _)| {
            let data = SeccompData {
                nr,
                arch: Arch::X86_64.audit(),
                ..SeccompData::default()
            };
            run(&prog, &data).expect("runs").steps
        })
        .sum();
    let mean = total as f64 / table.len() as f64;
    assert!(mean <= 12.0, "mean {mean}");
}
