//! Helpers: building filters from feature sets, and handing them to the verifier as bytes
//! (the verifier sees only what a file or blob would carry).

use portcullis_backends::seccomp::{compile, to_bytes};
use portcullis_ir::seccomp::{spec, Arch, Features};
use portcullis_verifier::bpf::{decode, Insn};

/// The program for `features` on `target`, as the verifier reads it back from bytes.
pub fn program(features: Features, target: Arch) -> Vec<Insn> {
    let compiled = compile(&spec(features, target)).expect("the spec compiles");
    decode(&to_bytes(&compiled)).expect("whole instructions")
}

/// The raw bytes of the program.
pub fn bytes(features: Features, target: Arch) -> Vec<u8> {
    to_bytes(&compile(&spec(features, target)).expect("the spec compiles"))
}

/// Features from a short list of names (Flatpak's four `allow` values, and `port-rules`,
/// `udp-none`, `io-uring`).
pub fn features(names: &[&str]) -> Features {
    Features {
        devel: names.contains(&"devel"),
        multiarch: names.contains(&"multiarch"),
        bluetooth: names.contains(&"bluetooth"),
        canbus: names.contains(&"canbus"),
        port_rules: names.contains(&"port-rules") || names.contains(&"udp-none"),
        udp_none: names.contains(&"udp-none"),
        io_uring: names.contains(&"io-uring"),
    }
}
