//! A classic BPF interpreter over one `seccomp_data`, with the kernel's semantics for
//! seccomp filters (loads only from `seccomp_data`, `len` is 64, division by a zero X
//! returns 0, jumps only go forward).
//!
//! Besides the verdict it reports how many instructions ran and which constants the
//! program compared argument words against, so that a checker can find the argument
//! values that lead down each branch.

use super::op::{self, Field};
use super::Insn;
use portcullis_ir::seccomp::SeccompData;

/// One run of a program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// The 32-bit value of the `ret` that ended the run.
    pub ret: u32,
    /// How many instructions ran, the `ret` included.
    pub steps: usize,
    /// Every constant an argument word (or a value computed from one) was compared with or
    /// masked by, with the word.
    pub arg_constants: Vec<(Field, u32)>,
    /// Bit `i` set: argument `i` was read.
    pub args_read: u8,
}

/// Why a run stopped without a `ret` (the kernel's checker refuses programs that can).
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum Fault {
    /// Control left the program.
    #[error("control falls off the end of the program after instruction {0}")]
    FellOff(usize),
    /// An opcode seccomp does not accept.
    #[error("instruction {pc}: opcode {code:#06x} is not allowed in a seccomp filter")]
    BadOpcode { pc: usize, code: u16 },
    /// A load outside `seccomp_data` or not aligned to 4 bytes.
    #[error("instruction {pc}: load at offset {offset} is outside seccomp_data or unaligned")]
    BadLoad { pc: usize, offset: u32 },
    /// A scratch-memory index above 15.
    #[error("instruction {pc}: scratch memory index {index} is out of range")]
    BadMemory { pc: usize, index: u32 },
}

fn word(data: &SeccompData, field: Field) -> u32 {
    match field {
        Field::Nr => data.nr,
        Field::Arch => data.arch,
        Field::Ip(high) => half(data.instruction_pointer, high),
        Field::Arg(i, high) => half(data.args[usize::from(i)], high),
    }
}

fn half(value: u64, high: bool) -> u32 {
    if high {
        (value >> 32) as u32
    } else {
        value as u32
    }
}

/// Runs `program` on `data`.
pub fn run(program: &[Insn], data: &SeccompData) -> Result<Run, Fault> {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; op::MEMWORDS as usize];
    // The argument word A (or X) was computed from, if any.
    let mut a_from: Option<Field> = None;
    let mut x_from: Option<Field> = None;
    let mut out = Run::default();
    let mut pc = 0usize;
    loop {
        let Some(insn) = program.get(pc) else {
            return Err(Fault::FellOff(pc.saturating_sub(1)));
        };
        out.steps += 1;
        let code = insn.code;
        let k = insn.k;
        let bad = Fault::BadOpcode { pc, code };
        let mut next = pc + 1;
        match op::class(code) {
            op::LD | op::LDX => {
                let to_x = op::class(code) == op::LDX;
                let (value, from) = match code & 0xe0 {
                    op::ABS if !to_x && code & 0x18 == op::W => {
                        let field = op::field(k).ok_or(Fault::BadLoad { pc, offset: k })?;
                        if let Field::Arg(i, _) = field {
                            out.args_read |= 1 << i;
                        }
                        let from = matches!(field, Field::Arg(..)).then_some(field);
                        (word(data, field), from)
                    }
                    op::IMM if code & 0x18 == op::W => (k, None),
                    op::MEM if code & 0x18 == op::W => {
                        let slot = mem
                            .get(k as usize)
                            .ok_or(Fault::BadMemory { pc, index: k })?;
                        (*slot, None)
                    }
                    op::LEN if code & 0x18 == op::W => (op::DATA_LEN, None),
                    _ => return Err(bad),
                };
                if to_x {
                    x = value;
                    x_from = from;
                } else {
                    a = value;
                    a_from = from;
                }
            }
            op::ST | op::STX => {
                if code & !0x07 != 0 {
                    return Err(bad);
                }
                let slot = mem
                    .get_mut(k as usize)
                    .ok_or(Fault::BadMemory { pc, index: k })?;
                *slot = if op::class(code) == op::ST { a } else { x };
            }
            op::ALU => {
                let operand = if op::source(code) == op::X { x } else { k };
                if let (Some(field), op::K) = (a_from, op::source(code)) {
                    out.arg_constants.push((field, k));
                }
                a = match op::operation(code) {
                    op::ADD => a.wrapping_add(operand),
                    op::SUB => a.wrapping_sub(operand),
                    op::MUL => a.wrapping_mul(operand),
                    op::DIV | op::MOD if operand == 0 => {
                        // The kernel ends the program with 0 (SECCOMP_RET_KILL_THREAD).
                        out.ret = 0;
                        return Ok(out);
                    }
                    op::DIV => a / operand,
                    op::MOD => a % operand,
                    op::OR => a | operand,
                    op::AND => a & operand,
                    op::LSH => a.checked_shl(operand).unwrap_or(0),
                    op::RSH => a.checked_shr(operand).unwrap_or(0),
                    op::NEG => a.wrapping_neg(),
                    op::XOR => a ^ operand,
                    _ => return Err(bad),
                };
                if op::source(code) == op::X && a_from.is_none() {
                    a_from = x_from;
                }
            }
            op::JMP => {
                if op::operation(code) == op::JA {
                    if op::source(code) != op::K {
                        return Err(bad);
                    }
                    next = pc + 1 + k as usize;
                } else {
                    let operand = if op::source(code) == op::X { x } else { k };
                    if let Some(field) = a_from {
                        out.arg_constants.push((field, operand));
                    }
                    let taken = match op::operation(code) {
                        op::JEQ => a == operand,
                        op::JGT => a > operand,
                        op::JGE => a >= operand,
                        op::JSET => a & operand != 0,
                        _ => return Err(bad),
                    };
                    next = pc + 1 + usize::from(if taken { insn.jt } else { insn.jf });
                }
            }
            op::RET => {
                out.ret = match code & 0x18 {
                    0 => k,
                    op::RET_A => a,
                    _ => return Err(bad),
                };
                return Ok(out);
            }
            _ => match code {
                c if c == op::MISC | op::TAX => {
                    x = a;
                    x_from = a_from;
                }
                c if c == op::MISC | op::TXA => {
                    a = x;
                    a_from = x_from;
                }
                _ => return Err(bad),
            },
        }
        pc = next;
    }
}
