//! Classic BPF instructions as the kernel lays them out, and the few constructors the
//! generator uses.

use portcullis_ir::seccomp::Action;

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset when true.
    pub jt: u8,
    /// Jump offset when false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

impl SockFilter {
    /// The 8 bytes of the record on a little-endian machine (every supported target).
    pub fn to_bytes(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[0..2].copy_from_slice(&self.code.to_le_bytes());
        out[2] = self.jt;
        out[3] = self.jf;
        out[4..8].copy_from_slice(&self.k.to_le_bytes());
        out
    }
}

/// `BPF_LD | BPF_W | BPF_ABS`.
const LD_W_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JA`.
const JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
const JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JGE | BPF_K`.
const JGE_K: u16 = 0x35;
/// `BPF_JMP | BPF_JSET | BPF_K`.
const JSET_K: u16 = 0x45;
/// `BPF_ALU | BPF_AND | BPF_K`.
const AND_K: u16 = 0x54;
/// `BPF_RET | BPF_K`.
const RET_K: u16 = 0x06;

/// Offset of `seccomp_data.nr`.
pub const OFF_NR: u32 = 0;
/// Offset of `seccomp_data.arch`.
pub const OFF_ARCH: u32 = 4;

/// Offset of the low word of argument `i` (little-endian).
pub fn off_arg_low(i: u8) -> u32 {
    16 + 8 * u32::from(i)
}

/// Offset of the high word of argument `i` (little-endian).
pub fn off_arg_high(i: u8) -> u32 {
    off_arg_low(i) + 4
}

/// `A = seccomp_data[off]`.
pub fn ld_abs(off: u32) -> SockFilter {
    SockFilter {
        code: LD_W_ABS,
        jt: 0,
        jf: 0,
        k: off,
    }
}

/// `pc += 1 + k`.
pub fn ja(k: u32) -> SockFilter {
    SockFilter {
        code: JA,
        jt: 0,
        jf: 0,
        k,
    }
}

/// `pc += 1 + (A == k ? jt : jf)`.
pub fn jeq(k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter {
        code: JEQ_K,
        jt,
        jf,
        k,
    }
}

/// `pc += 1 + (A >= k ? jt : jf)`.
pub fn jge(k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter {
        code: JGE_K,
        jt,
        jf,
        k,
    }
}

/// `pc += 1 + (A & k != 0 ? jt : jf)`.
pub fn jset(k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter {
        code: JSET_K,
        jt,
        jf,
        k,
    }
}

/// Whether `ins` is `ja`.
pub fn is_ja(ins: SockFilter) -> bool {
    ins.code == JA
}

/// Whether `ins` is a conditional jump (`jeq`, `jge`, `jset` against `k`).
pub fn is_conditional(ins: SockFilter) -> bool {
    matches!(ins.code, JEQ_K | JGE_K | JSET_K)
}

/// `A &= k`.
pub fn and(k: u32) -> SockFilter {
    SockFilter {
        code: AND_K,
        jt: 0,
        jf: 0,
        k,
    }
}

/// `return action`.
pub fn ret(action: Action) -> SockFilter {
    SockFilter {
        code: RET_K,
        jt: 0,
        jf: 0,
        k: action.to_ret(),
    }
}
