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
fn best_effort_layers_launch_everywhere_and_grow_with_the_abi() {
    assert_eq!(launches("examples/home-minus-secrets.policy"), [true; 8]);
    let (_, policy) = load(&policies_dir().join("examples/home-minus-secrets.policy"));
    let report = abi_report(&landlock_section(&policy));
    assert!(report[0].outcome.enforced.is_empty());
    assert_eq!(report[1].outcome.enforced, [Feature::Filesystem]);
    assert!(report[5]
        .outcome
        .skipped
        .contains(&Feature::ScopeAbstractUnix));
    assert!(report[6].outcome.enforced.contains(&Feature::ScopeSignal));
    assert!(report[7].outcome.skipped.is_empty());
}
