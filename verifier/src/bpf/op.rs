//! Opcode fields of classic BPF (`linux/filter.h`, `linux/bpf_common.h`) and the layout of
//! `struct seccomp_data`.

/// Instruction classes.
pub const LD: u16 = 0x00;
pub const LDX: u16 = 0x01;
pub const ST: u16 = 0x02;
pub const STX: u16 = 0x03;
pub const ALU: u16 = 0x04;
pub const JMP: u16 = 0x05;
pub const RET: u16 = 0x06;
pub const MISC: u16 = 0x07;

/// Size field.
pub const W: u16 = 0x00;
/// Mode field.
pub const IMM: u16 = 0x00;
pub const ABS: u16 = 0x20;
pub const MEM: u16 = 0x60;
pub const LEN: u16 = 0x80;

/// ALU and jump operations.
pub const ADD: u16 = 0x00;
pub const SUB: u16 = 0x10;
pub const MUL: u16 = 0x20;
pub const DIV: u16 = 0x30;
pub const OR: u16 = 0x40;
pub const AND: u16 = 0x50;
pub const LSH: u16 = 0x60;
pub const RSH: u16 = 0x70;
pub const NEG: u16 = 0x80;
pub const MOD: u16 = 0x90;
pub const XOR: u16 = 0xa0;
pub const JA: u16 = 0x00;
pub const JEQ: u16 = 0x10;
pub const JGT: u16 = 0x20;
pub const JGE: u16 = 0x30;
pub const JSET: u16 = 0x40;

/// Source field.
pub const K: u16 = 0x00;
pub const X: u16 = 0x08;
/// `BPF_RVAL` of a return: A.
pub const RET_A: u16 = 0x10;

/// MISC operations.
pub const TAX: u16 = 0x00;
pub const TXA: u16 = 0x80;

/// Scratch memory words (`BPF_MEMWORDS`).
pub const MEMWORDS: u32 = 16;
/// The kernel's instruction limit (`BPF_MAXINSNS`).
pub const MAXINSNS: usize = 4096;
/// `sizeof(struct seccomp_data)`.
pub const DATA_LEN: u32 = 64;

/// The instruction class.
pub fn class(code: u16) -> u16 {
    code & 0x07
}

/// The operation of an ALU or jump instruction.
pub fn operation(code: u16) -> u16 {
    code & 0xf0
}

/// The source of an ALU or jump instruction.
pub fn source(code: u16) -> u16 {
    code & 0x08
}

/// Which field of `seccomp_data` a word at `offset` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The syscall number.
    Nr,
    /// The audit architecture.
    Arch,
    /// The low (false) or high (true) word of the instruction pointer.
    Ip(bool),
    /// The low (false) or high (true) word of argument `0..6`.
    Arg(u8, bool),
}

/// The field a 32-bit aligned load at `offset` reads, for offsets below 64.
pub fn field(offset: u32) -> Option<Field> {
    match offset {
        0 => Some(Field::Nr),
        4 => Some(Field::Arch),
        8 => Some(Field::Ip(false)),
        12 => Some(Field::Ip(true)),
        16..=60 if offset % 4 == 0 => {
            let rel = offset - 16;
            Some(Field::Arg((rel / 8) as u8, rel % 8 == 4))
        }
        _ => None,
    }
}
