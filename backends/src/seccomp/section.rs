//! One architecture's section: `ld nr`, then the tree over every syscall number.

use std::collections::BTreeMap;

use super::args;
use super::insn::{self, SockFilter};
use super::tree::{Leaf, Pieces};
use super::SeccompError;
use portcullis_ir::seccomp::arch::X32_SYSCALL_BIT;
use portcullis_ir::seccomp::{Action, Arch, FilterSpec};

/// Weight of one syscall in the table; a number missing from it weighs 1/16 of that, as
/// programs only call the syscalls that exist.
const KNOWN_WEIGHT: u64 = 16;

/// The section for `arch` (without the architecture check in front of it).
pub fn build(spec: &FilterSpec, arch: Arch) -> Result<Vec<SockFilter>, SeccompError> {
    let too_far = |distance| SeccompError::JumpTooFar {
        arch: arch.name(),
        distance,
    };
    // The rules this architecture has a syscall for; others are skipped (§4.1).
    let mut by_nr: BTreeMap<u32, Leaf> = BTreeMap::new();
    for rule in &spec.rules {
        if let Some(nr) = arch.syscall_number(rule.syscall) {
            by_nr.insert(nr, args::leaf(&rule.clauses, arch).map_err(too_far)?);
        }
    }
    let mut pieces = Pieces::default();
    let mut cursor = 0u32;
    for &(nr, _) in arch.table() {
        if nr > cursor {
            pieces.push(cursor, Leaf::Ret(spec.unknown), 1);
        }
        let leaf = by_nr.remove(&nr).unwrap_or(Leaf::Ret(Action::Allow));
        pieces.push(nr, leaf, KNOWN_WEIGHT);
        cursor = nr + 1;
    }
    if arch == Arch::X86_64 {
        // x32 numbers carry the x86_64 audit token: refuse them here.
        pieces.push(cursor, Leaf::Ret(spec.unknown), 1);
        pieces.push(X32_SYSCALL_BIT, Leaf::Ret(spec.foreign), 1);
    } else {
        pieces.push(cursor, Leaf::Ret(spec.unknown), 1);
    }
    // nr -1: a tracer skipping the syscall; the kernel runs nothing.
    pieces.push(u32::MAX, Leaf::Ret(Action::Allow), 1);
    let mut code = vec![insn::ld_abs(insn::OFF_NR)];
    code.extend(pieces.emit().map_err(too_far)?);
    Ok(code)
}
