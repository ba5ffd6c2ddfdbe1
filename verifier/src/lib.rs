//! The verifier.

pub mod dbus;
pub mod lint;
pub mod severity;

pub use severity::Severity;
