//! Static checks of a seccomp program, before anything runs it: what the kernel's own
//! checker refuses (length, opcodes, loads, jumps, a path without `ret`, scratch memory
//! read before it is written, division by a zero constant) and what a sound filter must
//! also do (the architecture is checked before the syscall number or an argument is read
//! or anything is allowed; no instruction is unreachable).

use std::collections::BTreeSet;

use super::op::{self, Field};
use super::Insn;
use portcullis_ir::seccomp::Action;

/// What is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum FindingKind {
    /// No instructions at all.
    Empty,
    /// More than 4096 instructions.
    TooLong { len: usize },
    /// An opcode seccomp does not accept.
    BadOpcode { code: u16 },
    /// A load outside `seccomp_data` or unaligned.
    BadLoad { offset: u32 },
    /// A scratch-memory index above 15.
    BadMemory { index: u32 },
    /// Division or modulo by the constant 0.
    DivisionByZero,
    /// A jump whose target lies past the end.
    JumpOutOfRange { target: usize },
    /// A path runs past the last instruction without a `ret`.
    FallsOffEnd,
    /// Scratch memory read on some path before any write to it.
    MemoryReadBeforeWrite { index: u32 },
    /// The syscall number or an argument is read, or the syscall allowed, on a path where
    /// the architecture has not been pinned by a `jeq` on it.
    ArchNotChecked,
    /// No path reaches this instruction.
    Unreachable,
}

/// One finding, at an instruction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Finding {
    /// The instruction's index.
    pub pc: usize,
    /// What is wrong there.
    #[serde(flatten)]
    pub kind: FindingKind,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pc = self.pc;
        match &self.kind {
            FindingKind::Empty => write!(f, "the program is empty"),
            FindingKind::TooLong { len } => {
                write!(
                    f,
                    "the program has {len} instructions (the kernel allows 4096)"
                )
            }
            FindingKind::BadOpcode { code } => {
                write!(
                    f,
                    "instruction {pc}: opcode {code:#06x} is not allowed in seccomp"
                )
            }
            FindingKind::BadLoad { offset } => {
                write!(
                    f,
                    "instruction {pc}: load at offset {offset} is outside seccomp_data"
                )
            }
            FindingKind::BadMemory { index } => {
                write!(
                    f,
                    "instruction {pc}: scratch memory index {index} is out of range"
                )
            }
            FindingKind::DivisionByZero => write!(f, "instruction {pc}: division by zero"),
            FindingKind::JumpOutOfRange { target } => {
                write!(f, "instruction {pc}: jump to {target}, past the end")
            }
            FindingKind::FallsOffEnd => {
                write!(
                    f,
                    "instruction {pc}: a path runs past the end without `ret`"
                )
            }
            FindingKind::MemoryReadBeforeWrite { index } => {
                write!(
                    f,
                    "instruction {pc}: scratch memory {index} may be read before it is written"
                )
            }
            FindingKind::ArchNotChecked => write!(
                f,
                "instruction {pc}: reached before the architecture is checked"
            ),
            FindingKind::Unreachable => write!(f, "instruction {pc}: unreachable"),
        }
    }
}

/// What the abstract state knows at one point of one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct State {
    /// The accumulator holds `seccomp_data.arch`, unchanged.
    a_is_arch: bool,
    /// The architecture was pinned by the true edge of a `jeq` on it.
    arch_pinned: bool,
    /// Bit `i`: scratch word `i` has been written.
    written: u16,
}

/// Every finding for `program`, sorted by instruction. Empty means the program passes.
pub fn check(program: &[Insn]) -> Vec<Finding> {
    let mut findings = BTreeSet::new();
    let mut add = |pc, kind| {
        findings.insert(Finding { pc, kind });
    };
    if program.is_empty() {
        add(0, FindingKind::Empty);
        return findings.into_iter().collect();
    }
    if program.len() > op::MAXINSNS {
        add(0, FindingKind::TooLong { len: program.len() });
    }
    let len = program.len();
    let mut states: Vec<BTreeSet<State>> = vec![BTreeSet::new(); len];
    states[0].insert(State {
        a_is_arch: false,
        arch_pinned: false,
        written: 0,
    });
    for pc in 0..len {
        let insn = program[pc];
        let here: Vec<State> = states[pc].iter().copied().collect();
        if here.is_empty() {
            add(pc, FindingKind::Unreachable);
            continue;
        }
        let code = insn.code;
        let k = insn.k;
        let mut succ: Vec<(usize, State)> = Vec::new();
        let unpinned = here.iter().any(|s| !s.arch_pinned);
        match op::class(code) {
            op::LD | op::LDX => {
                let to_x = op::class(code) == op::LDX;
                let mode = code & 0xe0;
                let sized = code & 0x18 == op::W;
                let mut loads_arch = false;
                match mode {
                    op::ABS if !to_x && sized => match op::field(k) {
                        Some(Field::Arch) => loads_arch = true,
                        Some(Field::Nr) | Some(Field::Arg(..)) => {
                            if unpinned {
                                add(pc, FindingKind::ArchNotChecked);
                            }
                        }
                        Some(Field::Ip(_)) => {}
                        None => add(pc, FindingKind::BadLoad { offset: k }),
                    },
                    op::MEM if sized => {
                        if k >= op::MEMWORDS {
                            add(pc, FindingKind::BadMemory { index: k });
                        } else if here.iter().any(|s| s.written & (1 << k) == 0) {
                            add(pc, FindingKind::MemoryReadBeforeWrite { index: k });
                        }
                    }
                    op::IMM | op::LEN if sized => {}
                    _ => add(pc, FindingKind::BadOpcode { code }),
                }
                for s in &here {
                    let mut s = *s;
                    if !to_x {
                        s.a_is_arch = loads_arch;
                    }
                    succ.push((pc + 1, s));
                }
            }
            op::ST | op::STX => {
                if code & !0x07 != 0 {
                    add(pc, FindingKind::BadOpcode { code });
                }
                for s in &here {
                    let mut s = *s;
                    if k < op::MEMWORDS {
                        s.written |= 1 << k;
                    } else {
                        add(pc, FindingKind::BadMemory { index: k });
                    }
                    succ.push((pc + 1, s));
                }
            }
            op::ALU => {
                let operation = op::operation(code);
                if operation > op::XOR || (code & 0x07) != op::ALU || code & 0x0f00 != 0 {
                    add(pc, FindingKind::BadOpcode { code });
                }
                if matches!(operation, op::DIV | op::MOD) && op::source(code) == op::K && k == 0 {
                    add(pc, FindingKind::DivisionByZero);
                }
                for s in &here {
                    let mut s = *s;
                    s.a_is_arch = false;
                    succ.push((pc + 1, s));
                }
            }
            op::JMP => {
                let operation = op::operation(code);
                if operation == op::JA {
                    if op::source(code) != op::K {
                        add(pc, FindingKind::BadOpcode { code });
                    }
                    let target = (pc + 1).saturating_add(k as usize);
                    for s in &here {
                        succ.push((target, *s));
                    }
                } else {
                    if operation > op::JSET {
                        add(pc, FindingKind::BadOpcode { code });
                    }
                    let pins = operation == op::JEQ && op::source(code) == op::K;
                    for s in &here {
                        let mut taken = *s;
                        if pins && s.a_is_arch {
                            taken.arch_pinned = true;
                        }
                        succ.push((pc + 1 + usize::from(insn.jt), taken));
                        succ.push((pc + 1 + usize::from(insn.jf), *s));
                    }
                }
            }
            op::RET => {
                if code & 0x18 == 0x08 || code & !0x1f != 0 {
                    add(pc, FindingKind::BadOpcode { code });
                }
                let permissive = code & 0x18 == op::RET_A
                    || !matches!(
                        Action::from_ret(k),
                        Some(Action::KillProcess | Action::KillThread | Action::Errno(_))
                    );
                if unpinned && permissive {
                    add(pc, FindingKind::ArchNotChecked);
                }
            }
            _ => {
                if code != op::MISC | op::TAX && code != op::MISC | op::TXA {
                    add(pc, FindingKind::BadOpcode { code });
                }
                for s in &here {
                    let mut s = *s;
                    if code == op::MISC | op::TXA {
                        s.a_is_arch = false;
                    }
                    succ.push((pc + 1, s));
                }
            }
        }
        for (target, state) in succ {
            if target >= len {
                if target == len && op::class(code) != op::JMP {
                    add(pc, FindingKind::FallsOffEnd);
                } else {
                    add(pc, FindingKind::JumpOutOfRange { target });
                }
            } else {
                states[target].insert(state);
            }
        }
    }
    findings.into_iter().collect()
}
