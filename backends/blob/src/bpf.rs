//! What the kernel's checker accepts as a seccomp program, checked while a blob is decoded
//! so that a program `seccomp(2)` would refuse is found before the executor changes
//! anything (it installs the filter last, long after directories were created on the host
//! and the D-Bus proxy was started).
//!
//! The rules are those of the kernel's classic-BPF checker together with seccomp's own
//! restrictions on top of it, written down here from their documented behaviour:
//!
//! - 1 to [`MAX_BPF_INSNS`] instructions (an empty program means "no filter" in a blob and
//!   is not checked);
//! - only the opcodes seccomp accepts: `ld`/`ldx` of an immediate, of scratch memory or of
//!   the data length; `ld` of an aligned 32-bit word of `struct seccomp_data`
//!   (`BPF_LD|BPF_W|BPF_ABS`, offset a multiple of 4 below [`SECCOMP_DATA_LEN`]); `st`,
//!   `stx`; the ALU operations add, sub, mul, div, and, or, xor, lsh, rsh (constant or `X`)
//!   and neg; `tax`, `txa`; `ja` and the conditional jumps `jeq`, `jgt`, `jge`, `jset`
//!   (constant or `X`); `ret` of a constant or of `A`. No modulo, no byte or half-word
//!   loads, no indirect loads;
//! - division by the constant 0 and shifts by a constant of 32 or more are refused;
//! - scratch memory has 16 words; a word is read only where every path to the read has
//!   written it first (the kernel's forward data-flow: at each jump target, the words
//!   known written on every edge into it);
//! - every jump lands inside the program, forward (offsets are unsigned);
//! - the last instruction is a `ret`.

use crate::blob::{SockFilter, MAX_BPF_INSNS};

/// Size of `struct seccomp_data` (nr, arch, instruction pointer, six arguments).
pub const SECCOMP_DATA_LEN: u32 = 64;
/// Words of scratch memory (`BPF_MEMWORDS`).
pub const MEM_WORDS: u32 = 16;

// Classes, sizes, modes, operations and sources of classic BPF opcodes.
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const W: u16 = 0x00;
const IMM: u16 = 0x00;
const ABS: u16 = 0x20;
const MEM: u16 = 0x60;
const LEN: u16 = 0x80;
const K: u16 = 0x00;
const A: u16 = 0x10;
const DIV: u16 = 0x30;
const LSH: u16 = 0x60;
const RSH: u16 = 0x70;
const NEG: u16 = 0x80;
const JA: u16 = 0x00;
const TAX: u16 = 0x00;
const TXA: u16 = 0x80;

/// The binary ALU operations seccomp accepts (modulo is not among them).
const ALU_OPS: [u16; 9] = [0x00, 0x10, 0x20, DIV, 0x40, 0x50, LSH, RSH, 0xa0];
/// The conditional jumps: jeq, jgt, jge, jset.
const JUMP_OPS: [u16; 4] = [0x10, 0x20, 0x30, 0x40];

/// What an instruction does, as far as the checks care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    LoadData,
    LoadMem,
    Store,
    Jump,
    Branch,
    Return,
}

fn kind(code: u16) -> Option<Kind> {
    if code > 0xff {
        return None;
    }
    // Class in the low three bits, operation in the high four; the `X` bit between them
    // only matters to ALU operations and conditional jumps, which accept both sources.
    let (class, op) = (code & 0x07, code & 0xf0);
    let kind = match class {
        ALU if ALU_OPS.contains(&op) => Kind::Plain,
        ALU if code == ALU | NEG => Kind::Plain,
        JMP if code == JMP | JA => Kind::Jump,
        JMP if JUMP_OPS.contains(&op) => Kind::Branch,
        RET if code == RET | K || code == RET | A => Kind::Return,
        MISC if code == MISC | TAX || code == MISC | TXA => Kind::Plain,
        ST | STX if code == class => Kind::Store,
        LD if code == LD | W | ABS => Kind::LoadData,
        LD | LDX if code == class | W | LEN || code == class | IMM => Kind::Plain,
        LD | LDX if code == class | MEM => Kind::LoadMem,
        _ => return None,
    };
    Some(kind)
}

/// Why the kernel would refuse a program, with the instruction at fault.
fn refuse(pc: usize, why: impl std::fmt::Display) -> String {
    format!("instruction {pc}: {why} (the kernel refuses this program)")
}

/// Checks `program` with the kernel's rules for a seccomp filter; the message says which
/// instruction breaks which rule.
pub fn check(program: &[SockFilter]) -> Result<(), String> {
    let len = program.len();
    if len == 0 || len > MAX_BPF_INSNS {
        return Err(format!(
            "{len} instructions: a filter has 1 to {MAX_BPF_INSNS}"
        ));
    }
    for (pc, insn) in program.iter().enumerate() {
        let Some(kind) = kind(insn.code) else {
            return Err(refuse(
                pc,
                format_args!("opcode {:#06x} is not allowed in seccomp", insn.code),
            ));
        };
        let k = insn.k;
        // Offsets count from the next instruction and must stay inside the program.
        let room = (len - pc - 1) as u64;
        match kind {
            Kind::LoadData if k >= SECCOMP_DATA_LEN || k % 4 != 0 => {
                return Err(refuse(
                    pc,
                    format_args!("load at offset {k} is not an aligned word of seccomp_data"),
                ))
            }
            Kind::LoadMem | Kind::Store if k >= MEM_WORDS => {
                return Err(refuse(
                    pc,
                    format_args!("scratch memory word {k} (0 to 15)"),
                ))
            }
            Kind::Plain if insn.code == ALU | DIV | K && k == 0 => {
                return Err(refuse(pc, "division by the constant 0"))
            }
            Kind::Plain
                if (insn.code == ALU | LSH | K || insn.code == ALU | RSH | K) && k >= 32 =>
            {
                return Err(refuse(pc, format_args!("shift by {k}")))
            }
            Kind::Jump if u64::from(k) >= room => {
                return Err(refuse(pc, format_args!("jump by {k} leaves the program")))
            }
            Kind::Branch if u64::from(insn.jt.max(insn.jf)) >= room => {
                return Err(refuse(
                    pc,
                    format_args!("branch by {}/{} leaves the program", insn.jt, insn.jf),
                ))
            }
            _ => {}
        }
    }
    // INVARIANT: `len` is at least 1 (checked above).
    let last = program[len - 1];
    if kind(last.code) != Some(Kind::Return) {
        return Err(refuse(len - 1, "the program does not end with `ret`"));
    }
    scratch_written_before_read(program)
}

/// The kernel's data flow over scratch memory: one bit per word, set once written. At an
/// instruction reached by jumps, only the words written on every incoming edge count; the
/// fall-through edge carries what the instruction before it knew, and after a jump nothing
/// falls through (the next instruction keeps only what its incoming jumps bring).
fn scratch_written_before_read(program: &[SockFilter]) -> Result<(), String> {
    let mut at_target = vec![u16::MAX; program.len()];
    let mut written = 0u16;
    for (pc, insn) in program.iter().enumerate() {
        written &= at_target[pc];
        let word = 1u16 << (insn.k % MEM_WORDS);
        match kind(insn.code) {
            Some(Kind::Store) => written |= word,
            Some(Kind::LoadMem) if written & word == 0 => {
                return Err(refuse(
                    pc,
                    format_args!(
                        "scratch memory word {} may be read before it is written",
                        insn.k
                    ),
                ))
            }
            Some(Kind::Jump) => {
                at_target[pc + 1 + insn.k as usize] &= written;
                written = u16::MAX;
            }
            Some(Kind::Branch) => {
                at_target[pc + 1 + usize::from(insn.jt)] &= written;
                at_target[pc + 1 + usize::from(insn.jf)] &= written;
                written = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    const ALLOW: u32 = 0x7fff_0000;

    fn ret() -> SockFilter {
        i(0x06, 0, 0, ALLOW)
    }

    #[test]
    fn accepts_what_the_kernel_accepts() {
        let programs: Vec<Vec<SockFilter>> = vec![
            vec![ret()],
            vec![i(0x20, 0, 0, 0), i(0x15, 0, 1, 39), ret(), ret()],
            vec![i(0x20, 0, 0, 60), i(0x16, 0, 0, 0)],
            vec![i(0x00, 0, 0, 5), i(0x02, 0, 0, 3), i(0x61, 0, 0, 3), ret()],
            // Written on both branches, read where they meet.
            vec![
                i(0x20, 0, 0, 0),
                i(0x15, 0, 2, 1),
                i(0x02, 0, 0, 7),
                i(0x05, 0, 0, 1),
                i(0x02, 0, 0, 7),
                i(0x60, 0, 0, 7),
                ret(),
            ],
            vec![
                i(0x04 | 0x30, 0, 0, 2),
                i(0x04 | 0x60, 0, 0, 31),
                i(0x04 | 0xa0 | 0x08, 0, 0, 0),
                i(0x84, 0, 0, 0),
                i(0x07, 0, 0, 0),
                i(0x87, 0, 0, 0),
                i(0x80, 0, 0, 0),
                i(0x81, 0, 0, 0),
                i(0x4d, 0, 0, 0),
                ret(),
            ],
        ];
        for program in programs {
            assert_eq!(check(&program), Ok(()), "{program:?}");
        }
        let long = vec![ret(); MAX_BPF_INSNS];
        assert_eq!(check(&long), Ok(()));
    }

    #[test]
    fn refuses_what_the_kernel_refuses() {
        let cases: Vec<(Vec<SockFilter>, &str)> = vec![
            (vec![], "1 to 4096"),
            (vec![ret(); MAX_BPF_INSNS + 1], "1 to 4096"),
            (vec![i(0x20, 0, 0, 2), ret()], "aligned word"),
            (vec![i(0x20, 0, 0, 64), ret()], "aligned word"),
            (vec![i(0x28, 0, 0, 0), ret()], "opcode 0x0028"),
            (vec![i(0x30, 0, 0, 0), ret()], "opcode 0x0030"),
            (vec![i(0x40, 0, 0, 0), ret()], "opcode 0x0040"),
            (vec![i(0x94, 0, 0, 3), ret()], "opcode 0x0094"),
            (vec![i(0x0e, 0, 0, 0), ret()], "opcode 0x000e"),
            (vec![i(0xb1, 0, 0, 0), ret()], "opcode 0x00b1"),
            (vec![i(0x15 | 0x100, 0, 0, 0), ret()], "opcode 0x0115"),
            (vec![i(0x34, 0, 0, 0), ret()], "division by the constant 0"),
            (vec![i(0x64, 0, 0, 32), ret()], "shift by 32"),
            (vec![i(0x02, 0, 0, 16), ret()], "word 16"),
            (vec![i(0x61, 0, 0, 1), ret()], "read before it is written"),
            (vec![i(0x05, 0, 0, 1), ret()], "leaves the program"),
            (vec![i(0x15, 1, 0, 0), ret()], "leaves the program"),
            (vec![i(0x15, 0, 1, 0), ret()], "leaves the program"),
            (vec![ret(), i(0x20, 0, 0, 0)], "does not end with `ret`"),
            // Written on one branch only.
            (
                vec![
                    i(0x20, 0, 0, 0),
                    i(0x15, 0, 1, 1),
                    i(0x02, 0, 0, 7),
                    i(0x60, 0, 0, 7),
                    ret(),
                ],
                "read before it is written",
            ),
        ];
        for (program, needle) in cases {
            let err = check(&program).expect_err("refused");
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }
}
