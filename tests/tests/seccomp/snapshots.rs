//! insta snapshots of the `--text` disassembly for hand-made feature sets: the reviewed
//! shape of the program (arch dispatch, the tree over syscall numbers, argument blocks).

use portcullis_ir::seccomp::{Arch, Features};
use portcullis_verifier::bpf::disasm::disassemble;

use super::support::{features, program};

#[test]
fn disassembly_default_x86_64() {
    insta::assert_snapshot!(disassemble(&program(Features::default(), Arch::X86_64)));
}

#[test]
fn disassembly_all_features_x86_64() {
    let all = features(&["devel", "multiarch", "bluetooth", "canbus"]);
    insta::assert_snapshot!(disassemble(&program(all, Arch::X86_64)));
}

#[test]
fn disassembly_multiarch_aarch64() {
    insta::assert_snapshot!(disassemble(&program(
        features(&["multiarch"]),
        Arch::Aarch64
    )));
}

/// Every stock policy's filter for x86_64: the features the policy grants, then the
/// listing. Policies that do not compile on their own (fragments) are skipped by name.
#[test]
fn disassembly_of_every_stock_policy() {
    use portcullis_compiler::{compile, Options};
    use portcullis_syntax::SourceFile;
    let policies = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut compiled = 0;
    insta::glob!("../../../policies", "**/*.policy", |path| {
        let text = std::fs::read_to_string(path).expect("stock policy is UTF-8");
        let file = SourceFile::new(path.display().to_string(), text);
        let options = Options {
            policies_dir: Some(policies.clone()),
            form: None,
        };
        let Some(policy) = compile(&file, &options).policy else {
            assert!(
                path.components().any(|c| c.as_os_str() == "fragments"),
                "{} does not compile",
                path.display()
            );
            return;
        };
        compiled += 1;
        let features = Features::from_policy(&policy);
        insta::assert_snapshot!(format!(
            "features: {features:?}\n{}",
            disassemble(&program(features, Arch::X86_64))
        ));
    });
    assert!(compiled >= 3, "only {compiled} stock policies compiled");
}
