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
    /// Every constant an argument word (or a value computed from one) was and-ed with:
    /// the bits outside such a mask cannot change what follows, so a checker probes
    /// values that differ only there too.
    pub arg_masks: Vec<(Field, u32)>,
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
                    if op::operation(code) == op::AND {
                        out.arg_masks.push((field, k));
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn i(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
        Insn { code, jt, jf, k }
    }

    fn data(nr: u32, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr,
            arch: 0xC000_003E,
            instruction_pointer: 0x1234_5678_9abc_def0,
            args,
        }
    }

    #[test]
    fn alu_memory_and_ret_a() {
        // A = a0.lo; A += 5; A *= 3; A -= 1; M[2] = A; A = 0; X = M[2]; A = X; A ^= 0xff;
        // A |= 0x100; A &= 0xfff; A <<= 4; A >>= 2; A /= 2; A %= 7; A = -A; ret A
        let prog = [
            i(0x20, 0, 0, 16),
            i(0x04, 0, 0, 5),
            i(0x24, 0, 0, 3),
            i(0x14, 0, 0, 1),
            i(0x02, 0, 0, 2),
            i(0x00, 0, 0, 0),
            i(0x61, 0, 0, 2),
            i(0x87, 0, 0, 0),
            i(0xa4, 0, 0, 0xff),
            i(0x44, 0, 0, 0x100),
            i(0x54, 0, 0, 0xfff),
            i(0x64, 0, 0, 4),
            i(0x74, 0, 0, 2),
            i(0x34, 0, 0, 2),
            i(0x94, 0, 0, 7),
            i(0x84, 0, 0, 0),
            i(0x16, 0, 0, 0),
        ];
        let mut a: u32 = 10;
        a = (a + 5) * 3 - 1;
        a ^= 0xff;
        a |= 0x100;
        a &= 0xfff;
        a <<= 4;
        a >>= 2;
        a /= 2;
        a %= 7;
        a = a.wrapping_neg();
        let r = run(&prog, &data(0, [10, 0, 0, 0, 0, 0])).expect("runs");
        assert_eq!(r.ret, a);
        assert_eq!(r.steps, prog.len());
        assert_eq!(r.args_read, 1);
    }

    #[test]
    fn jumps_compare_as_documented() {
        // jgt 5 → ret 1; jge 5 → ret 2; jset 2 → ret 3; ret 4
        let prog = [
            i(0x20, 0, 0, 0),
            i(0x25, 3, 0, 5),
            i(0x35, 3, 0, 5),
            i(0x45, 3, 0, 2),
            i(0x06, 0, 0, 4),
            i(0x06, 0, 0, 1),
            i(0x06, 0, 0, 2),
            i(0x06, 0, 0, 3),
        ];
        let ret = |nr| run(&prog, &data(nr, [0; 6])).expect("runs").ret;
        assert_eq!(ret(6), 1);
        assert_eq!(ret(5), 2);
        assert_eq!(ret(2), 3);
        assert_eq!(ret(1), 4);
    }

    #[test]
    fn loads_of_every_field() {
        let ret_of = |offset| {
            let prog = [i(0x20, 0, 0, offset), i(0x16, 0, 0, 0)];
            run(&prog, &data(7, [0, 0x1_0000_0002, 0, 0, 0, 0x5_0000_0006]))
                .expect("runs")
                .ret
        };
        assert_eq!(ret_of(0), 7);
        assert_eq!(ret_of(4), 0xC000_003E);
        assert_eq!(ret_of(8), 0x9abc_def0);
        assert_eq!(ret_of(12), 0x1234_5678);
        assert_eq!(ret_of(24), 2);
        assert_eq!(ret_of(28), 1);
        assert_eq!(ret_of(56), 6);
        assert_eq!(ret_of(60), 5);
        // `ld len` is sizeof(seccomp_data).
        let prog = [i(0x80, 0, 0, 0), i(0x16, 0, 0, 0)];
        assert_eq!(run(&prog, &data(0, [0; 6])).expect("runs").ret, 64);
    }

    #[test]
    fn faults_and_division_by_zero() {
        assert_eq!(
            run(&[i(0x20, 0, 0, 64)], &data(0, [0; 6])),
            Err(Fault::BadLoad { pc: 0, offset: 64 })
        );
        assert_eq!(
            run(&[i(0x20, 0, 0, 2)], &data(0, [0; 6])),
            Err(Fault::BadLoad { pc: 0, offset: 2 })
        );
        assert_eq!(
            run(&[i(0x20, 0, 0, 0)], &data(0, [0; 6])),
            Err(Fault::FellOff(0))
        );
        assert_eq!(
            run(&[i(0xff, 0, 0, 0)], &data(0, [0; 6])),
            Err(Fault::BadOpcode { pc: 0, code: 0xff })
        );
        // A / X with X = 0 ends the program with 0.
        let prog = [i(0x00, 0, 0, 9), i(0x3c, 0, 0, 0), i(0x06, 0, 0, 1)];
        assert_eq!(run(&prog, &data(0, [0; 6])).expect("runs").ret, 0);
    }

    #[test]
    fn constants_compared_with_arguments_are_recorded() {
        let prog = [
            i(0x20, 0, 0, 24),
            i(0x54, 0, 0, 0xff00),
            i(0x15, 0, 1, 0x5400),
            i(0x06, 0, 0, 1),
            i(0x06, 0, 0, 2),
        ];
        let r = run(&prog, &data(0, [0; 6])).expect("runs");
        assert_eq!(
            r.arg_constants,
            vec![
                (Field::Arg(1, false), 0xff00),
                (Field::Arg(1, false), 0x5400)
            ]
        );
        assert_eq!(r.arg_masks, vec![(Field::Arg(1, false), 0xff00)]);
    }
}
