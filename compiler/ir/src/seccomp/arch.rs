//! The supported architectures: their `AUDIT_ARCH_*` tokens, their syscall tables, and the
//! compat architecture `allow=multiarch` adds.

use super::table;

/// `__AUDIT_ARCH_64BIT`.
const AUDIT_64BIT: u32 = 0x8000_0000;
/// `__AUDIT_ARCH_LE`.
const AUDIT_LE: u32 = 0x4000_0000;

/// The `__X32_SYSCALL_BIT`: x32 syscalls run with the x86_64 audit token and this bit set.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// An architecture a filter can carry a section for.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Arch {
    /// x86-64 (the x32 ABI shares its audit token and is refused inside its section).
    X86_64,
    /// 32-bit x86.
    I386,
    /// 64-bit Arm.
    Aarch64,
    /// 32-bit Arm (EABI).
    Arm,
}

impl Arch {
    /// Every supported architecture.
    pub const ALL: [Arch; 4] = [Arch::X86_64, Arch::I386, Arch::Aarch64, Arch::Arm];

    /// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`.
    pub fn audit(self) -> u32 {
        match self {
            Arch::X86_64 => AUDIT_64BIT | AUDIT_LE | 62,
            Arch::I386 => AUDIT_LE | 3,
            Arch::Aarch64 => AUDIT_64BIT | AUDIT_LE | 183,
            Arch::Arm => AUDIT_LE | 40,
        }
    }

    /// The architecture an `AUDIT_ARCH_*` value names, if it is supported.
    pub fn from_audit(token: u32) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.audit() == token)
    }

    /// The name used on the command line and in tables (`x86_64`, `i386`, `aarch64`, `arm`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
            Arch::Aarch64 => "aarch64",
            Arch::Arm => "arm",
        }
    }

    /// Parses [`Arch::name`] (and `x86` for i386).
    pub fn from_name(name: &str) -> Option<Arch> {
        match name {
            "x86_64" => Some(Arch::X86_64),
            "i386" | "x86" => Some(Arch::I386),
            "aarch64" => Some(Arch::Aarch64),
            "arm" => Some(Arch::Arm),
            _ => None,
        }
    }

    /// Whether syscall arguments are 64 bits wide (on 32-bit ABIs the kernel zero-extends
    /// them, so only the low word carries information).
    pub fn is_64bit(self) -> bool {
        matches!(self, Arch::X86_64 | Arch::Aarch64)
    }

    /// The compat architecture `allow=multiarch` adds to this one, if any.
    pub fn compat(self) -> Option<Arch> {
        match self {
            Arch::X86_64 => Some(Arch::I386),
            Arch::Aarch64 => Some(Arch::Arm),
            Arch::I386 | Arch::Arm => None,
        }
    }

    /// This machine's architecture, when it is a supported one.
    pub fn host() -> Option<Arch> {
        Arch::from_name(std::env::consts::ARCH)
    }

    /// The syscall table, sorted by number.
    pub fn table(self) -> &'static [(u32, &'static str)] {
        match self {
            Arch::X86_64 => table::X86_64,
            Arch::I386 => table::I386,
            Arch::Aarch64 => table::AARCH64,
            Arch::Arm => table::ARM,
        }
    }

    /// The name of syscall `nr`, if the table has it.
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        let table = self.table();
        table
            .binary_search_by_key(&nr, |&(n, _)| n)
            .ok()
            .map(|i| table[i].1)
    }

    /// The number of syscall `name`, if this architecture has it.
    pub fn syscall_number(self, name: &str) -> Option<u32> {
        self.table()
            .iter()
            .find(|&&(_, n)| n == name)
            .map(|&(nr, _)| nr)
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
