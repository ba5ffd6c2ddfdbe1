//! The verifier.

pub mod bpf;
pub mod dbus;
pub mod diff;
pub mod lint;
pub mod risk;
pub mod severity;

pub use severity::Severity;
