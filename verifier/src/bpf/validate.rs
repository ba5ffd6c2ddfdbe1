//! Translation validation: for every probe (see [`super::probe`]) the program's verdict
//! must equal the IR's intended decision ([`portcullis_ir::seccomp::decide`]). Together
//! with the static checks this proves the program means what the policy says, on every
//! syscall number of every supported architecture and every argument partition.

use super::check::{check, Finding};
use super::interp::{run, Fault};
use super::probe;
use super::Insn;
use portcullis_ir::seccomp::decide::{argument_constants, filter_arches};
use portcullis_ir::seccomp::{decide, Action, Arch, Features};

/// How many mismatches a report keeps in full.
const KEEP: usize = 64;

/// One probe where the program and the intended decision disagree.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// The architecture token.
    pub arch: u32,
    /// The syscall number.
    pub nr: u32,
    /// Its name, when the token is a supported architecture whose table has it.
    pub syscall: Option<&'static str>,
    /// The arguments.
    pub args: [u64; 6],
    /// What the policy means.
    pub expected: String,
    /// What the program did (`ret` value rendered, or the fault).
    pub got: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let arch = Arch::from_audit(self.arch)
            .map(|a| a.name().to_string())
            .unwrap_or_else(|| format!("{:#010x}", self.arch));
        let name = self.syscall.unwrap_or("?");
        write!(
            f,
            "{arch} nr {} ({name}) args {:#x?}: expected {}, program gives {}",
            self.nr, self.args, self.expected, self.got
        )
    }
}

/// The outcome of validating one program.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Static findings (empty when the program is well-formed).
    pub findings: Vec<Finding>,
    /// How many probes ran.
    pub probes: u64,
    /// How many disagreed.
    pub mismatch_count: u64,
    /// The first disagreements.
    pub mismatches: Vec<Mismatch>,
    /// Every syscall (by name) with at least one disagreement, kept or not.
    pub mismatched_syscalls: std::collections::BTreeSet<&'static str>,
}

impl Report {
    /// Whether the program passed every check.
    pub fn passed(&self) -> bool {
        self.findings.is_empty() && self.mismatch_count == 0
    }
}

/// Renders a `ret` value.
pub fn verdict(ret: Result<u32, Fault>) -> String {
    match ret {
        Ok(value) => match Action::from_ret(value) {
            Some(action) => action.to_string(),
            None => format!("RET {value:#010x}"),
        },
        Err(fault) => format!("fault: {fault}"),
    }
}

/// Validates `program` as the filter for `target` with `features`.
pub fn validate(program: &[Insn], features: Features, target: Arch) -> Report {
    let mut report = Report {
        findings: check(program),
        ..Report::default()
    };
    let sections = filter_arches(target, features);
    for token in probe::tokens() {
        let arch = Arch::from_audit(token);
        // The intended decision reads arguments only for an ABI the filter has a section
        // for (any other is killed whatever its arguments); the program's own constants
        // still steer the probes everywhere.
        let in_filter = arch.filter(|a| sections.contains(a));
        for nr in probe::numbers(token) {
            let extra = |i: usize| match in_filter {
                Some(arch) => argument_constants(arch, nr, i),
                None => Vec::new(),
            };
            for data in probe::for_number(&[program], token, nr, &extra) {
                report.probes += 1;
                let expected = decide(features, target, &data);
                let got = run(program, &data).map(|r| r.ret);
                if got.as_ref().ok().and_then(|&r| Action::from_ret(r)) == Some(expected) {
                    continue;
                }
                report.mismatch_count += 1;
                if let Some(name) = arch.and_then(|a| a.syscall_name(nr)) {
                    report.mismatched_syscalls.insert(name);
                }
                if report.mismatches.len() < KEEP {
                    report.mismatches.push(Mismatch {
                        arch: token,
                        nr,
                        syscall: arch.and_then(|a| a.syscall_name(nr)),
                        args: data.args,
                        expected: expected.to_string(),
                        got: verdict(got),
                    });
                }
            }
        }
    }
    report
}
