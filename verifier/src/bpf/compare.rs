//! Two programs side by side: every probe where their verdicts differ. Used to hold our
//! filter against Flatpak's captured one, and by `diff`-style tooling.

use super::interp::{run, Fault};
use super::probe;
use super::Insn;
use portcullis_ir::seccomp::decide::argument_constants;
use portcullis_ir::seccomp::{Arch, SeccompData};

/// One probe where the two programs disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The input.
    pub data: SeccompData,
    /// The left program's `ret` (or fault).
    pub left: Result<u32, Fault>,
    /// The right program's.
    pub right: Result<u32, Fault>,
}

/// The probes both programs were run on, and where they differ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// How many probes ran.
    pub probes: u64,
    /// Every difference.
    pub differences: Vec<Difference>,
}

/// Runs `left` and `right` on the same probes (the union of what each one's constants set
/// apart, plus the IR's argument constants).
pub fn compare(left: &[Insn], right: &[Insn]) -> Comparison {
    let mut out = Comparison::default();
    for token in probe::tokens() {
        let arch = Arch::from_audit(token);
        for nr in probe::numbers(token) {
            let extra = |i: usize| match arch {
                Some(arch) => argument_constants(arch, nr, i),
                None => Vec::new(),
            };
            for data in probe::for_number(&[left, right], token, nr, &extra) {
                out.probes += 1;
                let l = run(left, &data).map(|r| r.ret);
                let r = run(right, &data).map(|r| r.ret);
                if l != r {
                    out.differences.push(Difference {
                        data,
                        left: l,
                        right: r,
                    });
                }
            }
        }
    }
    out
}
