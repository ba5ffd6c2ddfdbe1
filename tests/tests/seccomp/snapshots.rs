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
    insta::assert_snapshot!(disassemble(&program(features(&["multiarch"]), Arch::Aarch64)));
}
