//! Classic BPF as seccomp runs it, read back from the bytes a backend emitted, without any
//! help from the backend: decoding ([`Insn`]), an interpreter over `seccomp_data`
//! ([`interp`]), a disassembler with syscall names ([`disasm`]), the static checks
//! ([`check`]), comparison of two programs ([`compare`]) and translation validation
//! against the IR's intended decision ([`validate`]).

pub mod check;
pub mod compare;
pub mod disasm;
pub mod interp;
pub mod op;
pub mod probe;
pub mod validate;

pub use check::{check, Finding, FindingKind};
pub use interp::{run, Fault, Run};
pub use validate::{validate, Mismatch, Report};

/// One instruction, as the kernel's `struct sock_filter` lays it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset when true.
    pub jt: u8,
    /// Jump offset when false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

impl Insn {
    /// The 8 bytes of the record (little-endian).
    pub fn to_bytes(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[0..2].copy_from_slice(&self.code.to_le_bytes());
        out[2] = self.jt;
        out[3] = self.jf;
        out[4..8].copy_from_slice(&self.k.to_le_bytes());
        out
    }
}

/// Why bytes are not a sequence of instructions.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Not a multiple of the 8-byte record.
    #[error("{0} bytes is not a whole number of 8-byte instructions")]
    Length(usize),
}

/// Reads little-endian `struct sock_filter` records.
pub fn decode(bytes: &[u8]) -> Result<Vec<Insn>, DecodeError> {
    if bytes.len() % 8 != 0 {
        return Err(DecodeError::Length(bytes.len()));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|b| Insn {
            code: u16::from_le_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        })
        .collect())
}

/// Writes records back to bytes.
pub fn encode(program: &[Insn]) -> Vec<u8> {
    program.iter().flat_map(|i| i.to_bytes()).collect()
}
