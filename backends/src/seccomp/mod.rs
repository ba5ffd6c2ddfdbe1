//! The seccomp backend: a [`FilterSpec`] from the IR to a classic BPF program, one section
//! per architecture, in the `struct sock_filter` layout `bwrap --seccomp FD` and
//! `seccomp(SECCOMP_SET_MODE_FILTER)` read.
//!
//! The program is generated here rather than through seccompiler, whose programs test one
//! syscall after another: Flatpak's filter (libseccomp, the same linear shape) runs about 37
//! instructions per syscall. Ours dispatches on the syscall number with a search tree
//! weighted by how many table entries each range holds (see [`tree`]), so a syscall costs a
//! handful of comparisons, and a syscall whose verdict never depends on its arguments only
//! ever meets loads of `nr`/`arch`, jumps and returns, which lets the kernel's seccomp
//! action cache skip the program entirely for it.
//!
//! Layout:
//!
//! ```text
//!   ld arch; jeq NATIVE ? section : (ja next)
//!   section: ld nr; <tree over nr>           -- leaves are RETs or argument blocks
//!   next:    jeq COMPAT ? ... (with multiarch)
//!   ret FOREIGN
//! ```

pub mod args;
pub mod insn;
pub mod section;
pub mod tree;

pub use insn::SockFilter;

use portcullis_ir::seccomp::{spec, Arch, Features, FilterSpec};
use portcullis_ir::Policy;

/// Why a program could not be built (none of these happen for the specs the IR produces;
/// they guard the generator's own limits).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeccompError {
    /// A conditional jump would need an offset above 255.
    #[error("a jump in the `{arch}` section spans {distance} instructions (at most 255)")]
    JumpTooFar { arch: &'static str, distance: usize },
    /// The program exceeds the kernel's 4096-instruction limit.
    #[error("the program has {0} instructions (the kernel allows 4096)")]
    TooLong(usize),
}

/// The kernel's limit on a classic BPF program.
pub const MAX_INSNS: usize = 4096;

/// Builds the program for `spec`.
pub fn compile(spec: &FilterSpec) -> Result<Vec<SockFilter>, SeccompError> {
    let mut program = vec![insn::ld_abs(insn::OFF_ARCH)];
    for &arch in &spec.arches {
        let body = section::build(spec, arch)?;
        // jeq ARCH: fall into the section's `ja`-skipping jump, else to the `ja` that
        // leads to the next architecture check.
        program.push(insn::jeq(arch.audit(), 1, 0));
        program.push(insn::ja(body.len() as u32));
        program.extend(body);
    }
    program.push(insn::ret(spec.foreign));
    if program.len() > MAX_INSNS {
        return Err(SeccompError::TooLong(program.len()));
    }
    Ok(program)
}

/// The program for a policy's features on `target`.
pub fn compile_policy(policy: &Policy, target: Arch) -> Result<Vec<SockFilter>, SeccompError> {
    compile(&spec(Features::from_policy(policy), target))
}

/// The raw bytes of a program (8 bytes per instruction, little-endian).
pub fn to_bytes(program: &[SockFilter]) -> Vec<u8> {
    program.iter().flat_map(|i| i.to_bytes()).collect()
}
