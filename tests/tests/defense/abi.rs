//! Degraded behaviour on older kernels, through the ABI report: what Landlock ABI 0 to 7
//! would enforce of the stock examples, and where a required layer aborts the launch.

use portcullis_backends::landlock::report::abi_report;
use portcullis_blob::landlock::Feature;

use super::{landlock_section, load, policies_dir};

fn launches(name: &str) -> Vec<bool> {
    let (_, policy) = load(&policies_dir().join(name));
    abi_report(&landlock_section(&policy))
        .iter()
        .map(|line| line.outcome.launches())
        .collect()
}

#[test]
fn required_port_rules_need_abi_4() {
    assert_eq!(
        launches("examples/net-connect-8443.policy"),
        [false, false, false, false, true, true, true, true]
    );
}

#[test]
fn best_effort_layers_grow_with_the_abi_and_deny_masks_need_abi_1() {
    // The best-effort layers alone launch everywhere; the example's deny masks are held by
    // Landlock and required, so without Landlock it does not launch.
    assert_eq!(
        launches("examples/home-minus-secrets.policy"),
        [false, true, true, true, true, true, true, true]
    );
    assert_eq!(launches("flatpak-default.policy"), [true; 8]);
    let (_, policy) = load(&policies_dir().join("examples/home-minus-secrets.policy"));
    let report = abi_report(&landlock_section(&policy));
    assert!(report[0].outcome.enforced.is_empty());
    assert_eq!(report[0].outcome.missing_required, [Feature::DenyMasks]);
    assert_eq!(
        report[1].outcome.enforced,
        [Feature::Filesystem, Feature::DenyMasks]
    );
    assert!(report[5]
        .outcome
        .skipped
        .contains(&Feature::ScopeAbstractUnix));
    assert!(report[6].outcome.enforced.contains(&Feature::ScopeSignal));
    assert!(report[7].outcome.skipped.is_empty());
}
