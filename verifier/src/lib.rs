//! The verifier.

pub mod bpf;
pub mod consistency;
pub mod dbus;
pub mod diff;
pub mod lint;
pub mod mounts;
pub mod risk;
pub mod severity;

pub use severity::Severity;
