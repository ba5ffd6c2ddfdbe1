//! Properties over random policies: translation validation of the compiled filter, and
//! agreement between the interpreter on the program and the intended decision at random
//! points of `seccomp_data` (including foreign architectures and wild numbers).

use portcullis_backends::seccomp::{compile_policy, to_bytes};
use portcullis_ir::beyond::NetworkRules;
use portcullis_ir::context::{Feature, Setting};
use portcullis_ir::seccomp::{decide, Action, Arch, Features, SeccompData};
use portcullis_ir::{Origin, Policy};
use portcullis_verifier::bpf::{decode, run, validate};
use proptest::prelude::*;

/// A policy whose feature map holds a random subset of bits, each granted or revoked,
/// with or without port rules (and `udp none`) and `allow io-uring`.
fn policy() -> impl Strategy<Value = Policy> {
    (
        prop::collection::vec((0usize..Feature::ALL.len(), any::<bool>()), 0..8),
        prop::option::of(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(|(bits, network, io_uring)| {
            let mut policy = Policy::default();
            policy.beyond.network = network.map(|udp_none| NetworkRules {
                udp_none,
                ..NetworkRules::default()
            });
            policy.beyond.io_uring = io_uring.then_some(Origin::IMPLICIT);
            for (i, enabled) in bits {
                policy.context.features.insert(
                    Feature::ALL[i],
                    Setting {
                        enabled,
                        origin: Origin::IMPLICIT,
                    },
                );
            }
            policy
        })
}

fn target() -> impl Strategy<Value = Arch> {
    prop_oneof![Just(Arch::X86_64), Just(Arch::Aarch64)]
}

fn token() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => prop::sample::select(Arch::ALL.iter().map(|a| a.audit()).collect::<Vec<_>>()),
        1 => any::<u32>(),
    ]
}

fn number() -> impl Strategy<Value = u32> {
    prop_oneof![6 => 0u32..600, 1 => 0x4000_0000u32..0x4000_0300, 1 => any::<u32>()]
}

fn argument() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => 0u64..64,
        2 => prop::sample::select(vec![0x5412u64, 0x541C, 0x1000_0000, 17, 29, 31]),
        // Socket families, types (with SOCK_NONBLOCK/SOCK_CLOEXEC), protocols, MSG_FASTOPEN.
        2 => prop::sample::select(vec![2u64, 10, 0x801, 0x80002, 5, 262, 132, 136, 58, 0x2000_0040]),
        1 => any::<u32>().prop_map(u64::from),
        1 => any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_policies_pass_translation_validation(policy in policy(), target in target()) {
        let program = decode(&to_bytes(&compile_policy(&policy, target).expect("compiles")))
            .expect("records");
        let features = Features::from_policy(&policy);
        let report = validate(&program, features, target);
        prop_assert!(report.passed(), "{:?}: {:?} {:?}", features, report.findings,
            report.mismatches.first().map(|m| m.to_string()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_program_matches_the_decision_at_random_points(
        policy in policy(),
        target in target(),
        arch in token(),
        nr in number(),
        args in prop::array::uniform6(argument()),
    ) {
        let program = decode(&to_bytes(&compile_policy(&policy, target).expect("compiles")))
            .expect("records");
        let features = Features::from_policy(&policy);
        let data = SeccompData { nr, arch, instruction_pointer: 0, args };
        let got = Action::from_ret(run(&program, &data).expect("runs").ret);
        prop_assert_eq!(got, Some(decide(features, target, &data)));
    }
}
