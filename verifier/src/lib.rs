//! The verifier: re-derives meaning from what the compiler produced.
//!
//! * [`bpf`]: the classic-BPF interpreter, disassembler, static checks and translation
//!   validation of seccomp programs;
//! * [`risk`]: the risk graph (grants → capabilities → impacts) and known escape paths;
//! * [`lint`]: flatpak-builder-lint's finish-args checks with the same codes, our own
//!   codes, and exceptions;
//! * [`diff`]: the semantic permission diff of two policies;
//! * [`severity`]: the levels they share.

pub mod bpf;
pub mod consistency;
pub mod dbus;
pub mod diff;
pub mod lint;
pub mod mounts;
pub mod risk;
pub mod severity;

pub use severity::Severity;
